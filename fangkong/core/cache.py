"""A short-lived in-process cache for the hot paths' lookups (a division, a place, a checkpoint).

Only found objects are kept, for FANGKONG["PUBLIC_CACHE_SECONDS"] (60 s; 0 turns it off, as the
test settings do): something created a moment ago is found at once; a change or a removal is
seen within that time. Cached objects are shared: read them, never change them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings


class ProcessCache:
    """`setting`: the FANGKONG setting that holds the seconds entries are kept."""

    def __init__(self, *, max_entries: int = 20_000, setting: str = "PUBLIC_CACHE_SECONDS") -> None:
        self.max_entries = max_entries
        self.setting = setting
        self._entries: dict[Any, tuple[float, Any]] = {}

    def forget(self, key: Any) -> None:
        """Drop `key` in this process (other processes keep theirs until it expires)."""
        self._entries.pop(key, None)

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        """The cached value of `key`, else `load()` (kept when it is not None)."""
        ttl = settings.FANGKONG.get(self.setting, 60)
        now = time.monotonic()
        if ttl:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < ttl:
                return hit[1]
        value = load()
        if value is not None and ttl:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value
