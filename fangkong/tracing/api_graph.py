"""API: 传播链 (transmission chains).

GET /clusters/{id}/graph: the cluster's chains as a graph, every node already positioned
(x/y, computed once on the server) so a client draws it without a layout of its own. GET
/chains: the list view of the same chains (each case, its contacts and counts by status),
paginated. Contact names are masked by role; ID numbers are never returned.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from . import selectors_graph

router = Router(tags=["传播链"])


class ChainNodeOut(Schema):
    id: str = Field(..., description="节点编号：case:<病例编号> 或 contact:<接触者编号>")
    kind: str = Field(..., description="case 病例，contact 接触者")
    pk: int = Field(..., description="病例或接触者的数据库编号")
    label: str = Field(..., description="病例编号；接触者姓名（按角色脱敏）")
    category: int = Field(..., description="分类（categories 中的下标）")
    status: str | None = Field(None, description="接触者判定：candidate/close/general/not_contact")
    degree: int | None = Field(None, description="接触层级：1 密接，2 密接的密接")
    x: float
    y: float


class ChainEdgeOut(Schema):
    source: str
    target: str
    kind: str = Field(
        ...,
        description="contact 病例→接触者，secondary 密接→密接的密接，infected_by 传染来源病例→病例，"
        "became_case 接触者→其后成为的病例（同一证件）",
    )


class ChainCategoryOut(Schema):
    key: str
    name: str
    color: str


class ChainGraphCountsOut(Schema):
    cases: int
    contacts: int


class ChainGraphOut(Schema):
    cluster_id: int | None
    nodes: list[ChainNodeOut]
    edges: list[ChainEdgeOut]
    categories: list[ChainCategoryOut]
    truncated: bool = Field(..., description="节点超过上限（limit）时为 true，未全部返回")
    limit: int
    counts: ChainGraphCountsOut


class ChainGraphFilters(Schema):
    date_from: dt.date | None = Field(None, description="报告日期自 YYYY-MM-DD")
    date_to: dt.date | None = Field(None, description="报告日期至 YYYY-MM-DD")
    limit: int | None = Field(None, ge=1, le=20000, description="节点上限，默认 5000")


class ChainFilters(Schema):
    cluster_id: int | None = Field(None, description="聚集性疫情编号")
    date_from: dt.date | None = Field(None, description="报告日期自 YYYY-MM-DD")
    date_to: dt.date | None = Field(None, description="报告日期至 YYYY-MM-DD")


class ChainContactOut(Schema):
    id: int
    label: str = Field(..., description="姓名（按角色脱敏）")
    status: str
    status_label: str
    degree: int
    via_id: int | None = Field(None, description="经由的密接编号（密接的密接）")


class ChainCountsOut(Schema):
    candidate: int
    close: int
    general: int
    not_contact: int
    secondary: int
    total: int


class ChainRowOut(Schema):
    case_id: int
    code: str
    classification: str
    classification_label: str
    report_date: dt.date
    cluster_id: int | None
    cluster_name: str
    infected_by_code: str = Field(..., description="传染来源病例编号（已知时）")
    counts: ChainCountsOut
    contacts: list[ChainContactOut]


@router.get(
    "/clusters/{cluster_id}/graph",
    response=ChainGraphOut,
    summary="聚集性疫情传播链图（节点已布局）",
)
def cluster_graph(request: HttpRequest, cluster_id: int, filters: Query[ChainGraphFilters]) -> Any:
    return selectors_graph.chain_graph(
        viewer=request.auth,
        cluster_id=cluster_id,
        date_from=filters.date_from,
        date_to=filters.date_to,
        limit=filters.limit,
    )


@router.get("/chains", response=list[ChainRowOut], summary="传播链列表（病例及其接触者）")
@paginate(present=lambda request, case: selectors_graph.chain_row(viewer=request.auth, case=case))
def list_chains(request: HttpRequest, filters: Query[ChainFilters]) -> Any:
    return selectors_graph.chain_list(
        viewer=request.auth,
        cluster_id=filters.cluster_id,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
