"""Passages hand their flagged occupants to the arrival loop through the loop worker: the
passage records the state of that hand-over. Passages registered before this were handed over
inside the request, so the flagged inbound ones with a destination grid are marked done."""

from django.conf import settings
from django.db import migrations, models


def mark_done(apps, schema_editor):
    Passage = apps.get_model("travel", "CheckpointPassage")
    Passage.objects.filter(flagged=True, direction="in", destination_division__isnull=False).update(
        handover="done"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0004_regions_gbt2260"),
        ("travel", "0004_passage_origin_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="checkpointpassage",
            name="handover",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "无需转入"),
                    ("pending", "待转入"),
                    ("done", "已转入"),
                    ("failed", "转入失败"),
                ],
                default="",
                max_length=8,
                verbose_name="转入闭环",
            ),
        ),
        migrations.AddField(
            model_name="checkpointpassage",
            name="handover_error",
            field=models.CharField(blank=True, max_length=500, verbose_name="转入闭环失败原因"),
        ),
        migrations.RunPython(mark_done, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="checkpointpassage",
            index=models.Index(
                condition=models.Q(("handover", "pending")),
                fields=["id"],
                name="passage_handover_pending",
            ),
        ),
    ]
