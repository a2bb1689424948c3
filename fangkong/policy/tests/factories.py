"""Test helpers for the policy app: editions by code, risk areas written straight to the table
(the services are tested on their own in test_services.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.policy.models import EditionActivation, PolicyEdition, RiskArea


def edition(code: str) -> PolicyEdition:
    return PolicyEdition.objects.get(code=code)


def activate(code: str, on: dt.date, jurisdiction: Any) -> EditionActivation:
    return EditionActivation.objects.create(
        edition=edition(code), jurisdiction=jurisdiction, effective_from=on
    )


def risk_area(**fields: Any) -> RiskArea:
    values: dict[str, Any] = {
        "level": "high",
        "region_code": "110105",
        "region_name": "北京市朝阳区",
        "start_date": dt.date(2022, 7, 1),
    }
    values.update(fields)
    return RiskArea.objects.create(**values)
