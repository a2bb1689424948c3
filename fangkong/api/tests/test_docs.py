"""OpenAPI document and the Swagger page: complete, valid JSON, nothing loaded from the internet."""

from __future__ import annotations

import json
import re

from django.contrib.staticfiles import finders
from django.test import Client

PATHS = {
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
