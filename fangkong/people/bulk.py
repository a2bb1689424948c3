"""Set-based writes for large lists of people: the path the demo seed and the importers share.

Django's bulk_create builds a model instance per row and a multi-row INSERT per batch; at county
scale (hundreds of thousands of rows) that is several times slower than the database can take
rows. These helpers send plain tuples: COPY on PostgreSQL, `executemany` elsewhere (SQLite).
They run inside the caller's transaction and never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone

from .models import Person

CHUNK = 20_000

# on_chunk(done, total): called after each chunk of rows is sent (progress bars).
OnChunk = Callable[[int, int], None]


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    on_chunk: OnChunk | None = None,
    chunk: int = CHUNK,
) -> int:
    """Insert `rows` (values in the order of `columns`, attnames) into `model`'s table.

    Model fields not in `columns` get their default (auto_now/auto_now_add fields: now),
    prepared once; an auto primary key not in `columns` is left to the database. Values must already be what the column stores (str, int, date, None; a
    JSON column takes its JSON text). Returns the number of rows sent.
    """
    now = timezone.now()
    fields = {f.attname: f for f in model._meta.concrete_fields}
    extra: dict[str, Any] = {}
    for attname, f in fields.items():
        if attname in columns or (f.primary_key and isinstance(f, models.AutoField)):
            continue  # an auto primary key left out is drawn by the database
        if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
            extra[attname] = now
        else:
            extra[attname] = f.get_default()
    quote = connection.ops.quote_name
    names = [*columns, *extra]
    column_sql = ", ".join(quote(fields[a].column) for a in names)
    table = quote(model._meta.db_table)
    total = len(rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tail = tuple(extra.values())
            with cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                for start in range(0, total, chunk):
                    for row in rows[start : start + chunk]:
                        copy.write_row(row + tail)
                    if on_chunk:
                        on_chunk(min(start + chunk, total), total)
        else:
            tail = tuple(fields[a].get_db_prep_save(v, connection) for a, v in extra.items())
            placeholders = ", ".join(["%s"] * len(names))
            sql = f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})"
            for start in range(0, total, chunk):
                cursor.executemany(sql, [row + tail for row in rows[start : start + chunk]])
                if on_chunk:
                    on_chunk(min(start + chunk, total), total)
    if total == 0 and on_chunk:
        on_chunk(0, 0)
    return total


def update_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    touch: bool = True,
) -> int:
    """UPDATE `columns` (attnames) of the rows whose pk is each tuple's last value.

    One `executemany` of one statement: rows are (value for columns[0], ..., pk). With
    `touch`, an auto_now field (updated_at) is set to now as well.
    """
    rows = list(rows)
    if not rows:
        return 0
    fields = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    sets = [f"{quote(fields[a].column)} = %s" for a in columns]
    tail: tuple[Any, ...] = ()
    if touch:
        for f in model._meta.concrete_fields:
            if isinstance(f, models.DateTimeField) and f.auto_now and f.attname not in columns:
                sets.append(f"{quote(f.column)} = %s")
                tail += (f.get_db_prep_save(timezone.now(), connection),)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {', '.join(sets)}"
        f" WHERE {quote(model._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        if tail:
            cursor.executemany(sql, [(*row[:-1], *tail, row[-1]) for row in rows])
        else:
            cursor.executemany(sql, rows)
    return len(rows)


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for rows about to be inserted with explicit ids.

    PostgreSQL draws them from the table's sequence (safe next to other writers). SQLite
    continues after the highest id ever used (AUTOINCREMENT keeps it in sqlite_sequence, so
    the ids of deleted rows are not handed out again); SQLite has one writer at a time, and a
    second writer that read the same maximum fails its write instead of colliding.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(table), pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT MAX({quote(pk)}) FROM {quote(table)}")
        highest = cursor.fetchone()[0] or 0
        if connection.vendor == "sqlite":
            cursor.execute("SELECT MAX(seq) FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            highest = max(highest, (row[0] if row else 0) or 0)
    return list(range(highest + 1, highest + 1 + count))


def reset_sequences(model_list: Iterable[type[models.Model]]) -> None:
    """After inserts with explicit ids not drawn by allocate_ids, move the id sequences past
    them (PostgreSQL; SQLite follows explicit ids by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def person_by_document_sql(*, id_type: str = "%s", id_number: str = "%s") -> str:
    """A scalar subquery for INSERT statements on the hot paths: the id of the registered
    person (not merged away) holding a document; NULL if none. The document is given as two
    SQL expressions: by default parameters ([id_type, id_number]), or columns of the row."""
    qn = connection.ops.quote_name
    meta = Person._meta
    col = {n: qn(meta.get_field(n).column) for n in ("id", "id_type", "id_number", "merged_into")}
    return (
        f"(SELECT {col['id']} FROM {qn(meta.db_table)} WHERE {col['id_type']} = {id_type} "
        f"AND {col['id_number']} = {id_number} AND {col['merged_into']} IS NULL LIMIT 1)"
    )
