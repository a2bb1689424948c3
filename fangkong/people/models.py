from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAU_PERMIT = "hk_macau_permit", _("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", _("台湾居民来往大陆通行证")
    FOREIGN_PERMANENT_ID = "foreign_permanent_id", _("外国人永久居留身份证")
    NONE = "none", _("无证件")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")
    UNKNOWN = "U", _("未知")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙辈")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    CHILD_IN_LAW = "child_in_law", _("儿媳/女婿")
    OTHER_RELATIVE = "other_relative", _("其他亲属")
    OTHER = "other", _("其他")


class Household(TimeStampedModel):
    """户: people at one address, in one small grid."""

    address = models.CharField(_("地址"), max_length=200)
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("所属网格"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    head = models.ForeignKey(
        "people.Person",
        verbose_name=_("户主"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # 户号 as the roster that brought the household wrote it (户编号/户编码); a re-import of
    # the same roster finds the household by it.
    number = models.CharField(_("户号"), max_length=40, blank=True, default="")
    # The import that created the household (rollback deletes it when it is empty).
    import_job = models.ForeignKey(
        "imports.ImportJob",
        verbose_name=_("导入任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # household_import_job_idx: only the few rows that have one
    )

    class Meta:
        verbose_name = _("住户")
        verbose_name_plural = _("住户")
        ordering = ["division_id", "pk"]
        indexes = [
            models.Index(fields=["address"], name="household_address_idx"),
            models.Index(fields=["number"], condition=~Q(number=""), name="household_number_idx"),
            models.Index(
                fields=["import_job"],
                condition=Q(import_job__isnull=False),
                name="household_import_job_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Household#{self.pk}"


class Person(TimeStampedModel):
    """A person known to the county. Sensitive under the PIPL: read through selectors only."""

    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    id_type = models.CharField(
        _("证件类型"), max_length=24, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = models.CharField(_("证件号码"), max_length=32, null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True, db_index=True)
    division = models.ForeignKey(
        "geo.Division",
        verbose_name=_("所属网格"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # person_division_idx (division, merged_into) serves every lookup
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("住户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    relation_to_head = models.CharField(
        _("与户主关系"), max_length=16, choices=Relation.choices, blank=True
    )
    address = models.CharField(_("现住址"), max_length=200, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        # Almost every row is NULL here: a plain index would tempt SQLite to scan the
        # county through it; the partial index below serves "records merged into X".
        db_index=False,
    )
    # The import that created the person: rollback deletes what it created.
    import_job = models.ForeignKey(
        "imports.ImportJob",
        verbose_name=_("导入任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # person_import_job_idx: partial, people typed in by hand have none
    )

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["division", "merged_into"], name="person_division_idx"),
            models.Index(fields=["name", "division", "merged_into"], name="person_name_scope_idx"),
            models.Index(fields=["id_number"], name="person_id_number_idx"),
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="person_merged_into_idx",
            ),
            models.Index(
                fields=["import_job"],
                condition=Q(import_job__isnull=False),
                name="person_import_job_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number"],
                condition=Q(id_number__isnull=False, merged_into__isnull=True),
                name="person_unique_document",
            ),
            models.CheckConstraint(
                condition=Q(id_type="none", id_number__isnull=True)
                | (~Q(id_type="none") & Q(id_number__isnull=False) & ~Q(id_number="")),
                name="person_document_matches_type",
            ),
        ]

    def __str__(self) -> str:
        return f"Person#{self.pk}"

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class PersonRevision(models.Model):
    """The previous values of fields a write changed: the person's own history.

    It lives beside the person (same protection), never in the audit log.
    """

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="revisions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verb = models.CharField(_("操作"), max_length=32)
    before = models.JSONField(_("修改前"), default=dict)
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    # The import that made this change: rollback restores `before` from its revisions.
    import_job = models.ForeignKey(
        "imports.ImportJob",
        verbose_name=_("导入任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # revision_import_job_idx (partial)
    )

    class Meta:
        verbose_name = _("人员修改记录")
        verbose_name_plural = _("人员修改记录")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(
                fields=["import_job"],
                condition=Q(import_job__isnull=False),
                name="revision_import_job_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"PersonRevision#{self.pk}"
