"""Valid resident ID numbers for tests and the demo (never real people's numbers)."""

from __future__ import annotations

import datetime as dt

from fangkong.core.validators import id_check_char


def make_resident_id(address_code: str, birth: dt.date, sequence: int) -> str:
    """address (6) + YYYYMMDD + 3-digit sequence (odd = male) + MOD 11-2 check character."""
    first17 = f"{address_code}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_check_char(first17)
