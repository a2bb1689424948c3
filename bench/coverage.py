"""Benchmark: the county's coverage page for the commander (goal p95 < 300 ms).

GET of reports:division for the county root through Django's test Client, logged in as the
commander (`hq` of the demo seed). The reference is GET /healthz (one SELECT 1) through the
same client in the same run: ratio = page p50 / healthz p50. The selector behind the page
(reports.selectors.division_coverage) and the county map's GeoJSON are timed as extra cases.

    .venv/bin/python bench/coverage.py [--quick] [--people N] [--db URL]
"""

from __future__ import annotations

from _common import (
    COUNTY,
    arguments,
    emit,
    ensure_seeded,
    note,
    percentiles,
    setup_django,
    timed_ms,
)

RUNS = 20
WARMUP = 3
GOAL_MS = 300.0


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    setup_django(args.db)
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from fangkong.accounts.models import User
    from fangkong.geo.models import Division
    from fangkong.people.models import Person
    from fangkong.reports.selectors import division_coverage

    ensure_seeded(args.people)
    commander = User.objects.get(username="hq")
    root = Division.objects.get(code=COUNTY)
    people = Person.objects.count()
    client = Client()
    client.force_login(commander)

    def measure(path: str) -> tuple[list[float], int]:
        statuses = set()
        for _ in range(WARMUP):
            statuses.add(client.get(path).status_code)
        samples = []
        for _ in range(RUNS):
            samples.append(timed_ms(lambda: statuses.add(client.get(path).status_code)))
        return samples, max(statuses)

    health, health_status = measure("/healthz")
    reference = percentiles(health)
    base = {"db": connection.vendor, "people": people, "runs": RUNS}

    pages = [("page", "reports:division"), ("geojson", "reports:division_geojson")]
    for case, name in pages:
        try:
            path = reverse(name, kwargs={"code": root.code})
        except NoReverseMatch:
            note(f"{name} is not routed yet: case {case} skipped")
            continue
        note(f"coverage benchmark: GET {path} x{RUNS} over {people:,} people")
        samples, status = measure(path)
        figures = percentiles(samples)
        emit(
            {
                "bench": "coverage",
                "case": f"{connection.vendor}-{case}",
                **base,
                "path": path,
                "status": status,
                **figures,
                "healthz_p50_ms": reference["p50_ms"],
                "healthz_status": health_status,
                "ratio": round(figures["p50_ms"] / max(reference["p50_ms"], 1e-6), 2),
                "goal": f"p95_ms < {GOAL_MS:g}",
                "met": status == 200 and figures["p95_ms"] < GOAL_MS,
                "better": "lower",
            }
        )

    note(f"coverage benchmark: division_coverage selector x{RUNS}")
    for _ in range(WARMUP):
        division_coverage(viewer=commander, division=root)
    samples = [
        timed_ms(lambda: division_coverage(viewer=commander, division=root)) for _ in range(RUNS)
    ]
    figures = percentiles(samples)
    emit(
        {
            "bench": "coverage",
            "case": f"{connection.vendor}-selector",
            **base,
            **figures,
            "healthz_p50_ms": reference["p50_ms"],
            "ratio": round(figures["p50_ms"] / max(reference["p50_ms"], 1e-6), 2),
            "goal": f"p95_ms < {GOAL_MS:g}",
            "met": figures["p95_ms"] < GOAL_MS,
            "better": "lower",
        }
    )


if __name__ == "__main__":
    main()
