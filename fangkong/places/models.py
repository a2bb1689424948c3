"""Key places (重点场所) with their venue QR codes, and the check-ins made by scanning them.

A `Place` is registered once (school, enterprise, hotel, market ...) with its division, address
and person in charge; the inspection issue builds on the same registry. Its `code` is printed on
a poster as a QR code that opens the public check-in page. A `CheckIn` is one person at one
place from a time in to a time out: scanned out, or imputed by the `StayRule` of the place's kind
(a fixed stay, capped) and marked as imputed. Hotels register guests for whole stays. Contact
tracing (issue 6) looks for overlapping check-ins at the same place, bounded by the place's
`longest_stay_minutes` (no check-in there lasts longer).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel


class PlaceKind(models.TextChoices):
    SCHOOL = "school", _("学校")
    ENTERPRISE = "enterprise", _("企业")
    HOTEL = "hotel", _("宾馆、旅店")
    FARM_STAY = "farm_stay", _("农家乐、民宿")
    MARKET = "market", _("农贸市场")
    SUPERMARKET = "supermarket", _("商超")
    PHARMACY = "pharmacy", _("药店")
    POULTRY = "poultry", _("活禽销售点")
    COLD_STORE = "cold_store", _("冷库")
    RESTAURANT = "restaurant", _("餐馆")
    BATHHOUSE = "bathhouse", _("洗浴场所")
    RELIGIOUS = "religious", _("宗教活动场所")
    CONSTRUCTION = "construction", _("建筑工地")
    TRANSPORT = "transport", _("车站")
    OTHER = "other", _("其他")


class Place(TimeStampedModel):
    code = models.CharField(_("场所码"), max_length=16, unique=True)
    name = models.CharField(_("场所名称"), max_length=200)
    kind = models.CharField(_("场所类型"), max_length=16, choices=PlaceKind.choices)
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("所属区划"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # place_division_idx
    )
    address = models.CharField(_("地址"), max_length=200)
    person_in_charge = models.CharField(_("负责人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    active = models.BooleanField(_("营业中"), default=True)
    # An upper bound on the length of every check-in at this place (minutes): contact tracing
    # scans check-ins by (place, time in) from `case in - buffer - longest_stay`, so no stay
    # may be longer. Set to the cap of the kind at creation and only ever raised, by each write
    # that records a longer stay (scan-out, batch/import rows with a time out, a kind change,
    # a stay-rule cap raised): see `places.services_places.raise_longest_stay`.
    longest_stay_minutes = models.PositiveIntegerField(_("最长停留（分钟）"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("重点场所")
        verbose_name_plural = _("重点场所")
        ordering = ["division_id", "name", "pk"]
        indexes = [
            models.Index(fields=["division", "kind"], name="place_division_idx"),
            models.Index(fields=["name"], name="place_name_idx"),
        ]

    def __str__(self) -> str:
        return f"Place#{self.pk}"

    def save(self, *args, **kwargs) -> None:
        # A new place without a bound gets the cap of its kind (places.services_places does
        # the same explicitly): the invariant of longest_stay_minutes holds from the start.
        if self._state.adding and not self.longest_stay_minutes:
            from .selectors_places import stay_for

            self.longest_stay_minutes = stay_for(kind=self.kind)[1]
        super().save(*args, **kwargs)


class StayRule(models.Model):
    """How long a visit is taken to last when nobody scanned out, per kind of place (minutes),
    and the cap on any stay that is imputed. Set by the county; defaults where none is set."""

    kind = models.CharField(_("场所类型"), max_length=16, choices=PlaceKind.choices, unique=True)
    stay_minutes = models.PositiveIntegerField(_("默认停留（分钟）"))
    cap_minutes = models.PositiveIntegerField(_("最长推定停留（分钟）"))
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
        verbose_name = _("停留时长规则")
        verbose_name_plural = _("停留时长规则")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stay_minutes__lte=models.F("cap_minutes")), name="stayrule_within_cap"
            )
        ]

    def __str__(self) -> str:
        return f"StayRule {self.kind}"


class CheckIn(models.Model):
    class Source(models.TextChoices):
        SCAN = "scan", _("扫码")
        HOTEL = "hotel", _("旅店住宿登记")
        API = "api", _("接口")
        IMPORT = "import", _("场所码平台导入")

    place = models.ForeignKey(
        Place,
        verbose_name=_("场所"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # checkin_place_time_idx
    )
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("人员"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Who scanned, as they typed it (PIPL: whereabouts; read through selectors only).
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=24, default="resident_id")
    id_number = models.CharField(_("证件号码"), max_length=32)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    checked_in_at = models.DateTimeField(_("进入时间"))
    checked_out_at = models.DateTimeField(_("离开时间"))
    out_imputed = models.BooleanField(_("离开时间为推定"), default=True)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    room = models.CharField(_("房间号"), max_length=20, blank=True)
    # A retry of the same scan (or batch row) carries the same key and finds the first one.
    # Unique through Meta.constraints: a plain unique index, without the LIKE-pattern twin
    # Django adds beside `unique=True` (keys are only ever looked up whole).
    idempotency_key = models.CharField(_("幂等键"), max_length=64, null=True, blank=True)
    import_job = models.ForeignKey(
        "imports.ImportJob",
        verbose_name=_("导入任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("场所码登记")
        verbose_name_plural = _("场所码登记")
        ordering = ["-checked_in_at", "-pk"]
        indexes = [
            models.Index(
                fields=["place", "checked_in_at", "checked_out_at"], name="checkin_place_time_idx"
            ),
            models.Index(fields=["id_number", "checked_in_at"], name="checkin_person_idx"),
            models.Index(
                fields=["import_job"],
                condition=Q(import_job__isnull=False),
                name="checkin_import_job_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(checked_out_at__gte=models.F("checked_in_at")),
                name="checkin_out_after_in",
            ),
            models.UniqueConstraint(fields=["idempotency_key"], name="checkin_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"CheckIn#{self.pk}"
