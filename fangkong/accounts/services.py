from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.scope import code_in_scope, viewer_codes
from fangkong.core.validators import FormatError, normalize_mobile
from fangkong.geo.models import Division

from .models import ApiToken, GridWorker, Responsibility, User
from .roles import Role, policy_for
from .selectors import forget_token

TOKEN_PREFIX = "fk_"


def _require_admin(actor: Any) -> None:
    """System administrators (and the command line, actor=None) manage accounts."""
    if actor is None:
        return
    if not (getattr(actor, "is_superuser", False) or policy_for(actor).can_edit_divisions):
        raise Forbidden()


def _division(
    code: str | None, *, actor: Any, field: str, errors: dict[str, list[str]], required: bool = True
) -> Division | None:
    code = (code or "").strip()
    if not code:
        if required:
            errors.setdefault(field, []).append(_("请选择区划"))
        elif actor is not None and viewer_codes(actor) is not None:
            # No jurisdiction means county-wide: only a county-wide actor may grant that.
            errors.setdefault(field, []).append(_("只有全县范围的管理员可以设置不限区划的账号"))
        return None
    division = Division.objects.filter(code=code).first()
    if division is None or (actor is not None and not code_in_scope(viewer=actor, code=code)):
        errors.setdefault(field, []).append(_("区划代码不存在或不在您的管辖范围内"))
        return None
    return division


def _phone(value: str | None, *, field: str, errors: dict[str, list[str]]) -> str:
    if not value:
        return ""
    try:
        return normalize_mobile(value)
    except FormatError as exc:
        errors.setdefault(field, []).append(str(exc.message))
        return ""


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str | None,
    role: str,
    jurisdiction_code: str | None,
    display_name: str = "",
    phone: str = "",
    is_staff: bool = False,
    check_password: bool = True,
) -> User:
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not username:
        errors["username"] = [_("用户名不能为空")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("用户名已存在")]
    if role not in Role.values:
        errors["role"] = [_("角色无效")]
    division = _division(
        jurisdiction_code,
        actor=actor,
        field="jurisdiction_code",
        errors=errors,
        required=role != Role.ADMIN,
    )
    phone = _phone(phone, field="phone", errors=errors)
    if password and check_password:
        try:
            validate_password(password)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=username,
        role=role,
        jurisdiction=division,
        display_name=display_name.strip(),
        phone=phone,
        is_staff=is_staff or role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        actor=actor,
        verb="accounts.user.create",
        target=user,
        data={"role": role, "jurisdiction": division.code if division else None},
    )
    return user


@transaction.atomic
def token_create(*, actor: Any, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create an API token for `user`. Returns the row and the token, which is never stored."""
    if actor is not None and actor != user:
        _require_admin(actor)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=raw[:10], digest=ApiToken.digest_for(raw)
    )
    audit_record(actor=actor, verb="accounts.token.create", target=token, data={"user_id": user.pk})
    return token, raw


@transaction.atomic
def token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    if actor is not None and actor != token.user:
        _require_admin(actor)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    forget_token(digest=token.digest)
    audit_record(
        actor=actor, verb="accounts.token.revoke", target=token, data={"user_id": token.user_id}
    )
    return token


@transaction.atomic
def grid_worker_create(
    *, actor: Any, name: str, phone: str = "", grid_codes: list[str], user: User | None = None
) -> GridWorker:
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("姓名不能为空")]
    phone = _phone(phone, field="phone", errors=errors)
    grids = list(Division.objects.filter(code__in=grid_codes))
    found = {g.code for g in grids}
    bad = [
        c
        for c in grid_codes
        if c not in found or (actor is not None and not code_in_scope(viewer=actor, code=c))
    ]
    if bad or not grid_codes:
        errors["grid_codes"] = (
            [_("网格不存在：%(codes)s") % {"codes": ", ".join(bad)}]
            if bad
            else [_("请至少指定一个小网格")]
        )
    not_small = [g.code for g in grids if g.level != Division.Level.GRID]
    if not_small:
        errors.setdefault("grid_codes", []).append(
            _("只能指派到小网格（第3级）：%(codes)s") % {"codes": ", ".join(not_small)}
        )
    if user is not None and GridWorker.objects.filter(user=user).exists():
        errors["user"] = [_("该账号已是网格员")]
    if errors:
        raise ValidationFailed(errors)
    worker = GridWorker.objects.create(name=name, phone=phone, user=user)
    worker.grids.set(grids)
    audit_record(
        actor=actor,
        verb="accounts.grid_worker.create",
        target=worker,
        data={"grids": sorted(found)},
    )
    return worker


@transaction.atomic
def grid_worker_assign(*, actor: Any, worker: GridWorker, grid_codes: list[str]) -> GridWorker:
    _require_admin(actor)
    grids = list(Division.objects.filter(code__in=grid_codes, level=Division.Level.GRID))
    if len(grids) != len(set(grid_codes)):
        raise ValidationFailed({"grid_codes": [_("网格不存在或不是小网格")]})
    worker.grids.set(grids)
    audit_record(
        actor=actor,
        verb="accounts.grid_worker.assign",
        target=worker,
        data={"grids": sorted(grid_codes)},
    )
    return worker


@transaction.atomic
def responsibility_assign(
    *,
    actor: Any,
    division_code: str,
    tier: str,
    name: str,
    title: str = "",
    phone: str = "",
    user: User | None = None,
) -> Responsibility:
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    division = _division(division_code, actor=actor, field="division_code", errors=errors)
    if tier not in Responsibility.Tier.values:
        errors["tier"] = [_("包抓层级无效")]
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("姓名不能为空")]
    phone = _phone(phone, field="phone", errors=errors)
    if errors:
        raise ValidationFailed(errors)
    if Responsibility.objects.filter(division=division, tier=tier, name=name).exists():
        raise Conflict(_("该责任人已登记。"))
    holder = Responsibility.objects.create(
        division=division, tier=tier, name=name, title=title.strip(), phone=phone, user=user
    )
    audit_record(
        actor=actor,
        verb="accounts.responsibility.assign",
        target=holder,
        data={"division": division_code, "tier": tier},
    )
    return holder


USER_UPDATE_FIELDS = ("role", "jurisdiction_code", "display_name", "phone", "is_active", "is_staff")


@transaction.atomic
def user_update(*, actor: Any, user: User, changes: dict[str, Any]) -> User:
    """Change an account's role, jurisdiction, name, phone or status (back office)."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(changes) - set(USER_UPDATE_FIELDS))
    if unknown:
        errors["__all__"] = [_("不能修改的字段：%(fields)s") % {"fields": ", ".join(unknown)}]
    role = changes.get("role", user.role)
    if "role" in changes and role not in Role.values:
        errors["role"] = [_("角色无效")]
    division = user.jurisdiction
    if "jurisdiction_code" in changes:
        division = _division(
            changes["jurisdiction_code"],
            actor=actor,
            field="jurisdiction_code",
            errors=errors,
            required=role != Role.ADMIN,
        )
    elif "role" in changes and role != Role.ADMIN and user.jurisdiction_id is None:
        errors["jurisdiction_code"] = [_("请选择区划")]
    phone = (
        _phone(changes.get("phone"), field="phone", errors=errors) if "phone" in changes else None
    )
    if errors:
        raise ValidationFailed(errors)
    changed: list[str] = []
    if "role" in changes and role != user.role:
        user.role = role
        changed.append("role")
    if (
        "jurisdiction_code" in changes
        and (division.code if division else None) != user.jurisdiction_id
    ):
        user.jurisdiction = division
        changed.append("jurisdiction")
    if "display_name" in changes and (changes["display_name"] or "").strip() != user.display_name:
        user.display_name = (changes["display_name"] or "").strip()
        changed.append("display_name")
    if phone is not None and phone != user.phone:
        user.phone = phone
        changed.append("phone")
    for flag in ("is_active", "is_staff"):
        if flag in changes and bool(changes[flag]) != getattr(user, flag):
            setattr(user, flag, bool(changes[flag]))
            changed.append(flag)
    if changed:
        user.full_clean(exclude=["password"])
        user.save(update_fields=changed)
        user.__dict__.pop("_scope_codes_cache", None)
        audit_record(
            actor=actor,
            verb="accounts.user.update",
            target=user,
            data={
                "fields": changed,
                "role": user.role,
                "jurisdiction": user.jurisdiction_id,
            },
        )
    return user


@transaction.atomic
def user_set_password(*, actor: Any, user: User, password: str | None) -> User:
    """Set (or, with None, disable) an account's password. The password is never audited."""
    _require_admin(actor)
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationFailed({"password": list(exc.messages)}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        verb="accounts.user.set_password",
        target=user,
        data={"usable": bool(password)},
    )
    return user
