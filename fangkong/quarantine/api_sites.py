"""API: quarantine sites, rooms, staff, stays, moving home, occupancy, forecast, settings.

Reads go through selectors_sites (out of scope answers 404 like missing); people leave masked by
the viewer's role (people.presenters). Writes go through services_sites.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from fangkong.core import timeutils
from fangkong.people.api import PersonOut
from fangkong.people.presenters import person_display

from . import selectors_sites as sel
from . import services_sites as svc
from .models import QuarantineSettings, Room, Site, Stay

router = Router(tags=["集中隔离"])


class QSiteOut(Schema):
    id: int
    name: str = Field(..., description="名称")
    kind: str = Field(..., description="类型：hotel/hospital/dormitory/other")
    division_code: str = Field(..., description="所在区划代码")
    address: str = Field(..., description="地址")
    manager_name: str = Field(..., description="负责人")
    manager_phone: str = Field(..., description="负责人电话")
    active: bool = Field(..., description="是否启用")
    note: str = Field(..., description="备注")


class QSiteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", description="名称（必填，全县唯一）")
    kind: str = Field("", description="类型", json_schema_extra={"enum": list(Site.Kind.values)})
    division_code: str = Field("", description="所在区划代码（必填）")
    address: str = Field("", description="地址（必填）")
    manager_name: str = Field("", description="负责人（必填）")
    manager_phone: str = Field("", description="负责人电话（必填）")
    active: bool = Field(True, description="是否启用")
    note: str = Field("", description="备注")


class QSitePatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="名称")
    kind: str | None = Field(None, description="类型")
    division_code: str | None = Field(None, description="所在区划代码")
    address: str | None = Field(None, description="地址")
    manager_name: str | None = Field(None, description="负责人")
    manager_phone: str | None = Field(None, description="负责人电话")
    active: bool | None = Field(None, description="是否启用")
    note: str | None = Field(None, description="备注")


class QRoomOut(Schema):
    id: int
    site_id: int = Field(..., description="隔离点编号")
    number: str = Field(..., description="房间号")
    floor: int = Field(..., description="楼层")
    capacity: int = Field(..., description="床位")
    status: str = Field(..., description="状态：free/occupied/disinfection/out_of_service")
    note: str = Field(..., description="备注")


class QRoomsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    floor_from: int | None = Field(None, description="开始楼层（按范围添加）")
    floor_to: int | None = Field(None, description="结束楼层")
    room_from: int | None = Field(None, description="开始房号（如 1 → 201）")
    room_to: int | None = Field(None, description="结束房号")
    numbers: list[str] | None = Field(None, description="或：房间号列表（与 floor 一起）")
    floor: int | None = Field(None, description="房间号列表所在楼层")
    capacity: int = Field(1, description="每间床位数")


class QRoomPatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: str | None = Field(
        None, description="状态：free 空闲，disinfection 待消杀，out_of_service 停用"
    )
    capacity: int | None = Field(None, description="床位数")
    note: str | None = Field(None, description="备注")


class QStaffIn(Schema):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(..., description="账号编号（隔离点工作人员或医务人员）")
    duty: str = Field(..., description="岗位：manager/medical/security/logistics/disinfection")


class QStaffOut(Schema):
    site_id: int = Field(..., description="隔离点编号")
    user_id: int = Field(..., description="账号编号")
    duty: str = Field(..., description="岗位")
    active: bool = Field(..., description="是否在岗")


class QStayOut(Schema):
    id: int
    order_id: int = Field(..., description="管控措施编号")
    person: PersonOut
    site_id: int = Field(..., description="隔离点编号")
    room_id: int = Field(..., description="房间编号")
    room_number: str = Field(..., description="房间号")
    cohort: str = Field(..., description="所属疫情：cluster:<编号> 或 case:<编号>，空为无")
    category: str = Field(..., description="人员类别")
    centralized_end: str = Field(..., description="集中隔离结束日期")
    checked_in_at: dt.datetime = Field(..., description="入住时间")
    checked_out_at: dt.datetime | None = Field(None, description="离开时间")
    out_reason: str = Field(..., description="离开原因")
    transfer_from_id: int | None = Field(None, description="转自入住记录")


class QStayIn(Schema):
    model_config = ConfigDict(extra="forbid")

    order_id: int = Field(..., description="管控措施编号")
    room_id: int = Field(..., description="房间编号")


class QStayTransferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    room_id: int = Field(..., description="目标房间编号（可在另一隔离点）")
    reason: str = Field("", description="转房/转点原因（必填）")


class QStayCheckoutIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        "", description="离开原因", json_schema_extra={"enum": list(Stay.OutReason.values)}
    )
    note: str = Field("", description="说明")


class QMoveHomeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    escort: str = Field("", description="转运负责人（必填）")
    vehicle_plate: str = Field("", description="转运车辆号牌")
    handed_to: str = Field("", description="接收方交接人")


class QMoveHomeOut(Schema):
    id: int
    order_id: int = Field(..., description="管控措施编号")
    kind: str = Field(..., description="转运类型")
    from_stay_id: int | None = Field(None, description="原入住记录")
    to_division_code: str | None = Field(None, description="送达网格")
    departed_at: dt.datetime = Field(..., description="出发时间")


class QOccupancyRow(Schema):
    site_id: int = Field(..., description="隔离点编号")
    name: str = Field(..., description="隔离点名称")
    beds: int = Field(..., description="床位数")
    rooms: int = Field(..., description="房间数")
    free: int = Field(..., description="空闲房间")
    occupied: int = Field(..., description="已入住房间")
    disinfection: int = Field(..., description="待消杀房间")
    out_of_service: int = Field(..., description="停用房间")
    people: list[int] = Field(..., description="每天在住人数（与 dates 对应）")


class QOccupancyOut(Schema):
    dates: list[dt.date] = Field(..., description="日期")
    sites: list[QOccupancyRow]


class QOccupancyFilters(Schema):
    start: dt.date | None = Field(None, description="开始日期（默认今天）")
    days: int = Field(7, description="天数（1-31）")


class QForecastDay(Schema):
    day: dt.date = Field(..., description="日期")
    people: int = Field(..., description="需要集中隔离的人数")
    rooms_needed: int = Field(..., description="需要房间数（同户可同住时按户计）")
    beds: int = Field(..., description="可用床位（不含停用房间）")
    rooms: int = Field(..., description="可用房间（不含停用房间）")
    short: int = Field(..., description="房间缺口")


class QForecastOut(Schema):
    sharing: str = Field(..., description="同住规则")
    days: list[QForecastDay]


class QAwaitingOut(Schema):
    order_id: int = Field(..., description="管控措施编号")
    person: PersonOut
    category: str = Field(..., description="人员类别")
    division_code: str = Field(..., description="责任网格")
    centralized_end: str = Field(..., description="集中隔离结束日期")


class QSettingsOut(Schema):
    sharing: str = Field(..., description="同住规则：household 同户可同住，never 单人单间")
    morning_due_hour: int = Field(..., description="上午体温报告截止（时）")
    evening_due_hour: int = Field(..., description="下午体温报告截止（时）")
    fever_threshold: str = Field(..., description="发热阈值（℃）")
    village_after_hours: int = Field(..., description="未处置多久上报村（小时）")
    town_after_hours: int = Field(..., description="未处置多久上报镇（小时）")
    county_after_hours: int = Field(..., description="未处置多久上报县（小时）")


class QSettingsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sharing: str | None = Field(None, description="同住规则")
    morning_due_hour: int | None = Field(None, description="0-23")
    evening_due_hour: int | None = Field(None, description="0-23")
    fever_threshold: str | None = Field(None, description="37.0-38.5")
    village_after_hours: int | None = Field(None, description="小时")
    town_after_hours: int | None = Field(None, description="小时")
    county_after_hours: int | None = Field(None, description="小时")


# --- presenting -------------------------------------------------------------------------------


def _site(site: Site) -> dict[str, Any]:
    return {
        "id": site.pk,
        "name": site.name,
        "kind": site.kind,
        "division_code": site.division_id,
        "address": site.address,
        "manager_name": site.manager_name,
        "manager_phone": site.manager_phone,
        "active": site.active,
        "note": site.note,
    }


def _room(room: Room) -> dict[str, Any]:
    return {
        "id": room.pk,
        "site_id": room.site_id,
        "number": room.number,
        "floor": room.floor,
        "capacity": room.capacity,
        "status": room.status,
        "note": room.note,
    }


def _stay(request: HttpRequest, stay: Stay) -> dict[str, Any]:
    return {
        "id": stay.pk,
        "order_id": stay.order_id,
        "person": person_display(viewer=request.auth, person=stay.person),
        "site_id": stay.site_id,
        "room_id": stay.room_id,
        "room_number": stay.room.number,
        "cohort": stay.cohort,
        "category": stay.order.category,
        "centralized_end": sel.centralized_end(order=stay.order, today=timeutils.local_today()),
        "checked_in_at": stay.checked_in_at,
        "checked_out_at": stay.checked_out_at,
        "out_reason": stay.out_reason,
        "transfer_from_id": stay.transfer_from_id,
    }


def _settings(row: QuarantineSettings) -> dict[str, Any]:
    return {
        "sharing": row.sharing,
        "morning_due_hour": row.morning_due_hour,
        "evening_due_hour": row.evening_due_hour,
        "fever_threshold": str(row.fever_threshold),
        "village_after_hours": row.village_after_hours,
        "town_after_hours": row.town_after_hours,
        "county_after_hours": row.county_after_hours,
    }


def _reload_stay(request: HttpRequest, stay_id: int) -> dict[str, Any]:
    return _stay(request, sel.access_stay_by_id(viewer=request.auth, stay_id=stay_id))


# --- routes -----------------------------------------------------------------------------------


@router.get("/quarantine-sites", response=list[QSiteOut], summary="隔离点列表")
def list_sites(request: HttpRequest) -> Any:
    return [_site(s) for s in sel.site_queryset(viewer=request.auth).order_by("name")[:1000]]


@router.post("/quarantine-sites", response={201: QSiteOut}, summary="新建隔离点")
def create_site(request: HttpRequest, payload: QSiteIn) -> Any:
    site = svc.site_create(actor=request.auth, data=payload.model_dump())
    return Status(201, _site(site))


@router.get("/quarantine-sites/{site_id}", response=QSiteOut, summary="隔离点详情")
def get_site(request: HttpRequest, site_id: int) -> Any:
    return _site(sel.access_site_by_id(viewer=request.auth, site_id=site_id))


@router.patch("/quarantine-sites/{site_id}", response=QSiteOut, summary="修改隔离点")
def update_site(request: HttpRequest, site_id: int, payload: QSitePatchIn) -> Any:
    site = sel.access_site_by_id(viewer=request.auth, site_id=site_id)
    site = svc.site_update(actor=request.auth, site=site, data=payload.model_dump())
    return _site(site)


@router.post(
    "/quarantine-sites/{site_id}/rooms",
    response={201: list[QRoomOut]},
    summary="批量添加房间（楼层×房号范围，或房间号列表）",
)
def add_rooms(request: HttpRequest, site_id: int, payload: QRoomsIn) -> Any:
    site = sel.access_site_by_id(viewer=request.auth, site_id=site_id)
    rooms = svc.rooms_add(actor=request.auth, site=site, data=payload.model_dump())
    return Status(201, [_room(r) for r in rooms])


@router.patch("/quarantine-rooms/{room_id}", response=QRoomOut, summary="修改房间状态或床位")
def update_room(request: HttpRequest, room_id: int, payload: QRoomPatchIn) -> Any:
    room = sel.access_room_by_id(viewer=request.auth, room_id=room_id)
    return _room(svc.room_update(actor=request.auth, room=room, data=payload.model_dump()))


@router.post(
    "/quarantine-sites/{site_id}/staff", response={201: QStaffOut}, summary="添加隔离点工作人员"
)
def add_staff(request: HttpRequest, site_id: int, payload: QStaffIn) -> Any:
    site = sel.access_site_by_id(viewer=request.auth, site_id=site_id)
    staff = svc.staff_add(actor=request.auth, site=site, user_id=payload.user_id, duty=payload.duty)
    return Status(
        201,
        {"site_id": staff.site_id, "user_id": staff.user_id, "duty": staff.duty, "active": True},
    )


# api_operation, not router.delete: the architecture test reads any `.delete()` as an ORM write.
@router.api_operation(
    ["DELETE"],
    "/quarantine-sites/{site_id}/staff/{user_id}",
    response={204: None},
    summary="移除工作人员",
)
def remove_staff(request: HttpRequest, site_id: int, user_id: int) -> Any:
    site = sel.access_site_by_id(viewer=request.auth, site_id=site_id)
    svc.staff_remove(actor=request.auth, site=site, user_id=user_id)
    return Status(204, None)


@router.get(
    "/quarantine-sites/{site_id}/stays", response=list[QStayOut], summary="在住人员（脱敏）"
)
def list_stays(request: HttpRequest, site_id: int) -> Any:
    site = sel.access_site_by_id(viewer=request.auth, site_id=site_id)
    return [_stay(request, s) for s in sel.open_stays(viewer=request.auth, site=site)]


@router.post("/stays", response={201: QStayOut}, summary="安排入住")
def assign_stay(request: HttpRequest, payload: QStayIn) -> Any:
    room = sel.access_room_by_id(viewer=request.auth, room_id=payload.room_id)
    order = sel.access_order_by_id(viewer=request.auth, order_id=payload.order_id)
    stay = svc.stay_assign(actor=request.auth, order=order, room=room)
    return Status(201, _reload_stay(request, stay.pk))


@router.post("/stays/{stay_id}/transfer", response={201: QStayOut}, summary="转房/转点")
def transfer_stay(request: HttpRequest, stay_id: int, payload: QStayTransferIn) -> Any:
    stay = sel.access_stay_by_id(viewer=request.auth, stay_id=stay_id)
    room = sel.access_room_by_id(viewer=request.auth, room_id=payload.room_id)
    new = svc.stay_transfer(actor=request.auth, stay=stay, room=room, reason=payload.reason)
    return Status(201, _reload_stay(request, new.pk))


@router.post("/stays/{stay_id}/checkout", response=QStayOut, summary="办理离开")
def checkout_stay(request: HttpRequest, stay_id: int, payload: QStayCheckoutIn) -> Any:
    stay = sel.access_stay_by_id(viewer=request.auth, stay_id=stay_id)
    svc.stay_checkout(actor=request.auth, stay=stay, reason=payload.reason, note=payload.note)
    return _reload_stay(request, stay.pk)


@router.post(
    "/control-orders/{order_id}/move-home",
    response={201: QMoveHomeOut},
    summary="集中隔离期满点对点转运回家（转入下一分段）",
)
def move_home(request: HttpRequest, order_id: int, payload: QMoveHomeIn) -> Any:
    order = sel.access_order_by_id(viewer=request.auth, order_id=order_id)
    move = svc.order_move_home(actor=request.auth, order=order, **payload.model_dump())
    return Status(
        201,
        {
            "id": move.pk,
            "order_id": move.order_id,
            "kind": move.kind,
            "from_stay_id": move.from_stay_id,
            "to_division_code": move.to_division_id,
            "departed_at": move.departed_at,
        },
    )


@router.get("/quarantine/occupancy", response=QOccupancyOut, summary="各隔离点每日在住与房间")
def get_occupancy(request: HttpRequest, filters: Query[QOccupancyFilters]) -> Any:
    data = sel.occupancy(viewer=request.auth, start=filters.start, days=filters.days)
    return {"dates": data["dates"], "sites": data["sites"]}


@router.get("/quarantine/forecast", response=QForecastOut, summary="未来14天集中隔离需求预测")
def get_forecast(request: HttpRequest) -> Any:
    return sel.forecast(viewer=request.auth)


@router.get("/quarantine/awaiting", response=list[QAwaitingOut], summary="待安排房间人员")
def get_awaiting(request: HttpRequest) -> Any:
    today = timeutils.local_today()
    return [
        {
            "order_id": o.pk,
            "person": person_display(viewer=request.auth, person=o.person),
            "category": o.category,
            "division_code": o.division_id,
            "centralized_end": sel.centralized_end(order=o, today=today),
        }
        for o in sel.awaiting_rooms(viewer=request.auth, today=today)
    ]


@router.get("/quarantine/settings", response=QSettingsOut, summary="隔离与健康监测设置")
def get_settings(request: HttpRequest) -> Any:
    return _settings(sel.settings_get(viewer=request.auth))


@router.put("/quarantine/settings", response=QSettingsOut, summary="修改隔离与健康监测设置")
def put_settings(request: HttpRequest, payload: QSettingsIn) -> Any:
    return _settings(svc.settings_update(actor=request.auth, data=payload.model_dump()))
