from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.exceptions import NotFound
from fangkong.core.scope import scope_by_division
from fangkong.geo.models import Division

from .models import ApiToken, GridWorker, Responsibility, User


@dataclass(frozen=True)
class ChainLink:
    """One step of the escalation chain: who to tell, at which division, in which capacity."""

    division_code: str
    division_name: str
    tier: str
    tier_label: str
    name: str
    title: str
    phone: str
    user_id: int | None


def escalation_chain(*, division: Division) -> list[ChainLink]:
    """Who answers for `division`, nearest first: its grid workers, then the 四包抓 holders of
    the division and each ancestor up to the county HQ. Three queries whatever the depth."""
    codes = division.ancestor_codes()
    names = dict(Division.objects.filter(code__in=codes).values_list("code", "name"))
    chain: list[ChainLink] = []
    if division.level == Division.Level.GRID:
        for worker in GridWorker.objects.filter(grids=division, active=True).order_by("pk"):
            chain.append(
                ChainLink(
                    division.code,
                    division.name,
                    "grid_worker",
                    _("网格员"),
                    worker.name,
                    _("网格员"),
                    worker.phone,
                    worker.user_id,
                )
            )
    holders = Responsibility.objects.filter(division_id__in=codes)
    by_code: dict[str, list[Responsibility]] = {}
    for holder in holders.order_by("pk"):
        by_code.setdefault(holder.division_id, []).append(holder)
    for code in reversed(codes):
        for holder in by_code.get(code, []):
            chain.append(
                ChainLink(
                    code,
                    names.get(code, ""),
                    holder.tier,
                    holder.get_tier_display(),
                    holder.name,
                    holder.title,
                    holder.phone,
                    holder.user_id,
                )
            )
    return chain


def user_list(*, viewer: Any, role: str | None = None) -> QuerySet[User]:
    qs = scope_by_division(
        User.objects.select_related("jurisdiction"), viewer=viewer, field="jurisdiction_id"
    )
    if role:
        qs = qs.filter(role=role)
    return qs.order_by("username")


def grid_worker_list(*, viewer: Any, division: str | None = None) -> QuerySet[GridWorker]:
    """Grid workers with at least one grid in the viewer's scope (and in `division`)."""
    from fangkong.core.scope import scope_q, subtree_q

    qs = GridWorker.objects.filter(active=True)
    q = scope_q(viewer=viewer, field="grids__code")
    if q is not None:
        qs = qs.filter(q)
    if division:
        qs = qs.filter(subtree_q("grids__code", division))
    return qs.distinct().order_by("pk")


def responsibility_list(*, viewer: Any, division: str | None = None) -> QuerySet[Responsibility]:
    qs = scope_by_division(
        Responsibility.objects.select_related("division"), viewer=viewer, field="division_id"
    )
    if division:
        qs = qs.filter(division_id=division)
    return qs.order_by("division_id", "tier")


def access_user_by_id(*, viewer: Any, user_id: int) -> User:
    try:
        return user_list(viewer=viewer).get(pk=user_id)
    except (User.DoesNotExist, ValueError):
        raise NotFound(_("账号不存在。")) from None


def user_for_token(*, token: str) -> User | None:
    """The active user a bearer token belongs to, or None. Marks the token as used."""
    if not token:
        return None
    api_token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_for(token), revoked_at__isnull=True)
        .first()
    )
    if api_token is None or not api_token.user.is_active:
        return None
    now = timezone.now()
    if api_token.last_used_at is None or now - api_token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    return api_token.user


def api_token_list(*, viewer: Any) -> QuerySet[ApiToken]:
    """The viewer's own API tokens, newest first: a token is only ever its owner's business."""
    if not getattr(viewer, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user_id=viewer.pk).order_by("-created_at", "-pk")


def access_api_token_by_id(*, viewer: Any, token_id: Any) -> ApiToken:
    try:
        return api_token_list(viewer=viewer).get(pk=token_id)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("令牌不存在。")) from None
