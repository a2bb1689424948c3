"""Check-ins at places: one scan on the public page, a batch through the API, an imported
venue-code export or hotel register.

A check-in is a time in and a time out. The time out is the scan-out when there was one
(`out_imputed` False), else imputed: time in + the stay of the place's kind (StayRule, or the
defaults), never more than the cap (`out_imputed` True, cleared by a later scan-out).

Person: a check-in is linked to the registered Person with the same document (type and
number, not merged away) when there is one *at the time of the check-in*, found inside the
INSERT itself (a scalar subquery on the indexed document columns), so linking costs no extra
round trip. A person registered later is not linked afterwards: contact tracing matches
check-ins by `id_number` (indexed with the time), which is the key that always holds.

Idempotency: every check-in has a key, the caller's (`idempotency_key`: the uuid of a tap on
the public page, the platform's record id) or, without one, a natural key derived from place,
document and time in. A retry with the same key writes nothing and returns the first row.

Audit: the public scan (`checkin_record`) writes no audit event: it is the hottest path of the
system, the actor is anonymous, and the check-in row itself is the record of what happened.
Calls by a user (API, batches, imports: `checkin_record_bulk`, `checkin_checkout` with an
actor) write one audit event per call, with ids and counts only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.db import insert_unless_conflict
from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.validators import FormatError, normalize_mobile, parse_document
from fangkong.people.bulk import person_by_document_sql
from fangkong.people.models import IdType, Person

from .bulk import insert_new_rows, raise_longest_stay, stay_minutes
from .models import CheckIn, Place
from .selectors_checkins import place_stay, places_by_code, stays_by_kind

MAX_BATCH = 1000
FUTURE_SLACK = dt.timedelta(minutes=10)
ID_TYPES = frozenset(IdType.values) - {IdType.NONE}
_NAME_RE = re.compile(r"[^\W\d_]+(?:[·•.\s][^\W\d_]+)*")
_DATE_ONLY_HOUR = 12  # a hotel register giving dates only: noon, the usual check-out time
_DATETIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
    "%Y%m%d%H%M%S",
)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@dataclass
class BulkOutcome:
    """What a batch did: rows created, rows already there (same key), and the bad rows by
    their index in the batch (0-based) with their field errors."""

    created: int = 0
    duplicates: int = 0
    errors: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)


# --- validation --------------------------------------------------------------------------------


def _parse_when(value: Any) -> dt.datetime | None:
    """A time in any of the spellings found in exports: ISO 8601 (with or without zone),
    2022/04/01 10:23, 2022年4月1日 10:23, a datetime cell; a bare date means noon. Naive
    times are local (Asia/Shanghai). None when blank; FormatError when unreadable."""
    if value is None or value == "":
        return None
    if value.__class__ is str and value.isascii() and " ".join(value.split()) == value:
        # The usual API text, ISO 8601: NFKC and the spacing clean-up below would leave it
        # as it is, and parse_datetime tries fromisoformat first; the same result, sooner.
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if timezone.is_naive(when):
                when = timezone.make_aware(when, timezone.get_default_timezone())
            return when
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime.combine(value, dt.time(_DATE_ONLY_HOUR))
    else:
        text = " ".join(unicodedata.normalize("NFKC", str(value)).split())
        when = None
        try:
            when = parse_datetime(text)
        except ValueError:
            when = None
        for fmt in _DATETIME_FORMATS if when is None else ():
            try:
                when = dt.datetime.strptime(text, fmt)  # noqa: DTZ007 (made aware below)
                break
            except ValueError:
                continue
        for fmt in _DATE_FORMATS if when is None else ():
            try:
                when = dt.datetime.strptime(text, fmt).replace(hour=_DATE_ONLY_HOUR)  # noqa: DTZ007
                break
            except ValueError:
                continue
        if when is None:
            raise FormatError(_("时间格式无法识别，请写成 2022-04-01 10:23"))
    if timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.get_default_timezone())
    return when


def _natural_key(*, place_id: int, id_type: str, id_number: str, checked_in_at: dt.datetime) -> str:
    """The key of a check-in given without one: the same person at the same place at the
    same second is the same check-in (a re-imported file changes nothing)."""
    stamp = checked_in_at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    text = f"{place_id}|{id_type}|{id_number}|{stamp}"
    return "n:" + hashlib.sha256(text.encode()).hexdigest()[:48]


def _clean_name(value: Any) -> str:
    text = " ".join(unicodedata.normalize("NFKC", str(value or "")).split())
    if not text:
        raise FormatError(_("请填写姓名"))
    if "*" in text:
        raise FormatError(_("姓名已脱敏（含 *），无法登记"))
    if len(text) > 50 or not _NAME_RE.fullmatch(text):
        raise FormatError(_("姓名应为 1–50 个汉字或字母，不含数字和符号"))
    return text


def _clean_checkin(
    data: dict[str, Any], *, place: Place | None, stay: tuple[int, int] | None, now: dt.datetime
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate one check-in; (clean values, errors by field). Every field is checked, so a
    row lists every reason at once."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def fail(name: str, message: Any) -> None:
        errors.setdefault(name, []).append(str(message))

    place_field = "place_code" if "place_code" in data else "place"
    if place is None:
        fail(place_field, _("场所码不存在，请核对场所码"))
    elif not place.active:
        fail(place_field, _("该场所已停用，不再接受扫码登记"))
    try:
        clean["name"] = _clean_name(data.get("name"))
    except FormatError as exc:
        fail("name", exc.message)
    id_type = str(data.get("id_type") or IdType.RESIDENT_ID)
    if id_type not in ID_TYPES:
        fail("id_type", _("证件类型无效"))
    number = data.get("id_number")
    if not number:
        fail("id_number", _("请填写证件号码"))
    elif "*" in str(number):
        fail("id_number", _("证件号码已脱敏（含 *），无法登记"))
    elif id_type in ID_TYPES:
        try:
            clean["id_number"], _parsed = parse_document(id_type, number, today=now.date())
        except FormatError as exc:
            fail("id_number", exc.message)
    clean["id_type"] = id_type
    phone = data.get("phone")
    clean["phone"] = ""
    if phone not in (None, ""):
        try:
            clean["phone"] = normalize_mobile(phone)
        except FormatError as exc:
            fail("phone", exc.message)
    try:
        checked_in = _parse_when(data.get("checked_in_at")) or now
    except FormatError as exc:
        fail("checked_in_at", exc.message)
        checked_in = None
    if checked_in is not None and checked_in > now + FUTURE_SLACK:
        fail("checked_in_at", _("进入时间晚于当前时间"))
    try:
        checked_out = _parse_when(data.get("checked_out_at"))
    except FormatError as exc:
        fail("checked_out_at", exc.message)
        checked_out = None
    if checked_in is not None and checked_out is not None and checked_out < checked_in:
        fail("checked_out_at", _("离开时间早于进入时间"))
    room = " ".join(str(data.get("room") or "").split())
    if len(room) > 20:
        fail("room", _("房间号最多 20 个字符"))
    key = str(data.get("idempotency_key") or "").strip()
    if len(key) > 64:
        fail("idempotency_key", _("幂等键最多 64 个字符"))
    if errors:
        return clean, errors
    assert place is not None
    assert checked_in is not None
    if checked_out is None:
        stay_minutes, cap_minutes = stay or place_stay(place=place)
        checked_out = checked_in + dt.timedelta(minutes=min(stay_minutes, cap_minutes))
        clean["out_imputed"] = True
    else:
        clean["out_imputed"] = False
    clean.update(
        place_id=place.pk,
        checked_in_at=checked_in,
        checked_out_at=checked_out,
        room=room,
        idempotency_key=key
        or _natural_key(
            place_id=place.pk,
            id_type=clean["id_type"],
            id_number=clean["id_number"],
            checked_in_at=checked_in,
        ),
    )
    return clean, errors


# --- the public scan: one statement -------------------------------------------------------------

_INSERT_FIELDS = (
    "place",
    "name",
    "id_type",
    "id_number",
    "phone",
    "checked_in_at",
    "checked_out_at",
    "out_imputed",
    "source",
    "room",
    "idempotency_key",
    "created_at",
)


def _insert_checkin(values: dict[str, Any]) -> tuple[int, int | None] | None:
    """One statement, the person found by a scalar subquery in it: (id, person_id) of the
    new row, or None when the idempotency key existed (core.db.insert_unless_conflict)."""
    row = insert_unless_conflict(
        CheckIn,
        {name: values[name] for name in _INSERT_FIELDS},
        computed=("person", person_by_document_sql(), [values["id_type"], values["id_number"]]),
        returning=("id", "person"),
    )
    return (row[0], row[1]) if row else None


def checkin_record(
    *,
    actor: Any,
    place: Place | None,
    data: dict[str, Any],
    now: dt.datetime | None = None,
    source: str = CheckIn.Source.SCAN,
) -> tuple[CheckIn, bool]:
    """Record one check-in; (check-in, created). A retry with the same key returns the first
    row and False, writing nothing; a key already used by another person is a Conflict.

    The public page's path: validation in Python, then one INSERT statement (atomic by
    itself, no transaction around it: see tests/test_architecture.OWN_TRANSACTIONS). No
    audit event (module docstring). `place` comes from `selectors_checkins.checkin_place`
    (with its stay rule); None (unknown code) or a closed place is refused."""
    now = now or timeutils.now()
    clean, errors = _clean_checkin(data, place=place, stay=None, now=now)
    if errors:
        raise ValidationFailed(errors)
    values = {
        **clean,
        "place": clean["place_id"],
        "source": str(source),
        "created_at": now,
    }
    inserted = _insert_checkin(values)
    if not clean["out_imputed"] and place is not None:
        # An explicit time out (the API; never the public scan, whose stay is imputed and
        # within the cap): keep Place.longest_stay_minutes an upper bound. The loaded (maybe
        # cached) bound only ever rises, so comparing with it costs no query.
        minutes = stay_minutes(clean["checked_in_at"], clean["checked_out_at"])
        if minutes > place.longest_stay_minutes:
            raise_longest_stay(minutes_by_place={place.pk: minutes})
    if inserted is not None:
        pk, person_id = inserted
        checkin = CheckIn(
            pk=pk, person_id=person_id, **{k: values[k] for k in _INSERT_FIELDS if k != "place"}
        )
        checkin.place = place
        return checkin, True
    first = CheckIn.objects.filter(idempotency_key=clean["idempotency_key"]).first()
    if first is None:  # cannot happen: the conflict was on the key
        raise Conflict(_("登记未成功，请重试"))
    if (first.place_id, first.id_type, first.id_number) != (
        clean["place_id"],
        clean["id_type"],
        clean["id_number"],
    ):
        raise Conflict(_("该登记编号已被使用，请刷新页面后重新登记"))
    return first, False


@transaction.atomic
def checkin_checkout(
    *, actor: Any, checkin: CheckIn, at: Any = None, now: dt.datetime | None = None
) -> CheckIn:
    """The scan-out: sets the time out (default now) and clears `out_imputed`. A time out
    before the time in, or in the future, is refused. A check-in already scanned out keeps
    its first time out (a second tap on 离开 changes nothing)."""
    now = now or timeutils.now()
    try:
        when = _parse_when(at) or now
    except FormatError as exc:
        raise ValidationFailed({"checked_out_at": [str(exc.message)]}) from None
    if when < checkin.checked_in_at:
        raise ValidationFailed({"checked_out_at": [_("离开时间早于进入时间")]})
    if when > now + FUTURE_SLACK:
        raise ValidationFailed({"checked_out_at": [_("离开时间晚于当前时间")]})
    if not checkin.out_imputed:
        return checkin
    updated = CheckIn.objects.filter(pk=checkin.pk, out_imputed=True).update(
        checked_out_at=when, out_imputed=False
    )
    if updated:
        raise_longest_stay(
            minutes_by_place={checkin.place_id: stay_minutes(checkin.checked_in_at, when)}
        )
        checkin.checked_out_at = when
        checkin.out_imputed = False
        if getattr(actor, "is_authenticated", False):
            audit_record(
                actor=actor,
                verb="places.checkin.checkout",
                target=checkin,
                data={"place_id": checkin.place_id},
            )
    else:
        checkin.refresh_from_db(fields=["checked_out_at", "out_imputed"])
    return checkin


# --- batches: API and imports -------------------------------------------------------------------


_BULK_COLUMNS = (
    "place_id",
    "person_id",
    "name",
    "id_type",
    "id_number",
    "phone",
    "checked_in_at",
    "checked_out_at",
    "out_imputed",
    "source",
    "room",
    "idempotency_key",
    "import_job_id",
    "created_at",
)


def _people_by_document(documents: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(id_type, id_number) -> the registered, not merged Person, for a batch's documents.

    PostgreSQL: one statement, an index probe per document (a lateral subquery on the
    document index), the documents sent as two comma-joined texts: an `IN` list of 1,000
    numbers was planned as a scan of the whole table, and psycopg's client-side quoting of
    1,000 parameters or an array cost more than the query. Validated documents are letters
    and digits and types are IdType values, so a comma never occurs in them.
    Elsewhere: one `IN` query."""
    people: dict[tuple[str, str], int] = {}
    if not documents:
        return people
    if connection.vendor == "postgresql":
        qn = connection.ops.quote_name
        meta = Person._meta
        col = {n: qn(meta.get_field(n).column) for n in ("id", "id_type", "id_number")}
        merged = qn(meta.get_field("merged_into").column)
        types, numbers = zip(*documents, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT d.t, d.n, p.id FROM unnest(string_to_array(%s, ','),"
                " string_to_array(%s, ',')) AS d(t, n) CROSS JOIN LATERAL"
                f" (SELECT {col['id']} AS id FROM {qn(meta.db_table)}"
                f" WHERE {col['id_type']} = d.t AND {col['id_number']} = d.n"
                f" AND {merged} IS NULL ORDER BY {col['id']} LIMIT 1) AS p",
                [",".join(types), ",".join(numbers)],
            )
            for id_type, number, pk in cursor.fetchall():
                people[(id_type, number)] = pk
        return people
    for pk, id_type, number in (
        Person.objects.filter(id_number__in={n for _t, n in documents}, merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", "id_type", "id_number")
    ):
        people.setdefault((id_type, number), pk)
    return people


@transaction.atomic
def checkin_record_bulk(
    *,
    actor: Any,
    rows: list[dict[str, Any]],
    source: str = CheckIn.Source.API,
    import_job: Any = None,
    places: dict[str, Place] | None = None,
    now: dt.datetime | None = None,
) -> BulkOutcome:
    """Validate each row; save the good ones in one bulk insert (duplicates by key skipped),
    report the bad ones by index with their field errors. At most 1,000 rows; a constant
    number of queries per batch (places, stay rules, people, the insert, the audit event).

    Each row: place_code, name, id_type, id_number, phone, checked_in_at, checked_out_at,
    idempotency_key, room, source ("hotel" for a hotel stay: a row with a room is one too).
    `places` (code -> Place) lets the importer pass places it already resolved.

    The person is linked by one query for the batch's document numbers (a batch is not the
    hot single path). Keys already used are not looked up first: the insert
    (places.bulk.insert_new_rows: COPY on PostgreSQL, falling back to INSERT ... ON CONFLICT
    DO NOTHING when a key is taken) skips them, and `created` counts the rows it really
    inserted; every other good row is a duplicate."""
    if len(rows) > MAX_BATCH:
        raise ValidationFailed({"items": [_("一次最多提交 %(n)s 条登记") % {"n": MAX_BATCH}]})
    now = now or timeutils.now()
    if places is None:
        codes = {str(r.get("place_code") or "").strip() for r in rows} - {""}
        places = places_by_code(codes=codes)
    stays = stays_by_kind(kinds={p.kind for p in places.values()})
    outcome = BulkOutcome()
    good: list[dict[str, Any]] = []
    sources = {str(source), CheckIn.Source.HOTEL}
    for index, row in enumerate(rows):
        code = row.get("place_code")
        place = places.get(code.strip() if code.__class__ is str else str(code or "").strip())
        data = row if "place_code" in row else {**row, "place_code": code}
        clean, errors = _clean_checkin(
            data, place=place, stay=stays.get(place.kind) if place else None, now=now
        )
        row_source = str(row.get("source") or source)
        if row_source not in sources:
            errors.setdefault("source", []).append(_("来源无效"))
        if errors:
            outcome.errors.append((index, errors))
            continue
        clean["source"] = CheckIn.Source.HOTEL if clean["room"] else row_source
        good.append(clean)
    people = _people_by_document({(c["id_type"], c["id_number"]) for c in good})
    import_job_id = getattr(import_job, "pk", None)
    created_at = timezone.now()
    seen: set[str] = set()
    new: list[tuple[Any, ...]] = []
    for clean in good:
        key = clean["idempotency_key"]
        if key in seen:
            outcome.duplicates += 1
            continue
        seen.add(key)
        new.append(
            (
                clean["place_id"],
                people.get((clean["id_type"], clean["id_number"])),
                clean["name"],
                clean["id_type"],
                clean["id_number"],
                clean["phone"],
                clean["checked_in_at"],
                clean["checked_out_at"],
                clean["out_imputed"],
                clean["source"],
                clean["room"],
                key,
                import_job_id,
                created_at,
            )
        )
    longest: dict[int, int] = {}
    for clean in good:  # explicit times out may be longer than the place's bound
        if not clean["out_imputed"]:
            minutes = stay_minutes(clean["checked_in_at"], clean["checked_out_at"])
            if minutes > longest.get(clean["place_id"], 0):
                longest[clean["place_id"]] = minutes
    bounds = {p.pk: p.longest_stay_minutes for p in places.values()}
    raise_longest_stay(minutes_by_place={k: m for k, m in longest.items() if m > bounds.get(k, 0)})
    outcome.created = insert_new_rows(CheckIn, _BULK_COLUMNS, new)
    outcome.duplicates += len(new) - outcome.created
    audit_record(
        actor=actor,
        verb="places.checkin.record_bulk",
        target_type="places.checkin",
        data={
            "source": str(source),
            "rows": len(rows),
            "created": outcome.created,
            "duplicates": outcome.duplicates,
            "invalid": len(outcome.errors),
            "import_job_id": import_job_id,
        },
    )
    return outcome
