"""The REST API at /api/v1/: authentication, one error format, and the routers of each app.

App routers (geo, people, accounts) hold the routes that need only their own app and those
below it; routes that read several apps live here, in the top layer (routes_divisions).
OpenAPI at /api/v1/openapi.json, Swagger UI at /api/v1/docs (served from our static files).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger

from fangkong.accounts.api import router as accounts_router
from fangkong.control.api import router as control_router
from fangkong.geo.api import router as geo_router
from fangkong.people.api import router as people_router
from fangkong.places.api import router as places_router
from fangkong.places.api_checkins import router as checkins_router
from fangkong.policy.api import router as policy_router
from fangkong.quarantine.api_health import router as quarantine_health_router
from fangkong.quarantine.api_sites import router as quarantine_sites_router
from fangkong.quarantine.api_tests import router as quarantine_tests_router
from fangkong.tracing.api_cases import router as tracing_cases_router
from fangkong.tracing.api_contacts import router as tracing_contacts_router
from fangkong.tracing.api_graph import router as tracing_graph_router
from fangkong.travel.api import router as travel_router
from fangkong.travel.api_checkpoints import router as checkpoints_router
from fangkong.travel.api_passages import router as passages_router
from fangkong.travel.api_risk import router as risk_router

from . import errors
from .auth import api_auth
from .routes_divisions import router as divisions_router
from .routes_imports import router as imports_router

DESCRIPTION = """\
防控平台 REST API（v1）。

**认证**：`Authorization: Bearer <令牌>`（用 `fangkong token create 用户名` 生成），或已登录的浏览器会话
（会话请求的写操作须带 `X-CSRFToken` 头）。

**数据范围**：每个账号只能看到并修改其管辖区划子树内的数据；范围外的对象与不存在的对象一样，返回 404。
个人信息按角色脱敏，只有 `POST /people/{id}/reveal`（须填理由，记入审计）返回完整信息。

**分页**：所有列表都用 `?page=1&page_size=50`，返回 `{count, page, page_size, pages, results}`。

**错误**：统一为 `{"code", "message", "errors": {字段: [说明]}}`。400 输入有误（列出每个有误的字段），
401 未认证，403 角色无权，404 不存在或不在管辖范围内，409 重复（如证件号码已登记）。
"""

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message", "errors"],
    "properties": {
        "code": {"type": "string", "description": "错误代码，如 invalid、not_found"},
        "message": {"type": "string", "description": "给人看的说明"},
        "errors": {
            "type": "object",
            "description": "字段名 -> 说明列表",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}
ERROR_RESPONSES = {
    "400": "输入有误",
    "401": "未认证",
    "403": "角色无权执行此操作",
    "404": "不存在或不在管辖范围内",
    "409": "与已有数据冲突",
}
READ_ERRORS = ("400", "401", "404")


class FangkongAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Document the shared error body on every operation."""
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                statuses = READ_ERRORS if method.lower() == "get" else ERROR_RESPONSES
                responses = operation.setdefault("responses", {})
                for status in statuses:
                    responses.setdefault(status, {"description": ERROR_RESPONSES[status], **ref})
        return schema

    @property
    def urls(self) -> tuple[list[Any], str, str]:
        """ninja's URLs, each answering 405 in our error format and never cached, plus a JSON
        404 for any other path under the API."""
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _finish(pattern.callback)
        # Django tries the patterns in order: the routes that checkpoints and venue-code
        # platforms call all day come first (no two routes match the same path, so the order
        # changes nothing else; the OpenAPI document keeps the routers' order).
        patterns.sort(key=lambda p: not any(hot in str(p.pattern) for hot in HOT_ROUTES))
        patterns.append(re_path(r"^.*$", _finish(_unknown_path), name="unknown"))
        return patterns, app_name, namespace


HOT_ROUTES = ("/passages", "checkins", "health-checks")


def _unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return errors.json_error(404, "not_found", _("未找到。"))


def _finish(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:  # ninja's API root view raises it outside the exception handlers
            response = errors.json_error(404, "not_found", _("未找到。"))
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allow = response.get("Allow", "")
            response = errors.json_error(405, "method_not_allowed", _("不支持此请求方法。"))
            response["Allow"] = allow
        response.setdefault("Cache-Control", "no-store")
        return response

    wrapped.csrf_exempt = True  # type: ignore[attr-defined]  # SessionAuth checks CSRF itself
    return wrapped


api = FangkongAPI(
    title="防控 Fangkong API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=api_auth,
    docs=Swagger(settings={"validatorUrl": None}),
)
errors.install(api)

api.add_router("", geo_router)
api.add_router("", divisions_router)
# Before people: /people/export.xlsx must be tried before /people/{person_id}.
api.add_router("", imports_router)
api.add_router("", people_router)
api.add_router("", accounts_router)
api.add_router("", policy_router)
api.add_router("", risk_router)
api.add_router("", travel_router)
api.add_router("", control_router)
api.add_router("", places_router)
api.add_router("", checkins_router)
api.add_router("", checkpoints_router)
api.add_router("", passages_router)
api.add_router("", tracing_cases_router)
api.add_router("", tracing_contacts_router)
api.add_router("", tracing_graph_router)
api.add_router("", quarantine_sites_router)
api.add_router("", quarantine_health_router)
api.add_router("", quarantine_tests_router)
