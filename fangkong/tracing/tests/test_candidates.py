"""The candidate engine against a brute-force oracle (plain Python over every check-in) on
seeded random data: stays across midnight, open check-outs (imputed), stays longer than the
kind's cap (scanned out late), the buffer's edges and the look-back's edge. Also the window's
anchors, the household, the same vehicle and the same flight/train/coach seating rules."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person
from fangkong.places.models import CheckIn, Place
from fangkong.places.services_checkins import checkin_record_bulk
from fangkong.tracing.candidates import (
    SEAT_UNKNOWN,
    companions_batch,
    find_candidates,
    lookback_window,
    seat_rule_applies,
)
from fangkong.tracing.models import Case, Classification
from fangkong.travel.models import (
    Checkpoint,
    CheckpointPassage,
    PassageOccupant,
    TravelRegistration,
)

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2022, 4, 10, 12, 0, tzinfo=TZ)
BUFFER = dt.timedelta(minutes=30)


def _doc(i: int) -> str:
    return make_resident_id("610326", dt.date(1960, 1, 1) + dt.timedelta(days=i * 37), i % 90 + 1)


def _case(person: Person, **extra) -> Case:
    values = {
        "code": f"C{person.pk}",
        "person": person,
        "classification": Classification.CONFIRMED,
        "onset_date": dt.date(2022, 4, 7),
        "report_date": dt.date(2022, 4, 8),
        **extra,
    }
    return Case.objects.create(**values)


def _person(county, i: int, **extra) -> Person:
    return Person.objects.create(
        name="病例甲" if i == 0 else "人员乙", id_number=_doc(i), division=county.grid_a, **extra
    )


def _iso(when: dt.datetime) -> str:
    return when.isoformat()


def _oracle(doc: str, start: dt.datetime, end: dt.datetime) -> set[tuple[int, int]]:
    """(case check-in id, companion check-in id) by brute force over every row."""
    rows = list(CheckIn.objects.all())
    own = [
        r for r in rows if r.id_number == doc and r.checked_in_at < end and r.checked_out_at > start
    ]
    found = set()
    for mine in own:
        for other in rows:
            if other.id_number == doc or other.place_id != mine.place_id:
                continue
            if (
                other.checked_in_at < mine.checked_out_at + BUFFER
                and other.checked_out_at > mine.checked_in_at - BUFFER
            ):
                found.add((mine.pk, other.pk))
    return found


def _random_rows(rng: random.Random, places: list[Place], docs: list[str]) -> list[dict]:
    """Check-ins over 2022-04-01 .. 04-10: short visits, long stays across midnight, open
    check-outs (imputed by the kind), stays far longer than the kind's cap."""
    rows = []
    base = dt.datetime(2022, 4, 1, 0, 0, tzinfo=TZ)
    for n in range(700):
        place = rng.choice(places)
        doc = docs[0] if n % 7 == 0 else rng.choice(docs[1:])
        cin = base + dt.timedelta(minutes=rng.randrange(0, 9 * 1440, 5))
        shape = rng.random()
        if shape < 0.3:
            out = None  # imputed
        elif shape < 0.4:
            out = cin + dt.timedelta(minutes=rng.randrange(600, 2000))  # across midnight, > cap
        else:
            out = cin + dt.timedelta(minutes=rng.randrange(0, 180))
        rows.append(
            {
                "place_code": place.code,
                "name": "人员乙",
                "id_number": doc,
                "checked_in_at": _iso(cin),
                "checked_out_at": _iso(out) if out else None,
                "idempotency_key": f"r{n}",
            }
        )
    return rows


def _places(county) -> list[Place]:
    return [
        Place.objects.create(
            code=f"PL{k:06d}", name=f"场所{k}", kind=kind, division=county.village_a, address="某路"
        )
        for k, kind in enumerate(("pharmacy", "market", "restaurant", "enterprise"))
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_companions_equal_the_brute_force_oracle(county, users, seed):
    rng = random.Random(seed)
    places = _places(county)
    docs = [_doc(i) for i in range(25)]
    outcome = checkin_record_bulk(
        actor=users.commander, rows=_random_rows(rng, places, docs), now=NOW
    )
    assert not outcome.errors
    # a bound below a recorded stay would hide companions: every stay fits its place's bound
    for place in Place.objects.all():
        longest = max(
            (
                (c.checked_out_at - c.checked_in_at).total_seconds() / 60
                for c in CheckIn.objects.filter(place=place)
            ),
            default=0,
        )
        assert place.longest_stay_minutes >= longest
    case = _case(_person(county, 0))
    window = lookback_window(case=case, now=NOW)
    hits = companions_batch(
        keys=[("k", "resident_id", docs[0], window.start, window.end)], buffer_minutes=30
    )["k"]
    expected = _oracle(docs[0], window.start, window.end)
    assert expected  # the data is dense enough to mean something
    assert {(h.case_checkin_id, h.checkin_id) for h in hits} == expected
    by_doc = {c.id_number: c for c in find_candidates(case=case, buffer_minutes=30, now=NOW)}
    other_ids = {pk for _mine, pk in expected}
    expected_docs = set(
        CheckIn.objects.filter(pk__in=other_ids).values_list("id_number", flat=True)
    )
    assert set(by_doc) == expected_docs
    for candidate in by_doc.values():
        items = candidate.evidence["items"]
        assert {i["kind"] for i in items} == {"checkin"}
        assert candidate.last_exposure_at == max(
            dt.datetime.fromisoformat(i["overlap_to"]) for i in items
        )


def test_buffer_and_lookback_edges_are_exact(county, users):
    place = _places(county)[1]
    case = _case(_person(county, 0))  # onset 04-07: window from 04-05 00:00 (2 days)
    window = lookback_window(case=case, now=NOW)
    start = window.start
    mine_in = start + dt.timedelta(hours=10)
    mine_out = mine_in + dt.timedelta(hours=1)
    second = dt.timedelta(seconds=1)
    rows = [
        # the case: one visit inside the window, one ending exactly at its start (outside)
        (0, mine_in, mine_out),
        (0, start - dt.timedelta(hours=1), start),
        # others: at the buffer's edges (in at out + 30 min: no; a second before: yes)
        (1, mine_out + BUFFER, mine_out + BUFFER + dt.timedelta(minutes=5)),
        (2, mine_out + BUFFER - second, mine_out + BUFFER + dt.timedelta(minutes=5)),
        (3, mine_in - dt.timedelta(hours=2), mine_in - BUFFER),
        (4, mine_in - dt.timedelta(hours=2), mine_in - BUFFER + second),
        # overlapping the visit that ended at the window's start only
        (5, start - dt.timedelta(minutes=50), start - dt.timedelta(minutes=40)),
        # a stay of 30 hours (far over the market's cap) overlapping the visit
        (6, mine_in - dt.timedelta(hours=29), mine_in + dt.timedelta(minutes=1)),
    ]
    outcome = checkin_record_bulk(
        actor=users.commander,
        rows=[
            {
                "place_code": place.code,
                "name": "人员乙",
                "id_number": _doc(i),
                "checked_in_at": _iso(cin),
                "checked_out_at": _iso(out),
                "idempotency_key": f"e{n}",
            }
            for n, (i, cin, out) in enumerate(rows)
        ],
        now=NOW,
    )
    assert not outcome.errors
    found = {c.id_number for c in find_candidates(case=case, buffer_minutes=30, now=NOW)}
    assert found == {_doc(2), _doc(4), _doc(6)}
    assert found == {
        CheckIn.objects.get(pk=pk).id_number for _m, pk in _oracle(_doc(0), start, window.end)
    }


def test_window_anchors(county):
    person = _person(county, 0)
    onset = _case(person)
    window = lookback_window(case=onset, now=NOW)
    assert window.anchor == "onset"
    assert window.start == dt.datetime(2022, 4, 7, tzinfo=TZ) - dt.timedelta(
        days=window.lookback_days
    )
    assert window.end == NOW
    other = _person(county, 1)
    asymptomatic = _case(
        other,
        classification=Classification.ASYMPTOMATIC,
        onset_date=None,
        sampling_date=dt.date(2022, 4, 6),
        isolated_on=dt.date(2022, 4, 8),
    )
    window = lookback_window(case=asymptomatic, now=NOW)
    assert window.anchor == "sampling"
    assert window.start.date() == dt.date(2022, 4, 6) - dt.timedelta(days=window.lookback_days)
    assert window.end == dt.datetime(2022, 4, 9, tzinfo=TZ)  # the end of the isolation day
    asymptomatic.last_negative_on = dt.date(2022, 4, 5)
    window = lookback_window(case=asymptomatic, now=NOW)
    assert (window.anchor, window.start) == ("last_negative", dt.datetime(2022, 4, 5, tzinfo=TZ))


def test_household_vehicle_and_transport_are_merged_per_document(county, people):
    case = _case(people.head, code="C1")
    when = dt.datetime(2022, 4, 6, 9, 0, tzinfo=TZ)
    checkpoint = Checkpoint.objects.create(name="卡口一", kind="road", division=county.village_a)
    passage = CheckpointPassage.objects.create(
        checkpoint=checkpoint, plate="陕C12345", passed_at=when, idempotency_key="p1"
    )
    later_same_plate = CheckpointPassage.objects.create(
        checkpoint=checkpoint,
        plate="陕C12345",
        passed_at=when + dt.timedelta(minutes=90),
        idempotency_key="p2",
    )
    far_same_plate = CheckpointPassage.objects.create(
        checkpoint=checkpoint,
        plate="陕C12345",
        passed_at=when + dt.timedelta(hours=3),
        idempotency_key="p3",
    )
    for seq, (p, who, number) in enumerate(
        [
            (passage, people.head, people.head.id_number),
            (passage, people.spouse, people.spouse.id_number),
            (later_same_plate, None, _doc(7)),
            (far_same_plate, None, _doc(8)),
        ]
    ):
        PassageOccupant.objects.create(
            passage=p,
            seq=seq + 1,
            person=who,
            name="乘员",
            id_number=number,
            temperature="36.5",
        )
    base = {
        "channel": "grid_entry",
        "origin_code": "610100",
        "origin_name": "西安市",
        "left_on": dt.date(2022, 4, 6),
        "arrived_on": dt.date(2022, 4, 6),
        "destination_division": county.grid_a,
    }
    seats = {people.head: "20C", people.other: "23A"}  # 3 rows behind: a candidate
    far = _person(county, 9)
    unknown = _person(county, 10)
    seats |= {far: "30A", unknown: ""}
    for who, seat in seats.items():
        TravelRegistration.objects.create(
            person=who,
            reported_name=who.name,
            transport="flight",
            vehicle_no="MU2101",
            seat=seat,
            **base,
        )
    found = {c.id_number: c for c in find_candidates(case=case, now=NOW)}
    assert people.head.id_number not in found
    spouse = found[people.spouse.id_number]
    assert spouse.evidence_kind == "household"
    assert [i["kind"] for i in spouse.evidence["items"]] == ["household", "vehicle"]
    assert found[_doc(7)].evidence["items"][0]["plate"] == "陕C12345"
    assert _doc(8) not in found  # the same plate 3 hours later is another trip
    flight = found[people.other.id_number].evidence["items"][0]
    assert (flight["kind"], flight["seat_rule"]) == ("transport", "flight_rows_3")
    assert far.id_number not in found
    assert found[unknown.id_number].evidence["items"][0]["seat_rule"] == SEAT_UNKNOWN


@pytest.mark.parametrize(
    ("transport", "case_seat", "other_seat", "rule"),
    [
        ("flight", "20C", "17A", "flight_rows_3"),
        ("flight", "20C", "24A", None),
        ("train", "05车12A", "5-03F", "train_carriage"),
        ("train", "05车12A", "06车12A", None),
        ("train", "05车12A", "无座", SEAT_UNKNOWN),
        ("bus", "", "", "coach_all"),
    ],
)
def test_seating_rules(transport, case_seat, other_seat, rule):
    assert (
        seat_rule_applies(transport=transport, case_seat=case_seat, other_seat=other_seat) == rule
    )
