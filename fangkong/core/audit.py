"""audit_record: called by every service, inside the service's transaction."""

from __future__ import annotations

import re
from typing import Any

from django.db import models
from django.utils import timezone

from .context import current_ip
from .db import insert_returning
from .models import AuditEvent, AuditReason
from .validators import FormatError, parse_resident_id

# Values that look like personal data must never reach an audit payload. A run of digits is
# judged whole: division codes (6, 9, 12 or 15 digits) are ids and are allowed, while an
# 18-character resident ID number (valid check character) or an 11-digit mobile number
# (optionally after +86 / 0086 / 86) is refused.
_RESIDENT_ID_RUN = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_RUN = re.compile(r"(?<!\d)(?:\+?86|0086)?1[3-9]\d{9}(?!\d)")


def _looks_personal(text: str) -> bool:
    if _MOBILE_RUN.search(text):
        return True
    for match in _RESIDENT_ID_RUN.finditer(text):
        try:
            parse_resident_id(match.group())
        except FormatError:
            continue
        return True
    return False


FORBIDDEN_KEYS = frozenset(
    {"name", "id_number", "phone", "address", "birth_date", "reason_text", "password"}
)


class AuditPayloadError(ValueError):
    pass


def _check_payload(data: Any, path: str = "data") -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in FORBIDDEN_KEYS:
                raise AuditPayloadError(f"{path}.{key}: personal data is not allowed in audit data")
            _check_payload(value, f"{path}.{key}")
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            _check_payload(value, f"{path}[{index}]")
    elif isinstance(data, str | int) and not isinstance(data, bool) and _looks_personal(str(data)):
        raise AuditPayloadError(f"{path}: looks like an ID or phone number")


def audit_values(
    *,
    actor: Any,
    verb: str,
    target: models.Model | None = None,
    target_type: str | None = None,
    target_id: Any = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The audit row for an event, checked (a payload with personal data is refused): field
    name -> value. For the hot paths that write it inside their own statement; every other
    write calls audit_record."""
    payload = data or {}
    _check_payload(payload)
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    return {
        "actor": actor_id,
        "verb": verb,
        "target_type": target_type or "",
        "target_id": "" if target_id is None else str(target_id),
        "data": payload,
        "ip": current_ip.get(),
        "at": timezone.now(),
    }


def audit_record(
    *,
    actor: Any,
    verb: str,
    target: models.Model | None = None,
    target_type: str | None = None,
    target_id: Any = None,
    data: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    values = audit_values(
        actor=actor,
        verb=verb,
        target=target,
        target_type=target_type,
        target_id=target_id,
        data=data,
    )
    # Every write of every service comes here: one plain INSERT (the ORM's save costs more).
    ((pk,),) = insert_returning(AuditEvent, [values])
    event = AuditEvent(pk=pk, **{f"{k}_id" if k == "actor" else k: v for k, v in values.items()})
    event._state.adding = False
    if reason:
        AuditReason.objects.create(event=event, text=reason[:200])
    return event
