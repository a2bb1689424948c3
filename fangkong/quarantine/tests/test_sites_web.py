"""The site pages and the API as staff and HQ use them."""

from __future__ import annotations

import datetime as dt

from fangkong.core import timeutils
from fangkong.quarantine.models import PhaseTransfer, Room, Stay

from .test_sites_services import make_order, w  # noqa: F401  (fixture)


def test_site_page_for_its_staff_masks_names(w, people, county, login):  # noqa: F811
    order = make_order(people.head, county.grid_a, cen_start=timeutils.local_today())
    client = login(w.staff)
    page = client.get(f"/quarantine/sites/{w.site.pk}/")
    assert page.status_code == 200
    assert "201" in page.content.decode()
    assert "待安排房间" in page.content.decode()
    response = client.post(
        f"/quarantine/sites/{w.site.pk}/assign/",
        {"order_id": order.pk, "room_id": w.rooms["201"].pk},
    )
    assert response.status_code == 302
    assert Stay.objects.filter(order=order, checked_out_at__isnull=True).exists()
    assert "张建国" in client.get(f"/quarantine/sites/{w.site.pk}/").content.decode()
    assert login(w.other_staff).get(f"/quarantine/sites/{w.site.pk}/").status_code == 404


def test_overview_and_settings_pages(w, users, login):  # noqa: F811
    client = login(users.commander)
    page = client.get("/quarantine/")
    assert page.status_code == 200
    assert "眉县宾馆" in page.content.decode()
    assert "未来14天" in page.content.decode()
    bad = client.post(
        "/quarantine/settings/",
        {
            "sharing": "never",
            "morning_due_hour": "30",
            "evening_due_hour": "20",
            "fever_threshold": "37.3",
            "village_after_hours": "2",
            "town_after_hours": "4",
            "county_after_hours": "12",
        },
    )
    assert bad.status_code == 200
    assert "须在 0 到 23 之间" in bad.content.decode()
    assert login(w.staff).get("/quarantine/settings/").status_code == 403


def test_api_sites_rooms_staff(w, users, api_client, county):  # noqa: F811
    hq = api_client(users.commander)
    created = hq.post(
        "/api/v1/quarantine-sites",
        {
            "name": "新点",
            "kind": "hotel",
            "division_code": county.root.code,
            "address": "1",
            "manager_name": "王",
            "manager_phone": "0917-1",
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    site_id = created.json()["id"]
    bad = hq.post(
        "/api/v1/quarantine-sites",
        {"name": "新点", "kind": "hotel"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "address" in bad.json()["errors"]
    assert (
        api_client(users.grid_worker)
        .post("/api/v1/quarantine-sites", {"name": "x"}, content_type="application/json")
        .status_code
        == 403
    )
    assert hq.get("/api/v1/quarantine-sites").status_code == 200
    assert (
        hq.patch(
            f"/api/v1/quarantine-sites/{site_id}", {"note": "备用"}, content_type="application/json"
        ).json()["note"]
        == "备用"
    )
    rooms = hq.post(
        f"/api/v1/quarantine-sites/{site_id}/rooms",
        {"floor_from": 1, "floor_to": 1, "room_from": 1, "room_to": 2},
        content_type="application/json",
    )
    assert [r["number"] for r in rooms.json()] == ["101", "102"]
    room_id = rooms.json()[0]["id"]
    patched = hq.patch(
        f"/api/v1/quarantine-rooms/{room_id}",
        {"status": "out_of_service"},
        content_type="application/json",
    )
    assert patched.json()["status"] == "out_of_service"
    assert (
        hq.patch(
            f"/api/v1/quarantine-rooms/{room_id}",
            {"status": "occupied"},
            content_type="application/json",
        ).status_code
        == 400
    )
    added = hq.post(
        f"/api/v1/quarantine-sites/{site_id}/staff",
        {"user_id": w.staff.pk, "duty": "medical"},
        content_type="application/json",
    )
    assert added.status_code == 201
    assert hq.delete(f"/api/v1/quarantine-sites/{site_id}/staff/{w.staff.pk}").status_code == 204
    assert api_client(w.other_staff).get(f"/api/v1/quarantine-sites/{w.site.pk}").status_code == 404


def test_api_stays_move_home_and_reports(w, users, api_client, people, county):  # noqa: F811
    today = timeutils.local_today()
    staff = api_client(w.staff)
    order = make_order(people.head, county.grid_a, cen_start=today - dt.timedelta(days=7))
    waiting = make_order(people.other, county.grid_b, cen_start=today)
    # order's centralized phase ended yesterday: it is not awaiting a room
    assert [a["order_id"] for a in staff.get("/api/v1/quarantine/awaiting").json()] == [waiting.pk]
    stay = staff.post(
        "/api/v1/stays",
        {"order_id": waiting.pk, "room_id": w.rooms["201"].pk},
        content_type="application/json",
    )
    assert stay.status_code == 201
    assert (
        staff.post(
            "/api/v1/stays",
            {"order_id": waiting.pk, "room_id": w.rooms["202"].pk},
            content_type="application/json",
        ).status_code
        == 409
    )
    listed = staff.get(f"/api/v1/quarantine-sites/{w.site.pk}/stays").json()
    assert [s["room_number"] for s in listed] == ["201"]
    moved = staff.post(
        f"/api/v1/stays/{stay.json()['id']}/transfer",
        {"room_id": w.rooms["202"].pk, "reason": "空调故障"},
        content_type="application/json",
    )
    assert moved.status_code == 201
    assert moved.json()["transfer_from_id"] == stay.json()["id"]
    out = staff.post(
        f"/api/v1/stays/{moved.json()['id']}/checkout",
        {"reason": "hospital"},
        content_type="application/json",
    )
    assert out.status_code == 200
    assert out.json()["out_reason"] == "hospital"
    assert Room.objects.get(pk=w.rooms["202"].pk).status == "disinfection"
    hq = api_client(users.commander)
    home = hq.post(
        f"/api/v1/control-orders/{order.pk}/move-home",
        {"escort": "赵师傅"},
        content_type="application/json",
    )
    assert home.status_code == 201
    assert PhaseTransfer.objects.filter(kind="site_to_home").exists()
    assert (
        hq.post(
            f"/api/v1/control-orders/{order.pk}/move-home",
            {"escort": ""},
            content_type="application/json",
        ).status_code
        == 400
    )
    occ = hq.get("/api/v1/quarantine/occupancy?days=2").json()
    assert len(occ["dates"]) == 2
    assert occ["sites"]
    assert len(hq.get("/api/v1/quarantine/forecast").json()["days"]) == 14
    assert hq.get("/api/v1/quarantine/settings").json()["sharing"] == "household"
    assert (
        hq.put(
            "/api/v1/quarantine/settings",
            {"fever_threshold": "36"},
            content_type="application/json",
        ).status_code
        == 400
    )
    assert (
        staff.put(
            "/api/v1/quarantine/settings", {"sharing": "never"}, content_type="application/json"
        ).status_code
        == 403
    )
