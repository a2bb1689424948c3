"""A short-lived in-process cache of divisions, for hot public paths (the self-report page
looks up its QR's village and the chosen grid on every submission).

Only hits are kept, for FANGKONG["PUBLIC_CACHE_SECONDS"] (60 s; 0 turns it off, as the test
settings do): a division created a moment ago is found at once, a renamed or removed one is
seen within a minute. Returned objects are shared: read them, never change them.
"""

from __future__ import annotations

import time

from django.conf import settings

from .models import Division

_MAX_ENTRIES = 20_000
_CACHE: dict[str, tuple[float, Division]] = {}


def division_cached(code: str) -> Division | None:
    ttl = settings.FANGKONG.get("PUBLIC_CACHE_SECONDS", 60)
    now = time.monotonic()
    if ttl:
        hit = _CACHE.get(code)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
    division = Division.objects.filter(code=code).first()
    if division is not None and ttl:
        if len(_CACHE) >= _MAX_ENTRIES:
            _CACHE.clear()
        _CACHE[code] = (now, division)
    return division
