"""The papers hpolab reproduces: one module per paper, each with its suites, its tables and its report section.

Every module here (``seed000``, ``seed002``, ``seed003``, ``seed004``) defines ``SUITES`` (its
:class:`~hpolab.benchmark.Suite` objects, each saying where it differs from the paper) and
``report(ctx, suite)``, which writes that paper's tables beside the run's numbers into a report.
:data:`PAPER_SUITES` collects the suites for the registry (:data:`hpolab.benchmark.SUITES`);
:func:`section_paper` turns a suite into a report section for
:func:`~hpolab.analysis.report.write_report`'s ``extra_sections``.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from hpolab.benchmark.papers import seed000, seed002, seed003, seed004

if TYPE_CHECKING:
    import pandas as pd

    from hpolab.analysis.report import Report, ReportContext, Section
    from hpolab.benchmark._suite import Suite

__all__ = ["PAPERS", "PAPER_SUITES", "section_paper", "write_suite_report"]

#: The paper modules, by the name a suite's ``paper`` gives.
PAPERS: tuple[str, ...] = ("seed000", "seed002", "seed003", "seed004")

#: The papers' suites by name, in the order ``hpolab compare --help`` lists them.
PAPER_SUITES: dict[str, Suite] = {s.name: s for module in (seed002, seed003, seed004, seed000) for s in module.SUITES}


def section_paper(suite: Suite) -> Section:
    """The report section for ``suite``: its paper's tables beside this run's, and where the run differs.

    Args:
        suite: The suite the runs came from (e.g. ``hpolab.benchmark.get_suite("seed002")``).

    Returns:
        A section for ``write_report(..., extra_sections=[...])``; it writes nothing for a suite without
        a paper or differences.
    """

    def section(ctx: ReportContext) -> None:
        if suite.paper in PAPERS:
            importlib.import_module(f"{__name__}.{suite.paper}").report(ctx, suite)
        if suite.differences:
            ctx.doc.h(2, "Where this run differs from the paper, and why")
            ctx.doc.bullets(list(suite.differences))

    return section


def write_suite_report(
    df: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    suite: Suite,
    **kwargs: Any,
) -> Report:
    """:func:`hpolab.analysis.report.write_report` with :func:`section_paper` of ``suite`` at its end.

    Args:
        df: Trial table.
        out_dir: Output folder.
        suite: The suite the runs came from (with a real model in place of a stand-in, the changed one).
        **kwargs: Everything :func:`~hpolab.analysis.report.write_report` takes but ``extra_sections``.
    """
    from hpolab.analysis.report import write_report

    return write_report(df, out_dir, extra_sections=[section_paper(suite)], **kwargs)
