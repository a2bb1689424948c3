from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .roles import policy_for


def viewer(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"viewer_policy": policy_for(user) if user is not None else None}
