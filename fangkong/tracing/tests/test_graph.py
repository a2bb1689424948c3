"""Transmission chains: the graph (nodes, edges, positions), the list view, scope, and size."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from conftest import _user
from fangkong.accounts.roles import Role
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person
from fangkong.tracing import selectors_graph
from fangkong.tracing.models import Case, Cluster, Contact

DAY = dt.date(2022, 4, 10)


def _person(name: str, seq: int, division) -> Person:
    return Person.objects.create(
        name=name, id_number=make_resident_id("610326", dt.date(1985, 1, 1), seq), division=division
    )


def _contact(case: Case, person: Person, status: str, **extra) -> Contact:
    return Contact.objects.create(
        case=case,
        person=person,
        name=person.name,
        id_type=person.id_type,
        id_number=person.id_number,
        status=status,
        evidence_kind=Contact.Evidence.HOUSEHOLD,
        **extra,
    )


@pytest.fixture
def chain(county, people) -> SimpleNamespace:
    """Cluster W (grid A1a): case A (张建国) -> close contact 李秀英 (who became case B),
    general contact 赵四, candidate 钱五; 李秀英's co-worker 孙六 a secondary contact.
    Case C (王小明, grid B1a) is in no cluster, reported later."""
    cluster = Cluster.objects.create(code="JJ-1", name="婚宴", division=county.grid_a)
    a = Case.objects.create(
        code="眉病〔2022〕1号",
        person=people.head,
        classification="confirmed",
        report_date=DAY,
        cluster=cluster,
        division=county.grid_a,
    )
    b = Case.objects.create(
        code="眉病〔2022〕2号",
        person=people.spouse,
        classification="asymptomatic",
        report_date=DAY + dt.timedelta(days=2),
        cluster=cluster,
        division=county.grid_a,
        infected_by=a,
    )
    c = Case.objects.create(
        code="眉病〔2022〕3号",
        person=people.other,
        classification="confirmed",
        report_date=DAY + dt.timedelta(days=5),
        division=county.grid_b,
    )
    close = _contact(a, people.spouse, Contact.Status.CLOSE)
    general = _contact(a, _person("赵四", 41, county.grid_a), Contact.Status.GENERAL)
    candidate = _contact(a, _person("钱五", 43, county.grid_a), Contact.Status.CANDIDATE)
    secondary = _contact(
        a, _person("孙六", 45, county.grid_a), Contact.Status.CLOSE, degree=2, via=close
    )
    return SimpleNamespace(
        cluster=cluster,
        a=a,
        b=b,
        c=c,
        close=close,
        general=general,
        candidate=candidate,
        secondary=secondary,
    )


def _edges(graph: dict) -> set[tuple[str, str, str]]:
    return {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}


def test_cluster_graph_has_cases_contacts_and_every_kind_of_edge(chain, users):
    g = selectors_graph.chain_graph(viewer=users.epidemiologist, cluster_id=chain.cluster.pk)

    ids = {n["id"] for n in g["nodes"]}
    assert ids == {
        f"case:{chain.a.pk}",
        f"case:{chain.b.pk}",
        *(
            f"contact:{c.pk}"
            for c in (chain.close, chain.general, chain.candidate, chain.secondary)
        ),
    }  # case C is not in the cluster
    a, b = f"case:{chain.a.pk}", f"case:{chain.b.pk}"
    assert _edges(g) == {
        (a, f"contact:{chain.close.pk}", "contact"),
        (a, f"contact:{chain.general.pk}", "contact"),
        (a, f"contact:{chain.candidate.pk}", "contact"),
        (f"contact:{chain.close.pk}", f"contact:{chain.secondary.pk}", "secondary"),
        (a, b, "infected_by"),
        (f"contact:{chain.close.pk}", b, "became_case"),
    }
    assert g["counts"] == {"cases": 2, "contacts": 4}
    assert g["truncated"] is False


def test_nodes_are_labelled_and_laid_out_without_ids(chain, users):
    g = selectors_graph.chain_graph(viewer=users.epidemiologist, cluster_id=chain.cluster.pk)
    by_id = {n["id"]: n for n in g["nodes"]}
    keys = [c["key"] for c in g["categories"]]

    case_a = by_id[f"case:{chain.a.pk}"]
    assert case_a["label"] == "眉病〔2022〕1号"
    assert keys[case_a["category"]] == "case_confirmed"
    assert keys[by_id[f"case:{chain.b.pk}"]["category"]] == "case_asymptomatic"
    assert keys[by_id[f"contact:{chain.close.pk}"]["category"]] == "contact_close"
    assert keys[by_id[f"contact:{chain.general.pk}"]["category"]] == "contact_general"
    assert keys[by_id[f"contact:{chain.secondary.pk}"]["category"]] == "secondary"
    # The epidemiologist sees full names; no ID number appears anywhere in the graph.
    assert by_id[f"contact:{chain.general.pk}"]["label"] == "赵四"
    assert chain.close.id_number not in str(g)

    # Positions: every node placed, no two on the same spot; B (infected by A) a row below A;
    # A's contacts around A, the secondary contact further out than the close contact.
    spots = {(n["x"], n["y"]) for n in g["nodes"]}
    assert len(spots) == len(g["nodes"])
    case_b = by_id[f"case:{chain.b.pk}"]
    assert case_b["y"] > case_a["y"]

    def dist(node):
        return ((node["x"] - case_a["x"]) ** 2 + (node["y"] - case_a["y"]) ** 2) ** 0.5

    close, secondary = by_id[f"contact:{chain.close.pk}"], by_id[f"contact:{chain.secondary.pk}"]
    assert dist(secondary) > dist(close) > 0
    # Deterministic: the same data draws the same picture.
    again = selectors_graph.chain_graph(viewer=users.epidemiologist, cluster_id=chain.cluster.pk)
    assert again["nodes"] == g["nodes"]


def test_date_filter_and_whole_county_graph(chain, users):
    g = selectors_graph.chain_graph(viewer=users.commander, date_from=DAY + dt.timedelta(days=1))
    assert {n["id"] for n in g["nodes"]} == {f"case:{chain.b.pk}", f"case:{chain.c.pk}"}
    assert g["edges"] == []  # A (the source) is filtered out: no edge to a missing node


def test_leader_sees_the_graph_with_surnames_only(chain, users, api_client):
    response = api_client(users.leader).get(f"/api/v1/clusters/{chain.cluster.pk}/graph")
    assert response.status_code == 200
    body = response.json()
    labels = {n["label"] for n in body["nodes"] if n["kind"] == "contact"}
    assert labels == {"李**", "赵*", "钱*", "孙*"}
    assert all("x" in n and "y" in n for n in body["nodes"])
    assert len(body["edges"]) == 6


def test_grid_worker_and_out_of_scope_reader_get_nothing(chain, users, api_client, login, county):
    assert (
        api_client(users.grid_worker).get(f"/api/v1/clusters/{chain.cluster.pk}/graph").status_code
        == 403
    )
    assert api_client(users.grid_worker).get("/api/v1/chains").status_code == 403
    assert login(users.grid_worker).get("/tracing/chains/").status_code == 403
    assert login(users.grid_worker).get("/tracing/chains/data.json").status_code == 403

    # An epidemiologist of town B sees neither cluster W (all its cases are in town A) nor its
    # cases; a missing cluster answers the same.
    town_b_epi = _user("epi_b", Role.EPIDEMIOLOGIST, county.town_b)
    client = api_client(town_b_epi)
    assert client.get(f"/api/v1/clusters/{chain.cluster.pk}/graph").status_code == 404
    assert client.get("/api/v1/clusters/999999/graph").status_code == 404
    rows = client.get("/api/v1/chains").json()["results"]
    assert [r["code"] for r in rows] == ["眉病〔2022〕3号"]
    g = selectors_graph.chain_graph(viewer=town_b_epi)
    assert {n["id"] for n in g["nodes"]} == {f"case:{chain.c.pk}"}
    assert login(town_b_epi).get(f"/tracing/chains/?cluster={chain.cluster.pk}").status_code == 404


def test_chain_list_counts_contacts_by_status(chain, users, api_client):
    response = api_client(users.leader).get(f"/api/v1/chains?cluster_id={chain.cluster.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert first["code"] == "眉病〔2022〕1号"
    assert first["counts"] == {
        "candidate": 1,
        "close": 2,
        "general": 1,
        "not_contact": 0,
        "secondary": 1,
        "total": 4,
    }
    assert [c["label"] for c in first["contacts"]] == ["李**", "赵*", "钱*", "孙*"]
    assert first["contacts"][-1]["via_id"] == chain.close.pk
    assert second["infected_by_code"] == "眉病〔2022〕1号"
    assert second["counts"]["total"] == 0


def test_chains_page_shows_the_list_and_serves_the_graph(chain, users, login):
    client = login(users.leader)
    page = client.get(f"/tracing/chains/?cluster={chain.cluster.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "眉病〔2022〕1号" in html
    assert "眉病〔2022〕2号" in html
    assert "眉病〔2022〕3号" not in html
    assert "赵*" in html
    assert "赵四" not in html
    assert f"data.json?cluster={chain.cluster.pk}" in html
    assert "fangkong/chains.js" in html

    data = client.get(f"/tracing/chains/data.json?cluster={chain.cluster.pk}")
    assert data.status_code == 200
    assert len(data.json()["nodes"]) == 6


def big_cluster(county, *, cases: int = 100, per_case: int = 29) -> Cluster:
    """A cluster of `cases` cases in grid A1a with `per_case` contacts each."""
    persons = Person.objects.bulk_create(
        Person(
            name=f"病例{i}",
            id_number=make_resident_id("610326", dt.date(1960, 1, 1) + dt.timedelta(days=i), 1),
            division=county.grid_a,
        )
        for i in range(cases)
    )
    cluster = Cluster.objects.create(code="JJ-BIG", name="工厂", division=county.grid_a)
    rows = Case.objects.bulk_create(
        Case(
            code=f"眉病〔2022〕{i + 100}号",
            person=p,
            classification="confirmed",
            report_date=DAY,
            cluster=cluster,
            division=county.grid_a,
        )
        for i, p in enumerate(persons)
    )
    Contact.objects.bulk_create(
        Contact(
            case=case,
            name=f"接触者{j}",
            id_number=f"C{case.pk:05d}{j:03d}",
            status=Contact.Status.CLOSE if j % 3 else Contact.Status.GENERAL,
            evidence_kind=Contact.Evidence.CHECKIN,
        )
        for case in rows
        for j in range(per_case)
    )
    return cluster


def test_a_graph_of_3000_nodes_takes_a_bounded_number_of_queries(
    county, users, django_assert_max_num_queries
):
    cluster = big_cluster(county)
    with django_assert_max_num_queries(3):  # the cluster check, the cases, the contacts
        g = selectors_graph.chain_graph(viewer=users.leader, cluster_id=cluster.pk)
    assert len(g["nodes"]) == 3000
    assert len(g["edges"]) == 2900
    assert len({(n["x"], n["y"]) for n in g["nodes"]}) == 3000

    small = selectors_graph.chain_graph(viewer=users.leader, cluster_id=cluster.pk, limit=150)
    assert small["truncated"] is True
    assert len(small["nodes"]) == 150
    assert all(e["target"] in {n["id"] for n in small["nodes"]} for e in small["edges"])
