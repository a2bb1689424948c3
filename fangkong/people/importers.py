"""Person and household rosters on the import engine: kinds "people" and "households".

The engine (fangkong.imports) reads the file, cleans each cell by its column kind and hands
over batches of rows; this module turns a batch into writes, set-based:

1. each row is parsed (header variants, relation/sex/document-type spellings, masked cells)
   and validated with people.validation.clean_person_fields, the rule set of the forms and
   the API; its division is resolved by code or by the name path 镇/村/组, once per value;
2. one query per key kind finds the people the batch already knows (人员编号, document
   number, name + birth date + phone for people without a document);
3. rows are matched in file order: the same document = the same person (a later row updates
   an earlier one), the same number under another name is a conflict and never merged;
4. new people go in with COPY / executemany, changed ones with one executemany UPDATE per
   set of changed fields, their old values into PersonRevision tagged with the job; one
   audit event per batch holds the counts.

Cells containing "*" (a masked export) mean "not provided" and never overwrite anything, and
empty cells never erase what is stored: a roster says what it knows, not what it doesn't.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.roles import policy_for
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Forbidden
from fangkong.core.models import AuditEvent
from fangkong.core.scope import code_in_scope, scope_q
from fangkong.core.timeutils import local_today
from fangkong.core.validators import FormatError, clean_text, parse_resident_id
from fangkong.geo.models import Division
from fangkong.imports.cleaning import clean_date
from fangkong.imports.contracts import (
    BatchResult,
    Column,
    Importer,
    RowError,
    SourceRow,
    register,
)

from .bulk import allocate_ids, insert_rows, update_rows
from .models import Household, IdType, Person, PersonRevision, Relation, Sex
from .validation import PERSON_FIELDS, clean_person_fields

# --- columns -----------------------------------------------------------------------------------

PERSON_ID = Column("person_id", "人员编号", ("人员ID", "人员id", "系统编号"), "number_text")
NAME = Column(
    "name",
    "姓名",
    ("人员姓名", "居民姓名", "户籍人员姓名", "管控人员姓名", "成员姓名", "名字"),
)
ID_TYPE = Column("id_type", "证件类型", ("证件种类", "身份证件类型", "证件名称"))
ID_NUMBER = Column(
    "id_number",
    "证件号码",
    (
        "公民身份号码",
        "身份证号码",
        "身份证号",
        "身份证",
        "证件号",
        "居民身份证号码",
        "居民身份证号",
        "身份证件号码",
        "证件编号",
        "身份证号(必填)",
    ),
    "number_text",
)
SEX = Column("sex", "性别", ())
# Read as text and turned into a date here (imports.cleaning.clean_date): a masked export
# writes "1970-**-**", which must stay "not provided" rather than become a bad date.
BIRTH_DATE = Column("birth_date", "出生日期", ("出生年月日", "出生年月", "生日", "出生时间"))
PHONE = Column(
    "phone",
    "手机号",
    (
        "手机号码",
        "联系电话",
        "联系方式",
        "手机",
        "电话",
        "电话号码",
        "联系号码",
        "移动电话",
        "联系方式(本人)",
        "本人联系方式",
        "本人电话",
    ),
    "number_text",
)
ADDRESS = Column(
    "address",
    "现住址",
    (
        "住址",
        "家庭住址",
        "家庭地址",
        "现居住地址",
        "现居住地",
        "居住地址",
        "现住地址",
        "通讯地址",
        "详细地址",
        "地址",
        "普查时点居住地",
    ),
)
GRID = Column(
    "grid",
    "网格编码",
    ("所属网格", "网格", "网格代码", "网格编号", "所属网格编码", "区划代码", "行政区划代码"),
    "number_text",
)
TOWN = Column(
    "town",
    "镇(街道)",
    (
        "镇街",
        "所在镇街",
        "所在镇(街道)",
        "乡镇(街道)",
        "街道(乡镇)",
        "乡镇",
        "镇",
        "街道",
        "镇/街道",
    ),
)
VILLAGE = Column(
    "village",
    "村(社区)",
    ("村/社区", "村社", "村社区", "所在村", "所在村(社区)", "所属社区", "所属村", "村", "社区"),
)
GROUP = Column(
    "group",
    "组(小区)",
    ("组/小区", "村民小组", "所在组", "小组", "组", "小区", "村组"),
)
HOUSEHOLD_NO = Column(
    "household_no",
    "户号",
    ("户编号", "户编码", "所属户编号", "户号(自动生成)", "住户编号", "农户预编码"),
    "number_text",
)
HEAD_NAME = Column("head_name", "户主姓名", ("户主",))
HEAD_ID_NUMBER = Column(
    "head_id_number",
    "户主身份证号",
    ("户主身份证号码", "户主证件号码", "户主公民身份号码", "户主身份证"),
    "number_text",
)
RELATION = Column("relation", "与户主关系", ("与户主的关系", "家庭关系", "关系"))
NOTES = Column("notes", "备注", ("说明",))

# Columns real rosters carry that Fangkong does not store: recognised (not reported as
# unknown) and left alone.
IGNORED_COLUMNS = (
    Column("ignored_ethnicity", "民族", ("族别",)),
    Column("ignored_registered_address", "户籍地址", ("户口登记地", "户籍所在地", "户口所在地")),
    Column("ignored_age", "年龄", ("周岁",)),
    Column("ignored_education", "文化程度", ("受教育程度", "学历")),
    Column("ignored_person_type", "人员类型", ("人员状态", "人员属性", "人口类型", "居住类型")),
    Column("ignored_political", "政治面貌", ()),
    Column("ignored_marital", "婚姻状况", ()),
    Column("ignored_employer", "工作单位", ("所在企业(单位)",)),
    Column("ignored_hukou_type", "户口类型", ("户别", "户籍状态", "户别(户口类型)")),
    Column("ignored_household_size", "家庭人口", ("家庭人数",)),
    Column("ignored_county", "所在区县", ("区县", "县(区)", "县区")),
    Column("ignored_is_head", "是否户主", ()),
    Column("ignored_signature", "签名", ()),
)

COLUMNS = (
    PERSON_ID,
    NAME,
    ID_TYPE,
    ID_NUMBER,
    SEX,
    BIRTH_DATE,
    PHONE,
    ADDRESS,
    GRID,
    TOWN,
    VILLAGE,
    GROUP,
    HOUSEHOLD_NO,
    HEAD_NAME,
    HEAD_ID_NUMBER,
    RELATION,
    NOTES,
    *IGNORED_COLUMNS,
)
LABELS = {c.key: c.label for c in COLUMNS}
# Cleaned person fields by the column key that brings them.
PERSON_KEYS = {
    "name": "name",
    "id_type": "id_type",
    "id_number": "id_number",
    "sex": "sex",
    "birth_date": "birth_date",
    "phone": "phone",
    "address": "address",
    "notes": "notes",
    "relation": "relation_to_head",
}
# What a person row holds that an import may change (attnames).
STATE_FIELDS = (
    *PERSON_FIELDS,
    "division_id",
    "household_id",
)
INSERT_COLUMNS = ("id", *STATE_FIELDS, "import_job_id")
_state_values = operator.itemgetter(*STATE_FIELDS)  # a state dict -> its values, in order
REVISION_VERB = "import"

# --- value vocabularies (real-formats.md §0.5, §1.3) ------------------------------------------


def _vocabulary(groups: dict[str, Iterable[str]]) -> dict[str, str]:
    # Plain str values, not the choice enums: psycopg dumps an Enum by its name.
    return {word: str(value) for value, words in groups.items() for word in words}


RELATIONS = _vocabulary(
    {
        Relation.HEAD: ("户主", "本人", "户主本人", "本户主", "户长", "户主(本人)"),
        Relation.SPOUSE: ("配偶", "妻", "夫", "妻子", "丈夫", "老婆", "爱人", "夫妻"),
        Relation.CHILD: (
            "子女",
            "子",
            "女",
            "儿子",
            "女儿",
            "长子",
            "次子",
            "三子",
            "四子",
            "五子",
            "独生子",
            "独生女",
            "长女",
            "次女",
            "三女",
            "四女",
            "五女",
            "养子",
            "养女",
            "继子",
            "继女",
            "养子或继子",
            "养女或继女",
            "其他儿子",
            "其他女儿",
            "孩子",
        ),
        Relation.PARENT: ("父母", "父亲", "母亲", "父", "母", "继父", "继母", "养父", "养母"),
        Relation.GRANDCHILD: (
            "孙辈",
            "孙子女",
            "孙子",
            "孙女",
            "外孙",
            "外孙子",
            "外孙女",
            "外孙子女",
            "孙子、孙女或外孙子、外孙女",
        ),
        Relation.GRANDPARENT: (
            "祖父母",
            "祖父",
            "祖母",
            "外祖父",
            "外祖母",
            "外祖父母",
            "爷爷",
            "奶奶",
            "外公",
            "外婆",
        ),
        Relation.SIBLING: (
            "兄弟姐妹",
            "兄",
            "弟",
            "姐",
            "妹",
            "哥哥",
            "弟弟",
            "姐姐",
            "妹妹",
            "兄弟",
            "姐妹",
        ),
        Relation.CHILD_IN_LAW: ("儿媳/女婿", "儿媳", "女婿", "媳婿", "儿媳妇", "儿媳或女婿"),
        Relation.OTHER_RELATIVE: (
            "其他亲属",
            "岳父母或公婆",
            "岳父母",
            "公婆",
            "岳父",
            "岳母",
            "公公",
            "婆婆",
            "侄子",
            "侄女",
            "外甥",
            "外甥女",
            "嫂子",
            "弟媳",
            "姐夫",
            "妹夫",
            "孙媳妇",
            "孙女婿",
            "曾孙子",
            "曾孙女",
            "曾祖父",
            "曾祖母",
            "伯父",
            "伯母",
            "叔叔",
            "婶婶",
            "舅舅",
            "姑姑",
            "亲属",
        ),
        Relation.OTHER: ("其他", "非亲属", "保姆", "租户", "租客", "同住人", "借住", "朋友"),
    }
)
# 七普 codes (one digit) and GB/T 4761 家庭关系代码 (two digits).
CENSUS_RELATION_CODES = {
    "0": Relation.HEAD,
    "1": Relation.SPOUSE,
    "2": Relation.CHILD,
    "3": Relation.PARENT,
    "4": Relation.OTHER_RELATIVE,
    "5": Relation.GRANDPARENT,
    "6": Relation.CHILD_IN_LAW,
    "7": Relation.GRANDCHILD,
    "8": Relation.SIBLING,
    "9": Relation.OTHER,
}
GBT_RELATION_CODES = {
    "01": Relation.HEAD,
    "02": Relation.HEAD,
    "28": Relation.CHILD_IN_LAW,
    "38": Relation.CHILD_IN_LAW,
    "53": Relation.OTHER_RELATIVE,
    "54": Relation.OTHER_RELATIVE,
    "55": Relation.OTHER_RELATIVE,
    "56": Relation.OTHER_RELATIVE,
    "72": Relation.OTHER_RELATIVE,
    "74": Relation.OTHER_RELATIVE,
    "76": Relation.OTHER_RELATIVE,
    "78": Relation.OTHER_RELATIVE,
    "99": Relation.OTHER,
}
GBT_RELATION_DECADES = {
    "1": Relation.SPOUSE,
    "2": Relation.CHILD,
    "3": Relation.CHILD,
    "4": Relation.GRANDCHILD,
    "5": Relation.PARENT,
    "6": Relation.GRANDPARENT,
    "7": Relation.SIBLING,
    "8": Relation.OTHER_RELATIVE,
    "9": Relation.OTHER_RELATIVE,
}

SEXES = _vocabulary(
    {
        Sex.MALE: ("男", "男性", "1", "M", "MALE", "男1"),
        Sex.FEMALE: ("女", "女性", "2", "F", "FEMALE", "女2"),
        Sex.UNKNOWN: ("U", "0", "9", "未知", "未说明", "未知的性别", "未说明的性别"),
    }
)

ID_TYPES = _vocabulary(
    {
        IdType.RESIDENT_ID: (
            "居民身份证",
            "身份证",
            "二代身份证",
            "第二代居民身份证",
            "公民身份证",
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "居民户口簿",
            "户口簿",
            "户口本",
            "居民户口薄",
            "港澳台居民居住证",
            "01",
            "02",
            "08",
        ),
        IdType.PASSPORT: ("护照", "普通护照", "中国护照", "外国护照", "03"),
        IdType.HK_MACAU_PERMIT: (
            "港澳居民来往内地通行证",
            "港澳通行证",
            "往来港澳通行证",
            "回乡证",
            "港澳居民通行证",
            "06",
        ),
        IdType.TAIWAN_PERMIT: (
            "台湾居民来往大陆通行证",
            "台湾居民来往内地通行证",
            "台胞证",
            "台湾通行证",
            "07",
        ),
        IdType.FOREIGN_PERMANENT_ID: (
            "外国人永久居留身份证",
            "外国人永久居留证",
            "永久居留证",
            "永居证",
        ),
        IdType.NONE: ("无", "无证件", "无证", "没有"),
    }
)
RELATIONS.update({str(v): str(v) for v in Relation.values})
RELATIONS.update({str(label): str(value) for value, label in Relation.choices})
ID_TYPES.update({str(v).upper(): str(v) for v in IdType.values})
ID_TYPES.update({str(v): str(v) for v in IdType.values})
ID_TYPES.update({str(label): str(value) for value, label in IdType.choices})
SEXES.update({str(label): str(value) for value, label in Sex.choices})
CENSUS_RELATION_CODES = {k: str(v) for k, v in CENSUS_RELATION_CODES.items()}
GBT_RELATION_CODES = {k: str(v) for k, v in GBT_RELATION_CODES.items()}
GBT_RELATION_DECADES = {k: str(v) for k, v in GBT_RELATION_DECADES.items()}

RESIDENT_ID = str(IdType.RESIDENT_ID)
FOREIGN_PERMANENT_ID = str(IdType.FOREIGN_PERMANENT_ID)
_CODE_AND_TEXT = re.compile(r"^(\d{1,2})[.、:]?(\D.*)$")
_RESIDENT_LIKE = re.compile(r"\d{15}|\d{17}[\dX]")
_HK_MACAU_LIKE = re.compile(r"[HM]\d{8}(\d{2})?|C[A-HJ-NP-Z0-9]\d{7}")
_PASSPORT_LIKE = re.compile(r"[EG]\d{8}|E[A-HJ-NP-Z]\d{7}|[SD]E\d{7}")


def _word(value: Any) -> str:
    """A code-list cell as text: full-width folded, spaces gone; "2 农业户口" -> "农业户口"."""
    text = clean_text(value).upper()
    match = _CODE_AND_TEXT.match(text)
    return match.group(2) if match else text


def relation_value(value: Any) -> str | None:
    """Relation for a cell of 与户主关系 (户主/本人, 妻, 长子, 孙女, 儿媳, 七普/GB codes ...)."""
    found = RELATIONS.get(value) if isinstance(value, str) else None
    if found is not None:
        return found
    raw = clean_text(value).upper()
    if raw.isdigit():
        if len(raw) == 1:
            return CENSUS_RELATION_CODES.get(raw)
        if len(raw) == 2:
            return GBT_RELATION_CODES.get(raw) or GBT_RELATION_DECADES.get(raw[0])
        return None
    text = _word(raw)
    if text in RELATIONS:
        return RELATIONS[text]
    return RELATIONS.get(text.lower())


def sex_value(value: Any) -> str | None:
    found = SEXES.get(value) if isinstance(value, str) else None
    if found is not None:
        return found
    text = clean_text(value).upper()
    return SEXES.get(text) or SEXES.get(_word(text))


def id_type_value(value: Any) -> str | None:
    found = ID_TYPES.get(value) if isinstance(value, str) else None
    if found is not None:
        return found
    text = clean_text(value).upper()
    return ID_TYPES.get(text) or ID_TYPES.get(_word(text)) or ID_TYPES.get(text.lower())


def guess_id_type(number: str) -> str:
    """The document type of a number given without one (a roster's 证件号码 column)."""
    if len(number) == 18 and number[:17].isdigit():  # the common case, without cleaning
        return FOREIGN_PERMANENT_ID if number[0] == "9" else RESIDENT_ID
    text = clean_text(number).upper()
    if _RESIDENT_LIKE.fullmatch(text):
        return FOREIGN_PERMANENT_ID if text.startswith("9") else RESIDENT_ID
    if _HK_MACAU_LIKE.fullmatch(text):
        return str(IdType.HK_MACAU_PERMIT)
    if _PASSPORT_LIKE.fullmatch(text):
        return str(IdType.PASSPORT)
    return RESIDENT_ID


def _iso_date(value: Any) -> tuple[dt.date | None, None]:
    """2020-12-28 without the general date cleaning (the spelling of our own exports)."""
    if type(value) is str and len(value) == 10 and value[4] == "-":
        try:
            return dt.date.fromisoformat(value), None
        except ValueError:
            return None, None
    return None, None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _masked(value: Any) -> bool:
    return isinstance(value, str) and ("*" in value or "＊" in value)


# --- divisions ---------------------------------------------------------------------------------

# Committee and government names -> the unit itself, like geo's national import does.
_UNIT_SUFFIXES = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
    ("镇人民政府", "镇"),
    ("乡人民政府", "乡"),
    ("街道办事处", "街道"),
    ("街道办", "街道"),
)
_CHINESE_DIGITS = "零一二三四五六七八九"
_GROUP_NUMBER = re.compile(r"^第?(\d{1,2})(?:组|小组|村民小组)$")


def _chinese_number(n: int) -> str:
    if n < 10:
        return _CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    return (
        ("" if tens == 1 else _CHINESE_DIGITS[tens])
        + "十"
        + (_CHINESE_DIGITS[ones] if ones else "")
    )


def canonical_unit_name(name: str) -> str:
    """齐镇村委会 -> 齐镇村, 东关社区居委会 -> 东关社区, 3组 / 第三组 / 三村民小组 -> 三组."""
    text = clean_text(name)
    for suffix, replacement in _UNIT_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            base = text[: -len(suffix)]
            text = base if base.endswith(replacement) else base + replacement
            break
    match = _GROUP_NUMBER.match(text)
    if match:
        return _chinese_number(int(match.group(1))) + "组"
    if text.endswith("村民小组"):
        text = text.removesuffix("村民小组") + "组"
    return text.removeprefix("第") if text.endswith("组") else text


@dataclass(frozen=True)
class _Node:
    code: str
    name: str
    level: int
    parent: str | None


class DivisionResolver:
    """A row's division by code, or by the name path 镇/村/组, each distinct value once.

    Returns (code, None) or (None, (column key, message)). Codes must exist, be within the
    actor's scope and within `within` (the import's "division" option) when given.
    """

    def __init__(self, *, actor: Any, within: str | None) -> None:
        self.actor = actor
        self.within = within or None
        self.cache: dict[tuple[str, ...], tuple[str | None, tuple[str, str] | None]] = {}
        self.known_codes: dict[str, bool] = {}
        self._by_level: dict[int, dict[str, list[_Node]]] | None = None

    def prefetch_codes(self, codes: Iterable[str]) -> None:
        """Look up, in one query, the codes of a batch not seen before."""
        missing = {c for c in codes if c and c not in self.known_codes}
        if not missing:
            return
        found = set(Division.objects.filter(code__in=missing).values_list("code", flat=True))
        for code in missing:
            self.known_codes[code] = code in found

    def resolve(
        self, *, code: str, town: str, village: str, group: str
    ) -> tuple[str | None, tuple[str, str] | None]:
        key = (code, town, village, group)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self._resolve(
                code=clean_text(code),
                town=clean_text(town),
                village=clean_text(village),
                group=clean_text(group),
            )
        return found

    def _resolve(
        self, *, code: str, town: str, village: str, group: str
    ) -> tuple[str | None, tuple[str, str] | None]:
        if code and code.isdigit():
            if code not in self.known_codes:
                self.prefetch_codes([code])
            if not self.known_codes[code]:
                return None, (
                    "grid",
                    _("%(label)s“%(value)s”不存在") % {"label": GRID.label, "value": code},
                )
            return self._check(code, "grid", code)
        if code:  # 所属网格 written as a name: the small grid's name (第3网格, 一组)
            group = group or code
        path = [(k, v) for k, v in (("town", town), ("village", village), ("group", group)) if v]
        if not path:
            return None, None
        level_of = {"town": 1, "village": 2, "group": 3}
        parents: set[str] | None = None
        candidates: list[_Node] = []
        for column, value in path:
            nodes = self._named(level_of[column], value)
            if parents is not None:
                nodes = [n for n in nodes if n.parent in parents or self._under(n, parents)]
            if not nodes:
                return None, (
                    column,
                    _("%(label)s“%(value)s”在区划中找不到")
                    % {"label": LABELS[column], "value": value},
                )
            candidates = nodes
            parents = {n.code for n in nodes}
        column, value = path[-1]
        if len(candidates) > 1:
            inside = [n for n in candidates if self._allowed(n.code)]
            if len(inside) == 1:
                candidates = inside
            else:
                return None, (
                    column,
                    _("%(label)s“%(value)s”有重名，请同时填写上级镇(街道)、村(社区)或网格编码")
                    % {"label": LABELS[column], "value": value},
                )
        return self._check(candidates[0].code, column, value)

    def _allowed(self, code: str) -> bool:
        if self.within and not code.startswith(self.within):
            return False
        return code_in_scope(viewer=self.actor, code=code)

    def _check(
        self, code: str, column: str, value: str
    ) -> tuple[str | None, tuple[str, str] | None]:
        if self.within and not code.startswith(self.within):
            return None, (
                column,
                _("%(label)s“%(value)s”不在本次导入所选的区划 %(within)s 内")
                % {"label": LABELS[column], "value": value, "within": self.within},
            )
        if not code_in_scope(viewer=self.actor, code=code):
            return None, (
                column,
                _("%(label)s“%(value)s”不在您的管辖范围内")
                % {"label": LABELS[column], "value": value},
            )
        return code, None

    @staticmethod
    def _under(node: _Node, parents: set[str]) -> bool:
        return any(node.code.startswith(p) for p in parents)

    def _named(self, level: int, value: str) -> list[_Node]:
        by_name = self._tree().get(level, {})
        exact = by_name.get(clean_text(value), [])
        return exact or by_name.get("~" + canonical_unit_name(value), [])

    def _tree(self) -> dict[int, dict[str, list[_Node]]]:
        """Towns, villages and small grids by name (exact and canonical), loaded once."""
        if self._by_level is None:
            by_level: dict[int, dict[str, list[_Node]]] = defaultdict(lambda: defaultdict(list))
            rows = Division.objects.filter(level__gte=1).values_list(
                "code", "name", "level", "parent_id"
            )
            for code, name, level, parent in rows:
                node = _Node(code, name, level, parent)
                by_level[level][clean_text(name)].append(node)
                by_level[level]["~" + canonical_unit_name(name)].append(node)
            self._by_level = by_level
        return self._by_level


# --- rows and people ---------------------------------------------------------------------------


@dataclass
class _Target:
    """A person the batch writes: an existing row (pk, state as stored) or a new one."""

    pk: int | None
    state: dict[str, Any]
    new: bool
    first_row: int  # the file row that brought it (new people)
    before: dict[str, Any] = field(default_factory=dict)

    def set(self, name: str, value: Any) -> bool:
        if self.state.get(name) == value:
            return False
        if not self.new and name not in self.before:
            old = self.state.get(name)
            self.before[name] = old.isoformat() if hasattr(old, "isoformat") else old
        self.state[name] = value
        return True


@dataclass
class _Row:
    source: SourceRow
    data: dict[str, Any]  # cleaned person fields the row brings (attnames)
    person_id: int | None
    division: str | None
    household_ref: str
    head_number: str
    masked: set[str]
    docless: tuple[Any, ...] | None = None  # the key of a person without a document
    target: _Target | None = None
    created: bool = False
    changed: bool = False
    group: tuple[Any, ...] | None = None


def _actor_id(actor: Any) -> int | None:
    pk = getattr(actor, "pk", None)
    return pk if isinstance(pk, int) and getattr(actor, "is_authenticated", False) else None


def _doc_key(id_type: str, number: str) -> tuple[str, str, str]:
    return ("doc", str(id_type), number)


def _docless_key(data: dict[str, Any], division: str | None = None) -> tuple[Any, ...] | None:
    """How a person without a document is recognised: name + birth date + phone; without a
    phone (infants, the old), name + birth date in the same division among people who have
    neither document nor phone."""
    if data.get("id_number") or data.get("id_type") not in (None, IdType.NONE):
        return None
    name, birth = data.get("name"), data.get("birth_date")
    if not (name and birth):
        return None
    if data.get("phone"):
        return ("docless", name, birth, data["phone"])
    division = division or data.get("division_id")
    return ("docless_nophone", name, birth, division) if division else None


class _PeopleBase(Importer):
    columns = COLUMNS
    required_any = (("name",), ("id_number",))
    batch_size = 10000
    creates_households = False

    def __init__(self, *, job: Any, actor: Any, options: dict[str, Any]) -> None:
        super().__init__(job=job, actor=actor, options=options or {})
        within = str(self.options.get("division") or "").strip() or None
        self.within = within
        self.divisions = DivisionResolver(actor=actor, within=within)
        # The cells of 网格编码/镇/村/组 as read -> resolve()'s answer (a county has a few
        # hundred distinct ones; saves the per-row cleaning of the key).
        self._divisions_by_cells: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self._last_group: tuple[Any, ...] | None = None
        self._last_bound: str | None = None

    # -- options and permission --------------------------------------------------------------

    def check_options(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if not policy_for(self.actor).can_edit_people:
            errors["kind"] = [_("您的角色不能导入人员名单")]
        if self.within is not None and (
            not Division.objects.filter(code=self.within).exists()
            or not code_in_scope(viewer=self.actor, code=self.within)
        ):
            errors["division"] = [_("区划代码不存在或不在您的管辖范围内")]
        return errors

    # -- one batch ---------------------------------------------------------------------------

    def process_batch(self, rows: list[SourceRow]) -> BatchResult:
        if not policy_for(self.actor).can_edit_people:
            raise Forbidden(_("您的角色不能导入人员名单"))
        result = BatchResult()
        self.divisions.prefetch_codes(
            code for r in rows if (code := str(r.values.get("grid") or "")).isdigit()
        )
        parsed: list[_Row] = []
        today = local_today()
        for source in rows:
            item = self._parse(source, today)
            if isinstance(item, RowError):
                result.errors.append(item)
            else:
                item.docless = _docless_key(item.data, item.division or self.within)
                parsed.append(item)
            self._follow(source, item)
        known = _Known.load(parsed, viewer=self.actor)
        household_refs = self._household_refs(parsed)
        if self.creates_households:
            parsed = self._group(parsed, known, result)
        targets = _Targets()
        good: list[_Row] = []
        for item in parsed:
            error = self._apply(item, known, targets, household_refs)
            if error is not None:
                result.errors.append(error)
            else:
                good.append(item)
        new_households: list[tuple[Any, ...]] = []
        heads: dict[int, _Target] = {}
        if self.creates_households:
            new_households, heads = self._assign_households(good, known, household_refs)
        counts = self._write(targets, new_households, heads)
        for item in good:
            if item.created:
                result.created += 1
            elif item.changed:
                result.updated += 1
            else:
                result.unchanged += 1
        result.errors.sort(key=lambda e: e.row.number)
        audit_record(
            actor=self.actor,
            verb="people.person.import",
            target_type="imports.importjob",
            target_id=getattr(self.job, "pk", None),
            data={
                "kind": self.kind,
                "rows": len(rows),
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "invalid": sum(1 for e in result.errors if e.kind != "conflict"),
                "conflicts": sum(1 for e in result.errors if e.kind == "conflict"),
                **counts,
            },
        )
        return result

    # -- parsing -----------------------------------------------------------------------------

    def _parse(self, source: SourceRow, today: dt.date) -> _Row | RowError:
        """A row's cleaned person fields, division, 户号 and 户主身份证号, or its errors.

        This runs once per row of files of hundreds of thousands of rows: plain dict lookups
        first, the general cleaning only for the spellings that need it."""
        values = source.values
        errors: dict[str, list[str]] = (
            {k: list(v) for k, v in source.errors.items() if v} if source.errors else {}
        )
        masked: set[str] = set()
        raw: dict[str, Any] = {}
        person_key = PERSON_KEYS.get
        for key, value in values.items():
            attname = person_key(key)
            if attname is None or value is None or value == "":
                continue
            if type(value) is str and ("*" in value or "＊" in value):
                masked.add(attname)
                errors.pop(key, None)  # a masked cell is "not provided", not a bad value
                continue
            if key not in errors:
                raw[attname] = value

        if "birth_date" in raw:
            birth, problem = _iso_date(raw["birth_date"])
            if birth is None:
                birth, problem = clean_date(raw["birth_date"], BIRTH_DATE.label)
            if problem:
                errors.setdefault("birth_date", []).append(problem)
                del raw["birth_date"]
            else:
                raw["birth_date"] = birth
        if "id_type" in raw:
            id_type = id_type_value(raw["id_type"])
            if id_type is None:
                errors.setdefault("id_type", []).append(
                    _("证件类型“%(value)s”无法识别") % {"value": raw["id_type"]}
                )
                del raw["id_type"]
            else:
                raw["id_type"] = id_type
        if "id_number" in raw:
            if "id_type" not in raw:
                raw["id_type"] = guess_id_type(str(raw["id_number"]))
        elif raw.get("id_type") != IdType.NONE:
            raw.pop("id_type", None)  # a type without its number changes nothing
        if "sex" in raw:
            sex = sex_value(raw["sex"])
            if sex is None:
                errors.setdefault("sex", []).append(_("性别无效（应为 男/女）"))
                del raw["sex"]
            else:
                raw["sex"] = sex
        if "relation_to_head" in raw:
            relation = relation_value(raw["relation_to_head"])
            if relation is None:
                errors.setdefault("relation", []).append(
                    _("与户主关系“%(value)s”无法识别") % {"value": raw["relation_to_head"]}
                )
                del raw["relation_to_head"]
            else:
                raw["relation_to_head"] = relation

        data, field_errors = clean_person_fields(raw, partial=True, today=today)
        for attname, messages in field_errors.items():
            errors.setdefault("relation" if attname == "relation_to_head" else attname, []).extend(
                messages
            )

        person_id: int | None = None
        raw_id = values.get("person_id")
        if raw_id is not None and raw_id != "" and "person_id" not in errors:
            try:
                person_id = int(str(raw_id).strip().removesuffix(".0"))
            except ValueError:
                errors.setdefault("person_id", []).append(_("人员编号应为数字"))

        division: str | None = None
        grid, town = values.get("grid"), values.get("town")
        village, group = values.get("village"), values.get("group")
        if (grid or town or village or group) and not (
            "grid" in errors or "town" in errors or "village" in errors or "group" in errors
        ):
            cells = (grid, town, village, group)
            found = self._divisions_by_cells.get(cells)
            if found is None:
                found = self._divisions_by_cells[cells] = self.divisions.resolve(
                    code="" if _masked(grid) else str(grid or ""),
                    town=str(town or ""),
                    village=str(village or ""),
                    group=str(group or ""),
                )
            division, problem = found
            if problem is not None:
                errors.setdefault(problem[0], []).append(problem[1])

        head_number = ""
        raw_head = values.get("head_id_number")
        if (
            raw_head is not None
            and not _blank(raw_head)
            and not _masked(raw_head)
            and "head_id_number" not in errors
        ):
            head_number = clean_text(raw_head).upper()
            if _RESIDENT_LIKE.fullmatch(head_number):
                try:
                    head_number = parse_resident_id(head_number, today=today).number
                except FormatError as exc:
                    errors.setdefault("head_id_number", []).append(str(exc.message))

        if errors:
            return RowError(row=source, errors=errors)
        household_ref = values.get("household_no")
        return _Row(
            source=source,
            data=data,
            person_id=person_id,
            division=division,
            household_ref=""
            if household_ref is None or _blank(household_ref) or _masked(household_ref)
            else clean_text(household_ref).removesuffix(".0"),
            head_number=head_number,
            masked=masked,
        )

    # -- matching ----------------------------------------------------------------------------

    def _apply(
        self,
        item: _Row,
        known: _Known,
        targets: _Targets,
        household_refs: dict[str, int],
    ) -> RowError | None:
        data = item.data
        number = data.get("id_number")
        doc = _doc_key(data["id_type"], number) if number else None
        docless = item.docless
        target: _Target | None = None

        if item.person_id is not None:
            state = known.by_pk.get(item.person_id)
            if state is None:
                return RowError(
                    row=item.source,
                    errors={
                        "person_id": [
                            _("人员编号 %(id)s 不存在或不在您的管辖范围内") % {"id": item.person_id}
                        ]
                    },
                )
            target = targets.existing(state)
            if doc is not None:
                holder = known.by_doc.get(doc)
                if holder is not None and holder["id"] != item.person_id:
                    return self._conflict(item, holder)
                pending = targets.by_key.get(doc)
                if pending is not None and pending is not target:
                    return self._pending_conflict(item, pending)
        elif doc is not None:
            target = targets.by_key.get(doc)
            if target is None:
                holder = known.by_doc.get(doc)
                if holder is not None:
                    if not holder["in_scope"]:
                        return self._conflict(item, holder)
                    target = targets.existing(holder)
            if target is not None and data.get("name") and data["name"] != target.state["name"]:
                if target.new:
                    return self._pending_conflict(item, target)
                return self._conflict(item, {"id": target.pk})
        elif docless is not None:
            target = targets.by_key.get(docless)
            if target is None and docless in known.docless:
                target = targets.existing(known.docless[docless])

        if target is None:
            return self._create(item, targets, household_refs)
        return self._update(item, target, targets, household_refs)

    def _conflict(self, item: _Row, holder: dict[str, Any]) -> RowError:
        if holder.get("in_scope") is False:
            message = _("该证件号码已登记在您管辖范围以外的人员名下，未导入；请联系上级核实")
        else:
            message = _(
                "证件号码已登记为另一人（人员编号 %(id)s），姓名不同，未合并；请核实后处理"
            ) % {"id": holder["id"]}
        return RowError(row=item.source, kind="conflict", errors={"id_number": [message]})

    def _pending_conflict(self, item: _Row, target: _Target) -> RowError:
        return RowError(
            row=item.source,
            kind="conflict",
            errors={
                "id_number": [
                    _("与本文件第 %(row)s 行证件号码相同但姓名不同，未合并；请核实后处理")
                    % {"row": target.first_row}
                ]
            },
        )

    def _create(
        self, item: _Row, targets: _Targets, household_refs: dict[str, int]
    ) -> RowError | None:
        data = item.data
        errors: dict[str, list[str]] = {}
        if not data.get("name"):
            errors["name"] = [
                _("姓名已打码，不能据此新建人员；请使用完整导出文件或填写人员编号")
                if "name" in item.masked
                else _("姓名不能为空")
            ]
        if "id_number" in item.masked and not data.get("id_number"):
            errors["id_number"] = [
                _("证件号码已打码，不能据此新建人员；请使用完整导出文件或填写人员编号")
            ]
        division = item.division or self.within
        if division is None:
            errors[GRID.key] = [
                _("请填写%(grid)s或%(town)s/%(village)s/%(group)s，或在导入时选择所属区划")
                % {
                    "grid": GRID.label,
                    "town": TOWN.label,
                    "village": VILLAGE.label,
                    "group": GROUP.label,
                }
            ]
        if errors:
            return RowError(row=item.source, errors=errors)
        state: dict[str, Any] = {
            "name": data["name"],
            "id_type": data.get("id_type")
            or (IdType.RESIDENT_ID if data.get("id_number") else IdType.NONE),
            "id_number": data.get("id_number") or None,
            "sex": data.get("sex") or Sex.UNKNOWN,
            "birth_date": data.get("birth_date"),
            "phone": data.get("phone") or "",
            "address": data.get("address") or "",
            "notes": data.get("notes") or "",
            "relation_to_head": data.get("relation_to_head") or "",
            "division_id": division,
            "household_id": household_refs.get(item.household_ref) if item.household_ref else None,
        }
        state["id_type"] = str(state["id_type"])
        state["sex"] = str(state["sex"])
        target = _Target(pk=None, state=state, new=True, first_row=item.source.number)
        targets.add_new(target)
        item.target = target
        item.created = True
        return None

    def _update(
        self,
        item: _Row,
        target: _Target,
        targets: _Targets,
        household_refs: dict[str, int],
    ) -> RowError | None:
        data = dict(item.data)
        state = target.state
        if (
            "id_number" not in data
            and state.get("id_number")
            and state.get("id_type") in (IdType.RESIDENT_ID, IdType.FOREIGN_PERMANENT_ID)
        ):
            # Birth date and sex come from the stored number; the file may repeat them,
            # not contradict them.
            if data.get("sex") == Sex.UNKNOWN:
                del data["sex"]
            for attname, message in (
                ("birth_date", _("出生日期与身份证号不一致")),
                ("sex", _("性别与身份证号不一致")),
            ):
                if attname in data and state.get(attname) and data[attname] != state[attname]:
                    return RowError(row=item.source, errors={attname: [message]})
        if data.get("id_type") == IdType.NONE and state.get("id_number") and not target.new:
            data.pop("id_type")  # "无证件" never erases a stored document
            data.pop("id_number", None)
        changed = False
        for attname, value in data.items():
            changed |= target.set(attname, value)
        if item.division:
            changed |= target.set("division_id", item.division)
        if item.household_ref and item.household_ref in household_refs:
            changed |= target.set("household_id", household_refs[item.household_ref])
        item.target = target
        item.changed = changed
        targets.register(target)
        return None

    # -- households ----------------------------------------------------------------------------

    def _household_refs(self, items: list[_Row]) -> dict[str, int]:
        """户号 -> existing household id: by the number a roster gave it, or, in a file
        written by our export (it carries 人员编号), by the household id itself."""
        refs = {i.household_ref for i in items if i.household_ref}
        if not refs:
            return {}
        scope = scope_q(viewer=self.actor, field="division_id")
        qs = Household.objects.filter(number__in=refs)
        if scope is not None:
            qs = qs.filter(scope)
        found: dict[str, int] = {}
        # The oldest household of a number wins; sorted here, not in SQL (an ORDER BY pk
        # makes SQLite walk the whole table instead of using the number index).
        for number, pk in sorted(qs.order_by().values_list("number", "pk"), key=lambda r: r[1]):
            found.setdefault(number, pk)
        by_id = {
            int(i.household_ref)
            for i in items
            if i.person_id is not None
            and i.household_ref not in found
            and i.household_ref.isdigit()
            and len(i.household_ref) <= 12
        }
        if by_id:
            qs = Household.objects.filter(pk__in=by_id)
            if scope is not None:
                qs = qs.filter(scope)
            for pk in qs.values_list("pk", flat=True):
                found[str(pk)] = pk
        return found

    def _follow(self, source: SourceRow, item: _Row | RowError) -> None:
        """Called for every row in file order (households: the 户号 of merged cells)."""

    def _group(self, items: list[_Row], known: _Known, result: BatchResult) -> list[_Row]:
        raise NotImplementedError

    def _assign_households(
        self, items: list[_Row], known: _Known, household_refs: dict[str, int]
    ) -> tuple[list[tuple[Any, ...]], dict[int, _Target]]:
        raise NotImplementedError

    # -- writes ------------------------------------------------------------------------------

    def _write(
        self,
        targets: _Targets,
        new_households: list[tuple[Any, ...]],
        heads: dict[int, _Target],
    ) -> dict[str, int]:
        job_id = getattr(self.job, "pk", None)
        new = targets.new
        if new_households:
            insert_rows(
                Household,
                ("id", "address", "division_id", "number", "import_job_id"),
                [(*row, job_id) for row in new_households],
            )
        if new:
            for target, pk in zip(new, allocate_ids(Person, len(new)), strict=True):
                target.pk = pk
            insert_rows(
                Person,
                INSERT_COLUMNS,
                [(t.pk, *_state_values(t.state), job_id) for t in new],
            )
        by_fields: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
        revisions: list[tuple[Any, ...]] = []
        actor_id = _actor_id(self.actor)
        for target in targets.changed():
            names = tuple(sorted(target.before))
            by_fields[names].append((*(target.state[n] for n in names), target.pk))
            revisions.append(
                (
                    target.pk,
                    actor_id,
                    REVISION_VERB,
                    json.dumps(target.before, ensure_ascii=False),
                    job_id,
                )
            )
        for names, rows in by_fields.items():
            update_rows(Person, names, rows)
        if revisions:
            insert_rows(
                PersonRevision,
                ("person_id", "actor_id", "verb", "before", "import_job_id"),
                revisions,
            )
        head_rows = [(target.pk, household_id) for household_id, target in heads.items()]
        if head_rows:
            update_rows(Household, ("head_id",), head_rows)
        return {"households_created": len(new_households), "households_head_set": len(head_rows)}

    # -- rollback ----------------------------------------------------------------------------

    def rollback(self) -> int:
        """Undo the job: households get their previous heads back, people the values they had
        before it (the oldest stored value of each field wins), the people it created are
        deleted unless something refers to them since (edited by hand, merged, head of a
        household it did not create), then its households left without members."""
        job = self.job
        heads_restored = self._restore_heads()
        # .order_by(): without it SQLite walks whole tables in id order instead of using the
        # import_job indexes.
        created = Person.objects.filter(import_job=job).order_by()
        keep = set(
            PersonRevision.objects.filter(person__import_job=job)
            .exclude(import_job=job)
            .values_list("person_id", flat=True)
        )
        keep |= set(
            Household.objects.filter(head__import_job=job)
            .exclude(import_job=job)
            .order_by()
            .values_list("head_id", flat=True)
        )
        keep |= set(created.filter(merged_into__isnull=False).values_list("pk", flat=True))
        keep |= set(
            Person.objects.filter(merged_into__import_job=job)
            .order_by()
            .values_list("merged_into_id", flat=True)
        )
        doomed = set(created.values_list("pk", flat=True)) - keep

        restore: dict[int, dict[str, Any]] = defaultdict(dict)
        revisions = PersonRevision.objects.filter(import_job=job).order_by()
        rows = revisions.values_list("at", "id", "person_id", "before")
        for _at, _id, person_id, before in sorted(rows, reverse=True):  # newest first
            if person_id not in doomed:
                restore[person_id].update(before)
        restored = self._restore(restore)

        deleted = 0
        ordered = sorted(doomed)
        for start in range(0, len(ordered), 5000):
            chunk = ordered[start : start + 5000]
            try:
                deleted += Person.objects.filter(pk__in=chunk).delete()[1].get("people.Person", 0)
            except ProtectedError:
                for pk in chunk:  # something newer protects a few of them: keep those
                    try:
                        deleted += Person.objects.filter(pk=pk).delete()[1].get("people.Person", 0)
                    except ProtectedError:
                        continue
        empty = list(
            Household.objects.filter(import_job=job, members__isnull=True)
            .order_by()
            .values_list("pk", flat=True)
        )
        Household.objects.filter(pk__in=empty).delete()
        audit_record(
            actor=self.actor,
            verb="people.person.import_rollback",
            target_type="imports.importjob",
            target_id=job.pk,
            data={
                "restored": restored,
                "deleted": deleted,
                "kept": len(keep),
                "households_deleted": len(empty),
                "household_heads_restored": heads_restored,
            },
        )
        return restored + deleted

    def _restore_heads(self) -> int:
        """The heads households had before the job changed them (kept, as ids, in the job's
        people.household.import audit events; the oldest value wins)."""
        heads_before: dict[str, int | None] = {}
        events = AuditEvent.objects.filter(
            verb="people.household.import",
            target_type="imports.importjob",
            target_id=str(self.job.pk),
        ).order_by("-id")
        for data in events.values_list("data", flat=True):
            heads_before.update(data.get("heads_before") or {})
        if not heads_before:
            return 0
        present = set(
            Household.objects.filter(pk__in=[int(k) for k in heads_before]).values_list(
                "pk", flat=True
            )
        )
        living = set(
            Person.objects.filter(
                pk__in=[v for v in heads_before.values() if v is not None]
            ).values_list("pk", flat=True)
        )
        rows = [
            (head if head in living else None, int(household))
            for household, head in heads_before.items()
            if int(household) in present
        ]
        return update_rows(Household, ("head_id",), rows)

    def _restore(self, restore: dict[int, dict[str, Any]]) -> int:
        if not restore:
            return 0
        date_field = Person._meta.get_field("birth_date")
        current = {
            row["id"]: row
            for row in Person.objects.filter(pk__in=list(restore)).values("id", *STATE_FIELDS)
        }
        by_fields: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
        revisions: list[tuple[Any, ...]] = []
        actor_id = _actor_id(self.actor)
        for pk, values in restore.items():
            if pk not in current:
                continue
            names = tuple(sorted(n for n in values if n in STATE_FIELDS))
            if not names:
                continue
            row = []
            for name in names:
                value = values[name]
                if name == "birth_date" and isinstance(value, str):
                    value = date_field.to_python(value)
                row.append(value)
            by_fields[names].append((*row, pk))
            now = {n: current[pk][n] for n in names}
            revisions.append(
                (
                    pk,
                    actor_id,
                    "import_rollback",
                    json.dumps(
                        {
                            k: v.isoformat() if hasattr(v, "isoformat") else v
                            for k, v in now.items()
                        },
                        ensure_ascii=False,
                    ),
                )
            )
        for names, rows in by_fields.items():
            update_rows(Person, names, rows)
        if revisions:
            insert_rows(PersonRevision, ("person_id", "actor_id", "verb", "before"), revisions)
        return len(revisions)


class _Targets:
    """The people one batch writes, by every key a later row may use to find them."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[Any, ...], _Target] = {}
        self.by_pk: dict[int, _Target] = {}
        self.new: list[_Target] = []

    def existing(self, state: dict[str, Any]) -> _Target:
        pk = state["id"]
        if pk not in self.by_pk:
            target = _Target(
                pk=pk,
                state={f: state[f] for f in STATE_FIELDS},
                new=False,
                first_row=0,
            )
            self.by_pk[pk] = target
            self.register(target)
        return self.by_pk[pk]

    def add_new(self, target: _Target) -> None:
        self.new.append(target)
        self.register(target)

    def register(self, target: _Target) -> None:
        state = target.state
        if state.get("id_number"):
            self.by_key.setdefault(_doc_key(state["id_type"], state["id_number"]), target)
        key = _docless_key(state)
        if key is not None:
            self.by_key.setdefault(key, target)

    def changed(self) -> list[_Target]:
        return [t for t in self.by_pk.values() if t.before]


def _id_number_in(qs: Any, numbers: set[str]) -> Any:
    """qs.filter(id_number__in=numbers), with the list sent as plain parameters: the lookup
    prepares every value of a batch's thousands of numbers one by one (clean strings here)."""
    quote = connection.ops.quote_name
    column = f"{quote(Person._meta.db_table)}.{quote(Person._meta.get_field('id_number').column)}"
    placeholders = ", ".join(["%s"] * len(numbers))
    return qs.extra(where=[f"{column} IN ({placeholders})"], params=sorted(numbers))


class _Known:
    """The people a batch refers to that the database already holds: one query per key kind."""

    def __init__(self) -> None:
        self.by_pk: dict[int, dict[str, Any]] = {}
        self.by_doc: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.docless: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.heads: dict[str, dict[str, Any]] = {}

    @classmethod
    def load(cls, items: list[_Row], *, viewer: Any, head_numbers: Iterable[str] = ()) -> _Known:
        known = cls()
        scope = scope_q(viewer=viewer, field="division_id")
        fields = ("id", *STATE_FIELDS)
        # No ORDER BY: with one, SQLite walks the whole table in id order instead of probing
        # the index once per number.
        live = Person.objects.filter(merged_into__isnull=True).order_by()

        pks = {i.person_id for i in items if i.person_id is not None}
        if pks:
            qs = live.filter(pk__in=pks)
            if scope is not None:
                qs = qs.filter(scope)
            known.by_pk = {row["id"]: row for row in qs.values(*fields)}

        numbers = {i.data["id_number"] for i in items if i.data.get("id_number")}
        numbers |= set(head_numbers)
        if numbers:
            for row in _id_number_in(live, numbers).values(*fields):
                row["in_scope"] = code_in_scope(viewer=viewer, code=row["division_id"])
                known.by_doc[_doc_key(row["id_type"], row["id_number"])] = row
                known.heads[row["id_number"]] = row

        docless = {i.docless for i in items if i.docless is not None}
        if docless:
            names = {k[1] for k in docless}
            births = {k[2] for k in docless}
            # Common names repeat thousands of times in a county: the birth dates keep the
            # rows read to the candidates.
            qs = live.filter(name__in=names, birth_date__in=births)
            if scope is not None:
                qs = qs.filter(scope)
            for row in sorted(qs.values(*fields), key=lambda r: r["id"]):
                if row["phone"]:
                    key = ("docless", row["name"], row["birth_date"], row["phone"])
                elif row["id_number"] is None:
                    key = ("docless_nophone", row["name"], row["birth_date"], row["division_id"])
                else:
                    continue
                if key in docless:
                    known.docless.setdefault(key, row)
        return known


@register
class PeopleImporter(_PeopleBase):
    """Kind "people": a roster of persons; households are only linked by an existing 户号."""

    kind = "people"
    label = gettext_lazy("人员名单")


@register
class HouseholdsImporter(_PeopleBase):
    """Kind "households": the same roster, also grouped into households.

    A row's household: its 户号, else its 户主身份证号, else (for a 户主 row without either)
    its own document number; a member row without any of these continues the household of
    the row above when the file groups by 户号 / 户主 (merged cells), else it is grouped by
    现住址 + division. The 户主 row (与户主关系 户主/本人, or the person whose number is the
    户主身份证号) becomes the head.
    """

    kind = "households"
    label = gettext_lazy("户籍/住户名单")
    creates_households = True

    def _group(self, items: list[_Row], known: _Known, result: BatchResult) -> list[_Row]:
        heads = {i.head_number for i in items if i.head_number}
        missing = heads - set(known.heads)
        if missing:
            extra = _Known.load([], viewer=self.actor, head_numbers=missing)
            known.heads.update(extra.heads)
            known.by_doc.update(extra.by_doc)
        kept: list[_Row] = []
        for item in items:
            group = self._group_key(item, known)
            if group is None:
                result.errors.append(
                    RowError(
                        row=item.source,
                        errors={
                            HOUSEHOLD_NO.key: [
                                _("无法确定所属住户：请填写%(no)s、%(head)s或%(address)s")
                                % {
                                    "no": HOUSEHOLD_NO.label,
                                    "head": HEAD_ID_NUMBER.label,
                                    "address": ADDRESS.label,
                                }
                            ]
                        },
                    )
                )
                continue
            item.group = group
            kept.append(item)
        return kept

    def _follow(self, source: SourceRow, item: _Row | RowError) -> None:
        """The household a row names (户号, 户主身份证号, its own number on a 户主 row), or
        the one of the row above for a member row naming none (cells merged down). A bad row
        still names its household for the rows below it; one that names none ends the run."""
        if isinstance(item, RowError):
            values = source.values
            ref, head = values.get("household_no"), values.get("head_id_number")
            if not _blank(ref) and not _masked(ref):
                self._last_group = ("no", clean_text(ref).removesuffix(".0"))
            elif not _blank(head) and not _masked(head):
                self._last_group = ("head", clean_text(head).upper())
            else:
                self._last_group = None
            self._last_bound = None
            return
        data = item.data
        is_head = data.get("relation_to_head") == Relation.HEAD
        address = data.get("address") or ""
        key: tuple[Any, ...] | None
        bound = None  # the address a member row must share to continue the household above
        if item.household_ref:
            key = ("no", item.household_ref)
        elif item.head_number:
            key = ("head", item.head_number)
        elif is_head and data.get("id_number"):
            # A file without 户号/户主身份证号 columns: the 户主 row starts a household that
            # the rows below continue while they live at the same address (or give none).
            key, bound = ("head", data["id_number"]), address
        elif (
            not is_head
            and self._last_group is not None
            and (not self._last_bound or not address or address == self._last_bound)
        ):
            key, bound = self._last_group, self._last_bound
        else:
            key = None  # grouped by address once the batch's stored people are known
        item.group = key
        self._last_group, self._last_bound = key, bound

    def _group_key(self, item: _Row, known: _Known) -> tuple[Any, ...] | None:
        if item.group is not None:
            return item.group
        data = item.data
        address = data.get("address")
        division = item.division or self.within
        stored = None
        if item.person_id is not None:
            stored = known.by_pk.get(item.person_id)
        elif data.get("id_number"):
            stored = known.by_doc.get(_doc_key(data["id_type"], data["id_number"]))
        if stored is not None:
            address = address or stored["address"]
            division = division or stored["division_id"]
        return ("addr", address, division) if address and division else None

    def _assign_households(
        self, items: list[_Row], known: _Known, household_refs: dict[str, int]
    ) -> tuple[list[tuple[Any, ...]], dict[int, _Target]]:
        groups: dict[tuple[Any, ...], list[_Row]] = defaultdict(list)
        for item in items:
            if item.group is not None:
                groups[item.group].append(item)

        existing: dict[tuple[Any, ...], int] = {}
        for key in groups:
            if key[0] == "no" and key[1] in household_refs:
                existing[key] = household_refs[key[1]]
            elif key[0] == "head":
                head = known.heads.get(key[1])
                if head is not None and head["household_id"] and head.get("in_scope", True):
                    existing[key] = head["household_id"]
        addresses = {key[1] for key in groups if key[0] == "addr"}
        if addresses:
            scope = scope_q(viewer=self.actor, field="division_id")
            qs = Household.objects.filter(address__in=addresses)
            if scope is not None:
                qs = qs.filter(scope)
            rows = qs.order_by().values_list("pk", "address", "division_id")
            for pk, address, division in sorted(rows):
                existing.setdefault(("addr", address, division), pk)
        current_heads = dict(
            Household.objects.filter(pk__in=set(existing.values())).values_list("pk", "head_id")
        )

        new_rows: list[tuple[Any, ...]] = []
        new_keys = [k for k in groups if k not in existing]
        ids = dict(zip(new_keys, allocate_ids(Household, len(new_keys)), strict=True))
        heads: dict[int, _Target] = {}
        heads_before: dict[str, int | None] = {}
        for key, members in groups.items():
            head = self._head_of(key, members)
            if key in existing:
                household_id = existing[key]
            else:
                household_id = ids[key]
                lead = head or members[0]
                address = lead.target.state["address"] if lead.target else ""
                if not address:
                    address = next(
                        (
                            m.target.state["address"]
                            for m in members
                            if m.target and m.target.state["address"]
                        ),
                        "",
                    )
                division = lead.target.state["division_id"] if lead.target else members[0].division
                number = key[1] if key[0] == "no" else ""
                new_rows.append((household_id, address, division, number))
            for member in members:
                target = member.target
                if target is None:
                    continue
                member.changed |= target.set("household_id", household_id)
                if member is head and target.state.get("relation_to_head") != Relation.HEAD:
                    member.changed |= target.set("relation_to_head", str(Relation.HEAD))
            if head is not None and head.target is not None:
                if key in existing:
                    if (
                        head.target.pk is not None
                        and current_heads.get(household_id) == head.target.pk
                    ):
                        continue
                    heads_before[str(household_id)] = current_heads.get(household_id)
                heads[household_id] = head.target
        if heads_before:
            audit_record(
                actor=self.actor,
                verb="people.household.import",
                target_type="imports.importjob",
                target_id=getattr(self.job, "pk", None),
                data={"heads_before": heads_before},
            )
        return new_rows, heads

    @staticmethod
    def _head_of(key: tuple[Any, ...], members: list[_Row]) -> _Row | None:
        for member in members:
            if key[0] == "head" and member.data.get("id_number") == key[1]:
                return member
        for member in members:
            if member.data.get("relation_to_head") == Relation.HEAD:
                return member
        return None
