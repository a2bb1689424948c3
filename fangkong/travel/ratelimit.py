"""A fixed-window rate limit per client, kept in Django's cache.

The public self-report page has no login, so a script could submit without end. Each client
(its IP, `fangkong.core.middleware.client_ip`) may submit `count` times per `seconds`
(settings.FANGKONG["SELF_REPORT_RATE"], "20/600" by default; env FANGKONG_SELF_REPORT_RATE).
Over the limit the service raises `RateLimited` and the page answers 429 in Chinese.

The window is fixed (counted from the start of the current period of `seconds`), which is one
cache add + one incr per submission. The count lives in the configured cache: with the
default per-process memory cache each server process counts on its own; a shared cache
(Redis, Memcached, the database cache) makes the limit exact across processes.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from fangkong.core.exceptions import DomainError

DEFAULT_RATE = "20/600"


class RateLimited(DomainError):
    """Too many submissions from one client: HTTP 429, with the seconds to wait."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            _("提交过于频繁，请 %(n)s 分钟后再试。") % {"n": minutes}, code="rate_limited"
        )
        self.retry_after = retry_after


def parse_rate(rate: str | None) -> tuple[int, int]:
    """ "20/600" -> (20, 600). A malformed setting falls back to the default."""
    text = (rate or DEFAULT_RATE).strip()
    try:
        count_text, seconds_text = text.split("/", 1)
        count, seconds = int(count_text), int(seconds_text)
    except ValueError:
        count, seconds = (int(x) for x in DEFAULT_RATE.split("/"))
    return max(count, 1), max(seconds, 1)


def rate_limit_hit(*, scope: str, key: str, rate: str | None = None) -> None:
    """Count one request of `key` (a client IP) in `scope`; raise RateLimited when over.

    `rate` defaults to settings.FANGKONG["SELF_REPORT_RATE"]. The key is hashed so that the
    cache never holds an IP address in clear."""
    count, seconds = parse_rate(rate or settings.FANGKONG.get("SELF_REPORT_RATE"))
    now = time.time()
    window = int(now // seconds)
    digest = hashlib.sha256(f"{scope}|{key or '-'}".encode()).hexdigest()[:24]
    cache_key = f"fangkong:rl:{scope}:{digest}:{window}"
    # add() is atomic and only sets a missing key; incr() is atomic in every cache backend.
    cache.add(cache_key, 0, timeout=seconds + 1)
    try:
        used = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.add(cache_key, 1, timeout=seconds + 1)
        used = 1
    if used > count:
        raise RateLimited(retry_after=int((window + 1) * seconds - now) + 1)
