"""The candidate engine: who was around a case in its look-back window.

`lookback_window` gives the window (domain-rules §1.3): from N days before onset (a
symptomatic case), before sampling (asymptomatic, or no onset), or from the last negative
test of a case found by repeated screening (9th edition), N = the `lookback_days` of the
edition in force on that day (default 2); to the end of the isolation day, or now.

`find_candidates` gathers, merged per document (the case's own document excluded):

(a) household: the other members of the case's household (registered people with a document);
(b) checkin: every check-in at the same place overlapping one of the case's check-ins, within
    a buffer of B minutes (settings.FANGKONG["COMPANION_BUFFER_MINUTES"]): other.in < case.out
    + B and other.out > case.in - B. `companions_batch` does it in one index range scan per
    case check-in on (place_id, checked_in_at), bounded below by case.in - B -
    `Place.longest_stay_minutes` (no stay at the place is longer, see places.models);
(c) vehicle: the other occupants of the checkpoint passages the case was an occupant of, and
    of passages of the same plate within ±2 hours (the same vehicle at the same time);
(d) transport: registrations of the same train, flight or coach on the same travel day, seated
    by the rules in `SEAT_RULES` (data, domain-rules §1.3); an unknown seat gives a candidate
    marked "seat_unknown" (suggested general contact).

Evidence holds ids and ISO times only (contracts.Candidate). Last exposure: the end of the
overlap (checkin), the passage time (vehicle), the travel day (transport), the end of the
window (household).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from fangkong.core import timeutils
from fangkong.people.models import Person
from fangkong.places.models import CheckIn, Place
from fangkong.policy.selectors import edition_in_force
from fangkong.travel.models import PassageOccupant, Transport, TravelRegistration

from .contracts import Candidate, Window
from .models import Case, Classification, Contact

DEFAULT_LOOKBACK_DAYS = 2
DEFAULT_BUFFER_MINUTES = 30
SAME_PLATE_WITHIN = dt.timedelta(hours=2)
# Ranges per statement on SQLite (5 parameters each, below its 32,766-parameter limit).
_CHUNK = 5000

# Seating rules for shared transport (domain-rules §1.3, 8th/9th guides), as data:
# "rows": same row and `rows` rows in front and behind; "carriage": the whole carriage;
# "all": everyone on board (a sealed air-conditioned coach; a ventilated bus would be
# {"rule": "rows", "rows": 3}).
SEAT_RULES: dict[str, dict[str, Any]] = {
    Transport.FLIGHT: {"rule": "rows", "rows": 3, "seat_rule": "flight_rows_3"},
    Transport.TRAIN: {"rule": "carriage", "seat_rule": "train_carriage"},
    Transport.BUS: {"rule": "all", "seat_rule": "coach_all"},
}
SEAT_UNKNOWN = "seat_unknown"
_TRAIN_SEAT = re.compile(r"^\s*0*(\d+)\s*(?:车|车厢|-|－)")
_ROW = re.compile(r"(\d+)")

# Strongest evidence first (contracts.py), and the setting each implies.
_STRENGTH = {
    Contact.Evidence.HOUSEHOLD: 0,
    Contact.Evidence.VEHICLE: 1,
    Contact.Evidence.TRANSPORT: 2,
    Contact.Evidence.CHECKIN: 3,
}
_SETTING = {
    Contact.Evidence.HOUSEHOLD: Contact.Setting.HOUSEHOLD,
    Contact.Evidence.VEHICLE: Contact.Setting.TRANSPORT,
    Contact.Evidence.TRANSPORT: Contact.Setting.TRANSPORT,
    Contact.Evidence.CHECKIN: Contact.Setting.VENUE,
}


# --- the window ---------------------------------------------------------------------------------


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_default_timezone())


def lookback_window(*, case: Case, now: dt.datetime | None = None) -> Window:
    """The case's look-back window (module docstring). A case found by repeated screening
    (`last_negative_on` set) is traced from the day of its last negative sampling."""
    now = now or timeutils.now()
    if case.last_negative_on is not None:
        anchor, day = "last_negative", case.last_negative_on
    elif case.classification != Classification.ASYMPTOMATIC and case.onset_date is not None:
        anchor, day = "onset", case.onset_date
    elif case.sampling_date is not None:
        anchor, day = "sampling", case.sampling_date
    elif case.onset_date is not None:
        anchor, day = "onset", case.onset_date
    else:
        anchor, day = "report", case.report_date
    edition = edition_in_force(on=day)
    days = edition.lookback_days if edition is not None else DEFAULT_LOOKBACK_DAYS
    offset = 0 if anchor == "last_negative" else days
    start = _local_midnight(day - dt.timedelta(days=offset))
    end = _local_midnight(case.isolated_on + dt.timedelta(days=1)) if case.isolated_on else now
    return Window(start=start, end=max(start, end), lookback_days=days, anchor=anchor)


# --- space-time companions ----------------------------------------------------------------------


class Hit(NamedTuple):
    """One check-in overlapping (within the buffer) one of the case's check-ins."""

    case_checkin_id: int
    case_in: dt.datetime
    case_out: dt.datetime
    checkin_id: int
    place_id: int
    id_type: str
    id_number: str
    name: str
    phone: str
    person_id: int | None
    checked_in_at: dt.datetime
    checked_out_at: dt.datetime

    @property
    def overlap(self) -> tuple[dt.datetime, dt.datetime]:
        """(from, to): the time both were there; when they only came within the buffer of
        each other, the gap between the first leaving and the second coming."""
        latest_in = max(self.case_in, self.checked_in_at)
        earliest_out = min(self.case_out, self.checked_out_at)
        return min(latest_in, earliest_out), max(latest_in, earliest_out)


def buffer_minutes_setting() -> int:
    return int(settings.FANGKONG.get("COMPANION_BUFFER_MINUTES", DEFAULT_BUFFER_MINUTES))


def _when(value: Any) -> dt.datetime:
    """A datetime from a raw cursor (SQLite gives text in UTC, PostgreSQL aware values)."""
    if value.__class__ is str:
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _param(value: dt.datetime) -> Any:
    """A datetime as the database compares it: as it is (PostgreSQL), the text Django stores
    (SQLite: naive UTC, ISO with a space, microseconds only when non-zero)."""
    if connection.vendor == "postgresql":
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


def _table(model: Any) -> tuple[str, dict[str, str]]:
    qn = connection.ops.quote_name
    return qn(model._meta.db_table), {f.attname: qn(f.column) for f in model._meta.concrete_fields}


def _case_checkins(
    keys: list[tuple[Any, str, str, dt.datetime, dt.datetime]],
) -> list[tuple[Any, int, int, dt.datetime, dt.datetime, int]]:
    """The case check-ins overlapping each key's window: (key, checkin id, place id, in, out,
    longest stay of the place). One query per 500 documents on (id_number, checked_in_at)."""
    if not keys:
        return []
    lo = min(k[3] for k in keys)
    hi = max(k[4] for k in keys)
    by_doc: dict[tuple[str, str], list[tuple[Any, dt.datetime, dt.datetime]]] = defaultdict(list)
    for key, id_type, id_number, start, end in keys:
        by_doc[(id_type, id_number)].append((key, start, end))
    numbers = sorted({n for _t, n in by_doc})
    table, c = _table(CheckIn)
    place_table, p = _table(Place)
    # in >= lo - the longest stay anywhere: a visit that began before the window and lasted
    # into it (the bound read in the same statement)
    longest = f"(SELECT MAX({p['longest_stay_minutes']}) FROM {place_table})"
    if connection.vendor == "postgresql":
        lower = f"%s::timestamptz - make_interval(mins => COALESCE({longest}, 0))"
    else:
        lower = f"datetime(%s, '-' || COALESCE({longest}, 0) || ' minutes')"
    found = []
    with connection.cursor() as cursor:
        for i in range(0, len(numbers), 500):
            chunk = numbers[i : i + 500]
            cursor.execute(
                f"SELECT c.{c['id']}, c.{c['place_id']}, c.{c['id_type']}, c.{c['id_number']},"
                f" c.{c['checked_in_at']}, c.{c['checked_out_at']},"
                f" p.{p['longest_stay_minutes']} FROM {table} c"
                f" JOIN {place_table} p ON p.{p['id']} = c.{c['place_id']}"
                f" WHERE c.{c['id_number']} IN ({', '.join(['%s'] * len(chunk))})"
                f" AND c.{c['checked_in_at']} >= {lower} AND c.{c['checked_in_at']} < %s",
                [*chunk, _param(lo), _param(hi)],
            )
            for pk, place_id, id_type, number, cin, cout, longest in cursor.fetchall():
                cin, cout = _when(cin), _when(cout)
                for key, start, end in by_doc.get((id_type, number), ()):
                    if cin < end and cout > start:
                        found.append((key, pk, place_id, cin, cout, longest))
    return found


def _range_rows(ranges: list[tuple[int, int, Any, Any, Any]]) -> list[tuple[Any, ...]]:
    """Rows (range index, id, place_id, id_type, id_number, name, phone, person_id, in, out)
    of check-ins with place_id = P, lo <= in < hi and out > lo2, for each range (i, P, lo,
    hi, lo2). PostgreSQL: one statement, a lateral index range scan per range over unnest'ed
    arrays; elsewhere: the ranges as a VALUES table, `_CHUNK` per statement, cross-joined
    (ranges outside, so one index range scan each)."""
    table, c = _table(CheckIn)
    cols = (
        f"c.{c['id']}, c.{c['place_id']}, c.{c['id_type']}, c.{c['id_number']}, c.{c['name']},"
        f" c.{c['phone']}, c.{c['person_id']}, c.{c['checked_in_at']}, c.{c['checked_out_at']}"
    )
    where = (
        f"c.{c['place_id']} = {{p}} AND c.{c['checked_in_at']} >= {{lo}}"
        f" AND c.{c['checked_in_at']} < {{hi}} AND c.{c['checked_out_at']} > {{lo2}}"
    )
    rows: list[tuple[Any, ...]] = []
    if not ranges:
        return rows
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            i, places, los, his, lo2s = (list(col) for col in zip(*ranges, strict=True))
            cursor.execute(
                f"SELECT r.i, {cols} FROM unnest(%s::int[], %s::bigint[], %s::timestamptz[],"
                " %s::timestamptz[], %s::timestamptz[]) AS r(i, p, lo, hi, lo2)"
                f" CROSS JOIN LATERAL (SELECT * FROM {table} c WHERE"
                f" {where.format(p='r.p', lo='r.lo', hi='r.hi', lo2='r.lo2')}) AS c",
                [i, places, los, his, lo2s],
            )
            return cursor.fetchall()
        # CROSS JOIN fixes the order: the ranges outside, an index range scan inside each
        on = where.format(p="r.p", lo="r.lo", hi="r.hi", lo2="r.lo2")
        for s in range(0, len(ranges), _CHUNK):
            chunk = ranges[s : s + _CHUNK]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"WITH r(i, p, lo, hi, lo2) AS (VALUES {values})"
                f" SELECT r.i, {cols} FROM r CROSS JOIN {table} c WHERE {on}",
                [v for r in chunk for v in r],
            )
            rows.extend(cursor.fetchall())
    return rows


def companions_batch(
    *,
    keys: list[tuple[Any, str, str, dt.datetime, dt.datetime]],
    buffer_minutes: int | None = None,
) -> dict[Any, list[Hit]]:
    """For each key (key, id_type, id_number, window start, window end): the check-ins of
    other documents overlapping, within the buffer, one of that document's check-ins that
    overlap the window. Two statements for one case; for 1,000 cases, the case check-ins
    by 500 documents and the companions in one statement (PostgreSQL) or 5,000 ranges per
    statement (SQLite)."""
    buffer = dt.timedelta(
        minutes=buffer_minutes_setting() if buffer_minutes is None else buffer_minutes
    )
    own = _case_checkins(keys)
    id_type_of = {k[0]: k[1] for k in keys}
    id_number_of = {k[0]: k[2] for k in keys}
    ranges = [
        (
            i,
            place_id,
            _param(cin - buffer - dt.timedelta(minutes=longest)),
            _param(cout + buffer),
            _param(cin - buffer),
        )
        for i, (_key, _pk, place_id, cin, cout, longest) in enumerate(own)
    ]
    result: dict[Any, list[Hit]] = {k[0]: [] for k in keys}
    rows = _range_rows(ranges)
    if rows and (rows[0][8].__class__ is str or rows[0][8].tzinfo is None):
        rows = [(*r[:8], _when(r[8]), _when(r[9])) for r in rows]  # SQLite: naive UTC
    new = Hit._make
    for i, pk, place_id, id_type, number, name, phone, person_id, cin, cout in rows:
        key, case_pk, _place, case_in, case_out, _longest = own[i]
        if id_number_of[key] == number and id_type_of[key] == id_type:
            continue
        result[key].append(
            new((case_pk, case_in, case_out, pk, place_id, id_type, number, name, phone,
                 person_id, cin, cout))
        )  # fmt: skip
    return result


# --- the other sources ---------------------------------------------------------------------------


def _household(person: Person, window: Window) -> list[tuple[dict[str, Any], Any]]:
    if person.household_id is None:
        return []
    members = (
        Person.objects.filter(household_id=person.household_id, merged_into__isnull=True)
        .exclude(pk=person.pk)
        .exclude(Q(id_number__isnull=True) | Q(id_number=""))
    )
    return [
        (
            {"id_type": m.id_type, "id_number": m.id_number, "name": m.name, "phone": m.phone,
             "person_id": m.pk},
            ({"kind": "household", "household_id": person.household_id}, window.end),
        )
        for m in members
    ]  # fmt: skip


def _vehicle(doc: tuple[str, str], window: Window) -> list[tuple[dict[str, Any], Any]]:
    own = list(
        PassageOccupant.objects.filter(
            id_type=doc[0],
            id_number=doc[1],
            passage__passed_at__gte=window.start,
            passage__passed_at__lt=window.end,
        ).values_list("passage_id", "passage__plate", "passage__passed_at")
    )
    if not own:
        return []
    same = Q(passage_id__in={p for p, _plate, _at in own})
    for _p, plate, at in own:
        if plate:
            same |= Q(
                passage__plate=plate,
                passage__passed_at__gte=max(window.start, at - SAME_PLATE_WITHIN),
                passage__passed_at__lte=min(window.end, at + SAME_PLATE_WITHIN),
            )
    found = []
    for occ in PassageOccupant.objects.filter(same).select_related("passage"):
        if (occ.id_type, occ.id_number) == doc:
            continue
        found.append(
            (
                {"id_type": occ.id_type, "id_number": occ.id_number, "name": occ.name,
                 "phone": occ.phone, "person_id": occ.person_id},
                ({"kind": "vehicle", "passage_id": occ.passage_id, "plate": occ.passage.plate},
                 occ.passage.passed_at),
            )
        )  # fmt: skip
    return found


def _seat_position(transport: str, seat: str) -> int | None:
    """The row (flight, coach) or carriage (train) of a seat; None when unknown."""
    seat = (seat or "").strip()
    if not seat:
        return None
    if transport == Transport.TRAIN:
        match = _TRAIN_SEAT.match(seat)
        return int(match.group(1)) if match else None
    match = _ROW.search(seat)
    return int(match.group(1)) if match else None


def seat_rule_applies(*, transport: str, case_seat: str, other_seat: str) -> str | None:
    """The seat rule that makes two travellers on the same vehicle candidates (its name), or
    SEAT_UNKNOWN when a seat is unknown, or None when they sat too far apart."""
    rule = SEAT_RULES[transport]
    if rule["rule"] == "all":
        return rule["seat_rule"]
    mine, theirs = _seat_position(transport, case_seat), _seat_position(transport, other_seat)
    if mine is None or theirs is None:
        return SEAT_UNKNOWN
    if rule["rule"] == "carriage":
        return rule["seat_rule"] if mine == theirs else None
    return rule["seat_rule"] if abs(mine - theirs) <= rule["rows"] else None


def _transport(person: Person, window: Window) -> list[tuple[dict[str, Any], Any]]:
    first = timezone.localtime(window.start).date()
    last = timezone.localtime(window.end).date()
    own = list(
        TravelRegistration.objects.filter(
            person=person, transport__in=list(SEAT_RULES), left_on__gte=first, left_on__lte=last
        )
        .exclude(vehicle_no="")
        .values_list("transport", "vehicle_no", "left_on", "arrived_on", "seat")
    )
    if not own:
        return []
    same = Q(pk__in=[])
    for transport, vehicle_no, left_on, _arrived, _seat in own:
        same |= Q(transport=transport, vehicle_no__iexact=vehicle_no, left_on=left_on)
    found = []
    for reg in (
        TravelRegistration.objects.filter(same).exclude(person=person).select_related("person")
    ):
        for transport, vehicle_no, left_on, arrived_on, seat in own:
            if (reg.transport, reg.vehicle_no.upper(), reg.left_on) != (
                transport, vehicle_no.upper(), left_on,
            ):  # fmt: skip
                continue
            rule = seat_rule_applies(transport=transport, case_seat=seat, other_seat=reg.seat)
            if rule is None or not reg.person.id_number:
                continue
            day = min(arrived_on, reg.arrived_on)
            when = min(window.end, _local_midnight(day) + dt.timedelta(hours=12))
            found.append(
                (
                    {"id_type": reg.person.id_type, "id_number": reg.person.id_number,
                     "name": reg.reported_name or reg.person.name,
                     "phone": reg.reported_phone or reg.person.phone, "person_id": reg.person_id},
                    ({"kind": "transport", "registration_id": reg.pk,
                      "vehicle_no": reg.vehicle_no, "seat_rule": rule}, when),
                )
            )  # fmt: skip
    return found


def _companions(
    doc: tuple[str, str], window: Window, buffer_minutes: int | None
) -> list[tuple[dict[str, Any], Any]]:
    hits = companions_batch(
        keys=[(0, doc[0], doc[1], window.start, window.end)], buffer_minutes=buffer_minutes
    )[0]
    found = []
    for hit in hits:
        start, end = hit.overlap
        found.append(
            (
                {"id_type": hit.id_type, "id_number": hit.id_number, "name": hit.name,
                 "phone": hit.phone, "person_id": hit.person_id},
                ({"kind": "checkin", "place_id": hit.place_id,
                  "case_checkin_id": hit.case_checkin_id, "checkin_id": hit.checkin_id,
                  "overlap_from": start.isoformat(), "overlap_to": end.isoformat()}, end),
            )
        )  # fmt: skip
    return found


def find_candidates(
    *, case: Case, buffer_minutes: int | None = None, now: dt.datetime | None = None
) -> list[Candidate]:
    """Everyone around the case in its window (module docstring), one Candidate per document
    with every piece of evidence (strongest kind first), the latest exposure, and the name
    and phone of the first record found (the household's register first). The case's own document is excluded."""
    window = lookback_window(case=case, now=now)
    person = Person.objects.get(pk=case.person_id)
    doc = (person.id_type, person.id_number or "")
    found = _household(person, window)
    if doc[1]:
        found += _vehicle(doc, window)
        found += _companions(doc, window, buffer_minutes)
    found += _transport(person, window)
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for who, (item, when) in found:
        key = (who["id_type"], who["id_number"])
        if key == doc:
            continue
        entry = merged.setdefault(key, {"who": who, "items": [], "last": None, "seen": None})
        entry["items"].append(item)
        if entry["last"] is None or when > entry["last"]:
            entry["last"] = when
        if who["person_id"] and not entry["who"]["person_id"]:
            entry["who"] = {**entry["who"], "person_id": who["person_id"]}
    candidates = []
    for (id_type, id_number), entry in merged.items():
        items = sorted(entry["items"], key=lambda it: _STRENGTH[it["kind"]])
        kind = items[0]["kind"]
        who = entry["who"]
        candidates.append(
            Candidate(
                id_type=id_type,
                id_number=id_number,
                name=who["name"],
                phone=who["phone"] or "",
                person_id=who["person_id"],
                evidence_kind=kind,
                setting=_SETTING[kind],
                last_exposure_at=entry["last"],
                evidence={"items": items},
            )
        )
    candidates.sort(key=lambda c: (_STRENGTH[c.evidence_kind], c.id_type, c.id_number))
    return candidates
