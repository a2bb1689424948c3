"""A fixed-window rate limit per client, counted in the database.

The public self-report page has no login, so a script could submit without end. Each client
(its IP, `fangkong.core.middleware.client_ip`) may submit `count` times per `seconds`
(settings.FANGKONG["SELF_REPORT_RATE"], "20/600" by default; env FANGKONG_SELF_REPORT_RATE).
Over the limit the page answers 429 in Chinese, before anything else is looked at.

The window is fixed (counted from the start of the current period of `seconds`). The count is
one statement: an upsert on `RateCounter` that returns the new count, exact across every
worker process of every server (a cache would be per process, or need a service the county's
intranet may not run), and committed on its own, so that refused and invalid submissions
count too. The loop worker purges expired counters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from django.conf import settings
from django.db import connection
from django.utils import timezone
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
    table never holds an IP address. Call it outside any transaction of the request (the
    count must survive a refused request)."""
    from .models import RateCounter

    count, seconds = parse_rate(rate or settings.FANGKONG.get("SELF_REPORT_RATE"))
    now = time.time()
    window = int(now // seconds)
    digest = hashlib.sha256(f"{scope}|{key or '-'}".encode()).hexdigest()[:24]
    counter_key = f"{scope}:{digest}:{window}"
    expires = timezone.now() + dt.timedelta(seconds=seconds + 1)
    qn = connection.ops.quote_name
    table, k, n, e = (qn(x) for x in (RateCounter._meta.db_table, "key", "count", "expires_at"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({k}, {n}, {e}) VALUES (%s, 1, %s) "
            f"ON CONFLICT ({k}) DO UPDATE SET {n} = {table}.{n} + 1 RETURNING {n}",
            [counter_key, expires],
        )
        used = cursor.fetchone()[0]
    if used > count:
        raise RateLimited(retry_after=int((window + 1) * seconds - now) + 1)


def rate_counters_purge() -> int:
    """Delete expired counters (run by the loop worker)."""
    from .models import RateCounter

    return RateCounter.objects.filter(expires_at__lt=timezone.now()).delete()[0]
