from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .roles import Role, RolePolicy, policy_for


class User(AbstractUser):
    """A staff account. It sees and changes only the subtree of its jurisdiction."""

    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, blank=True)
    jurisdiction = models.ForeignKey(
        "geo.Division",
        verbose_name=_("管辖范围"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def policy(self) -> RolePolicy:
        return policy_for(self)

    def scope_codes(self) -> list[str] | None:
        from .scope import scope_codes_for

        cached = getattr(self, "_scope_codes_cache", False)
        if cached is False:
            cached = scope_codes_for(self)
            self._scope_codes_cache = cached
        return cached


class GridWorker(models.Model):
    """网格员: answers for the households of one or more small grids."""

    user = models.OneToOneField(
        User,
        verbose_name=_("账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grid_worker",
    )
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    grids = models.ManyToManyField(
        "geo.Division", verbose_name=_("负责网格"), related_name="+", blank=True
    )
    active = models.BooleanField(_("在岗"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("网格员")
        verbose_name_plural = _("网格员")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"GridWorker#{self.pk}"


class Responsibility(models.Model):
    """四包抓: a named person answering for a division at one tier of the chain."""

    class Tier(models.TextChoices):
        COUNTY_LEADER = "county_leader", _("县级领导包镇（街道）")
        DEPARTMENT_LEADER = "department_leader", _("部门领导包社区（小区）")
        TOWN_LEADER = "town_leader", _("镇级领导包村")
        CADRE = "cadre", _("镇村干部包户（组）")
        COMMANDER = "commander", _("县指挥部")

    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("负责区域"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    tier = models.CharField(_("包抓层级"), max_length=32, choices=Tier.choices)
    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职务"), max_length=100, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    user = models.ForeignKey(
        User,
        verbose_name=_("账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsibilities",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("包抓责任人")
        verbose_name_plural = _("包抓责任人")
        ordering = ["division_id", "tier", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["division", "tier", "name"], name="responsibility_unique_holder"
            )
        ]

    def __str__(self) -> str:
        return f"Responsibility#{self.pk} {self.tier}@{self.division_id}"


class ApiToken(models.Model):
    """A bearer token for /api/v1. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(
        User, verbose_name=_("账号"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("用途"), max_length=100, blank=True)
    prefix = models.CharField(_("前缀"), max_length=12, db_index=True)
    digest = models.CharField(_("摘要"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        constraints = [
            models.CheckConstraint(condition=~Q(digest=""), name="apitoken_digest_not_empty")
        ]

    def __str__(self) -> str:
        return f"ApiToken {self.prefix}…"

    @staticmethod
    def digest_for(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()
