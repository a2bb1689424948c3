"""Shared plumbing for the benchmarks: scratch databases, Django set-up, figures, JSON lines.

Every benchmark prints one JSON object per case on its own line (stdout); progress and notes
go to stderr. A benchmark runs against the database named by --db (a URL); without one it
makes a fresh SQLite file under var/bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
FULL_PEOPLE = 330_000
QUICK_PEOPLE = 33_000
COUNTY = "610326"
SEED = 2020

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in var/bench)")
    parser.add_argument("--people", type=int, help=f"people to seed (default {FULL_PEOPLE:,})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PEOPLE:,} people")
    args = parser.parse_args()
    if args.people is None:
        args.people = QUICK_PEOPLE if args.quick else FULL_PEOPLE
    if not args.db:
        args.db = scratch_sqlite("bench")
    return args


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def emit(figures: dict[str, Any]) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def scratch_sqlite(name: str) -> str:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"{name}-{os.getpid()}-{uuid.uuid4().hex[:6]}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def remove_sqlite(url: str) -> None:
    path = url.removeprefix("sqlite:///")
    for suffix in ("", "-wal", "-shm"):
        Path(f"/{path.lstrip('/')}{suffix}").unlink(missing_ok=True)


def _admin_connection(server_url: str) -> Any:
    import psycopg

    parts = urlsplit(server_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    return psycopg.connect(admin, autocommit=True)


def pg_create(server_url: str) -> str:
    """A new empty database on the server of `server_url`; returns its URL."""
    name = f"fk_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with _admin_connection(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def pg_drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(db_url: str) -> None:
    """Django on the scratch database, migrated. Production-like: DEBUG off."""
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    os.environ["DEBUG"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # WhiteNoise warns when collectstatic has not run; pages render the same without it.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def vendor() -> str:
    from django.db import connection

    return connection.vendor


def ensure_seeded(people: int) -> float | None:
    """Seed the demo county with `people` unless it is already there; returns seconds taken."""
    from fangkong.accounts.models import User
    from fangkong.demo.services import demo_seed
    from fangkong.people.models import Person

    if Person.objects.count() == people and User.objects.filter(username="hq").exists():
        return None
    note(f"seeding {people:,} people on {vendor()} ...")
    started = time.perf_counter()
    demo_seed(actor=None, county_code=COUNTY, people=people, seed=SEED, reset=True)
    return time.perf_counter() - started


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]

    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(pick(0.95), 3),
        "p99_ms": round(pick(0.99), 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


def timed_ms(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000
