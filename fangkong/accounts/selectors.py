from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.cache import ProcessCache
from fangkong.core.db import columns_sql, from_db_value, instance_from_row
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


_tokens = ProcessCache(max_entries=5_000, setting="API_TOKEN_CACHE_SECONDS")


def user_for_token(*, token: str) -> User | None:
    """The active user a bearer token belongs to, or None. Marks the token as used (at most
    every 5 minutes). A token found is trusted by this process for
    FANGKONG["API_TOKEN_CACHE_SECONDS"] (10 s; core.cache): every API call asks, and the
    lookup cost a checkpoint's passage a fifth of its time. Revoking forgets it in the
    revoking process at once (`forget_token`), elsewhere within those seconds. The user
    object is shared between the calls of that time: read it, never change it."""
    if not token:
        return None
    return _tokens.get(ApiToken.digest_for(token), lambda: _user_for_token(token))


def forget_token(*, digest: str) -> None:
    """This process stops trusting the token (revoked now)."""
    _tokens.forget(digest)


def _user_for_token(token: str) -> User | None:
    # Every API call asks: one hand-written join (the ORM's select_related query cost several
    # times its run), the same as ApiToken.objects.select_related("user").filter(digest=...,
    # revoked_at__isnull=True).
    qn = connection.ops.quote_name
    t_meta, u_meta = ApiToken._meta, User._meta
    t_col = {n: qn(t_meta.get_field(n).column) for n in ("id", "last_used_at", "digest")}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.{t_col['id']}, t.{t_col['last_used_at']}, {columns_sql(User, 'u')} "
            f"FROM {qn(t_meta.db_table)} t JOIN {qn(u_meta.db_table)} u "
            f"ON u.{qn(u_meta.pk.column)} = t.{qn(t_meta.get_field('user').column)} "
            f"WHERE t.{t_col['digest']} = %s AND t.{qn(t_meta.get_field('revoked_at').column)} "
            "IS NULL",
            [ApiToken.digest_for(token)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    token_id = row[0]
    last_used_at = from_db_value(t_meta.get_field("last_used_at"), row[1])
    user = instance_from_row(User, row[2:])
    if not user.is_active:
        return None
    now = timezone.now()
    if last_used_at is None or now - last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


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
