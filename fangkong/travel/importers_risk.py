"""Risk-area lists: tabular lists on the import engine, and the two published formats.

Three ways a list of risk areas reaches the county (real-formats.md §6):

* a spreadsheet (xlsx/csv) made by a province or by the HQ itself, one area a row: 风险等级,
  省, 市, 县（区）, 具体地区/社区, 起始日期, 截止日期, 依据通告 (or one 地区 column with the
  place written out) — importer kind "risk_areas" on the import engine (`RiskAreaImporter`);
* the JSON behind the State Council query page (highlist / middlelist / lowlist; `communitys`
  strings; type "1" with `communitys: null` for a whole county; Tianjin/Shanghai/Chongqing
  repeat the province as the city; Beijing gives the district as the city and the street as
  the county), plus its 2021 aggregator and history-dataset variants;
* a province's text bulletin: `高风险地区（2个）`, `内蒙古（1个）：`, then one area a line with
  city, district and place written together.

Place names become codes with `geo.regions.region_match_name` (short province names,
municipalities, concatenated names); what is left after the county (a street, a compound) is
the area's detail. Places inside our own county go down to our own divisions (town, village,
grid), so that the HQ can confirm their downgrade. Names that cannot be resolved are reported
as bad rows; the good ones are created. An area already designated (same level, place and
detail, in force on the start date) is left unchanged, so a daily list can be imported every
day. After the import every new area with a start up to today is swept (one sweep per area).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, DomainError, Forbidden, ValidationFailed
from fangkong.core.timeutils import local_today
from fangkong.core.validators import FormatError
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
from fangkong.policy.models import RiskArea, RiskLevel
from fangkong.policy.services import risk_area_create

from .models import SweepRun, TravelRegistration
from .sweep import may_manage_risk_areas, risk_area_change, service_actor, sweep_run_many

DETAIL_MAX = 300

# --- levels ------------------------------------------------------------------------------------

# 2020-10 → 2022-06 the areas inside an affected county were 封控区 / 管控区 / 防范区 (§1.6);
# the platform keeps them as high / medium / low.
_LEVEL_WORDS = {
    RiskLevel.HIGH: ("高", "高风险", "高风险地区", "高风险区", "高风险区域", "封控区", "HIGH", "H"),
    RiskLevel.MEDIUM: (
        "中",
        "中风险",
        "中风险地区",
        "中风险区",
        "中风险区域",
        "管控区",
        "MEDIUM",
        "MIDDLE",
        "M",
    ),
    RiskLevel.LOW: ("低", "低风险", "低风险地区", "低风险区", "低风险区域", "防范区", "LOW", "L"),
}
LEVELS = {word: str(level) for level, words in _LEVEL_WORDS.items() for word in words}


def risk_level_value(value: Any) -> str | None:
    """high / medium / low for a cell such as 高风险, 中风险地区, 封控区, high."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip().upper()
    text = re.sub(r"\s+", "", text)
    return LEVELS.get(text)


# --- what a list says -------------------------------------------------------------------------


@dataclass
class ListedArea:
    """One area as the list gives it, before its names are resolved."""

    level: str
    place: str  # 省 市 县 (separated by spaces) or a line with the names written together
    detail: str = ""  # a community or place below the county; "" = all of `place`
    code: str = ""  # a county/town code when the list gives one (2021 aggregator)
    where: str = ""  # "第 12 行", "highlist 第 3 项" (for error reports)

    @property
    def text(self) -> str:
        return f"{self.place} {self.detail}".strip()


@dataclass
class ParsedList:
    format: str  # "json" | "text"
    areas: list[ListedArea] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (where, text, message)
    notes: list[str] = field(default_factory=list)
    updated: str = ""  # the list's own time stamp ("2022-05-08 0时")


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (GBK files from Windows)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed({"file": [_("无法识别文件编码：请另存为 UTF-8 或 GBK 文本")]})


# "双井街道除高中风险区以外区域" (lowlist, from 2022-11): the rest of the street.
_REST_OF = re.compile(
    r"^(.+?)(?:除(?:高|中|高中|中高)风险(?:地)?区(?:域)?(?:以外|之外)的?|其余|其他)(?:区域|地区)?$"
)


def _detail_text(text: Any) -> str:
    detail = unicodedata.normalize("NFC", str(text or "")).strip().strip("。;；,，")
    match = _REST_OF.match(detail)
    if match and match.group(1):
        detail = match.group(1)
    return re.sub(r"\s+", "", detail) if len(detail) < 40 else detail


_LEVEL_KEYS = (
    (RiskLevel.HIGH, ("highlist", "high_list", "hlist"), ("hcount", "high_count")),
    (RiskLevel.MEDIUM, ("middlelist", "middle_list", "mlist"), ("mcount", "middle_count")),
    (RiskLevel.LOW, ("lowlist", "low_list", "llist"), ("lcount", "low_count")),
)
LEVEL_LABELS = dict(RiskLevel.choices)


def _snapshot(data: Any) -> dict[str, Any] | None:
    """The dict holding the lists: the answer itself, its "data", or the latest entry of a
    history dataset (a list of snapshots)."""
    if isinstance(data, list):
        snapshots = [s for s in data if isinstance(s, dict)]
        if not snapshots:
            return None
        return max(snapshots, key=lambda s: str(s.get("end_update_time") or ""))
    if not isinstance(data, dict):
        return None
    inner = data.get("data")
    if isinstance(inner, dict | list):
        found = _snapshot(inner)
        if found is not None:
            return found
    keys = {k for _level, names, _counts in _LEVEL_KEYS for k in names}
    return data if keys & set(data) else None


def parse_state_council_json(text: str) -> ParsedList:
    """The State Council query page's JSON (and its 2021 / history variants)."""
    parsed = ParsedList(format="json")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(
            {"file": [_("不是有效的 JSON：%(error)s") % {"error": exc}]}
        ) from None
    snapshot = _snapshot(data)
    if snapshot is None:
        raise ValidationFailed(
            {"file": [_("JSON 中没有 highlist / middlelist / lowlist（高、中、低风险地区列表）")]}
        )
    parsed.updated = str(snapshot.get("end_update_time") or snapshot.get("updated_date") or "")
    for level, names, count_keys in _LEVEL_KEYS:
        key = next((k for k in names if k in snapshot), None)
        if key is None:
            continue
        items = snapshot.get(key) or []
        before = len(parsed.areas)
        strings = 0
        for index, item in enumerate(items, start=1):
            where = _("%(list)s 第 %(n)s 项") % {"list": key, "n": index}
            strings += _json_item(parsed, str(level), item, where)
        declared = next((snapshot[k] for k in count_keys if k in snapshot), None)
        try:
            declared_n = int(declared) if declared not in (None, "") else None
        except (TypeError, ValueError):
            declared_n = None
        read = len(parsed.areas) - before
        if declared_n is not None and declared_n not in (strings, read):
            parsed.notes.append(
                _("文件声明%(level)s地区 %(declared)s 个，实际读到 %(read)s 个")
                % {"level": LEVEL_LABELS[level], "declared": declared_n, "read": read}
            )
    return parsed


def _json_item(parsed: ParsedList, level: str, item: Any, where: str) -> int:
    """Add the areas of one list item; returns how many community strings it had."""
    if isinstance(item, list):  # history dataset: [省, 市, 县, 详细地址]
        cells = [str(c or "").strip() for c in item]
        place = " ".join(cells[:3])
        detail = cells[3] if len(cells) > 3 else ""
        parsed.areas.append(
            ListedArea(level=level, place=place, detail=_detail_text(detail), where=where)
        )
        return 1 if detail else 0
    if not isinstance(item, dict):
        parsed.errors.append((where, str(item)[:100], _("无法识别的条目")))
        return 0
    place = (
        " ".join(
            str(item.get(k) or "").strip() for k in ("province", "city", "county") if item.get(k)
        )
        or str(item.get("area_name") or "").strip()
    )
    code = str(item.get("county_code") or "").strip()
    communities = item.get("communitys")
    if str(item.get("type") or "") == "1" or not communities:
        parsed.areas.append(ListedArea(level=level, place=place, code=code, where=where))
        return 0
    if isinstance(communities, str):
        communities = [communities]
    for n, community in enumerate(communities, start=1):
        detail = _detail_text(community)
        parsed.areas.append(
            ListedArea(
                level=level,
                place=place,
                detail=detail,
                code=code,
                where=_("%(where)s第 %(n)s 个社区") % {"where": where, "n": n},
            )
        )
    return len(communities)


_LEVEL_HEADER = re.compile(
    r"^(?:全国)?(?P<level>高|中|低)风险(?:地区|区域|区)(?:[（(]\s*(?P<count>\d+)\s*个\s*[)）])?"
    r"\s*[：:]?\s*$"
)
_PROVINCE_HEADER = re.compile(
    r"^(?P<name>[^\s\d（()）：:，,。]{2,10}?)\s*(?:[（(]\s*(?P<count>\d+)\s*个\s*[)）])\s*[：:]?"
    r"\s*(?P<rest>.*)$"
)
_PROVINCE_ONLY = re.compile(r"^(?P<name>[^\s\d（()）：:，,。]{2,10})\s*[：:]\s*$")


def parse_bulletin_text(text: str) -> ParsedList:
    """A province's text bulletin (贵州 2021-10-26 style): level headers with counts, province
    headers with counts, then one area a line (城市+区县+地点 written together)."""
    parsed = ParsedList(format="text")
    level: str | None = None
    province = ""
    declared: dict[tuple[str, str], int] = {}
    read: dict[tuple[str, str], int] = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.replace("\u3000", " ").strip().strip("。;；")
        if not line:
            continue
        header = _LEVEL_HEADER.match(line)
        if header:
            level = LEVELS[header.group("level")]
            province = ""
            if header.group("count"):
                declared[(level, "")] = int(header.group("count"))
            continue
        if level is None:
            if not parsed.updated and "时" in line and re.search(r"\d{4}年", line):
                match = re.search(r"\d{4}年\d{1,2}月\d{1,2}日\d{0,2}时?", line)
                parsed.updated = match.group(0) if match else ""
            continue  # the preamble ("根据……全国2个高风险地区……")
        province_header = _PROVINCE_HEADER.match(line) or _PROVINCE_ONLY.match(line)
        if province_header:
            province = province_header.group("name")
            count = province_header.groupdict().get("count")
            if count:
                declared[(level, province)] = int(count)
            rest = (province_header.groupdict().get("rest") or "").strip()
            if not rest:
                continue
            line = rest
        where = _("第 %(n)s 行") % {"n": number}
        parsed.areas.append(
            ListedArea(level=level, place=f"{province} {line}".strip(), where=where)
        )
        read[(level, province)] = read.get((level, province), 0) + 1
        read[(level, "")] = read.get((level, ""), 0) + 1
    for (lvl, prov), count in declared.items():
        if read.get((lvl, prov), 0) != count:
            parsed.notes.append(
                _("%(where)s%(level)s地区声明 %(declared)s 个，实际读到 %(read)s 个")
                % {
                    "where": f"{prov}：" if prov else "",
                    "level": LEVEL_LABELS[lvl],
                    "declared": count,
                    "read": read.get((lvl, prov), 0),
                }
            )
    if not parsed.areas:
        raise ValidationFailed(
            {"file": [_("没有读到风险地区：文本中应有“高风险地区（N个）”之类的标题和逐行的地区")]}
        )
    return parsed


def parse_risk_list(raw: bytes) -> ParsedList:
    """A published list, JSON or text, told apart by its first character."""
    if not raw.strip():
        raise ValidationFailed({"file": [_("文件是空的。")]})
    text = decode_text(raw)
    if text.lstrip().startswith(("{", "[")):
        return parse_state_council_json(text)
    return parse_bulletin_text(text)


# --- names to codes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedPlace:
    region_code: str
    region_name: str  # "" lets risk_area_create fill it from the table / our divisions
    detail: str


class PlaceResolver:
    """Place names to codes: the country's table through geo.regions, then, for places in
    our own county, our divisions (town → village → grid) by name, read once."""

    def __init__(self) -> None:
        self._root: Division | bool | None = False
        self._children: dict[str | None, list[tuple[str, str]]] | None = None

    def _county(self) -> Division | None:
        if self._root is False:
            self._root = (
                Division.objects.filter(level=Division.Level.COUNTY).order_by("code").first()
            )
        return self._root  # type: ignore[return-value]

    def _own(self, rest: str) -> tuple[str, str]:
        """The deepest of our divisions `rest` starts with, and what is left after it."""
        root = self._county()
        if root is None or not rest:
            return "", rest
        if self._children is None:
            self._children = {}
            rows = (
                Division.objects.filter(code__startswith=root.code, level__gte=1)
                .order_by("code")
                .values_list("code", "name", "parent_id")
            )
            for code, name, parent in rows:
                self._children.setdefault(parent, []).append((code, name))
            for children in self._children.values():
                children.sort(key=lambda c: -len(c[1]))
        code, parent = "", root.code
        while rest:
            found = next(
                ((c, n) for c, n in self._children.get(parent, []) if rest.startswith(n)), None
            )
            if found is None:
                break
            code, parent = found[0], found[0]
            rest = rest[len(found[1]) :]
        return code, rest

    def resolve(self, listed: ListedArea) -> ResolvedPlace:
        """The area's code, name and detail; ValidationFailed naming what was not understood."""
        detail = listed.detail
        if listed.code:
            try:
                code, name = region_lookup(listed.code)
            except FormatError as exc:
                raise ValidationFailed({"region_code": [str(exc)]}) from None
            return self._inside(code, name, "", detail)
        match = region_match_name(listed.place)
        if match is None:
            raise ValidationFailed(
                {"region_code": [_("无法识别地区“%(place)s”") % {"place": listed.place}]}
            )
        if len(match.code) < 6 and match.rest:
            raise ValidationFailed(
                {
                    "region_code": [
                        _("无法识别“%(rest)s”（%(name)s下没有这个县、区）")
                        % {"rest": match.rest, "name": match.full_name}
                    ]
                }
            )
        return self._inside(match.code, match.full_name, match.rest, detail)

    def _inside(self, code: str, name: str, rest: str, detail: str) -> ResolvedPlace:
        root = self._county()
        if root is not None and code == root.code:
            own, left = self._own(rest + detail)
            if own:
                return ResolvedPlace(own, "", _restore_brackets(left))
        if detail:
            # The community is what an arrival's address will mention; a street left over
            # from the place names (Beijing lists streets as "county") stays in the name.
            return ResolvedPlace(code, name + _restore_brackets(rest), _restore_brackets(detail))
        return ResolvedPlace(code, name, _restore_brackets(rest))


def _restore_brackets(text: str) -> str:
    """Official texts use full-width brackets (高碑店（地区）乡); NFKC made them half-width."""
    return text.replace("(", "（").replace(")", "）")


# --- creating the areas -----------------------------------------------------------------------


def _key(level: str, code: str, detail: str) -> tuple[str, str, str]:
    return (level, code, "".join(detail.split()))


def _designated(codes: set[str]) -> dict[tuple[str, str, str], list[RiskArea]]:
    """Areas of these codes, by (level, code, detail), for the "already designated" test."""
    found: dict[tuple[str, str, str], list[RiskArea]] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 1000):
        for area in RiskArea.objects.filter(region_code__in=ordered[start : start + 1000]):
            found.setdefault(_key(area.level, area.region_code, area.detail), []).append(area)
    return found


def _in_force_on(areas: list[RiskArea], day: dt.date) -> RiskArea | None:
    for area in areas:
        if area.start_date <= day and (area.end_date is None or area.end_date >= day):
            return area
    return None


def _messages(exc: DomainError) -> str:
    texts = [str(m) for messages in exc.errors.values() for m in messages]
    return "；".join(texts) or str(exc.message)


@dataclass
class RiskListImport:
    """What an import of a published list did."""

    format: str
    updated: str
    created: list[RiskArea] = field(default_factory=list)
    unchanged: int = 0
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sweeps: list[SweepRun] = field(default_factory=list)

    @property
    def found(self) -> int:
        return sum(s.found for s in self.sweeps)

    @property
    def proposed(self) -> int:
        return sum(s.orders_proposed for s in self.sweeps)

    @property
    def covered(self) -> int:
        return sum(s.already_covered for s in self.sweeps)

    @property
    def outside(self) -> int:
        return sum(s.outside_county for s in self.sweeps)


def _require_import(actor: Any) -> None:
    """None is the system (the command line); else HQ or an administrator."""
    if actor is not None and not may_manage_risk_areas(actor):
        raise Forbidden(_("只有县指挥部和系统管理员可以导入风险地区名单。"))


@transaction.atomic
def risk_list_import(
    *,
    actor: Any,
    content: bytes,
    start_date: dt.date,
    notice: str = "",
    end_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> RiskListImport:
    """Import a published list (State Council JSON or a text bulletin): every area it names
    from `start_date`, then one sweep per new area. Bad names are reported, not fatal."""
    actor = service_actor(actor)
    _require_import(actor)
    errors: dict[str, list[str]] = {}
    today = local_today() if now is None else timezone.localtime(now).date()
    if start_date > today:
        errors["start_date"] = [_("起始日期不能晚于今天")]
    if end_date is not None and end_date < start_date:
        errors["end_date"] = [_("截止日期不能早于起始日期")]
    if errors:
        raise ValidationFailed(errors)
    parsed = parse_risk_list(content)
    result = RiskListImport(
        format=parsed.format,
        updated=parsed.updated,
        errors=list(parsed.errors),
        notes=list(parsed.notes),
    )
    resolver = PlaceResolver()
    resolved: list[tuple[ListedArea, ResolvedPlace]] = []
    for listed in parsed.areas:
        try:
            place = resolver.resolve(listed)
        except ValidationFailed as exc:
            result.errors.append((listed.where, listed.text, _messages(exc)))
            continue
        if len(place.detail) > DETAIL_MAX:
            result.errors.append(
                (listed.where, listed.text[:100] + "…", _("具体范围超过 300 字，请手工录入"))
            )
            continue
        resolved.append((listed, place))
    existing = _designated({p.region_code for _l, p in resolved})
    seen: set[tuple[str, str, str]] = set()
    for listed, place in resolved:
        key = _key(listed.level, place.region_code, place.detail)
        if key in seen or _in_force_on(existing.get(key, []), start_date) is not None:
            result.unchanged += 1
            continue
        seen.add(key)
        try:
            with transaction.atomic():
                area = risk_area_create(
                    actor=actor,
                    level=listed.level,
                    region_code=place.region_code,
                    region_name=place.region_name,
                    detail=place.detail,
                    start_date=start_date,
                    end_date=end_date,
                    notice=notice,
                    source=RiskArea.Source.IMPORT,
                    today=today,
                )
        except (ValidationFailed, Conflict) as exc:
            result.errors.append((listed.where, listed.text, _messages(exc)))
            continue
        result.created.append(area)
    result.sweeps = sweep_run_many(actor=actor, areas=result.created, now=now)
    audit_record(
        actor=actor,
        verb="travel.risk_area.import_list",
        target_type="policy.riskarea",
        data={
            "format": parsed.format,
            "created": len(result.created),
            "unchanged": result.unchanged,
            "errors": len(result.errors),
            "sweeps": len(result.sweeps),
            "found": result.found,
            "proposed": result.proposed,
        },
    )
    return result


# --- the tabular importer -----------------------------------------------------------------------

LEVEL = Column(
    "level",
    "风险等级",
    (
        "等级",
        "风险级别",
        "风险区域等级",
        "风险类别",
        "区域类型",
        "风险区类型",
        "风险等级（高/中/低）",
    ),
)
PROVINCE = Column(
    "province", "省", ("省份", "省(自治区、直辖市)", "省(区、市)", "省级", "省/直辖市")
)
CITY = Column("city", "市", ("地市", "市(州)", "市(州、盟)", "地级市", "城市", "市(地、州、盟)"))
COUNTY = Column(
    "county", "县（区）", ("县区", "区县", "县(市、区)", "县(市、区、旗)", "县级", "区(县)")
)
DETAIL = Column(
    "detail",
    "具体地区/社区",
    (
        "具体地区",
        "社区",
        "具体区域",
        "具体范围",
        "街道社区",
        "乡镇(街道)社区",
        "详细地址",
        "风险区域范围",
        "风险区范围",
        "小区",
        "具体地点",
    ),
)
PLACE = Column(
    "place", "地区", ("风险地区", "地区名称", "区域", "风险区域", "所在地区", "地区全称")
)
CODE = Column(
    "code", "区划代码", ("行政区划代码", "地区代码", "县级代码", "区划编码"), "number_text"
)
START = Column(
    "start_date",
    "起始日期",
    ("开始日期", "起始时间", "开始时间", "划定日期", "公布日期", "生效日期", "划定时间"),
    "date",
)
END = Column("end_date", "截止日期", ("结束日期", "解除日期", "截止时间", "解除时间"), "date")
NOTICE = Column("notice", "依据通告", ("依据", "通告", "发布通告", "文件", "来源", "发布依据"))
LAST_CASE = Column(
    "last_case_on", "最近新增感染日期", ("最近新增日期", "末例感染日期", "最后一例日期"), "date"
)
COLUMNS = (LEVEL, PROVINCE, CITY, COUNTY, DETAIL, PLACE, CODE, START, END, NOTICE, LAST_CASE)


def _cell(values: dict[str, Any], key: str) -> str:
    value = values.get(key)
    return "" if value is None else str(value).strip()


@register
class RiskAreaImporter(Importer):
    """风险地区名单 (xlsx/csv), one area a row. The place is 区划代码, or 省/市/县（区）, or
    one 地区 column written out; 具体地区/社区 narrows it. A row equal to an area already in
    force is unchanged; one with the same start but another end date, notice or last-case date
    updates it. New areas starting up to today are swept at the end of each batch."""

    kind = "risk_areas"
    label = gettext_lazy("风险地区名单")
    # The flag of accounts.roles.RolePolicy the import page checks: the HQ and administrators
    # (the only roles with it) are the ones who declare risk areas.
    permission = "can_edit_divisions"
    columns = COLUMNS
    required_any = (("level", "province"), ("level", "place"), ("level", "code"))
    batch_size = 500

    def check_options(self) -> dict[str, list[str]]:
        if not may_manage_risk_areas(self.actor):
            return {"kind": [_("只有县指挥部和系统管理员可以导入风险地区名单")]}
        return {}

    def _listed(self, row: SourceRow) -> tuple[ListedArea | None, dict[str, list[str]]]:
        values = row.values
        errors = {k: list(v) for k, v in row.errors.items()}
        level = risk_level_value(values.get("level"))
        if level is None:
            errors.setdefault("level", []).append(
                _("风险等级应为 高风险 / 中风险 / 低风险（或 封控区 / 管控区 / 防范区）")
            )
        place = _cell(values, "place") or " ".join(
            _cell(values, k) for k in ("province", "city", "county") if _cell(values, k)
        )
        code = _cell(values, "code")
        if not place and not code:
            errors.setdefault("province", []).append(_("请填写省、市、县（区），或地区、区划代码"))
        if values.get("start_date") is None and "start_date" not in errors:
            errors.setdefault("start_date", []).append(_("请填写起始日期"))
        if errors or level is None:
            return None, errors
        detail = _detail_text(_cell(values, "detail"))
        return ListedArea(level=level, place=place, detail=detail, code=code), errors

    def process_batch(self, rows: list[SourceRow]) -> BatchResult:
        actor = service_actor(self.actor)
        _require_import(actor)
        result = BatchResult()
        resolver = getattr(self, "_resolver", None) or PlaceResolver()
        self._resolver = resolver
        items: list[tuple[SourceRow, ListedArea, ResolvedPlace]] = []
        for row in rows:
            listed, errors = self._listed(row)
            if listed is not None:
                try:
                    place = resolver.resolve(listed)
                except ValidationFailed as exc:
                    errors = {_place_key(row): [_messages(exc)]}
                else:
                    if len(place.detail) > DETAIL_MAX:
                        errors = {"detail": [_("具体范围不能超过 300 字")]}
                    else:
                        items.append((row, listed, place))
                        continue
            result.errors.append(RowError(row=row, errors=errors))
        existing = _designated({p.region_code for _r, _l, p in items})
        created: list[RiskArea] = []
        sweeps: list[SweepRun] = []
        for row, listed, place in items:
            values = row.values
            start, end = values["start_date"], values.get("end_date")
            fields = {
                "end_date": end,
                "notice": _cell(values, "notice")[:300],
                "last_case_on": values.get("last_case_on"),
            }
            key = _key(listed.level, place.region_code, place.detail)
            same = [a for a in existing.get(key, []) if a.start_date == start]
            try:
                with transaction.atomic():
                    if same:
                        area = same[0]
                        changes = {k: v for k, v in fields.items() if v and getattr(area, k) != v}
                        if not changes:
                            result.unchanged += 1
                            continue
                        area, sweep = risk_area_change(actor=actor, area=area, changes=changes)
                        if sweep is not None:
                            sweeps.append(sweep)
                        result.updated += 1
                        continue
                    if _in_force_on(existing.get(key, []), start) is not None:
                        result.unchanged += 1
                        continue
                    area = risk_area_create(
                        actor=actor,
                        level=listed.level,
                        region_code=place.region_code,
                        region_name=place.region_name,
                        detail=place.detail,
                        start_date=start,
                        source=RiskArea.Source.IMPORT,
                        import_job=self.job if self.job.pk else None,
                        **{k: v for k, v in fields.items() if v},
                    )
            except (ValidationFailed, Conflict) as exc:
                result.errors.append(RowError(row=row, errors=_row_errors(exc, row)))
                continue
            existing.setdefault(key, []).append(area)
            created.append(area)
            result.created += 1
        sweeps += sweep_run_many(actor=actor, areas=created)
        audit_record(
            actor=actor,
            verb="travel.risk_area.import",
            target_type="imports.importjob",
            target_id=self.job.pk,
            data={
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "errors": len(result.errors),
                "sweeps": len(sweeps),
                "found": sum(s.found for s in sweeps),
                "proposed": sum(s.orders_proposed for s in sweeps),
            },
        )
        return result

    def rollback(self) -> int:
        """Delete the areas this job created, unless something already rests on them: a sweep
        that put people into the loop, an arrival or a measure pointing at them, a downgrade.
        Then nothing is undone and the HQ ends those areas instead."""
        areas = RiskArea.objects.filter(import_job=self.job)
        ids = list(areas.values_list("pk", flat=True))
        if not ids:
            return 0
        used = (
            SweepRun.objects.filter(risk_area_id__in=ids, found__gt=0).exists()
            or TravelRegistration.objects.filter(risk_area_id__in=ids).exists()
            or RiskArea.objects.filter(previous_id__in=ids).exists()
        )
        if used:
            raise Conflict(
                _(
                    "这些风险地区已用于回溯排查或来返人员登记，不能撤销导入；"
                    "请在风险地区页面逐个结束它们。"
                ),
                code="travel.risk_area_in_use",
            )
        deleted = areas.delete()[1].get(RiskArea._meta.label, 0)
        audit_record(
            actor=self.actor,
            verb="travel.risk_area.import_rollback",
            target_type="imports.importjob",
            target_id=self.job.pk,
            data={"deleted": deleted},
        )
        return deleted


def _place_key(row: SourceRow) -> str:
    """The column a place problem belongs to: the one the file used for the place."""
    for key in ("code", "place", "province", "city", "county"):
        if row.values.get(key) not in (None, ""):
            return key
    return "province"


_ROW_FIELDS = {
    "level": "level",
    "detail": "detail",
    "start_date": "start_date",
    "end_date": "end_date",
    "notice": "notice",
    "last_case_on": "last_case_on",
}


def _row_errors(exc: DomainError, row: SourceRow) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for key, messages in exc.errors.items():
        column = _ROW_FIELDS.get(key) or _place_key(row)
        errors.setdefault(column, []).extend(str(m) for m in messages)
    if not errors:
        errors[_place_key(row)] = [str(exc.message)]
    return errors
