"""Bearer tokens and the Django session (with CSRF on writes) both identify the viewer."""

from __future__ import annotations

import json

from django.test import Client
from django.utils import timezone

from fangkong.accounts.services import token_create, token_revoke
from fangkong.people.models import Person


def _new_person(world) -> str:
    return json.dumps(
        {"name": "孙悟", "id_type": "none", "division_code": world.county.grid_a.code}
    )


def test_bearer_token_identifies_the_user(world, users):
    _, raw = token_create(actor=None, user=users.town_officer)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me")
    assert response.json()["username"] == "town_a"


def test_scheme_is_case_insensitive(world, users):
    _, raw = token_create(actor=None, user=users.town_officer)
    assert Client(HTTP_AUTHORIZATION=f"bearer {raw}").get("/api/v1/me").status_code == 200


def test_wrong_revoked_or_inactive_tokens_are_401(world, users):
    _, raw = token_create(actor=None, user=users.grid_worker)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}x").get("/api/v1/me").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer ").get("/api/v1/me").status_code == 401

    token, raw_revoked = token_create(actor=None, user=users.grid_worker)
    token_revoke(actor=None, token=token)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw_revoked}").get("/api/v1/me").status_code == 401

    users.grid_worker.is_active = False
    users.grid_worker.save(update_fields=["is_active"])
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me").status_code == 401


def test_a_wrong_token_does_not_fall_back_to_the_session(world, users, login):
    client = login(users.commander)
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer fk_not-a-token"
    assert client.get("/api/v1/me").status_code == 401


def test_token_use_is_recorded(world, users):
    token, raw = token_create(actor=None, user=users.grid_worker)
    assert token.last_used_at is None
    Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at <= timezone.now()


def test_session_reads_work_for_the_pages(world, users, login):
    response = login(users.grid_worker).get(f"/api/v1/people/{world.people.head.pk}")
    assert response.status_code == 200
    assert response.json()["name"] == "张建国"


def test_session_writes_need_the_csrf_token(world, users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users.grid_worker)
    before = Person.objects.count()

    refused = client.post(
        "/api/v1/people", data=_new_person(world), content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert Person.objects.count() == before

    client.get("/api/v1/docs")  # any page that renders a CSRF token sets the cookie
    csrf = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/people",
        data=_new_person(world),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert accepted.status_code == 201, accepted.content.decode()
    assert Person.objects.count() == before + 1


def test_token_writes_need_no_csrf_token(world, users):
    _, raw = token_create(actor=None, user=users.grid_worker)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post(
        "/api/v1/people", data=_new_person(world), content_type="application/json"
    )
    assert response.status_code == 201


def test_anonymous_write_is_401_not_a_csrf_failure(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/people", data=_new_person(world), content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
