"""The contacts section of a case (pages, htmx) and the contacts API, on the real clock.

The county is put on the 9th edition (travel factories' `activate`) where an edition matters.
"""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.control.models import ControlOrder
from fangkong.core.tests.idgen import make_resident_id
from fangkong.core.timeutils import local_today, now
from fangkong.places.models import Place
from fangkong.tracing.models import Case, Contact
from fangkong.travel.tests.factories import activate

HX = {"HTTP_HX_REQUEST": "true"}
COWORKER_ID = make_resident_id("610326", dt.date(1995, 6, 1), 52)


@pytest.fixture
def case(people) -> Case:
    return Case.objects.create(
        code="眉病〔2026〕1号",
        person=people.head,
        classification="confirmed",
        onset_date=local_today() - dt.timedelta(days=1),
        report_date=local_today(),
        division=people.head.division,
    )


@pytest.fixture
def market(county) -> Place:
    return Place.objects.create(
        code="P0001", name="齐镇农贸市场", kind="market", division=county.grid_a, address="齐镇"
    )


@pytest.fixture
def at_market(case, people, market) -> Contact:
    seen = now() - dt.timedelta(days=1)
    return Contact.objects.create(
        case=case,
        person=people.other,
        name=people.other.name,
        id_type=people.other.id_type,
        id_number=people.other.id_number,
        phone=people.other.phone,
        evidence_kind="checkin",
        evidence={
            "items": [
                {
                    "kind": "checkin",
                    "place_id": market.pk,
                    "overlap_from": (seen - dt.timedelta(minutes=40)).isoformat(),
                    "overlap_to": seen.isoformat(),
                }
            ]
        },
        setting="venue",
        last_exposure_at=seen,
    )


# --- pages -------------------------------------------------------------------------------------


def test_the_section_shows_candidates_with_their_evidence_in_words(
    login, users, case, at_market, people
):
    response = login(users.epidemiologist).get(f"/tracing/contacts/case/{case.pk}/", **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body  # the htmx partial
    assert people.other.name in body
    assert "齐镇农贸市场" in body
    assert people.other.id_number not in body  # masked
    assert "密切接触者" in body  # the decide buttons

    page = login(users.epidemiologist).get(f"/tracing/contacts/case/{case.pk}/")
    assert page.status_code == 200
    assert 'id="contacts-section"' in page.content.decode()


def test_deciding_close_in_the_section_proposes_the_order(login, users, case, at_market):
    activate("v9")
    client = login(users.epidemiologist)
    response = client.post(
        f"/tracing/contacts/{at_market.pk}/decide/",
        {"status": "close", "reason": "同一摊位购物40分钟"},
        **HX,
    )
    assert response.status_code == 200
    assert "已提出管控措施" in response.content.decode()
    at_market.refresh_from_db()
    assert at_market.status == "close"
    assert ControlOrder.objects.get(pk=at_market.order_id).category == "close_contact"

    again = client.post(
        f"/tracing/contacts/{at_market.pk}/decide/",
        {"status": "general", "reason": "改判"},
        **HX,
    )
    assert again.status_code == 400
    assert "不能重复判定" in again.content.decode()


def test_a_decision_without_a_reason_is_shown_back(login, users, case, at_market):
    response = login(users.epidemiologist).post(
        f"/tracing/contacts/{at_market.pk}/decide/", {"status": "close", "reason": ""}, **HX
    )
    assert response.status_code == 400
    assert "请填写判定理由" in response.content.decode()
    at_market.refresh_from_db()
    assert at_market.status == "candidate"


def test_refresh_and_manual_add_from_the_section(login, users, case, people):
    client = login(users.epidemiologist)
    response = client.post(f"/tracing/contacts/case/{case.pk}/refresh/", **HX)
    assert response.status_code == 200
    assert people.spouse.name in response.content.decode()  # household member found

    response = client.post(
        f"/tracing/contacts/case/{case.pk}/add/",
        {"name": "孙同桌", "id_type": "resident_id", "id_number": "123", "status": "candidate"},
        **HX,
    )
    assert response.status_code == 400
    assert "孙同桌" in response.content.decode()  # the form keeps what was typed
    assert not Contact.objects.filter(name="孙同桌").exists()


def test_who_may_see_and_decide(login, users, case, at_market, people):
    url = f"/tracing/contacts/case/{case.pk}/"
    assert login(users.grid_worker).get(url, **HX).status_code == 403
    leader = login(users.leader).get(url, **HX)
    assert leader.status_code == 200
    body = leader.content.decode()
    assert people.other.name not in body  # surname only for a leader
    assert "contacts:decide" not in body
    assert 'name="reason"' not in body
    decide = login(users.leader).post(
        f"/tracing/contacts/{at_market.pk}/decide/", {"status": "close", "reason": "x"}, **HX
    )
    assert decide.status_code == 403
    assert login(users.epidemiologist).get("/tracing/contacts/case/999999/").status_code == 404


# --- API ---------------------------------------------------------------------------------------


def test_api_candidates_refresh_and_list(api_client, users, case, people):
    response = api_client(users.epidemiologist).get(f"/api/v1/cases/{case.pk}/contact-candidates")
    assert response.status_code == 200
    body = response.json()
    assert body["refreshed"] is True
    assert body["added"] == 1
    [item] = body["items"]
    assert item["evidence_kind"] == "household"
    assert item["evidence_words"] == ["同住家庭成员"]
    assert item["id_number"] != people.spouse.id_number

    leader = api_client(users.leader).get(f"/api/v1/cases/{case.pk}/contact-candidates").json()
    assert leader["refreshed"] is False
    assert leader["items"][0]["name"] != people.spouse.name


def test_api_decide_add_and_secondaries(api_client, users, case, at_market, people):
    activate("v9")
    client = api_client(users.epidemiologist)
    url = f"/api/v1/cases/{case.pk}/contacts"
    decided = client.post(
        url,
        {"contact_id": at_market.pk, "status": "close", "reason": "同摊位"},
        content_type="application/json",
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "close"
    assert decided.json()["order_id"] is not None
    assert "齐镇农贸市场" in decided.json()["evidence_words"][0]

    twice = client.post(
        url,
        {"contact_id": at_market.pk, "status": "general", "reason": "改判"},
        content_type="application/json",
    )
    assert twice.status_code == 409
    assert "已判定" in twice.json()["message"]

    added = client.post(
        url,
        {
            "name": "钱新人",
            "id_type": "resident_id",
            "id_number": people.spouse.id_number,
            "setting": "dining",
            "last_exposure_at": (now() - dt.timedelta(hours=5)).isoformat(),
        },
        content_type="application/json",
    )
    assert added.status_code == 201
    assert added.json()["evidence_kind"] == "manual"

    future = client.post(
        url,
        {
            "name": "赵未来",
            "id_number": "110105198804091712",
            "last_exposure_at": (now() + dt.timedelta(days=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert future.status_code == 400
    assert "last_exposure_at" in future.json()["errors"]

    listed = client.get(url).json()
    assert {c["status"] for c in listed} == {"close", "candidate"}

    coworkers = client.post(
        f"/api/v1/contacts/{at_market.pk}/coworkers",
        {"rows": [{"name": "孙同事", "id_number": COWORKER_ID}]},
        content_type="application/json",
    )
    assert coworkers.status_code == 201
    secondaries = client.post(f"/api/v1/contacts/{at_market.pk}/secondaries")
    assert secondaries.status_code == 201
    [secondary] = secondaries.json()
    assert secondary["degree"] == 2
    assert secondary["via_id"] == at_market.pk
    assert secondary["evidence_kind"] == "coworker"

    assert (
        api_client(users.leader)
        .post(
            url,
            {"contact_id": at_market.pk, "status": "general", "reason": "x"},
            content_type="application/json",
        )
        .status_code
        == 403
    )


def test_api_secondaries_refused_without_them_in_the_edition(api_client, users, at_market):
    activate("ten")
    client = api_client(users.epidemiologist)
    client.post(
        f"/api/v1/cases/{at_market.case_id}/contacts",
        {"contact_id": at_market.pk, "status": "close", "reason": "同摊位"},
        content_type="application/json",
    )
    response = client.post(f"/api/v1/contacts/{at_market.pk}/secondaries")
    assert response.status_code == 409
    assert "不判定密接的密接" in response.json()["message"]
