"""Check-ins: validation, idempotency, stay imputation, hotel stays, batches, the API
permission matrix and the importer (a real xlsx with a title row)."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.tests.idgen import make_resident_id
from fangkong.imports.services import import_job_create, import_job_rollback, import_job_run
from fangkong.imports.tests.files import upload, write_xlsx
from fangkong.places.models import CheckIn, Place, StayRule
from fangkong.places.selectors_checkins import checkin_place
from fangkong.places.services_checkins import (
    checkin_checkout,
    checkin_record,
    checkin_record_bulk,
)

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2022, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ID1 = make_resident_id("610326", dt.date(1980, 5, 1), 11)
ID2 = make_resident_id("610326", dt.date(1990, 6, 2), 22)


def _place(county, code="MKT23456", kind="market", active=True, division=None, name="城关农贸市场"):
    return Place.objects.create(
        code=code,
        name=name,
        kind=kind,
        division=division or county.village_a,
        address="城关镇人民路1号",
        active=active,
    )


def _data(**extra):
    return {"name": "赵六", "id_number": ID1, "phone": "13912345678", **extra}


def _row(place, **extra):
    return {"place_code": place.code, **_data(), "checked_in_at": "2022-04-01 09:00", **extra}


# --- validation --------------------------------------------------------------------------------


def test_bad_id_number_and_phone_are_refused_and_nothing_written(county):
    place = checkin_place(code=_place(county).code)
    with pytest.raises(ValidationFailed) as exc:
        checkin_record(
            actor=None,
            place=place,
            data=_data(id_number=ID1[:-1] + ("1" if ID1[-1] != "1" else "2"), phone="123"),
            now=NOW,
        )
    assert set(exc.value.errors) == {"id_number", "phone"}
    assert not CheckIn.objects.exists()


def test_checkout_before_checkin_is_refused(county):
    place = checkin_place(code=_place(county).code)
    with pytest.raises(ValidationFailed) as exc:
        checkin_record(
            actor=None,
            place=place,
            data=_data(checked_in_at="2022-04-01 09:00", checked_out_at="2022-04-01 08:00"),
            now=NOW,
        )
    assert "离开时间早于进入时间" in exc.value.errors["checked_out_at"][0]
    checkin, _ = checkin_record(actor=None, place=place, data=_data(), now=NOW)
    with pytest.raises(ValidationFailed):
        checkin_checkout(actor=None, checkin=checkin, at=NOW - dt.timedelta(hours=1), now=NOW)


def test_unknown_and_closed_places_are_refused(county):
    with pytest.raises(ValidationFailed) as exc:
        checkin_record(actor=None, place=None, data=_data(), now=NOW)
    assert "场所码不存在" in exc.value.errors["place"][0]
    closed = checkin_place(code=_place(county, code="CLOSED22", active=False).code)
    with pytest.raises(ValidationFailed) as exc:
        checkin_record(actor=None, place=closed, data=_data(), now=NOW)
    assert "停用" in exc.value.errors["place"][0]
    assert not CheckIn.objects.exists()


# --- idempotency, person link ------------------------------------------------------------------


def test_same_key_twice_gives_one_row(county, people):
    place = checkin_place(code=_place(county).code)
    data = _data(id_number=people.head.id_number, name=people.head.name, idempotency_key="k-1")
    first, created = checkin_record(actor=None, place=place, data=data, now=NOW)
    again, created_again = checkin_record(actor=None, place=place, data=data, now=NOW)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert CheckIn.objects.count() == 1
    assert first.person_id == people.head.pk  # linked in the INSERT itself
    with pytest.raises(Conflict):  # somebody else's key
        checkin_record(actor=None, place=place, data=_data(idempotency_key="k-1"), now=NOW)


def test_public_scan_is_one_statement(county, django_assert_num_queries):
    place = checkin_place(code=_place(county).code)
    with django_assert_num_queries(1):
        checkin_record(actor=None, place=place, data=_data(idempotency_key="one"), now=NOW)


# --- stay imputation ---------------------------------------------------------------------------


def test_stay_is_imputed_by_kind_default(county):
    place = checkin_place(code=_place(county).code)  # market: 60 minutes
    checkin, _ = checkin_record(actor=None, place=place, data=_data(), now=NOW)
    assert checkin.out_imputed
    assert checkin.checked_out_at - checkin.checked_in_at == dt.timedelta(minutes=60)
    school = checkin_place(code=_place(county, code="SCH23456", kind="school").code)
    checkin, _ = checkin_record(actor=None, place=school, data=_data(), now=NOW)
    assert checkin.checked_out_at - checkin.checked_in_at == dt.timedelta(minutes=480)


def test_stay_rule_overrides_default_and_is_capped(county):
    StayRule.objects.create(kind="market", stay_minutes=30, cap_minutes=30)
    place = checkin_place(code=_place(county).code)
    checkin, _ = checkin_record(actor=None, place=place, data=_data(), now=NOW)
    assert checkin.checked_out_at - checkin.checked_in_at == dt.timedelta(minutes=30)
    # The cap bounds the imputed stay even when a caller passes a longer stay.
    from fangkong.places.services_checkins import _clean_checkin

    clean, errors = _clean_checkin(_data(), place=place, stay=(90, 45), now=NOW)
    assert not errors
    assert clean["checked_out_at"] - clean["checked_in_at"] == dt.timedelta(minutes=45)


def test_explicit_checkout_clears_imputed(county, users):
    place = checkin_place(code=_place(county).code)
    checkin, _ = checkin_record(actor=None, place=place, data=_data(), now=NOW)
    later = NOW + dt.timedelta(minutes=20)
    checkin_checkout(actor=users.commander, checkin=checkin, at=later, now=later)
    checkin.refresh_from_db()
    assert checkin.checked_out_at == later
    assert not checkin.out_imputed
    # A second scan-out keeps the first.
    checkin_checkout(actor=None, checkin=checkin, now=later + dt.timedelta(minutes=5))
    checkin.refresh_from_db()
    assert checkin.checked_out_at == later


# --- hotel stays and batches --------------------------------------------------------------------


def test_hotel_stay_with_room_and_whole_stay(county, users):
    hotel = _place(county, code="HTL23456", kind="hotel", name="县宾馆")
    outcome = checkin_record_bulk(
        actor=users.commander,
        rows=[
            _row(
                hotel,
                room="302",
                checked_in_at="2022-03-30 18:00",
                checked_out_at="2022-04-01 08:00",
            )
        ],
        now=NOW,
    )
    assert outcome.created == 1
    assert not outcome.errors
    stay = CheckIn.objects.get()
    assert (stay.source, stay.room, stay.out_imputed) == ("hotel", "302", False)
    assert stay.checked_out_at - stay.checked_in_at == dt.timedelta(hours=38)


def test_batch_saves_good_rows_and_reports_bad_ones(county, users, django_assert_max_num_queries):
    place = _place(county)
    closed = _place(county, code="CLOSED22", active=False)
    rows = [
        _row(place, idempotency_key=f"b-{i}", checked_in_at=f"2022-04-01 0{i}:00") for i in range(5)
    ]
    rows[1]["id_number"] = "610326198001011234"  # bad check digit
    rows[3] = _row(closed)
    rows.append(_row(place, idempotency_key="b-0", checked_in_at="2022-04-01 00:00"))  # dup
    rows.append({**_row(place), "place_code": "NOPE2345", "checked_out_at": "2022-04-01 08:00"})
    with django_assert_max_num_queries(8):
        outcome = checkin_record_bulk(actor=users.commander, rows=rows, now=NOW)
    assert outcome.created == 3
    assert outcome.duplicates == 1
    assert {i: set(e) for i, e in outcome.errors} == {
        1: {"id_number"},
        3: {"place_code"},
        6: {"place_code", "checked_out_at"},
    }
    again = checkin_record_bulk(actor=users.commander, rows=rows[:1], now=NOW)
    assert (again.created, again.duplicates) == (0, 1)
    assert CheckIn.objects.count() == 3


def test_batch_of_a_thousand_rows_costs_a_constant_number_of_queries(
    county, users, django_assert_max_num_queries
):
    place = _place(county)
    start = NOW - dt.timedelta(days=1)
    rows = [
        _row(place, checked_in_at=(start + dt.timedelta(seconds=i)).isoformat())
        for i in range(1000)
    ]
    with django_assert_max_num_queries(8):
        outcome = checkin_record_bulk(actor=users.commander, rows=rows, now=NOW)
    assert outcome.created == 1000
    with pytest.raises(ValidationFailed):
        checkin_record_bulk(actor=users.commander, rows=rows + rows[:1], now=NOW)


def test_batch_counts_only_rows_really_saved_and_links_registered_people(county, users, people):
    """Keys already used (here by a scan on the page) and a key repeated inside the batch are
    duplicates, not created; the other rows are saved, linked to the registered person."""
    place = _place(county)
    taken, _ = checkin_record(
        actor=None,
        place=checkin_place(code=place.code),
        data=_data(idempotency_key="k-taken"),
        now=NOW,
    )
    rows = [
        _row(place, idempotency_key="k-taken", checked_in_at="2022-04-01 09:30"),
        _row(
            place,
            name="张建国",
            id_number=people.head.id_number,
            idempotency_key="k-head",
            checked_in_at="2022-04-01T09:10:00+08:00",
        ),
        _row(place, idempotency_key="k-visitor", checked_in_at="2022-04-01 09:20"),
        _row(place, idempotency_key="k-head", checked_in_at="2022-04-01 09:40"),
    ]
    outcome = checkin_record_bulk(actor=users.commander, rows=rows, now=NOW)
    assert (outcome.created, outcome.duplicates, outcome.errors) == (2, 2, [])
    saved = {c.idempotency_key: c for c in CheckIn.objects.exclude(pk=taken.pk)}
    assert set(saved) == {"k-head", "k-visitor"}
    assert saved["k-head"].person_id == people.head.pk
    assert saved["k-head"].checked_in_at == dt.datetime(
        2022, 4, 1, 9, 10, tzinfo=ZoneInfo("Asia/Shanghai")
    )
    assert saved["k-visitor"].person_id is None
    assert saved["k-visitor"].out_imputed
    assert saved["k-visitor"].source == "api"
    # The whole batch again: nothing created, every good row a duplicate.
    again = checkin_record_bulk(actor=users.commander, rows=rows, now=NOW)
    assert (again.created, again.duplicates) == (0, 4)
    assert CheckIn.objects.count() == 3


# --- API ---------------------------------------------------------------------------------------


def _post(client, body):
    return client.post("/api/v1/checkins", json.dumps(body), content_type="application/json")


def test_api_permission_matrix(county, users, api_client):
    place = _place(county)
    body = _row(place, checked_in_at=timezone.now().isoformat())
    assert _post(api_client(None), body).status_code == 401
    assert _post(api_client(users.town_officer), {"items": [body]}).status_code == 403
    assert _post(api_client(users.epidemiologist), body).status_code == 403
    response = _post(api_client(users.commander), body)
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 1, "duplicates": 0, "errors": []}
    # A retry: nothing created, 200.
    assert _post(api_client(users.commander), body).json()["duplicates"] == 1
    for user, status in (
        (users.commander, 200),
        (users.epidemiologist, 200),
        (users.admin, 200),
        (users.grid_worker, 403),
        (users.town_officer, 403),
        (None, 401),
    ):
        assert api_client(user).get("/api/v1/checkins").status_code == status, user
    listed = api_client(users.epidemiologist).get(f"/api/v1/checkins?id_number={ID1}").json()
    assert listed["count"] == 1
    assert listed["results"][0]["id_number"] != ID1  # masked


def test_api_batch_with_errors_and_checkout(county, users, api_client):
    place = _place(county)
    good = _row(place, checked_in_at=timezone.now().isoformat())
    bad = {**good, "id_number": "123"}
    response = _post(api_client(users.commander), {"items": [good, bad]})
    assert response.status_code == 201
    assert response.json()["errors"] == [
        {
            "index": 1,
            "errors": {"id_number": [response.json()["errors"][0]["errors"]["id_number"][0]]},
        }
    ]
    single_bad = _post(api_client(users.commander), bad)
    assert single_bad.status_code == 400
    assert "id_number" in single_bad.json()["errors"]
    checkin = CheckIn.objects.get()
    client = api_client(users.commander)
    response = client.post(
        f"/api/v1/checkins/{checkin.pk}/checkout", "{}", content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["out_imputed"] is False
    assert (
        api_client(users.epidemiologist)
        .post(f"/api/v1/checkins/{checkin.pk}/checkout", "{}", content_type="application/json")
        .status_code
        == 403
    )


def test_api_batch_refuses_unknown_fields_wrong_types_and_bad_json(county, users, api_client):
    place = _place(county)
    client = api_client(users.commander)
    good = _row(place, checked_in_at=timezone.now().isoformat())
    unknown = _post(client, {"items": [good, {**good, "nickname": "小赵"}]})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "invalid"
    assert "nickname" in unknown.json()["errors"]
    wrong_type = _post(client, {"items": [{**good, "phone": 13912345678}]})
    assert wrong_type.status_code == 400
    assert "phone" in wrong_type.json()["errors"]
    not_a_batch = _post(client, {"rows": [good]})
    assert not_a_batch.status_code == 400
    not_json = client.post("/api/v1/checkins", "{items: [", content_type="application/json")
    assert not_json.status_code == 400
    assert set(not_json.json()) == {"code", "message", "errors"}
    assert not CheckIn.objects.exists()


def test_api_read_is_scoped(county, users, api_client):
    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role

    place = _place(county, division=county.grid_b)
    checkin_record_bulk(actor=users.commander, rows=[_row(place)], now=NOW)
    local_epi = User.objects.create(
        username="epi_a", role=Role.EPIDEMIOLOGIST, jurisdiction=county.town_a
    )
    assert api_client(local_epi).get("/api/v1/checkins").json()["count"] == 0
    assert api_client(users.epidemiologist).get("/api/v1/checkins").json()["count"] == 1


# --- importer ----------------------------------------------------------------------------------


def test_import_venue_code_export_with_title_row_and_rollback(county, users, tmp_path):
    place = _place(county, name="城关农贸市场")
    header = [
        "序号",
        "健康码状态",
        "场所全称",
        "场所简称",
        "姓名",
        "身份证号",
        "手机号",
        "申报时间",
    ]
    path = write_xlsx(
        tmp_path / "scan.xlsx",
        [
            ["城关镇场所码扫码记录导出（2022年4月1日）"],
            header,
            [
                1,
                "绿码",
                "城关农贸市场",
                "农贸市场",
                "赵六",
                ID1,
                "13912345678",
                "2022-04-01 09:00:00",
            ],
            [2, "绿码", "城关农贸市场", "农贸市场", "钱七", ID2, "", "2022-04-01 09:05:00"],
            [
                3,
                "绿码",
                "城关农贸市场",
                "农贸市场",
                "孙*",
                "6103**********001X",
                "",
                "2022-04-01 09:06:00",
            ],
            [4, "绿码", "不存在的场所", "", "李四", ID2, "", "2022-04-01 09:07:00"],
        ],
    )
    with upload(path) as handle:
        job = import_job_create(
            actor=users.commander, kind="checkins", upload=handle, filename=path.name
        )
    job = import_job_run(actor=users.commander, job=job)
    assert (job.created, job.error_rows) == (2, 2), job.message
    assert set(CheckIn.objects.values_list("place_id", flat=True)) == {place.pk}
    assert set(CheckIn.objects.values_list("source", flat=True)) == {"import"}
    with upload(path) as handle:
        again = import_job_create(
            actor=users.commander, kind="checkins", upload=handle, filename=path.name
        )
    again = import_job_run(actor=users.commander, job=again)
    assert (again.created, again.unchanged) == (0, 2)
    import_job_rollback(actor=users.commander, job=job)
    assert not CheckIn.objects.exists()


def test_import_hotel_register_with_place_option(county, users, tmp_path):
    hotel = _place(county, code="HTL23456", kind="hotel", name="县宾馆")
    header = ["序号", "入住日期", "房号", "姓名", "证件类型", "证件号码", "联系电话", "退房日期"]
    path = write_xlsx(
        tmp_path / "hotel.xlsx",
        [
            ["县宾馆旅客登记簿"],
            header,
            [
                1,
                "2022-03-30 18:00",
                "302",
                "赵六",
                "居民身份证",
                ID1,
                "13912345678",
                "2022-04-01 08:00",
            ],
            [2, "2022-03-31 20:00", "305", "钱七", "身份证", ID2, "", ""],
        ],
    )
    with upload(path) as handle:
        job = import_job_create(
            actor=users.commander,
            kind="checkins",
            upload=handle,
            filename=path.name,
            options={"place": hotel.code},
        )
    job = import_job_run(actor=users.commander, job=job)
    assert job.created == 2, job.message
    stays = {c.room: c for c in CheckIn.objects.all()}
    assert stays["302"].source == "hotel"
    assert not stays["302"].out_imputed
    assert stays["305"].out_imputed
    assert stays["305"].checked_out_at - stays["305"].checked_in_at == dt.timedelta(hours=12)
