"""The only module that knows the county's clock (Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def local_now() -> dt.datetime:
    return timezone.localtime(timezone.now())


def local_today() -> dt.date:
    return local_now().date()
