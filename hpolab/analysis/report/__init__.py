"""Write a comparison report: report.md (tables + PNGs beside it) and a self-contained report.html.

The report says what produced it (command, suite, seeds, optimizer options), where (machine,
package versions) and what came out: Table 1 with random search's exact baseline, the
best value per task, cost and LLM usage per optimizer, the RMSE of errors, budget accounting for
multi-fidelity runs, fANOVA importance, and the plots; with Table 1 the aggregate view (interquartile
mean, probability of improvement, Holm-corrected tests against random search, a critical-difference
diagram) and a sentence on what the run can and cannot conclude. Every interval is a 95% percentile
bootstrap over seeds stratified by task (:mod:`hpolab.analysis.stats`), inside its metric's range.

Each part of the report is one ``section_*`` function, called in the order of :data:`SECTIONS` with a
:class:`ReportContext` (the trial table, the options, the document to add to). The sections live in
this package's modules, one idea each: ``_provenance`` (title, set-up, machine), ``_table1`` (Table 1,
best value per task), ``_statistics`` (the aggregate view and its conclusion), ``_curves`` (regret and
rank plots), ``_cost`` (time, tokens, fidelity budget), ``_sources`` (proposal sources, LLM answers),
``_rmse`` and ``_importance``; ``_section`` says what a section is, ``_document`` writes Markdown and
HTML, ``_format`` writes numbers and intervals.

To add a section, write ``def section_x(ctx: ReportContext) -> None`` that adds blocks with
``ctx.doc.h`` / ``p`` / ``bullets`` / ``table`` / ``image`` (and its tables to ``ctx.report.tables``),
and add it to :data:`SECTIONS` where it should appear: that one line is the whole change. A section
that does not apply to the data (no LLM trials, say) returns without writing anything; one that
should appear only on request is decorated with ``@optional_section("x")`` and is then switched on by
``write_report(sections=[..., "x"])`` and ``hpolab report --sections ...,x``. Sections that live
elsewhere (a suite's paper tables, :func:`hpolab.benchmark.section_paper`) are passed in with
``write_report(..., extra_sections=[...])`` and run after :data:`SECTIONS`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab._deprecation import renamed_keyword
from hpolab._secrets import mask_secrets, redact_command
from hpolab._table import POOL_LABEL
from hpolab.analysis.report._cost import section_budget, section_cost
from hpolab.analysis.report._curves import section_per_task_plot, section_plots, section_regret_and_rank
from hpolab.analysis.report._document import Document
from hpolab.analysis.report._importance import section_importance
from hpolab.analysis.report._provenance import (
    machine_info,
    package_versions,
    section_machine,
    section_setup,
    section_title,
)
from hpolab.analysis.report._rmse import section_rmse
from hpolab.analysis.report._section import Report, ReportContext, Section, optional_names, optional_section
from hpolab.analysis.report._sources import section_llm_answers, section_sources
from hpolab.analysis.report._statistics import aggregate_view, conclusion, section_statistics
from hpolab.analysis.report._table1 import section_best_per_task, section_table1, table1_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OPTIONAL_SECTIONS",
    "Document",
    "SECTIONS",
    "Report",
    "ReportContext",
    "Section",
    "aggregate_view",
    "conclusion",
    "machine_info",
    "optional_section",
    "package_versions",
    "section_best_per_task",
    "section_budget",
    "section_cost",
    "section_importance",
    "section_llm_answers",
    "section_machine",
    "section_per_task_plot",
    "section_plots",
    "section_regret_and_rank",
    "section_rmse",
    "section_setup",
    "section_sources",
    "section_statistics",
    "section_table1",
    "table1_table",
    "section_title",
    "write_report",
]

#: The report's sections, in the order they appear. To add one, write ``section_x(ctx)`` and add it
#: here (one line); decorate it with ``@optional_section("x")`` if it should appear only when asked for.
SECTIONS: list[Section] = [
    section_title,
    section_setup,
    section_machine,
    section_table1,
    section_statistics,
    section_best_per_task,
    section_plots,
    section_regret_and_rank,
    section_per_task_plot,
    section_cost,
    section_sources,
    section_llm_answers,
    section_rmse,
    section_budget,
    section_importance,
]


#: Names ``write_report(sections=...)`` and ``hpolab report --sections`` accept.
OPTIONAL_SECTIONS: tuple[str, ...] = optional_names(SECTIONS)


def write_report(
    df: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    title: str = "hpolab comparison",
    description: str | None = None,
    command: str | None = None,
    n_trials: int | None = 10,
    budget: int | None = None,
    sections: Sequence[str] = ("table1", "importance"),
    contexts: Sequence[Mapping[str, Any]] = (),
    seed: int = 0,
    n_bootstrap: int = 1000,
    notes: Sequence[str] = (),
    extra_sections: Sequence[Section] = (),
    storage: str | os.PathLike[str] | None = None,
) -> Report:
    """Write report.md, report.html and the PNGs into ``out_dir``.

    Args:
        df: Trial table (:func:`hpolab.benchmark.run` / :func:`~hpolab.benchmark.load_results`).
        out_dir: Output folder (created).
        title: Report title.
        description: A paragraph on what is compared.
        command: The command that produced the report.
        n_trials: Evaluations at which Table 1 and the per-task table are computed (``None``: all trials).
        budget: Deprecated old name of ``n_trials``.
        sections: Which optional sections to include (names in :data:`OPTIONAL_SECTIONS`, e.g. ``"table1"``,
            ``"importance"``, or of an optional section in ``extra_sections``); the set-up, regret, rank,
            per-task and cost sections are always there.
        contexts: The benchmark attributes of the studies (:func:`hpolab.benchmark.study_contexts`):
            commands, optimizer options and run times.
        seed: Seed of the bootstrap baseline and of the fANOVA forest.
        n_bootstrap: Bootstrap replicates of the random baseline.
        notes: Extra bullet points (e.g. how the run was sized).
        extra_sections: Sections added after :data:`SECTIONS`, in order (e.g.
            :func:`hpolab.benchmark.section_paper` of a suite); an optional one (``@optional_section("x")``)
            runs only when ``sections`` names it, like the built-in ones.
        storage: Where the runs of ``df`` are (:attr:`ReportContext.storage`): a section that trains
            (a paper's transfer study) records its trainings there and reads them back when the report is
            written again.

    Returns:
        A :class:`Report` with the paths and tables.

    Raises:
        ValueError: If ``df`` has no trials, or a name in ``sections`` is neither in :data:`OPTIONAL_SECTIONS`
            nor an optional section of ``extra_sections``.
    """
    n_trials = renamed_keyword("write_report", "budget", "n_trials", budget, n_trials, default=10)
    if df.empty:
        raise ValueError("df: no trials to report; run a benchmark first")
    known = tuple(dict.fromkeys([*OPTIONAL_SECTIONS, *optional_names(extra_sections)]))
    unknown = sorted(set(sections) - set(known))
    if unknown:
        raise ValueError(f"sections: {unknown} unknown; choose from {', '.join(known)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    methods_df = df[df["optimizer"] != POOL_LABEL]
    ctx = ReportContext(
        df=df,
        out=out,
        doc=Document(),
        report=Report(markdown=out / "report.md", html=out / "report.html"),
        title=title,
        description=description,
        command=None if command is None else redact_command(command),
        n_trials=n_trials,
        sections=tuple(sections),
        contexts=[mask_secrets(c) for c in contexts],
        seed=seed,
        n_bootstrap=n_bootstrap,
        notes=notes,
        methods_df=methods_df,
        optimizers=sorted(methods_df["optimizer"].unique()),
        objectives=sorted(df["objective"].unique()),
        seeds=sorted({int(s) for s in methods_df["seed"].unique()}),
        storage=None if storage is None else os.fspath(storage),
    )
    for section in [*SECTIONS, *extra_sections]:
        name = getattr(section, "optional_name", None)
        if name is None or name in ctx.sections:
            section(ctx)
    rep = ctx.report
    rep.images = [Path(b[1][0]) for b in ctx.doc.blocks if b[0] == "img"]
    rep.markdown.write_text(ctx.doc.markdown(out), encoding="utf-8")
    rep.html.write_text(ctx.doc.html(title), encoding="utf-8")
    return rep
