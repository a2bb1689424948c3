"""Benchmark: venue check-ins behind gunicorn: the public page against a trivial view, and API
batches of 1,000 against a raw COPY of the same rows.

On the seeded county, 50 places (market, supermarket, restaurant, ...; registered through
`places.services_places.place_create` as the demo's commander `hq`) take check-ins while
gunicorn (2 sync workers, production settings; see _http.py) serves the project on 127.0.0.1.

Case `<db>-checkin-single`: each client connection GETs /v/<code>/ once for the CSRF cookie and
token, then POSTs the one-tap form (name, ID type, ID number, phone, and the per-tap uuid `key`,
fresh for every request) back to back, spread over the 50 places, each request a different
person (valid ID numbers from outside the county). It alternates in slices with GET /healthz (a
Django JSON view running SELECT 1). A success is the answer page (登记成功). The page counts
every tap against a per-IP limit (120 per 10 minutes, not settable from the environment), so
each client sends from its own loopback addresses (127.x.y.z, a new one every 100 requests): the
limiter still runs on every request and never says no. ratio = check-in rps / healthz rps
(higher is better; goal >= 0.3); p50/p99 in ms.

Case `<db>-checkin-batch`: POST /api/v1/checkins {"items": [1,000 rows]} with the Bearer token
of the commander (`accounts.services.token_create`), N batches back to back on one connection
(after two untimed warm-up batches): rows_per_s. Reference: the same rows (read back from
places_checkin) written raw into a scratch clone of places_checkin (same columns, indexes,
constraints, foreign keys) in the same run: COPY (PostgreSQL) or one executemany (SQLite), the
median of three such runs.
ratio = our seconds per row / raw seconds per row (lower is better; goal <= 3).

    .venv/bin/python bench/checkins.py [--quick] [--people N] [--db URL] [--seconds D]
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import random
import re
import time
import urllib.parse
import uuid
from typing import Any

from _common import (
    QUICK_PEOPLE,
    SEED,
    arguments,
    emit,
    ensure_seeded,
    note,
    setup_django,
    vendor,
)
from _http import CLIENTS, GetClient, Server, get, run_interleaved
from selfreport import GIVEN, SURNAMES, _seconds_arg

GOAL_SINGLE = 0.3
GOAL_BATCH = 3.0
SECONDS = 20.0
QUICK_SECONDS = 10.0
PLACES = 50
PLACE_PREFIX = "压测场所"
KINDS = ("market", "supermarket", "restaurant", "pharmacy", "hotel", "enterprise", "school")
BATCH = 1000
BATCHES = 30
QUICK_BATCHES = 10
WARMUP_BATCHES = 2
PER_IP = 100  # requests one loopback address sends (the page allows 120 per 10 minutes)
SLICE_STRIDE = 10_000  # requests one client may send in one slice of the interleaved load
RUNS = 1000  # distinct runs on one database before people repeat
RAW_TABLE = "bench_checkin_raw"
RAW_REPEATS = 3
_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
_AREAS = ("130102", "210102", "370102", "410102", "430102", "450102", "530102", "620102")


def person_id_number(serial: int) -> str:
    """A valid resident ID number from outside the county, distinct for each serial."""
    from fangkong.core.tests.idgen import make_resident_id

    area = _AREAS[serial % len(_AREAS)]
    rest = serial // len(_AREAS)
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(rest // 1000) % 20_000)
    return make_resident_id(area, birth, rest % 1000)


def person(rng: random.Random, serial: int) -> dict[str, str]:
    return {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        "id_type": "resident_id",
        "id_number": person_id_number(serial),
        "phone": f"18{serial % 10**9:09d}",
    }


class CheckinPageClient:
    """Distinct one-tap check-ins for one client process (index set by the fork order)."""

    def __init__(self, *, codes: list[str], run: int) -> None:
        self.codes = codes
        self.run = run
        self.index = -1
        self.slice = 0
        self.cookie = ""
        self.token = ""
        self.conn: http.client.HTTPConnection | None = None
        self.rng = random.Random()

    def setup(self, conn: http.client.HTTPConnection) -> None:
        import multiprocessing

        identity = multiprocessing.current_process()._identity
        self.index = (identity[-1] - 1) if identity else 0
        self.rng = random.Random(
            ((SEED * RUNS + self.run) * CLIENTS + self.index) * 64 + self.slice
        )
        self.conn = conn
        self._source(0)
        path = f"/v/{self.codes[0]}/"
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        cookies = response.headers.get_all("Set-Cookie") or []
        token = next(
            (c.split(";", 1)[0].split("=", 1)[1] for c in cookies if c.startswith("csrftoken=")),
            "",
        )
        match = _TOKEN.search(body)
        if not token or not match:
            raise RuntimeError("no CSRF cookie or token on the check-in page")
        self.cookie = f"csrftoken={token}"
        self.token = match.group(1).decode()

    def next_slice(self) -> None:
        self.slice += 1

    def _serial(self, n: int) -> int:
        return ((self.run * CLIENTS + self.index) * 64 + self.slice) * SLICE_STRIDE + n

    def _source(self, n: int) -> None:
        """Send from 127.x.y.z, a new address every PER_IP requests (see the module doc)."""
        block = self._serial(n) // PER_IP
        address = f"127.{1 + block // 65536 % 254}.{block // 256 % 256}.{1 + block % 254}"
        assert self.conn is not None
        if self.conn.source_address != (address, 0):
            self.conn.close()  # gunicorn's sync worker closed it anyway
            self.conn.source_address = (address, 0)

    def next_request(self, n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        self._source(n)
        serial = self._serial(n)
        code = self.codes[serial % len(self.codes)]
        path = f"/v/{code}/"
        fields = {
            "csrfmiddlewaretoken": self.token,
            **person(self.rng, serial),
            "key": uuid.uuid4().hex,
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": self.cookie,
            "Referer": f"http://127.0.0.1{path}",
        }
        return "POST", path, urllib.parse.urlencode(fields).encode(), headers

    def check(self, status: int, body: bytes) -> bool:
        return status == 200 and "登记成功".encode() in body


def ensure_places(actor: Any) -> list[str]:
    """PLACES places of several kinds across the county's villages; their venue codes."""
    from fangkong.geo.models import Division
    from fangkong.places.models import Place
    from fangkong.places.services_places import place_create

    have = Place.objects.filter(name__startswith=PLACE_PREFIX, active=True).count()
    villages = list(
        Division.objects.filter(level=Division.Level.VILLAGE)
        .order_by("code")
        .values_list("code", flat=True)
    )
    for i in range(have, PLACES):
        place_create(
            actor=actor,
            name=f"{PLACE_PREFIX}{i + 1:02d}",
            kind=KINDS[i % len(KINDS)],
            division_code=villages[i % len(villages)],
            address=f"压测路{i + 1}号",
            person_in_charge="压测负责人",
            contact_phone="13900000000",
        )
    return list(
        Place.objects.filter(name__startswith=PLACE_PREFIX, active=True)
        .order_by("name")
        .values_list("code", flat=True)
    )


def batch_bodies(codes: list[str], *, batches: int, run_key: str) -> list[bytes]:
    """`batches` JSON bodies of BATCH distinct rows each, checked in over the last 6 hours; the
    keys of the first WARMUP_BATCHES (untimed) differ ("w" for "t") so the reference skips them."""
    from fangkong.core.timeutils import now

    rng = random.Random(f"{SEED}-{run_key}")
    moment = now()
    base = 10**9 + int(run_key, 16) % 1000 * 10**6  # other people than the page's
    bodies = []
    for b in range(batches):
        items = []
        for r in range(BATCH):
            serial = base + b * BATCH + r
            at = moment - dt.timedelta(minutes=rng.randrange(10, 360))
            items.append(
                {
                    "place_code": codes[serial % len(codes)],
                    **person(rng, serial),
                    "checked_in_at": at.isoformat(),
                    "idempotency_key": f"bench-{run_key}-{'w' if b < WARMUP_BATCHES else 't'}{b:04d}-{r:04d}",
                }
            )
        bodies.append(json.dumps({"items": items}, ensure_ascii=False).encode())
    return bodies


def post_batches(port: int, token: str, bodies: list[bytes]) -> tuple[float, list[float], int]:
    """POST the bodies one after another on one connection: (seconds, per-batch ms, created)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    created = 0
    per_batch: list[float] = []
    started = time.perf_counter()
    try:
        for body in bodies:
            t = time.perf_counter()
            conn.request("POST", "/api/v1/checkins", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            per_batch.append((time.perf_counter() - t) * 1000)
            if response.status != 201:
                raise RuntimeError(f"batch answered {response.status}: {payload[:300]!r}")
            answer = json.loads(payload)
            if answer["errors"]:
                raise RuntimeError(f"batch rows refused: {answer['errors'][:3]}")
            created += answer["created"]
    finally:
        conn.close()
    return time.perf_counter() - started, per_batch, created


def clone_table(table: str, raw: str) -> None:
    """An empty copy of `table` (same columns, indexes, constraints, foreign keys)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {raw}")
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL"
                " ORDER BY type DESC",
                [table],
            )
            for kind, name, sql in cursor.fetchall():
                if kind == "table":
                    sql = sql.replace(f'CREATE TABLE "{table}"', f'CREATE TABLE "{raw}"', 1)
                else:
                    sql = sql.replace(f'"{name}"', f'"{raw}_{name}"', 1).replace(
                        f'ON "{table}"', f'ON "{raw}"', 1
                    )
                cursor.execute(sql)
        else:
            cursor.execute(f"CREATE TABLE {raw} (LIKE {table} INCLUDING ALL)")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f'ALTER TABLE {raw} ADD CONSTRAINT "{raw}_{name}" {definition}')


def raw_insert_seconds(model: Any, where: str, params: list[Any], raw: str) -> tuple[float, int]:
    """The rows of `model` matching `where`, written raw into a clone: COPY / executemany."""
    from django.db import connection, transaction

    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields]
    column_sql = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column_sql} FROM {table} WHERE {where} ORDER BY id", params)
        rows = cursor.fetchall()
    clone_table(table, raw)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {raw} ({column_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {raw} ({column_sql}) VALUES ({placeholders})", rows)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {raw}")
        inserted = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {raw}")
    return seconds, inserted


def seeded(people: int) -> None:
    """The seeded county: a database already seeded by the demo (`hq` exists) is kept even when
    an earlier benchmark (selfreport.py, passages.py) added people to it."""
    from fangkong.accounts.models import User
    from fangkong.people.models import Person

    if User.objects.filter(username="hq").exists() and Person.objects.count() >= people:
        return
    ensure_seeded(people)


def commander_token() -> tuple[Any, str]:
    """The demo commander `hq` and a new API token of theirs."""
    from fangkong.accounts.models import User
    from fangkong.accounts.services import token_create

    hq = User.objects.get(username="hq", is_active=True)
    _row, raw = token_create(actor=None, user=hq, name="bench")
    return hq, raw


def main() -> None:
    seconds = _seconds_arg()
    args = arguments(__doc__.splitlines()[0])
    quick = args.quick or args.people <= QUICK_PEOPLE
    seconds = seconds or (QUICK_SECONDS if quick else SECONDS)
    batches = QUICK_BATCHES if quick else BATCHES
    setup_django(args.db)
    from django.db import connection

    from fangkong.places.models import CheckIn

    seeded(args.people)
    hq, token = commander_token()
    codes = ensure_places(hq)
    run = random.SystemRandom().randrange(RUNS)
    run_key = uuid.uuid4().hex[:8]
    bodies = batch_bodies(codes, batches=WARMUP_BATCHES + batches, run_key=run_key)
    note(
        f"check-in benchmark on {vendor()}: {len(codes)} places, {seconds:g} s per page case,"
        f" {batches} batches of {BATCH:,}"
    )
    client = CheckinPageClient(codes=codes, run=run)
    with Server(args.db) as server:
        status, _ = get(server.port, f"/v/{codes[0]}/")
        if status != 200:
            raise RuntimeError(f"GET /v/{codes[0]}/ answered {status}")
        note("load: GET /healthz and POST /v/<code>/, alternating in slices")
        trivial, ours = run_interleaved(server.port, GetClient("/healthz"), client, seconds=seconds)
        note(f"  healthz {trivial.rps:.0f} rps, p99 {trivial.latency['p99_ms']} ms")
        note(
            f"  check-in {ours.rps:.0f} rps, p99 {ours.latency['p99_ms']} ms, {ours.errors} errors"
        )
        note(f"batches: {WARMUP_BATCHES} warm-up, then {batches} timed")
        post_batches(server.port, token, bodies[:WARMUP_BATCHES])
        api_s, per_batch, created = post_batches(server.port, token, bodies[WARMUP_BATCHES:])
    ratio = ours.rps / trivial.rps
    figures: dict[str, Any] = {
        "bench": "checkins",
        "case": f"{connection.vendor}-checkin-single",
        "db": connection.vendor,
        "workers": 2,
        "clients": CLIENTS,
        "seconds": seconds,
        **ours.figures(),
        "statuses": {str(k): v for k, v in sorted(ours.statuses.items())},
        **trivial.figures("trivial_"),
        "ratio": round(ratio, 3),
        "goal": f"ratio >= {GOAL_SINGLE:g}",
        "better": "higher",
        "met": ratio >= GOAL_SINGLE and ours.errors <= ours.requests * 0.01,
    }
    if ours.errors or trivial.errors:
        figures["note"] = (
            f"{ours.errors} check-in and {trivial.errors} healthz answers were errors"
            f" (statuses {dict(ours.statuses)})"
        )
        for sample in ours.error_samples + trivial.error_samples:
            note(f"error: {sample}")
    emit(figures)

    # The raw reference is one short write, so one sample of it is at the mercy of the
    # machine's noise: the median of RAW_REPEATS runs (each into a fresh clone).
    raw_runs = sorted(
        raw_insert_seconds(CheckIn, "idempotency_key LIKE %s", [f"bench-{run_key}-t%"], RAW_TABLE)
        for _ in range(RAW_REPEATS)
    )
    raw_s, raw_rows = raw_runs[len(raw_runs) // 2]
    note(f"  API {created:,} rows in {api_s:.2f} s; raw {raw_rows:,} rows in {raw_s:.3f} s")
    ours_per_row = api_s / created
    raw_per_row = raw_s / raw_rows
    batch_ratio = ours_per_row / raw_per_row
    ordered = sorted(per_batch)
    emit(
        {
            "bench": "checkins",
            "case": f"{connection.vendor}-checkin-batch",
            "db": connection.vendor,
            "batches": batches,
            "batch_rows": BATCH,
            "rows": created,
            "seconds": round(api_s, 3),
            "rows_per_s": round(created / api_s, 1),
            "batch_p50_ms": round(ordered[len(ordered) // 2], 1),
            "batch_max_ms": round(ordered[-1], 1),
            "raw": "copy" if connection.vendor == "postgresql" else "executemany",
            "raw_rows": raw_rows,
            "raw_seconds": round(raw_s, 4),
            "raw_rows_per_s": round(raw_rows / raw_s, 1),
            "ratio": round(batch_ratio, 3),
            "goal": f"ratio <= {GOAL_BATCH:g}",
            "better": "lower",
            "met": batch_ratio <= GOAL_BATCH and created == batches * BATCH,
        }
    )


if __name__ == "__main__":
    main()
