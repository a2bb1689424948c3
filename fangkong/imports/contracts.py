"""The contract between the import engine and the importers of each app.

The engine (this app) reads a file, finds the header row, maps headers to column keys, cuts
the rows into batches, runs each batch in a transaction recorded against an ImportJob, and
collects the bad rows into an error spreadsheet. An importer (people/importers.py,
geo/importers.py, and later arrivals, lab results, places ...) says which columns it reads and
turns a batch of rows into writes. Importers register themselves with `@register`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .models import ImportJob


@dataclass(frozen=True)
class Column:
    """One column an importer reads (and its exports write).

    `label` is the header exports and error files write; `aliases` are the other spellings
    found in real files (compared after normalize_header: no spaces, brackets unified,
    full-width folded). `kind` tells the engine how to clean the cell before the importer
    sees it: "text", "number_text" (ID/phone/codes: floats and scientific notation from
    Excel are rescued or refused), "date" (Excel serials, 2020.12.28, 20201228, 2020年12月28日).
    """

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    kind: str = "text"


@dataclass
class SourceRow:
    """One data row: its number in the sheet as the user sees it (1-based, counting title
    and header rows), the cleaned values by column key, and the row as read, in file order."""

    number: int
    values: dict[str, Any]
    original: list[Any]
    # Cleaning problems found by the engine (field key -> messages); the importer reports
    # them together with its own, so a row lists every reason at once.
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class RowError:
    row: SourceRow
    errors: dict[str, list[str]]
    kind: str = "invalid"  # "invalid" or "conflict" (same document number, different name ...)


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


class Importer:
    """Base class. Subclasses set the class attributes and implement process_batch/rollback.

    The engine creates one instance per run: Importer(job=job, actor=actor, options=job.options).
    process_batch runs inside the engine's transaction (it must not commit or catch database
    errors); for a dry run the engine rolls everything back at the end, so a dry run reports
    exactly what a real run would do.
    """

    kind: ClassVar[str]
    label: ClassVar[Any]
    columns: ClassVar[tuple[Column, ...]]
    # Header sets of which at least one must be fully present, e.g. (("name",), ("id_number",))
    # means "a name column or an ID column". Checked before any row is read.
    required_any: ClassVar[tuple[tuple[str, ...], ...]] = ()
    batch_size: ClassVar[int] = 5000

    def __init__(self, *, job: ImportJob, actor: Any, options: dict[str, Any]) -> None:
        self.job = job
        self.actor = actor
        self.options = options

    # Loads that read no file, offered on the command line as `fangkong import KIND --NAME
    # VALUE` (e.g. `divisions --national 610326`): NAME -> help text. Run by run_source.
    sources: ClassVar[dict[str, str]] = {}

    @classmethod
    def run_source(cls, *, actor: Any, name: str, value: str, options: dict[str, Any]) -> str:
        """Run one of `sources`; returns the summary line to print. Bad input raises a
        DomainError (the command prints it and exits non-zero)."""
        raise NotImplementedError

    def check_options(self) -> dict[str, list[str]]:
        """Errors in the run's options (e.g. an unknown --division); empty when fine."""
        return {}

    def process_batch(self, rows: list[SourceRow]) -> BatchResult:
        raise NotImplementedError

    def rollback(self) -> int:
        """Undo what self.job wrote; returns the number of rows undone."""
        raise NotImplementedError


REGISTRY: dict[str, type[Importer]] = {}


def register(cls: type[Importer]) -> type[Importer]:
    REGISTRY[cls.kind] = cls
    return cls


def importer_for(kind: str) -> type[Importer] | None:
    return REGISTRY.get(kind)
