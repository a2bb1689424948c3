"""Benchmark: importing a county roster .xlsx (kind "people"), against the raw limit.

The demo county is seeded (grids and N people), its people are written to a roster .xlsx as a
village office would send it (a title row, header variants, 男/女, relation words, dates), with
about 2% bad rows (bad check character, bad phone, unknown grid, missing name) and about 5% of
the phones changed. Two cases, each timed end to end (import_job_create + import_job_run: the
upload is stored, inspected, read with calamine, cleaned, validated, deduplicated and written
in committed batches) in a fresh child process, so that its peak memory is its own:

* update: into the database that already holds the county's people (the same people; the
  changed phones are updated, the rest unchanged);
* empty: into the same database after its people and households are deleted (only the county
  tree is left).

The raw limit is measured in the same run on the same database: a calamine read of the same
file plus a raw insert of the same clean rows (those the empty case created) into a clone of
people_person (same indexes, constraints, foreign keys): one executemany on SQLite, COPY on
PostgreSQL. ratio = our seconds / raw limit (lower is better); goal ratio <= 2, peak < 1 GB.

    .venv/bin/python bench/import_people.py [--quick] [--people N] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    BENCH_DIR,
    COUNTY,
    FULL_PEOPLE,
    QUICK_PEOPLE,
    SEED,
    emit,
    note,
    scratch_sqlite,
    setup_django,
    vendor,
)

HEADER = (
    "序号",
    "姓名",
    "性别",
    "公民身份号码",
    "出生日期",
    "联系电话",
    "现住址",
    "所属网格",
    "与户主关系",
)
BAD_SHARE = 0.02  # bad rows, four kinds in equal parts
CHANGED_PHONE_SHARE = 0.05
GOAL = "ratio <= 2 and peak_mb < 1024"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in var/bench)")
    parser.add_argument("--people", type=int, help=f"roster rows (default {FULL_PEOPLE:,})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PEOPLE:,} rows")
    parser.add_argument("--child", choices=("update", "empty"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.people is None:
        args.people = QUICK_PEOPLE if args.quick else FULL_PEOPLE
    if not args.db:
        args.db = scratch_sqlite("import")
    return args


# --- the roster file ---------------------------------------------------------------------------


def _bad_check_character(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


def write_roster(path: Path, *, seed: int) -> dict[str, int]:
    """The county's people as a roster .xlsx; returns how many rows of each kind it has."""
    import xlsxwriter

    from fangkong.demo.names import MOBILE_PREFIXES
    from fangkong.people.models import Person, Relation, Sex

    sexes = {Sex.MALE: "男", Sex.FEMALE: "女"}
    relations = {value: str(label) for value, label in Relation.choices}
    relations["head"] = "户主"
    rng = random.Random(f"import-bench:{seed}")
    counts = {"rows": 0, "bad": 0, "changed_phones": 0}
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("花名册")
    sheet.write_string(0, 0, "眉县人口信息登记表")
    for col, text in enumerate(HEADER):
        sheet.write_string(1, col, text)
    rows = Person.objects.order_by("pk").values_list(
        "name",
        "sex",
        "id_number",
        "birth_date",
        "phone",
        "address",
        "division_id",
        "relation_to_head",
    )
    r = 1
    for name, sex, number, birth, phone, address, grid, relation in rows.iterator(chunk_size=5000):
        draw = rng.random()
        if draw < BAD_SHARE:
            counts["bad"] += 1
            kind = int(draw / BAD_SHARE * 4)
            if kind == 0 and number:
                number = _bad_check_character(number)
            elif kind <= 1:
                phone = (phone or "1370000")[:7]
            elif kind == 2:
                grid = grid[:-3] + "999"
            else:
                name = ""
        elif draw < BAD_SHARE + CHANGED_PHONE_SHARE:
            counts["changed_phones"] += 1
            phone = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        r += 1
        counts["rows"] += 1
        cells = (
            str(r - 1),
            name,
            sexes.get(sex, ""),
            number or "",
            birth.isoformat() if birth else "",
            phone,
            address,
            grid,
            relations.get(relation, ""),
        )
        for col, value in enumerate(cells):
            if value:
                sheet.write_string(r, col, value)
    book.close()
    return counts


# --- the child: one timed import -------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    setup_django(args.db)
    from fangkong.imports.actors import SYSTEM_ACTOR
    from fangkong.imports.services import import_job_create, import_job_run

    path = Path(args.file)
    cpu = time.process_time()
    started = time.perf_counter()
    with path.open("rb") as handle:
        job = import_job_create(
            actor=SYSTEM_ACTOR, kind="people", upload=handle, filename=path.name
        )
    created_s = time.perf_counter() - started
    job = import_job_run(actor=SYSTEM_ACTOR, job=job)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    job.file.delete(save=False)
    print(
        json.dumps(
            {
                "status": job.status,
                "rows": job.total_rows,
                "created": job.created,
                "updated": job.updated,
                "unchanged": job.unchanged,
                "errors": job.error_rows,
                "conflicts": job.conflicts,
                "seconds": seconds,
                "cpu_s": cpu,
                "create_s": created_s,
                "peak_mb": peak_mb,
            }
        ),
        flush=True,
    )


def _run_child(args: argparse.Namespace, case: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--db", args.db, "--child", case, "--file", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    if done.stderr.strip():
        note(done.stderr.strip()[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the reference -----------------------------------------------------------------------------


def _wipe_people() -> None:
    """Back to "only the county tree": no people, households, revisions."""
    from django.db import connection, transaction

    from fangkong.people.models import Household, Person, PersonRevision

    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(Household._meta.db_table)} SET head_id = NULL")
        for model in (PersonRevision, Person, Household):
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "VACUUM (ANALYZE) people_person, people_household, people_personrevision"
            )
        else:
            cursor.execute("ANALYZE")


def _read_seconds(path: Path) -> tuple[float, float, int]:
    from python_calamine import CalamineWorkbook

    cpu = time.process_time()
    started = time.perf_counter()
    count = 0
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    for _row in sheet.iter_rows():
        count += 1
    return time.perf_counter() - started, time.process_time() - cpu, count


def _raw_insert_seconds() -> tuple[float, float, int]:
    """The people the empty case created, inserted raw into a clone of people_person."""
    from django.db import connection, transaction
    from seed import RAW_TABLE, _clone_person_table

    from fangkong.people.models import Person

    columns = [f.column for f in Person._meta.concrete_fields]
    column_sql = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column_sql} FROM {Person._meta.db_table} ORDER BY id")
        rows = cursor.fetchall()
    _clone_person_table()
    cpu = time.process_time()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {RAW_TABLE} ({column_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {RAW_TABLE} ({column_sql}) VALUES ({placeholders})", rows
            )
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {RAW_TABLE}")
        inserted = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {RAW_TABLE}")
    return seconds, cpu, inserted


def main() -> None:
    args = _arguments()
    if args.child:
        child(args)
        return
    setup_django(args.db)
    from fangkong.demo.services import demo_seed
    from fangkong.geo.models import Division
    from fangkong.geo.services import division_import_national

    if not Division.objects.filter(code=COUNTY).exists():
        division_import_national(actor=None, county_code=COUNTY)
    note(f"import benchmark: {args.people:,} rows on {vendor()}; seeding the county ...")
    demo_seed(actor=None, county_code=COUNTY, people=args.people, seed=SEED, reset=True)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"roster-{args.people}-{SEED}.xlsx"
    counts = write_roster(path, seed=SEED)
    note(f"roster: {counts['rows']:,} rows, {counts['bad']:,} bad, {path.stat().st_size:,} bytes")

    results = {}
    note("case update: the county already holds these people ...")
    results["update"] = _run_child(args, "update", path)
    _wipe_people()
    note("case empty: only the county tree ...")
    results["empty"] = _run_child(args, "empty", path)

    read_s, read_cpu, read_rows = _read_seconds(path)
    assert read_rows == counts["rows"] + 2, (read_rows, counts)  # + title and header
    raw_s, raw_cpu, raw_rows = _raw_insert_seconds()
    raw_limit = read_s + raw_s
    assert raw_rows == results["empty"]["created"], (raw_rows, results["empty"])
    for case in ("empty", "update"):
        r = results[case]
        ratio = r["seconds"] / raw_limit
        emit(
            {
                "bench": "import_people",
                "case": f"{vendor()}-{case}-{counts['rows']}",
                "db": vendor(),
                "rows": r["rows"],
                "bad_rows": counts["bad"],
                "changed_phones": counts["changed_phones"],
                "status": r["status"],
                "created": r["created"],
                "updated": r["updated"],
                "unchanged": r["unchanged"],
                "errors": r["errors"],
                "conflicts": r["conflicts"],
                "seconds": round(r["seconds"], 3),
                "create_s": round(r["create_s"], 3),
                "rows_per_s": round(r["rows"] / r["seconds"]),
                "peak_mb": round(r["peak_mb"], 1),
                "read_s": round(read_s, 3),
                "raw_insert_s": round(raw_s, 3),
                "raw_limit_s": round(raw_limit, 3),
                "ratio": round(ratio, 2),
                # CPU seconds of this process (SQLite works in-process; PostgreSQL's server
                # time is not in them): steadier than wall time on a busy machine.
                "cpu_s": round(r["cpu_s"], 3),
                "raw_cpu_s": round(read_cpu + raw_cpu, 3),
                "goal": GOAL,
                "met": ratio <= 2 and r["peak_mb"] < 1024,
                "better": "lower",
            }
        )
    path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
