"""OpenAPI document and the Swagger page: complete, valid JSON, nothing loaded from the internet."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from typing import Any

from django.contrib.staticfiles import finders
from django.test import Client
from ninja import Schema
from pydantic import BaseModel

PATHS = {
    # issue 7: quarantine sites, rooms, stays, occupancy
    "/api/v1/quarantine-sites",
    "/api/v1/quarantine-sites/{site_id}",
    "/api/v1/quarantine-sites/{site_id}/rooms",
    "/api/v1/quarantine-rooms/{room_id}",
    "/api/v1/quarantine-sites/{site_id}/staff",
    "/api/v1/quarantine-sites/{site_id}/staff/{user_id}",
    "/api/v1/quarantine-sites/{site_id}/stays",
    "/api/v1/stays",
    "/api/v1/stays/{stay_id}/transfer",
    "/api/v1/stays/{stay_id}/checkout",
    "/api/v1/control-orders/{order_id}/move-home",
    "/api/v1/quarantine/occupancy",
    "/api/v1/quarantine/forecast",
    "/api/v1/quarantine/awaiting",
    "/api/v1/quarantine/settings",
    # issue 7: health checks
    "/api/v1/health-checks",
    "/api/v1/control-orders/{order_id}/health-link",
    "/api/v1/quarantine/home-list",
    "/api/v1/door-visits",
    "/api/v1/quarantine/alerts",
    "/api/v1/quarantine/alerts/{alert_id}/resolve",
    "/api/v1/cases",
    "/api/v1/cases/{case_id}",
    "/api/v1/cases/{case_id}/reclassify",
    "/api/v1/cases/{case_id}/report.docx",
    "/api/v1/cases/{case_id}/timeline",
    "/api/v1/cases/{case_id}/investigation",
    "/api/v1/cases/{case_id}/contact-candidates",
    "/api/v1/cases/{case_id}/contacts",
    "/api/v1/contacts/{contact_id}/coworkers",
    "/api/v1/contacts/{contact_id}/secondaries",
    "/api/v1/clusters",
    "/api/v1/clusters/{cluster_id}",
    "/api/v1/clusters/{cluster_id}/graph",
    "/api/v1/cases/{case_id}/cluster",
    "/api/v1/chains",
    "/api/v1/teams",
    "/api/v1/divisions",
    "/api/v1/divisions/{code}",
    "/api/v1/divisions/{code}/coverage",
    "/api/v1/people",
    "/api/v1/people/{person_id}",
    "/api/v1/people/{person_id}/reveal",
    "/api/v1/people/{person_id}/history",
    "/api/v1/households",
    "/api/v1/households/{household_id}",
    "/api/v1/households/{household_id}/members",
    "/api/v1/me",
    "/api/v1/imports",
    "/api/v1/imports/{job_id}",
    "/api/v1/imports/{job_id}/errors",
    "/api/v1/imports/{job_id}/errors.xlsx",
    "/api/v1/imports/{job_id}/resume",
    "/api/v1/imports/{job_id}/rollback",
    "/api/v1/people/export.xlsx",
    "/api/v1/households/export.xlsx",
    # issue 4: policy editions, regions, risk areas, arrivals, control orders, the loop
    "/api/v1/policy-editions",
    "/api/v1/policy-editions/in-force",
    "/api/v1/policy-editions/{code}",
    "/api/v1/policy-editions/{code}/activate",
    "/api/v1/policy-activations",
    "/api/v1/regions/tree",
    "/api/v1/regions/{code}",
    "/api/v1/risk-areas",
    "/api/v1/risk-areas/{area_id}",
    "/api/v1/risk-areas/{area_id}/end",
    "/api/v1/risk-areas/{area_id}/confirm-downgrade",
    "/api/v1/sweeps",
    "/api/v1/sweeps/{sweep_id}",
    "/api/v1/arrivals",
    "/api/v1/arrivals/{arrival_id}",
    "/api/v1/assist-requests",
    "/api/v1/assist-requests/{request_id}",
    "/api/v1/assist-requests/{request_id}/letter.docx",
    "/api/v1/control-orders",
    "/api/v1/control-orders/{order_id}",
    "/api/v1/control-orders/{order_id}/confirm",
    "/api/v1/control-orders/{order_id}/change",
    "/api/v1/control-orders/{order_id}/cancel",
    "/api/v1/control-orders/{order_id}/transfer-out",
    "/api/v1/control-orders/{order_id}/release",
    "/api/v1/control-orders/{order_id}/advance-phase",
    "/api/v1/loop/inbox",
    "/api/v1/loop/steps/{step_id}/complete",
    "/api/v1/loop/overview",
    "/api/v1/loop/settings",
    # issue 5: checkpoints and duty shifts, passages, places, venue-code check-ins
    "/api/v1/checkpoints",
    "/api/v1/checkpoints/coverage",
    "/api/v1/checkpoints/{checkpoint_id}",
    "/api/v1/checkpoints/{checkpoint_id}/shifts",
    "/api/v1/checkpoints/{checkpoint_id}/shifts/{shift_id}",
    "/api/v1/checkpoints/{checkpoint_id}/passages",
    "/api/v1/passages",
    "/api/v1/passages/counts",
    "/api/v1/passages/{passage_id}",
    "/api/v1/places",
    "/api/v1/places/stay-rules",
    "/api/v1/places/{place_id}",
    "/api/v1/places/{place_id}/close",
    "/api/v1/places/{place_id}/poster.pdf",
    "/api/v1/places/{place_id}/poster.png",
    "/api/v1/checkins",
    "/api/v1/checkins/{checkin_id}/checkout",
    # issue 7: test schedules, release, certificates
    "/api/v1/sampling-tasks",
    "/api/v1/sampling-tasks/{task_id}/sampled",
    "/api/v1/sampling-tasks/{task_id}/result",
    "/api/v1/control-orders/{order_id}/release-certify",
    "/api/v1/control-orders/{order_id}/notice.pdf",
    "/api/v1/certificates/{certificate_id}",
    "/api/v1/certificates/{certificate_id}/pdf",
    "/api/v1/certificates/verify/{code}",
}


def test_openapi_document_is_json_with_every_path_and_schema(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == PATHS
    components = schema["components"]["schemas"]
    assert set(components["PersonIn"]["required"]) == {"name", "division_code"}
    assert "id_number" in components["PersonOut"]["properties"]
    assert set(components["PagedPersonOut"]["properties"]) == {
        "count",
        "page",
        "page_size",
        "pages",
        "results",
    }
    create = schema["paths"]["/api/v1/people"]["post"]
    assert set(create["responses"]) >= {"201", "400", "401", "403", "409"}
    error_ref = create["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert error_ref == "#/components/schemas/Error"
    assert set(components["Error"]["required"]) == {"code", "message", "errors"}
    security = schema["components"]["securitySchemes"]
    assert security["BearerTokenAuth"]["scheme"] == "bearer"
    params = {p["name"] for p in schema["paths"]["/api/v1/divisions"]["get"]["parameters"]}
    assert params == {"parent", "level", "within", "page", "page_size"}


def _resolve(components: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a $ref (also one wrapped in anyOf with null, as optional fields are written)."""
    for option in schema.get("anyOf", [schema]):
        if "$ref" in option:
            return components[option["$ref"].rsplit("/", 1)[-1]]
    return schema


def _ref_name(schema: dict[str, Any]) -> str:
    for option in schema.get("anyOf", [schema]):
        if "$ref" in option:
            return option["$ref"].rsplit("/", 1)[-1]
    return ""


def test_issue4_operations_document_their_answers_and_inputs(db):
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    components = schema["components"]["schemas"]

    register = paths["/api/v1/arrivals"]["post"]
    assert set(register["responses"]) >= {"201", "400", "401", "403"}
    created = register["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert created == "#/components/schemas/ArrivalCreatedOut"
    arrival = components["ArrivalCreatedOut"]["properties"]
    assert {"risk_level", "category", "order", "no_order_reason", "task_id"} <= set(arrival)
    order = _resolve(components, arrival["order"])
    assert {"status", "category", "counts_from", "anchor_date", "phases"} <= set(
        order["properties"]
    )
    phase = _resolve(components, order["properties"]["phases"]["items"])
    assert {"kind", "days", "start", "end", "test_days"} <= set(phase["properties"])
    assert set(components["ArrivalIn"]["required"]) == {
        "name",
        "id_number",
        "phone",
        "left_on",
        "arrived_on",
        "transport",
    }

    assert set(components["RiskAreaIn"]["required"]) == {"level", "region_code", "start_date"}
    assert components["RiskAreaIn"]["additionalProperties"] is False
    declare = paths["/api/v1/risk-areas"]["post"]["responses"]
    assert set(declare) >= {"201", "400", "401", "403"}
    written = components["RiskAreaWrittenOut"]["properties"]
    assert _ref_name(written["sweep"]) == "SweepOut"
    assert set(components["EndIn"]["required"]) == {"end_date", "reason"}

    for action in ("confirm", "change", "cancel", "transfer-out", "release", "advance-phase"):
        responses = paths[f"/api/v1/control-orders/{{order_id}}/{action}"]["post"]["responses"]
        assert set(responses) >= {"200", "400", "401", "403", "404", "409"}, action
    assert set(components["ChangeIn"]["required"]) == {"reason"}
    assert set(paths["/api/v1/loop/settings"]["put"]["responses"]) >= {"200", "401", "403"}
    assert set(components["SettingsIO"]["required"]) == {
        "ack_hours",
        "visit_hours",
        "in_place_hours",
        "town_after_hours",
        "county_after_hours",
    }
    assert set(components["ActivateIn"]["required"]) == {"effective_from"}
    for paged in ("PagedArrivalOut", "PagedOrderOut", "PagedTaskOut", "PagedRiskAreaOut"):
        assert set(components[paged]["properties"]) == {
            "count",
            "page",
            "page_size",
            "pages",
            "results",
        }, paged


def test_issue5_operations_document_their_answers_and_inputs(db):
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    components = schema["components"]["schemas"]

    # The venue-code platform posts one check-in, or a batch as {"items": [...]}.
    post = paths["/api/v1/checkins"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    inputs = {_ref_name(option) for option in body["anyOf"]}
    assert inputs == {"CheckInIn", "CheckInBatchIn"}
    batch = components["CheckInBatchIn"]
    assert batch["required"] == ["items"]
    assert batch["properties"]["items"]["items"]["$ref"] == "#/components/schemas/CheckInIn"
    assert set(components["CheckInIn"]["required"]) == {"place_code", "name", "id_number"}
    for model in ("CheckInIn", "CheckInBatchIn"):
        assert components[model]["additionalProperties"] is False, model
    assert set(post["responses"]) >= {"200", "201", "400", "401", "403"}
    for status in ("200", "201"):
        answer = post["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert answer == "#/components/schemas/BulkOut", status
    assert set(components["BulkOut"]["properties"]) == {"created", "duplicates", "errors"}

    # A passage: 201 when registered, 200 (the same passage) when the key is sent again.
    register = paths["/api/v1/checkpoints/{checkpoint_id}/passages"]["post"]
    assert set(register["responses"]) >= {"200", "201", "400", "401", "403", "404", "409"}
    for status in ("200", "201"):
        answer = register["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert answer == "#/components/schemas/PassageOut", status
    assert "idempotency_key" in components["PassageIn"]["properties"]
    assert components["PassageIn"]["additionalProperties"] is False

    delete = paths["/api/v1/checkpoints/{checkpoint_id}/shifts/{shift_id}"]["delete"]
    assert set(delete["responses"]) >= {"204", "401", "403", "404", "409"}
    for paged in ("PagedCheckpointOut", "PagedPassageOut", "PagedPlaceOut", "PagedCheckInOut"):
        assert set(components[paged]["properties"]) == {
            "count",
            "page",
            "page_size",
            "pages",
            "results",
        }, paged


API_MODULES = (
    "fangkong.accounts.api",
    "fangkong.geo.api",
    "fangkong.people.api",
    "fangkong.policy.api",
    "fangkong.travel.api",
    "fangkong.travel.api_risk",
    "fangkong.control.api",
    "fangkong.api.routes_divisions",
    "fangkong.api.routes_imports",
    "fangkong.travel.api_checkpoints",
    "fangkong.travel.api_passages",
    "fangkong.places.api",
    "fangkong.places.api_checkins",
    "fangkong.tracing.api_cases",
    "fangkong.tracing.api_contacts",
    "fangkong.tracing.api_graph",
)


def test_no_two_schemas_share_a_name_in_the_document(db):
    """The document names components by class name: two schemas of the same name in different
    apps are written once, and every reference to the other then describes the wrong fields."""
    components = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
    owners: dict[str, set[str]] = {}
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            # ninja Schemas and the plain pydantic models of the hot routes alike.
            is_schema = inspect.isclass(value) and issubclass(value, BaseModel)
            if is_schema and value not in (Schema, BaseModel) and name in components:
                owners.setdefault(name, set()).add(f"{value.__module__}.{value.__qualname__}")
    shared = {name: sorted(classes) for name, classes in owners.items() if len(classes) > 1}
    assert shared == {}


def test_openapi_document_has_no_duplicate_keys(db):
    """json.loads keeps the last of two equal keys: the document must not have any."""
    content = Client().get("/api/v1/openapi.json").content

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _value in pairs]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
        return dict(pairs)

    json.loads(content, object_pairs_hook=no_duplicates)


def test_docs_page_loads_nothing_from_outside_the_site(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, flags=re.IGNORECASE) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in assets
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    settings_json = re.search(
        r'<script type="application/json" id="swagger-settings">(.*?)</script>', html, re.S
    )
    swagger = json.loads(settings_json.group(1))
    assert swagger["url"] == "/api/v1/openapi.json"
    assert swagger["validatorUrl"] is None  # Swagger UI would otherwise call validator.swagger.io
