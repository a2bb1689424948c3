"""Load the GB/T 2260 table (geo/data/regions.csv, made by scripts/build_regions.py) so that
every database knows the country's provinces, cities and counties."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parents[1] / "data" / "regions.csv"


def load_regions(apps, schema_editor):
    Region = apps.get_model("geo", "Region")
    with DATA.open(encoding="utf-8", newline="") as f:
        rows = [
            Region(
                code=r["code"],
                name=r["name"],
                full_name=r["full_name"],
                level=int(r["level"]),
                parent_code=r["parent_code"],
            )
            for r in csv.DictReader(f)
        ]
    existing = set(Region.objects.values_list("code", flat=True))
    Region.objects.bulk_create([r for r in rows if r.code not in existing], batch_size=500)


def unload_regions(apps, schema_editor):
    apps.get_model("geo", "Region").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("geo", "0003_region")]

    operations = [migrations.RunPython(load_regions, unload_regions)]
