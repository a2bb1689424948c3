"""Quarantine sites and rooms, home measures, twice-daily health checks, test schedules, release.

A `Site` (a hotel, a converted hospital, a school dormitory) has `Room`s with a capacity in beds
and a status (free, occupied, awaiting disinfection, out of service) and its `SiteStaff`. A
person whose control order (control.ControlOrder) is in a centralized phase gets a `Stay` in a
room: assigned, transferred (a new stay pointing at the old one), checked out. Who may share a
room is the county's rule (`QuarantineSettings.sharing`), and people of different outbreaks
never share one (`Stay.cohort`: the cluster, or the case, a contact came from).

Everyone under a measure gets a `HealthCheck` twice a day (morning and evening: temperature and
symptoms), entered by site staff, the grid worker, or the person through a personal link
(`HealthLink`: a random token, no personal data in it). A missed check, a fever or a symptom
raises an `Alert` to whoever looks after the person (the site, or the home grid), which escalates
up the chain of responsibility while nobody resolves it.

Each order's test days (from its edition, copied into `ControlOrder.phases`) become
`SamplingTask`s on the right dates for the right site or grid; a result (typed by staff, or from
the lab in the next issue) closes them; a task not sampled by its day is overdue and raises an
alert like a missed check. Grid workers record `DoorVisit`s to people under home measures, with
an optional door-seal photo. At the end of a centralized phase the person is moved home
(`PhaseTransfer`, point to point); at the end of the last phase the order is released when the
release conditions hold, and a `Certificate` is issued with a code that a public page verifies.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel


class Slot(models.TextChoices):
    MORNING = "am", _("上午")
    EVENING = "pm", _("下午")


class Symptom(models.TextChoices):
    FEVER = "fever", _("发热")
    COUGH = "cough", _("咳嗽")
    SORE_THROAT = "sore_throat", _("咽痛")
    FATIGUE = "fatigue", _("乏力")
    SMELL_TASTE = "smell_taste", _("嗅觉味觉减退")
    NASAL = "nasal", _("鼻塞流涕")
    MUSCLE = "muscle", _("肌肉酸痛")
    CONJUNCTIVITIS = "conjunctivitis", _("结膜炎")
    DIARRHEA = "diarrhea", _("腹泻")
    SHORT_BREATH = "short_breath", _("气促")


class QuarantineSettings(models.Model):
    """The county's rules for sites and health checks (one row; rules are data, not code)."""

    class Sharing(models.TextChoices):
        HOUSEHOLD = "household", _("同户家庭成员可同住一间")
        NEVER = "never", _("一律单人单间")

    sharing = models.CharField(
        _("同住规则"), max_length=12, choices=Sharing.choices, default=Sharing.HOUSEHOLD
    )
    morning_due_hour = models.PositiveSmallIntegerField(_("上午体温报告截止（时）"), default=12)
    evening_due_hour = models.PositiveSmallIntegerField(_("下午体温报告截止（时）"), default=20)
    fever_threshold = models.DecimalField(
        _("发热阈值（℃）"), max_digits=3, decimal_places=1, default="37.3"
    )
    village_after_hours = models.PositiveSmallIntegerField(_("未处置多久上报村（小时）"), default=2)
    town_after_hours = models.PositiveSmallIntegerField(_("未处置多久上报镇（小时）"), default=4)
    county_after_hours = models.PositiveSmallIntegerField(_("未处置多久上报县（小时）"), default=12)
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
        verbose_name = _("隔离与健康监测设置")
        verbose_name_plural = _("隔离与健康监测设置")

    def __str__(self) -> str:
        return str(_("隔离与健康监测设置"))


class Site(TimeStampedModel):
    class Kind(models.TextChoices):
        HOTEL = "hotel", _("宾馆酒店")
        HOSPITAL = "hospital", _("改建医院")
        DORMITORY = "dormitory", _("学校宿舍")
        OTHER = "other", _("其他")

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("所在区划"),
        on_delete=models.PROTECT,
        related_name="+",
        to_field="code",
    )
    address = models.CharField(_("地址"), max_length=200)
    manager_name = models.CharField(_("负责人"), max_length=50)
    manager_phone = models.CharField(_("负责人电话"), max_length=20)
    active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("集中隔离点")
        verbose_name_plural = _("集中隔离点")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    class Status(models.TextChoices):
        FREE = "free", _("空闲")
        OCCUPIED = "occupied", _("已入住")
        DISINFECTION = "disinfection", _("待消杀")
        OUT_OF_SERVICE = "out_of_service", _("停用")

    site = models.ForeignKey(
        Site, verbose_name=_("隔离点"), on_delete=models.CASCADE, related_name="rooms"
    )
    number = models.CharField(_("房间号"), max_length=20)
    floor = models.SmallIntegerField(_("楼层"), default=1)
    capacity = models.PositiveSmallIntegerField(_("床位"), default=1)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.FREE)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("隔离房间")
        verbose_name_plural = _("隔离房间")
        ordering = ["site_id", "floor", "number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="room_number_per_site"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="room_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}-{self.number}"


class SiteStaff(models.Model):
    class Duty(models.TextChoices):
        MANAGER = "manager", _("负责人")
        MEDICAL = "medical", _("医护")
        SECURITY = "security", _("安保")
        LOGISTICS = "logistics", _("后勤保障")
        DISINFECTION = "disinfection", _("消杀")

    site = models.ForeignKey(
        Site, verbose_name=_("隔离点"), on_delete=models.CASCADE, related_name="staff"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.CASCADE, related_name="+"
    )
    duty = models.CharField(_("岗位"), max_length=12, choices=Duty.choices)
    active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("隔离点工作人员")
        verbose_name_plural = _("隔离点工作人员")
        constraints = [
            models.UniqueConstraint(fields=["site", "user"], name="site_staff_once"),
        ]
        indexes = [models.Index(fields=["user", "site"], name="site_staff_user_idx")]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.user_id}"


class Stay(models.Model):
    """A person in a room, from check-in to check-out (open while `checked_out_at` is empty)."""

    class OutReason(models.TextChoices):
        TRANSFER = "transfer", _("转房/转点")
        PHASE_END = "phase_end", _("集中隔离期满转居家")
        RELEASE = "release", _("解除隔离")
        HOSPITAL = "hospital", _("转定点医院")
        OTHER = "other", _("其他")

    order = models.ForeignKey(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("隔离点"), on_delete=models.PROTECT, related_name="stays"
    )
    room = models.ForeignKey(
        Room, verbose_name=_("房间"), on_delete=models.PROTECT, related_name="stays"
    )
    # Who may not share a room with whom: "cluster:<id>" or "case:<id>" for a case's contacts,
    # empty for everyone else (arrivals ...). Kept on the stay so the check needs no joins.
    cohort = models.CharField(_("所属疫情"), max_length=40, blank=True)
    household_id = models.BigIntegerField(_("户编号"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("入住时间"))
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_out_at = models.DateTimeField(_("离开时间"), null=True, blank=True)
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理离开"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    out_reason = models.CharField(
        _("离开原因"), max_length=12, choices=OutReason.choices, blank=True
    )
    transfer_from = models.ForeignKey(
        "self",
        verbose_name=_("转自"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("入住记录")
        verbose_name_plural = _("入住记录")
        ordering = ["-checked_in_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(checked_out_at__isnull=True),
                name="stay_one_open_per_person",
            ),
        ]
        indexes = [
            models.Index(
                fields=["room"], condition=Q(checked_out_at__isnull=True), name="stay_open_room_idx"
            ),
            models.Index(fields=["site", "checked_in_at"], name="stay_site_in_idx"),
            models.Index(fields=["order"], name="stay_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.room_id}"


class PhaseTransfer(models.Model):
    """A point-to-point move between phases or places (site to home, home to site, site to site)."""

    class Kind(models.TextChoices):
        SITE_TO_HOME = "site_to_home", _("集中隔离点→居家")
        HOME_TO_SITE = "home_to_site", _("居家→集中隔离点")
        SITE_TO_SITE = "site_to_site", _("隔离点之间")

    order = models.ForeignKey(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=14, choices=Kind.choices)
    from_stay = models.ForeignKey(
        Stay,
        verbose_name=_("原入住"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    to_division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("送达网格"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        to_field="code",
    )
    to_site = models.ForeignKey(
        Site,
        verbose_name=_("送达隔离点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    vehicle_plate = models.CharField(_("转运车辆"), max_length=12, blank=True)
    escort = models.CharField(_("转运负责人"), max_length=50)
    handed_to = models.CharField(_("交接人（接收方）"), max_length=50, blank=True)
    departed_at = models.DateTimeField(_("出发时间"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("点对点转运")
        verbose_name_plural = _("点对点转运")
        ordering = ["-departed_at", "-id"]
        indexes = [models.Index(fields=["order"], name="transfer_order_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.person_id}"


class HealthCheck(models.Model):
    class Source(models.TextChoices):
        SITE_STAFF = "site_staff", _("隔离点工作人员")
        GRID_WORKER = "grid_worker", _("网格员")
        SELF = "self", _("本人（个人链接）")
        OTHER = "other", _("其他工作人员")

    order = models.ForeignKey(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("日期"))
    slot = models.CharField(_("时段"), max_length=2, choices=Slot.choices)
    temperature = models.DecimalField(_("体温（℃）"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("症状"), default=list, blank=True)
    abnormal = models.BooleanField(_("异常（发热或有症状）"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("录入时间"))

    class Meta:
        verbose_name = _("健康监测")
        verbose_name_plural = _("健康监测")
        ordering = ["-day", "-slot", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "day", "slot"], name="health_check_once_per_slot"
            ),
            models.CheckConstraint(
                condition=Q(temperature__gte=34) & Q(temperature__lte=43),
                name="health_check_temperature_range",
            ),
        ]
        indexes = [models.Index(fields=["day", "slot"], name="health_check_day_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.day} {self.slot}"


class HealthLink(models.Model):
    """A person's own link for health checks: a random token, nothing personal in it."""

    order = models.OneToOneField(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    token = models.CharField(_("令牌"), max_length=43, unique=True)
    created_at = models.DateTimeField(_("生成时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("健康申报链接")
        verbose_name_plural = _("健康申报链接")

    def __str__(self) -> str:
        return f"link:{self.order_id}"


class SamplingTask(models.Model):
    """One test day of one order: where (the site, or the home grid) and its result."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待采样")
        SAMPLED = "sampled", _("已采样待结果")
        RESULTED = "resulted", _("已出结果")
        CANCELLED = "cancelled", _("已取消")

    class Result(models.TextChoices):
        NEGATIVE = "negative", _("阴性")
        POSITIVE = "positive", _("阳性")

    class ResultSource(models.TextChoices):
        MANUAL = "manual", _("人工录入")
        LAB = "lab", _("实验室")

    order = models.ForeignKey(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(_("检测日"))
    phase_index = models.PositiveSmallIntegerField(_("分段"))
    phase_kind = models.CharField(_("分段类型"), max_length=20)
    site = models.ForeignKey(
        Site,
        verbose_name=_("隔离点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("网格"),
        on_delete=models.PROTECT,
        related_name="+",
        to_field="code",
    )
    # Two swabs, two reagents (双采双检) where the edition asks for it before release.
    required_results = models.PositiveSmallIntegerField(_("需检测次数"), default=1)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    result = models.CharField(_("结果"), max_length=10, choices=Result.choices, blank=True)
    result_2 = models.CharField(_("第二份结果"), max_length=10, choices=Result.choices, blank=True)
    ct_values = models.JSONField(_("Ct 值"), default=dict, blank=True)
    tube_code = models.CharField(_("采样管号"), max_length=40, blank=True)
    sampled_at = models.DateTimeField(_("采样时间"), null=True, blank=True)
    resulted_at = models.DateTimeField(_("出结果时间"), null=True, blank=True)
    result_source = models.CharField(
        _("结果来源"), max_length=8, choices=ResultSource.choices, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("检测任务")
        verbose_name_plural = _("检测任务")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "due_date"], name="sampling_task_once_per_day"
            ),
        ]
        indexes = [
            models.Index(fields=["due_date", "status"], name="sampling_task_due_idx"),
            models.Index(fields=["division", "due_date"], name="sampling_task_grid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.due_date}"


class Alert(models.Model):
    """Something about a person under a measure that a named person must deal with."""

    class Kind(models.TextChoices):
        MISSED_CHECK = "missed_check", _("未按时报告体温")
        FEVER = "fever", _("发热")
        SYMPTOM = "symptom", _("出现症状")
        MISSED_TEST = "missed_test", _("检测逾期")
        POSITIVE = "positive", _("检测阳性")

    class Level(models.IntegerChoices):
        CARER = 0, _("网格员/隔离点")
        VILLAGE = 1, _("村（社区）")
        TOWN = 2, _("镇（街道）")
        COUNTY = 3, _("县指挥部")

    kind = models.CharField(_("类型"), max_length=14, choices=Kind.choices)
    order = models.ForeignKey(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    # Who looks after the person now: the home grid; `site` too while they are in a site.
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("网格"),
        on_delete=models.PROTECT,
        related_name="+",
        to_field="code",
    )
    site = models.ForeignKey(
        Site,
        verbose_name=_("隔离点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    day = models.DateField(_("日期"))
    slot = models.CharField(_("时段"), max_length=2, choices=Slot.choices, blank=True)
    health_check = models.ForeignKey(
        HealthCheck,
        verbose_name=_("健康监测"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    task = models.ForeignKey(
        SamplingTask,
        verbose_name=_("检测任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    detail = models.CharField(_("详情"), max_length=200, blank=True)
    raised_at = models.DateTimeField(_("发出时间"))
    level = models.PositiveSmallIntegerField(
        _("当前层级"), choices=Level.choices, default=Level.CARER
    )
    escalated_at = models.DateTimeField(_("最近上报时间"), null=True, blank=True)
    # A fever or a symptom is handed to a fever clinic and the HQ at once (level COUNTY seen).
    handed_over_at = models.DateTimeField(_("转发热门诊时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处置人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution = models.CharField(_("处置情况"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("健康预警")
        verbose_name_plural = _("健康预警")
        ordering = ["-raised_at", "-id"]
        constraints = [
            # Raising is idempotent: one alert per order, kind, day and slot (slot "" for tests).
            models.UniqueConstraint(fields=["order", "kind", "day", "slot"], name="alert_once"),
        ]
        indexes = [
            models.Index(
                fields=["division"],
                condition=Q(resolved_at__isnull=True),
                name="alert_open_grid_idx",
            ),
            models.Index(
                fields=["level", "raised_at"],
                condition=Q(resolved_at__isnull=True),
                name="alert_open_level_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.person_id}:{self.day}"


class DoorVisit(models.Model):
    class Outcome(models.TextChoices):
        PRESENT = "present", _("在家，情况正常")
        SEAL_INTACT = "seal_intact", _("门磁/封条完好")
        SEAL_BROKEN = "seal_broken", _("门磁/封条异常")
        ABSENT = "absent", _("人不在家")

    order = models.ForeignKey(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("网格"),
        on_delete=models.PROTECT,
        related_name="+",
        to_field="code",
    )
    visited_at = models.DateTimeField(_("上门时间"))
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上门人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(_("情况"), max_length=12, choices=Outcome.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    photo = models.FileField(_("照片"), upload_to="visits/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("上门查访")
        verbose_name_plural = _("上门查访")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["division", "visited_at"], name="door_visit_grid_idx")]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.visited_at}"


class Certificate(models.Model):
    """解除隔离证明: numbered, verified by a public page through `verify_code` (random)."""

    order = models.OneToOneField(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    number = models.CharField(_("编号"), max_length=40, unique=True)
    verify_code = models.CharField(_("验证码"), max_length=32, unique=True)
    start_date = models.DateField(_("管控开始日期"))
    end_date = models.DateField(_("解除日期"))
    issued_at = models.DateTimeField(_("签发时间"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("解除隔离证明")
        verbose_name_plural = _("解除隔离证明")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.number
