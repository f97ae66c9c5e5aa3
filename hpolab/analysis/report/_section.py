"""What a report section is: a function that reads a :class:`ReportContext` and adds to its document.

:func:`~hpolab.analysis.report.write_report` builds one :class:`ReportContext` and calls each section
with it, in order; a section marked with :func:`optional_section` runs only when its name is asked for.
What the report wrote comes back as a :class:`Report`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab.analysis.report._document import Document

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Report", "ReportContext", "Section", "optional_names", "optional_section"]


@dataclass
class Report:
    """What :func:`~hpolab.analysis.report.write_report` wrote.

    Attributes:
        markdown: Path of report.md.
        html: Path of report.html.
        images: Paths of the PNGs.
        tables: The tables shown, by name (``"table1"``, ``"tasks"``, ``"cost"``, ...).
    """

    markdown: Path
    html: Path
    images: list[Path] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass
class ReportContext:
    """What every section reads, and where it writes.

    Attributes:
        df: The whole trial table (the random pool included).
        out: Output folder (PNGs go here).
        doc: The document the sections add blocks to.
        report: The :class:`Report` being built (sections add their tables to ``report.tables``).
        title: Report title.
        description: A paragraph on what is compared, or ``None``.
        command: The command that produced the report, or ``None``.
        n_trials: Evaluations at which Table 1 and the per-task table are computed (``None``: all).
        sections: The optional sections asked for (see :data:`~hpolab.analysis.report.OPTIONAL_SECTIONS`).
        contexts: The benchmark attributes of the studies.
        seed: Seed of the bootstrap baseline and of the fANOVA forest.
        n_bootstrap: Bootstrap replicates of the random baseline.
        notes: Extra bullet points for the set-up.
        methods_df: ``df`` without the random pool.
        optimizers: Optimizer labels (sorted), the pool left out.
        objectives: Objective names (sorted).
        seeds: Seeds of the methods' runs (sorted).
        random_losses: Random search's bootstrap value per task, in the objective's direction, once
            the Table 1 section has computed it (``None`` before or without it).
        images: ``(path, alt text, kind)`` of the PNGs the plots section wrote.
        storage: Where the runs are (a URL or path), for sections that keep studies of their own beside
            them; ``None`` when the report is written from the trial table alone.
    """

    df: pd.DataFrame
    out: Path
    doc: Document
    report: Report
    title: str
    description: str | None
    command: str | None
    n_trials: int | None
    sections: Sequence[str]
    contexts: Sequence[Mapping[str, Any]]
    seed: int
    n_bootstrap: int
    notes: Sequence[str]
    methods_df: pd.DataFrame
    optimizers: list[str]
    objectives: list[str]
    seeds: list[int]
    random_losses: dict[str, float] | None = None
    images: list[tuple[Path, str, str]] = field(default_factory=list)
    storage: str | None = None


#: A report section: adds blocks to ``ctx.doc`` (and tables to ``ctx.report.tables``).
Section = Callable[[ReportContext], None]


def optional_section(name: str) -> Callable[[Section], Section]:
    """Mark a section as optional: it runs only when ``name`` is in ``write_report(sections=...)``.

    Args:
        name: The name ``write_report(sections=...)`` and ``hpolab report --sections`` switch it on by.

    Returns:
        A decorator that sets the section's ``optional_name`` and returns the section itself.
    """

    def mark(fn: Section) -> Section:
        fn.optional_name = name  # type: ignore[attr-defined]
        return fn

    return mark


def optional_names(sections: Sequence[Section]) -> tuple[str, ...]:
    """The names of the optional sections among ``sections`` (see :func:`optional_section`), in order, each once."""
    return tuple(dict.fromkeys(str(fn.optional_name) for fn in sections if hasattr(fn, "optional_name")))
