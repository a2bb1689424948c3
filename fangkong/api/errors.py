"""One error format for the whole API: {"code", "message", "errors": {field: [messages]}}.

* DomainError (and its subclasses) answer with their own .status (400/403/404/409);
* ninja's ValidationError (wrong JSON types, missing fields, bad query values) -> 400, every
  bad field named by the last name in its location, with a message in the user's language;
* no or bad credentials -> 401; a failed CSRF check on a session request -> 403;
* anything else -> 500 with a generic message; the log gets the exception type and the
  stack, never the exception's text (database errors can quote the values of a row).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from fangkong.core.exceptions import DomainError

logger = logging.getLogger("fangkong.api")


class CsrfFailed(HttpError):
    """A session-authenticated write without a valid CSRF token."""

    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed")


def error_body(code: str, message: Any, errors: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": str(message), "errors": errors or {}}


def json_error(
    status: int, code: str, message: Any, errors: dict[str, list[str]] | None = None
) -> JsonResponse:
    return JsonResponse(
        error_body(code, message, errors), status=status, json_dumps_params={"ensure_ascii": False}
    )


def _message_for(error: dict[str, Any]) -> str:
    """A pydantic error as a sentence for the person who sent the request."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    simple = {
        "missing": _("此项为必填项"),
        "int_parsing": _("应为整数"),
        "int_type": _("应为整数"),
        "int_from_float": _("应为整数"),
        "float_parsing": _("应为数字"),
        "float_type": _("应为数字"),
        "bool_parsing": _("应为 true 或 false"),
        "bool_type": _("应为 true 或 false"),
        "string_type": _("应为字符串"),
        "string_pattern_mismatch": _("格式不正确"),
        "date_parsing": _("日期格式应为 YYYY-MM-DD"),
        "date_from_datetime_parsing": _("日期格式应为 YYYY-MM-DD"),
        "date_type": _("日期格式应为 YYYY-MM-DD"),
        "model_type": _("应为 JSON 对象"),
        "model_attributes_type": _("应为 JSON 对象"),
        "dict_type": _("应为 JSON 对象"),
        "list_type": _("应为数组"),
        "extra_forbidden": _("不支持此字段"),
        "json_invalid": _("不是合法的 JSON"),
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_short":
        return _("至少 %(n)s 个字符") % {"n": ctx.get("min_length")}
    if kind == "string_too_long":
        return _("不能超过 %(n)s 个字符") % {"n": ctx.get("max_length")}
    if kind == "greater_than_equal":
        return _("不能小于 %(n)s") % {"n": ctx.get("ge")}
    if kind == "greater_than":
        return _("应大于 %(n)s") % {"n": ctx.get("gt")}
    if kind == "less_than_equal":
        return _("不能大于 %(n)s") % {"n": ctx.get("le")}
    if kind == "less_than":
        return _("应小于 %(n)s") % {"n": ctx.get("lt")}
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        return _("取值无效，可选：%(expected)s") % {"expected": expected}
    return _("取值无效")


def _field_for(loc: tuple[Any, ...] | list[Any]) -> str:
    """The last name in the location: ("body", "payload", "name") -> "name".

    ("query", "level") -> "level"; list positions are skipped; a body that is not an object at
    all is reported on "__all__".
    """
    names = [str(part) for part in loc if isinstance(part, str)]
    if len(names) <= 1:
        return "__all__"
    if names[0] == "body" and len(names) == 2:
        return "__all__"
    return names[-1]


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        field = _field_for(error.get("loc", ()))
        message = _message_for(error)
        if message not in errors.setdefault(field, []):
            errors[field].append(message)
    return errors


def install(api: NinjaAPI) -> None:
    """Register the handlers on `api` (they replace ninja's defaults)."""

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return JsonResponse(
            exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False}
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return json_error(400, "invalid", _("输入有误，请检查标出的字段。"), validation_errors(exc))

    @api.exception_handler(AuthenticationError)
    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = json_error(
            401,
            "unauthorized",
            _("请先登录，或在 Authorization 头中提供有效的 API 令牌（Bearer）。"),
        )
        response["WWW-Authenticate"] = 'Bearer realm="fangkong"'
        return response

    @api.exception_handler(CsrfFailed)
    def csrf_failed(request: HttpRequest, exc: CsrfFailed) -> HttpResponse:
        return json_error(
            403, "csrf_failed", _("CSRF 校验失败：请刷新页面后重试，或改用 API 令牌。")
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return json_error(404, "not_found", _("未找到。"))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            # ninja raises this when the body cannot be parsed as JSON.
            return json_error(
                400,
                "invalid_json",
                _("请求体不是合法的 JSON。"),
                {"__all__": [_("不是合法的 JSON")]},
            )
        messages = {
            403: ("forbidden", _("您的角色无权执行此操作。")),
            404: ("not_found", _("未找到。")),
            429: ("throttled", _("请求过于频繁，请稍后再试。")),
        }
        code, message = messages.get(exc.status_code, ("error", _("请求无法处理。")))
        return json_error(exc.status_code, code, message)

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        stack = "".join(traceback.format_tb(exc.__traceback__))
        logger.error(
            "API %s %s failed with %s\n%s",
            request.method,
            request.path,
            type(exc).__name__,
            stack,
        )
        return json_error(500, "server_error", _("服务器内部错误，请稍后重试。"))
