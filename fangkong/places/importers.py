"""Check-ins on the import engine: kind "checkins".

Reads the venue-code platform's scan/declaration export (real-formats.md §5.1: 场所全称 /
场所简称, 姓名, 身份证号, 手机号, 申报时间 or 扫码时间 ..., the health-code and NAT columns
ignored) and hotel guest registers (§5.2: 入住人身份证号 / 证件号码, 入住时间 / 入住日期,
离开时间 / 退房日期, 房间号 / 房号, 宾馆名称 -> source "hotel"). The place is the row's 场所码,
or its 场所名称 when exactly one place has that name, or the option "place" (a venue code)
for a file without a place column (a hotel's own register).

Rows go through `services_checkins.checkin_record_bulk` (the rules of the API; one bulk insert
per batch). A row without a key of its own gets a natural one (place, document, time in), so
importing the same file again counts every row as unchanged. Masked exports (张*, 3405****001X)
are refused row by row: they cannot be traced. Rollback deletes the job's check-ins.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Forbidden
from fangkong.core.scope import code_in_scope
from fangkong.imports.contracts import BatchResult, Column, Importer, RowError, SourceRow, register
from fangkong.people.importers import guess_id_type, id_type_value

from .models import CheckIn, Place
from .selectors_checkins import can_record_checkins, places_by_code, places_by_name
from .services_checkins import MAX_BATCH, checkin_record_bulk

COLUMNS = (
    Column("place_code", "场所码", ("场所编码", "场所代码", "编码", "placeCodeId")),
    Column(
        "place_name",
        "场所名称",
        ("场所全称", "场所简称", "宾馆名称", "酒店名称", "旅店名称", "placeName", "闸机名称"),
    ),
    Column("name", "姓名", ("客户姓名", "证件姓名", "入住人姓名", "住客姓名")),
    Column("id_type", "证件类型", ("证件号码类型", "证件种类")),
    Column(
        "id_number",
        "证件号码",
        ("身份证号", "身份证号码", "入住人身份证号", "身份证", "公民身份号码", "证件号"),
        "number_text",
    ),
    Column("phone", "手机号", ("联系电话", "手机号码", "手机", "电话"), "number_text"),
    Column(
        "checked_in_at",
        "扫码时间",
        ("申报时间", "进入时间", "登记时间", "入住时间", "入住日期", "scanDate"),
    ),
    Column("checked_out_at", "离开时间", ("退房时间", "退房日期", "离店时间", "外出时间")),
    Column("room", "房间号", ("房号", "房间编号")),
    Column("idempotency_key", "记录编号", ("住宿信息id", "流水号", "记录id")),
)
HOTEL_COLUMNS = frozenset({"room", "checked_out_at"})


@register
class CheckInImporter(Importer):
    kind = "checkins"  # fangkong import checkins FILE [--place CODE]
    label = gettext_lazy("场所码登记记录")
    columns = COLUMNS
    required_any = (("name", "id_number", "checked_in_at"),)
    batch_size = MAX_BATCH

    def check_options(self) -> dict[str, list[str]]:
        if not can_record_checkins(viewer=self.actor):
            raise Forbidden(_("只有县指挥部和系统管理员可以导入场所码登记记录"))
        code = str(self.options.get("place") or "").strip()
        if code:
            place = places_by_code(codes={code}).get(code)
            if place is None or not code_in_scope(viewer=self.actor, code=place.division_id):
                return {"place": [_("场所码不存在：%(c)s") % {"c": code}]}
        return {}

    def _places(self, rows: list[SourceRow]) -> tuple[dict[str, Place], dict[str, list[Place]]]:
        codes = {str(r.values.get("place_code") or "") for r in rows}
        codes |= {str(self.options.get("place") or "")}
        codes = {c.strip() for c in codes} - {""}
        by_code = places_by_code(codes=codes)
        names = {str(r.values.get("place_name") or "").strip() for r in rows} - {""}
        return by_code, places_by_name(names=names)

    def process_batch(self, rows: list[SourceRow]) -> BatchResult:
        result = BatchResult()
        by_code, by_name = self._places(rows)
        places: dict[str, Place] = {}
        data: list[dict[str, Any]] = []
        kept: list[SourceRow] = []
        pre_errors: dict[int, dict[str, list[str]]] = {}
        default_code = str(self.options.get("place") or "").strip()
        for row in rows:
            values = row.values
            errors = {k: list(v) for k, v in row.errors.items()}
            place = None
            code = str(values.get("place_code") or "").strip()
            name = str(values.get("place_name") or "").strip()
            if code:
                place = by_code.get(code)
            elif name and name in by_name:
                matches = by_name[name]
                if len(matches) == 1:
                    place = matches[0]
                else:
                    errors.setdefault("place_name", []).append(
                        _("有多个同名场所，请在文件中写场所码")
                    )
            elif default_code:
                place = by_code.get(default_code)
            if place is not None and not code_in_scope(viewer=self.actor, code=place.division_id):
                place = None
            if place is None and "place_name" not in errors:
                field = "place_code" if code or not name else "place_name"
                if not code and not name and not default_code:
                    errors.setdefault(field, []).append(_("文件没有场所列，请在导入时指定场所码"))
                elif "place" not in errors:
                    errors.setdefault(field, []).append(_("场所不存在或不在管辖范围内"))
            number = str(values.get("id_number") or "")
            id_type = id_type_value(values.get("id_type")) if values.get("id_type") else None
            if values.get("id_type") and id_type is None:
                errors.setdefault("id_type", []).append(_("证件类型无效"))
            key = str(values.get("idempotency_key") or "").strip()
            hotel = any(values.get(k) for k in HOTEL_COLUMNS) or (
                place is not None and place.kind == "hotel"
            )
            if errors and any(k in errors for k in ("place_code", "place_name")):
                pre_errors[len(data)] = errors
            if place is not None:
                places[place.code] = place
            data.append(
                {
                    "place_code": place.code if place is not None else "",
                    "name": values.get("name"),
                    "id_type": id_type or (guess_id_type(number) if number else "resident_id"),
                    "id_number": number,
                    "phone": values.get("phone"),
                    "checked_in_at": values.get("checked_in_at") or "",
                    "checked_out_at": values.get("checked_out_at"),
                    "room": values.get("room") or "",
                    "idempotency_key": f"imp:{place.pk}:{key}"[:64] if key and place else "",
                    "source": "hotel" if hotel else "import",
                }
            )
            if not values.get("checked_in_at"):
                errors.setdefault("checked_in_at", []).append(_("请填写扫码（进入）时间"))
                pre_errors[len(data) - 1] = errors
            elif errors:
                pre_errors[len(data) - 1] = errors
            kept.append(row)
        good_idx = [i for i in range(len(data)) if i not in pre_errors]
        outcome = checkin_record_bulk(
            actor=self.actor,
            rows=[data[i] for i in good_idx],
            source="import",
            import_job=self.job,
            places=places,
        )
        errors_by_index = dict(pre_errors)
        for sub_index, errs in outcome.errors:
            errors_by_index[good_idx[sub_index]] = errs
        for index in sorted(errors_by_index):
            result.errors.append(RowError(row=kept[index], errors=errors_by_index[index]))
        result.created = outcome.created
        result.unchanged = outcome.duplicates
        return result

    def rollback(self) -> int:
        deleted = CheckIn.objects.filter(import_job=self.job).delete()[0]
        audit_record(
            actor=self.actor,
            verb="places.checkin.import_rollback",
            target=self.job,
            data={"deleted": deleted},
        )
        return deleted
