"""Fixtures for the API tests: the shared county, users and people, plus a client per viewer."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.test import Client

from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person

VIEWERS = ("anonymous", "other_grid_worker", "grid_worker", "town_officer", "commander", "leader")


@pytest.fixture
def world(county, users, people) -> SimpleNamespace:
    """The conftest world plus `loner`: a person in grid A1a who belongs to no household."""
    loner = Person.objects.create(
        name="赵小军",
        id_number=make_resident_id("610326", dt.date(2001, 6, 1), 51),
        sex="M",
        birth_date=dt.date(2001, 6, 1),
        phone="13512345678",
        division=county.grid_a,
        address="眉县齐镇齐镇村一组20号",
    )
    return SimpleNamespace(county=county, users=users, people=people, loner=loner)


@pytest.fixture
def client_for(api_client, users):
    """client_for("leader") -> a Client with that user's bearer token ("anonymous": none)."""

    def _client(viewer: str) -> Client:
        if viewer == "anonymous":
            return Client()
        return api_client(getattr(users, viewer))

    return _client
