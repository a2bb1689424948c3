"""Pure validators for the formats of domain-rules.md §2. No database, no Django models.

Each `normalize_*` returns the canonical form or raises `FormatError` with a message in the
user's language. Normalising is forgiving about how a number was typed (full-width digits,
spaces, a lower-case x, a stray apostrophe from Excel) and strict about what it means.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from .timeutils import local_today

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# First two digits of mainland provinces, 71 Taiwan, 81 HK, 82 Macau, 83 Taiwan residence permits.
PROVINCE_PREFIXES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    }
)
OLDEST_BIRTH_YEAR = 1880


class FormatError(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


def clean_text(value: object) -> str:
    """NFKC (full-width to half-width), strip spaces, apostrophes and invisible characters."""
    if value is None:
        return ""
    if isinstance(value, str) and value.isascii() and value.isalnum():
        return value  # nothing to fold or strip (the common case, checked first: imports)
    text = unicodedata.normalize("NFKC", str(value))
    return _TEXT_JUNK.sub("", text)


_TEXT_JUNK = re.compile(r"[\s'‘’`\u200b\ufeff\-]")


_ID_WEIGHT_OFFSET = ord("0") * sum(ID_WEIGHTS)


def id_check_char(first17: str) -> str:
    if len(first17) != len(ID_WEIGHTS) or not first17.isdigit():
        raise ValueError("id_check_char() needs the first 17 characters, all digits")
    # Digits as their ASCII codes (one C loop), less the codes' share: sum(digit * weight).
    total = sum(map(operator.mul, first17.encode("ascii"), ID_WEIGHTS)) - _ID_WEIGHT_OFFSET
    return ID_CHECK_CHARS[total % 11]


class ResidentId(NamedTuple):  # a tuple: built once per row of an import, cheaply
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"
    address_code: str


def _birth_date(digits: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(digits)  # YYYYMMDD (ISO 8601 basic format)
    except ValueError:
        return None


def upgrade_legacy_id(number15: str) -> str:
    """GB 11643-1989 15-digit number -> 18 digits: insert '19' before the year, add the check."""
    first17 = number15[:6] + "19" + number15[6:15]
    return first17 + id_check_char(first17)


_LEGACY_ID_RE = re.compile(r"[0-9]{15}")
_RESIDENT_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_CHECK_CHARS_UPPER = frozenset("0123456789X")


def parse_resident_id(value: object, *, today: dt.date | None = None) -> ResidentId:
    """Validate a resident ID number (GB 11643-1999) and derive birth date and sex from it.

    Accepts 15-digit legacy numbers (converted) and a lower-case x (normalised). The 6-digit
    address code is deliberately not checked against today's code list: people keep their
    number when counties are renamed or merged.
    """
    if (
        value.__class__ is str
        and len(value) == 18
        and value.isascii()
        and value[:17].isdigit()
        and value[17] in _CHECK_CHARS_UPPER
    ):
        text = value  # the usual cell (imports): already clean and in shape
    else:
        text = clean_text(value).upper()
        if not text:
            raise FormatError(_("身份证号不能为空"))
        if _LEGACY_ID_RE.fullmatch(text):
            text = upgrade_legacy_id(text)
        if not _RESIDENT_ID_RE.fullmatch(text):
            raise FormatError(_("身份证号应为18位（17位数字加1位校验码）或15位数字"))
    if text[:2] not in PROVINCE_PREFIXES and not text.startswith("9"):
        raise FormatError(_("身份证号前两位不是有效的省级代码"))
    birth = _birth_date(text[6:14])
    if birth is None:
        raise FormatError(_("身份证号中的出生日期不是有效日期"))
    today = today or local_today()
    if birth > today:
        raise FormatError(_("身份证号中的出生日期晚于今天"))
    if birth.year < OLDEST_BIRTH_YEAR:
        raise FormatError(_("身份证号中的出生日期过早"))
    # id_check_char without its argument checks (text[:17] is 17 ASCII digits here).
    total = sum(map(operator.mul, text[:17].encode("ascii"), ID_WEIGHTS)) - _ID_WEIGHT_OFFSET
    if ID_CHECK_CHARS[total % 11] != text[17]:
        raise FormatError(_("身份证号校验码错误"))
    sex = "M" if text[16] in "13579" else "F"
    return ResidentId(text, birth, sex, text[:6])


def normalize_resident_id(value: object) -> str:
    return parse_resident_id(value).number


MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_PARENS = re.compile(r"[()（）]")


def normalize_mobile(value: object) -> str:
    """11-digit mainland mobile; +86 / 0086 / 86 prefixes are stripped."""
    if value.__class__ is str and len(value) == 11 and value.isascii() and value.isdigit():
        # The usual cell (imports): nothing to clean or strip.
        if MOBILE_RE.fullmatch(value):
            return value
        raise FormatError(_("手机号应为11位大陆手机号（1开头，第二位为3-9）"))
    text = clean_text(value)
    text = _PARENS.sub("", text)
    if text.endswith(".0"):  # a number Excel stored as a float
        text = text[:-2]
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif len(text) == 13 and text.startswith("86"):
        text = text[2:]
    if not MOBILE_RE.fullmatch(text):
        raise FormatError(_("手机号应为11位大陆手机号（1开头，第二位为3-9）"))
    return text


# Document types other than the resident ID, domain-rules.md §2.5.
DOCUMENT_PATTERNS: dict[str, tuple[re.Pattern[str], object]] = {
    "passport": (
        re.compile(r"[EG]\d{8}|E[A-HJ-NP-Z]\d{7}|[SD]E\d{7}|[A-Z0-9]{5,17}"),
        _("护照号码应为5-17位字母或数字"),
    ),
    "hk_macau_permit": (
        re.compile(r"[HM]\d{8}(\d{2})?|C\d{8}|C[A-HJ-NP-Z]\d{7}"),
        _("港澳通行证号码应为 H/M 加8位数字（可带2位换证次数）或 C 加8位"),
    ),
    "taiwan_permit": (
        re.compile(r"\d{8}(\d{2})?"),
        _("台湾居民来往大陆通行证号码应为8位数字（旧证可带2位签发次数）"),
    ),
}


def parse_document(
    id_type: str, value: object, *, today: dt.date | None = None
) -> tuple[str, ResidentId | None]:
    """Validate a document number for its type: (canonical number, the parsed resident ID
    for the two resident-ID types, else None). One parse, for callers that need both."""
    if id_type in {"resident_id", "foreign_permanent_id"}:
        parsed = parse_resident_id(value, today=today)
        number = parsed.number
        if id_type == "foreign_permanent_id" and not number.startswith("9"):
            raise FormatError(_("外国人永久居留身份证号码应以9开头"))
        if id_type == "resident_id" and number.startswith("9"):
            raise FormatError(_("以9开头的号码是外国人永久居留身份证，请选择对应证件类型"))
        return number, parsed
    if id_type not in DOCUMENT_PATTERNS:
        raise FormatError(_("证件类型无效"))
    text = clean_text(value).upper()
    text = re.sub(r"[()（）]", "", text)
    pattern, message = DOCUMENT_PATTERNS[id_type]
    if not pattern.fullmatch(text):
        raise FormatError(message)
    return text, None


def normalize_document(id_type: str, value: object) -> str:
    """Validate a document number for its type; returns the canonical number."""
    return parse_document(id_type, value)[0]


# --- vehicle plates (GA 36-2018), train and flight numbers, domain-rules.md §2.4 ---------------

# The abbreviations of the 31 mainland provinces, autonomous regions and municipalities.
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # A-Z without I and O (never used on plates)
PLATE_SUFFIXES = "挂学警港澳"  # trailer, coach, police, Guangdong cross-border (HK / Macau)
# New-energy serials start (small) or end (large) with D (pure electric) or F (other). Some
# places used more letters for a while (domain-rules §2.4 caveat): callers may widen the set.
NEV_LETTERS = "DF"
_PLATE_SEPARATORS = re.compile(r"[\s·•・．.\u00b7\u2022\u30fb\uff0e\-_]")
_PLATE_CHAR = f"[{PLATE_LETTERS}0-9]"


def _plate_patterns(nev_letters: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    nev = f"[{re.escape(nev_letters)}]"
    head = f"[{PLATE_PROVINCES}][{PLATE_LETTERS}]"
    ordinary = re.compile(f"{head}{_PLATE_CHAR}{{4}}[{PLATE_LETTERS}0-9{PLATE_SUFFIXES}]")
    nev_small = re.compile(f"{head}{nev}{_PLATE_CHAR}[0-9]{{4}}")
    nev_large = re.compile(f"{head}[0-9]{{5}}{nev}")
    return ordinary, nev_small, nev_large


_PLATE_PATTERNS = {NEV_LETTERS: _plate_patterns(NEV_LETTERS)}


def normalize_plate(value: object, *, nev_letters: str = NEV_LETTERS) -> str:
    """A motor-vehicle plate (GA 36-2018): 陕C12345, 陕C1234挂, 陕CD12345 (small new-energy),
    陕C12345D (large new-energy). Spaces, middle dots ("浙G·12345") and hyphens are dropped,
    letters upper-cased, full-width folded. The message says what is wrong."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = _PLATE_SEPARATORS.sub("", text).upper()
    if not text:
        raise FormatError(_("车牌号不能为空"))
    if text[0] not in PLATE_PROVINCES:
        raise FormatError(_("车牌号第一位应为省、自治区、直辖市的简称（如“陕”）"))
    if len(text) < 2 or text[1] not in PLATE_LETTERS:
        raise FormatError(_("车牌号第二位应为发牌机关代号，即字母 A–Z（不含 I、O）"))
    if "I" in text or "O" in text:
        raise FormatError(_("车牌号中不使用字母 I 和 O"))
    patterns = _PLATE_PATTERNS.get(nev_letters)
    if patterns is None:
        patterns = _PLATE_PATTERNS[nev_letters] = _plate_patterns(nev_letters)
    ordinary, nev_small, nev_large = patterns
    if len(text) == 7:
        if ordinary.fullmatch(text):
            return text
        raise FormatError(
            _("普通号牌应为省份简称、发牌机关字母加5位字母或数字（末位可为挂、学、警、港、澳）")
        )
    if len(text) == 8:
        if nev_small.fullmatch(text) or nev_large.fullmatch(text):
            return text
        raise FormatError(
            _(
                "新能源号牌应为省份简称、发牌机关字母加6位：小型车 D/F 加1位字母或数字再加4位数字，"
                "大型车5位数字加 D/F"
            )
        )
    raise FormatError(_("车牌号长度不对：普通号牌7位，新能源号牌8位（含省份简称）"))


TRAIN_NO_RE = re.compile(r"[GDCZTKSYL]?\d{1,4}")
FLIGHT_NO_RE = re.compile(r"[A-Z0-9]{2}\d{1,4}[A-Z]?")


def normalize_train_no(value: object) -> str:
    """A train number: G1002, D5123, K1234, 6061 (an optional class letter and 1-4 digits)."""
    text = _PLATE_SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value or ""))).upper()
    text = text.removesuffix("次")
    if not text:
        raise FormatError(_("车次不能为空"))
    if not TRAIN_NO_RE.fullmatch(text):
        raise FormatError(
            _("车次应为1位车次字母（G、D、C、Z、T、K、S、Y、L，可无）加1至4位数字，如 G1002")
        )
    return text


def normalize_flight_no(value: object) -> str:
    """A flight number: MU5123, 3U8888, CA1234A (2-character airline code, 1-4 digits)."""
    text = _PLATE_SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value or ""))).upper()
    if not text:
        raise FormatError(_("航班号不能为空"))
    if not FLIGHT_NO_RE.fullmatch(text):
        raise FormatError(_("航班号应为2位航空公司代码加1至4位数字（可带1位字母后缀），如 MU5123"))
    return text
