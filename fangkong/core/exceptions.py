"""One error vocabulary for every interface (web, API, commands)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused the request. `errors` maps field names to messages."""

    status = 400

    def __init__(
        self,
        message: Any,
        *,
        code: str = "invalid",
        errors: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.errors = errors or {}
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": str(self.message),
            "errors": {field: [str(m) for m in msgs] for field, msgs in self.errors.items()},
        }


class ValidationFailed(DomainError):
    """Bad input: every bad field is named in `errors`."""

    def __init__(self, errors: dict[str, list[str]], message: Any = None) -> None:
        super().__init__(
            message or _("输入有误，请检查标出的字段。"), code="invalid", errors=errors
        )


class Conflict(DomainError):
    status = 409

    def __init__(self, message: Any, *, code: str = "conflict", errors=None) -> None:
        super().__init__(message, code=code, errors=errors)


class NotFound(DomainError):
    """Missing or outside the viewer's scope: the two look the same on purpose."""

    status = 404

    def __init__(self, message: Any = None) -> None:
        super().__init__(message or _("未找到。"), code="not_found")


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: Any = None) -> None:
        super().__init__(message or _("您的角色无权执行此操作。"), code="forbidden")


def validation_error_to_dict(exc: Any) -> dict[str, list[str]]:
    """Turn a django.core.exceptions.ValidationError into {field: [messages]}."""
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for err in errs for m in err.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"__all__": [str(m) for m in exc.messages]}
