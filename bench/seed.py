"""Benchmark: seeding N people (`fangkong seed`), against a raw executemany of the same rows.

The seed is timed end to end (plan + writes of grids, households, people, workers, 四包抓,
logins, boundaries + commit + ANALYZE), with the county's tree already imported. The reference
inserts the very same person rows with one `cursor.executemany` into a scratch table identical
to people_person (same columns, indexes, constraints and foreign keys), in the same database
and the same run. ratio = seed seconds / raw seconds (lower is better).

    .venv/bin/python bench/seed.py [--quick] [--people N] [--db URL]
"""

from __future__ import annotations

import time

from _common import COUNTY, SEED, arguments, emit, note, setup_django, vendor

RAW_TABLE = "bench_person_raw"


def _clone_person_table() -> None:
    """Create RAW_TABLE with the columns, indexes, constraints and foreign keys of Person."""
    from django.db import connection

    from fangkong.people.models import Person

    table = Person._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL"
                " ORDER BY type DESC",
                [table],
            )
            for kind, name, sql in cursor.fetchall():
                if kind == "table":
                    sql = sql.replace(f'CREATE TABLE "{table}"', f'CREATE TABLE "{RAW_TABLE}"', 1)
                else:
                    sql = sql.replace(f'"{name}"', f'"bench_{name}"', 1).replace(
                        f'ON "{table}"', f'ON "{RAW_TABLE}"', 1
                    )
                cursor.execute(sql)
        else:
            cursor.execute(f"CREATE TABLE {RAW_TABLE} (LIKE {table} INCLUDING ALL)")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(
                    f'ALTER TABLE {RAW_TABLE} ADD CONSTRAINT "bench_{name}" {definition}'
                )


def _raw_insert_seconds() -> tuple[float, int]:
    from django.db import connection, transaction

    from fangkong.people.models import Person

    columns = [f.column for f in Person._meta.concrete_fields]
    column_sql = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column_sql} FROM {Person._meta.db_table} ORDER BY id")
        rows = cursor.fetchall()
    _clone_person_table()
    sql = f"INSERT INTO {RAW_TABLE} ({column_sql}) VALUES ({', '.join(['%s'] * len(columns))})"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {RAW_TABLE}")
        inserted = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {RAW_TABLE}")
    return seconds, inserted


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    setup_django(args.db)
    from fangkong.demo.services import demo_seed
    from fangkong.geo.models import Division
    from fangkong.geo.services import division_import_national

    if not Division.objects.filter(code=COUNTY).exists():
        division_import_national(actor=None, county_code=COUNTY)
    note(f"seed benchmark: {args.people:,} people on {vendor()}")
    started = time.perf_counter()
    result = demo_seed(actor=None, county_code=COUNTY, people=args.people, seed=SEED, reset=True)
    seconds = time.perf_counter() - started
    raw_seconds, raw_rows = _raw_insert_seconds()
    assert raw_rows == result.people, (raw_rows, result.people)
    emit(
        {
            "bench": "seed",
            "case": f"{vendor()}-{args.people}",
            "db": vendor(),
            "people": result.people,
            "households": result.households,
            "small_grids": result.small_grids,
            "seconds": round(seconds, 3),
            "rows_per_s": round(result.people / seconds),
            "generate_s": round(result.timings["generate_s"], 3),
            "write_s": round(result.timings["write_s"], 3),
            "raw_seconds": round(raw_seconds, 3),
            "raw_rows_per_s": round(raw_rows / raw_seconds),
            "ratio": round(seconds / raw_seconds, 2),
            "goal": "ratio <= 3 (whole seed vs raw executemany of the person rows alone)",
            "better": "lower",
        }
    )


if __name__ == "__main__":
    main()
