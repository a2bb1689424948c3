"""The pages HQ uses to set up sites (create, edit, rooms, staff) and the ones site staff use to
move a person to another room or home."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import _user
from fangkong.accounts.roles import Role
from fangkong.core import timeutils
from fangkong.quarantine import services_sites as svc
from fangkong.quarantine.models import PhaseTransfer, Room, Site, SiteStaff, Stay

from .test_sites_services import make_order, w  # noqa: F401  (fixture)

SITE_DATA = {
    "name": "县城招待所",
    "kind": "hotel",
    "division_code": "610326107",
    "address": "城关路3号",
    "manager_name": "孙经理",
    "manager_phone": "0917-5540000",
    "note": "",
}


def _text(response) -> str:
    return response.content.decode()


def test_site_list_shows_new_button_only_to_admins(w, users, login):  # noqa: F811
    assert "新增隔离点" in _text(login(users.commander).get("/quarantine/"))
    assert "新增隔离点" not in _text(login(w.staff).get("/quarantine/"))


def test_create_site_page(w, users, county, login):  # noqa: F811
    hq = login(users.commander)
    page = hq.get("/quarantine/sites/new/")
    assert page.status_code == 200
    assert "齐镇" in _text(page)
    assert login(w.staff).get("/quarantine/sites/new/").status_code == 403
    assert login(users.grid_worker).get("/quarantine/sites/new/").status_code == 403

    bad = hq.post("/quarantine/sites/new/", {**SITE_DATA, "address": ""})
    assert bad.status_code == 200
    assert 'id="address-error"' in _text(bad)
    assert "此项必填" in _text(bad)
    assert not Site.objects.filter(name="县城招待所").exists()

    done = hq.post("/quarantine/sites/new/", SITE_DATA)
    site = Site.objects.get(name="县城招待所")
    assert done.status_code == 302
    assert done.url == f"/quarantine/sites/{site.pk}/"
    assert site.division_id == county.town_a.code
    assert "县城招待所" in _text(hq.get(done.url))


def test_edit_site_page(w, users, login):  # noqa: F811
    url = f"/quarantine/sites/{w.site.pk}/edit/"
    hq = login(users.commander)
    page = hq.get(url)
    assert page.status_code == 200
    assert "齐镇1号" in _text(page)
    assert login(w.staff).get(url).status_code == 403
    assert login(w.other_staff).get(url).status_code == 404
    assert hq.get("/quarantine/sites/999999/edit/").status_code == 404

    data = {**SITE_DATA, "name": "横渠宿舍", "address": "新地址"}
    bad = hq.post(url, data)
    assert "已有同名隔离点" in _text(bad)
    w.site.refresh_from_db()
    assert w.site.address == "齐镇1号"

    data = {**SITE_DATA, "name": "眉县宾馆", "address": "齐镇8号"}  # active left unticked
    assert hq.post(url, data).status_code == 302
    w.site.refresh_from_db()
    assert w.site.address == "齐镇8号"
    assert w.site.active is False
    assert "已停用" in _text(hq.get(f"/quarantine/sites/{w.site.pk}/"))


def test_add_rooms_in_bulk_on_the_site_page(w, users, login):  # noqa: F811
    url = f"/quarantine/sites/{w.site.pk}/rooms/add/"
    hq = login(users.commander)
    page = hq.get(f"/quarantine/sites/{w.site.pk}/")
    assert "批量添加房间" in _text(page)
    assert "批量添加房间" not in _text(login(w.staff).get(f"/quarantine/sites/{w.site.pk}/"))
    assert login(w.staff).post(url, {"numbers": "901"}).status_code == 403
    assert login(w.other_staff).post(url, {"numbers": "901"}).status_code == 404

    bad = hq.post(
        url, {"floor_from": "5", "floor_to": "4", "room_from": "1", "room_to": "2", "capacity": "1"}
    )
    assert bad.status_code == 400
    assert 'id="rooms-floor_to-error"' in _text(bad)
    assert "结束楼层不能小于开始楼层" in _text(bad)
    assert 'id="stays"' in _text(bad)  # the site page itself, with the form open
    taken = hq.post(url, {"numbers": "201, 909"})
    assert "房间已存在：201" in _text(taken)
    assert not Room.objects.filter(site=w.site, floor__gte=4).exists()
    assert not Room.objects.filter(number="909").exists()

    hq.post(
        url, {"floor_from": "4", "floor_to": "5", "room_from": "1", "room_to": "2", "capacity": "3"}
    )
    added = Room.objects.filter(site=w.site, floor__gte=4).order_by("number")
    assert [r.number for r in added] == ["401", "402", "501", "502"]
    assert {r.capacity for r in added} == {3}
    hq.post(url, {"numbers": "601，602", "floor": "6"})
    assert set(Room.objects.filter(site=w.site, floor=6).values_list("number", flat=True)) == {
        "601",
        "602",
    }


def test_room_management_page(w, users, login):  # noqa: F811
    url = f"/quarantine/sites/{w.site.pk}/rooms/"
    hq = login(users.commander)
    page = hq.get(url)
    assert page.status_code == 200
    assert "房间管理" in _text(page)
    assert "302" in _text(page)
    assert login(w.staff).get(url).status_code == 403
    assert login(w.other_staff).get(url).status_code == 404

    room = w.rooms["201"]
    update = f"/quarantine/rooms/{room.pk}/update/"
    bad = hq.post(update, {"status": "free", "capacity": "30"}, follow=True)
    assert "床位：须在 1 到 20 之间" in _text(bad)
    room.refresh_from_db()
    assert (room.capacity, room.status) == (2, "free")
    assert login(w.other_staff).post(update, {"status": "out_of_service"}).status_code == 404

    hq.post(update, {"status": "out_of_service", "capacity": "4"})
    room.refresh_from_db()
    assert (room.capacity, room.status) == (4, "out_of_service")


def test_staff_page_add_and_remove(w, users, county, login):  # noqa: F811
    url = f"/quarantine/sites/{w.site.pk}/staff/"
    hq = login(users.commander)
    page = hq.get(url)
    assert page.status_code == 200
    assert "site_a" in _text(page)
    assert login(w.staff).get(url).status_code == 403
    assert login(w.other_staff).get(url).status_code == 404

    bad = hq.post(url, {"username": "gw_a", "duty": "medical"})
    assert bad.status_code == 400
    assert 'id="username-error"' in _text(bad)
    assert "请选择隔离点工作人员或医务人员的账号" in _text(bad)
    nobody = hq.post(url, {"username": "no_such_user", "duty": "medical"})
    assert 'id="username-error"' in _text(nobody)
    assert SiteStaff.objects.filter(site=w.site).count() == 1

    nurse = _user("nurse_a", Role.MEDICAL_STAFF, county.root)
    assert hq.post(url, {"username": "nurse_a", "duty": "medical"}).status_code == 302
    assert SiteStaff.objects.get(site=w.site, user=nurse).duty == "medical"
    assert "nurse_a" in _text(hq.get(url))
    assert login(nurse).get(f"/quarantine/sites/{w.site.pk}/").status_code == 200

    assert login(w.staff).post(f"{url}{nurse.pk}/remove/").status_code == 403
    assert hq.post(f"{url}{nurse.pk}/remove/").status_code == 302
    assert not SiteStaff.objects.get(site=w.site, user=nurse).active
    assert login(nurse).get(f"/quarantine/sites/{w.site.pk}/").status_code == 404


@pytest.fixture
def staying(w, people, county, users):  # noqa: F811
    order = make_order(people.head, county.grid_a, cen_start=timeutils.local_today())
    return svc.stay_assign(actor=users.commander, order=order, room=w.rooms["201"])


def test_transfer_from_the_stays_table(w, users, login, staying):  # noqa: F811
    client = login(w.staff)
    page = client.get(f"/quarantine/sites/{w.site.pk}/")
    assert "转房/转点" in _text(page)
    url = f"/quarantine/stays/{staying.pk}/transfer/"
    assert (
        login(w.other_staff).post(url, {"room_id": w.rooms["202"].pk, "reason": "维修"}).status_code
        == 404
    )

    bad = client.post(url, {"room_id": w.rooms["202"].pk, "reason": ""}, follow=True)
    assert "原因：请填写转房/转点原因" in _text(bad)
    assert Stay.objects.get(pk=staying.pk).checked_out_at is None

    done = client.post(url, {"room_id": w.rooms["202"].pk, "reason": "空调故障"}, follow=True)
    assert "已转入 眉县宾馆 202" in _text(done)
    new = Stay.objects.get(order=staying.order, checked_out_at__isnull=True)
    assert new.room_id == w.rooms["202"].pk
    assert new.transfer_from_id == staying.pk


def test_transfer_to_another_site_by_hq(w, users, login, staying):  # noqa: F811
    hq = login(users.commander)
    page = _text(hq.get(f"/quarantine/sites/{w.site.pk}/"))
    assert 'optgroup label="横渠宿舍"' in page
    hq.post(
        f"/quarantine/stays/{staying.pk}/transfer/",
        {"room_id": w.other_room.pk, "reason": "集中收治"},
    )
    new = Stay.objects.get(order=staying.order, checked_out_at__isnull=True)
    assert new.site_id == w.other_site.pk
    assert PhaseTransfer.objects.filter(kind="site_to_site", to_site=w.other_site).exists()


def test_move_home_from_the_stays_table(w, people, county, users, login):  # noqa: F811
    today = timeutils.local_today()
    order = make_order(people.head, county.grid_a, cen_start=today - dt.timedelta(days=6))
    stay = svc.stay_assign(actor=users.commander, order=order, room=w.rooms["201"])
    client = login(w.staff)
    page = _text(client.get(f"/quarantine/sites/{w.site.pk}/"))
    assert "办理转居家" in page
    url = f"/quarantine/stays/{stay.pk}/move-home/"
    assert login(w.other_staff).post(url, {"escort": "赵师傅"}).status_code == 404

    bad = client.post(url, {"escort": "", "vehicle_plate": "陕C12345"}, follow=True)
    assert "转运负责人：请填写转运负责人" in _text(bad)
    assert Stay.objects.get(pk=stay.pk).checked_out_at is None

    early = client.post(url, {"escort": "赵师傅"}, follow=True)
    assert "今天还不能转段" in _text(early)
    assert not PhaseTransfer.objects.filter(order=order).exists()


def test_move_home_on_the_day_the_home_phase_starts(w, people, county, users, login):  # noqa: F811
    today = timeutils.local_today()
    order = make_order(people.head, county.grid_a, cen_start=today - dt.timedelta(days=7))
    stay = svc.stay_assign(
        actor=users.commander,
        order=order,
        room=w.rooms["201"],
        now=timeutils.now() - dt.timedelta(days=3),
    )
    client = login(w.staff)
    done = client.post(
        f"/quarantine/stays/{stay.pk}/move-home/",
        {"escort": "赵师傅", "vehicle_plate": "陕C12345", "handed_to": "网格员甲"},
        follow=True,
    )
    assert "已办理转居家" in _text(done)
    move = PhaseTransfer.objects.get(order=order, kind="site_to_home")
    assert (move.escort, move.vehicle_plate, move.handed_to) == ("赵师傅", "陕C12345", "网格员甲")
    assert Stay.objects.get(pk=stay.pk).checked_out_at is not None
    order.refresh_from_db()
    assert order.current_phase == 1
    assert "暂无在住人员" in _text(done)
