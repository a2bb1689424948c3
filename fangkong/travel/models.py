"""Arrivals (报备), assist requests (协查函) and retroactive sweeps of risk areas.

A `TravelRegistration` is one person arriving in the county: where from (a region code and
its name, plus the street or compound as written), when they left and arrived, how they came,
where they are going (a small grid and an address). It comes through one of the channels
(the public self-report page, a grid worker's entry, a checkpoint, an imported list or an
assist-request letter) and is matched to a `people.Person`, found or created. From it, the
control app proposes a measure and opens a task in the destination grid worker's inbox.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel
from fangkong.policy.models import Category, RiskLevel


class Channel(models.TextChoices):
    SELF_REPORT = "self_report", _("扫码自主报备")
    GRID_ENTRY = "grid_entry", _("网格员（村干部）登记")
    CHECKPOINT = "checkpoint", _("卡口登记")
    ASSIST_REQUEST = "assist_request", _("协查函")
    PUSHED_LIST = "pushed_list", _("推送名单导入")


class Transport(models.TextChoices):
    CAR = "car", _("自驾（汽车）")
    TRAIN = "train", _("火车")
    FLIGHT = "flight", _("飞机")
    BUS = "bus", _("客车")
    OTHER = "other", _("其他")


class AssistRequest(TimeStampedModel):
    """协查函: a letter from another jurisdiction asking us to find and control the listed
    people (incoming), or ours asking them (outgoing, for arrivals and contacts who live
    outside the county)."""

    class Direction(models.TextChoices):
        INCOMING = "incoming", _("收到的协查函")
        OUTGOING = "outgoing", _("发出的协查函")

    class Status(models.TextChoices):
        OPEN = "open", _("办理中")
        SENT = "sent", _("已发出")
        CLOSED = "closed", _("已办结")

    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices)
    number = models.CharField(_("函号"), max_length=60, blank=True)
    counterpart = models.CharField(_("对方单位"), max_length=200)
    counterpart_code = models.CharField(_("对方区划代码"), max_length=20, blank=True)
    subject = models.CharField(_("事由"), max_length=300, blank=True)
    dated = models.DateField(_("日期"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default="open")
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
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("协查函")
        verbose_name_plural = _("协查函")
        ordering = ["-dated", "-pk"]
        indexes = [
            models.Index(fields=["direction", "counterpart_code", "status"], name="assist_dir_idx")
        ]

    def __str__(self) -> str:
        return f"AssistRequest#{self.pk}"


class TravelRegistration(TimeStampedModel):
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("报备渠道"), max_length=16, choices=Channel.choices)
    # What the reporter typed as name and phone (the person record may differ; a mismatch is
    # flagged for the grid worker rather than silently overwriting the record).
    reported_name = models.CharField(_("报备姓名"), max_length=50)
    reported_phone = models.CharField(_("报备手机号"), max_length=20, blank=True)
    identity_mismatch = models.BooleanField(_("身份信息不一致"), default=False)

    origin_code = models.CharField(_("出发地区划代码"), max_length=20)
    origin_name = models.CharField(_("出发地"), max_length=200)
    origin_address = models.CharField(_("出发地详细地址"), max_length=200, blank=True)
    from_abroad = models.BooleanField(_("境外来返"), default=False)
    origin_country = models.CharField(_("出发国家（地区）"), max_length=60, blank=True)
    left_on = models.DateField(_("离开日期"))
    arrived_on = models.DateField(_("抵达日期"))
    transport = models.CharField(_("交通方式"), max_length=10, choices=Transport.choices)
    vehicle_no = models.CharField(_("车牌/车次/航班"), max_length=20, blank=True)
    seat = models.CharField(_("座位"), max_length=20, blank=True)

    # Destination: a small grid of the county, or (outside_county) somewhere else.
    destination_division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("目的网格"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # travel_dest_idx
    )
    destination_address = models.CharField(_("目的地址"), max_length=200, blank=True)
    outside_county = models.BooleanField(_("目的地在县外"), default=False)
    outside_code = models.CharField(_("县外目的地区划代码"), max_length=20, blank=True)

    symptoms = models.CharField(_("症状"), max_length=200, blank=True)
    # The rule lookup at registration (or at the last sweep that changed it).
    risk_level = models.CharField(
        _("出发地风险等级"), max_length=8, choices=RiskLevel.choices, blank=True
    )
    risk_area = models.ForeignKey(
        "policy.RiskArea",
        verbose_name=_("风险地区"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    category = models.CharField(_("人员类别"), max_length=24, choices=Category.choices, blank=True)
    order = models.ForeignKey(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assist_request = models.ForeignKey(
        AssistRequest,
        verbose_name=_("协查函"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="arrivals",
    )
    # Self-report: the receipt shown to the reporter, and the key that makes a resubmission
    # of the same trip answer with the same receipt instead of a second record.
    receipt_code = models.CharField(_("回执码"), max_length=12, null=True, blank=True, unique=True)
    dedupe_key = models.CharField(_("去重键"), max_length=64, null=True, blank=True, unique=True)
    import_job = models.ForeignKey(
        "imports.ImportJob",
        verbose_name=_("导入任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
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
        verbose_name = _("来返人员报备")
        verbose_name_plural = _("来返人员报备")
        ordering = ["-arrived_on", "-pk"]
        indexes = [
            models.Index(fields=["origin_code", "left_on"], name="travel_origin_idx"),
            models.Index(fields=["destination_division", "arrived_on"], name="travel_dest_idx"),
            models.Index(fields=["arrived_on"], name="travel_arrived_idx"),
            models.Index(fields=["person"], name="travel_person_idx"),
            models.Index(
                fields=["import_job"],
                condition=Q(import_job__isnull=False),
                name="travel_import_job_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(arrived_on__gte=models.F("left_on")), name="travel_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(outside_county=True) | Q(destination_division__isnull=False),
                name="travel_destination_known",
            ),
        ]

    def __str__(self) -> str:
        return f"TravelRegistration#{self.pk}"


class AssistRequestEntry(models.Model):
    """One person on an outgoing letter (who, why, where we believe they are)."""

    request = models.ForeignKey(
        AssistRequest, verbose_name=_("协查函"), on_delete=models.CASCADE, related_name="entries"
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    arrival = models.ForeignKey(
        TravelRegistration,
        verbose_name=_("来返报备"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    category = models.CharField(_("人员类别"), max_length=24, choices=Category.choices, blank=True)
    destination = models.CharField(_("现住址/落地地址"), max_length=200, blank=True)
    feedback = models.CharField(_("核查反馈"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("协查人员")
        verbose_name_plural = _("协查人员")
        ordering = ["request_id", "pk"]

    def __str__(self) -> str:
        return f"AssistRequestEntry#{self.pk}"


class SweepRun(models.Model):
    """A retroactive sweep: a new or widened risk area run backwards over past arrivals."""

    risk_area = models.ForeignKey(
        "policy.RiskArea",
        verbose_name=_("风险地区"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    window_from = models.DateField(_("回溯起始"))
    window_to = models.DateField(_("回溯截止"))
    found = models.PositiveIntegerField(_("找到的来返人员"), default=0)
    orders_proposed = models.PositiveIntegerField(_("新提出的管控措施"), default=0)
    already_covered = models.PositiveIntegerField(_("已有同等或更严措施"), default=0)
    outside_county = models.PositiveIntegerField(_("转县外协查"), default=0)
    seconds = models.FloatField(_("耗时（秒）"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("开始时间"))

    class Meta:
        verbose_name = _("回溯排查")
        verbose_name_plural = _("回溯排查")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"SweepRun#{self.pk}"


class SweepHit(models.Model):
    class Outcome(models.TextChoices):
        PROPOSED = "proposed", _("已提出管控措施")
        COVERED = "covered", _("已有同等或更严措施")
        EXPIRED = "expired", _("管控期已满")
        OUTSIDE = "outside", _("目的地在县外，转协查")

    sweep = models.ForeignKey(
        SweepRun, verbose_name=_("回溯排查"), on_delete=models.CASCADE, related_name="hits"
    )
    arrival = models.ForeignKey(
        TravelRegistration,
        verbose_name=_("来返报备"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    order = models.ForeignKey(
        "control.ControlOrder",
        verbose_name=_("管控措施"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("回溯排查结果")
        verbose_name_plural = _("回溯排查结果")
        ordering = ["sweep_id", "pk"]

    def __str__(self) -> str:
        return f"SweepHit#{self.pk}"


class SelfReport(models.Model):
    """A submission of the public page, kept until the task worker registers it.

    The page only validates, stores and answers with the receipt: registering the arrival
    (matching or creating the person, the rule lookup, the proposed measure, the inbox task)
    runs in the background in batches (`self_reports_process`), seconds later. The row stays
    as the index that makes a resubmission of the same trip answer with the same receipt; its
    `payload` (what the person typed) is emptied once the registration holds it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        DONE = "done", _("已登记")
        FAILED = "failed", _("处理失败")

    receipt_code = models.CharField(_("回执码"), max_length=12, unique=True)
    dedupe_key = models.CharField(_("去重键"), max_length=64, unique=True)
    payload = models.JSONField(_("填报内容"), default=dict, blank=True)
    within = models.CharField(_("二维码区划"), max_length=20, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"))
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    error = models.CharField(_("失败原因"), max_length=300, blank=True)
    registration = models.ForeignKey(
        TravelRegistration,
        verbose_name=_("来返报备"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("扫码报备提交")
        verbose_name_plural = _("扫码报备提交")
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["submitted_at"],
                condition=Q(status="pending"),
                name="selfreport_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"SelfReport#{self.pk}"


class RateCounter(models.Model):
    """Requests of one client in one time window (the public page's rate limit). The key holds
    a hash of the client address, never the address. Expired rows are purged by the loop
    worker. On PostgreSQL the table is UNLOGGED (migration 0007): counters need no crash
    safety, and their upserts then commit without waiting for the disk."""

    key = models.CharField(_("键"), max_length=80)  # unique: Meta.constraints
    count = models.PositiveIntegerField(_("次数"), default=0)
    expires_at = models.DateTimeField(_("过期时间"), db_index=True)

    class Meta:
        verbose_name = _("访问计数")
        verbose_name_plural = _("访问计数")
        constraints = [models.UniqueConstraint(fields=["key"], name="ratecounter_key")]

    def __str__(self) -> str:
        return f"RateCounter#{self.pk}"


class Checkpoint(TimeStampedModel):
    """排查关口: a manned point at a highway exit, a road, a station or a village entrance."""

    class Kind(models.TextChoices):
        HIGHWAY_EXIT = "highway_exit", _("高速公路出口")
        ROAD = "road", _("国道、省道")
        BUS_STATION = "bus_station", _("汽车站")
        RAILWAY_STATION = "railway_station", _("火车站")
        VILLAGE_ENTRANCE = "village_entrance", _("村口")
        OTHER = "other", _("其他")

    name = models.CharField(_("卡口名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    location = models.CharField(_("位置"), max_length=200, blank=True)
    responsible_unit = models.CharField(_("责任单位"), max_length=100, blank=True)
    leader_name = models.CharField(_("责任领导"), max_length=50, blank=True)
    leader_phone = models.CharField(_("责任领导电话"), max_length=20, blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任领导账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    active = models.BooleanField(_("运行中"), default=True)

    class Meta:
        verbose_name = _("卡口")
        verbose_name_plural = _("卡口")
        ordering = ["division_id", "name", "pk"]

    def __str__(self) -> str:
        return f"Checkpoint#{self.pk}"


class DutyShift(models.Model):
    """值守排班: a named person on duty at a checkpoint from one time to another."""

    checkpoint = models.ForeignKey(
        Checkpoint, verbose_name=_("卡口"), on_delete=models.CASCADE, related_name="shifts"
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    staff_name = models.CharField(_("值守人员"), max_length=50)
    staff_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_volunteer = models.BooleanField(_("志愿者"), default=False)
    post = models.CharField(_("岗位（如党员先锋岗）"), max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("排班人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("值守班次")
        verbose_name_plural = _("值守班次")
        ordering = ["checkpoint_id", "starts_at", "pk"]
        indexes = [
            models.Index(fields=["checkpoint", "starts_at", "ends_at"], name="dutyshift_time_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="dutyshift_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"DutyShift#{self.pk}"


class CheckpointPassage(models.Model):
    """过卡登记: one vehicle (or person on foot) passing a checkpoint, with its occupants."""

    class Direction(models.TextChoices):
        IN = "in", _("进入")
        OUT = "out", _("离开")

    class Handover(models.TextChoices):
        NONE = "", _("无需转入")
        PENDING = "pending", _("待转入")
        DONE = "done", _("已转入")
        FAILED = "failed", _("转入失败")

    checkpoint = models.ForeignKey(
        Checkpoint,
        verbose_name=_("卡口"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # passage_checkpoint_idx
    )
    direction = models.CharField(_("方向"), max_length=4, choices=Direction.choices, default="in")
    plate = models.CharField(_("车牌号"), max_length=12, blank=True)
    vehicle_type = models.CharField(_("车辆类型"), max_length=20, blank=True)
    origin_code = models.CharField(_("来源地区划代码"), max_length=20, blank=True)
    origin_name = models.CharField(_("来源地"), max_length=200, blank=True)
    destination_division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("目的网格"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never searched by; a grid is removed only with its passages
    )
    destination_address = models.CharField(_("目的地址"), max_length=200, blank=True)
    purpose = models.CharField(_("事由"), max_length=100, blank=True)
    passed_at = models.DateTimeField(_("过卡时间"))
    flagged = models.BooleanField(_("有需处置人员"), default=False)
    # The hand-over of flagged occupants to the arrival loop, done by the loop worker within
    # about a second of the passage (services_passages.passages_process), not by the request.
    handover = models.CharField(
        _("转入闭环"), max_length=8, choices=Handover.choices, blank=True, default=""
    )
    handover_error = models.CharField(_("转入闭环失败原因"), max_length=500, blank=True)
    # Unique through Meta.constraints (no LIKE-pattern twin index: keys are looked up whole).
    idempotency_key = models.CharField(_("幂等键"), max_length=64)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,  # never searched by; an index would only slow every passage down
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("过卡登记")
        verbose_name_plural = _("过卡登记")
        ordering = ["-passed_at", "-pk"]
        indexes = [
            models.Index(fields=["checkpoint", "passed_at"], name="passage_checkpoint_idx"),
            models.Index(fields=["plate", "passed_at"], name="passage_plate_idx"),
            # The retroactive sweep: passages from a region within a window.
            models.Index(fields=["origin_code", "passed_at"], name="passage_origin_idx"),
            # The loop worker's queue: only the few passages still waiting are indexed.
            models.Index(
                fields=["id"], condition=Q(handover="pending"), name="passage_handover_pending"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="passage_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"CheckpointPassage#{self.pk}"


class PassageOccupant(models.Model):
    """A driver or passenger of a passage. Flagged (from a risk area, or a fever) occupants
    become arrivals in the loop (`arrival`), addressed to the destination grid."""

    class Flag(models.TextChoices):
        NONE = "", _("无")
        RISK_AREA = "risk_area", _("来自风险地区")
        FEVER = "fever", _("发热")
        BOTH = "both", _("来自风险地区且发热")

    passage = models.ForeignKey(
        CheckpointPassage,
        verbose_name=_("过卡登记"),
        on_delete=models.CASCADE,
        related_name="occupants",
        db_index=False,  # occupant_one_per_seat (passage, seq) serves it
    )
    seq = models.PositiveSmallIntegerField(_("序号"))
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("人员"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # occupant_person_idx: only the rows that have one
    )
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=24, default="resident_id")
    id_number = models.CharField(_("证件号码"), max_length=32)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    temperature = models.DecimalField(_("体温（℃）"), max_digits=3, decimal_places=1)
    risk_level = models.CharField(
        _("来源地风险等级"), max_length=8, choices=RiskLevel.choices, blank=True
    )
    flag = models.CharField(_("提示"), max_length=10, choices=Flag.choices, blank=True)
    arrival = models.ForeignKey(
        TravelRegistration,
        verbose_name=_("来返报备"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # occupant_arrival_idx: only the rows that have one
    )

    class Meta:
        verbose_name = _("过卡人员")
        verbose_name_plural = _("过卡人员")
        ordering = ["passage_id", "seq"]
        # Most occupants have no registered person and no arrival: partial indexes keep the
        # barrier's insert from writing an entry for nothing.
        indexes = [
            models.Index(fields=["id_number"], name="occupant_id_number_idx"),
            models.Index(
                fields=["person"], name="occupant_person_idx", condition=Q(person__isnull=False)
            ),
            models.Index(
                fields=["arrival"], name="occupant_arrival_idx", condition=Q(arrival__isnull=False)
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["passage", "seq"], name="occupant_one_per_seat"),
            models.CheckConstraint(
                condition=Q(temperature__gte=34) & Q(temperature__lte=43),
                name="occupant_temperature_range",
            ),
        ]

    def __str__(self) -> str:
        return f"PassageOccupant#{self.pk}"
