"""API: the division tree (list and create). Detail and coverage need higher apps: fangkong/api."""

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from .models import Division
from .selectors import division_list
from .services import division_create

router = Router(tags=["区划与网格"])

CODE_PATTERN = r"^[0-9]{6,15}$"


class DivisionOut(Schema):
    code: str = Field(..., description="区划代码（6 位县、9 位镇/街道、12 位村/社区、15 位小网格）")
    name: str = Field(..., description="名称")
    level: int = Field(..., description="层级：0 县，1 镇/街道，2 村/社区，3 组/小区（小网格）")
    level_label: str = Field(..., description="层级名称")
    parent_code: str | None = Field(None, description="上级区划代码")
    kind: str = Field(..., description="城乡类型：urban 城镇，rural 乡村，other 其他")
    kind_label: str = Field(..., description="城乡类型名称")
    full_name: str = Field(..., description="全称（自县起）")


def division_data(division: Division) -> dict[str, Any]:
    """A division as DivisionOut describes it."""
    return {
        "code": division.code,
        "name": division.name,
        "level": division.level,
        "level_label": str(division.get_level_display()),
        "parent_code": division.parent_id,
        "kind": division.kind,
        "kind_label": str(division.get_kind_display()),
        "full_name": division.full_name,
    }


def _present(request: HttpRequest, division: Division) -> dict[str, Any]:
    return division_data(division)


class DivisionFilters(Schema):
    parent: str | None = Field(
        None, pattern=CODE_PATTERN, description="只列出此区划的直接下级（区划代码）"
    )
    level: int | None = Field(
        None, ge=0, le=3, description="层级：0 县，1 镇/街道，2 村/社区，3 小网格"
    )
    within: str | None = Field(
        None, pattern=CODE_PATTERN, description="只列出此区划子树内的区划（含其本身）"
    )


class DivisionIn(Schema):
    code: str = Field(..., description="区划代码：以上级代码开头并且更长")
    name: str = Field(..., description="名称")
    parent_code: str | None = Field(None, description="上级区划代码；只有县级区划可以不填")
    kind: Literal["urban", "rural", "other"] | None = Field(
        None, description="城乡类型；不填则按统计用区划代码推定"
    )


@router.get(
    "/divisions",
    response=list[DivisionOut],
    summary="区划列表",
    description="您管辖范围内的区划，按代码排序。",
)
@paginate(present=_present)
def list_divisions(request: HttpRequest, filters: Query[DivisionFilters]) -> Any:
    return division_list(
        viewer=request.auth, parent=filters.parent, level=filters.level, within=filters.within
    )


@router.post(
    "/divisions",
    response={201: DivisionOut},
    summary="新建区划",
    description="县指挥部和系统管理员可以在管辖范围内新建下级区划或小网格。",
)
def create_division(request: HttpRequest, payload: DivisionIn) -> Any:
    division = division_create(
        actor=request.auth,
        code=payload.code,
        name=payload.name,
        parent_code=payload.parent_code,
        kind=payload.kind,
    )
    return Status(201, division_data(division))
