"""Reads of check-ins, and the place a venue code opens.

Whereabouts are sensitive (PIPL): only COMMANDER, EPIDEMIOLOGIST and ADMIN read check-ins, and
only at places in their scope (the place's division). Everyone else gets Forbidden, also for a
single check-in; out of scope is NotFound, exactly like missing.

The public page reaches a check-in only through a signed token (`checkin_token`), never by its
id: the token names the check-in and its place, and cannot be forged or altered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Role
from fangkong.core.cache import ProcessCache
from fangkong.core.exceptions import Forbidden, NotFound
from fangkong.core.scope import scope_by_division

from .defaults import DEFAULT_STAY_RULES, FALLBACK_STAY_RULE
from .models import CheckIn, Place, StayRule
from .selectors_places import stay_for

READER_ROLES = frozenset({Role.COMMANDER, Role.EPIDEMIOLOGIST, Role.ADMIN})
WRITER_ROLES = frozenset({Role.COMMANDER, Role.ADMIN})
TOKEN_SALT = "fangkong.places.checkin"


def _role(viewer: Any) -> str:
    if not getattr(viewer, "is_authenticated", False):
        return ""
    if getattr(viewer, "is_superuser", False):
        return Role.ADMIN
    return getattr(viewer, "role", "")


def can_read_checkins(*, viewer: Any) -> bool:
    return _role(viewer) in READER_ROLES


def can_record_checkins(*, viewer: Any) -> bool:
    """The API (single and batch) and the importer: the venue-code platform's account."""
    return _role(viewer) in WRITER_ROLES


_PLACES = ProcessCache()


def checkin_place(*, code: str) -> Place | None:
    """The place of a venue code, with its kind's StayRule (if any) in the same query:
    the public page looks up a place and its stay once per tap. Each worker process keeps
    what it found for a minute (core.cache): a place closed, or a stay rule changed, takes
    effect within that time. The object is shared: read only."""
    code = "".join(str(code or "").split()).upper()

    def load() -> Place | None:
        rules = StayRule.objects.filter(kind=OuterRef("kind"))
        return (
            Place.objects.filter(code=code)
            .annotate(
                rule_stay=Subquery(rules.values("stay_minutes")[:1]),
                rule_cap=Subquery(rules.values("cap_minutes")[:1]),
            )
            .first()
        )

    return _PLACES.get(code, load)


def place_stay(*, place: Place) -> tuple[int, int]:
    """(stay, cap) in minutes for a place: the annotation of `checkin_place` when present,
    else the StayRule row or the defaults (`stay_for`)."""
    stay = getattr(place, "rule_stay", None)
    cap = getattr(place, "rule_cap", None)
    if stay is not None and cap is not None:
        return int(stay), int(cap)
    if hasattr(place, "rule_stay"):  # looked up with its rule: there is none, the default
        return DEFAULT_STAY_RULES.get(place.kind, FALLBACK_STAY_RULE)
    return stay_for(kind=place.kind)


def stays_by_kind(*, kinds: set[str]) -> dict[str, tuple[int, int]]:
    """(stay, cap) for several kinds of place in one query (batches)."""
    found = {
        r.kind: (r.stay_minutes, r.cap_minutes) for r in StayRule.objects.filter(kind__in=kinds)
    }
    return {
        kind: found.get(kind) or DEFAULT_STAY_RULES.get(kind, FALLBACK_STAY_RULE) for kind in kinds
    }


def checkin_token(*, checkin: CheckIn) -> str:
    """A token naming a check-in on the visitor's device (the 离开 button): signed, so that
    nobody can check somebody else out by changing a number."""
    return signing.dumps([checkin.pk, checkin.place_id], salt=TOKEN_SALT, compress=False)


def checkin_from_token(*, token: str, place: Place | None = None) -> CheckIn | None:
    """The check-in a token names, or None for a tampered, foreign or unknown token."""
    try:
        pk, place_id = signing.loads(token or "", salt=TOKEN_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if place is not None and place_id != place.pk:
        return None
    return CheckIn.objects.filter(pk=pk, place_id=place_id).first()


def checkin_list(
    *,
    viewer: Any,
    place_id: int | None = None,
    id_number: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[CheckIn]:
    """Check-ins at places in the viewer's scope, newest first. `since`/`until`: the stays
    that overlap that window (in before `until`, out after `since`)."""
    if not can_read_checkins(viewer=viewer):
        raise Forbidden(_("只有县指挥部、流调人员和系统管理员可以查看场所码登记记录"))
    qs = scope_by_division(
        CheckIn.objects.select_related("place"), viewer=viewer, field="place__division_id"
    )
    if place_id is not None:
        qs = qs.filter(place_id=place_id)
    if id_number:
        qs = qs.filter(id_number=id_number.strip().upper())
    if since is not None:
        qs = qs.filter(checked_out_at__gte=since)
    if until is not None:
        qs = qs.filter(checked_in_at__lte=until)
    return qs.order_by("-checked_in_at", "-pk")


def access_checkin_by_id(*, viewer: Any, checkin_id: int) -> CheckIn:
    """One check-in for a reader or writer of check-ins; NotFound when missing or out of scope."""
    if not (can_read_checkins(viewer=viewer) or can_record_checkins(viewer=viewer)):
        raise Forbidden(_("无权查看场所码登记记录"))
    qs = scope_by_division(
        CheckIn.objects.select_related("place"), viewer=viewer, field="place__division_id"
    )
    found = qs.filter(pk=checkin_id).first()
    if found is None:
        raise NotFound(_("登记记录不存在"))
    return found


def places_by_code(*, codes: set[str]) -> dict[str, Place]:
    """Places by venue code, one query (batches)."""
    wanted = {"".join(c.split()).upper() for c in codes}
    found = {p.code: p for p in Place.objects.filter(code__in=wanted)} if codes else {}
    return {c: found[u] for c in codes if (u := "".join(c.split()).upper()) in found}


def places_by_name(*, names: set[str]) -> dict[str, list[Place]]:
    """Places by exact name, one query (imports of exports that name the place but give no
    code); a name shared by several places maps to all of them (ambiguous)."""
    found: dict[str, list[Place]] = {}
    if names:
        for place in Place.objects.filter(name__in=names):
            found.setdefault(place.name, []).append(place)
    return found
