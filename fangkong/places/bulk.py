"""Fast inserts of rows whose unique key the caller believes new (batches of check-ins).

Django's bulk_create prepares every value of every row in Python and, on PostgreSQL, sends the
batch as one large parameterised statement that psycopg quotes value by value: most of a
1,000-row batch's time. Here the rows are plain tuples (values already of the column's type):

* PostgreSQL: COPY inside a savepoint, the fastest way in. If a row hits a unique key after
  all (a concurrent batch with the same keys committed after the caller looked), the
  savepoint is rolled back and the rows go in again as INSERT ... ON CONFLICT DO NOTHING.
* Other databases (SQLite): one `executemany` of INSERT ... ON CONFLICT DO NOTHING.

Both return the number of rows really inserted. They run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, connection, models, transaction


def insert_new_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> int:
    """Insert `rows` (values in the order of `columns`, attnames) into `model`'s table; a row
    whose unique key already exists is skipped. Returns the number of rows inserted."""
    if not rows:
        return 0
    fields = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_sql = ", ".join(quote(fields[name].column) for name in columns)
    if connection.vendor == "postgresql":
        try:
            # A savepoint; wrap_database_errors turns psycopg's own errors (COPY bypasses
            # Django's cursor wrapper) into Django's, e.g. UniqueViolation -> IntegrityError.
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return len(rows)
        except IntegrityError:
            pass  # a key taken meanwhile: row by row below, skipping the taken ones
    else:
        # sqlite3 stores what Django's field preparation gives (datetimes as UTC text):
        # prepare only the columns that need it.
        prepared = {
            i
            for i, name in enumerate(columns)
            if isinstance(fields[name], models.DateTimeField | models.DateField)
        }
        if prepared:
            rows = [
                tuple(
                    fields[columns[i]].get_db_prep_save(v, connection) if i in prepared else v
                    for i, v in enumerate(row)
                )
                for row in rows
            ]
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
            rows,
        )
        return max(cursor.rowcount, 0)


def stay_minutes(checked_in_at: Any, checked_out_at: Any) -> int:
    """The length of a stay in whole minutes, rounded up (the unit of longest_stay_minutes)."""
    seconds = (checked_out_at - checked_in_at).total_seconds()
    return max(0, -int(-seconds // 60))


def raise_longest_stay(
    *, minutes_by_place: dict[int, int], kinds: dict[str, int] | None = None
) -> int:
    """Keep the invariant of `Place.longest_stay_minutes` (no check-in at the place lasts
    longer): raise it to at least the given minutes, per place id, and per kind of place
    (`kinds`: a stay-rule cap raised). Never lowers it. One UPDATE per place (or kind) that
    needs raising, and only where the stored bound is smaller (a no-op otherwise). Runs in the
    caller's transaction; returns the rows raised."""
    from django.db.models.functions import Greatest

    from .models import Place

    raised = 0
    for place_id, minutes in minutes_by_place.items():
        raised += Place.objects.filter(pk=place_id, longest_stay_minutes__lt=minutes).update(
            longest_stay_minutes=Greatest(models.F("longest_stay_minutes"), models.Value(minutes))
        )
    for kind, minutes in (kinds or {}).items():
        raised += Place.objects.filter(kind=kind, longest_stay_minutes__lt=minutes).update(
            longest_stay_minutes=Greatest(models.F("longest_stay_minutes"), models.Value(minutes))
        )
    return raised
