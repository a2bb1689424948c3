"""Benchmark: the retroactive sweep of a new high-risk area over past arrivals (goal < 2 s).

On the seeded county (330,000 people; --quick 33,000) the benchmark loads 200,000 past
arrivals (--quick 20,000: people/1.65) from ~200 origin regions (real GB/T 2260 counties)
spread over the last 30 days, in bulk (COPY on PostgreSQL, executemany on SQLite; not through
arrival_register, which is not what is timed here), then ANALYZE. One of the regions holds
1% of the arrivals. With the 9th edition in force (activated as the demo seed does), it then
declares that region a high-risk area from 10 days ago through travel.sweep.risk_area_declare
and times the whole call: the area, the sweep over the arrivals, the measures proposed through
control.order_propose_bulk, the loop tasks, the sweep's record of what it found, the commit.

Reference (raw_s): one plain SQL SELECT of the same arrivals (origin under the region, left on
or after the start) on the same connection. ratio = seconds / goal (lower is better).
What the benchmark added (arrivals, the area, the sweep, orders, tasks) is removed at the end.

    .venv/bin/python bench/sweep.py [--quick] [--people N] [--db URL]
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from _common import COUNTY, SEED, arguments, emit, ensure_seeded, note, setup_django, vendor

GOAL_S = 2.0
FULL_ARRIVALS = 200_000
REGIONS = 200
TARGET_SHARE = 0.01
DAYS = 30
START_DAYS_AGO = 10
TARGET = "420111"  # 湖北省武汉市洪山区: the region declared high-risk (1% of the arrivals)
TRANSPORTS = ("car", "train", "flight", "bus")
CHANNELS = ("self_report", "grid_entry", "pushed_list", "checkpoint")


def _origins(rng: random.Random) -> list[tuple[str, str]]:
    """TARGET and 199 other real county-level regions outside this county's city, drawn by
    the seed: (code, full name)."""
    from fangkong.geo.models import Region

    target = Region.objects.filter(code=TARGET).values_list("code", "full_name").get()
    rows = list(
        Region.objects.filter(level=Region.Level.COUNTY)
        .exclude(code__startswith=COUNTY[:4])
        .exclude(code=TARGET)
        .order_by("code")
        .values_list("code", "full_name")
    )
    if len(rows) < REGIONS - 1:
        raise RuntimeError(f"the region table holds {len(rows)} counties, {REGIONS} needed")
    return [target, *rng.sample(rows, REGIONS - 1)]


def _arrival_rows(
    people: list[tuple[int, str, str, str]],
    origins: list[tuple[str, str]],
    count: int,
    today: dt.date,
    rng: random.Random,
) -> tuple[list[str], list[tuple]]:
    """Rows for travel_travelregistration: the first origin gets TARGET_SHARE of them."""
    columns = [
        "person_id",
        "channel",
        "reported_name",
        "reported_phone",
        "origin_code",
        "origin_name",
        "left_on",
        "arrived_on",
        "transport",
        "vehicle_no",
        "destination_division_id",
        "destination_address",
    ]
    target_count = round(count * TARGET_SHARE)
    chosen = rng.sample(people, count) if count <= len(people) else rng.choices(people, k=count)
    rows = []
    for i, (person_id, name, phone, grid) in enumerate(chosen):
        code, region_name = origins[0] if i < target_count else rng.choice(origins[1:])
        left_on = today - dt.timedelta(days=rng.randrange(DAYS))
        arrived_on = min(today, left_on + dt.timedelta(days=rng.choice((0, 0, 0, 1, 2))))
        transport = rng.choice(TRANSPORTS)
        vehicle = {
            "car": f"陕C{rng.randrange(10000, 99999)}",
            "train": f"G{rng.randrange(1, 9999)}",
            "flight": f"MU{rng.randrange(1000, 9999)}",
            "bus": "",
        }[transport]
        rows.append(
            (
                person_id,
                rng.choice(CHANNELS),
                name,
                phone,
                code,
                region_name,
                left_on,
                arrived_on,
                transport,
                vehicle,
                grid,
                "",
            )
        )
    return columns, rows


def _high_water_marks() -> dict[Any, int]:
    """The highest id of every table the benchmark writes to, to remove its rows afterwards."""
    from django.db.models import Max

    from fangkong.control.models import (
        ControlOrder,
        ControlOrderEvent,
        LoopEscalation,
        LoopStep,
        LoopTask,
    )
    from fangkong.core.models import AuditEvent
    from fangkong.policy.models import RiskArea
    from fangkong.travel.models import (
        AssistRequest,
        AssistRequestEntry,
        SweepHit,
        SweepRun,
        TravelRegistration,
    )

    models = [
        SweepHit,
        SweepRun,
        AssistRequestEntry,
        AssistRequest,
        LoopEscalation,
        LoopStep,
        LoopTask,
        ControlOrderEvent,
        ControlOrder,
        TravelRegistration,
        RiskArea,
        AuditEvent,
    ]
    return {m: m.objects.aggregate(top=Max("pk"))["top"] or 0 for m in models}


def _remove_rows_above(marks: dict[Any, int]) -> None:
    """Delete what the benchmark added, children first (one DELETE per table)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for model, top in marks.items():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE id > %s", [top])


def _raw_hits(region: str, start: dt.date, today: dt.date) -> tuple[float, int]:
    """One plain SELECT of the arrivals the sweep must find; (seconds, rows)."""
    from django.db import connection

    from fangkong.travel.models import TravelRegistration

    table = TravelRegistration._meta.db_table
    sql = (
        f"SELECT id, person_id, left_on, arrived_on, destination_division_id, outside_county"
        f" FROM {table} WHERE origin_code LIKE %s AND left_on >= %s AND left_on <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [f"{region}%", start, today])  # warm the same plan once
        cursor.fetchall()
        started = time.perf_counter()
        cursor.execute(sql, [f"{region}%", start, today])
        rows = cursor.fetchall()
        seconds = time.perf_counter() - started
    return seconds, len(rows)


def _analyze() -> None:
    from django.db import connection

    from fangkong.travel.models import TravelRegistration

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TravelRegistration._meta.db_table}")


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    setup_django(args.db)
    from django.db import connection, transaction

    from fangkong.accounts.models import User
    from fangkong.core.timeutils import local_today
    from fangkong.demo.services import demo_policy_setup
    from fangkong.people.bulk import insert_rows
    from fangkong.people.models import Person
    from fangkong.policy.models import RiskLevel
    from fangkong.travel.models import TravelRegistration
    from fangkong.travel.sweep import risk_area_declare

    ensure_seeded(args.people)
    count = round(FULL_ARRIVALS * args.people / 330_000)
    commander = User.objects.get(username="hq")
    demo_policy_setup(actor=None, county_code=COUNTY)
    today = local_today()
    rng = random.Random(SEED)
    origins = _origins(rng)
    people = list(Person.objects.order_by("pk").values_list("pk", "name", "phone", "division_id"))
    marks = _high_water_marks()
    try:
        note(f"sweep benchmark: loading {count:,} arrivals from {REGIONS} regions on {vendor()}")
        columns, rows = _arrival_rows(people, origins, count, today, rng)
        started = time.perf_counter()
        with transaction.atomic():
            insert_rows(TravelRegistration, columns, rows)
        _analyze()
        load_s = time.perf_counter() - started
        region, region_name = origins[0]
        start = today - dt.timedelta(days=START_DAYS_AGO)
        raw_s, raw_hits = _raw_hits(region, start, today)
        in_region = sum(1 for row in rows if row[4] == region)

        note(f"sweep benchmark: declaring {region} {region_name} high-risk from {start}")
        started = time.perf_counter()
        _area, sweep = risk_area_declare(
            actor=commander,
            level=RiskLevel.HIGH,
            region_code=region,
            start_date=start,
            notice="基准测试：新增高风险地区",
        )
        seconds = time.perf_counter() - started
        if sweep is None:
            raise RuntimeError("risk_area_declare ran no sweep for a start in the past")
        emit(
            {
                "bench": "sweep",
                "case": f"{connection.vendor}-high-risk-area",
                "db": connection.vendor,
                "people": len(people),
                "arrivals": count,
                "regions": REGIONS,
                "region_arrivals": in_region,
                "window_days": START_DAYS_AGO,
                "hits": sweep.found,
                "raw_hits": raw_hits,
                "orders": sweep.orders_proposed,
                "covered": sweep.already_covered,
                "outside": sweep.outside_county,
                "seconds": round(seconds, 3),
                "sweep_s": round(sweep.seconds, 3),
                "raw_s": round(raw_s, 4),
                "load_s": round(load_s, 2),
                "ratio": round(seconds / GOAL_S, 2),
                "goal": f"seconds < {GOAL_S:g}",
                "better": "lower",
                "met": seconds < GOAL_S,
                **({"note": "hits differ from the raw query"} if sweep.found != raw_hits else {}),
            }
        )
    finally:
        note("sweep benchmark: removing the arrivals, the area and what the sweep made")
        _remove_rows_above(marks)


if __name__ == "__main__":
    main()
