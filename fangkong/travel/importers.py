"""Arrival lists on the import engine: kinds "arrivals" and "assist_list".

* "arrivals" (推送名单): the returnee registration form of real-formats.md §2.3
  (姓名, 身份证号, 联系电话, 出发地（省市县）, 返回日期, 交通方式, 车次/航班/车牌, 现住址,
  所属村（社区） ...) and the Yiwu platform's 来返义申报 / 近期来义 exports of §2.1
  (证件类型, 证件号, 手机号, 来源地, 来义时间 / 抵义时间, 来义居所, 所在镇街 ...).
  Channel pushed_list.
* "assist_list" (协查名单, §3): 姓名, 身份证号, 手机号, 人员类别, 暴露地点, 末次暴露时间 /
  离开时间, 现住址 ... for an incoming assist request, named by the option "assist_request"
  (its id) or created from the options number / counterpart / counterpart_code / subject /
  dated. Channel assist_request; a row's 人员类别 (密接, 次密接) becomes its category.

Each good row is validated by the rules of the forms (`validation.clean_arrival`, with the
list's leniency: no phone, vehicle or address needed) and registered through
`services.arrival_register_bulk`: people matched in one query, one order_propose_bulk call per
batch, so each arrival lands in its grid worker's inbox. Origins written as names
(湖北省武汉市洪山区关山街道) are resolved with geo.regions (the rest of the text is kept as the
origin address, which risk areas with a compound or street detail are matched against). The
destination is the row's small grid, or its village's only grid, or the option "division"
(the default grid). A row already registered (same document, arrival date and origin) counts
as unchanged, so importing the same file again changes nothing.

Rollback deletes the job's registrations and their outgoing assist entries, cancels the open
orders they led to through control.services.order_cancel (which closes their loop tasks), and
deletes the people and the letter the job created when nothing else refers to them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.roles import policy_for
from fangkong.control.models import OPEN_STATUSES, ControlOrder
from fangkong.control.services import loop_tasks_cancel_for_sources, order_cancel
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Forbidden
from fangkong.core.scope import code_in_scope, subtree_q
from fangkong.core.timeutils import local_today
from fangkong.core.validators import FormatError, clean_text
from fangkong.geo.models import Division
from fangkong.geo.regions import region_lookup, region_match_name
from fangkong.imports.contracts import (
    BatchResult,
    Column,
    Importer,
    RowError,
    SourceRow,
    register,
)
from fangkong.people.importers import DivisionResolver, guess_id_type, id_type_value
from fangkong.people.models import Person
from fangkong.policy.models import Category

from . import permissions, services
from .models import AssistRequest, AssistRequestEntry, Channel, Transport, TravelRegistration
from .validation import clean_arrival

# --- columns -----------------------------------------------------------------------------------

NAME = Column("name", "姓名", ("人员姓名", "管控人员姓名", "居民姓名", "名字"))
ID_TYPE = Column("id_type", "证件类型", ("证件种类", "证件名称", "身份证件类型"))
ID_NUMBER = Column(
    "id_number",
    "身份证号",
    (
        "证件号码",
        "证件号",
        "身份证号码",
        "公民身份号码",
        "身份证",
        "居民身份证号码",
        "身份证件号码",
        "证件编号",
    ),
    "number_text",
)
PHONE = Column(
    "phone",
    "手机号",
    ("联系电话", "手机号码", "电话号码", "电话", "联系方式", "手机", "联系号码", "本人电话"),
    "number_text",
)
ORIGIN = Column(
    "origin",
    "出发地（省市县）",
    (
        "出发地",
        "来源地",
        "何处返程",
        "自哪来",
        "出发地(省市县区)",
        "来自",
        "从何地来",
        "返回前所在地",
    ),
)
ORIGIN_CODE = Column(
    "origin_code", "出发地区划代码", ("来源地区划代码", "出发地代码"), "number_text"
)
ORIGIN_ADDRESS = Column("origin_address", "出发地详细地址", ("来源地详细地址",))
ARRIVED = Column(
    "arrived_on",
    "返回日期",
    (
        "抵达日期",
        "来义时间",
        "抵义时间",
        "返乡日期",
        "返回时间",
        "到达日期",
        "到达时间",
        "抵达时间",
        "返程时间",
        "来返日期",
        "进入时间",
    ),
    "date",
)
LEFT = Column(
    "left_on",
    "离开日期",
    (
        "离开时间",
        "离开高风险地区时间",
        "离开中高风险地区时间",
        "离开风险地区时间",
        "离开出发地日期",
        "出发日期",
        "出发时间",
    ),
    "date",
)
TRANSPORT = Column(
    "transport",
    "交通方式",
    ("来义交通工具", "交通工具", "返程所乘交通工具", "交通工具类型", "返回方式"),
)
VEHICLE = Column(
    "vehicle_no",
    "车次/航班/车牌",
    (
        "车次航班车牌",
        "车次/航班号/车牌号",
        "返程所乘车次/航班",
        "交通工具信息",
        "车牌号",
        "车次",
        "航班号",
        "车牌",
    ),
)
SEAT = Column("seat", "座位号", ("座位", "座号"))
ADDRESS = Column(
    "address",
    "现住址",
    (
        "来义居所",
        "现住地址",
        "现居住地址",
        "详细地址",
        "居住地址",
        "落地地址",
        "现住址/落地地址",
        "到达后住址",
        "住址",
    ),
)
GRID = Column("grid", "所属网格", ("网格编码", "网格", "网格代码", "小网格"), "number_text")
VILLAGE = Column(
    "village",
    "所属村（社区）",
    ("村（社区）", "村社", "所属社区", "所在村", "所属村", "所在村（社区）", "村/社区", "社区"),
)
TOWN = Column(
    "town",
    "所在镇街",
    ("镇街", "所属镇（街道）", "镇（街道）", "所在镇（街道）", "乡镇", "乡镇（街道）", "镇"),
)
SYMPTOMS = Column("symptoms", "症状", ("身体状态", "目前有无咳嗽,发热等症状", "健康状况"))
CATEGORY = Column("category", "人员类别", ("人员类型", "类别", "风险类别"))
EXPOSURE_PLACE = Column(
    "origin",
    "暴露地点",
    ("暴露（出发）地点", "暴露地", "出发地", "来源地"),
)
LAST_EXPOSURE = Column(
    "left_on",
    "末次暴露时间",
    ("末次暴露日期", "离开时间", "离开日期", "离开风险地区时间"),
    "date",
)

IGNORED = (
    Column("ignored_sex", "性别", ()),
    Column("ignored_via", "途经地", ("途径城市", "途经城市", "假期你所去过的省市")),
    Column("ignored_health_code", "健康码颜色", ("健康码", "颜色")),
    Column("ignored_trip_star", "行程码是否带星", ("行程码是否有星号",)),
    Column("ignored_nat", "48小时核酸", ("最近核酸检测结果", "核酸检测结果")),
    Column("ignored_nat_date", "核酸采样日期", ("检测时间",)),
    Column("ignored_vaccine", "疫苗接种剂次", ("接种剂次",)),
    Column("ignored_vaccine_date", "疫苗接种日期", ("疫苗接种时间",)),
    Column("ignored_measure", "管控措施", ()),
    Column("ignored_cadre", "包联干部", ()),
    Column("ignored_notes", "备注", ("其他备注信息",)),
    Column("ignored_declared_at", "申报时间", ()),
    Column("ignored_student", "是否学生", ()),
    Column("ignored_check_result", "核查结果", ()),
    Column("ignored_feedback_unit", "反馈单位", ()),
    Column("ignored_feedback_time", "反馈时间", ()),
    Column("ignored_pushed_from", "推送地", ("推送单位", "来源单位")),
    Column("ignored_first_exposure", "暴露时间", ("首次暴露时间",)),
)

ARRIVAL_COLUMNS = (
    NAME,
    ID_TYPE,
    ID_NUMBER,
    PHONE,
    ORIGIN,
    ORIGIN_CODE,
    ORIGIN_ADDRESS,
    LEFT,
    ARRIVED,
    TRANSPORT,
    VEHICLE,
    SEAT,
    ADDRESS,
    GRID,
    VILLAGE,
    TOWN,
    SYMPTOMS,
    *IGNORED,
)
ASSIST_COLUMNS = (
    NAME,
    ID_TYPE,
    ID_NUMBER,
    PHONE,
    CATEGORY,
    EXPOSURE_PLACE,
    ORIGIN_CODE,
    LAST_EXPOSURE,
    Column("arrived_on", "抵达日期", ("来返日期", "到达日期", "返回日期"), "date"),
    ADDRESS,
    GRID,
    VILLAGE,
    TOWN,
    *IGNORED,
)
LABELS = {c.key: str(c.label) for c in (*ARRIVAL_COLUMNS, *ASSIST_COLUMNS)}
# The cleaned arrival's fields -> the column that brought them (for row error messages).
FIELD_COLUMNS = {
    "name": "name",
    "id_type": "id_type",
    "id_number": "id_number",
    "phone": "phone",
    "origin_code": "origin",
    "origin_address": "origin",
    "origin_country": "origin",
    "left_on": "left_on",
    "arrived_on": "arrived_on",
    "transport": "transport",
    "vehicle_no": "vehicle_no",
    "seat": "seat",
    "destination_code": "grid",
    "destination_address": "address",
    "symptoms": "symptoms",
}
CATEGORY_WORDS = {
    "密接": Category.CLOSE_CONTACT,
    "密切接触者": Category.CLOSE_CONTACT,
    "密切接触": Category.CLOSE_CONTACT,
    "次密接": Category.SECONDARY_CONTACT,
    "密接的密接": Category.SECONDARY_CONTACT,
    "次密切接触者": Category.SECONDARY_CONTACT,
    "入境人员": Category.ENTRANT,
    "境外来返": Category.ENTRANT,
    "入境": Category.ENTRANT,
}
ABROAD_WORDS = ("境外", "国外")


class _CountyWide:
    """A viewer that sees the whole county: names are resolved county-wide (a grid worker's
    row names its village), and the grid they lead to is checked against the importer's
    own scope afterwards."""

    is_authenticated = True

    def scope_codes(self) -> None:
        return None


def _masked(value: Any) -> bool:
    return isinstance(value, str) and ("*" in value or "＊" in value)


def _text(row: SourceRow, key: str) -> str:
    value = row.values.get(key)
    return "" if value is None else clean_text(value) if key.endswith("code") else str(value)


class _ArrivalListBase(Importer):
    channel: str = Channel.PUSHED_LIST
    batch_size = 2000

    def __init__(self, *, job: Any, actor: Any, options: dict[str, Any]) -> None:
        super().__init__(job=job, actor=actor, options=options or {})
        self.default_grid = str(self.options.get("division") or "").strip() or None
        self.divisions = DivisionResolver(actor=_CountyWide(), within=None)
        self._grids_under: dict[str, list[str]] = {}

    # -- options and permission --------------------------------------------------------------

    def _allowed(self) -> bool:
        return permissions.can_register(self.actor) and policy_for(self.actor).can_edit_people

    def check_options(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if not self._allowed():
            errors["kind"] = [_("您的角色不能导入来返人员名单")]
        if self.default_grid is not None and (
            not Division.objects.filter(code=self.default_grid, level=Division.Level.GRID).exists()
            or not code_in_scope(viewer=self.actor, code=self.default_grid)
        ):
            errors["division"] = [_("默认网格须为您管辖范围内的小网格（15 位区划代码）")]
        return errors

    # -- one batch ---------------------------------------------------------------------------

    def assist_request(self) -> AssistRequest | None:
        return None

    def process_batch(self, rows: list[SourceRow]) -> BatchResult:
        if not self._allowed():
            raise Forbidden(_("您的角色不能导入来返人员名单"))
        result = BatchResult()
        today = local_today()
        parsed: list[tuple[SourceRow, dict[str, Any]]] = []
        for row in rows:
            item = self._parse(row, today)
            if isinstance(item, RowError):
                result.errors.append(item)
            else:
                parsed.append((row, item))
        known = self._already_registered([data for _row, data in parsed])
        fresh: list[dict[str, Any]] = []
        for _row, data in parsed:
            key = self._key(data)
            if key in known:
                result.unchanged += 1
                continue
            known.add(key)
            fresh.append(data)
        if fresh:
            services.arrival_register_bulk(
                actor=self.actor,
                items=fresh,
                channel=self.channel,
                assist_request=self.assist_request(),
                import_job=self.job,
            )
        result.created += len(fresh)
        result.errors.sort(key=lambda e: e.row.number)
        audit_record(
            actor=self.actor,
            verb="travel.arrival.import",
            target_type="imports.importjob",
            target_id=getattr(self.job, "pk", None),
            data={
                "kind": self.kind,
                "rows": len(rows),
                "created": result.created,
                "unchanged": result.unchanged,
                "invalid": len(result.errors),
            },
        )
        return result

    @staticmethod
    def _key(data: dict[str, Any]) -> tuple[Any, ...]:
        return (data["id_type"], data["id_number"], data["arrived_on"], data["origin_code"])

    def _already_registered(self, items: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
        """The items' trips registered before (any channel): one query per batch."""
        numbers = {d["id_number"] for d in items}
        if not numbers:
            return set()
        rows = (
            TravelRegistration.objects.filter(
                person__id_number__in=numbers,
                arrived_on__in={d["arrived_on"] for d in items},
            )
            .order_by()
            .values_list("person__id_type", "person__id_number", "arrived_on", "origin_code")
        )
        return set(rows)

    # -- one row -----------------------------------------------------------------------------

    def _raw(self, row: SourceRow) -> dict[str, Any]:
        """The row as clean_arrival's input (the cells, under the arrival's field names)."""
        values = row.values
        number = values.get("id_number")
        id_type = None
        if values.get("id_type") not in (None, ""):
            id_type = id_type_value(values["id_type"]) or str(values["id_type"])
        elif number:
            id_type = guess_id_type(str(number))
        phone = values.get("phone")
        if _masked(phone):
            phone = None  # a masked phone (138****0000) is "not provided"
        arrived, left = values.get("arrived_on"), values.get("left_on")
        transport = values.get("transport")
        return {
            "name": values.get("name"),
            "id_type": id_type,
            "id_number": number,
            "phone": phone,
            "left_on": left or arrived,
            "arrived_on": arrived or left,
            "transport": transport if transport not in (None, "") else Transport.OTHER,
            "vehicle_no": values.get("vehicle_no"),
            "seat": values.get("seat"),
            "destination_address": values.get("address"),
            "symptoms": values.get("symptoms"),
            "origin_address": values.get("origin_address"),
        }

    def _origin(self, row: SourceRow, raw: dict[str, Any], errors: dict[str, list[str]]) -> None:
        """The origin by code, or by the place name (the rest of the name: the address)."""
        code = _text(row, "origin_code")
        place = " ".join(str(row.values.get("origin") or "").split())
        if code:
            raw["origin_code"] = code
            if place and not raw.get("origin_address"):
                raw["origin_address"] = place
            return
        if not place:
            errors.setdefault("origin", []).append(
                _("%(label)s不能为空") % {"label": LABELS["origin"]}
            )
            return
        if place.startswith(ABROAD_WORDS):
            raw["from_abroad"] = True
            raw["origin_country"] = (
                place.removeprefix("境外").removeprefix("国外").strip("：:（）() ") or place
            )
            return
        match = region_match_name(place)
        if match is None:
            errors.setdefault("origin", []).append(
                _("%(label)s“%(value)s”无法识别，请写明省、市、县（区）名称，或填写出发地区划代码")
                % {"label": LABELS["origin"], "value": place}
            )
            return
        raw["origin_code"] = match.code
        if match.rest and not raw.get("origin_address"):
            raw["origin_address"] = match.rest

    def _grids_of(self, code: str) -> list[str]:
        """The small grids under a town or village (cached per code)."""
        if code not in self._grids_under:
            self._grids_under[code] = list(
                Division.objects.filter(subtree_q("code", code), level=Division.Level.GRID)
                .order_by("code")
                .values_list("code", flat=True)
            )
        return self._grids_under[code]

    def _destination(self, row: SourceRow, errors: dict[str, list[str]]) -> str | None:
        """The small grid: the row's grid, its village's only grid, or the default grid."""
        grid = _text(row, "grid")
        town = str(row.values.get("town") or "")
        village = str(row.values.get("village") or "")
        if not (grid or town or village):
            if self.default_grid:
                return self.default_grid
            errors.setdefault("grid", []).append(
                _("请填写所属村（社区）或所属网格，或在导入时选择默认网格")
            )
            return None
        code, problem = self.divisions.resolve(code=grid, town=town, village=village, group="")
        if problem is not None:
            column, message = problem
            errors.setdefault(column if column in ("town", "village") else "grid", []).append(
                message
            )
            return None
        if code is None:
            return self.default_grid
        if len(code) == 15:
            return code
        if self.default_grid and self.default_grid.startswith(code):
            return self.default_grid
        grids = self._grids_of(code)
        if len(grids) == 1:
            return grids[0]
        errors.setdefault("grid" if grid else ("village" if village else "town"), []).append(
            _("“%(value)s”下有多个小网格，请填写所属网格，或在导入时选择该村的默认网格")
            % {"value": village or town or grid}
        )
        return None

    def _parse(self, row: SourceRow, today: dt.date) -> dict[str, Any] | RowError:
        errors: dict[str, list[str]] = {k: list(v) for k, v in row.errors.items()}
        raw = self._raw(row)
        if _masked(raw.get("id_number")):
            errors.setdefault("id_number", []).append(
                _("证件号码已脱敏，无法核实身份，请向来函单位索取完整号码")
            )
            raw["id_number"] = None
        self._origin(row, raw, errors)
        destination = self._destination(row, errors)
        if destination and not code_in_scope(viewer=self.actor, code=destination):
            errors.setdefault("grid", []).append(
                _("所属网格 %(code)s 不在您的管辖范围内") % {"code": destination}
            )
            destination = None
        raw["destination_code"] = destination or ""
        data, problems = clean_arrival(raw, today=today, from_list=True)
        for field, messages in problems.items():
            column = FIELD_COLUMNS.get(field, field)
            if (field == "destination_code" and errors.get("grid")) or (
                field in ("origin_code", "origin_country") and errors.get("origin")
            ):
                continue  # already said why
            if field == "id_number" and errors.get("id_number"):
                continue
            if field == "origin_code" and _text(row, "origin_code"):
                column = "origin_code"
            errors.setdefault(column, []).extend(messages)
        category = self._category(row, errors)
        if errors:
            return RowError(row=row, errors=errors)
        if category:
            data["category"] = category
        return data

    def _category(self, row: SourceRow, errors: dict[str, list[str]]) -> str | None:
        return None

    # -- rollback ----------------------------------------------------------------------------

    def rollback(self) -> int:
        """Delete the job's registrations, cancel the open orders they led to (their tasks
        close with them), delete what the job created that nothing else holds on to."""
        job = self.job
        regs = TravelRegistration.objects.filter(import_job=job).order_by()
        reg_ids = list(regs.values_list("pk", flat=True))
        source_ids = [str(pk) for pk in reg_ids]
        reason = _("撤销导入任务 #%(id)s") % {"id": job.pk}
        cancelled = 0
        for start in range(0, len(source_ids), 1000):
            chunk = source_ids[start : start + 1000]
            orders = ControlOrder.objects.filter(
                source_type="arrival", source_id__in=chunk, status__in=OPEN_STATUSES
            ).order_by("pk")
            for order in orders:
                order_cancel(actor=self.actor, order=order, reason=reason)
                cancelled += 1
        # Arrivals without a measure still opened a task (acknowledge, visit): cancel those too.
        loop_tasks_cancel_for_sources(
            actor=self.actor, source_type="arrival", source_ids=source_ids, reason=reason
        )
        entries = AssistRequestEntry.objects.filter(arrival_id__in=reg_ids).delete()[0]
        deleted = 0
        for start in range(0, len(reg_ids), 1000):
            deleted += (
                TravelRegistration.objects.filter(pk__in=reg_ids[start : start + 1000])
                .delete()[1]
                .get("travel.TravelRegistration", 0)
            )
        people_deleted = 0
        for pk in Person.objects.filter(import_job=job).order_by().values_list("pk", flat=True):
            try:
                people_deleted += Person.objects.filter(pk=pk).delete()[1].get("people.Person", 0)
            except ProtectedError:
                continue  # orders and tasks (cancelled) still name them: kept
        letters = 0
        for letter in AssistRequest.objects.filter(import_job=job):
            if not letter.arrivals.exists() and not letter.entries.exists():
                letter.delete()
                letters += 1
        audit_record(
            actor=self.actor,
            verb="travel.arrival.import_rollback",
            target_type="imports.importjob",
            target_id=job.pk,
            data={
                "registrations_deleted": deleted,
                "orders_cancelled": cancelled,
                "assist_entries_deleted": entries,
                "people_deleted": people_deleted,
                "letters_deleted": letters,
            },
        )
        return deleted


@register
class ArrivalsImporter(_ArrivalListBase):
    kind = "arrivals"
    label = gettext_lazy("来返人员名单")
    columns = ARRIVAL_COLUMNS
    required_any = (("name", "id_number", "arrived_on"), ("name", "id_number", "left_on"))
    permission = "can_edit_people"
    channel = Channel.PUSHED_LIST


@register
class AssistListImporter(_ArrivalListBase):
    kind = "assist_list"
    label = gettext_lazy("协查名单")
    columns = ASSIST_COLUMNS
    required_any = (("name", "id_number", "left_on"), ("name", "id_number", "arrived_on"))
    permission = "can_edit_divisions"  # the county HQ (commander, administrator)
    channel = Channel.ASSIST_REQUEST

    def __init__(self, *, job: Any, actor: Any, options: dict[str, Any]) -> None:
        super().__init__(job=job, actor=actor, options=options)
        self._letter: AssistRequest | None = None

    def _allowed(self) -> bool:
        return permissions.can_write_assist(self.actor)

    def check_options(self) -> dict[str, list[str]]:
        errors = super().check_options()
        if errors.get("kind"):
            errors["kind"] = [_("只有县指挥部可以导入协查名单")]
        letter_id = str(self.options.get("assist_request") or "").strip()
        if letter_id:
            letter = AssistRequest.objects.filter(
                pk=int(letter_id) if letter_id.isdigit() else 0
            ).first()
            if letter is None or letter.direction != AssistRequest.Direction.INCOMING:
                errors["assist_request"] = [_("协查函不存在，或不是收到的协查函")]
        else:
            if not str(self.options.get("counterpart") or "").strip():
                errors["counterpart"] = [
                    _(
                        "协查名单须注明来函：请在“来返报备 → 协查函 → 导入协查名单”页面导入，"
                        "填写来函单位，或选择已登记的来函"
                    )
                ]
            code = str(self.options.get("counterpart_code") or "").strip()
            if code:
                try:
                    region_lookup(code)
                except FormatError as exc:
                    errors["counterpart_code"] = [str(exc.message)]
        return errors

    def assist_request(self) -> AssistRequest | None:
        """The letter the list belongs to: the one named, or the one this job recorded."""
        if self._letter is not None:
            return self._letter
        letter_id = str(self.options.get("assist_request") or "").strip()
        if letter_id.isdigit():
            self._letter = AssistRequest.objects.get(pk=int(letter_id))
            return self._letter
        letter = AssistRequest.objects.filter(import_job=self.job).order_by("pk").first()
        if letter is None:
            letter = services.assist_request_create(
                actor=self.actor,
                direction=AssistRequest.Direction.INCOMING,
                counterpart=self.options.get("counterpart", ""),
                counterpart_code=self.options.get("counterpart_code", ""),
                number=self.options.get("number", ""),
                subject=self.options.get("subject", ""),
                dated=self.options.get("dated") or None,
                import_job=self.job,
            )
        self._letter = letter
        return letter

    def _category(self, row: SourceRow, errors: dict[str, list[str]]) -> str | None:
        text = clean_text(row.values.get("category"))
        if not text:
            return None
        for word, category in CATEGORY_WORDS.items():
            if word in text and not (word == "密接" and "次密接" in text):
                return str(category)
        return None  # 时空伴随, 风险地区来返 ...: the category comes from the risk area
