"""The benchmark commands of the ``hpolab`` CLI: ``hpolab compare`` and ``hpolab report``.

``hpolab/cli.py`` attaches every command in :data:`COMMANDS` to its click group.
"""

from __future__ import annotations

import math
import shlex
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

__all__ = ["COMMANDS", "compare", "report"]


def _split(values: tuple[str, ...]) -> list[str] | None:
    """``--optimizers a,b --optimizers c`` -> ``["a", "b", "c"]``; nothing given -> ``None``."""
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


def _command_line() -> str:
    """The command as typed, without the interpreter's path."""
    return "hpolab " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _print_table1(table: Any) -> None:
    click.echo("")
    click.echo(
        f"{'method':<18}{'tasks':>6}{'beats random':>14}{'median change':>15}{'mean change':>13}{'mean rank':>11}"
    )
    for opt, r in table.iterrows():
        beats = "-" if not math.isfinite(r["beats_random"]) else f"{r['beats_random']:.1f}%"
        name = f"{opt} (bootstrap)" if opt == "random" else str(opt)
        click.echo(
            f"{name:<18}{int(r['n_tasks']):>6}{beats:>14}{r['median_change']:>14.2f}%{r['mean_change']:>12.2f}%"
            f"{r['mean_rank']:>11.2f}"
        )


@click.command("compare")
@click.option(
    "--suite",
    "suite_name",
    default="quick",
    show_default=True,
    help="Named comparison: quick, seed002, seed003, seed004, seed000.",
)
@click.option("--optimizers", multiple=True, help="Override the suite's optimizers (comma-separated or repeated).")
@click.option(
    "--objectives",
    multiple=True,
    help="Override the suite's objectives (comma-separated or repeated; wildcards like 'hpobench/nn/*').",
)
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="Number of seeds (0..N-1).")
@click.option(
    "--budget",
    type=float,
    default=None,
    help="Evaluations per run; for multi-fidelity suites (seed004) the fidelity budget per run (epochs).",
)
@click.option(
    "--random-pool",
    type=click.IntRange(min=0),
    default=None,
    help="Random configurations per objective for the bootstrap baseline (default: the suite's).",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for results.db and the report (default: results/<suite>).",
)
@click.option("-j", "--jobs", type=int, default=1, show_default=True, help="Worker processes (-1: one per CPU).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--no-report", is_flag=True, help="Only run; write no report.")
def compare(
    suite_name: str,
    optimizers: tuple[str, ...],
    objectives: tuple[str, ...],
    seeds: int | None,
    budget: float | None,
    random_pool: int | None,
    out_dir: str | None,
    jobs: int,
    no_progress: bool,
    no_report: bool,
) -> None:
    """Run a comparison suite (resumable) and write its report.

    Results go to OUTPUT/results.db (a rerun skips finished runs and finishes partial ones); the report
    (report.md, report.html and PNGs) to OUTPUT.
    """
    from dataclasses import replace

    from hpolab.analysis.report import write_report
    from hpolab.benchmarking import execute as _execute
    from hpolab.benchmarking import get_suite, load_results, plan, study_contexts

    try:
        suite = get_suite(suite_name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--suite") from None
    n_trials, fid_budget = suite.n_trials, suite.budget
    if budget is not None:
        if suite.n_trials is not None and suite.budget is None:
            if budget < 1 or budget != int(budget):
                raise click.BadParameter(f"{budget} is not a whole number of evaluations", param_hint="--budget")
            n_trials = int(budget)
        else:
            fid_budget = budget
    if random_pool is not None:
        suite = replace(suite, random_pool=random_pool)
    out = Path(out_dir) if out_dir else Path("results") / suite.name
    out.mkdir(parents=True, exist_ok=True)
    storage = out / "results.db"
    command = _command_line()
    try:
        chosen: Any = suite.optimizers
        names = _split(optimizers)
        if names is not None:
            # a name the suite configures keeps the suite's options (e.g. the LLM's answer format)
            given = suite.optimizers if isinstance(suite.optimizers, Mapping) else {}
            chosen = {n: given.get(n, n) for n in names}
        specs = plan(
            chosen,
            _split(objectives) or suite.objectives,
            seeds if seeds is not None else suite.seeds,
            n_trials=n_trials,
            budget=fid_budget,
            random_pool=suite.random_pool,
            objective_kwargs=suite.objective_kwargs,
            context={"suite": suite.name, "command": command},
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    n_runs = len(specs)
    click.echo(f"suite {suite.name}: {n_runs} runs -> {storage}", err=True)
    t0 = time.perf_counter()
    _execute(specs, f"sqlite:///{storage}", n_jobs=jobs, show_progress_bar=not no_progress)
    elapsed = time.perf_counter() - t0
    click.echo(f"runs finished in {elapsed:.1f} s", err=True)
    df = load_results(storage, studies=[s.study_name for s in specs])
    if no_report:
        return
    table1_budget = n_trials if (n_trials is not None and "table1" in suite.sections) else suite.table1_budget
    rep = write_report(
        df,
        out,
        title=f"hpolab compare --suite {suite.name}",
        description=suite.description,
        command=command,
        budget=min(table1_budget, n_trials) if n_trials else None,
        sections=suite.sections,
        contexts=[c for c in study_contexts(storage) if c.get("study") in {s.study_name for s in specs}],
        notes=[f"wall time of this command's runs: {elapsed:.1f} s with {jobs} worker process(es)"],
    )
    if "table1" in rep.tables:
        _print_table1(rep.tables["table1"])
    click.echo("")
    click.echo(f"report: {rep.markdown}")
    click.echo(f"        {rep.html}")


@click.command("report")
@click.argument("results", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False),
    default="report",
    show_default=True,
    help="Folder for report.md, report.html and the PNGs.",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Evaluations at which Table 1 is computed.",
)
@click.option(
    "--sections",
    default="table1,importance",
    show_default=True,
    help="Comma-separated: table1, rmse, importance, budget.",
)
@click.option("--title", default=None, help="Report title.")
def report(results: str, out_dir: str, budget: int, sections: str, title: str | None) -> None:
    """Write a report from a results database (RESULTS, e.g. results/quick/results.db)."""
    from hpolab.analysis.report import write_report
    from hpolab.benchmarking import load_results, study_contexts

    df = load_results(results)
    if df.empty:
        raise click.UsageError(f"{results} holds no finished trials")
    secs = tuple(s.strip() for s in sections.split(",") if s.strip())
    unknown = sorted(set(secs) - {"table1", "rmse", "importance", "budget"})
    if unknown:
        raise click.BadParameter(
            f"unknown section(s) {unknown}; use table1, rmse, importance, budget", param_hint="--sections"
        )
    rep = write_report(
        df,
        out_dir,
        title=title or f"hpolab report {Path(results).name}",
        command=_command_line(),
        budget=budget,
        sections=secs,
        contexts=study_contexts(results),
    )
    if "table1" in rep.tables:
        _print_table1(rep.tables["table1"])
    click.echo(f"report: {rep.markdown}")
    click.echo(f"        {rep.html}")


#: Commands that ``hpolab/cli.py`` attaches to the ``hpolab`` group.
COMMANDS = [compare, report]
