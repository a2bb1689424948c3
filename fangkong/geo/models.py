"""The county and its grid: county -> town/street -> village/community -> small grid.

A division's primary key is its code, and codes nest: 610326 (county) > 610326107 (town) >
610326107201 (village, the 12-digit statistical code) > 610326107201003 (small grid). So a
subtree is one range scan on an index: code >= X and code < X + ':' (':' sorts right after '9'),
on this table and on every table that points at a division.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SUBTREE_END = ":"  # the character after "9": every descendant code sorts below code + ":"

# Code length at each level.
LEVEL_CODE_LENGTHS = {0: 6, 1: 9, 2: 12, 3: 15}


def subtree_q(field: str, code: str) -> Q:
    """Q for rows whose division `field` (a code) lies in the subtree of `code`."""
    return Q(**{f"{field}__gte": code, f"{field}__lt": code + SUBTREE_END})


class Division(models.Model):
    class Level(models.IntegerChoices):
        COUNTY = 0, _("县")
        TOWN = 1, _("镇/街道（大网格）")
        VILLAGE = 2, _("村/社区（中网格）")
        GRID = 3, _("组/小区（小网格）")

    class Kind(models.TextChoices):
        URBAN = "urban", _("城镇")
        RURAL = "rural", _("乡村")
        OTHER = "other", _("其他")

    code = models.CharField(_("区划代码"), max_length=20, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    kind = models.CharField(_("城乡类型"), max_length=8, choices=Kind.choices, default=Kind.RURAL)
    full_name = models.CharField(_("全称"), max_length=300, blank=True)
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    # The import job that created the division (rolling the job back deletes it if unused).
    import_job = models.ForeignKey(
        "imports.ImportJob",
        verbose_name=_("导入任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("行政区划/网格")
        verbose_name_plural = _("行政区划/网格")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"], name="division_level_code_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]+$"), name="division_code_digits"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=0, level__lte=3), name="division_level_range"
            ),
            models.CheckConstraint(
                condition=Q(level=0) | Q(parent__isnull=False), name="division_parent_unless_root"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_small_grid(self) -> bool:
        return self.level == self.Level.GRID

    def subtree_q(self, field: str = "code") -> Q:
        return subtree_q(field, self.code)

    def ancestor_codes(self) -> list[str]:
        """Codes of this division and its ancestors, root first, derived from the code alone."""
        lengths = [n for n in LEVEL_CODE_LENGTHS.values() if n < len(self.code)]
        return [self.code[:n] for n in lengths] + [self.code]


URBAN_VILLAGE_MAX = 199  # NBS: residents' committees 001-199, villagers' committees 200-399


def kind_for_code(code: str, name: str = "") -> str:
    """Urban or rural from the statistical code (and the name where the code is not NBS)."""
    if len(code) == 12:
        seq = int(code[9:12])
        return Division.Kind.URBAN if seq <= URBAN_VILLAGE_MAX else Division.Kind.RURAL
    if len(code) == 9:
        town = int(code[6:9])
        if town < 100:
            return Division.Kind.URBAN
        return Division.Kind.RURAL if town < 400 else Division.Kind.OTHER
    if "社区" in name or "小区" in name or "街道" in name:
        return Division.Kind.URBAN
    return Division.Kind.RURAL


class Region(models.Model):
    """A GB/T 2260 administrative division of the whole country: province, city or county.

    Reference data for codes that lie outside the county (where an arrival comes from, where a
    risk area is). Loaded from geo/data/regions.csv by migration 0004 (scripts/build_regions.py
    says how the file is made); read through fangkong.geo.regions. Codes are stored with six
    digits; `prefix` is the part that matters (11 for Beijing, 1101, 110105), the form risk
    areas and origins use so that "under" is a string prefix.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省级")
        CITY = 2, _("地级")
        COUNTY = 3, _("县级")

    code = models.CharField(_("区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=50)
    full_name = models.CharField(_("全称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent_code = models.CharField(_("上级代码"), max_length=6, blank=True, db_index=True)

    class Meta:
        verbose_name = _("全国行政区划（GB/T 2260）")
        verbose_name_plural = _("全国行政区划（GB/T 2260）")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{6}$"), name="region_code_six_digits"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=3), name="region_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.code})"

    @property
    def prefix(self) -> str:
        return region_prefix(self.code, self.level)


def region_prefix(code: str, level: int) -> str:
    """The significant digits of a six-digit code: 2 for a province, 4 for a city, else 6."""
    return code[:2] if level == 1 else code[:4] if level == 2 else code
