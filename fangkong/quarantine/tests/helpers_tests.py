"""Builders shared by the test-schedule tests (not a test module itself)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.control.models import ControlOrder
from fangkong.people.models import Person
from fangkong.policy.models import PolicyEdition
from fangkong.policy.rules import plan_measure, rule_for
from fangkong.quarantine.models import Room, SamplingTask, Site, SiteStaff, Stay
from fangkong.tracing.models import Case, Contact

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2022, 7, 2, 9, 0, tzinfo=TZ)
ANCHOR = dt.date(2022, 7, 1)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=TZ)


def edition(code: str) -> PolicyEdition:
    return PolicyEdition.objects.get(code=code)


def make_order(
    person: Person,
    *,
    code: str = "v9",
    category: str = "close_contact",
    anchor: dt.date = ANCHOR,
    status: str = "active",
    source_type: str = "arrival",
    source_id: str = "1",
) -> ControlOrder:
    ed = edition(code)
    plan = plan_measure(rule_for(ed, category), anchor=anchor, found_on=anchor)
    return ControlOrder.objects.create(
        person=person,
        division_id=person.division_id,
        category=category,
        edition=ed,
        counts_from=plan.counts_from,
        anchor_date=plan.anchor,
        start_date=plan.start,
        end_date=plan.end,
        phases=plan.phases_json(),
        status=status,
        source_type=source_type,
        source_id=source_id,
    )


def make_site(county, name: str = "眉县宾馆") -> Site:
    return Site.objects.create(
        name=name,
        kind=Site.Kind.HOTEL,
        division=county.town_a,
        address="眉县首善街1号",
        manager_name="赵经理",
        manager_phone="13900000000",
    )


def site_staff(site: Site, username: str = "site_a") -> User:
    user = User(username=username, role=Role.SITE_STAFF, display_name=username)
    user.set_password("Fangkong-test-2020")
    user.save()
    SiteStaff.objects.create(site=site, user=user, duty=SiteStaff.Duty.MEDICAL)
    return user


def check_in(order: ControlOrder, site: Site, number: str = "101") -> Stay:
    room, _ = Room.objects.get_or_create(site=site, number=number)
    room.status = Room.Status.OCCUPIED
    room.save()
    return Stay.objects.create(
        order=order, person=order.person, site=site, room=room, checked_in_at=NOW
    )


def resolve_all(
    order: ControlOrder, *, result: str = "negative", until: dt.date | None = None
) -> None:
    qs = SamplingTask.objects.filter(order=order)
    if until is not None:
        qs = qs.filter(due_date__lte=until)
    for task in qs:
        task.status = SamplingTask.Status.RESULTED
        task.result = result
        task.result_2 = result if task.required_results == 2 else ""
        task.resulted_at = at(task.due_date, 15)
        task.save()


def contact_pair(people) -> tuple[Contact, Contact]:
    """A case (other), its close contact (head), and a secondary contact (spouse) via head."""
    case = Case.objects.create(
        code="眉病〔2022〕1号",
        person=people.other,
        classification="confirmed",
        report_date=ANCHOR,
        division=people.other.division,
    )

    def contact(person, **extra) -> Contact:
        return Contact.objects.create(
            case=case,
            person=person,
            name=person.name,
            id_number=person.id_number,
            evidence_kind=Contact.Evidence.MANUAL,
            status=Contact.Status.CLOSE,
            **extra,
        )

    close = contact(people.head)
    secondary = contact(people.spouse, degree=2, via=close)
    return close, secondary
