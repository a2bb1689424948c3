"""Per-request context (client IP) that services read when they write audit events."""

from __future__ import annotations

import contextvars

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)
