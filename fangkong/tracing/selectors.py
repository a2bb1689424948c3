"""Reads of cases and clusters, scoped: the access functions every part of tracing uses.

Readers (permissions.READERS) see the cases whose division is in their scope; county-wide
roles also see cases without a division. Others get Forbidden on lists; out of scope is
NotFound, exactly like missing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fangkong.accounts.roles import policy_for
from fangkong.core.exceptions import Forbidden, NotFound
from fangkong.core.scope import scope_q

from .models import Case, Cluster, Contact
from .permissions import can_read


def _require_reader(viewer: Any) -> None:
    if not can_read(viewer):
        raise Forbidden(_("您的角色不能查看病例和流调信息。"))


def case_scope_q(viewer: Any, prefix: str = "") -> Q:
    """Q for the cases (through `prefix`, e.g. "case__") in the viewer's scope."""
    q = scope_q(viewer=viewer, field=f"{prefix}division_id")
    if q is None:
        return Q()
    if policy_for(viewer).county_wide:
        q |= Q(**{f"{prefix}division__isnull": True})
    return q


def case_queryset(*, viewer: Any) -> QuerySet[Case]:
    """Every case the viewer may see (no filters), person and cluster joined."""
    _require_reader(viewer)
    return Case.objects.filter(case_scope_q(viewer)).select_related("person", "cluster", "division")


def access_case_by_id(*, viewer: Any, case_id: Any) -> Case:
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise NotFound(_("病例不存在。")) from None
    case = case_queryset(viewer=viewer).filter(pk=pk).first()
    if case is None:
        raise NotFound(_("病例不存在。"))
    return case


def cluster_queryset(*, viewer: Any) -> QuerySet[Cluster]:
    """Clusters with at least one case in scope, or created in scope (county-wide: all)."""
    _require_reader(viewer)
    qs = Cluster.objects.all()
    if policy_for(viewer).county_wide:
        return qs
    in_scope = Case.objects.filter(case_scope_q(viewer)).values("cluster_id")
    own = scope_q(viewer=viewer, field="division_id")
    return qs.filter(Q(pk__in=in_scope) | own) if own is not None else qs


def access_cluster_by_id(*, viewer: Any, cluster_id: Any) -> Cluster:
    try:
        pk = int(cluster_id)
    except (TypeError, ValueError):
        raise NotFound(_("聚集性疫情不存在。")) from None
    cluster = cluster_queryset(viewer=viewer).filter(pk=pk).first()
    if cluster is None:
        raise NotFound(_("聚集性疫情不存在。"))
    return cluster


def access_contact_by_id(*, viewer: Any, contact_id: Any) -> Contact:
    try:
        pk = int(contact_id)
    except (TypeError, ValueError):
        raise NotFound(_("接触者不存在。")) from None
    _require_reader(viewer)
    contact = (
        Contact.objects.filter(case_scope_q(viewer, "case__"), pk=pk)
        .select_related("case", "person")
        .first()
    )
    if contact is None:
        raise NotFound(_("接触者不存在。"))
    return contact
