from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One row per write, reveal or export. Holds ids, never names, numbers or phones."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # audit_actor_at_idx (actor, at) serves it
    )
    # audit_verb_idx serves = and the prefix filters (pattern ops: one index, not two)
    verb = models.CharField(_("操作"), max_length=64)
    target_type = models.CharField(_("对象类型"), max_length=64)
    target_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
            models.Index(fields=["verb"], name="audit_verb_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.target_type}#{self.target_id}"


class AuditReason(models.Model):
    """The reason a user gave for a reveal or an export, kept beside (not inside) the event."""

    event = models.OneToOneField(
        AuditEvent, verbose_name=_("审计事件"), on_delete=models.CASCADE, related_name="reason"
    )
    text = models.CharField(_("理由"), max_length=200)

    class Meta:
        verbose_name = _("查看/导出理由")
        verbose_name_plural = _("查看/导出理由")

    def __str__(self) -> str:
        return f"AuditReason#{self.pk}"
