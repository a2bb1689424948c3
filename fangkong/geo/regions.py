"""The GB/T 2260 table of the whole country: look codes up, resolve names, feed a cascader.

Codes are given back in their short form, the digits that matter: 2 for a province ("11"), 4 for
a city ("1101"), 6 for a county ("110105"), and 9, 12 or 15 digits below a county (a town, a
village, a compound). In that form "X lies under Y" is `X.startswith(Y)`, which is how risk areas
are matched against the places arrivals come from (policy.selectors.risk_level_at).

The table is small (about 3,400 rows) and never changes while the server runs, so it is read
once per process into memory (`_index`). It comes from the Region table (migration
0004_regions_gbt2260); if that table is empty (a test database that was flushed) the committed
CSV the migration loads is read instead, so lookups never depend on the state of the table.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from fangkong.core.validators import FormatError

from .models import Division, Region, region_prefix

DATA_FILE = Path(__file__).resolve().parent / "data" / "regions.csv"
CODE_LENGTHS = (2, 4, 6, 9, 12, 15)
# Second-level rows that group a province's counties without being a place of their own.
PLACEHOLDER_CITIES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
PROVINCE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")
CITY_SUFFIXES = ("地区", "市", "盟")
COUNTY_SUFFIXES = ("林区", "特区", "新区", "区", "县", "市", "旗")
# Names of minority nationalities as they appear in the names of autonomous areas (自治州/县/旗),
# so that "延边朝鲜族自治州" also answers to "延边".
_NATIONALITIES = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|"
    "拉祜|水|东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|"
    "塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺"
)
_AUTONOMOUS = re.compile(rf"^(.{{2,}}?)(?:(?:{_NATIONALITIES})族?)+自治[州县旗]$")
_SEPARATORS = frozenset(" ,，、;；/|()（）[]【】:：")


@dataclass(frozen=True)
class RegionRow:
    code: str  # six digits, as in the table
    prefix: str  # the short form (11, 1101, 110105)
    name: str
    full_name: str
    level: int
    parent: str  # the parent's six-digit code, "" for a province


@dataclass(frozen=True)
class RegionMatch:
    """A place name resolved: the region's short code, its full name, and what was left of the
    text after the name (a town, a compound, a building: the detail of a risk area)."""

    code: str
    full_name: str
    rest: str


@dataclass
class _Alias:
    text: str
    code: str  # six digits
    needs_boundary: bool  # a short form: must be followed by a separator or the end


@dataclass
class _Index:
    rows: dict[str, RegionRow]  # by six-digit code
    children: dict[str, list[str]]  # six-digit parent code -> child codes
    province_aliases: list[_Alias] = field(default_factory=list)
    city_aliases: dict[str, list[_Alias]] = field(default_factory=dict)  # province -> aliases
    county_aliases: dict[str, list[_Alias]] = field(default_factory=dict)  # city -> aliases


def _load_rows() -> list[RegionRow]:
    rows = list(Region.objects.values_list("code", "name", "full_name", "level", "parent_code"))
    if not rows:
        with DATA_FILE.open(encoding="utf-8", newline="") as f:
            rows = [
                (r["code"], r["name"], r["full_name"], int(r["level"]), r["parent_code"])
                for r in csv.DictReader(f)
            ]
    return [
        RegionRow(code, region_prefix(code, level), name, full_name, level, parent)
        for code, name, full_name, level, parent in rows
    ]


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    """A name without its administrative suffix, when at least two characters remain."""
    match = _AUTONOMOUS.match(name)
    if match:
        return match.group(1)
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return ""


def _aliases(
    row: RegionRow, suffixes: tuple[str, ...], *, short_needs_boundary: bool
) -> list[_Alias]:
    aliases = [_Alias(row.name, row.code, False)]
    short = _short(row.name, suffixes)
    if short and short != row.name:
        aliases.append(_Alias(short, row.code, short_needs_boundary))
    return aliases


@functools.cache
def _index() -> _Index:
    rows = {row.code: row for row in _load_rows()}
    children: dict[str, list[str]] = {}
    for row in rows.values():
        if row.parent:
            children.setdefault(row.parent, []).append(row.code)
    index = _Index(rows=rows, children=children)
    for row in rows.values():
        if row.level == Region.Level.PROVINCE:
            index.province_aliases += _aliases(row, PROVINCE_SUFFIXES, short_needs_boundary=False)
        elif row.level == Region.Level.CITY:
            aliases = index.city_aliases.setdefault(row.parent, [])
            if row.name in PLACEHOLDER_CITIES:
                # People write "上海市上海市静安区": the municipality's name stands for its
                # placeholder city. A placeholder is never itself the answer (see _walk).
                province = rows[row.parent]
                names = [row.name]
                if province.name.endswith("市"):
                    names += [province.name, _short(province.name, PROVINCE_SUFFIXES)]
                aliases += [_Alias(n, row.code, False) for n in names if n]
            else:
                aliases += _aliases(row, CITY_SUFFIXES, short_needs_boundary=False)
        else:
            index.county_aliases.setdefault(row.parent, []).extend(
                _aliases(row, COUNTY_SUFFIXES, short_needs_boundary=True)
            )
    # Longest first, so that a full name is tried before its short form.
    for group in [index.province_aliases, *index.city_aliases.values()]:
        group.sort(key=lambda a: -len(a.text))
    for group in index.county_aliases.values():
        group.sort(key=lambda a: -len(a.text))
    return index


def _pad(code: str) -> str:
    return code.ljust(6, "0") if len(code) < 6 else code


def _clean_code(code: object) -> str:
    text = unicodedata.normalize("NFKC", str(code or "")).strip().replace(" ", "")
    if not text.isdigit() or len(text) not in CODE_LENGTHS:
        raise FormatError(
            _("区划代码应为 6 位数字（省、市也可写作 2 位、4 位），或 9、12、15 位的乡镇、村级代码")
        )
    return text


def region_get(code: str) -> Region | None:
    """The Region row of a code in any form (11, 110000, 1101, 110105), or None."""
    try:
        text = _clean_code(code)
    except FormatError:
        return None
    if len(text) > 6:
        return None
    return Region.objects.filter(code=_pad(text)).first()


def _row_for(text: str) -> RegionRow | None:
    """The table row of a 2-, 4- or 6-digit code, only when the code is written in a form that
    fits the row's level (110000 or 11 is Beijing; 110001 is nothing)."""
    row = _index().rows.get(_pad(text))
    if row is None:
        return None
    if len(text) == 2 and row.level != Region.Level.PROVINCE:
        return None
    if len(text) == 4 and row.level != Region.Level.CITY:
        return None
    return row


def _is_county_level(row: RegionRow) -> bool:
    """A county, or a city without counties (东莞市 441900: its towns sit right under it)."""
    if row.level == Region.Level.COUNTY:
        return True
    return row.level == Region.Level.CITY and not _index().children.get(row.code)


def _division_names(code: str) -> str:
    """The names below the county of one of the county's own divisions ("齐镇齐镇村"), or ""."""
    division = Division.objects.filter(code=code).first()
    if division is None:
        return ""
    ancestors = Division.objects.in_bulk(division.ancestor_codes())
    return "".join(
        ancestors[c].name for c in division.ancestor_codes() if c in ancestors and len(c) > 6
    )


def region_lookup(code: object, *, name: str = "") -> tuple[str, str]:
    """(short code, full name) of a code, or FormatError with a message for the user.

    2-, 4- and 6-digit codes must be in the table. Longer codes (9-digit towns, 12-digit villages,
    15-digit compounds or grids) are accepted when their first six digits are a county; their
    name is the county's full name followed by `name` (the caller's, e.g. from a notice) or, for
    the county's own divisions, the names of the division and its ancestors.
    """
    text = _clean_code(code)
    if len(text) <= 6:
        row = _row_for(text)
        if row is None:
            raise FormatError(
                _("未知的区划代码 %(code)s（不在 GB/T 2260 区划代码表中）") % {"code": text}
            )
        return row.prefix, row.full_name
    county = _index().rows.get(text[:6])
    if county is None or not _is_county_level(county):
        raise FormatError(
            _("区划代码 %(code)s 的前 6 位 %(county)s 不是已知的县级区划")
            % {"code": text, "county": text[:6]}
        )
    extra = unicodedata.normalize("NFKC", name or "").strip() or _division_names(text)
    if extra.startswith(county.full_name):
        return text, extra
    return text, county.full_name + extra


def region_row(code: str) -> RegionRow | None:
    """The in-memory row of a 2-, 4- or 6-digit code (no query), or None."""
    text = "".join(str(code or "").split())
    if not text.isdigit() or len(text) not in (2, 4, 6):
        return None
    return _row_for(text)


def region_children(code: str) -> list[RegionRow]:
    """The rows right under a region (its short or six-digit code), in code order."""
    index = _index()
    return [index.rows[c] for c in sorted(index.children.get(_pad(code), []))]


@functools.cache
def regions_tree_json() -> dict[str, Any]:
    """{provinces: [{code, name}], cities: {province: [...]}, counties: {city: [...]}} in short
    codes, for a province -> city -> county cascader. Built once and shared: do not modify it."""
    index = _index()
    tree: dict[str, Any] = {"provinces": [], "cities": {}, "counties": {}}
    for row in sorted(index.rows.values(), key=lambda r: r.code):
        item = {"code": row.prefix, "name": row.name}
        if row.level == Region.Level.PROVINCE:
            tree["provinces"].append(item)
        elif row.level == Region.Level.CITY:
            tree["cities"].setdefault(row.parent[:2], []).append(item)
        else:
            tree["counties"].setdefault(row.parent[:4], []).append(item)
    return tree


# --- names -----------------------------------------------------------------------------------


def _compact(text: str) -> tuple[str, frozenset[int]]:
    """The text without spaces, and the positions in it where a separator or the end lies."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    chars: list[str] = []
    boundaries: set[int] = set()
    for ch in text:
        if ch.isspace():
            boundaries.add(len(chars))
            continue
        if ch in _SEPARATORS:
            boundaries.add(len(chars))
        chars.append(ch)
    boundaries.add(len(chars))
    return "".join(chars), frozenset(boundaries)


def _matches(text: str, pos: int, aliases: list[_Alias], boundaries: frozenset[int]):
    for alias in aliases:
        if text.startswith(alias.text, pos):
            end = pos + len(alias.text)
            if alias.needs_boundary and end not in boundaries:
                continue
            yield alias, end


def _walk(text: str, boundaries: frozenset[int]) -> list[tuple[int, int, str]]:
    """Every reading of the start of `text` as province [city] [county]: (characters used,
    level, six-digit code). A reading may skip the province or the city."""
    index = _index()
    found: list[tuple[int, int, str]] = []

    def counties(pos: int, city_codes: list[str]) -> None:
        for city in city_codes:
            for alias, end in _matches(text, pos, index.county_aliases.get(city, []), boundaries):
                found.append((end, 3, alias.code))

    def cities(pos: int, provinces: list[str], *, with_placeholders: bool) -> None:
        for province in provinces:
            for alias, end in _matches(text, pos, index.city_aliases.get(province, []), boundaries):
                row = index.rows[alias.code]
                if row.name in PLACEHOLDER_CITIES:
                    if not with_placeholders:
                        continue
                    found.append((end, 1, province))
                else:
                    found.append((end, 2, alias.code))
                counties(end, [alias.code])

    for alias, end in _matches(text, 0, index.province_aliases, boundaries):
        found.append((end, 1, alias.code))
        cities(end, [alias.code], with_placeholders=True)
        counties(end, index.children.get(alias.code, []))
    if not found or max(f[0] for f in found) < len(text):
        # Without the province: "杭州市西湖区", "吉林市" (not 吉林省 + "市").
        provinces = [c for c, r in index.rows.items() if r.level == Region.Level.PROVINCE]
        cities(0, provinces, with_placeholders=False)
        every_city = [c for c, r in index.rows.items() if r.level == Region.Level.CITY]
        counties(0, every_city)
    return found


def region_match_name(text: str) -> RegionMatch | None:
    """The region a place name starts with ("北京市朝阳区", "北京 朝阳区", "上海市 上海市 静安区",
    "内蒙古"), reading as much of the text as possible; None when nothing matches or the longest
    reading is ambiguous ("朝阳区" alone: Beijing's or Changchun's)."""
    compact, boundaries = _compact(text)
    if not compact:
        return None
    found = _walk(compact, boundaries)
    if not found:
        return None
    best = max((used, level) for used, level, _code in found)
    codes = {code for used, level, code in found if (used, level) == best}
    if len(codes) != 1:
        return None
    row = _index().rows[codes.pop()]
    return RegionMatch(code=row.prefix, full_name=row.full_name, rest=compact[best[0] :])


def region_find_by_name(text: str) -> str | None:
    """The short code of the region a place name starts with, or None (see region_match_name)."""
    match = region_match_name(text)
    return match.code if match else None
