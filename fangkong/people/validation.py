"""Field cleaning for a person, shared by the forms, the API and the import engine.

Returns clean values and {field: [messages]} for everything wrong, so a caller can report all
bad fields at once, in the user's language.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from fangkong.core.timeutils import local_today
from fangkong.core.validators import FormatError, normalize_mobile, parse_document

from .models import IdType, Relation, Sex

NAME_MAX = 50
# The person fields a form, an API call or an import row may set (clean_person_fields' keys).
PERSON_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "sex",
    "birth_date",
    "phone",
    "address",
    "notes",
    "relation_to_head",
)
# Choice values as sets, built once: an import validates hundreds of thousands of rows.
ID_TYPE_VALUES = frozenset(IdType.values)
SEX_VALUES = frozenset(Sex.values)
RELATION_VALUES = frozenset(Relation.values)
_SEX_WORDS = {"男": "M", "女": "F", "m": "M", "f": "F"}


def _parse_date(value: Any) -> dt.date | None:
    if value.__class__ is dt.date:  # the usual value (imports clean dates first)
        return value
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


def clean_person_fields(
    data: dict[str, Any], *, partial: bool = False, today: dt.date | None = None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate the person fields present in `data`. With partial=False, name is required.

    `today` (default: local_today(), read when a rule needs it) lets a caller validating many
    rows read the clock once."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name:
            err("name", _("姓名不能为空"))
        elif len(name) > NAME_MAX:
            err("name", _("姓名不能超过50个字符"))
        elif not name.isalpha() and any(ch.isdigit() for ch in name):
            err("name", _("姓名不能包含数字"))
        out["name"] = name

    id_type = data.get("id_type")
    if id_type in (None, "") and ("id_number" in data or not partial):
        id_type = IdType.RESIDENT_ID if data.get("id_number") else IdType.NONE
    if id_type is not None:
        if id_type not in ID_TYPE_VALUES:
            err("id_type", _("证件类型无效"))
        out["id_type"] = id_type

    derived_birth: dt.date | None = None
    derived_sex: str | None = None
    if "id_number" in data or "id_type" in data or not partial:
        raw = data.get("id_number")
        if id_type == IdType.NONE:
            if raw not in (None, ""):
                err("id_number", _("证件类型为“无证件”时不能填写证件号码"))
            out["id_number"] = None
        elif id_type in ID_TYPE_VALUES:
            if raw in (None, ""):
                err("id_number", _("请填写证件号码，或将证件类型选为“无证件”"))
            else:
                try:
                    today = today or local_today()
                    number, parsed = parse_document(id_type, raw, today=today)
                    out["id_number"] = number
                    if parsed is not None:
                        derived_birth, derived_sex = parsed.birth_date, parsed.sex
                except FormatError as exc:
                    err("id_number", str(exc.message))

    if "birth_date" in data:
        try:
            birth = _parse_date(data.get("birth_date"))
        except FormatError as exc:
            err("birth_date", str(exc.message))
            birth = None
        if birth is not None:
            if derived_birth is not None and birth != derived_birth:
                err("birth_date", _("出生日期与身份证号不一致"))
            elif birth > (today or local_today()):
                err("birth_date", _("出生日期不能晚于今天"))
            out["birth_date"] = birth
    if derived_birth is not None:
        out["birth_date"] = derived_birth

    if "sex" in data and data.get("sex") not in (None, ""):
        sex = str(data["sex"]).strip()
        sex = _SEX_WORDS.get(sex, sex)
        if sex not in SEX_VALUES:
            err("sex", _("性别无效（应为 M/F/U 或 男/女）"))
        elif derived_sex is not None and sex != Sex.UNKNOWN and sex != derived_sex:
            err("sex", _("性别与身份证号不一致"))
        out["sex"] = sex
    if derived_sex is not None:
        out["sex"] = derived_sex

    if "phone" in data:
        raw_phone = data.get("phone")
        if raw_phone in (None, ""):
            out["phone"] = ""
        else:
            try:
                out["phone"] = normalize_mobile(raw_phone)
            except FormatError as exc:
                err("phone", str(exc.message))

    if "address" in data:
        address = str(data.get("address") or "").strip()
        if len(address) > 200:
            err("address", _("地址不能超过200个字符"))
        out["address"] = address

    if "notes" in data:
        out["notes"] = str(data.get("notes") or "").strip()

    if "relation_to_head" in data:
        relation = str(data.get("relation_to_head") or "")
        if relation and relation not in RELATION_VALUES:
            err("relation_to_head", _("与户主关系无效"))
        out["relation_to_head"] = relation
    return out, errors
