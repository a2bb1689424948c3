"""What the pages and the API show of an import job and of its bad rows.

A bad row holds the row as read from the user's file, i.e. personal data. Viewers whose role
may not see full personal data (policy.can_reveal false) get every cell masked the way the
people screens mask it: names to the surname, ID numbers to the address code and the last two
characters, phones to 3 + 4, addresses to the town/village part; a cell under a header the
importer does not know is masked as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext as _

from fangkong.core.masking import mask_address, mask_id_number, mask_name, mask_phone

from .contracts import Column, importer_for
from .models import ImportJob, ImportRowError

ACTIVE = ("pending", "running")
RESUMABLE = ("interrupted", "failed")


def _size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def error_filename(job: ImportJob) -> str:
    """花名册_错误行.xlsx for 花名册.xlsx."""
    stem = job.filename.rsplit(".", 1)[0] if "." in job.filename else job.filename
    return _("%(stem)s_错误行.xlsx") % {"stem": stem or _("导入")}


def kind_label(kind: str) -> str:
    importer = importer_for(kind)
    return str(importer.label) if importer is not None else kind


def job_display(*, job: ImportJob) -> dict[str, Any]:
    options = job.options or {}
    actor = job.actor
    return {
        "id": job.pk,
        "kind": job.kind,
        "kind_label": kind_label(job.kind),
        "filename": job.filename,
        "size": job.size,
        "size_label": _size_label(job.size),
        "actor": str(actor) if actor is not None else _("系统（命令行）"),
        "actor_username": actor.get_username() if actor is not None else "",
        "division": options.get("division") or "",
        "dry_run": job.dry_run,
        "status": job.status,
        "status_label": job.get_status_display(),
        "active": job.status in ACTIVE,
        "total_rows": job.total_rows,
        "processed": job.next_row,
        "percent": job.progress_percent,
        "rows_per_s": round(job.rows_per_s, 1),
        "seconds": round(job.seconds, 2),
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "error_rows": job.error_rows,
        "conflicts": job.conflicts,
        "bad_rows": job.error_rows,
        "no_change": job.all_unchanged,
        "summary": job.summary,
        # The engine's note on a failure, an interruption or a rollback (unknown columns are
        # listed on their own).
        "message": job.message if job.status in ("failed", "interrupted", "rolled_back") else "",
        "unknown_columns": [str(c) for c in options.get("unknown_columns") or []],
        "can_resume": job.status in RESUMABLE or job.is_stale,
        "can_rollback": job.can_rollback and job.status not in ACTIVE,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


# --- bad rows --------------------------------------------------------------------------------


def _mask_whole(value: str) -> str:
    return value[:1] + "***" if value else ""


def _masker(column: Column | None) -> Callable[[str], str] | None:
    """None: show as is. Keys are matched by their parts, so head_name or head_id_number of a
    household import are masked like name and id_number."""
    if column is None:
        return _mask_whole
    key = column.key
    if "id_number" in key or key.endswith("document"):
        return mask_id_number
    if "phone" in key or "mobile" in key:
        return mask_phone
    if "address" in key:
        return mask_address
    if "name" in key and not key.startswith(("division", "town", "village", "group", "grid")):
        return mask_name
    if key in ("notes", "remark", "birth_date"):
        return _mask_whole
    return None


def _layout(job: ImportJob) -> tuple[list[str], list[Column | None]]:
    """The header as read and, per column, the importer's Column (None: nobody reads it)."""
    layout = (job.options or {}).get("layout") or {}
    header = [str(h) for h in layout.get("labels") or []]
    keys = list(layout.get("keys") or [])
    importer = importer_for(job.kind)
    by_key = {c.key: c for c in importer.columns} if importer is not None else {}
    columns = [
        by_key.get(keys[i]) if i < len(keys) and keys[i] else None for i in range(len(header))
    ]
    return header, columns


def _field_labels(job: ImportJob) -> dict[str, str]:
    importer = importer_for(job.kind)
    labels = {"__all__": "", "row": ""}
    if importer is not None:
        labels.update({c.key: str(c.label) for c in importer.columns})
    return labels


def reasons(errors: dict[str, Iterable[str]], labels: dict[str, str]) -> list[str]:
    """{"id_number": ["校验位不正确"]} -> ["证件号码：校验位不正确"]."""
    lines = []
    for field, messages in (errors or {}).items():
        label = labels.get(field, field)
        for message in messages:
            lines.append(f"{label}{_('：')}{message}" if label else str(message))
    return lines


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def row_error_rows(
    *, job: ImportJob, row_errors: Iterable[ImportRowError], viewer: Any
) -> list[dict[str, Any]]:
    """Bad rows as the viewer may see them: row number, kind, reasons with column labels,
    and the cells as read under their headers (masked for roles that cannot reveal)."""
    header, columns = _layout(job)
    reveal = bool(getattr(getattr(viewer, "policy", None), "can_reveal", False))
    labels = _field_labels(job)
    rows = []
    for error in row_errors:
        cells = []
        for index, value in enumerate(error.original or []):
            text = _cell_text(value)
            column = columns[index] if index < len(columns) else None
            if text and not reveal:
                masker = _masker(column)
                if masker is not None:
                    text = masker(text)
            name = header[index] if index < len(header) else _("第 %(n)s 列") % {"n": index + 1}
            cells.append({"header": name, "value": text})
        rows.append(
            {
                "row_number": error.row_number,
                "kind": error.kind,
                "kind_label": error.get_kind_display(),
                "reasons": reasons(error.errors, labels),
                "errors": error.errors,
                "cells": cells,
                "masked": not reveal,
            }
        )
    return rows
