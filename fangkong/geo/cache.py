"""Divisions looked up on the public QR pages (the QR's village, the chosen grid), kept per
process for a minute (fangkong.core.cache)."""

from __future__ import annotations

from fangkong.core.cache import ProcessCache

from .models import Division

_DIVISIONS = ProcessCache()


def division_cached(code: str) -> Division | None:
    return _DIVISIONS.get(code, lambda: Division.objects.filter(code=code).first())
