"""Field cleaning for an arrival, shared by the public page, the staff form, the API and the
importers: one rule set, every bad field reported at once, in Chinese, naming the field.

`clean_arrival(raw, *, today)` writes nothing. It reads the code tables (GB/T 2260 regions,
the county's divisions) to say whether a code exists, nothing else: whether a person is known
is never part of the answer (the public page must not reveal it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from fangkong.core.validators import (
    FormatError,
    clean_text,
    normalize_flight_no,
    normalize_plate,
    normalize_train_no,
)
from fangkong.geo.cache import division_cached
from fangkong.geo.models import Division
from fangkong.geo.regions import region_lookup
from fangkong.people.models import IdType
from fangkong.people.validation import clean_person_fields

from .models import Transport

# No arrival of this epidemic is older: a date before it is a typo (1022, 2002 ...).
EARLIEST_DATE = dt.date(2019, 12, 1)
TEXT_MAX = 200
SEAT_MAX = 20
COUNTRY_MAX = 60
# Transport as real lists write it (Yiwu's 来义交通工具, returnee forms' 交通方式).
TRANSPORT_WORDS = {
    **{str(v): str(v) for v in Transport.values},
    **{str(label): str(value) for value, label in Transport.choices},
    "自驾": Transport.CAR,
    "汽车": Transport.CAR,
    "私家车": Transport.CAR,
    "小汽车": Transport.CAR,
    "自驾车": Transport.CAR,
    "火车": Transport.TRAIN,
    "高铁": Transport.TRAIN,
    "动车": Transport.TRAIN,
    "铁路": Transport.TRAIN,
    "列车": Transport.TRAIN,
    "飞机": Transport.FLIGHT,
    "航班": Transport.FLIGHT,
    "民航": Transport.FLIGHT,
    "客车": Transport.BUS,
    "大巴": Transport.BUS,
    "客运": Transport.BUS,
    "长途汽车": Transport.BUS,
    "长途客车": Transport.BUS,
    "班车": Transport.BUS,
    "其他": Transport.OTHER,
    "其它": Transport.OTHER,
}
# The document types an arrival may carry (a person without any document cannot be matched).
ARRIVAL_ID_TYPES = tuple(v for v in IdType.values if v != IdType.NONE)
_TRUE = {"1", "true", "on", "yes", "是", "y"}


def transport_value(value: Any) -> str | None:
    """The Transport value for a code or a word (自驾, 高铁, 飞机 ...); None if unknown."""
    text = clean_text(value)
    if not text:
        return None
    return TRANSPORT_WORDS.get(text) or TRANSPORT_WORDS.get(text.lower())


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in _TRUE


def parse_date(value: Any) -> dt.date | None:
    """A date as a form, the API or a cleaned import cell gives it; FormatError if unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise FormatError(_("日期格式应为 YYYY-MM-DD"))


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else " ".join(str(value).split())


def clean_arrival(
    raw: dict[str, Any], *, today: dt.date, from_list: bool = False
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate an arrival; returns (clean data, {field: [messages]}).

    Keys read: name, id_type, id_number, phone, origin_code, origin_address, from_abroad,
    origin_country, left_on, arrived_on, transport, vehicle_no, seat, destination_code,
    destination_address, outside_county, outside_code, symptoms. The clean data also holds
    the destination grid itself ("destination_division"), so that nobody reads it twice.

    `from_list`: the row comes from an imported list, which says what it knows: the phone,
    the vehicle number and the destination address may be missing (a form requires them).
    """
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    # Who: name, document, phone, with the people app's own rules and messages.
    id_type = _text(raw, "id_type") or IdType.RESIDENT_ID
    person_raw = {
        "name": raw.get("name"),
        "id_type": id_type,
        "id_number": raw.get("id_number"),
        "phone": raw.get("phone"),
    }
    person, person_errors = clean_person_fields(person_raw, today=today)
    for field, messages in person_errors.items():
        for message in messages:
            err(field, message)
    if id_type == IdType.NONE:
        errors.pop("id_number", None)
        err("id_type", _("证件类型：来返人员须登记证件，请选择证件类型并填写证件号码"))
    if not person.get("phone") and "phone" not in errors and not from_list:
        err("phone", _("手机号不能为空"))
    out.update(person)

    # Where from.
    from_abroad = as_bool(raw.get("from_abroad"))
    out["from_abroad"] = from_abroad
    origin_code = clean_text(raw.get("origin_code"))
    out["origin_code"] = ""
    out["origin_name"] = ""
    if origin_code:
        try:
            out["origin_code"], out["origin_name"] = region_lookup(origin_code)
        except FormatError as exc:
            err("origin_code", _("出发地区划代码：%(reason)s") % {"reason": exc.message})
    elif not from_abroad:
        err("origin_code", _("出发地不能为空：请选择省、市、县（区），或填写出发地区划代码"))
    country = _text(raw, "origin_country")
    if from_abroad and not country:
        err("origin_country", _("境外来返须填写出发国家（地区）"))
    elif len(country) > COUNTRY_MAX:
        err("origin_country", _("出发国家（地区）不能超过60个字符"))
    out["origin_country"] = country if from_abroad else ""
    if from_abroad and not out["origin_name"]:
        out["origin_name"] = country
    origin_address = _text(raw, "origin_address")
    if len(origin_address) > TEXT_MAX:
        err("origin_address", _("出发地详细地址不能超过200个字符"))
    out["origin_address"] = origin_address

    # When.
    dates: dict[str, dt.date | None] = {}
    for field, label in (("left_on", _("离开日期")), ("arrived_on", _("抵达日期"))):
        try:
            value = parse_date(raw.get(field))
        except FormatError as exc:
            err(field, f"{label}：{exc.message}")
            value = None
        else:
            if value is None:
                err(field, _("%(label)s不能为空") % {"label": label})
            elif value > today:
                err(field, _("%(label)s不能晚于今天") % {"label": label})
                value = None
            elif value < EARLIEST_DATE:
                err(field, _("%(label)s不能早于2019年12月1日") % {"label": label})
                value = None
        dates[field] = value
    left_on, arrived_on = dates["left_on"], dates["arrived_on"]
    if left_on and arrived_on and arrived_on < left_on:
        err("arrived_on", _("抵达日期不能早于离开日期"))
    out["left_on"], out["arrived_on"] = left_on, arrived_on

    # How.
    transport = transport_value(raw.get("transport"))
    if transport is None:
        if clean_text(raw.get("transport")):
            err("transport", _("交通方式无效：应为自驾、火车、飞机、客车或其他"))
        else:
            err("transport", _("请选择交通方式"))
    out["transport"] = transport or ""
    vehicle = _text(raw, "vehicle_no")
    out["vehicle_no"] = ""
    if vehicle:
        checker = {
            Transport.CAR: normalize_plate,
            Transport.TRAIN: normalize_train_no,
            Transport.FLIGHT: normalize_flight_no,
        }.get(transport or "")
        if checker is not None:
            try:
                out["vehicle_no"] = checker(vehicle)
            except FormatError as exc:
                err("vehicle_no", str(exc.message))
        elif len(vehicle) > SEAT_MAX:
            err("vehicle_no", _("车牌/车次/航班不能超过20个字符"))
        else:
            out["vehicle_no"] = vehicle
    elif not from_list and transport in (Transport.CAR, Transport.TRAIN, Transport.FLIGHT):
        err(
            "vehicle_no",
            {
                Transport.CAR: _("自驾须填写车牌号"),
                Transport.TRAIN: _("乘火车须填写车次"),
                Transport.FLIGHT: _("乘飞机须填写航班号"),
            }[transport],
        )
    seat = _text(raw, "seat")
    if len(seat) > SEAT_MAX:
        err("seat", _("座位不能超过20个字符"))
    out["seat"] = seat

    # Where to: a small grid of the county, or somewhere outside it.
    outside = as_bool(raw.get("outside_county"))
    out["outside_county"] = outside
    out["destination_code"] = ""
    out["outside_code"] = ""
    out["outside_name"] = ""
    if outside:
        code = clean_text(raw.get("outside_code"))
        if not code:
            err("outside_code", _("目的地在县外时须填写目的地区划代码"))
        else:
            try:
                out["outside_code"], out["outside_name"] = region_lookup(code)
            except FormatError as exc:
                err("outside_code", _("县外目的地区划代码：%(reason)s") % {"reason": exc.message})
    else:
        code = clean_text(raw.get("destination_code"))
        if not code:
            err("destination_code", _("请选择目的地所在网格"))
        else:
            division = division_cached(code)
            if division is not None and division.level != Division.Level.GRID:
                division = None
            if division is None:
                err("destination_code", _("目的网格不存在：须为本县的小网格"))
            else:
                out["destination_code"] = code
                out["destination_division"] = division  # read once, used by the service
    address = _text(raw, "destination_address")
    if not address and not from_list:
        err("destination_address", _("请填写目的地详细地址（到达后居住的地址）"))
    elif len(address) > TEXT_MAX:
        err("destination_address", _("目的地址不能超过200个字符"))
    out["destination_address"] = address

    symptoms = _text(raw, "symptoms")
    if len(symptoms) > TEXT_MAX:
        err("symptoms", _("症状不能超过200个字符"))
    out["symptoms"] = symptoms
    return out, errors
