from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fangkong.core.db import prefix_q
from fangkong.core.exceptions import NotFound
from fangkong.core.scope import scope_by_division, subtree_q
from fangkong.core.validators import FormatError, clean_text, normalize_mobile, parse_resident_id

from .models import Household, Person, PersonRevision

_ID_LIKE = re.compile(r"\d{15}|\d{17}[\dX]")
_DOC_LIKE = re.compile(r"[A-Z0-9]{6,20}")


def _is_name_search(q: str | None) -> bool:
    """True when `?q=` will be read as the start of a name (not a number)."""
    if not q:
        return False
    text = clean_text(q).upper()
    return bool(text) and not (
        _ID_LIKE.fullmatch(text)
        or text.isdigit()
        or text.startswith("+86")
        or (_DOC_LIKE.fullmatch(text) and any(ch.isdigit() for ch in text))
    )


def search_q(q: str) -> Q:
    """What `?q=` means: a document number, a mobile number, or the start of a name."""
    text = clean_text(q).upper()
    if not text:
        return Q()
    if _ID_LIKE.fullmatch(text):
        try:
            return Q(id_number=parse_resident_id(text).number)
        except FormatError:
            return Q(id_number=text)
    if text.isdigit() or text.startswith("+86"):
        try:
            return Q(phone=normalize_mobile(text))
        except FormatError:
            return Q(id_number=text)
    if _DOC_LIKE.fullmatch(text) and any(ch.isdigit() for ch in text):
        return Q(id_number=text)
    return prefix_q("name", q.strip())


def person_list(
    *,
    viewer: Any,
    q: str | None = None,
    division: str | None = None,
    household_id: int | None = None,
    address: str | None = None,
    include_merged: bool = False,
) -> QuerySet[Person]:
    # The division comes by prefetch, not by join: a join lets SQLite drive the query from
    # the division table's code range and ignore the name index.
    qs = Person.objects.select_related("household").prefetch_related("division")
    qs = scope_by_division(qs, viewer=viewer, field="division_id", use_index=not _is_name_search(q))
    if not include_merged:
        qs = qs.filter(merged_into__isnull=True)
    if q:
        qs = qs.filter(search_q(q))
    if division:
        qs = qs.filter(subtree_q("division_id", division))
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    if address:
        qs = qs.filter(address__contains=address.strip())
    return qs.order_by("pk")


def access_person_by_id(*, viewer: Any, person_id: int, include_merged: bool = False) -> Person:
    try:
        return person_list(viewer=viewer, include_merged=include_merged).get(pk=person_id)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("人员不存在。")) from None


def household_list(
    *, viewer: Any, division: str | None = None, q: str | None = None
) -> QuerySet[Household]:
    qs = Household.objects.select_related("division", "head")
    qs = scope_by_division(qs, viewer=viewer, field="division_id")
    if division:
        qs = qs.filter(subtree_q("division_id", division))
    if q:
        qs = qs.filter(address__contains=q.strip())
    return qs.order_by("pk")


def access_household_by_id(*, viewer: Any, household_id: int) -> Household:
    try:
        return household_list(viewer=viewer).get(pk=household_id)
    except (Household.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("住户不存在。")) from None


def household_members(*, household: Household) -> QuerySet[Person]:
    return household.members.filter(merged_into__isnull=True).order_by("pk")


def person_history(*, person: Person) -> QuerySet[PersonRevision]:
    """Revisions of this person and of every record merged into it."""
    ids = [person.pk, *Person.objects.filter(merged_into=person).values_list("pk", flat=True)]
    return PersonRevision.objects.filter(person_id__in=ids).order_by("-at", "-id")


def person_find_duplicate(
    *,
    id_type: str | None,
    id_number: str | None,
    name: str,
    birth_date: Any,
    phone: str,
    exclude_id: int | None = None,
) -> Person | None:
    """Same document = same person; without a document, same name + birth date + phone."""
    qs = Person.objects.filter(merged_into__isnull=True)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    if id_number:
        return qs.filter(id_type=id_type, id_number=id_number).first()
    if name and birth_date and phone:
        return qs.filter(name=name, birth_date=birth_date, phone=phone).first()
    return None
