"""Load the six national editions (policy/presets.py) so that every database has them.
`fangkong policy_presets` refreshes them later through the same function."""

from django.db import migrations


def load_presets(apps, schema_editor):
    from fangkong.policy.presets import presets_apply

    presets_apply(apps.get_model("policy", "PolicyEdition"))


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_editions_and_risk_areas")]

    operations = [migrations.RunPython(load_presets, migrations.RunPython.noop)]
