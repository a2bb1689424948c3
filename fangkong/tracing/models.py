"""Cases, clusters, epidemiological investigations, and the contacts found around a case.

A `Case` is a person classified suspected, confirmed or asymptomatic; reclassifying keeps the
history (`CaseEvent`). A `Cluster` groups cases of one event (a wedding, a factory). Each case
has one `Investigation`, assigned to an `InvestigationTeam`, with a timeline of where the case
was (`TimelineEntry`, linked to places and to the county's own records: check-ins, checkpoint
passages, arrivals) and the investigator's conclusions.

A `Contact` is a person found around a case: first as a *candidate* with the evidence that
produced it (the household, a check-in overlapping one of the case's, the same vehicle at a
checkpoint, the same train, flight or coach), or added by hand; then decided by an
investigator: close contact, general contact, or not a contact (with a reason). Secondary
contacts (`degree` 2) come from a close contact's household and declared co-workers
(`DeclaredCoworker`) under the editions that have them. A decided close or secondary contact
living in the county gets a control order (`order`, through control.order_propose_bulk); one
living elsewhere goes onto an outgoing assist letter (`assist_entry`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel


class Classification(models.TextChoices):
    SUSPECTED = "suspected", _("疑似病例")
    CONFIRMED = "confirmed", _("确诊病例")
    ASYMPTOMATIC = "asymptomatic", _("无症状感染者")


class CaseSource(models.TextChoices):
    IMPORTED = "imported", _("输入病例")
    IMPORT_RELATED = "import_related", _("输入关联病例")
    LOCAL = "local", _("本土病例")


class Outcome(models.TextChoices):
    TREATING = "treating", _("治疗中")
    RECOVERED = "recovered", _("治愈出院")
    DIED = "died", _("死亡")
    TRANSFERRED = "transferred", _("转出")
    EXCLUDED = "excluded", _("排除")


class InvestigationTeam(TimeStampedModel):
    """流调小组: a named team of investigators."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("组长"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("组员"), related_name="+", blank=True
    )
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("流调小组")
        verbose_name_plural = _("流调小组")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cluster(TimeStampedModel):
    """聚集性疫情: an event grouping cases."""

    class Kind(models.TextChoices):
        FAMILY = "family", _("家庭聚集")
        WEDDING = "wedding", _("婚宴")
        FUNERAL = "funeral", _("丧事")
        DINING = "dining", _("聚餐")
        WORKPLACE = "workplace", _("工厂、单位")
        SCHOOL = "school", _("学校")
        MARKET = "market", _("市场、商超")
        TRANSPORT = "transport", _("交通工具")
        OTHER = "other", _("其他")

    code = models.CharField(_("编号"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(_("说明"), blank=True)
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("所在区划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("聚集性疫情")
        verbose_name_plural = _("聚集性疫情")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Case(TimeStampedModel):
    """A suspected, confirmed or asymptomatic case, linked to a person."""

    code = models.CharField(_("病例编号"), max_length=32, unique=True)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    classification = models.CharField(_("分类"), max_length=12, choices=Classification.choices)
    onset_date = models.DateField(_("发病日期"), null=True, blank=True)
    sampling_date = models.DateField(_("采样日期"), null=True, blank=True)
    report_date = models.DateField(_("报告日期"))
    # Found by repeated screening (risk-occupation routine testing): the 9th edition counts
    # the look-back from the sampling time of the last negative test.
    last_negative_on = models.DateField(_("末次阴性采样日期"), null=True, blank=True)
    isolated_on = models.DateField(_("隔离管控日期"), null=True, blank=True)
    source = models.CharField(
        _("来源"), max_length=16, choices=CaseSource.choices, default=CaseSource.LOCAL
    )
    treated_at = models.CharField(_("救治地点"), max_length=100, blank=True)
    outcome = models.CharField(
        _("转归"), max_length=12, choices=Outcome.choices, default=Outcome.TREATING
    )
    cluster = models.ForeignKey(
        Cluster,
        verbose_name=_("聚集性疫情"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    # The case's grid (its home), for the data scope: the person's small grid when registered.
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("所在区划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The contact this case was before it became one (the chain's edge), when known.
    infected_by = models.ForeignKey(
        "self",
        verbose_name=_("传染来源病例"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("病例")
        verbose_name_plural = _("病例")
        ordering = ["-report_date", "-pk"]
        indexes = [models.Index(fields=["division", "report_date"], name="case_division_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(onset_date__isnull=True) | Q(onset_date__lte=models.F("report_date")),
                name="case_onset_not_after_report",
            )
        ]

    def __str__(self) -> str:
        return self.code


class CaseEvent(models.Model):
    """The history of a case: created, reclassified, changed (ids and values, no personal data)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    verb = models.CharField(_("操作"), max_length=20)
    from_classification = models.CharField(max_length=12, blank=True)
    to_classification = models.CharField(max_length=12, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"CaseEvent#{self.pk}"


class Investigation(TimeStampedModel):
    """流调: one per case."""

    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已完成")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="investigation")
    team = models.ForeignKey(
        InvestigationTeam,
        verbose_name=_("流调小组"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("流调人员"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default="open")
    conclusions = models.TextField(_("流调结论"), blank=True)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("流调")
        verbose_name_plural = _("流调")


class TimelineEntry(TimeStampedModel):
    """Where the case was and when: reported by the case, or taken from the county's records."""

    class Source(models.TextChoices):
        REPORTED = "reported", _("本人自述")
        CHECKIN = "checkin", _("场所码记录")
        PASSAGE = "passage", _("卡口过卡记录")
        ARRIVAL = "arrival", _("来返报备记录")

    investigation = models.ForeignKey(
        Investigation, on_delete=models.CASCADE, related_name="timeline"
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    place = models.ForeignKey(
        "places.Place",
        verbose_name=_("场所"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    location = models.CharField(_("地点"), max_length=200, blank=True)
    activity = models.CharField(_("活动"), max_length=200, blank=True)
    people_met = models.CharField(_("接触人员"), max_length=500, blank=True)
    source = models.CharField(
        _("来源"), max_length=8, choices=Source.choices, default=Source.REPORTED
    )
    checkin = models.ForeignKey(
        "places.CheckIn", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    passage = models.ForeignKey(
        "travel.CheckpointPassage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    arrival = models.ForeignKey(
        "travel.TravelRegistration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("活动轨迹")
        verbose_name_plural = _("活动轨迹")
        ordering = ["starts_at", "pk"]


class Contact(TimeStampedModel):
    """A person found around a case: a candidate with its evidence, then decided."""

    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("待判定")
        CLOSE = "close", _("密切接触者")
        GENERAL = "general", _("一般接触者")
        NOT_CONTACT = "not_contact", _("非接触者")

    class Evidence(models.TextChoices):
        HOUSEHOLD = "household", _("同住家庭成员")
        CHECKIN = "checkin", _("同一场所同时段（场所码）")
        VEHICLE = "vehicle", _("同车过卡")
        TRANSPORT = "transport", _("同乘火车、航班、客车")
        COWORKER = "coworker", _("同事（申报）")
        MANUAL = "manual", _("流调人工添加")

    class Setting(models.TextChoices):
        HOUSEHOLD = "household", _("同住")
        WORK = "work", _("同工作、学习")
        DINING = "dining", _("同餐")
        ENTERTAINMENT = "entertainment", _("同娱乐")
        VENUE = "venue", _("同场所")
        TRANSPORT = "transport", _("同交通工具")
        CARE = "care", _("诊疗、护理、探视")
        OTHER = "other", _("其他")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("人员"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=24, default="resident_id")
    id_number = models.CharField(_("证件号码"), max_length=32)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    # 1: a contact of the case; 2: a secondary contact (密接的密接), found through `via`.
    degree = models.PositiveSmallIntegerField(_("接触层级"), default=1)
    via = models.ForeignKey(
        "self",
        verbose_name=_("经由密接"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="secondaries",
    )
    evidence_kind = models.CharField(_("依据"), max_length=10, choices=Evidence.choices)
    # What produced the candidate: ids and times only (place id, check-in ids, overlap, the
    # passage id and plate, the train or flight number and seats). Never shown unscoped.
    evidence = models.JSONField(_("依据详情"), default=dict, blank=True)
    setting = models.CharField(
        _("接触场景"), max_length=14, choices=Setting.choices, default=Setting.OTHER
    )
    last_exposure_at = models.DateTimeField(_("末次暴露时间"), null=True, blank=True)
    status = models.CharField(
        _("判定"), max_length=12, choices=Status.choices, default=Status.CANDIDATE
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("判定人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("判定时间"), null=True, blank=True)
    reason = models.CharField(_("判定理由"), max_length=200, blank=True)
    # Into the loop: the measure proposed (a contact living in the county), or the outgoing
    # assist letter entry (living elsewhere).
    order = models.ForeignKey(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assist_entry = models.ForeignKey(
        "travel.AssistRequestEntry",
        verbose_name=_("协查函条目"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Where the contact lives, for the loop: a small grid of the county, or a region code
    # outside it (GB/T 2260) for an assist letter.
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("所在网格"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outside_code = models.CharField(_("县外住址区划代码"), max_length=12, blank=True)

    class Meta:
        verbose_name = _("接触者")
        verbose_name_plural = _("接触者")
        ordering = ["case_id", "degree", "status", "pk"]
        indexes = [
            models.Index(fields=["id_type", "id_number"], name="contact_document_idx"),
            models.Index(fields=["case", "status"], name="contact_case_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "id_type", "id_number"], name="contact_once_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"Contact#{self.pk}"


class DeclaredCoworker(TimeStampedModel):
    """A co-worker a close contact declared (同工作): a source of secondary contacts."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="coworkers")
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=24, default="resident_id")
    id_number = models.CharField(_("证件号码"), max_length=32)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("申报同事")
        verbose_name_plural = _("申报同事")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "id_type", "id_number"], name="coworker_once_per_contact"
            )
        ]
