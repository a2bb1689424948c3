"""Most passage occupants have no registered person and no arrival: their foreign-key indexes
become partial (IS NOT NULL), so the barrier's insert writes no entry for nothing."""

import django.db.models.deletion

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('people', '0003_person_import_tags'),
        ('travel', '0007_ratecounter_unlogged'),
    ]

    operations = [
        migrations.AlterField(
            model_name='passageoccupant',
            name='arrival',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='travel.travelregistration', verbose_name='来返报备'),
        ),
        migrations.AlterField(
            model_name='passageoccupant',
            name='person',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='people.person', verbose_name='人员'),
        ),
        migrations.AddIndex(
            model_name='passageoccupant',
            index=models.Index(condition=models.Q(('person__isnull', False)), fields=['person'], name='occupant_person_idx'),
        ),
        migrations.AddIndex(
            model_name='passageoccupant',
            index=models.Index(condition=models.Q(('arrival__isnull', False)), fields=['arrival'], name='occupant_arrival_idx'),
        ),
    ]
