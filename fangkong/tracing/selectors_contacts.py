"""Reads of the contacts of a case, and how they are shown: masked by role, evidence in words.

The case is fetched through selectors.access_case_by_id (the data scope) by the caller; the
contacts of a case in scope are in scope. Evidence is stored as ids and times
(services_contacts, candidates.py); `contact_rows` turns it into words (the place's name and
the overlap, the plate and the passage time, the train or flight number and the seat rule) with
one query per kind of record referred to, whatever the number of contacts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import FULL, SURNAME, policy_for
from fangkong.core.masking import mask_id_number, mask_name, mask_phone
from fangkong.places.models import Place
from fangkong.travel.models import CheckpointPassage, TravelRegistration

from .models import Case, Contact, DeclaredCoworker
from .selectors import _require_reader


def contact_list(*, viewer: Any, case: Case, status: str | None = None) -> QuerySet[Contact]:
    """The contacts of `case` (already accessed through the scope), degree then status."""
    _require_reader(viewer)
    qs = Contact.objects.filter(case=case).select_related(
        "via", "order", "assist_entry__request", "decided_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("degree", "pk")


def coworker_list(*, viewer: Any, contact: Contact) -> QuerySet[DeclaredCoworker]:
    _require_reader(viewer)
    return DeclaredCoworker.objects.filter(contact=contact).order_by("pk")


def _time(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%m-%d %H:%M")


def _local(value: dt.datetime | None, fmt: str) -> str:
    return timezone.localtime(value).strftime(fmt) if value else ""


def _items(contact: Contact) -> list[dict[str, Any]]:
    items = (contact.evidence or {}).get("items")
    if isinstance(items, list):
        return [i for i in items if isinstance(i, dict)]
    return [{"kind": contact.evidence_kind}]


def _lookups(contacts: list[Contact]) -> dict[str, dict[int, Any]]:
    ids: dict[str, set[int]] = {"place": set(), "passage": set(), "registration": set()}
    for contact in contacts:
        for item in _items(contact):
            for key, field in (
                ("place", "place_id"),
                ("passage", "passage_id"),
                ("registration", "registration_id"),
            ):
                value = item.get(field)
                if isinstance(value, int):
                    ids[key].add(value)
    return {
        "place": Place.objects.in_bulk(list(ids["place"])) if ids["place"] else {},
        "passage": (
            CheckpointPassage.objects.select_related("checkpoint").in_bulk(list(ids["passage"]))
            if ids["passage"]
            else {}
        ),
        "registration": (
            TravelRegistration.objects.in_bulk(list(ids["registration"]))
            if ids["registration"]
            else {}
        ),
    }


def _words(item: dict[str, Any], found: dict[str, dict[int, Any]], via_name: str) -> str:
    kind = item.get("kind")
    if kind == Contact.Evidence.CHECKIN:
        place = found["place"].get(item.get("place_id"))
        name = place.name if place is not None else _("场所#%(id)s") % {"id": item.get("place_id")}
        return _("%(place)s 同时段（%(start)s 至 %(end)s）") % {
            "place": name,
            "start": _time(item.get("overlap_from")),
            "end": _time(item.get("overlap_to")),
        }
    if kind == Contact.Evidence.VEHICLE:
        passage = found["passage"].get(item.get("passage_id"))
        when = _time(passage.passed_at) if passage is not None else ""
        where = passage.checkpoint.name if passage is not None else ""
        return _("同车 %(plate)s 过卡 %(where)s %(when)s") % {
            "plate": item.get("plate") or (passage.plate if passage else ""),
            "where": where,
            "when": when,
        }
    if kind == Contact.Evidence.TRANSPORT:
        reg = found["registration"].get(item.get("registration_id"))
        text = _("同乘 %(no)s") % {"no": item.get("vehicle_no") or (reg.vehicle_no if reg else "")}
        if reg is not None:
            text += _("（%(date)s，座位 %(seat)s）") % {
                "date": reg.left_on.isoformat(),
                "seat": reg.seat or _("不详"),
            }
        if item.get("seat_rule"):
            text += _("，判定范围：%(rule)s") % {"rule": item["seat_rule"]}
        return text
    if kind == Contact.Evidence.HOUSEHOLD:
        if item.get("via"):
            return _("密接 %(name)s 的同住家庭成员") % {"name": via_name}
        return str(Contact.Evidence.HOUSEHOLD.label)
    if kind == Contact.Evidence.COWORKER:
        return _("密接 %(name)s 申报的同事") % {"name": via_name}
    if kind == Contact.Evidence.MANUAL:
        return str(Contact.Evidence.MANUAL.label)
    return str(kind or "")


def contact_rows(*, viewer: Any, contacts: list[Contact]) -> list[dict[str, Any]]:
    """What a viewer sees of each contact: name and phone by role, ID number always masked,
    the evidence in words, the decision and the loop (order / assist letter)."""
    policy = policy_for(viewer)
    found = _lookups(contacts)

    def name_of(value: str) -> str:
        return value if policy.name != SURNAME else mask_name(value)

    rows = []
    for c in contacts:
        via_name = name_of(c.via.name) if c.via_id and c.via is not None else ""
        rows.append(
            {
                "id": c.pk,
                "contact": c,
                "name": name_of(c.name),
                "id_type": c.id_type,
                "id_number": mask_id_number(c.id_number),
                "phone": c.phone if policy.phone == FULL else mask_phone(c.phone),
                "degree": c.degree,
                "via_id": c.via_id,
                "via_name": via_name,
                "status": c.status,
                "status_label": str(c.get_status_display()),
                "evidence_kind": c.evidence_kind,
                "evidence_label": str(c.get_evidence_kind_display()),
                "evidence_words": [_words(i, found, via_name) for i in _items(c)],
                "setting": c.setting,
                "setting_label": str(c.get_setting_display()),
                "last_exposure_at": (
                    timezone.localtime(c.last_exposure_at).isoformat(timespec="minutes")
                    if c.last_exposure_at
                    else None
                ),
                "last_exposure_text": _local(c.last_exposure_at, "%Y-%m-%d %H:%M"),
                "last_exposure_input": _local(c.last_exposure_at, "%Y-%m-%dT%H:%M"),
                "reason": c.reason,
                "decided_at": c.decided_at.isoformat() if c.decided_at else None,
                "order_id": c.order_id,
                "order_label": (
                    f"{c.order.get_category_display()} · {c.order.get_status_display()}"
                    if c.order_id and c.order is not None
                    else ""
                ),
                "assist_entry_id": c.assist_entry_id,
                "assist_request_id": (
                    c.assist_entry.request_id if c.assist_entry_id and c.assist_entry else None
                ),
                "outside_code": c.outside_code,
                "division_code": c.division_id or "",
            }
        )
    return rows
