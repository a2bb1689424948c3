"""Measures on people (ControlOrder) and the closed loop that makes sure they are in place.

A `ControlOrder` is proposed from a source (an arrival, a contact, a sweep ...), by the rules of
the edition in force, and confirmed (or changed, with a reason) by the responsible officer. It
keeps a copy of its phases with their dates and test days, so changing edition never rewrites
it, and a history of every change (`ControlOrderEvent`). A person has at most one active order.

The loop: every new arrival or order opens a `LoopTask` in the inbox of the grid worker of its
small grid, with steps (acknowledge, visit and verify, measure in place), each with a deadline
from the county's `LoopSettings`. A step past its deadline escalates up the chain of
responsibility: village, then town, then county (`LoopEscalation`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import TimeStampedModel
from fangkong.policy.models import Category, CountsFrom


class OrderStatus(models.TextChoices):
    PROPOSED = "proposed", _("待确认")
    ACTIVE = "active", _("执行中")
    PHASE_CHANGED = "phase_changed", _("已转段")
    RELEASED = "released", _("已解除")
    CANCELLED = "cancelled", pgettext_lazy("measure", "已撤销")
    TRANSFERRED_OUT = "transferred_out", _("已转出")
    SUPERSEDED = "superseded", _("已被更严措施替代")


ACTIVE_STATUSES = (OrderStatus.ACTIVE, OrderStatus.PHASE_CHANGED)
OPEN_STATUSES = (OrderStatus.PROPOSED, *ACTIVE_STATUSES)


class SourceType(models.TextChoices):
    ARRIVAL = "arrival", _("来返报备")
    SWEEP = "sweep", _("风险地区回溯排查")
    CONTACT = "contact", _("密接判定")
    MANUAL = "manual", _("手工")
    RECHECK = "recheck", _("混管复核")


class ControlOrder(TimeStampedModel):
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    # The small grid that answers for the measure (the destination grid of an arrival).
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("责任网格"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # controlorder_division_idx
    )
    category = models.CharField(_("人员类别"), max_length=24, choices=Category.choices)
    edition = models.ForeignKey(
        "policy.PolicyEdition",
        verbose_name=_("依据方案"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    risk_area = models.ForeignKey(
        "policy.RiskArea",
        verbose_name=_("风险地区"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    counts_from = models.CharField(_("起算"), max_length=16, choices=CountsFrom.choices)
    anchor_date = models.DateField(_("起算日期"))
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    # Snapshot: [{"kind", "days", "start", "end", "test_days": ["YYYY-MM-DD", ...]}, ...]
    phases = models.JSONField(_("分段"), default=list)
    current_phase = models.PositiveSmallIntegerField(_("当前分段"), default=0)
    status = models.CharField(
        _("状态"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PROPOSED
    )
    source_type = models.CharField(_("来源"), max_length=16, choices=SourceType.choices)
    source_id = models.CharField(_("来源编号"), max_length=40, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self",
        verbose_name=_("替代措施"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("管控措施")
        verbose_name_plural = _("管控措施")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["division", "status"], name="controlorder_division_idx"),
            models.Index(fields=["status", "end_date"], name="controlorder_status_end_idx"),
            models.Index(fields=["source_type", "source_id"], name="controlorder_source_idx"),
            models.Index(fields=["person", "status"], name="controlorder_person_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["active", "phase_changed"]),
                name="controlorder_one_active_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"ControlOrder#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ControlOrderEvent(models.Model):
    """History of an order: every status change, change of measure and phase move."""

    order = models.ForeignKey(
        ControlOrder, verbose_name=_("管控措施"), on_delete=models.CASCADE, related_name="events"
    )
    verb = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))
    reason = models.CharField(_("理由"), max_length=300, blank=True)
    # What changed (category, dates, phases): codes and dates only.
    data = models.JSONField(_("变更内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("措施变更记录")
        verbose_name_plural = _("措施变更记录")
        ordering = ["order_id", "at", "pk"]

    def __str__(self) -> str:
        return f"ControlOrderEvent#{self.pk} {self.verb}"


class LoopSettings(models.Model):
    """The county's clocks for the loop (hours). One row for the county's root division."""

    division = models.OneToOneField(
        "geo.Division", verbose_name=_("区划"), on_delete=models.CASCADE, related_name="+"
    )
    ack_hours = models.PositiveSmallIntegerField(_("签收时限（小时）"), default=2)
    visit_hours = models.PositiveSmallIntegerField(_("上门核实时限（小时）"), default=12)
    in_place_hours = models.PositiveSmallIntegerField(_("措施落实时限（小时）"), default=24)
    # How long past its deadline a step goes before the town, then the county, is told.
    # The village is told as soon as a step is late.
    town_after_hours = models.PositiveSmallIntegerField(_("逾期多久上报镇（小时）"), default=4)
    county_after_hours = models.PositiveSmallIntegerField(_("逾期多久上报县（小时）"), default=12)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("闭环时限设置")
        verbose_name_plural = _("闭环时限设置")

    def __str__(self) -> str:
        return f"LoopSettings {self.division_id}"


class TaskKind(models.TextChoices):
    ARRIVAL = "arrival", _("来返人员")
    ORDER = "order", _("管控措施")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("办理中")
    DONE = "done", _("已办结")
    CANCELLED = "cancelled", pgettext_lazy("measure", "已撤销")


class LoopTask(TimeStampedModel):
    """One item in a grid worker's inbox: a person to find and, usually, a measure to put in
    place. Its title holds no personal data (it is shown in lists and overviews)."""

    kind = models.CharField(_("类型"), max_length=10, choices=TaskKind.choices)
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("网格"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # looptask_division_idx
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        ControlOrder,
        verbose_name=_("管控措施"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    source_type = models.CharField(_("来源"), max_length=16, choices=SourceType.choices)
    source_id = models.CharField(_("来源编号"), max_length=40, blank=True)
    title = models.CharField(_("事由"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    opened_at = models.DateTimeField(_("下发时间"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("闭环任务")
        verbose_name_plural = _("闭环任务")
        ordering = ["-opened_at", "-pk"]
        indexes = [
            models.Index(fields=["division", "status"], name="looptask_division_idx"),
            models.Index(fields=["source_type", "source_id"], name="looptask_source_idx"),
        ]

    def __str__(self) -> str:
        return f"LoopTask#{self.pk}"


class StepKind(models.TextChoices):
    ACK = "ack", _("签收")
    VISIT = "visit", _("上门核实")
    IN_PLACE = "in_place", _("措施落实")


class Escalation(models.IntegerChoices):
    NONE = 0, _("未逾期")
    VILLAGE = 1, _("已上报村（社区）")
    TOWN = 2, _("已上报镇（街道）")
    COUNTY = 3, _("已上报县指挥部")


class LoopStep(models.Model):
    task = models.ForeignKey(
        LoopTask, verbose_name=_("闭环任务"), on_delete=models.CASCADE, related_name="steps"
    )
    kind = models.CharField(_("环节"), max_length=10, choices=StepKind.choices)
    seq = models.PositiveSmallIntegerField(_("顺序"))
    due_at = models.DateTimeField(_("时限"))
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Visit: "verified" (found at the address), "not_found", "moved_away" ...
    outcome = models.CharField(_("结果"), max_length=20, blank=True)
    note = models.CharField(_("情况说明"), max_length=300, blank=True)
    escalation = models.PositiveSmallIntegerField(
        _("逾期上报"), choices=Escalation.choices, default=Escalation.NONE
    )
    escalated_at = models.DateTimeField(_("上报时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("闭环环节")
        verbose_name_plural = _("闭环环节")
        ordering = ["task_id", "seq"]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(done_at__isnull=True), name="loopstep_open_due_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["task", "kind"], name="loopstep_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"LoopStep#{self.pk} {self.kind}"


class LoopEscalation(models.Model):
    """A late step reported one tier up: who was told is the chain of responsibility of
    `division` at that moment (accounts.selectors.escalation_chain)."""

    step = models.ForeignKey(
        LoopStep, verbose_name=_("环节"), on_delete=models.CASCADE, related_name="escalations"
    )
    level = models.PositiveSmallIntegerField(_("层级"), choices=Escalation.choices)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("上报到"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("逾期上报")
        verbose_name_plural = _("逾期上报")
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["step", "level"], name="loopescalation_once_per_level")
        ]

    def __str__(self) -> str:
        return f"LoopEscalation#{self.pk}"
