"""people models: the database keeps one record per document, and types match numbers."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from fangkong.people.models import Person

pytestmark = pytest.mark.django_db


def test_one_live_record_per_document(people, county):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Person.objects.create(name="重复", id_number=people.head.id_number, division=county.grid_b)


def test_a_merged_record_may_keep_the_number_of_its_survivor(people, county):
    Person.objects.filter(pk=people.head.pk).update(merged_into=people.spouse)
    Person.objects.create(name="张建国", id_number=people.head.id_number, division=county.grid_a)
    assert Person.objects.filter(id_number=people.head.id_number).count() == 2


def test_many_people_without_a_document(county):
    Person.objects.create(name="甲", id_type="none", division=county.grid_a)
    Person.objects.create(name="乙", id_type="none", division=county.grid_a)
    assert Person.objects.filter(id_number__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("id_type", "id_number"),
    [("none", "E12345678"), ("passport", None), ("passport", ""), ("resident_id", None)],
)
def test_document_type_and_number_must_match(county, id_type, id_number):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Person.objects.create(
            name="甲", id_type=id_type, id_number=id_number, division=county.grid_a
        )


def test_str_shows_the_id_never_the_name(people):
    assert str(people.head) == f"Person#{people.head.pk}"
    assert str(people.household) == f"Household#{people.household.pk}"
    assert people.head.is_merged is False
