"""Every write in the county adds an audit event: one index on verb with pattern ops (serves = and
the audit page's prefix filter) instead of a plain index and its LIKE twin."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_leaner_write_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='verb',
            field=models.CharField(max_length=64, verbose_name='操作'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['verb'], name='audit_verb_idx', opclasses=['varchar_pattern_ops']),
        ),
    ]
