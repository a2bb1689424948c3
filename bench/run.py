"""Run every benchmark on SQLite, and on PostgreSQL when a server is given.

    .venv/bin/python bench/run.py [--quick] [--pg URL] [--people N] [--keep]

--quick seeds 33,000 people instead of 330,000. --pg (or BENCH_PG_URL) names a PostgreSQL
server (e.g. postgres://postgres@127.0.0.1:5432/postgres): a scratch database is created on it
and dropped at the end. Each benchmark prints one JSON line per case on stdout; this script
passes them through and exits non-zero if a benchmark failed to run (a missed goal is a figure,
not a failure).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    FULL_PEOPLE,
    QUICK_PEOPLE,
    note,
    pg_create,
    pg_drop,
    remove_sqlite,
    scratch_sqlite,
)

HERE = Path(__file__).resolve().parent
# search, coverage, sweep and selfreport reuse the seeded DB (sweep removes what it adds;
# selfreport adds arrivals and people, so it comes after the others that count on the seed;
# checkins and passages add places, checkpoints, check-ins, passages and arrivals, so they come
# after it); healthchecks rebuilds its own orders (note 压测), sites and stays on the seed;
# companions adds its own places (codes B…) and a bulk of check-ins at them, and
# reads nothing else; import_people re-seeds it and runs last.
SCRIPTS = (
    "seed.py",
    "search.py",
    "coverage.py",
    "sweep.py",
    "selfreport.py",
    "checkins.py",
    "passages.py",
    "healthchecks.py",
    "companions.py",
    "import_people.py",
)


def main() -> int:
    parser = argparse.ArgumentParser(description="Fangkong benchmarks")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PEOPLE:,} people")
    parser.add_argument("--people", type=int, help="people to seed (overrides --quick)")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL"), help="PostgreSQL URL")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args()
    people = args.people or (QUICK_PEOPLE if args.quick else FULL_PEOPLE)

    targets: list[tuple[str, str]] = [("sqlite", scratch_sqlite("run"))]
    if args.pg:
        targets.append(("postgresql", pg_create(args.pg)))
    else:
        note("SKIPPED: PostgreSQL (no --pg URL and no BENCH_PG_URL)")

    failures = 0
    started = time.perf_counter()
    try:
        for label, url in targets:
            for script in SCRIPTS:
                note(f"== {script} on {label} ({people:,} people) ==")
                done = subprocess.run(
                    [sys.executable, str(HERE / script), "--db", url, "--people", str(people)],
                    check=False,
                )
                if done.returncode != 0:
                    failures += 1
                    note(f"FAILED: {script} on {label} (exit {done.returncode})")
    finally:
        if not args.keep:
            for label, url in targets:
                if label == "sqlite":
                    remove_sqlite(url)
                else:
                    pg_drop(url)
    note(f"benchmarks done in {time.perf_counter() - started:.0f} s, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
