"""API: one division with its chain of responsibility, and its coverage report.

These live in the top layer because they read accounts (the 四包抓 chain) and reports
(coverage), which geo may not import.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from fangkong.accounts.selectors import ChainLink, escalation_chain
from fangkong.core.masking import mask_phone
from fangkong.geo.api import DivisionOut, division_data
from fangkong.geo.models import Division
from fangkong.geo.selectors import access_division_by_code, division_ancestors
from fangkong.reports.selectors import Coverage, CoverageRow, division_coverage

router = Router(tags=["区划与网格"])


class DivisionRef(Schema):
    code: str
    name: str


class ChainLinkOut(Schema):
    division_code: str = Field(..., description="责任所在区划代码")
    division_name: str = Field(..., description="责任所在区划名称")
    tier: str = Field(..., description="包抓层级（grid_worker 为网格员）")
    tier_label: str = Field(..., description="包抓层级名称")
    name: str = Field(..., description="责任人姓名")
    title: str = Field(..., description="职务")
    phone: str = Field(..., description="手机号（脱敏：前 3 后 4）")


class DivisionDetailOut(DivisionOut):
    ancestors: list[DivisionRef] = Field(..., description="上级区划，自县起，不含本级")
    boundary: dict[str, Any] | None = Field(None, description="边界（GeoJSON）")
    escalation_chain: list[ChainLinkOut] = Field(
        ..., description="逐级上报链：先本级网格员与包抓责任人，再逐级向上直至县指挥部"
    )


class CoverageRowOut(Schema):
    code: str
    name: str
    level: int
    households: int = Field(..., description="户数")
    people: int = Field(..., description="人数")
    small_grids: int = Field(..., description="小网格数")
    grid_workers: int = Field(..., description="网格员人数")
    households_per_worker: float | None = Field(None, description="每名网格员平均户数")
    grids_without_worker: int = Field(..., description="无网格员的小网格数")
    households_outside_grid: int = Field(..., description="未落到小网格的户数")
    overloaded_workers: int = Field(..., description="超负荷网格员人数")
    has_blind_spots: bool = Field(..., description="是否存在盲区")


class WorkerLoadOut(Schema):
    worker_id: int
    name: str = Field(..., description="网格员姓名")
    grids: list[str] = Field(..., description="负责的小网格代码")
    households: int = Field(..., description="负责户数")


class CoverageOut(Schema):
    division: DivisionOut
    max_households: int = Field(..., description="每名网格员的户数上限（超过即超负荷）")
    total: CoverageRowOut = Field(..., description="本区划合计")
    rows: list[CoverageRowOut] = Field(..., description="按直接下级分列")
    grids_without_worker: list[DivisionRef] = Field(..., description="盲区：无网格员的小网格")
    overloaded_workers: list[WorkerLoadOut] = Field(..., description="盲区：超负荷的网格员")


def _chain_link(link: ChainLink) -> dict[str, Any]:
    return {
        "division_code": link.division_code,
        "division_name": link.division_name,
        "tier": link.tier,
        "tier_label": str(link.tier_label),
        "name": link.name,
        "title": str(link.title),
        "phone": mask_phone(link.phone),
    }


def _row(row: CoverageRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "level": row.level,
        "households": row.households,
        "people": row.people,
        "small_grids": row.small_grids,
        "grid_workers": row.grid_workers,
        "households_per_worker": row.households_per_worker,
        "grids_without_worker": row.grids_without_worker,
        "households_outside_grid": row.households_outside_grid,
        "overloaded_workers": row.overloaded_workers,
        "has_blind_spots": row.has_blind_spots,
    }


def _coverage(coverage: Coverage) -> dict[str, Any]:
    return {
        "division": division_data(coverage.division),
        "max_households": coverage.max_households,
        "total": _row(coverage.total),
        "rows": [_row(r) for r in coverage.rows],
        "grids_without_worker": [
            {"code": d.code, "name": d.name} for d in coverage.grids_without_worker
        ],
        "overloaded_workers": [
            {"worker_id": w.worker_id, "name": w.name, "grids": w.grids, "households": w.households}
            for w in coverage.overloaded
        ],
    }


@router.get(
    "/divisions/{code}",
    response=DivisionDetailOut,
    summary="区划详情",
    description="区划及其逐级上报链（四包抓责任人，手机号脱敏）。管辖范围外的区划按不存在处理（404）。",
)
def get_division(request: HttpRequest, code: str) -> Any:
    division: Division = access_division_by_code(viewer=request.auth, code=code)
    ancestors = division_ancestors(division=division)[:-1]
    return {
        **division_data(division),
        "ancestors": [{"code": a.code, "name": a.name} for a in ancestors],
        "boundary": division.boundary,
        "escalation_chain": [_chain_link(link) for link in escalation_chain(division=division)],
    }


@router.get(
    "/divisions/{code}/coverage",
    response=CoverageOut,
    summary="区划覆盖情况",
    description="户数、人数、网格员、每名网格员户数，以及盲区：无网格员的小网格、未落到小网格的住户、超负荷的网格员。",
)
def get_division_coverage(request: HttpRequest, code: str) -> Any:
    division = access_division_by_code(viewer=request.auth, code=code)
    return _coverage(division_coverage(viewer=request.auth, division=division))
