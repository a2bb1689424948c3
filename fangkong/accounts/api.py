"""API: who am I (role, jurisdiction, scope, what I may do)."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from .roles import policy_for

router = Router(tags=["账号"])


class PermissionsOut(Schema):
    can_reveal: bool = Field(..., description="可以查看完整个人信息（须填理由）")
    can_edit_people: bool = Field(..., description="可以登记和修改人员、住户")
    can_edit_divisions: bool = Field(..., description="可以新建和修改区划")
    can_view_audit: bool = Field(..., description="可以查看审计日志")


class MeOut(Schema):
    username: str
    display_name: str
    role: str = Field(..., description="角色代码")
    role_label: str = Field(..., description="角色名称")
    jurisdiction_code: str | None = Field(None, description="管辖区划代码")
    jurisdiction_name: str | None = Field(None, description="管辖区划名称")
    scope_codes: list[str] | None = Field(
        None, description="可见数据范围（区划代码子树）；null 表示全县"
    )
    permissions: PermissionsOut


@router.get("/me", response=MeOut, summary="当前账号")
def me(request: HttpRequest) -> Any:
    user = request.auth
    policy = policy_for(user)
    jurisdiction = user.jurisdiction
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_label": str(user.get_role_display()) if user.role else "",
        "jurisdiction_code": jurisdiction.code if jurisdiction else None,
        "jurisdiction_name": jurisdiction.name if jurisdiction else None,
        "scope_codes": user.scope_codes(),
        "permissions": {
            "can_reveal": policy.can_reveal,
            "can_edit_people": policy.can_edit_people,
            "can_edit_divisions": policy.can_edit_divisions,
            "can_view_audit": policy.can_view_audit,
        },
    }
