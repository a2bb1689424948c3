"""Fewer indexes on the tables every hot write inserts into: the LIKE-pattern twins of unique
keys that are only looked up whole (unique constraints instead of unique=True), and foreign-key
indexes another index already serves or nothing searches by."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0002_import_job_heartbeat"),
        ("people", "0003_person_import_tags"),
        ("places", "0002_place_longest_stay"),
    ]

    operations = [
        migrations.AlterField(
            model_name="checkin",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="幂等键"),
        ),
        migrations.AddConstraint(
            model_name="checkin",
            constraint=models.UniqueConstraint(
                fields=("idempotency_key",), name="checkin_idempotency_key"
            ),
        ),
    ]
