"""Benchmark: checkpoint passages with three occupants through the API behind gunicorn, against a
trivial view (ratio >= 0.3).

On the seeded county, with the demo's policy set-up and risk areas (as selfreport.py), five
checkpoints (registered through `travel.services_checkpoints.checkpoint_create` as the demo's
commander `hq`) take passages while gunicorn (2 sync workers, production settings; see
_http.py) serves the project on 127.0.0.1. Each client connection POSTs
/api/v1/checkpoints/{id}/passages with the commander's Bearer token
(`accounts.services.token_create`) back to back: a car coming in (a distinct valid plate), three
occupants (distinct valid ID numbers from outside the county, names, phones, temperatures), a
destination grid of the county, a distinct idempotency key per request; ~10% come from the
demo's high-risk area, so their three occupants are flagged (and become arrivals through the
loop worker, below). It alternates in slices with GET /healthz (a Django
JSON view running SELECT 1). A success is a 201. At the end the benchmark's passages are deleted
(they hold the small grids the demo's re-seed removes); the arrivals they made stay.

ratio = passage rps / healthz rps (higher is better; goal >= 0.3); p50/p99 in ms; also
occupants_per_s (three per passage).

The barrier flags and answers; the loop worker hands the flagged occupants to the loop (arrival,
measure proposed, the grid worker's task). Case `<db>-passage-handover` times that hand-over
of everything the load left pending, as `fangkong loop_worker` does (passages_process until
none is left): passages_per_s, and ratio = passages_per_s / the flagged passages per second
the load produced (goal >= 1: one worker keeps up with two web workers at full load).

    .venv/bin/python bench/passages.py [--quick] [--people N] [--db URL] [--seconds D]
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from _common import COUNTY, QUICK_PEOPLE, SEED, arguments, emit, note, setup_django
from _http import CLIENTS, GetClient, Server, run_interleaved
from checkins import commander_token, person, seeded
from selfreport import _seconds_arg

GOAL = 0.3
SECONDS = 20.0
QUICK_SECONDS = 10.0
OCCUPANTS = 3
HIGH_RISK_SHARE = 0.10
CHECKPOINTS = 5
CHECKPOINT_PREFIX = "压测卡口"
SLICE_STRIDE = 10_000
RUNS = 1000
PROVINCES = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"
# Other people than checkins.py's page (serials below 10**9) and batches (10**9 and up).
SERIAL_BASE = 3 * 10**9


def plate(serial: int) -> str:
    """A valid ordinary plate (province, letter, five digits), distinct for each serial."""
    rest, digits = divmod(serial, 100_000)
    rest, letter = divmod(rest, len(LETTERS))
    return f"{PROVINCES[rest % len(PROVINCES)]}{LETTERS[letter]}{digits:05d}"


class PassageClient:
    """Distinct passages for one client process (index set by the fork order)."""

    def __init__(
        self,
        *,
        checkpoints: list[int],
        token: str,
        origins: list[str],
        high_risk: str,
        grids: list[str],
        run: int,
    ) -> None:
        self.checkpoints = checkpoints
        self.token = token
        self.origins = origins
        self.high_risk = high_risk
        self.grids = grids
        self.run = run
        self.index = -1
        self.slice = 0
        self.rng = random.Random()

    def setup(self, conn: Any) -> None:
        import multiprocessing

        identity = multiprocessing.current_process()._identity
        self.index = (identity[-1] - 1) if identity else 0
        self.rng = random.Random(
            ((SEED * RUNS + self.run) * CLIENTS + self.index) * 64 + self.slice
        )

    def next_slice(self) -> None:
        self.slice += 1

    def next_request(self, n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        rng = self.rng
        serial = ((self.run * CLIENTS + self.index) * 64 + self.slice) * SLICE_STRIDE + n
        occupants = []
        for k in range(OCCUPANTS):
            occupant = person(rng, SERIAL_BASE + serial * OCCUPANTS + k)
            occupant["temperature"] = f"{rng.choice((36.1, 36.3, 36.5, 36.6, 36.8)):.1f}"
            occupants.append(occupant)
        origin = self.high_risk if rng.random() < HIGH_RISK_SHARE else rng.choice(self.origins)
        body = {
            "direction": "in",
            "plate": plate(serial),
            "vehicle_type": "小型汽车",
            "origin_code": origin,
            "destination_code": rng.choice(self.grids),
            "destination_address": f"{rng.randrange(1, 60)}号",
            "purpose": "探亲",
            "occupants": occupants,
            "idempotency_key": uuid.uuid4().hex,
        }
        checkpoint = self.checkpoints[serial % len(self.checkpoints)]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        path = f"/api/v1/checkpoints/{checkpoint}/passages"
        return "POST", path, json.dumps(body, ensure_ascii=False).encode(), headers

    def check(self, status: int, body: bytes) -> bool:
        return status == 201


def ensure_checkpoints(actor: Any) -> list[int]:
    """CHECKPOINTS checkpoints in the county's towns; their ids."""
    from fangkong.geo.models import Division
    from fangkong.travel.models import Checkpoint
    from fangkong.travel.services_checkpoints import checkpoint_create

    qs = Checkpoint.objects.filter(name__startswith=CHECKPOINT_PREFIX)
    towns = list(
        Division.objects.filter(level=Division.Level.TOWN, code__startswith=COUNTY)
        .order_by("code")
        .values_list("code", flat=True)
    )
    kinds = Checkpoint.Kind.values
    for i in range(qs.count(), CHECKPOINTS):
        checkpoint_create(
            actor=actor,
            data={
                "name": f"{CHECKPOINT_PREFIX}{i + 1}",
                "kind": kinds[i % len(kinds)],
                "division_code": towns[i % len(towns)],
                "location": f"压测路口{i + 1}",
                "responsible_unit": "县交通运输局",
                "leader_name": "压测领导",
                "leader_phone": "13900000000",
            },
        )
    return list(qs.order_by("pk").values_list("pk", flat=True))


def main() -> None:
    seconds = _seconds_arg()
    args = arguments(__doc__.splitlines()[0])
    quick = args.quick or args.people <= QUICK_PEOPLE
    seconds = seconds or (QUICK_SECONDS if quick else SECONDS)
    setup_django(args.db)
    from django.db import connection

    from fangkong.demo.services import DEMO_RISK_AREAS, demo_policy_setup, demo_risk_areas
    from fangkong.geo.models import Division, Region
    from fangkong.travel.models import CheckpointPassage, PassageOccupant, TravelRegistration

    seeded(args.people)
    demo_policy_setup(actor=None, county_code=COUNTY)
    demo_risk_areas(actor=None, county_code=COUNTY)
    high_risk = next(code for level, code, *_ in DEMO_RISK_AREAS if level == "high")
    hq, token = commander_token()
    checkpoints = ensure_checkpoints(hq)
    rng = random.Random(SEED)
    grids = list(
        Division.objects.filter(level=Division.Level.GRID, code__startswith=COUNTY)
        .order_by("code")
        .values_list("code", flat=True)
    )
    counties = list(
        Region.objects.filter(level=Region.Level.COUNTY)
        .exclude(code__startswith=COUNTY[:4])
        .exclude(code__in=[code for _, code, *_ in DEMO_RISK_AREAS])
        .order_by("code")
        .values_list("code", flat=True)
    )
    origins = rng.sample(counties, min(400, len(counties)))
    client = PassageClient(
        checkpoints=checkpoints,
        token=token,
        origins=origins,
        high_risk=high_risk,
        grids=grids,
        run=random.SystemRandom().randrange(RUNS),
    )
    before = (
        CheckpointPassage.objects.count(),
        PassageOccupant.objects.count(),
        TravelRegistration.objects.count(),
    )
    note(
        f"passage benchmark on {connection.vendor}: {len(checkpoints)} checkpoints,"
        f" {len(grids)} destination grids, {seconds:g} s per case"
    )
    with Server(args.db) as server:
        note("load: GET /healthz and POST /api/v1/checkpoints/{id}/passages, alternating")
        trivial, ours = run_interleaved(server.port, GetClient("/healthz"), client, seconds=seconds)
        note(f"  healthz {trivial.rps:.0f} rps, p99 {trivial.latency['p99_ms']} ms")
        note(
            f"  passages {ours.rps:.0f} rps, p99 {ours.latency['p99_ms']} ms, {ours.errors} errors"
        )
    after = (
        CheckpointPassage.objects.count(),
        PassageOccupant.objects.count(),
        TravelRegistration.objects.count(),
    )
    ratio = ours.rps / trivial.rps
    figures: dict[str, Any] = {
        "bench": "passages",
        "case": f"{connection.vendor}-passage-single",
        "db": connection.vendor,
        "workers": 2,
        "clients": CLIENTS,
        "seconds": seconds,
        "occupants": OCCUPANTS,
        **ours.figures(),
        "occupants_per_s": round(ours.rps * OCCUPANTS, 1),
        "statuses": {str(k): v for k, v in sorted(ours.statuses.items())},
        **trivial.figures("trivial_"),
        # Everything the load wrote, warm-ups included: passages, occupants, arrivals.
        "written": {
            "passages": after[0] - before[0],
            "occupants": after[1] - before[1],
            "arrivals": after[2] - before[2],
        },
        "ratio": round(ratio, 3),
        "goal": f"ratio >= {GOAL:g}",
        "better": "higher",
        "met": ratio >= GOAL and ours.errors <= ours.requests * 0.01,
    }
    if ours.errors or trivial.errors:
        figures["note"] = (
            f"{ours.errors} passage and {trivial.errors} healthz answers were errors"
            f" (statuses {dict(ours.statuses)})"
        )
        for sample in ours.error_samples + trivial.error_samples:
            note(f"error: {sample}")
    emit(figures)

    import time

    from fangkong.travel.services_passages import passages_process

    pending = CheckpointPassage.objects.filter(
        checkpoint_id__in=checkpoints, handover=CheckpointPassage.Handover.PENDING
    ).count()
    note(f"handing the {pending:,} flagged passages to the loop as the loop worker does")
    started = time.perf_counter()
    done = failed = 0
    while True:
        counts = passages_process(actor=None)
        if not counts["done"] + counts["failed"]:
            break
        done += counts["done"]
        failed += counts["failed"]
    taken = time.perf_counter() - started
    per_s = done / taken if taken else 0.0
    # What the barrier produced for the worker: flagged passages per second under the load.
    flagged_rps = ours.rps * (pending / max(figures["written"]["passages"], 1))
    worker_ratio = per_s / flagged_rps if flagged_rps else 0.0
    emit(
        {
            "bench": "passages",
            "case": f"{connection.vendor}-passage-handover",
            "db": connection.vendor,
            "passages": done,
            "occupants": done * OCCUPANTS,
            "failed": failed,
            "seconds": round(taken, 3),
            "passages_per_s": round(per_s, 1),
            "flagged_rps": round(flagged_rps, 1),
            "ratio": round(worker_ratio, 3),
            "goal": "ratio >= 1",
            "better": "higher",
            "met": worker_ratio >= 1 and failed == 0,
        }
    )
    # The passages point at small grids (PROTECT): the demo's re-seed (import_people.py, the
    # next run) deletes the grids, so they go (their occupants with them). Arrivals stay.
    CheckpointPassage.objects.filter(checkpoint_id__in=checkpoints).delete()


if __name__ == "__main__":
    main()
