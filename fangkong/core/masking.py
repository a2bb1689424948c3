"""Display masking (GB/T 35273-2020 §7.2): applied server-side, before data leaves the server."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """Hide birth date and sequence: 340122**********1X keeps the address code and last 2."""
    if not value:
        return ""
    if len(value) >= 15:
        return value[:6] + "*" * (len(value) - 8) + value[-2:]
    if len(value) <= 4:
        return "*" * len(value)
    return value[:1] + "*" * (len(value) - 3) + value[-2:]


def mask_phone(value: str | None) -> str:
    """3 + 4: 138****1234."""
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """Surname only: 张* / 张**. Compound surnames are not guessed: one character is kept."""
    if not value:
        return ""
    if value.isascii():
        first = value.split()[0] if value.split() else value
        return first[:1] + "***"
    return value[:1] + "*" * max(1, len(value) - 1)


def mask_address(value: str | None, keep: int = 6) -> str:
    """Keep the first characters (town/village level) and hide the house details."""
    if not value:
        return ""
    if len(value) <= keep:
        return value[:2] + "***"
    return value[:keep] + "***"
