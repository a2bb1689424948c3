"""POST /api/v1/checkpoints/{id}/passages as the barrier's app sends it: the answer shows the
flags and what to do at once, the hand-over state of the loop, a retry answers 200 with the
same passage, bad input names the field path, and the Idempotency-Key header works too."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.conf import settings
from django.test import override_settings

from fangkong.travel.models import CheckpointPassage, TravelRegistration
from fangkong.travel.services_passages import passages_process

from .factories import CHAOYANG, GRID_A, TODAY, risk_area
from .test_passages_services import (
    DRIVER_ID,
    PASSENGER_ID,
    make_checkpoint,
    make_staff,
    passage_data,
)

pytestmark = pytest.mark.django_db
WORKER = {**settings.FANGKONG, "LOOP_INLINE": False}


@pytest.fixture
def barrier(county, users, api_client):
    checkpoint = make_checkpoint(county.town_a)
    return (
        checkpoint,
        api_client(make_staff(county)),
        f"/api/v1/checkpoints/{checkpoint.pk}/passages",
    )


def post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_a_passage_from_a_risk_area_answers_with_flags_and_actions(barrier):
    _checkpoint, client, url = barrier
    risk_area(code=CHAOYANG, start=TODAY - dt.timedelta(days=3), end=None)
    body = {**passage_data(origin_code=CHAOYANG), "idempotency_key": uuid.uuid4().hex}
    response = post(client, url, body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["flagged"] is True
    assert answer["handover"] == "done"  # LOOP_INLINE in the tests: handed over at once
    driver = answer["occupants"][0]
    assert driver["flag"] == "risk_area"
    assert driver["id_number"] != DRIVER_ID  # masked
    assert any("网格员" in a for a in driver["actions"])
    assert driver["arrival_id"] == TravelRegistration.objects.get(person__id_number=DRIVER_ID).pk
    assert answer["destination_code"] == GRID_A


@override_settings(FANGKONG=WORKER)
def test_without_inline_the_answer_says_pending_and_the_worker_finishes(barrier):
    _checkpoint, client, url = barrier
    risk_area(code=CHAOYANG, start=TODAY - dt.timedelta(days=3), end=None)
    key = uuid.uuid4().hex
    first = post(client, url, {**passage_data(origin_code=CHAOYANG), "idempotency_key": key})
    assert first.status_code == 201
    assert first.json()["handover"] == "pending"
    assert first.json()["occupants"][0]["arrival_id"] is None
    assert passages_process(actor=None)["done"] == 1
    again = post(client, url, {**passage_data(origin_code=CHAOYANG), "idempotency_key": key})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["handover"] == "done"
    assert again.json()["occupants"][0]["arrival_id"] is not None


def test_a_retry_by_header_answers_200_and_writes_nothing(barrier):
    _checkpoint, client, url = barrier
    key = uuid.uuid4().hex
    first = post(client, url, passage_data(), **{"Idempotency-Key": key})
    again = post(client, url, passage_data(plate="陕C99999"), **{"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["plate"] == first.json()["plate"]
    assert CheckpointPassage.objects.count() == 1


def test_bad_input_names_each_path_and_writes_nothing(barrier):
    _checkpoint, client, url = barrier
    rows = passage_data()["occupants"]
    bad_check = PASSENGER_ID[:-1] + ("0" if PASSENGER_ID[-1] != "0" else "1")
    rows[1] = {**rows[1], "temperature": "45", "id_number": bad_check}
    response = post(
        client,
        url,
        {**passage_data(plate="陕A1234", occupants=rows), "idempotency_key": uuid.uuid4().hex},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"plate", "occupants[1].temperature", "occupants[1].id_number"} <= set(errors)
    assert "34–43" in errors["occupants[1].temperature"][0]
    assert not CheckpointPassage.objects.exists()


def test_an_unknown_field_is_refused(barrier):
    _checkpoint, client, url = barrier
    response = post(client, url, {**passage_data(), "idempotency_key": "k1", "colour": "red"})
    assert response.status_code in (400, 422)
    assert not CheckpointPassage.objects.exists()


def test_a_checkpoint_out_of_scope_is_not_found(county, users, api_client):
    checkpoint = make_checkpoint(county.town_b, name="外镇卡口")
    response = post(
        api_client(users.town_officer),
        f"/api/v1/checkpoints/{checkpoint.pk}/passages",
        {**passage_data(), "idempotency_key": uuid.uuid4().hex},
    )
    assert response.status_code == 404


def test_known_people_are_shown_without_a_query_each(
    barrier, people, django_assert_max_num_queries
):
    """The answer shows each registered occupant's record (masked): one read for all of them
    (here, with the test settings' caches off: the token, its use, the checkpoint, the region,
    the grid, the risk lookup, the write, the people)."""
    _checkpoint, client, url = barrier
    rows = [
        {"name": p.name, "id_number": p.id_number, "phone": "13511112222", "temperature": "36.4"}
        for p in (people.head, people.spouse)
    ]
    body = {**passage_data(occupants=rows), "idempotency_key": uuid.uuid4().hex}
    with django_assert_max_num_queries(12):
        response = post(client, url, body)
    assert response.status_code == 201, response.content
    shown = [o["person"]["id"] for o in response.json()["occupants"]]
    assert shown == [people.head.pk, people.spouse.pk]
