"""Fixtures of the control tests: the 9th-edition-like rules in force, a fixed clock."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from .factories import make_edition

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
# The fake clock: 2022-07-02 09:00 in the county.
NOW = dt.datetime(2022, 7, 2, 9, 0, tzinfo=TZ)


@pytest.fixture
def v9(county):
    """A 9th-edition-like edition in force for the county from 2022-06-28."""
    return make_edition("t-v9", activate_on=dt.date(2022, 6, 28), county=county.root)


@pytest.fixture
def now():
    return NOW
