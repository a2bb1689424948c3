"""Place.longest_stay_minutes: an upper bound on every check-in's length at the place.

Filled for existing places with the larger of the cap of the place's kind (the county's
StayRule, else the default) and the longest check-in already recorded there (rounded up to
the minute), so the invariant holds from the start."""

import math

from django.db import migrations, models
from django.db.models import F, Max


def fill(apps, schema_editor):
    from fangkong.places.defaults import DEFAULT_STAY_RULES, FALLBACK_STAY_RULE

    Place = apps.get_model("places", "Place")
    StayRule = apps.get_model("places", "StayRule")
    CheckIn = apps.get_model("places", "CheckIn")
    rules = dict(StayRule.objects.values_list("kind", "cap_minutes"))
    longest = dict(
        CheckIn.objects.values("place_id")
        .annotate(m=Max(F("checked_out_at") - F("checked_in_at")))
        .values_list("place_id", "m")
    )
    for place in Place.objects.only("pk", "kind").iterator():
        cap = rules.get(place.kind) or DEFAULT_STAY_RULES.get(place.kind, FALLBACK_STAY_RULE)[1]
        seen = longest.get(place.pk)
        minutes = math.ceil(seen.total_seconds() / 60) if seen else 0
        Place.objects.filter(pk=place.pk).update(longest_stay_minutes=max(cap, minutes))


class Migration(migrations.Migration):
    dependencies = [("places", "0001_places_and_checkins")]

    operations = [
        migrations.AddField(
            model_name="place",
            name="longest_stay_minutes",
            field=models.PositiveIntegerField(default=0, verbose_name="最长停留（分钟）"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
