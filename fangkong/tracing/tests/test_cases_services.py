"""Cases, clusters, teams, investigations and timelines: the service rules a user notices."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from docx import Document

from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.core.timeutils import local_today
from fangkong.people.models import Person
from fangkong.places.models import CheckIn, Place
from fangkong.tracing import report, services_cases
from fangkong.tracing.models import Case, CaseEvent, Contact, Investigation, TimelineEntry
from fangkong.travel.tests.factories import activate

TODAY = local_today()


def _case(actor, person, **extra):
    data = {
        "person_id": person.pk,
        "classification": "confirmed",
        "report_date": TODAY.isoformat(),
        **extra,
    }
    return services_cases.case_create(actor=actor, data=data)


def test_case_create_numbers_per_year_opens_investigation_and_history(users, people):
    first = _case(users.epidemiologist, people.head, onset_date=str(TODAY - dt.timedelta(days=2)))
    second = _case(users.epidemiologist, people.other, classification="asymptomatic")
    assert first.code == f"眉病〔{TODAY.year}〕1号"
    assert second.code == f"眉病〔{TODAY.year}〕2号"
    assert first.division_id == people.head.division_id
    assert Investigation.objects.get(case=first).status == "open"
    assert list(CaseEvent.objects.filter(case=first).values_list("verb", flat=True)) == ["created"]
    event = AuditEvent.objects.get(verb="tracing.case.create", target_id=str(first.pk))
    assert people.head.name not in str(event.data)


def test_case_create_by_document_finds_or_creates_the_person(users, people, county):
    found = services_cases.case_create(
        actor=users.epidemiologist,
        data={
            "name": people.other.name,
            "id_number": people.other.id_number,
            "classification": "suspected",
            "report_date": TODAY.isoformat(),
        },
    )
    assert found.person_id == people.other.pk
    number = make_resident_id("610326", dt.date(1985, 5, 5), 41)
    with pytest.raises(ValidationFailed) as exc:
        services_cases.case_create(
            actor=users.epidemiologist,
            data={
                "name": "赵新",
                "id_number": number,
                "classification": "suspected",
                "report_date": TODAY.isoformat(),
            },
        )
    assert "division_code" in exc.value.errors
    assert not Person.objects.filter(id_number=number).exists()
    created = services_cases.case_create(
        actor=users.epidemiologist,
        data={
            "name": "赵新",
            "id_number": number,
            "division_code": county.grid_b.code,
            "classification": "suspected",
            "report_date": TODAY.isoformat(),
        },
    )
    assert created.person.id_number == number
    assert created.division_id == county.grid_b.code


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (
            {"onset_date": str(TODAY), "report_date": str(TODAY - dt.timedelta(days=1))},
            "onset_date",
        ),
        ({"report_date": str(TODAY + dt.timedelta(days=1))}, "report_date"),
        ({"sampling_date": str(TODAY + dt.timedelta(days=1))}, "sampling_date"),
        ({"report_date": ""}, "report_date"),
        ({"classification": ""}, "classification"),
        ({"onset_date": "2022-13-01"}, "onset_date"),
    ],
)
def test_case_create_refuses_bad_dates_naming_the_field(users, people, extra, field):
    with pytest.raises(ValidationFailed) as exc:
        _case(users.epidemiologist, people.head, **extra)
    assert field in exc.value.errors
    assert Case.objects.count() == 0


def test_a_second_open_case_for_the_same_person_is_refused(users, people):
    first = _case(users.epidemiologist, people.head)
    with pytest.raises(Conflict) as exc:
        _case(users.epidemiologist, people.head, classification="suspected")
    assert first.code in str(exc.value.message)
    assert Case.objects.count() == 1
    services_cases.case_update(
        actor=users.epidemiologist, case=first, changes={"outcome": "recovered"}
    )
    assert _case(users.epidemiologist, people.head).code.endswith("2号")


def test_only_writers_register_cases(users, people):
    for user in (users.leader, users.grid_worker, users.town_officer):
        with pytest.raises(Forbidden):
            _case(user, people.head)
    assert _case(users.commander, people.head)


def test_reclassify_keeps_history_and_requires_a_reason(users, people):
    case = _case(users.epidemiologist, people.head, classification="asymptomatic")
    with pytest.raises(ValidationFailed) as exc:
        services_cases.case_reclassify(
            actor=users.epidemiologist, case=case, classification="confirmed", reason=" "
        )
    assert "reason" in exc.value.errors
    with pytest.raises(ValidationFailed):
        services_cases.case_reclassify(
            actor=users.epidemiologist, case=case, classification="asymptomatic", reason="复核"
        )
    services_cases.case_reclassify(
        actor=users.epidemiologist, case=case, classification="confirmed", reason="出现症状"
    )
    case.refresh_from_db()
    assert case.classification == "confirmed"
    event = CaseEvent.objects.get(case=case, verb="reclassified")
    assert (event.from_classification, event.to_classification, event.reason) == (
        "asymptomatic",
        "confirmed",
        "出现症状",
    )


def test_update_checks_onset_against_stored_report_date(users, people):
    case = _case(users.epidemiologist, people.head, report_date=str(TODAY - dt.timedelta(days=3)))
    with pytest.raises(ValidationFailed) as exc:
        services_cases.case_update(
            actor=users.epidemiologist, case=case, changes={"onset_date": str(TODAY)}
        )
    assert "onset_date" in exc.value.errors
    with pytest.raises(ValidationFailed):
        services_cases.case_update(
            actor=users.epidemiologist, case=case, changes={"classification": "suspected"}
        )


def test_clusters_teams_and_investigation(users, people):
    cluster = services_cases.cluster_create(
        actor=users.epidemiologist, data={"name": "某村婚宴", "kind": "wedding"}
    )
    assert cluster.code == f"眉聚〔{TODAY.year}〕1号"
    with pytest.raises(ValidationFailed) as exc:
        services_cases.cluster_create(actor=users.epidemiologist, data={"name": ""})
    assert "name" in exc.value.errors
    case = _case(users.epidemiologist, people.head, cluster_id=cluster.pk)
    assert case.cluster_id == cluster.pk
    services_cases.case_set_cluster(actor=users.epidemiologist, case=case, cluster=None)
    case.refresh_from_db()
    assert case.cluster_id is None

    team = services_cases.team_create(
        actor=users.commander,
        name="第一流调组",
        leader_id=users.epidemiologist.pk,
        member_ids=[users.epidemiologist.pk],
    )
    with pytest.raises(ValidationFailed) as exc:
        services_cases.team_create(actor=users.commander, name="第一流调组")
    assert "name" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services_cases.team_create(
            actor=users.commander, name="二组", member_ids=[users.grid_worker.pk]
        )
    assert "member_ids" in exc.value.errors
    investigation = case.investigation
    services_cases.investigation_assign(
        actor=users.commander,
        investigation=investigation,
        team=team,
        investigator_id=users.epidemiologist.pk,
    )
    investigation.refresh_from_db()
    assert (investigation.team_id, investigation.investigator_id) == (
        team.pk,
        users.epidemiologist.pk,
    )
    with pytest.raises(ValidationFailed):
        services_cases.investigation_conclude(
            actor=users.epidemiologist, investigation=investigation, conclusions=""
        )
    services_cases.investigation_conclude(
        actor=users.epidemiologist, investigation=investigation, conclusions="家庭聚集，传播链清楚"
    )
    investigation.refresh_from_db()
    assert investigation.status == "closed"
    assert investigation.closed_at is not None


def _place(county):
    return Place.objects.create(
        code="MKT23456", name="城关农贸市场", kind="market", division=county.village_a, address="x"
    )


def test_timeline_add_validates_and_links_a_place(users, people, county):
    case = _case(users.epidemiologist, people.head)
    now = timezone.now()
    with pytest.raises(ValidationFailed) as exc:
        services_cases.timeline_add(
            actor=users.epidemiologist,
            investigation=case.investigation,
            data={"starts_at": (now + dt.timedelta(hours=2)).isoformat(), "location": "家"},
        )
    assert "starts_at" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services_cases.timeline_add(
            actor=users.epidemiologist,
            investigation=case.investigation,
            data={
                "starts_at": (now - dt.timedelta(hours=2)).isoformat(),
                "ends_at": (now - dt.timedelta(hours=3)).isoformat(),
            },
        )
    assert {"ends_at", "location"} <= set(exc.value.errors)
    place = _place(county)
    entry = services_cases.timeline_add(
        actor=users.epidemiologist,
        investigation=case.investigation,
        data={"starts_at": (now - dt.timedelta(hours=5)).isoformat(), "place_id": place.pk},
    )
    assert (entry.place_id, entry.location, entry.source) == (place.pk, "城关农贸市场", "reported")
    services_cases.timeline_remove(actor=users.epidemiologist, entry=entry)
    assert not TimelineEntry.objects.exists()


def test_timeline_from_records_adds_own_checkins_once(users, people, county):
    activate("v9")
    case = _case(users.epidemiologist, people.head)
    place = _place(county)
    now = timezone.now()
    inside = CheckIn.objects.create(
        place=place,
        name=people.head.name,
        id_type=people.head.id_type,
        id_number=people.head.id_number,
        checked_in_at=now - dt.timedelta(days=1, hours=1),
        checked_out_at=now - dt.timedelta(days=1),
        source="scan",
    )
    CheckIn.objects.create(  # long before the look-back window
        place=place,
        name=people.head.name,
        id_type=people.head.id_type,
        id_number=people.head.id_number,
        checked_in_at=now - dt.timedelta(days=30),
        checked_out_at=now - dt.timedelta(days=30) + dt.timedelta(hours=1),
        source="scan",
    )
    added = services_cases.timeline_from_records(
        actor=users.epidemiologist, investigation=case.investigation
    )
    assert added == 1
    entry = TimelineEntry.objects.get()
    assert (entry.checkin_id, entry.place_id, entry.source) == (inside.pk, place.pk, "checkin")
    assert (
        services_cases.timeline_from_records(
            actor=users.epidemiologist, investigation=case.investigation
        )
        == 0
    )


def test_report_lists_timeline_contacts_masked_and_is_audited(users, people):
    case = _case(users.epidemiologist, people.head)
    Contact.objects.create(
        case=case,
        name=people.spouse.name,
        id_number=people.spouse.id_number,
        evidence_kind="household",
        status="close",
    )
    services_cases.investigation_conclude(
        actor=users.epidemiologist, investigation=case.investigation, conclusions="结论甲"
    )
    file = report.case_report(actor=users.leader, case=case)
    assert file.filename.endswith(".docx")
    document = Document(io.BytesIO(file.content))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "结论甲" in text
    assert "密切接触者（1）" in text
    assert people.spouse.id_number not in cells
    assert people.spouse.id_number[:6] in cells
    assert AuditEvent.objects.filter(verb="tracing.report.export", target_id=str(case.pk)).exists()
