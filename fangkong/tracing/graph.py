"""Transmission chains as a graph: nodes, edges and their positions, computed once on the server.

Input is plain rows (selectors_graph reads them in a constant number of queries); output is
what the browser draws with ECharts' `layout: "none"`: every node already has its x/y.

Nodes: cases (label: the case code) and contacts (label: the name as the viewer's role may see
it, never an ID number), in categories by classification / status / degree (CATEGORIES).
Edges: case -> contact (degree 1), close contact -> secondary contact (`via`), infecting case ->
case (`infected_by`), and a contact -> the case it became (same document).

Layout (O(n) apart from nothing): cases in rows by generation (a case whose source is not in
the graph is generation 0; a case infected by, or found as a contact of, a case of generation g
is g + 1), at most ROW_MAX cases a row; each case's contacts sit in rings around it (degree 1
inside, secondary contacts outside, next to the ring slot order of their close contact), ring
k holding as many nodes as fit at SPACING apart. A case's cell is as wide as its outer ring, so
a case with 500 contacts takes more room than one with 3. Deterministic: the same rows give the
same picture.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

# (key, label, colour): the legend; a node's "category" is its index here.
CATEGORIES: tuple[tuple[str, Any, str], ...] = (
    ("case_confirmed", _("确诊病例"), "#9b1c1c"),
    ("case_asymptomatic", _("无症状感染者"), "#d97706"),
    ("case_suspected", _("疑似病例"), "#7c3aed"),
    ("contact_close", _("密切接触者"), "#dc2626"),
    ("contact_general", _("一般接触者"), "#2563eb"),
    ("contact_candidate", _("待判定"), "#6b7280"),
    ("contact_not_contact", _("非接触者"), "#d1d5db"),
    ("secondary", _("密接的密接"), "#f59e0b"),
)
CATEGORY_INDEX = {key: i for i, (key, _label, _colour) in enumerate(CATEGORIES)}

SPACING = 16.0  # distance between neighbouring contacts on a ring
FIRST_RING = 40.0  # radius of the innermost ring
GAP = 40.0  # space between two case cells
ROW_MAX = 12  # cases a row at most


@dataclass(frozen=True)
class CaseRow:
    id: int
    code: str
    classification: str
    infected_by_id: int | None
    document: tuple[str, str] | None  # the case person's (id_type, id_number)


@dataclass(frozen=True)
class ContactRow:
    id: int
    case_id: int
    label: str  # already masked for the viewer
    status: str
    degree: int
    via_id: int | None
    document: tuple[str, str]


@dataclass
class Graph:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)


def case_node_id(pk: int) -> str:
    return f"case:{pk}"


def contact_node_id(pk: int) -> str:
    return f"contact:{pk}"


def _contact_category(row: ContactRow) -> int:
    if row.degree >= 2:
        return CATEGORY_INDEX["secondary"]
    return CATEGORY_INDEX.get(f"contact_{row.status}", CATEGORY_INDEX["contact_candidate"])


def _generations(cases: list[CaseRow], sources: dict[int, int]) -> dict[int, int]:
    """Generation of each case: 0 without a source in the graph, else the source's + 1.
    `sources` maps a case to the case it came from; cycles (bad data) are cut."""
    gen: dict[int, int] = {}
    for case in cases:
        path: list[int] = []
        seen: set[int] = set()
        pk: int | None = case.id
        while pk is not None and pk not in gen and pk not in seen:
            seen.add(pk)
            path.append(pk)
            pk = sources.get(pk)
        base = gen[pk] + 1 if pk is not None and pk in gen else 0
        for i, node in enumerate(reversed(path)):
            gen[node] = base + i
    return gen


def _ring_positions(count: int, start_radius: float) -> tuple[list[tuple[float, float]], float]:
    """`count` offsets on rings from `start_radius` outwards, and the outer radius used."""
    out: list[tuple[float, float]] = []
    radius = start_radius
    while len(out) < count:
        capacity = max(6, int(2 * math.pi * radius / SPACING))
        n = min(capacity, count - len(out))
        step = 2 * math.pi / n
        out.extend(
            (radius * math.cos(i * step - math.pi / 2), radius * math.sin(i * step - math.pi / 2))
            for i in range(n)
        )
        radius += SPACING
    return out, (radius - SPACING if count else start_radius - SPACING)


def build(*, cases: list[CaseRow], contacts: list[ContactRow]) -> Graph:
    """The graph of `cases` (ordered as they should appear) and their `contacts`, laid out."""
    case_ids = {c.id for c in cases}
    by_document = {c.document: c.id for c in cases if c.document}
    contact_case = {r.id: r.case_id for r in contacts}
    graph = Graph()

    # Where each case came from: infected_by first, else the case it was a contact of.
    sources: dict[int, int] = {}
    became: list[tuple[int, int]] = []
    for row in contacts:
        target = by_document.get(row.document)
        if target is not None and target != row.case_id:
            became.append((row.id, target))
            sources.setdefault(target, row.case_id)
    for case in cases:
        if case.infected_by_id in case_ids and case.infected_by_id != case.id:
            sources[case.id] = case.infected_by_id  # type: ignore[assignment]
    generation = _generations(cases, sources)

    # Contacts grouped per case: degree 1 first, then secondaries in their close contact's order.
    firsts: dict[int, list[ContactRow]] = defaultdict(list)
    seconds_by_via: dict[int, list[ContactRow]] = defaultdict(list)
    orphans: dict[int, list[ContactRow]] = defaultdict(list)
    for row in contacts:
        if row.degree <= 1:
            firsts[row.case_id].append(row)
    first_ids = {r.id for rows_ in firsts.values() for r in rows_}
    for row in contacts:
        if row.degree <= 1:
            continue
        if row.via_id in first_ids:
            seconds_by_via[row.via_id].append(row)  # type: ignore[index]
        else:
            orphans[row.case_id].append(row)

    rows: dict[int, list[CaseRow]] = defaultdict(list)
    for case in cases:
        rows[generation[case.id]].append(case)

    y = 0.0
    for g in sorted(rows):
        members = rows[g]
        for start in range(0, len(members), ROW_MAX):
            chunk = members[start : start + ROW_MAX]
            placed: list[tuple[CaseRow, list[ContactRow], list[tuple[float, float]], float]] = []
            row_radius = 0.0
            for case in chunk:
                inner = firsts.get(case.id, [])
                outer = [s for r in inner for s in seconds_by_via.get(r.id, [])]
                outer += orphans.get(case.id, [])
                first_pos, radius = _ring_positions(len(inner), FIRST_RING)
                second_pos, radius = _ring_positions(len(outer), radius + 2 * SPACING)
                placed.append((case, inner + outer, first_pos + second_pos, radius))
                row_radius = max(row_radius, radius)
            y += row_radius
            x = 0.0
            for i, (case, ring, offsets, radius) in enumerate(placed):
                x += radius if i else 0.0
                _emit(graph, case, ring, offsets, x, y, contact_case)
                x += radius + GAP
            y += row_radius + GAP * 2

    for case in cases:
        if case.infected_by_id in case_ids and case.infected_by_id != case.id:
            graph.edges.append(
                {
                    "source": case_node_id(case.infected_by_id),  # type: ignore[arg-type]
                    "target": case_node_id(case.id),
                    "kind": "infected_by",
                }
            )
    for contact_id, case_id in became:
        graph.edges.append(
            {
                "source": contact_node_id(contact_id),
                "target": case_node_id(case_id),
                "kind": "became_case",
            }
        )
    return graph


def _emit(
    graph: Graph,
    case: CaseRow,
    ring: list[ContactRow],
    offsets: list[tuple[float, float]],
    x: float,
    y: float,
    present: dict[int, int],
) -> None:
    graph.nodes.append(
        {
            "id": case_node_id(case.id),
            "kind": "case",
            "pk": case.id,
            "label": case.code,
            "category": CATEGORY_INDEX.get(
                f"case_{case.classification}", CATEGORY_INDEX["case_suspected"]
            ),
            "x": round(x, 1),
            "y": round(y, 1),
        }
    )
    for row, (dx, dy) in zip(ring, offsets, strict=True):
        graph.nodes.append(
            {
                "id": contact_node_id(row.id),
                "kind": "contact",
                "pk": row.id,
                "label": row.label,
                "category": _contact_category(row),
                "status": row.status,
                "degree": row.degree,
                "x": round(x + dx, 1),
                "y": round(y + dy, 1),
            }
        )
        if row.degree >= 2 and row.via_id in present:
            source = contact_node_id(row.via_id)  # type: ignore[arg-type]
            kind = "secondary"
        else:
            source = case_node_id(case.id)
            kind = "contact"
        graph.edges.append({"source": source, "target": contact_node_id(row.id), "kind": kind})
