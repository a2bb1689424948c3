"""Benchmark: people search by document number, phone and name prefix (goal p95 < 20 ms).

Each query goes through people.selectors.person_list(viewer=commander, q=...) and materialises
the first page with core.pagination.paginate (count + first 50 rows), as the list page and the
API do. The reference is the same lookup as one raw SQL index lookup (LIMIT 50) on the same
connection. ratio = our p50 / raw p50 (lower is better).

    .venv/bin/python bench/search.py [--quick] [--people N] [--db URL]
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from _common import arguments, emit, ensure_seeded, note, percentiles, setup_django, timed_ms

QUERIES = 220
WARMUP = 20
GOAL_MS = 20.0


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    setup_django(args.db)
    from django.db import connection

    from fangkong.accounts.models import User
    from fangkong.people.models import Person

    ensure_seeded(args.people)
    commander = User.objects.get(username="hq")
    rng = random.Random(2020)
    candidates = list(
        Person.objects.exclude(id_number=None)
        .exclude(phone="")
        .order_by("pk")
        .values_list("id_number", "phone", "name")
    )
    sample = rng.sample(candidates, QUERIES + WARMUP)
    table = Person._meta.db_table
    columns = "id, name, id_type, id_number, sex, birth_date, phone, division_id, household_id"
    name_sql = "name >= %s AND name < %s" if connection.vendor == "sqlite" else "name LIKE %s"

    def name_params(prefix: str) -> list[str]:
        if connection.vendor == "sqlite":
            return [prefix, prefix + "\U0010ffff"]
        return [prefix.replace("%", r"\%").replace("_", r"\_") + "%"]

    cases = {
        "id_number": (
            [row[0] for row in sample],
            f"SELECT {columns} FROM {table} WHERE id_number = %s LIMIT 50",
            lambda term: [term],
        ),
        "phone": (
            [row[1] for row in sample],
            f"SELECT {columns} FROM {table} WHERE phone = %s LIMIT 50",
            lambda term: [term],
        ),
        "name_prefix": (
            [row[2][:2] for row in sample],
            f"SELECT {columns} FROM {table} WHERE {name_sql} LIMIT 50",
            name_params,
        ),
    }
    people = Person.objects.count()
    for case, (terms, raw_sql, raw_params) in cases.items():
        note(f"search benchmark: {case}, {QUERIES} queries over {people:,} people")
        ours_ms, raw_ms, hits = _measure(commander, terms, raw_sql, raw_params)
        figures = percentiles(ours_ms)
        reference = percentiles(raw_ms)
        emit(
            {
                "bench": "search",
                "case": f"{connection.vendor}-{case}",
                "db": connection.vendor,
                "people": people,
                "queries": len(ours_ms),
                "hits_min": min(hits),
                **figures,
                "raw_p50_ms": reference["p50_ms"],
                "raw_p95_ms": reference["p95_ms"],
                "ratio": round(figures["p50_ms"] / max(reference["p50_ms"], 1e-6), 2),
                "goal": f"p95_ms < {GOAL_MS:g}",
                "met": figures["p95_ms"] < GOAL_MS,
                "better": "lower",
            }
        )


def _measure(
    commander: Any, terms: list[str], raw_sql: str, raw_params: Callable[[str], list[str]]
) -> tuple[list[float], list[float], list[int]]:
    """Per-query milliseconds through person_list + paginate, and through raw SQL."""
    from django.db import connection

    from fangkong.core.pagination import paginate
    from fangkong.people.selectors import person_list

    hits: list[int] = []

    def ours(term: str) -> None:
        page = paginate(person_list(viewer=commander, q=term), page=1)
        hits.append(len([p.pk for p in page.items]))

    def raw(term: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(raw_sql, raw_params(term))
            cursor.fetchall()

    for term in terms[:WARMUP]:
        ours(term)
        raw(term)
    hits.clear()
    ours_ms = [timed_ms(lambda t=term: ours(t)) for term in terms[WARMUP:]]
    raw_ms = [timed_ms(lambda t=term: raw(t)) for term in terms[WARMUP:]]
    return ours_ms, raw_ms, hits


if __name__ == "__main__":
    main()
