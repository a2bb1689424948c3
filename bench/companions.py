"""Benchmark: space-time companions of cases (tracing.candidates.companions_batch).

Loads N check-ins straight into places_checkin (COPY on PostgreSQL, executemany on SQLite;
not timed): 10,000,000 check-ins of 1,000,000 documents at 20,000 places over 14 days (a
quick-sized run, --people <= 33,000 or --quick: 1,000,000 check-ins, 100,000 documents, 2,000
places), visits of 15 minutes to 4 hours, 2% of them long stays (to 14 hours, across
midnight), each place's `longest_stay_minutes` the larger of its kind's cap and its longest
stay; then ANALYZE. Then times, with the default buffer (30 minutes) and the whole 14 days as
the window:

* one_case: `companions_batch` for one case (a document with 12 check-ins), end to end (the
  bound query, the case's check-ins, the range scans, the Python results), over 30 cases;
* batch: `companions_batch` for 1,000 cases at once.

Reference (raw): the same search as ONE plain SQL self-join (the case's check-ins joined to
the place and to the check-ins at the same place within the bound), executed and fetched on
the same connection. The result sets (case check-in, companion check-in) must be equal.
Goals: one case p95 < 20 ms and ratio <= 3; batch ratio <= 2.

    .venv/bin/python bench/companions.py [--quick] [--people N] [--db URL]
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from typing import Any

from _common import QUICK_PEOPLE, SEED, arguments, emit, note, percentiles, setup_django, vendor

DAYS = 14
BUFFER_MIN = 30
CASE_VISITS = 12
ONE_CASE_SAMPLES = 30
BATCH = 1000
DOCS_PREFIX = "BC"
# Venue codes of the places loaded here: 13 characters, never a real (8-character) code.
PLACE_PREFIX = "BENCHC"
# What the raw query fetches: what companions_batch needs (the same columns).
COLUMNS = (
    "c.id, o.id, c.checked_in_at, c.checked_out_at, o.place_id, o.id_type, o.id_number,"
    " o.name, o.phone, o.person_id, o.checked_in_at, o.checked_out_at"
)


def _sizes(args: Any) -> tuple[int, int, int]:
    """(check-ins, documents, places)."""
    if os.environ.get("BENCH_COMPANIONS_SMOKE"):  # a smoke test of the script itself
        return 50_000, 5_000, 100
    if args.quick or args.people <= QUICK_PEOPLE:
        return 1_000_000, 100_000, 2_000
    return 10_000_000, 1_000_000, 20_000


def _load(
    checkins: int, docs: int, places: int, rng: random.Random
) -> tuple[dt.datetime, list[str]]:
    """The places and check-ins; returns (the first day's start, documents with exactly
    CASE_VISITS check-ins)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.geo.models import Division
    from fangkong.people.bulk import insert_rows
    from fangkong.places.defaults import DEFAULT_STAY_RULES
    from fangkong.places.models import CheckIn, Place

    division = Division.objects.order_by("level", "pk").first() or Division.objects.create(
        code="610326", name="眉县", level=0, kind="rural", full_name="眉县"
    )
    start = dt.datetime(2022, 4, 1, tzinfo=timezone.get_default_timezone())
    kinds = list(DEFAULT_STAY_RULES)
    place_kinds = [rng.choice(kinds) for _ in range(places)]
    with connection.cursor() as cursor:  # a rerun: what an earlier run loaded goes first
        cursor.execute(
            "DELETE FROM places_checkin WHERE place_id IN"
            " (SELECT id FROM places_place WHERE code LIKE %s)",
            [f"{PLACE_PREFIX}%"],
        )
        cursor.execute("DELETE FROM places_place WHERE code LIKE %s", [f"{PLACE_PREFIX}%"])
    with transaction.atomic():
        insert_rows(
            Place,
            ["code", "name", "kind", "division_id", "address", "active", "longest_stay_minutes"],
            [
                (
                    f"{PLACE_PREFIX}{i:07d}",
                    f"同行压测场所{i}",
                    place_kinds[i],
                    division.pk,
                    "某路",
                    True,
                    0,
                )
                for i in range(places)
            ],
        )
    place_ids = list(
        Place.objects.filter(code__startswith=PLACE_PREFIX)
        .order_by("code")
        .values_list("pk", flat=True)
    )
    longest = [DEFAULT_STAY_RULES[k][1] for k in place_kinds]
    # every document gets Poisson-ish visits; the first BATCH*2 get exactly CASE_VISITS
    per_doc = [CASE_VISITS] * (BATCH * 2)
    remaining = checkins - sum(per_doc)
    rest = docs - len(per_doc)
    per_doc += [remaining // rest + (1 if i < remaining % rest else 0) for i in range(rest)]
    pg = connection.vendor == "postgresql"
    span = DAYS * 1440
    columns = [
        "place_id", "name", "id_type", "id_number", "phone", "checked_in_at", "checked_out_at",
        "out_imputed", "source", "room", "idempotency_key", "created_at",
    ]  # fmt: skip
    rows: list[tuple[Any, ...]] = []
    sent = 0

    def stamp(when: dt.datetime) -> Any:
        return when if pg else when.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")

    created = stamp(start)
    with transaction.atomic():
        for d, visits in enumerate(per_doc):
            number = f"{DOCS_PREFIX}{d:08d}"
            for _v in range(visits):
                p = rng.randrange(places)
                minute = rng.randrange(span)
                stay = rng.randrange(15, 240) if rng.random() > 0.02 else rng.randrange(240, 840)
                longest[p] = max(longest[p], stay)
                cin = start + dt.timedelta(minutes=minute)
                rows.append(
                    (
                        place_ids[p], "压测", "resident_id", number, "", stamp(cin),
                        stamp(cin + dt.timedelta(minutes=stay)), False, "import", "", None, created,
                    )
                )  # fmt: skip
            if len(rows) >= 200_000:
                sent += insert_rows(CheckIn, columns, rows)
                rows = []
                note(f"  {sent:,} check-ins")
        sent += insert_rows(CheckIn, columns, rows)
        from fangkong.people.bulk import update_rows

        update_rows(
            Place, ["longest_stay_minutes"], zip(longest, place_ids, strict=True), touch=False
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    note(f"loaded {sent:,} check-ins at {places:,} places")
    return start, [f"{DOCS_PREFIX}{d:08d}" for d in range(BATCH * 2)]


def _raw(numbers: list[str], start: dt.datetime, end: dt.datetime) -> set[tuple[int, int]]:
    """The same search as one self-join in plain SQL."""
    from django.db import connection

    longest_any = "(SELECT MAX(longest_stay_minutes) FROM places_place)"
    marks = ", ".join(["%s"] * len(numbers))
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT {COLUMNS} FROM places_checkin c"
            " JOIN places_place p ON p.id = c.place_id"
            " JOIN places_checkin o ON o.place_id = c.place_id"
            " AND o.checked_in_at >= c.checked_in_at - make_interval(mins => %s + p.longest_stay_minutes)"
            " AND o.checked_in_at < c.checked_out_at + make_interval(mins => %s)"
            " AND o.checked_out_at > c.checked_in_at - make_interval(mins => %s)"
            f" WHERE c.id_number IN ({marks})"
            f" AND c.checked_in_at >= %s::timestamptz - make_interval(mins => {longest_any})"
            " AND c.checked_in_at < %s AND c.checked_out_at > %s"
            " AND NOT (o.id_type = c.id_type AND o.id_number = c.id_number)"
        )
        params = [BUFFER_MIN, BUFFER_MIN, BUFFER_MIN, *numbers, start, end, start]
    else:

        def s(when: dt.datetime) -> str:
            return when.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")

        sql = (
            f"SELECT {COLUMNS} FROM places_checkin c"
            " JOIN places_place p ON p.id = c.place_id"
            " JOIN places_checkin o ON o.place_id = c.place_id"
            " AND o.checked_in_at >= datetime(c.checked_in_at, '-' || (%s + p.longest_stay_minutes) || ' minutes')"
            " AND o.checked_in_at < datetime(c.checked_out_at, '+' || %s || ' minutes')"
            " AND o.checked_out_at > datetime(c.checked_in_at, '-' || %s || ' minutes')"
            f" WHERE c.id_number IN ({marks})"
            f" AND c.checked_in_at >= datetime(%s, '-' || {longest_any} || ' minutes')"
            " AND c.checked_in_at < %s AND c.checked_out_at > %s"
            " AND NOT (o.id_type = c.id_type AND o.id_number = c.id_number)"
        )
        params = [BUFFER_MIN, BUFFER_MIN, BUFFER_MIN, *numbers, s(start), s(end), s(start)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(row[0], row[1]) for row in cursor.fetchall()}


def _ours(numbers: list[str], start: dt.datetime, end: dt.datetime) -> set[tuple[int, int]]:
    from fangkong.tracing.candidates import companions_batch

    hits = companions_batch(
        keys=[(n, "resident_id", n, start, end) for n in numbers], buffer_minutes=BUFFER_MIN
    )
    return {(h.case_checkin_id, h.checkin_id) for found in hits.values() for h in found}


def _best(fn: Any, runs: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    setup_django(args.db)
    from django.db import connection

    checkins, docs, places = _sizes(args)
    rng = random.Random(SEED)
    note(f"loading {checkins:,} check-ins on {vendor()} ...")
    started = time.perf_counter()
    start, cases = _load(checkins, docs, places, rng)
    load_s = time.perf_counter() - started
    end = start + dt.timedelta(days=DAYS)
    figures = {"bench": "companions", "db": connection.vendor, "checkins": checkins}

    # one case, end to end; raw alternates with ours on the same cases
    ours_ms: list[float] = []
    raw_ms: list[float] = []
    equal = True
    hits = []
    _ours(cases[:1], start, end)  # warm-up
    _raw(cases[:1], start, end)
    for number in cases[:ONE_CASE_SAMPLES]:
        t0 = time.perf_counter()
        mine = _ours([number], start, end)
        t1 = time.perf_counter()
        theirs = _raw([number], start, end)
        t2 = time.perf_counter()
        ours_ms.append((t1 - t0) * 1000)
        raw_ms.append((t2 - t1) * 1000)
        equal &= mine == theirs
        hits.append(len(mine))
    mine_p, raw_p = percentiles(ours_ms), percentiles(raw_ms)
    ratio = round(mine_p["p50_ms"] / max(raw_p["p50_ms"], 1e-6), 2)
    emit(
        {
            **figures,
            "case": f"{connection.vendor}-one_case",
            "cases": len(ours_ms),
            "case_checkins": CASE_VISITS,
            "companions_mean": round(sum(hits) / len(hits), 1),
            **mine_p,
            "raw_p50_ms": raw_p["p50_ms"],
            "raw_p95_ms": raw_p["p95_ms"],
            "ratio": ratio,
            "equal": equal,
            "load_s": round(load_s, 1),
            "goal": "p95_ms < 20 and ratio <= 3",
            "met": bool(mine_p["p95_ms"] < 20 and ratio <= 3 and equal),
            "better": "lower",
        }
    )

    batch = cases[ONE_CASE_SAMPLES : ONE_CASE_SAMPLES + BATCH]
    seconds, mine = _best(lambda: _ours(batch, start, end), 2)
    raw_s, theirs = _best(lambda: _raw(batch, start, end), 2)
    ratio = round(seconds / max(raw_s, 1e-9), 2)
    emit(
        {
            **figures,
            "case": f"{connection.vendor}-batch",
            "cases": len(batch),
            "companions": len(mine),
            "seconds": round(seconds, 3),
            "ms_per_case": round(seconds * 1000 / len(batch), 3),
            "raw_s": round(raw_s, 3),
            "ratio": ratio,
            "equal": mine == theirs,
            "goal": "ratio <= 2",
            "met": bool(ratio <= 2 and mine == theirs),
            "better": "lower",
        }
    )


if __name__ == "__main__":
    main()
