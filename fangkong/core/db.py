"""Database-specific query helpers, so that selectors stay portable and index-friendly."""

from __future__ import annotations

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
