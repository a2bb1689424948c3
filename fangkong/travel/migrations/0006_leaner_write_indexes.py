"""Fewer indexes on the tables every hot write inserts into: the LIKE-pattern twins of unique
keys that are only looked up whole (unique constraints instead of unique=True), and foreign-key
indexes another index already serves or nothing searches by."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0004_regions_gbt2260"),
        ("travel", "0005_passage_handover"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="checkpointpassage",
            name="destination_division",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="geo.division",
                verbose_name="目的网格",
            ),
        ),
        migrations.AlterField(
            model_name="checkpointpassage",
            name="idempotency_key",
            field=models.CharField(max_length=64, verbose_name="幂等键"),
        ),
        migrations.AlterField(
            model_name="checkpointpassage",
            name="registered_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="登记人",
            ),
        ),
        migrations.AlterField(
            model_name="passageoccupant",
            name="passage",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="occupants",
                to="travel.checkpointpassage",
                verbose_name="过卡登记",
            ),
        ),
        migrations.AlterField(
            model_name="ratecounter",
            name="key",
            field=models.CharField(max_length=80, verbose_name="键"),
        ),
        migrations.AddConstraint(
            model_name="checkpointpassage",
            constraint=models.UniqueConstraint(
                fields=("idempotency_key",), name="passage_idempotency_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="ratecounter",
            constraint=models.UniqueConstraint(fields=("key",), name="ratecounter_key"),
        ),
    ]
