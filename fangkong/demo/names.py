"""Names for the demo county: people, villager groups, compounds, titles, logins.

Pure data and small pure functions; every random choice takes the caller's `random.Random`, so
the same seed always gives the same names.
"""

from __future__ import annotations

import bisect
import itertools
import random

# Common surnames with their approximate share of the population (per mille, national figures
# of the 2020 census rounded; Guanzhong names such as 党, 寇, 屈, 同 added with small weights).
SURNAME_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("王", 72.5), ("李", 71.9), ("张", 69.0), ("刘", 53.8), ("陈", 46.1), ("杨", 32.2),
    ("赵", 21.9), ("黄", 24.5), ("周", 19.5), ("吴", 20.0), ("徐", 16.0), ("孙", 15.0),
    ("马", 14.0), ("胡", 13.0), ("朱", 13.0), ("郭", 12.0), ("何", 12.0), ("高", 11.0),
    ("罗", 10.0), ("林", 9.0), ("郑", 9.7), ("梁", 9.0), ("谢", 8.0), ("宋", 7.6),
    ("唐", 7.4), ("韩", 6.8), ("冯", 6.7), ("许", 7.0), ("邓", 6.6), ("曹", 6.3),
    ("彭", 6.0), ("曾", 5.8), ("肖", 5.6), ("田", 5.5), ("董", 5.4), ("袁", 5.0),
    ("潘", 4.8), ("于", 4.7), ("蒋", 4.6), ("蔡", 4.5), ("余", 4.4), ("杜", 4.3),
    ("叶", 4.2), ("程", 4.1), ("苏", 4.0), ("魏", 3.9), ("吕", 3.8), ("丁", 3.7),
    ("任", 3.6), ("沈", 3.5), ("姚", 3.4), ("卢", 3.3), ("姜", 3.2), ("崔", 3.1),
    ("钟", 3.0), ("谭", 2.9), ("陆", 2.8), ("汪", 2.7), ("范", 2.6), ("金", 2.5),
    ("石", 2.4), ("廖", 2.3), ("贾", 2.2), ("夏", 2.1), ("付", 2.0), ("方", 1.9),
    ("白", 1.8), ("邹", 1.8), ("孟", 1.7), ("熊", 1.7), ("秦", 1.6), ("邱", 1.6),
    ("江", 1.5), ("尹", 1.5), ("薛", 1.5), ("闫", 1.4), ("段", 1.4), ("雷", 1.3),
    ("侯", 1.3), ("史", 1.2), ("陶", 1.2), ("贺", 1.1), ("毛", 1.0), ("郝", 1.0),
    ("武", 1.0), ("常", 1.0), ("康", 0.9), ("樊", 0.8), ("屈", 0.6), ("寇", 0.5),
    ("党", 0.5), ("齐", 0.5), ("同", 0.3), ("岳", 0.6), ("申", 0.5), ("车", 0.3),
)  # fmt: skip

# Characters of given names by generation: (born before, male characters, female characters).
GIVEN_NAME_CHARS: tuple[tuple[int, str, str], ...] = (
    (
        1960,
        "建国志德福长生振华文明学忠喜发山林宝成贵荣根海平安俊正义世永祥军全有仁民兴岐",
        "秀英兰桂芳珍凤玉梅淑琴霞花翠娥莲香爱云巧彩春萍月菊荣素",
    ),
    (
        1990,
        "伟军勇强磊涛斌杰鹏刚波辉健峰亮超明东宏林平建华海锋利新红卫江涛龙飞",
        "丽静敏燕艳娟霞红芳玲婷萍华琳莉梅雪慧洁娜晓蕾颖丹妮倩",
    ),
    (
        2030,
        "浩宇轩博睿子涵俊杰明哲晨阳鑫磊鹏泽凯瑞豪然航一昊宸铭奕皓辰",
        "欣怡梓涵雨萱佳琪思诗婷悦可馨雅静瑶彤晨子若曦语嘉妍梦",
    ),
)

CHINESE_DIGITS = "零一二三四五六七八九"

COMPOUND_STEMS = (
    "滨河", "景贤", "迎宾", "文化", "金色", "阳光", "和谐", "锦绣", "太白", "渭滨", "华府",
    "御景", "书香", "丽景", "翠苑", "怡景", "世纪", "幸福", "凤鸣", "秦岭", "碧水", "南苑",
    "北辰", "东湖", "西城", "紫荆", "桂园", "枫林", "花溪", "康乐", "兴业", "振兴", "新城",
    "盛世", "园丁", "眉坞", "汤峪", "红河", "关中", "金渠", "中央", "明珠",
)  # fmt: skip
COMPOUND_SUFFIXES = ("小区", "花园", "家园", "苑", "新村", "公寓", "嘉园", "名苑", "雅居", "府")
UNIT_COMPOUNDS = (
    "县医院家属院", "教育局家属院", "粮站家属院", "供销社家属院", "农机厂家属院", "中学家属院",
    "法院家属院", "电力局家属院", "邮电局家属院", "水利局家属院",
)  # fmt: skip

COUNTY_LEADER_TITLES = (
    "县委副书记", "常务副县长", "副县长", "副县长", "副县长", "县人大常委会副主任",
    "县政协副主席", "县委常委、组织部长", "县委常委、宣传部长", "县委常委、政法委书记",
    "县委常委、纪委书记", "县委常委、统战部长", "县人大常委会主任", "县政协主席",
)  # fmt: skip
COMMANDER_TITLES = ("县委书记、指挥部第一总指挥", "县长、指挥部总指挥")
DEPARTMENT_LEADER_TITLES = (
    "县卫健局局长", "县教育局局长", "县住建局局长", "县市场监管局局长", "县公安局副局长",
    "县民政局局长", "县文旅局局长", "县财政局局长", "县交通局局长", "县农业农村局局长",
    "县自然资源局局长", "县商务局局长", "县人社局局长", "县司法局局长", "县城管局局长",
)  # fmt: skip
TOWN_LEADER_TITLES = (
    "党委书记",
    "镇长",
    "党委副书记",
    "副镇长",
    "人大主席",
    "纪委书记",
    "武装部长",
)
STREET_LEADER_TITLES = ("党工委书记", "办事处主任", "党工委副书记", "办事处副主任", "人大工委主任")
# Appended to the village's name: 齐镇村党支部书记, 齐镇村村委会主任, 东关社区网格长.
RURAL_CADRE_TITLES = ("党支部书记", "村委会主任", "村委会委员", "村监委会主任", "包组干部")
URBAN_CADRE_TITLES = ("党支部书记", "居委会主任", "网格长", "居委会委员")

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181",
    "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip

# Pinyin of the characters of 眉县's towns and of common place-name characters, for logins such
# as town_qizhen. Names with a character missing here fall back to their code.
PINYIN = {
    "齐": "qi", "镇": "zhen", "横": "heng", "渠": "qu", "槐": "huai", "芽": "ya", "汤": "tang",
    "峪": "yu", "常": "chang", "兴": "xing", "金": "jin", "营": "ying", "头": "tou", "首": "shou",
    "善": "shan", "街": "jie", "道": "dao", "村": "cun", "社": "she", "区": "qu", "西": "xi",
    "东": "dong", "南": "nan", "北": "bei", "寨": "zhai", "凉": "liang", "阁": "ge", "官": "guan",
    "亭": "ting", "上": "shang", "龙": "long", "王": "wang", "庙": "miao", "三": "san",
    "星": "xing", "党": "dang", "家": "jia", "斜": "xie", "关": "guan", "河": "he", "山": "shan",
    "新": "xin", "中": "zhong", "乡": "xiang", "城": "cheng", "马": "ma",
    "渭": "wei", "滨": "bin", "景": "jing", "贤": "xian", "迎": "ying", "宾": "bin",
}  # fmt: skip


class WeightedChoice:
    """Draw from (item, weight) pairs with bisect over cumulative weights: O(log n) a draw."""

    def __init__(self, pairs: tuple[tuple[str, float], ...] | list[tuple[str, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cumulative = list(itertools.accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> str:
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


NATIONAL_SURNAME = WeightedChoice(SURNAME_WEIGHTS)
SURNAMES = frozenset(s for s, _ in SURNAME_WEIGHTS)


def local_surnames(rng: random.Random, village_name: str) -> WeightedChoice:
    """Surnames of one village: two or three families are common there (党家寨 is full of 党).

    A surname in the village's own name (X家寨, X家村) is the first of them.
    """
    clans: list[str] = []
    for i, ch in enumerate(village_name[:-1]):
        if ch in SURNAMES and village_name[i + 1] in "家庄堡":
            clans.append(ch)
            break
    while len(clans) < rng.choice((2, 3)):
        candidate = NATIONAL_SURNAME(rng)
        if candidate not in clans:
            clans.append(candidate)
    shares = [0.22, 0.12, 0.07][: len(clans)]
    weights = dict(SURNAME_WEIGHTS)
    rest = sum(weights.values())
    remaining = 1.0 - sum(shares)
    pairs = [(s, share * rest / remaining) for s, share in zip(clans, shares, strict=True)]
    pairs += [(s, w) for s, w in SURNAME_WEIGHTS]
    return WeightedChoice(pairs)


def given_name(rng: random.Random, *, male: bool, birth_year: int) -> str:
    for before, male_chars, female_chars in GIVEN_NAME_CHARS:
        if birth_year < before:
            chars = male_chars if male else female_chars
            break
    # rng.random() rather than rng.choice(): this runs once a person, and is 3x faster.
    r = rng.random
    n = len(chars)
    first = chars[int(r() * n)]
    if r() < (0.12 if birth_year < 1990 else 0.3):
        return first
    return first + chars[int(r() * n)]


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals: 1 一, 10 十, 12 十二, 20 二十, 23 二十三."""
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_DIGITS[tens]
    return head + "十" + (CHINESE_DIGITS[ones] if ones else "")


def villager_group(n: int) -> str:
    return f"{chinese_number(n)}组"


def compound_names(rng: random.Random, count: int, community: str) -> list[str]:
    """`count` distinct compound names for one urban community."""
    names: list[str] = []
    stem = community.removesuffix("社区").removesuffix("居委会")
    if 1 < len(stem) <= 4 and "街道" not in stem:
        names.append(stem + rng.choice(("小区", "花园", "家园")))
    pool = [s + x for s in COMPOUND_STEMS for x in COMPOUND_SUFFIXES] + list(UNIT_COMPOUNDS)
    while len(names) < count:
        name = rng.choice(pool)
        if name not in names:
            names.append(name)
    return names[:count]


def romanize(name: str) -> str | None:
    """Pinyin of a place name when every character is known (齐镇 -> qizhen), else None."""
    try:
        return "".join(PINYIN[ch] for ch in name)
    except KeyError:
        return None


class PhoneBook:
    """Unique 11-digit mobile numbers (1[3-9]...), deterministic for a given generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new(self) -> str:
        r = self.rng.random
        n = len(MOBILE_PREFIXES)
        while True:
            number = f"{MOBILE_PREFIXES[int(r() * n)]}{int(r() * 10**8):08d}"
            if number not in self.used:
                self.used.add(number)
                return number
