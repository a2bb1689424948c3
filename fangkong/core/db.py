"""Database-specific query helpers, so that selectors stay portable and index-friendly."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q

_MAX_CHAR = "\U0010ffff"


def prefix_q(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, written so that a plain b-tree index serves it.

    SQLite's LIKE is case-insensitive and never uses the index, so there it is a range under
    the BINARY collation (code-point order). PostgreSQL gets LIKE 'x%', served by the
    varchar_pattern_ops index Django creates beside every indexed CharField.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + _MAX_CHAR})
    return Q(**{f"{field}__startswith": prefix})


def insert_unless_conflict(
    model: Any,
    values: dict[str, Any],
    *,
    computed: tuple[str, str, list[Any]] | None = None,
    returning: tuple[str, ...] = ("id",),
) -> tuple[Any, ...] | None:
    """One statement, INSERT ... ON CONFLICT DO NOTHING RETURNING (PostgreSQL and SQLite),
    for the hot public paths. `values`: field name -> value. `computed`: (field name, SQL
    expression, its params) for one more column the database works out in the same statement
    (e.g. a scalar subquery). Returns the `returning` fields of the new row, or None when a
    unique key already held it: no error is raised, so no savepoint is needed, and a racing
    twin waits on the unique index and then finds the first row."""
    qn = connection.ops.quote_name
    meta = model._meta
    fields = [meta.get_field(name) for name in values]
    params = [
        f.get_db_prep_save(value, connection=connection)
        for f, value in zip(fields, values.values(), strict=True)
    ]
    columns = [qn(f.column) for f in fields]
    expressions = ["%s"] * len(fields)
    if computed is not None:
        name, sql, extra = computed
        columns.append(qn(meta.get_field(name).column))
        expressions.append(sql)
        params.extend(extra)
    back = ", ".join(qn(meta.get_field(name).column) for name in returning)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(columns)}) "
            f"VALUES ({', '.join(expressions)}) ON CONFLICT DO NOTHING RETURNING {back}",
            params,
        )
        row = cursor.fetchone()
    return tuple(row) if row else None
