"""Policy editions and risk areas: the rules of the measures, held as data.

A `PolicyEdition` is one national plan (the 7th edition, the 9th, the twenty measures ...) or a
county's local adjustment of one. Its `rules` say, per category of person, which phases the
measure has (centralized quarantine, home isolation, home health monitoring ...), how many days
each, on which days of each phase people are tested, what the period counts from, and how the
person is released. The county says which edition is in force from which date
(`EditionActivation`); a measure is computed once, from the edition in force, and keeps a copy
of its phases, so a later edition never rewrites it.

The shape of `rules` (validated by policy.rules.parse_rules):

    {"close_contact": {
        "counts_from": "last_exposure",
        "phases": [{"kind": "centralized", "days": 7, "test_days": [1, 2, 3, 5, 7]},
                   {"kind": "home_monitoring", "days": 3, "test_days": [3]}],
        "release": {"double_test": false, "ct_threshold": null,
                    "wait_for_source_tests": 0},
        "note": "..."},
     ...}

A category missing from `rules` is not determined under that edition (the twenty measures
stopped determining secondary contacts).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """Who the measure is for."""

    CLOSE_CONTACT = "close_contact", _("密切接触者")
    SECONDARY_CONTACT = "secondary_contact", _("密接的密接")
    HIGH_RISK_ARRIVAL = "high_risk_arrival", _("高风险地区来返人员")
    MEDIUM_RISK_ARRIVAL = "medium_risk_arrival", _("中风险地区来返人员")
    LOW_RISK_ARRIVAL = "low_risk_arrival", _("低风险地区来返人员")
    ENTRANT = "entrant", _("入境人员")
    CASE = "case", _("确诊病例和无症状感染者")
    RURAL_RETURNEE = "rural_returnee", _("农村地区返乡人员")


class PhaseKind(models.TextChoices):
    """The kinds of phase, strictest first (policy.rules.SEVERITY ranks them)."""

    HOSPITAL = "hospital", _("定点医院（方舱）隔离治疗")
    CENTRALIZED = "centralized", _("集中隔离医学观察")
    HOME_ISOLATION = "home_isolation", _("居家隔离医学观察")
    HOME_MONITORING = "home_monitoring", _("居家健康监测")
    TESTS_ONLY = "tests_only", _("落地检测（几天几检）")


class CountsFrom(models.TextChoices):
    LAST_EXPOSURE = "last_exposure", _("末次暴露之日")
    LEFT_AREA = "left_area", _("离开风险地区之日")
    ARRIVAL = "arrival", _("抵达之日")
    DIAGNOSIS = "diagnosis", _("诊断（报告）之日")


class RiskLevel(models.TextChoices):
    HIGH = "high", _("高风险")
    MEDIUM = "medium", _("中风险")
    LOW = "low", _("低风险")


# Higher is stricter; "" (no risk area) is 0.
RISK_RANK = {RiskLevel.LOW: 1, RiskLevel.MEDIUM: 2, RiskLevel.HIGH: 3}


class PolicyEdition(models.Model):
    class Kind(models.TextChoices):
        NATIONAL = "national", _("国家方案")
        LOCAL = "local", _("本县调整")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30)
    document = models.CharField(_("文件"), max_length=200, blank=True)
    issued_on = models.DateField(_("发布日期"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.NATIONAL)
    # A local adjustment is made from one national edition and may not exceed it.
    base = models.ForeignKey(
        "self",
        verbose_name=_("所依据的国家方案"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments",
    )
    jurisdiction = models.ForeignKey(
        "geo.Division",
        verbose_name=_("适用区划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lookback_days = models.PositiveSmallIntegerField(_("密接追溯天数"), default=2)
    # Risk levels designated under this edition, e.g. ["high", "medium", "low"].
    risk_levels = models.JSONField(_("风险等级"), default=list)
    # Downgrade rules: [{"from": "high", "to": "medium", "days": 7, "screening": true,
    #                    "after_downgrade": false}, ...]; "to": null lifts the area.
    downgrade_rules = models.JSONField(_("风险地区降级规则"), default=list)
    rules = models.JSONField(_("分类管控规则"), default=dict)
    # National ceilings a local adjustment is checked against beyond the rules themselves,
    # e.g. {"lookback_days_max": 4}.
    ceilings = models.JSONField(_("国家上限"), default=dict, blank=True)
    notes = models.TextField(_("说明与出处"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("防控方案版本")
        verbose_name_plural = _("防控方案版本")
        ordering = ["issued_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="national") | Q(base__isnull=False),
                name="policyedition_local_has_base",
            )
        ]

    def __str__(self) -> str:
        return self.short_name or self.code


class EditionActivation(models.Model):
    """The county puts an edition in force from a date. The latest activation on or before a
    date decides which edition applies on that date; earlier measures keep theirs."""

    edition = models.ForeignKey(
        PolicyEdition, verbose_name=_("方案版本"), on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction = models.ForeignKey(
        "geo.Division", verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+"
    )
    effective_from = models.DateField(_("生效日期"))
    reason = models.CharField(_("依据"), max_length=200, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("启用人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("启用时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("方案启用记录")
        verbose_name_plural = _("方案启用记录")
        ordering = ["-effective_from", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "effective_from"], name="activation_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"EditionActivation#{self.pk}"


class RiskArea(models.Model):
    """A designated risk area for a period.

    `region_code` is a GB/T 2260 code (6 digits) or a longer statistical code (9 digits for a
    town or street, 12 for a village or community), or the code of one of the county's own
    divisions (then `division` is set too). `detail` narrows it to a compound, building or
    unit when the notice does ("松榆里社区", "5号楼2单元"); empty means the whole region.
    An arrival is covered when its origin code lies under `region_code` and, if `detail` is
    set, its origin address mentions it.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", _("手工录入")
        IMPORT = "import", _("名单导入")
        DOWNGRADE = "downgrade", _("降级确认")

    level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices)
    region_code = models.CharField(_("区划代码"), max_length=20)
    region_name = models.CharField(_("地区名称"), max_length=200)
    detail = models.CharField(_("具体范围"), max_length=300, blank=True)
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("本县区划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    start_date = models.DateField(_("起始日期"))
    end_date = models.DateField(_("截止日期"), null=True, blank=True)
    notice = models.CharField(_("依据通告"), max_length=300, blank=True)
    # The last day a new infection was found in the area (the downgrade clock runs from it).
    last_case_on = models.DateField(_("最近新增感染日期"), null=True, blank=True)
    source = models.CharField(
        _("来源"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    previous = models.ForeignKey(
        "self",
        verbose_name=_("降级前"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    import_job = models.ForeignKey(
        "imports.ImportJob",
        verbose_name=_("导入任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("风险地区")
        verbose_name_plural = _("风险地区")
        ordering = ["-start_date", "-pk"]
        indexes = [
            models.Index(fields=["region_code", "start_date"], name="riskarea_region_idx"),
            models.Index(fields=["end_date", "level"], name="riskarea_end_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="riskarea_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"RiskArea#{self.pk} {self.level} {self.region_code}"
