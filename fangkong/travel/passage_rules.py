"""过卡登记 rules as data and field cleaning, shared by the service, the pages and the API.

Who registers passages, the vehicle types a checkpoint sheet uses, the temperature range and
the fever threshold, what staff must do with a flagged occupant (ACTIONS), and
`clean_passage(raw, *, today)`: every bad field at once, with paths like
"occupants[1].temperature". Writes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.roles import Role
from fangkong.core.validators import FormatError, clean_text, normalize_plate
from fangkong.geo.cache import division_cached
from fangkong.geo.models import Division
from fangkong.geo.regions import region_lookup
from fangkong.people.models import IdType
from fangkong.people.validation import clean_person_fields
from fangkong.policy.models import RiskLevel

from .models import CheckpointPassage, PassageOccupant
from .permissions import role_of

# --- rules as data ---------------------------------------------------------------------------

# Who registers passages: checkpoint staff and the HQ anywhere, a town officer at the
# checkpoints of their town (the data scope decides).
PASSAGE_ROLES = frozenset({Role.CHECKPOINT_STAFF, Role.COMMANDER, Role.ADMIN, Role.TOWN_OFFICER})
# 号牌种类 as checkpoint sheets write them; "步行" (on foot) needs no plate.
ON_FOOT = "步行"
VEHICLE_TYPES = (
    "小型汽车",
    "大型汽车",
    "小型新能源汽车",
    "大型新能源汽车",
    "货车",
    "客车",
    "摩托车",
    "挂车",
    ON_FOOT,
    "其他",
)
# How an arrival made from a passage travelled (TravelRegistration.transport).
BUS_VEHICLE_TYPES = frozenset({"客车"})
# 体温: the range a thermometer at a barrier can honestly read; at or above FEVER, a fever.
TEMPERATURE_MIN = Decimal("34.0")
TEMPERATURE_MAX = Decimal("43.0")
DEFAULT_FEVER_THRESHOLD = "37.3"
# A coach carries at most this many; beyond is a typo or a bulk load.
MAX_OCCUPANTS = 80
TEXT_MAX = 200
PURPOSE_MAX = 100
KEY_MAX = 64
# What staff at the barrier must do with a flagged occupant, per reason.
ACTIONS = {
    "risk_area": gettext_lazy("来自%(level)s地区：引导至目的地网格，网格员将上门落实管控措施"),
    "fever": gettext_lazy("发热：立即转送发热门诊，不得自行离开"),
    "no_grid": gettext_lazy("未登记县内目的网格：报县指挥部，由其协调落实管控措施"),
}
Flag = PassageOccupant.Flag


def fever_threshold() -> Decimal:
    """37.3 ℃ unless settings.FANGKONG["FEVER_THRESHOLD"] says otherwise."""
    return Decimal(str(settings.FANGKONG.get("FEVER_THRESHOLD", DEFAULT_FEVER_THRESHOLD)))


def can_register_passage(user: Any) -> bool:
    return role_of(user) in PASSAGE_ROLES


def occupant_actions(occupant: PassageOccupant, passage: CheckpointPassage) -> list[str]:
    """The instructions for a flagged occupant, from ACTIONS (empty for an unflagged one)."""
    out: list[str] = []
    if occupant.flag in (Flag.RISK_AREA, Flag.BOTH):
        level = RiskLevel(occupant.risk_level).label if occupant.risk_level else ""
        out.append(str(ACTIONS["risk_area"]) % {"level": level})
    if occupant.flag in (Flag.FEVER, Flag.BOTH):
        out.append(str(ACTIONS["fever"]))
    if (
        occupant.flag
        and passage.direction == CheckpointPassage.Direction.IN
        and passage.destination_division_id is None
    ):
        out.append(str(ACTIONS["no_grid"]))
    return out


# --- validation ------------------------------------------------------------------------------


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else " ".join(str(value).split())


def parse_temperature(value: Any) -> Decimal:
    """ "36.5", "36.5℃", 36.5 -> Decimal("36.5"); FormatError when unreadable or out of range."""
    text = clean_text(value).replace("℃", "").replace("°C", "").replace("°", "").strip()
    if not text:
        raise FormatError(_("体温不能为空"))
    try:
        number = Decimal(text).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise FormatError(_("体温应为数字，如 36.5")) from None
    if not TEMPERATURE_MIN <= number <= TEMPERATURE_MAX:
        raise FormatError(_("体温应在 34–43 ℃ 之间，请复测"))
    return number


def clean_passage(
    raw: dict[str, Any], *, today: dt.date
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate a passage; returns (clean data, {field path: [messages]}). Writes nothing."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def err(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    direction = _text(raw, "direction") or CheckpointPassage.Direction.IN
    if direction not in CheckpointPassage.Direction.values:
        err("direction", _("方向无效：应为 in（进入）或 out（离开）"))
    out["direction"] = direction
    inbound = direction == CheckpointPassage.Direction.IN

    vehicle_type = _text(raw, "vehicle_type")
    if not vehicle_type:
        err("vehicle_type", _("请选择车辆类型"))
    elif vehicle_type not in VEHICLE_TYPES:
        err("vehicle_type", _("车辆类型无效：应为 %(types)s") % {"types": "、".join(VEHICLE_TYPES)})
    out["vehicle_type"] = vehicle_type
    plate = _text(raw, "plate")
    out["plate"] = ""
    if plate:
        try:
            out["plate"] = normalize_plate(plate)
        except FormatError as exc:
            err("plate", str(exc.message))
    elif vehicle_type != ON_FOOT:
        err("plate", _("车牌号不能为空（步行过卡请选择车辆类型“步行”）"))

    origin = clean_text(raw.get("origin_code"))
    out["origin_code"], out["origin_name"] = "", ""
    if origin:
        try:
            out["origin_code"], out["origin_name"] = region_lookup(origin)
        except FormatError as exc:
            err("origin_code", _("来源地区划代码：%(reason)s") % {"reason": exc.message})
    elif inbound:
        err("origin_code", _("请选择来源地（省、市、县），或填写来源地区划代码"))

    code = clean_text(raw.get("destination_code"))
    out["destination_code"], out["destination_division"] = "", None
    if code:
        division = division_cached(code)
        if division is None or division.level != Division.Level.GRID:
            err("destination_code", _("目的网格不存在：须为本县的小网格"))
        else:
            out["destination_code"], out["destination_division"] = code, division
    address = _text(raw, "destination_address")
    if len(address) > TEXT_MAX:
        err("destination_address", _("目的地址不能超过200个字符"))
    elif code and not address:
        err("destination_address", _("请填写目的地详细地址（到达后居住的地址）"))
    out["destination_address"] = address
    purpose = _text(raw, "purpose")
    if len(purpose) > PURPOSE_MAX:
        err("purpose", _("事由不能超过100个字符"))
    out["purpose"] = purpose

    occupants = raw.get("occupants") or []
    if not isinstance(occupants, list) or not occupants:
        err("occupants", _("请至少登记一名驾乘人员"))
        occupants = []
    elif len(occupants) > MAX_OCCUPANTS:
        err("occupants", _("一次最多登记80名驾乘人员"))
        occupants = []
    cleaned: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(occupants):
        prefix = f"occupants[{index}]"
        item = item if isinstance(item, dict) else {}
        id_type = _text(item, "id_type") or IdType.RESIDENT_ID
        person, person_errors = clean_person_fields(
            {
                "name": item.get("name"),
                "id_type": id_type,
                "id_number": item.get("id_number"),
                "phone": item.get("phone"),
            },
            today=today,
        )
        for name, messages in person_errors.items():
            for message in messages:
                err(f"{prefix}.{name}", message)
        if id_type == IdType.NONE or (
            not person.get("id_number") and "id_number" not in person_errors
        ):
            err(f"{prefix}.id_number", _("证件号码不能为空"))
        if not person.get("phone") and "phone" not in person_errors:
            err(f"{prefix}.phone", _("手机号不能为空"))
        try:
            person["temperature"] = parse_temperature(item.get("temperature"))
        except FormatError as exc:
            err(f"{prefix}.temperature", str(exc.message))
        number = person.get("id_number")
        if number:
            if number in seen:
                err(
                    f"{prefix}.id_number",
                    _("与第 %(n)s 名人员的证件号码重复") % {"n": seen[number] + 1},
                )
            seen.setdefault(number, index)
        cleaned.append(person)
    out["occupants"] = cleaned
    return out, errors
