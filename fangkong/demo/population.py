"""The demo population, computed in memory before anything is written.

`build_plan` turns (county tree, N people, seed) into rows ready for the database: small grids,
households, people, grid workers, 四包抓 responsibilities, logins and boundaries. Nothing here
touches the database, and every random draw comes from a generator seeded with the seed and a
label, so the same (seed, N, tree) gives the same plan, and changing one part (say, phone
numbers) does not reshuffle another (say, names).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from fangkong.core.validators import ID_CHECK_CHARS, ID_WEIGHTS

from . import geometry, names

# Ages are counted at this date, so the demo does not change with the day it is built.
REFERENCE_DATE = dt.date(2020, 12, 28)  # the county's commendation meeting (seed speech)
DAYS_PER_YEAR = 365.2425

# Household size distribution (mean about 2.9: rural Shaanxi, 2020 census).
HOUSEHOLD_SIZES = ((1, 0.17), (2, 0.28), (3, 0.21), (4, 0.17), (5, 0.10), (6, 0.07))
GRID_TARGET_HOUSEHOLDS = 240  # a villager group or compound of roughly 150-400 households
BLIND_SPOT_SHARE = 0.015  # small grids deliberately left without a grid worker
OVERLOADED_WORKERS = 2

# Column order of the rows below (see services._insert).
HOUSEHOLD_COLUMNS = ("id", "address", "division_id", "head_id")
PERSON_COLUMNS = (
    "id",
    "name",
    "id_type",
    "id_number",
    "sex",
    "birth_date",
    "phone",
    "division_id",
    "household_id",
    "relation_to_head",
    "address",
)


@dataclass(frozen=True)
class Unit:
    """A division of the real tree (county, town or village) as the plan sees it."""

    code: str
    name: str
    level: int
    kind: str
    parent_code: str | None
    full_name: str = ""


@dataclass
class GridPlan:
    code: str
    name: str
    village_code: str
    kind: str
    households: int = 0
    people: int = 0


@dataclass
class WorkerPlan:
    name: str
    phone: str
    grids: list[str]
    households: int
    login: str | None = None


@dataclass
class ResponsibilityPlan:
    division_code: str
    tier: str
    name: str
    title: str
    phone: str
    login: str | None = None


@dataclass
class LoginPlan:
    username: str
    role: str
    jurisdiction_code: str | None
    display_name: str
    phone: str
    is_superuser: bool = False


@dataclass
class Plan:
    county: Unit
    grids: list[GridPlan] = field(default_factory=list)
    households: list[tuple] = field(default_factory=list)
    people: list[tuple] = field(default_factory=list)
    workers: list[WorkerPlan] = field(default_factory=list)
    responsibilities: list[ResponsibilityPlan] = field(default_factory=list)
    logins: list[LoginPlan] = field(default_factory=list)
    boundaries: dict[str, dict] = field(default_factory=dict)
    blind_grids: list[str] = field(default_factory=list)
    overloaded_workers: list[int] = field(default_factory=list)  # indexes into workers


def _rng(seed: int, label: str) -> random.Random:
    return random.Random(f"fangkong-demo:{seed}:{label}")


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder), summing exactly."""
    if not weights:
        return []
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- households and their members -------------------------------------------------------------


class _Members:
    """The people of one household: (relation, male, age, surname line)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: list[tuple[str, bool, int, str]] = []

    def add(self, relation: str, male: bool, age: int, line: str) -> None:
        self.rows.append((relation, male, max(0, min(age, 100)), line))

    def spouse_age(self, head_age: int, head_male: bool) -> int:
        gap = round(self.rng.gauss(2.5, 2.5))
        return head_age - gap if head_male else head_age + gap

    def child_ages(self, mother_age: int, count: int, youngest: int = 0) -> list[int]:
        """Ages of `count` children of a mother of `mother_age`, oldest first."""
        first = mother_age - self.rng.randint(21, 32)
        ages = []
        age = max(first, youngest + 2 * (count - 1))
        for _ in range(count):
            ages.append(max(age, youngest))
            age -= self.rng.randint(1, 6)
        return ages


def _couple(m: _Members, lo: int, hi: int, *, male_head: float = 0.85) -> tuple[int, int]:
    """Head and spouse; returns (head age, mother's age)."""
    rng = m.rng
    head_male = rng.random() < male_head
    head_age = rng.randint(lo, hi)
    spouse_age = max(20, m.spouse_age(head_age, head_male))
    m.add("head", head_male, head_age, "family" if head_male else "own")
    m.add("spouse", not head_male, spouse_age, "other" if head_male else "family")
    return head_age, spouse_age if head_male else head_age


def _compose(rng: random.Random, size: int) -> list[tuple[str, bool, int, str]]:
    """Who lives together, by household size (types and shares of a rural Guanzhong county)."""
    m = _Members(rng)
    r = rng.random()
    if size == 1:
        if r < 0.6:
            m.add("head", rng.random() < 0.4, rng.randint(60, 92), "own")
        else:
            m.add("head", rng.random() < 0.65, rng.randint(20, 59), "own")
    elif size == 2:
        if r < 0.5:
            _couple(m, 55, 88, male_head=0.9)
        elif r < 0.7:
            _couple(m, 23, 54)
        elif r < 0.85:
            parent_male = rng.random() < 0.35
            age = rng.randint(38, 75)
            m.add("head", parent_male, age, "own")
            child_age = max(5, age - rng.randint(22, 34))
            m.add("child", rng.random() < 0.52, child_age, "own" if not parent_male else "family")
        else:
            age = rng.randint(55, 75)
            m.add("head", rng.random() < 0.5, age, "own")
            m.add("grandchild", rng.random() < 0.52, rng.randint(3, 15), "own")
    elif size == 3:
        if r < 0.7:
            _, mother = _couple(m, 26, 58)
            m.add("child", rng.random() < 0.52, m.child_ages(mother, 1)[0], "family")
        elif r < 0.85:
            _, mother = _couple(m, 50, 80, male_head=0.9)
            m.add("child", rng.random() < 0.6, m.child_ages(mother, 1, youngest=16)[0], "family")
        else:
            _couple(m, 52, 75, male_head=0.9)
            m.add("grandchild", rng.random() < 0.52, rng.randint(1, 15), "family")
    elif size == 4:
        if r < 0.5:
            _, mother = _couple(m, 28, 52)
            for age in m.child_ages(mother, 2):
                m.add("child", rng.random() < 0.52, age, "family")
        elif r < 0.8:
            head_age, mother = _couple(m, 28, 58)
            m.add("child", rng.random() < 0.52, m.child_ages(mother, 1)[0], "family")
            m.add("parent", rng.random() < 0.4, head_age + rng.randint(22, 32), "family")
        else:
            _couple(m, 52, 75, male_head=0.9)
            for _ in range(2):
                m.add("grandchild", rng.random() < 0.52, rng.randint(1, 15), "family")
    elif size == 5:
        head_age, mother = _couple(m, 28, 50)
        if r < 0.55:
            m.add("child", rng.random() < 0.52, m.child_ages(mother, 1)[0], "family")
            parents_age = head_age + rng.randint(22, 30)
            m.add("parent", True, parents_age, "family")
            m.add("parent", False, parents_age - rng.randint(0, 4), "other")
        elif r < 0.85:
            for age in m.child_ages(mother, 2):
                m.add("child", rng.random() < 0.52, age, "family")
            m.add("parent", rng.random() < 0.35, head_age + rng.randint(22, 32), "family")
        else:
            for age in m.child_ages(mother, 3):
                m.add("child", rng.random() < 0.52, age, "family")
    else:
        if r < 0.75:
            head_age, mother = _couple(m, 28, 48)
            for age in m.child_ages(mother, 2):
                m.add("child", rng.random() < 0.52, age, "family")
            parents_age = head_age + rng.randint(22, 30)
            m.add("parent", True, parents_age, "family")
            m.add("parent", False, parents_age - rng.randint(0, 4), "other")
        else:
            head_age, mother = _couple(m, 52, 72, male_head=0.95)
            son_age = m.child_ages(mother, 1, youngest=22)[0]
            m.add("child", True, son_age, "family")
            m.add("child_in_law", False, son_age - rng.randint(0, 4), "other")
            for age in m.child_ages(son_age - 2, 2):
                m.add("grandchild", rng.random() < 0.52, age, "family")
    return m.rows


class _Identity:
    """Valid resident ID numbers with the county's address code, unique by construction.

    GB 11643: address (6) + birth date (8) + sequence (3, odd for men) + MOD 11-2 check
    character. The weighted sum of the first 14 digits is computed once per birth day.
    """

    def __init__(self, county_code: str) -> None:
        self.county_code = county_code
        self.taken: dict[tuple[int, bool], int] = defaultdict(int)
        self.ref = REFERENCE_DATE.toordinal()
        self.days: dict[int, tuple[dt.date, str, int]] = {}

    def birth_ordinal(self, rng: random.Random, age: int) -> int:
        return self.ref - int((age + rng.random()) * DAYS_PER_YEAR)

    def day(self, ordinal: int) -> tuple[dt.date, str, int]:
        """(birth date, first 14 characters, their weighted sum) for one birth day."""
        cached = self.days.get(ordinal)
        if cached is None:
            birth = dt.date.fromordinal(ordinal)
            head = f"{self.county_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}"
            partial = sum(int(d) * w for d, w in zip(head, ID_WEIGHTS[:14], strict=True))
            cached = self.days[ordinal] = (birth, head, partial)
        return cached

    def number(self, ordinal: int, male: bool) -> str:
        # Sequence: odd for men, even for women; a per-day offset so that the numbers of one
        # day do not all start at 001.
        k = self.taken[(ordinal, male)]
        self.taken[(ordinal, male)] = k + 1
        sequence = ((ordinal * 37) % 200) * 2 + 2 * k + (1 if male else 2)
        if sequence > 999:
            raise ValueError("more people born on one day than sequence numbers")
        _, head, partial = self.day(ordinal)
        hundreds, rest = divmod(sequence, 100)
        tens, ones = divmod(rest, 10)
        total = partial + hundreds * ID_WEIGHTS[14] + tens * ID_WEIGHTS[15] + ones * ID_WEIGHTS[16]
        return f"{head}{sequence:03d}{ID_CHECK_CHARS[total % 11]}"


# --- the plan ----------------------------------------------------------------------------------


def _village_weights(
    rng: random.Random, villages: list[Unit], towns: dict[str, Unit]
) -> list[float]:
    weights = []
    for v in villages:
        town = towns[v.parent_code or ""]
        if town.kind == "other" or "虚拟" in v.name:
            weights.append(0.04)  # scenic areas and forest parks: a few staff households
        elif v.kind == "urban":
            weights.append(rng.uniform(1.5, 3.0))
        else:
            weights.append(rng.uniform(0.6, 1.5))
    return weights


def _grid_sizes(rng: random.Random, households: int, cap: float) -> list[int]:
    """Households per small grid of one village: about GRID_TARGET each, none above `cap`."""
    target = min(GRID_TARGET_HOUSEHOLDS, 0.8 * cap)
    count = max(1, math.ceil(households / target))
    while True:
        sizes = _apportion(households, [rng.uniform(0.75, 1.25) for _ in range(count)])
        if max(sizes) <= 0.95 * cap or count >= households:
            return sizes
        count += 1


def _person_name(rng: random.Random, male: bool, birth_year: int, surname: str) -> str:
    return surname + names.given_name(rng, male=male, birth_year=birth_year)


def build_plan(
    *,
    county: Unit,
    towns: list[Unit],
    villages: list[Unit],
    people: int,
    seed: int,
    worker_limit: int,
    person_base: int = 1,
    household_base: int = 1,
    bbox: geometry.Rect | None = None,
) -> Plan:
    plan = Plan(county=county)
    town_by_code = {t.code: t for t in towns}
    villages = sorted(villages, key=lambda v: v.code)
    quotas = _apportion(people, _village_weights(_rng(seed, "villages"), villages, town_by_code))

    people_rng = _rng(seed, "people")
    phone_rng = _rng(seed, "phones")
    phones = names.PhoneBook(phone_rng)
    ids = _Identity(county.code)
    size_choice = names.WeightedChoice([(str(s), w) for s, w in HOUSEHOLD_SIZES])
    county_prefix = (county.full_name or county.name).replace("/", "")
    grid_rng = _rng(seed, "grids")
    person_id = person_base
    household_id = household_base
    grids_by_village: dict[str, list[GridPlan]] = {}
    for village, quota in zip(villages, quotas, strict=True):
        town = town_by_code[village.parent_code or ""]
        surnames = names.local_surnames(people_rng, village.name)
        # Household sizes first: they fix how many households the village has.
        sizes: list[int] = []
        left = quota
        while left > 0:
            size = min(int(size_choice(people_rng)), left)
            sizes.append(size)
            left -= size
        grid_sizes = _grid_sizes(grid_rng, len(sizes), worker_limit) if sizes else [0]
        urban = village.kind == "urban"
        grid_names = (
            names.compound_names(grid_rng, len(grid_sizes), village.name)
            if urban
            else [names.villager_group(i + 1) for i in range(len(grid_sizes))]
        )
        grids = []
        cursor = 0
        for g, (count, grid_name) in enumerate(zip(grid_sizes, grid_names, strict=True)):
            grid = GridPlan(
                code=f"{village.code}{g + 1:03d}",
                name=grid_name,
                village_code=village.code,
                kind=village.kind,
                households=count,
            )
            grids.append(grid)
            base_address = f"{county_prefix}{town.name}{village.name}{grid_name}"
            for n in range(count):
                size = sizes[cursor + n]
                address = base_address + _house_number(n, urban)
                members = _compose(people_rng, size)
                head_id = person_id
                plan.households.append((household_id, address, grid.code, head_id))
                family = surnames(people_rng)
                own = surnames(people_rng)
                head_phone = ""
                for relation, male, age, line in members:
                    if line == "family":
                        surname = family
                    elif line == "own":
                        surname = own
                    else:
                        surname = names.NATIONAL_SURNAME(people_rng)
                    ordinal = ids.birth_ordinal(people_rng, age)
                    birth = ids.day(ordinal)[0]
                    name = _person_name(people_rng, male, birth.year, surname)
                    if age < 1 and people_rng.random() < 0.4:
                        id_type, id_number = "none", None  # newborn, not yet registered
                    else:
                        id_type, id_number = "resident_id", ids.number(ordinal, male)
                    if age < 14:
                        phone = ""
                    elif age >= 75 and head_phone and people_rng.random() < 0.5:
                        phone = head_phone  # shares the family's phone
                    else:
                        phone = phones.new()
                    if relation == "head":
                        head_phone = phone
                    plan.people.append(
                        (
                            person_id,
                            name,
                            id_type,
                            id_number,
                            "M" if male else "F",
                            birth,
                            phone,
                            grid.code,
                            household_id,
                            relation,
                            address,
                        )
                    )
                    person_id += 1
                grid.people += size
                household_id += 1
            cursor += count
        grids_by_village[village.code] = grids
        plan.grids.extend(grids)

    focus = _focus(towns, villages)
    _plan_workers(plan, seed, worker_limit, towns, focus, phones)
    _plan_logins(plan, seed, focus, phones)
    _plan_responsibilities(plan, seed, towns, villages, grids_by_village, focus, phones)
    _plan_boundaries(
        plan, towns, villages, grids_by_village, bbox or geometry.county_bbox(county.code)
    )
    return plan


def _house_number(n: int, urban: bool) -> str:
    """Door numbers: 17号 in a villager group, 5号楼2单元301 in a compound."""
    if not urban:
        return f"{n + 1}号"
    building, rest = divmod(n, 24)  # 2 units x 6 floors x 2 flats
    unit, rest = divmod(rest, 12)
    floor, flat = divmod(rest, 2)
    return f"{building + 1}号楼{unit + 1}单元{floor + 1}{flat + 1:02d}"


@dataclass(frozen=True)
class Focus:
    """The town, village and small grid whose officers get the demo logins."""

    town: Unit
    village: Unit
    grid: str


def _focus(towns: list[Unit], villages: list[Unit]) -> Focus:
    # 齐镇 (610326107) in 眉县, named in the seed speech; elsewhere the first town (镇 before
    # 街道) that has villages. The focus grid is the village's first small grid.
    ordered = sorted(towns, key=lambda t: (not t.code.endswith("107"), t.kind != "rural", t.code))
    for town in ordered:
        own = sorted((v for v in villages if v.parent_code == town.code), key=lambda v: v.code)
        if own:
            return Focus(town, own[0], f"{own[0].code}001")
    raise ValueError("the county has no villages")


def _login_specs(county: Unit, focus: Focus) -> list[tuple[str, str, str | None]]:
    """(username, role, jurisdiction code) of the demo logins: one for every role."""
    code = county.code
    grid_no = int(focus.grid[-3:])
    return [
        ("hq", "commander", code),
        ("leader", "leader", code),
        (_username("town", focus.town.name, focus.town.code), "town_officer", focus.town.code),
        (
            _username("village", focus.village.name, focus.village.code),
            "village_officer",
            focus.village.code,
        ),
        (
            f"{_username('grid', focus.village.name, focus.village.code)}_{grid_no}",
            "grid_worker",
            focus.grid,
        ),
        ("checkpoint", "checkpoint_staff", code),
        ("epi", "epidemiologist", code),
        ("lab", "lab_staff", code),
        ("site", "site_staff", code),
        ("doctor", "medical_staff", code),
        ("inspector", "inspector", code),
        ("liaison", "liaison", code),
        ("admin", "admin", None),
    ]


def demo_focus(*, towns: list[Unit], villages: list[Unit]) -> Focus:
    """The town, village and small grid of the demo logins (their inboxes get arrivals)."""
    return _focus(towns, villages)


def demo_usernames(*, county: Unit, towns: list[Unit], villages: list[Unit]) -> list[str]:
    return [username for username, _, _ in _login_specs(county, _focus(towns, villages))]


def _plan_workers(
    plan: Plan,
    seed: int,
    limit: int,
    towns: list[Unit],
    focus: Focus,
    phones: names.PhoneBook,
) -> None:
    """One worker per one or two small grids, a few grids without one, a couple overloaded."""
    rng = _rng(seed, "workers")
    grids = plan.grids
    by_town: dict[str, list[GridPlan]] = defaultdict(list)
    for grid in grids:
        by_town[grid.code[:9]].append(grid)
    taken: set[str] = {focus.grid}
    groups: list[list[GridPlan]] = []
    # Overloaded: consecutive grids of one town until the load passes the limit.
    town_order = sorted(by_town, key=lambda code: (code == focus.town.code, rng.random()))
    for code in town_order:
        if len(groups) == OVERLOADED_WORKERS:
            break
        candidates = [g for g in by_town[code] if g.code not in taken]
        if sum(g.households for g in candidates) <= limit:
            continue
        start = rng.randrange(len(candidates))
        group: list[GridPlan] = []
        load = 0
        for grid in candidates[start:] + candidates[:start]:
            group.append(grid)
            load += grid.households
            if load > limit:
                break
        groups.append(group)
        taken.update(g.code for g in group)
    overloaded = len(groups)
    # Blind spots: grids nobody answers for.
    eligible = [g.code for g in grids if g.code not in taken]
    blind_count = min(len(eligible), max(2, min(12, round(len(grids) * BLIND_SPOT_SHARE))))
    if len(grids) < 4:
        blind_count = min(blind_count, max(0, len(grids) - 2))
    plan.blind_grids = sorted(rng.sample(eligible, blind_count))
    taken.update(plan.blind_grids)
    taken.discard(focus.grid)
    # Everyone else: one grid, or two neighbouring grids of one village if they fit.
    pending: list[GridPlan] = []
    for grid in grids:
        if grid.code in taken:
            continue
        if (
            pending
            and pending[0].village_code == grid.village_code
            and pending[0].households + grid.households <= 0.9 * limit
            and pending[0].code != focus.grid
            and grid.code != focus.grid
            and rng.random() < 0.5
        ):
            pending.append(grid)
            groups.append(pending)
            pending = []
            continue
        if pending:
            groups.append(pending)
        pending = [grid]
    if pending:
        groups.append(pending)
    surname = names.NATIONAL_SURNAME
    for index, group in enumerate(groups):
        male = rng.random() < 0.55
        year = rng.randint(1965, 1998)
        worker = WorkerPlan(
            name=surname(rng) + names.given_name(rng, male=male, birth_year=year),
            phone=phones.new(),
            grids=[g.code for g in group],
            households=sum(g.households for g in group),
        )
        if index < overloaded:
            plan.overloaded_workers.append(len(plan.workers))
        plan.workers.append(worker)


def _username(prefix: str, unit_name: str, code: str) -> str:
    return f"{prefix}_{names.romanize(unit_name) or code}"


def _plan_logins(plan: Plan, seed: int, focus: Focus, phones: names.PhoneBook) -> None:
    """A login for every role (accounts.roles.Role), on the county or the focus units."""
    rng = _rng(seed, "logins")
    specs = _login_specs(plan.county, focus)
    grid_login = next(username for username, role, _ in specs if role == "grid_worker")
    for username, role, jurisdiction in specs:
        male = rng.random() < 0.6
        display = names.NATIONAL_SURNAME(rng) + names.given_name(
            rng, male=male, birth_year=rng.randint(1968, 1995)
        )
        plan.logins.append(
            LoginPlan(
                username=username,
                role=role,
                jurisdiction_code=jurisdiction,
                display_name=display,
                phone=phones.new(),
                is_superuser=role == "admin",
            )
        )
    for worker in plan.workers:
        if worker.grids == [focus.grid]:
            worker.login = grid_login
            worker.name = next(lg.display_name for lg in plan.logins if lg.username == grid_login)


def _plan_responsibilities(
    plan: Plan,
    seed: int,
    towns: list[Unit],
    villages: list[Unit],
    grids_by_village: dict[str, list[GridPlan]],
    focus: Focus,
    phones: names.PhoneBook,
) -> None:
    """四包抓: county leaders for towns, department leaders for urban communities, town leaders
    for villages, village cadres for small grids, and the county's commanders."""
    rng = _rng(seed, "responsibilities")
    logins = {lg.role: lg.username for lg in plan.logins}

    def person(year_lo: int, year_hi: int) -> str:
        male = rng.random() < 0.75
        return names.NATIONAL_SURNAME(rng) + names.given_name(
            rng, male=male, birth_year=rng.randint(year_lo, year_hi)
        )

    def add(code: str, tier: str, who: tuple[str, str, str], login: str | None = None) -> None:
        plan.responsibilities.append(ResponsibilityPlan(code, tier, who[0], who[1], who[2], login))

    county = plan.county.code
    for k, title in enumerate(names.COMMANDER_TITLES):
        login = logins["commander"] if k == len(names.COMMANDER_TITLES) - 1 else None
        add(county, "commander", (person(1962, 1975), title, phones.new()), login)
    county_leaders = [(person(1960, 1978), t, phones.new()) for t in names.COUNTY_LEADER_TITLES]
    for k, town in enumerate(sorted(towns, key=lambda t: t.code)):
        login = logins["leader"] if town.code == focus.town.code else None
        add(town.code, "county_leader", county_leaders[k % len(county_leaders)], login)
    departments = [(person(1965, 1982), t, phones.new()) for t in names.DEPARTMENT_LEADER_TITLES]
    urban = [v for v in villages if v.kind == "urban"]
    for k, village in enumerate(urban):
        add(village.code, "department_leader", departments[k % len(departments)])
    teams: dict[str, list[tuple[str, str, str]]] = {}
    for town in towns:
        titles = names.STREET_LEADER_TITLES if town.kind == "urban" else names.TOWN_LEADER_TITLES
        teams[town.code] = [(person(1965, 1988), town.name + t, phones.new()) for t in titles]
    for k, village in enumerate(villages):
        team = teams[village.parent_code or ""]
        login = logins["town_officer"] if village.code == focus.village.code else None
        add(village.code, "town_leader", team[k % len(team)], login)
        titles = names.URBAN_CADRE_TITLES if village.kind == "urban" else names.RURAL_CADRE_TITLES
        cadres = [
            (person(1960, 1992), village.name + t, phones.new())
            for t in titles[: rng.randint(3, len(titles))]
        ]
        for g, grid in enumerate(grids_by_village[village.code]):
            login = logins["village_officer"] if grid.code == focus.grid else None
            add(grid.code, "cadre", cadres[g % len(cadres)], login)


def _plan_boundaries(
    plan: Plan,
    towns: list[Unit],
    villages: list[Unit],
    grids_by_village: dict[str, list[GridPlan]],
    bbox: geometry.Rect,
) -> None:
    """Nested treemap cells sized by population: county -> towns -> villages -> small grids."""
    people_by_village = {
        code: sum(g.people for g in grids) for code, grids in grids_by_village.items()
    }
    villages_by_town: dict[str, list[Unit]] = defaultdict(list)
    for village in villages:
        villages_by_town[village.parent_code or ""].append(village)
    plan.boundaries[plan.county.code] = geometry.polygon(bbox)
    towns = sorted(towns, key=lambda t: t.code)
    town_people = [sum(people_by_village[v.code] for v in villages_by_town[t.code]) for t in towns]
    for town, cell in zip(
        towns, geometry.squarify(geometry.with_floor(town_people), bbox), strict=True
    ):
        plan.boundaries[town.code] = geometry.polygon(cell)
        own = villages_by_town[town.code]
        weights = geometry.with_floor([people_by_village[v.code] for v in own])
        for village, vcell in zip(own, geometry.squarify(weights, cell), strict=True):
            plan.boundaries[village.code] = geometry.polygon(vcell)
            grids = grids_by_village[village.code]
            gweights = geometry.with_floor([g.people for g in grids])
            for grid, gcell in zip(grids, geometry.squarify(gweights, vcell), strict=True):
                plan.boundaries[grid.code] = geometry.polygon(gcell)
