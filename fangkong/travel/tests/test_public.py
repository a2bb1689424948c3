"""The public self-report page (/r/<code>/): no login, bad and repeated submissions, the same
receipt for the same trip, no disclosure of who is registered, CSRF, and the rate limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings

from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person
from fangkong.travel.models import TravelRegistration

from .factories import GRID_A, GRID_A2, GRID_B, NEW_ID, recent_arrival_data

pytestmark = pytest.mark.django_db

VILLAGE_A = "610326107201"
RECEIPT = re.compile(r'id="receipt-code">([A-Z0-9]{8})<')


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def form_data(**overrides):
    data = recent_arrival_data(**overrides)
    data.pop("outside_county", None)
    symptoms = data.pop("symptoms", "")
    if symptoms:
        data["symptoms"] = symptoms
    return data


def post(client, code=VILLAGE_A, ip="203.0.113.7", **overrides):
    return client.post(f"/r/{code}/", form_data(**overrides), REMOTE_ADDR=ip)


def receipt_of(response) -> str:
    match = RECEIPT.search(response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


def test_the_village_page_needs_no_login_and_offers_the_villages_grids(county):
    response = Client().get(f"/r/{VILLAGE_A}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "来返人员报备" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'value="{GRID_A}"' in html
    assert f'value="{GRID_A2}"' in html
    assert f'value="{GRID_B}"' not in html
    assert 'name="origin_code"' in html  # the fallback without JavaScript
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_county_page_offers_every_village_with_its_grids(county):
    html = Client().get("/r/610326/").content.decode()
    assert '<optgroup label="齐镇/齐镇村">' in html
    assert '<optgroup label="横渠镇/横渠村">' in html
    assert f'value="{GRID_B}"' in html


@pytest.mark.parametrize("code", ["610326107", GRID_A, "999999", "110105"])
def test_only_the_county_and_its_villages_have_a_page(county, code):
    assert Client().get(f"/r/{code}/").status_code == 404


def test_a_good_submission_answers_with_the_receipt(county):
    response = post(Client())
    assert response.status_code == 200
    receipt = receipt_of(response)
    reg = TravelRegistration.objects.get()
    assert reg.receipt_code == receipt
    assert reg.channel == "self_report"
    assert reg.destination_division_id == GRID_A
    html = response.content.decode()
    assert "赵新来" not in html
    assert NEW_ID not in html


def test_symptoms_are_ticked_boxes(county):
    post(Client(), symptoms=["发热", "咳嗽"])
    assert TravelRegistration.objects.get().symptoms == "发热、咳嗽"


def test_a_bad_submission_shows_each_error_next_to_its_field_and_saves_nothing(county):
    response = post(
        Client(),
        id_number=NEW_ID[:-1] + ("1" if NEW_ID[-1] != "1" else "2"),
        phone="12345",
        left_on="2099-01-01",
        transport="car",
        vehicle_no="陕C1234",
    )
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("id_number", "phone", "left_on", "vehicle_no"):
        assert f'data-field="{field}"' in html
    assert "身份证号校验码错误" in html
    assert "手机号应为11位" in html
    assert "离开日期不能晚于今天" in html
    assert "车牌号长度不对" in html
    assert 'value="赵新来"' in html  # what was typed is kept
    assert not TravelRegistration.objects.exists()
    assert not Person.objects.exists()


def test_a_destination_outside_the_qr_codes_village_is_refused(county):
    response = post(Client(), destination_code=GRID_B)
    assert 'data-field="destination_code"' in response.content.decode()
    assert not TravelRegistration.objects.exists()


def test_a_repeated_submission_gets_the_same_receipt_and_no_second_record(county):
    first = receipt_of(post(Client()))
    again = receipt_of(post(Client(), ip="198.51.100.9"))
    assert first == again
    assert TravelRegistration.objects.count() == 1
    assert Person.objects.count() == 1


def test_the_answer_does_not_reveal_whether_a_person_is_registered(county, people):
    """A known ID (even under another name) and an unknown one get the same page, byte for
    byte, apart from the receipt code."""
    known = post(Client(), id_number=people.head.id_number, name="随便填")
    unknown = post(Client(), id_number=make_resident_id("420111", dt.date(1999, 9, 9), 13))
    assert known.status_code == unknown.status_code == 200
    a = known.content.replace(receipt_of(known).encode(), b"RECEIPT")
    b = unknown.content.replace(receipt_of(unknown).encode(), b"RECEIPT")
    assert a == b
    assert "张建国" not in known.content.decode()


def test_the_form_is_csrf_protected(county):
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/r/{VILLAGE_A}/", form_data()).status_code == 403
    page = client.get(f"/r/{VILLAGE_A}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(f"/r/{VILLAGE_A}/", {**form_data(), "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert TravelRegistration.objects.count() == 1


@override_settings(FANGKONG={**settings.FANGKONG, "SELF_REPORT_RATE": "2/600"})
def test_too_many_submissions_from_one_client_get_429(county):
    client = Client()
    assert post(client, phone="1").status_code == 200  # a bad one counts too
    assert post(client).status_code == 200
    response = post(client, arrived_on="")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "提交过于频繁" in html
    assert TravelRegistration.objects.count() == 1
    assert post(client, ip="192.0.2.1", id_number=people_free_id()).status_code == 200


def people_free_id() -> str:
    return make_resident_id("110105", dt.date(1977, 7, 7), 21)


def test_the_cascader_data(county):
    response = Client().get("/r/regions.json")
    assert response.status_code == 200
    tree = response.json()
    assert {"code": "11", "name": "北京市"} in tree["provinces"]
    assert any(c["code"] == "110105" for c in tree["counties"]["1101"])
    assert "public" in response["Cache-Control"]
