"""Benchmark: public self-report submissions behind gunicorn, against a trivial view (ratio >= 0.3).

On the seeded county, with the demo's policy set-up (9th edition in force, a high-risk area),
gunicorn (2 sync workers, production settings; see _http.py) serves the project on 127.0.0.1.
GET /healthz (a Django JSON view running SELECT 1) and the self-report page are loaded for D
seconds each, in alternating slices (so that the background load of a shared machine falls on
both alike): each client connection GETs /r/<village>/ once for the CSRF
cookie and token, then POSTs valid, distinct submissions back to back: returning residents
(their real ID number, name and phone, matched to the person) and visitors (new valid ID
numbers from elsewhere, a person is created), ~15% from the high-risk area (a measure is
proposed), all with a loop task for the destination grid's worker. An answer counts as a
success when it is the receipt page (2xx/3xx and no form errors).

ratio = self-report rps / healthz rps (higher is better; goal >= 0.3). p50/p99 in ms.

The page stores the submission and answers; the loop worker registers it (person, rule
lookup, measure, inbox task) in batches. A second case times that registration of everything
the load left pending, as `fangkong loop_worker` does (self_reports_process until none left):
rows_per_s, and ratio = rows_per_s / the page's rps (goal >= 1: one worker keeps up with two
web workers at full load, so the backlog never grows).

    .venv/bin/python bench/selfreport.py [--quick] [--people N] [--db URL] [--seconds D]
"""

from __future__ import annotations

import datetime as dt
import http.client
import random
import re
import sys
import urllib.parse
from typing import Any

from _common import (
    COUNTY,
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

GOAL = 0.3
SECONDS = 20.0
QUICK_SECONDS = 10.0
HIGH_RISK_SHARE = 0.15
RESIDENT_SHARE = 0.6
PER_CLIENT = 100_000  # requests one client may send at most (distinct submissions)
SLICE_STRIDE = 10_000  # requests one client may send in one slice of the interleaved load
RUNS = 100  # distinct runs on one database before visitors' ID numbers repeat
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华建国平"
_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _seconds_arg() -> float | None:
    if "--seconds" in sys.argv:
        index = sys.argv.index("--seconds")
        value = float(sys.argv[index + 1])
        del sys.argv[index : index + 2]
        return value
    return None


class SelfReportClient:
    """Distinct valid submissions for one client process (index set by the fork order)."""

    def __init__(
        self,
        *,
        path: str,
        residents: list[list[tuple[str, str, str, str, str]]],
        origins: list[str],
        high_risk: str,
        grids: list[str],
        today: dt.date,
        run: int,
    ) -> None:
        self.path = path
        self.run = run  # 0..RUNS-1: a rerun on the same database sends other trips
        self.residents = residents  # per client: (id_number, name, phone, grid, address)
        self.origins = origins
        self.high_risk = high_risk
        self.grids = grids
        self.today = today
        self.index = -1
        self.slice = 0  # run_interleaved runs the load in slices: each sends other trips
        self.cookie = ""
        self.token = ""
        self.rng = random.Random()

    def setup(self, conn: http.client.HTTPConnection) -> None:
        import multiprocessing

        identity = multiprocessing.current_process()._identity
        self.index = (identity[-1] - 1) if identity else 0
        self.rng = random.Random(
            ((SEED * RUNS + self.run) * CLIENTS + self.index) * 64 + self.slice
        )
        conn.request("GET", self.path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {self.path}: {response.status}")
        cookies = response.headers.get_all("Set-Cookie") or []
        token = next(
            (c.split(";", 1)[0].split("=", 1)[1] for c in cookies if c.startswith("csrftoken=")),
            "",
        )
        match = _TOKEN.search(body)
        if not token or not match:
            raise RuntimeError("no CSRF cookie or token on the self-report page")
        self.cookie = f"csrftoken={token}"
        self.token = match.group(1).decode()

    def next_slice(self) -> None:
        self.slice += 1

    def submission(self, n: int) -> dict[str, str]:
        n += self.slice * SLICE_STRIDE
        rng = self.rng
        mine = self.residents[self.index % len(self.residents)]
        if n < len(mine) and rng.random() < RESIDENT_SHARE:
            id_number, name, phone, grid, address = mine[n]
        else:
            serial = (self.run * CLIENTS + self.index) * PER_CLIENT + n % PER_CLIENT
            id_number = _visitor_id(serial)
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            phone = f"199{serial % 10**8:08d}"
            grid = rng.choice(self.grids)
            address = f"{rng.randrange(1, 60)}号"
        origin = self.high_risk if rng.random() < HIGH_RISK_SHARE else rng.choice(self.origins)
        left_on = self.today - dt.timedelta(days=rng.randrange(0, 6))
        arrived_on = min(self.today, left_on + dt.timedelta(days=rng.choice((0, 0, 1))))
        transport, vehicle = rng.choice(
            (
                ("car", f"陕C{rng.randrange(10000, 99999)}"),
                ("train", f"G{rng.randrange(1, 9999)}"),
                ("flight", f"MU{rng.randrange(1000, 9999)}"),
                ("bus", ""),
            )
        )
        return {
            "name": name,
            "id_type": "resident_id",
            "id_number": id_number,
            "phone": phone,
            "origin_code": origin,
            "origin_address": "",
            "left_on": left_on.isoformat(),
            "arrived_on": arrived_on.isoformat(),
            "transport": transport,
            "vehicle_no": vehicle,
            "destination_code": grid,
            "destination_address": address,
        }

    def next_request(self, n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        fields = {"csrfmiddlewaretoken": self.token, **self.submission(n)}
        body = urllib.parse.urlencode(fields).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": self.cookie,
            "Referer": f"http://127.0.0.1{self.path}",
        }
        return "POST", self.path, body, headers

    def check(self, status: int, body: bytes) -> bool:
        """Success: the receipt page (the form again means a validation error)."""
        return 200 <= status < 300 and b'id="receipt-code"' in body


def _visitor_id(serial: int) -> str:
    """A valid resident ID number from outside the county, distinct for each serial."""
    from fangkong.core.tests.idgen import make_resident_id

    areas = ("110105", "310115", "440106", "330106", "510107", "320102", "420106", "500103")
    area = areas[serial % len(areas)]
    rest = serial // len(areas)
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rest // 1000)
    return make_resident_id(area, birth, rest % 1000)


def main() -> None:
    seconds = _seconds_arg()
    args = arguments(__doc__.splitlines()[0])
    # run.py passes --people, not --quick: a quick-sized county gets the quick duration.
    quick = args.quick or args.people <= QUICK_PEOPLE
    seconds = seconds or (QUICK_SECONDS if quick else SECONDS)
    setup_django(args.db)
    from django.db import connection
    from django.db.models import Count
    from django.urls import reverse

    from fangkong.core.timeutils import local_today
    from fangkong.demo.services import DEMO_RISK_AREAS, demo_policy_setup, demo_risk_areas
    from fangkong.geo.models import Division, Region
    from fangkong.people.models import Person

    ensure_seeded(args.people)
    demo_policy_setup(actor=None, county_code=COUNTY)
    demo_risk_areas(actor=None, county_code=COUNTY)
    high_risk = next(code for level, code, *_ in DEMO_RISK_AREAS if level == "high")
    rng = random.Random(SEED)
    # The QR page of the village with the most residents (the most returning residents).
    busiest = (
        Person.objects.values("division__parent")
        .annotate(n=Count("pk"))
        .order_by("-n", "division__parent")
        .first()
    )
    village = Division.objects.get(code=busiest["division__parent"])
    grids = list(
        Division.objects.filter(parent=village, level=Division.Level.GRID).values_list(
            "code", flat=True
        )
    )
    residents = list(
        Person.objects.filter(division__parent=village)
        .exclude(id_number=None)
        .exclude(phone="")
        .order_by("pk")
        .values_list("id_number", "name", "phone", "division_id", "address")
    )
    rng.shuffle(residents)
    per_client = [residents[i::CLIENTS] for i in range(CLIENTS)]
    counties = list(
        Region.objects.filter(level=Region.Level.COUNTY)
        .exclude(code__startswith=COUNTY[:4])
        .exclude(code=high_risk)
        .order_by("code")
        .values_list("code", flat=True)
    )
    origins = rng.sample(counties, min(400, len(counties)))
    path = reverse("selfreport:form", kwargs={"code": village.code})
    today = local_today()
    client = SelfReportClient(
        path=path,
        residents=per_client,
        origins=origins,
        high_risk=high_risk,
        grids=grids,
        today=today,
        run=random.SystemRandom().randrange(RUNS),
    )
    note(
        f"self-report benchmark on {vendor()}: {path}, {len(residents):,} residents of the"
        f" village, {seconds:g} s per case"
    )
    with Server(args.db) as server:
        status, _ = get(server.port, path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        note(f"load: GET /healthz and POST {path}, alternating in slices")
        trivial, ours = run_interleaved(server.port, GetClient("/healthz"), client, seconds=seconds)
        note(f"  healthz {trivial.rps:.0f} rps, p99 {trivial.latency['p99_ms']} ms")
        note(
            f"  self-report {ours.rps:.0f} rps, p99 {ours.latency['p99_ms']} ms, {ours.errors} errors"
        )
    ratio = ours.rps / trivial.rps
    figures: dict[str, Any] = {
        "bench": "selfreport",
        "case": f"{connection.vendor}-selfreport",
        "db": connection.vendor,
        "workers": 2,
        "clients": CLIENTS,
        "seconds": seconds,
        **ours.figures(),
        "statuses": {str(k): v for k, v in sorted(ours.statuses.items())},
        **trivial.figures("trivial_"),
        "ratio": round(ratio, 3),
        "goal": f"ratio >= {GOAL:g}",
        "better": "higher",
        # Errors answer fast and would flatter the rps: more than 1% of them fails the goal.
        "met": ratio >= GOAL and ours.errors <= ours.requests * 0.01,
    }
    if ours.errors or trivial.errors:
        figures["note"] = (
            f"{ours.errors} self-report and {trivial.errors} healthz answers were errors"
            f" (statuses {dict(ours.statuses)})"
        )
        for sample in ours.error_samples + trivial.error_samples:
            note(f"error: {sample}")
    emit(figures)

    import time

    from fangkong.travel.models import SelfReport
    from fangkong.travel.services import self_reports_process

    pending = SelfReport.objects.filter(status=SelfReport.Status.PENDING).count()
    note(f"registering the {pending:,} pending submissions as the loop worker does")
    started = time.perf_counter()
    done = failed = 0
    while True:
        counts = self_reports_process(actor=None)
        if not counts["done"] + counts["failed"]:
            break
        done += counts["done"]
        failed += counts["failed"]
    seconds_taken = time.perf_counter() - started
    rows_per_s = done / seconds_taken if seconds_taken else 0.0
    worker_ratio = rows_per_s / ours.rps if ours.rps else 0.0
    emit(
        {
            "bench": "selfreport",
            "case": f"{connection.vendor}-selfreport-registration",
            "db": connection.vendor,
            "rows": done,
            "failed": failed,
            "seconds": round(seconds_taken, 3),
            "rows_per_s": round(rows_per_s, 1),
            "page_rps": round(ours.rps, 1),
            "ratio": round(worker_ratio, 3),
            "goal": "ratio >= 1",
            "better": "higher",
            "met": worker_ratio >= 1 and failed == 0,
        }
    )


if __name__ == "__main__":
    main()
