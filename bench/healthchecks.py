"""Benchmark: the morning of a busy day: 20,000 people under measures, health checks through the
API behind gunicorn, and the two pages that must stay fast (the grid worker's daily list, the
sites' occupancy page).

Set-up, on the seeded county (the demo's policy set-up): ORDERS people get an active control
order (written directly, a fixture of this benchmark: one third in a centralized phase, in
rooms of SITES quarantine sites, the rest in home health monitoring), all covering today. Today's
checks and alerts of these orders from an earlier run are deleted first.

Case `<db>-healthcheck-single`: each client connection POSTs /api/v1/health-checks
{order_id, slot, temperature} with the commander's Bearer token, each request a different order
and slot (no duplicates), alternating in slices with GET /healthz (a Django JSON view running
SELECT 1) on 2 gunicorn workers. A success is a 201. Figures: rps, p50/p99 and
checks_per_hour = rps x 3600. Goal: the county's 20,000 morning checks fit in one hour
(checks_per_hour >= ORDERS) with p99 under a second; ratio = rps / healthz rps (for the record:
higher is better).

Cases `<db>-home-list` and `<db>-occupancy`: GET /quarantine/home/ as the grid worker with the
most people at home in their grids, and GET /quarantine/ (every site's occupancy today and the
14-day forecast) and one site's own page as the commander, through Django's test Client, RUNS
times after WARMUP: p50/p95/p99. Goal p95 < 200 ms; ratio = page p50 / GET /healthz p50 through
the same client.

    .venv/bin/python bench/healthchecks.py [--quick] [--people N] [--db URL] [--seconds D]
"""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

from _common import QUICK_PEOPLE, SEED, arguments, emit, note, percentiles, setup_django, timed_ms
from _http import CLIENTS, GetClient, Server, run_interleaved
from checkins import commander_token, seeded
from selfreport import _seconds_arg

ORDERS = 20_000
SITES = 30
SECONDS = 20.0
QUICK_SECONDS = 6.0
RUNS = 20
WARMUP = 3
PAGE_GOAL_MS = 200.0
SITE_PREFIX = "压测隔离点"
NOTE = "压测"
STRIDE = 2000  # requests one client makes in one slice, at most


class CheckClient:
    """Distinct (order, slot) pairs per client process (index set by the fork order)."""

    def __init__(self, *, orders: list[int], token: str) -> None:
        self.orders = orders
        self.token = token
        self.index = 0
        self.slice = 0
        self.rng = random.Random()

    def setup(self, conn: Any) -> None:
        import multiprocessing

        identity = multiprocessing.current_process()._identity
        self.index = (identity[-1] - 1) if identity else 0
        self.rng = random.Random(SEED * 1000 + self.index * 64 + self.slice)

    def next_slice(self) -> None:
        self.slice += 1

    def next_request(self, n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        # The (order, slot) pairs are numbered 0 .. 2 x orders; each client takes every
        # CLIENTS-th, each slice (5 per case) its own STRIDE of them: never the same pair twice.
        serial = (self.slice * STRIDE + n) * CLIENTS + self.index
        pair = serial % (2 * len(self.orders))
        order = self.orders[pair % len(self.orders)]
        slot = "am" if pair < len(self.orders) else "pm"
        body = {
            "order_id": order,
            "slot": slot,
            "temperature": f"{self.rng.choice((36.2, 36.4, 36.5, 36.6, 36.8)):.1f}",
        }
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        return "POST", "/api/v1/health-checks", json.dumps(body).encode(), headers

    def check(self, status: int, body: bytes) -> bool:
        return status == 201


def ensure_orders(count: int) -> tuple[list[int], int]:
    """`count` active orders covering today (a third in rooms of SITES sites); their ids and the
    site whose page is timed. Rebuilt on every run."""
    from django.db import transaction

    from fangkong.control.models import ControlOrder, OrderStatus, SourceType
    from fangkong.core.timeutils import local_today, now
    from fangkong.geo.models import Division
    from fangkong.people.models import Person
    from fangkong.policy.models import PolicyEdition
    from fangkong.quarantine.models import (
        Alert,
        HealthCheck,
        HealthLink,
        Room,
        SamplingTask,
        Site,
        Stay,
    )

    today = local_today()
    start = today - dt.timedelta(days=2)

    def phases(kind: str) -> list[dict[str, Any]]:
        return [
            {
                "kind": kind,
                "days": 7,
                "start": start.isoformat(),
                "end": (start + dt.timedelta(days=6)).isoformat(),
                "test_days": [],
            }
        ]

    with transaction.atomic():
        # Rebuilt on every run: the orders of an earlier run and what hangs on them go first.
        old = ControlOrder.objects.filter(note=NOTE)
        for model in (Alert, HealthCheck, SamplingTask, HealthLink, Stay):
            model.objects.filter(order__in=old).delete()
        old.delete()
        edition = PolicyEdition.objects.order_by("-issued_on").first()
        taken = ControlOrder.objects.filter(status__in=("active", "phase_changed"))
        free = list(
            Person.objects.exclude(pk__in=taken.values("person_id"))
            .filter(division__isnull=False)
            .order_by("pk")
            .values_list("pk", "division_id")
        )
        # Spread over the whole county, as an outbreak's measures are: every grid has some.
        people = sorted(random.Random(SEED).sample(free, min(count, len(free))))
        ControlOrder.objects.bulk_create(
            [
                ControlOrder(
                    person_id=pk,
                    division_id=division,
                    category="close_contact",
                    edition=edition,
                    counts_from="last_exposure",
                    anchor_date=start - dt.timedelta(days=1),
                    start_date=start,
                    end_date=start + dt.timedelta(days=6),
                    phases=phases("centralized" if i % 3 == 0 else "home_monitoring"),
                    status=OrderStatus.ACTIVE,
                    source_type=SourceType.MANUAL,
                    note=NOTE,
                )
                for i, (pk, division) in enumerate(people)
            ],
            batch_size=2000,
        )
        orders = list(
            ControlOrder.objects.filter(note=NOTE).order_by("pk").values_list("pk", flat=True)
        )
        sites = list(Site.objects.filter(name__startswith=SITE_PREFIX).order_by("pk"))
        if not sites:
            town = Division.objects.filter(level=Division.Level.TOWN).order_by("code").first()
            sites = Site.objects.bulk_create(
                [
                    Site(
                        name=f"{SITE_PREFIX}{i + 1}",
                        kind=Site.Kind.HOTEL,
                        division=town,
                        address=f"压测路{i + 1}号",
                        manager_name="压测负责人",
                        manager_phone="13900000000",
                    )
                    for i in range(SITES)
                ]
            )
            sites = list(Site.objects.filter(name__startswith=SITE_PREFIX).order_by("pk"))
        central = [pk for i, pk in enumerate(orders) if i % 3 == 0]
        per_site = -(-len(central) // len(sites))
        if Room.objects.filter(site__in=sites).count() < len(central):
            Room.objects.filter(site__in=sites).delete()
            Room.objects.bulk_create(
                [
                    Room(
                        site=site,
                        number=f"{r + 1:04d}",
                        floor=r // 40 + 1,
                        capacity=1,
                        status=Room.Status.FREE,
                    )
                    for site in sites
                    for r in range(per_site + 20)
                ],
                batch_size=5000,
            )
        # The stays of this run's orders, one room each.
        rooms: dict[int, list[int]] = {}
        for pk, site in (
            Room.objects.filter(site__in=sites).order_by("pk").values_list("pk", "site_id")
        ):
            rooms.setdefault(site, []).append(pk)
        person_of = dict(ControlOrder.objects.filter(pk__in=central).values_list("pk", "person_id"))
        moment = now()
        stays = []
        for i, order in enumerate(central):
            site = sites[i % len(sites)]
            stays.append(
                Stay(
                    order_id=order,
                    person_id=person_of[order],
                    site=site,
                    room_id=rooms[site.pk][i // len(sites)],
                    checked_in_at=moment,
                )
            )
        Stay.objects.bulk_create(stays, batch_size=5000)
        taken = Stay.objects.filter(site__in=sites, checked_out_at__isnull=True).values("room_id")
        Room.objects.filter(site__in=sites, pk__in=taken).update(status=Room.Status.OCCUPIED)
        Room.objects.filter(site__in=sites).exclude(pk__in=taken).update(status=Room.Status.FREE)
    # Fresh statistics for the planner, as autovacuum keeps them on a live server.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return orders, sites[0].pk


def page_case(
    client: Any, path: str, *, case: str, healthz: dict[str, float], extra: dict[str, Any]
) -> None:
    from django.db import connection

    statuses: set[int] = set()
    for _ in range(WARMUP):
        statuses.add(client.get(path).status_code)
    samples = [timed_ms(lambda: statuses.add(client.get(path).status_code)) for _ in range(RUNS)]
    figures = percentiles(samples)
    note(f"  {path}: p95 {figures['p95_ms']} ms, statuses {sorted(statuses)}")
    emit(
        {
            "bench": "healthchecks",
            "case": f"{connection.vendor}-{case}",
            "db": connection.vendor,
            "path": path,
            **extra,
            "runs": RUNS,
            "status": max(statuses),
            **figures,
            "healthz_p50_ms": healthz["p50_ms"],
            "ratio": round(figures["p50_ms"] / healthz["p50_ms"], 2),
            "goal": f"p95_ms < {PAGE_GOAL_MS:g}",
            "better": "lower",
            "met": figures["p95_ms"] < PAGE_GOAL_MS and statuses == {200},
        }
    )


def main() -> None:
    seconds = _seconds_arg()
    args = arguments(__doc__.splitlines()[0])
    quick = args.quick or args.people <= QUICK_PEOPLE  # bench/run.py passes --people
    seconds = seconds or (QUICK_SECONDS if quick else SECONDS)
    setup_django(args.db)
    from django.db import connection
    from django.test import Client

    from fangkong.accounts.models import GridWorker
    from fangkong.control.models import ControlOrder
    from fangkong.demo.services import demo_policy_setup

    seeded(args.people)
    demo_policy_setup(actor=None, county_code="610326")
    note(f"health-check benchmark on {connection.vendor}: {ORDERS:,} orders, {SITES} sites")
    orders, site_id = ensure_orders(ORDERS)
    hq, token = commander_token()

    with Server(args.db) as server:
        note("load: GET /healthz and POST /api/v1/health-checks, alternating")
        trivial, ours = run_interleaved(
            server.port,
            GetClient("/healthz"),
            CheckClient(orders=orders, token=token),
            seconds=seconds,
        )
        note(f"  healthz {trivial.rps:.0f} rps; checks {ours.rps:.0f} rps, {ours.errors} errors")
    per_hour = ours.rps * 3600
    p99 = ours.latency["p99_ms"]
    figures: dict[str, Any] = {
        "bench": "healthchecks",
        "case": f"{connection.vendor}-healthcheck-single",
        "db": connection.vendor,
        "orders": len(orders),
        "workers": 2,
        "clients": CLIENTS,
        "seconds": seconds,
        **ours.figures(),
        "checks_per_hour": round(per_hour),
        "statuses": {str(k): v for k, v in sorted(ours.statuses.items())},
        **trivial.figures("trivial_"),
        "ratio": round(ours.rps / trivial.rps, 3),
        "goal": f"checks_per_hour >= {ORDERS} and p99_ms < 1000",
        "better": "higher",
        "met": per_hour >= ORDERS and p99 < 1000 and ours.errors <= ours.requests * 0.01,
    }
    if ours.errors:
        figures["note"] = f"{ours.errors} errors (statuses {dict(ours.statuses)})"
        for sample in ours.error_samples:
            note(f"error: {sample}")
    emit(figures)

    # The pages, in-process through Django's test client.
    from collections import Counter

    home = [pk for i, pk in enumerate(orders) if i % 3 != 0]
    by_grid = Counter(
        ControlOrder.objects.filter(pk__in=home[:5000]).values_list("division_id", flat=True)
    )
    workers = GridWorker.objects.filter(user__isnull=False, active=True).prefetch_related("grids")
    worker = max(
        workers, key=lambda w: sum(by_grid.get(g.code, 0) for g in w.grids.all()), default=None
    )
    client = Client()
    health = [timed_ms(lambda: client.get("/healthz")) for _ in range(RUNS)]
    healthz = percentiles(health)
    note("pages: the grid worker's daily list, the occupancy page, a site's page")
    if worker is not None:
        client.force_login(worker.user)
        at_home = ControlOrder.objects.filter(
            pk__in=orders, division_id__in=worker.grids.values("code")
        ).count()
        page_case(
            client,
            "/quarantine/home/",
            case="home-list",
            healthz=healthz,
            extra={"orders_in_grids": at_home},
        )
    client.force_login(hq)
    page_case(client, "/quarantine/", case="occupancy", healthz=healthz, extra={"sites": SITES})
    page_case(
        client,
        f"/quarantine/sites/{site_id}/",
        case="site-page",
        healthz=healthz,
        extra={"site_id": site_id},
    )


if __name__ == "__main__":
    main()
