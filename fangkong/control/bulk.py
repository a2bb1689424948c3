"""Fast inserts for the thousands of rows a retroactive sweep writes at once.

Django's bulk_create spends most of its time in Python, preparing every value of every row
(about 60 µs a row here); the sweep writes four rows per person (order, event, task, steps).
On PostgreSQL these helpers take the new keys from the table's sequence and load the rows
with COPY, several times faster. The values must be plain (numbers, text, dates, aware
datetimes, JSON-able data), never expressions. Other databases (SQLite in development and
tests) use bulk_create.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

BATCH = 5000


def _fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _column_values(
    model: type[models.Model], columns: dict[str, Any], count: int
) -> list[tuple[models.Field, list[Any]]]:
    """Every concrete field with `count` values: given (a list, or one value for all rows),
    the current time for auto_now fields, or the field's default."""
    now = timezone.now()
    out = []
    for field in _fields(model):
        key = field.attname if field.attname in columns else field.name
        if key in columns:
            given = columns[key]
            values = given if isinstance(given, list) else [given] * count
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values = [now] * count
        else:
            values = [field.get_default()] * count
        if len(values) != count:
            raise ValueError(f"{model.__name__}.{field.name}: {len(values)} values, {count} rows")
        if any(isinstance(v, enum.Enum) for v in values):
            values = [v.value if isinstance(v, enum.Enum) else v for v in values]
        out.append((field, values))
    return out


def insert_columns(model: type[models.Model], columns: dict[str, Any], *, count: int) -> list[int]:
    """Insert `count` rows given column by column; returns the new primary keys in order.

    A column is a list of `count` values, or a single value (not a list) for every row.
    A JSON column must always be given as a list. Fields left out take their default.
    """
    if count == 0:
        return []
    values = _column_values(model, columns, count)
    if connection.vendor != "postgresql":
        objs = [
            model(**{field.attname: column[i] for field, column in values}) for i in range(count)
        ]
        model.objects.bulk_create(objs, batch_size=BATCH)
        return [obj.pk for obj in objs]
    table = model._meta.db_table
    pk = model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Take the keys from the table's sequence first: COPY returns nothing.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [quote(table), pk, count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        dumped = [
            [None if v is None else json.dumps(v, cls=field.encoder) for v in column]
            if isinstance(field, models.JSONField)
            else column
            for field, column in values
        ]
        names = ", ".join(quote(c) for c in [pk, *(field.column for field, _c in values)])
        with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            for row in zip(ids, *dumped, strict=True):
                copy.write_row(row)
    return ids


def insert_objects(objs: Sequence[models.Model]) -> None:
    """Insert unsaved model instances of one model and set their primary keys (like
    bulk_create, without its per-value preparation on PostgreSQL)."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=BATCH)
        return
    columns: dict[str, Any] = {}
    now = timezone.now()
    for field in _fields(model):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                if getattr(obj, field.attname) is None:
                    setattr(obj, field.attname, now)
        columns[field.attname] = [getattr(obj, field.attname) for obj in objs]
    ids = insert_columns(model, columns, count=len(objs))
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
