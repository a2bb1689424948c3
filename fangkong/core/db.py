"""Database-specific query helpers, so that selectors stay portable and index-friendly."""

from __future__ import annotations

import time
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


# Fields whose Python values the driver takes as they are (str, int, bool, None, or a foreign
# key given as its id): get_db_prep_save would only copy them, and the hot paths send many.
_PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def _needs_prep(field: Any) -> bool:
    target = field.target_field if field.is_relation else field
    return target.get_internal_type() not in _PLAIN_TYPES


def fetch_prepared(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run one hot statement and return its rows. On PostgreSQL it is a prepared statement with
    server-side parameters: the server parses and plans it once per connection (persistent
    connections keep it) and the driver sends the values as they are instead of quoting each
    into the text. Django's own cursor binds on the client and never prepares (that keeps
    connection poolers working); the statements that come here are few and fixed in shape, so
    psycopg's per-connection cache of prepared statements holds them all. Errors become
    Django's (IntegrityError ...), and the statement is logged wherever Django logs queries.
    Elsewhere, Django's cursor."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]
    import psycopg

    connection.validate_thread_sharing()
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        rows = cursor.fetchall() if cursor.description else []
    if connection.queries_logged:
        connection.queries_log.append(
            {
                "sql": f"{sql} -- prepared, {len(params)} params",
                "time": f"{time.monotonic() - started:.3f}",
            }
        )
    return rows


def insert_returning(
    model: Any,
    rows: list[dict[str, Any]],
    *,
    computed: list[tuple[str, str, list[Any]]] | None = None,
    returning: tuple[str, ...] = ("id",),
    unless_conflict: bool = False,
) -> list[tuple[Any, ...]]:
    """One multi-row INSERT ... RETURNING (PostgreSQL and SQLite) for the hot paths, where the
    ORM's own insert costs more than the statement. `rows`: field name -> value, the same
    fields in each. `computed`: per row, (field name, SQL expression, its params) for one more
    column the database works out in the same statement (e.g. a scalar subquery); the same
    field for every row. `unless_conflict`: ON CONFLICT DO NOTHING (a row a unique key already
    holds is skipped, and returns nothing). Returns the `returning` fields of the new rows."""
    if not rows:
        return []
    qn = connection.ops.quote_name
    meta = model._meta
    names = list(rows[0])
    fields = [meta.get_field(name) for name in names]
    columns = [qn(f.column) for f in fields]
    if computed:
        columns.append(qn(meta.get_field(computed[0][0]).column))
    params: list[Any] = []
    groups: list[str] = []
    prepared = [(name, f) for name, f in zip(names, fields, strict=True) if _needs_prep(f)]
    for index, row in enumerate(rows):
        values = dict(row)
        for name, f in prepared:
            values[name] = f.get_db_prep_save(values[name], connection=connection)
        params.extend(values[name] for name in names)
        expressions = ["%s"] * len(fields)
        if computed:
            _name, sql, extra = computed[index]
            expressions.append(sql)
            params.extend(extra)
        groups.append(f"({', '.join(expressions)})")
    back = ", ".join(qn(meta.get_field(name).column) for name in returning)
    conflict = " ON CONFLICT DO NOTHING" if unless_conflict else ""
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(columns)}) "
        f"VALUES {', '.join(groups)}{conflict} RETURNING {back}"
    )
    if len(rows) == 1:  # the one-row statements of the hot paths: the same shape every time
        return fetch_prepared(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


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
    rows = insert_returning(
        model,
        [values],
        computed=[computed] if computed else None,
        returning=returning,
        unless_conflict=True,
    )
    return rows[0] if rows else None


def columns_sql(model: Any, alias: str) -> str:
    """`alias."col", ...` for every concrete field of `model`, in field order, for hand-written
    SELECTs on the hot paths whose rows become instances through `instance_from_row`."""
    qn = connection.ops.quote_name
    return ", ".join(f"{alias}.{qn(f.column)}" for f in model._meta.concrete_fields)


def from_db_value(field: Any, value: Any) -> Any:
    """A column value as the ORM would load it into `field` (on SQLite a date or a time comes
    back from a plain cursor as text): the backend's converters, then the field's."""
    column = field.get_col(field.model._meta.db_table)
    for converter in (
        *connection.ops.get_db_converters(column),
        *field.get_db_converters(connection),
    ):
        value = converter(value, column, connection)
    return value


_CONVERTERS: dict[Any, list[tuple[int, Any, list[Any]]]] = {}


def instance_from_row(model: Any, row: Any) -> Any:
    """An instance of `model` from a row selected with `columns_sql`, as the ORM loads it."""
    fields = model._meta.concrete_fields
    plan = _CONVERTERS.get(model)
    if plan is None:  # which columns need converting (few do): worked out once per model
        plan = []
        for index, f in enumerate(fields):
            column = f.get_col(model._meta.db_table)
            converters = [
                *connection.ops.get_db_converters(column),
                *f.get_db_converters(connection),
            ]
            if converters:
                plan.append((index, column, converters))
        _CONVERTERS[model] = plan
    values = list(row)
    if len(values) != len(fields):
        raise ValueError(f"{model.__name__}: {len(values)} columns for {len(fields)} fields")
    for index, column, converters in plan:
        value = values[index]
        for converter in converters:
            value = converter(value, column, connection)
        values[index] = value
    return model.from_db(connection.alias, [f.attname for f in fields], values)


_FAMILY_SQL: dict[tuple[Any, ...], str] = {}


def insert_with_children(
    parent: Any,
    values: dict[str, Any],
    *,
    child: Any,
    parent_field: str,
    rows: list[dict[str, Any]],
    computed: tuple[str, str] | None = None,
    returning: tuple[str, ...] = ("id",),
    audit: dict[str, Any] | None = None,
) -> tuple[Any, list[tuple[Any, ...]]] | None:
    """PostgreSQL only: a parent row, its child rows and the audit event of the write in ONE
    statement (data-modifying CTEs), atomic by itself, so the hot path that uses it needs no
    BEGIN and COMMIT round trips. The parent is `INSERT ... ON CONFLICT DO NOTHING`: when a
    unique key already holds it, nothing at all is written and None is returned. Else
    (parent id, [the `returning` fields of each child]).

    `rows`: field name -> value, the same fields in each, without `parent_field`. `computed`:
    (field name, SQL expression) for one more child column worked out by the database; the
    expression may use the row's values as `v.<field name>`. `audit`: core.audit.audit_values
    (its target_id is set to the new parent's id)."""
    if not rows:
        raise ValueError("insert_with_children needs at least one child row")
    qn = connection.ops.quote_name
    pmeta, cmeta = parent._meta, child._meta
    pnames, cnames = list(values), list(rows[0])
    key = (
        parent,
        tuple(pnames),
        child,
        parent_field,
        tuple(cnames),
        len(rows),
        computed,
        returning,
        audit is not None,
    )
    sql = _FAMILY_SQL.get(key)
    pfields = [pmeta.get_field(n) for n in pnames]
    cfields = [cmeta.get_field(n) for n in cnames]
    if sql is None:

        def cast(f: Any) -> str:
            return f"CAST(%s AS {f.cast_db_type(connection)})"

        ccols = [qn(f.column) for f in cfields]
        extra_col = f", {qn(cmeta.get_field(computed[0]).column)}" if computed else ""
        extra_val = f", {computed[1]}" if computed else ""
        row_sql = "(" + ", ".join(cast(f) for f in cfields) + ")"
        back = ", ".join(f"c.{qn(cmeta.get_field(n).column)}" for n in returning)
        sql = (
            f"WITH p AS (INSERT INTO {qn(pmeta.db_table)} "
            f"({', '.join(qn(f.column) for f in pfields)}) "
            f"VALUES ({', '.join(cast(f) for f in pfields)}) ON CONFLICT DO NOTHING "
            f"RETURNING {qn(pmeta.pk.column)} AS id), "
            f"c AS (INSERT INTO {qn(cmeta.db_table)} "
            f"({qn(cmeta.get_field(parent_field).column)}, {', '.join(ccols)}{extra_col}) "
            f"SELECT p.id, {', '.join(f'v.{n}' for n in cnames)}{extra_val} FROM p CROSS JOIN "
            f"(VALUES {', '.join([row_sql] * len(rows))}) AS v({', '.join(cnames)}) "
            f"RETURNING *)"
        )
        if audit is not None:
            from .models import AuditEvent  # core.models imports nothing from here

            ameta = AuditEvent._meta
            names = [n for n in audit if n != "target_id"]
            afields = [ameta.get_field(n) for n in names]
            sql += (
                f", a AS (INSERT INTO {qn(ameta.db_table)} "
                f"({', '.join(qn(f.column) for f in afields)}, "
                f"{qn(ameta.get_field('target_id').column)}) "
                f"SELECT {', '.join(cast(f) for f in afields)}, CAST(p.id AS text) FROM p)"
            )
        sql += f" SELECT p.id, {back} FROM p CROSS JOIN c"
        _FAMILY_SQL[key] = sql
    params: list[Any] = [
        f.get_db_prep_save(values[n], connection=connection) if _needs_prep(f) else values[n]
        for f, n in zip(pfields, pnames, strict=True)
    ]
    prepared = [_needs_prep(f) for f in cfields]
    for row in rows:
        params.extend(
            f.get_db_prep_save(row[n], connection=connection) if prep else row[n]
            for f, n, prep in zip(cfields, cnames, prepared, strict=True)
        )
    if audit is not None:
        from .models import AuditEvent

        ameta = AuditEvent._meta
        for n, value in audit.items():
            if n != "target_id":
                f = ameta.get_field(n)
                params.append(f.get_db_prep_save(value, connection=connection))
    found = fetch_prepared(sql, params)
    if not found:
        return None
    return found[0][0], [tuple(r[1:]) for r in found]
