"""The public check-in page /v/<code>/: form, one-tap check-in, retries, check-out with a
signed token, unknown and closed places, the rate limit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from fangkong.core.tests.idgen import make_resident_id
from fangkong.places.models import CheckIn, Place

pytestmark = pytest.mark.django_db
ID1 = make_resident_id("610326", dt.date(1980, 5, 1), 11)


@pytest.fixture
def place(county):
    return Place.objects.create(
        code="MKT23456",
        name="城关农贸市场",
        kind="market",
        division=county.village_a,
        address="人民路1号",
    )


def _tap(client, place, key="tap-1", **extra):
    data = {"name": "赵六", "id_type": "resident_id", "id_number": ID1, "phone": "", "key": key}
    return client.post(f"/v/{place.code}/", {**data, **extra})


def test_first_visit_shows_the_form_with_the_place(place):
    response = Client().get(f"/v/{place.code}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "城关农贸市场" in body
    assert 'name="id_number"' in body
    assert "登记进入" in body
    assert "不是我/清除" in body
    assert 'name="key"' in body


def test_tap_records_once_and_a_retry_with_the_same_uuid_does_not(place):
    client = Client()
    first = _tap(client, place)
    assert first.status_code == 200
    body = first.content.decode()
    assert "登记成功" in body
    assert "离开时点这里" in body
    assert "赵六" not in body
    again = _tap(client, place)
    assert again.status_code == 200
    assert CheckIn.objects.count() == 1
    checkin = CheckIn.objects.get()
    assert checkin.source == "scan"
    assert checkin.out_imputed
    assert f'value="{checkin.pk}"' not in body  # no raw id on the page
    # Opened again within the stay: 已登记.
    assert "您已登记" in client.get(f"/v/{place.code}/").content.decode()
    # A new tap (new uuid) is a new check-in.
    _tap(client, place, key="tap-2")
    assert CheckIn.objects.count() == 2


def test_bad_input_shows_the_form_again_and_writes_nothing(place):
    response = _tap(Client(), place, id_number="610326198001011234")
    assert response.status_code == 400
    assert "身份证号" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_checkout_with_signed_token_and_tampered_token_refused(place):
    client = Client()
    body = _tap(client, place).content.decode()
    token = body.split('name="token" value="', 1)[1].split('"', 1)[0]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    bad = client.post(f"/v/{place.code}/out/", {"token": tampered})
    assert bad.status_code == 400
    assert "凭证无效" in bad.content.decode()
    assert CheckIn.objects.get().out_imputed
    done = client.post(f"/v/{place.code}/out/", {"token": token})
    assert done.status_code == 200
    assert "已登记离开" in done.content.decode()
    assert not CheckIn.objects.get().out_imputed
    # After leaving, the page shows the form again.
    assert "登记进入" in client.get(f"/v/{place.code}/").content.decode()


def test_token_of_another_place_is_refused(place, county):
    other = Place.objects.create(
        code="SUP23456", name="超市", kind="supermarket", division=county.village_a, address="x"
    )
    body = _tap(Client(), place).content.decode()
    token = body.split('name="token" value="', 1)[1].split('"', 1)[0]
    assert Client().post(f"/v/{other.code}/out/", {"token": token}).status_code == 400


def test_csrf_is_required(place):
    client = Client(enforce_csrf_checks=True)
    assert _tap(client, place).status_code == 403
    assert not CheckIn.objects.exists()


def test_unknown_and_closed_places(place):
    unknown = Client().get("/v/NOPE2345/")
    assert unknown.status_code == 404
    assert "场所码无效" in unknown.content.decode()
    place.active = False
    place.save()
    closed = Client().get(f"/v/{place.code}/")
    assert closed.status_code == 410
    assert "已停用" in closed.content.decode()
    assert _tap(Client(), place).status_code == 410
    assert not CheckIn.objects.exists()


def test_rate_limit_is_counted_first(place, settings):
    settings.FANGKONG = {**settings.FANGKONG, "CHECKIN_RATE": "2/600"}
    client = Client()
    assert _tap(client, place, key="a").status_code == 200
    assert _tap(client, place, id_number="bad", key="b").status_code == 400
    limited = _tap(client, place, key="c")
    assert limited.status_code == 429
    assert limited["Retry-After"]
    assert CheckIn.objects.count() == 1
