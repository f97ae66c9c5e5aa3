"""The benchmark commands of the ``hpolab`` CLI: ``hpolab compare`` and ``hpolab report``.

:mod:`hpolab.cli` attaches every command in :data:`COMMANDS` to its click group. The suite logic
(which runs, with which overrides) is :func:`hpolab.benchmark.plan_suite`; the report is
:func:`hpolab.analysis.report.write_report` with the suite's paper section
(:func:`hpolab.benchmark.section_paper`); this module only parses flags and prints.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import click

from hpolab.cli._common import Command, LazyChoice

__all__ = ["COMMANDS", "compare", "report"]


def _split(values: tuple[str, ...]) -> list[str] | None:
    """``--optimizers a,b --optimizers c`` -> ``["a", "b", "c"]``; nothing given -> ``None``."""
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


def _command_line() -> str:
    """The command as typed, without the interpreter's path, its secrets masked (it is stored and printed)."""
    from hpolab._secrets import redact_command

    return "hpolab " + redact_command(sys.argv[1:])


def _print_table1(table: Any) -> None:
    click.echo("")
    click.echo(
        f"{'method':<18}{'tasks':>6}{'beats random':>14}{'median change':>15}{'mean change':>13}{'mean rank':>11}"
    )
    for opt, r in table.iterrows():
        beats = "-" if not math.isfinite(r["beats_random"]) else f"{r['beats_random']:.1f}%"
        name = f"{opt} (exact)" if opt == "random" else str(opt)
        click.echo(
            f"{name:<18}{int(r['n_tasks']):>6}{beats:>14}{r['median_change']:>14.2f}%{r['mean_change']:>12.2f}%"
            f"{r['mean_rank']:>11.2f}"
        )


def _suite_names() -> list[str]:
    from hpolab.benchmark import SUITES

    return sorted(SUITES)


def _report_sections() -> tuple[str, ...]:
    from hpolab.analysis.report import OPTIONAL_SECTIONS

    return OPTIONAL_SECTIONS


class _CommaChoice(click.ParamType):
    """Comma-separated values, each one of ``source()``: ``table1,importance``."""

    name = "LIST"

    def __init__(self, source: Any) -> None:
        self._source = source

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + ",".join(self._source()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        items = tuple(s.strip() for s in str(value).split(",") if s.strip())
        allowed = tuple(self._source())
        unknown = [s for s in items if s not in allowed]
        if unknown:
            self.fail(f"unknown {', '.join(map(repr, unknown))}; choose from {', '.join(allowed)}", param, ctx)
        return items


class _Evaluations(click.ParamType):
    """A positive number of evaluations, or ``all`` (each run's every trial: its end)."""

    name = "N|all"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        text = str(value).strip().lower()
        if text == "all":
            return None
        try:
            n = int(text)
        except ValueError:
            n = 0
        if n < 1:
            self.fail(f"{value!r} is neither a positive number of evaluations nor 'all'", param, ctx)
        return n


@click.command("compare", cls=Command)
@click.option(
    "--suite",
    "suite_name",
    type=LazyChoice(_suite_names),
    default="quick",
    show_default=True,
    help="Named comparison (the papers' experiments).",
)
@click.option("--optimizers", multiple=True, help="Override the suite's optimizers (comma-separated or repeated).")
@click.option(
    "--objectives",
    multiple=True,
    help="Override the suite's objectives (comma-separated or repeated; wildcards like 'hpobench/nn/*').",
)
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="Number of seeds (0..N-1).")
@click.option(
    "--max-evaluations",
    type=click.IntRange(min=1),
    default=None,
    help="Evaluations (trials) per run, instead of the suite's.",
)
@click.option(
    "--max-budget-spent",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Fidelity budget per run (e.g. total epochs), instead of the suite's; a run stops at the first limit.",
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
    help="Folder for the runs (results.log, a journal file) and the report (default: results/<suite>).",
)
@click.option(
    "-j",
    "--n-jobs",
    "--jobs",
    "jobs",
    type=click.IntRange(min=-1),
    default=1,
    show_default=True,
    help="Workers of a Dask LocalCluster on this machine (-1: one per CPU; 1: this process).",
)
@click.option(
    "--scheduler",
    envvar="HPOLAB_DASK_SCHEDULER",
    default=None,
    help="Run on an existing Dask cluster: its scheduler address (tcp://host:8786); env HPOLAB_DASK_SCHEDULER.",
)
@click.option(
    "--model-path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A GGUF file: every LLM optimizer of the suite runs this model (in process, llama.cpp).",
)
@click.option(
    "--llm-base-url",
    envvar="HPOLAB_LLM_BASE_URL",
    default=None,
    help="An OpenAI-compatible server for every LLM optimizer of the suite (key from OPENAI_API_KEY).",
)
@click.option("--llm-model", envvar="HPOLAB_LLM_MODEL", default=None, help="The model name on --llm-base-url.")
@click.option(
    "--seed-scheme",
    type=click.IntRange(min=1, max=2),
    default=2,
    show_default=True,
    help="2: each run's optimizer seed derives from (seed, objective), so tasks are independent draws; "
    "1: the plain seed on every task, only to extend a storage made with it.",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--no-report", is_flag=True, help="Only run; write no report.")
def compare(
    suite_name: str,
    optimizers: tuple[str, ...],
    objectives: tuple[str, ...],
    seeds: int | None,
    max_evaluations: int | None,
    max_budget_spent: float | None,
    random_pool: int | None,
    out_dir: str | None,
    jobs: int,
    scheduler: str | None,
    model_path: str | None,
    llm_base_url: str | None,
    llm_model: str | None,
    seed_scheme: int,
    no_progress: bool,
    no_report: bool,
) -> None:
    """Run a comparison suite (resumable) and write its report.

    Results go to OUTPUT/results.log (a rerun skips finished runs and finishes partial ones); the report
    (report.md, report.html and PNGs) to OUTPUT.
    """
    from dataclasses import replace

    from hpolab.analysis.report import write_report
    from hpolab.benchmark import (
        execute,
        load_results,
        open_results,
        plan_suite,
        results_storage,
        section_paper,
        seed_note,
        study_contexts,
        with_llm,
    )

    if jobs == 0:
        raise click.BadParameter("0 workers; give a positive number or -1 (one per CPU)", param_hint="--jobs")
    command = _command_line()
    suite, specs = plan_suite(
        suite_name,
        optimizers=_split(optimizers),
        objectives=_split(objectives),
        seeds=seeds,
        n_trials=max_evaluations,
        max_budget_spent=max_budget_spent,
        random_pool=random_pool,
        context={"command": command},
        seed_scheme=seed_scheme,
    )
    if model_path and llm_base_url:
        raise click.BadParameter("give --model-path or --llm-base-url, not both", param_hint="--model-path")
    if llm_base_url and not llm_model:
        raise click.BadParameter(
            "--llm-base-url needs --llm-model (the model the server serves)", param_hint="--llm-model"
        )
    if model_path or llm_base_url:
        client = {"model": model_path} if model_path else {"base_url": llm_base_url, "model": llm_model}
        specs = with_llm(specs, client)
        suite = replace(suite, simulated=None)  # the LLM rows come from the model named here
    out = Path(out_dir) if out_dir else Path("results") / suite.name
    out.mkdir(parents=True, exist_ok=True)
    storage = results_storage(out)
    click.echo(f"suite {suite.name}: {len(specs)} runs -> {storage}", err=True)
    t0 = time.perf_counter()
    try:
        execute(specs, str(storage), n_jobs=jobs, scheduler=scheduler, show_progress_bar=not no_progress)
    except ValueError as exc:
        if "seed scheme" not in str(exc):
            raise
        raise click.UsageError(str(exc)) from None
    elapsed = time.perf_counter() - t0
    click.echo(f"runs finished in {elapsed:.1f} s", err=True)
    names = {s.study_name for s in specs}
    store = open_results(storage)  # one read of a journal file for the trials and the bookkeeping
    try:
        df = load_results(store, studies=sorted(names))
        if no_report:
            return
        contexts = [c for c in study_contexts(store) if c.get("study") in names]
    finally:
        store.close()
    seeds_line = seed_note(contexts)
    rep = write_report(
        df,
        out,
        title=f"hpolab compare --suite {suite.name}",
        description=suite.description,
        command=command,
        n_trials=_report_n_trials(suite),
        sections=suite.sections,
        contexts=contexts,
        extra_sections=[section_paper(suite)],
        storage=storage,
        notes=[
            f"wall time of this command's runs: {elapsed:.1f} s on "
            + (f"the Dask cluster at {scheduler}" if scheduler else f"{jobs} worker process(es)"),
            *([seeds_line] if seeds_line else []),
        ],
    )
    if "table1" in rep.tables:
        _print_table1(rep.tables["table1"])
    click.echo("")
    click.echo(f"report: {rep.markdown}")
    click.echo(f"        {rep.html}")


def _report_n_trials(suite: Any) -> int | None:
    """Evaluations at which the report's Table 1 and per-task table are computed: each run's end under per-task budgets."""
    if suite.task_trials:  # CARP-S's budgets differ by task: compare every run at its own end
        return None
    return min(suite.table1_n_trials, suite.n_trials) if suite.n_trials else None


@click.command("report", cls=Command)
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
    "--evaluations",
    type=_Evaluations(),
    default="10",
    show_default=True,
    help="Evaluations at which Table 1 and the per-task table are computed; 'all': each run's end (per-task "
    "budgets, as CARP-S's suites have).",
)
@click.option(
    "--sections",
    type=_CommaChoice(_report_sections),
    default="table1,importance",
    show_default=True,
    help="Comma-separated optional sections of the report.",
)
@click.option("--title", default=None, help="Report title.")
@click.option(
    "--note",
    "notes",
    multiple=True,
    help="A line for the report's set-up (repeatable), e.g. the wall time of the command that made the runs.",
)
@click.option("--optimizers", help="Comma-separated optimizer labels to report (default: all in the storage).")
@click.option("--seeds", type=click.IntRange(min=1), help="Report seeds 0..N-1 only (default: all).")
def report(
    results: str,
    out_dir: str,
    evaluations: int | None,
    sections: tuple[str, ...],
    title: str | None,
    notes: tuple[str, ...],
    optimizers: str | None,
    seeds: int | None,
) -> None:
    """Write a report from a results storage (RESULTS, e.g. results/quick/results.log or a results.db).

    Runs that ``hpolab compare`` started and did not finish are left out, and the report says which.
    """
    from hpolab.analysis.report import write_report
    from hpolab.benchmark import (
        load_results,
        open_results,
        section_paper,
        seed_note,
        select_runs,
        study_contexts,
        suite_of,
    )

    store = open_results(results)  # one read of a journal file for the trials and the bookkeeping
    try:
        df = load_results(store)
        if df.empty:
            raise click.UsageError(f"{results} holds no finished trials")
        wanted = None if optimizers is None else [o.strip() for o in optimizers.split(",") if o.strip()]
        try:
            df, contexts, left_out = select_runs(df, study_contexts(store), optimizers=wanted, seeds=seeds)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--optimizers / --seeds") from None
    finally:
        store.close()
    if df.empty:
        raise click.UsageError(f"{results}: no finished run is left to report ({' '.join(left_out)})")
    notes = (*notes, *left_out)
    seeds_line = seed_note(contexts)
    rep = write_report(
        df,
        out_dir,
        title=title or f"hpolab report {Path(results).name}",
        command=_command_line(),
        n_trials=evaluations,
        sections=sections,
        contexts=contexts,
        notes=[*notes, *([seeds_line] if seeds_line else [])],
        extra_sections=[section_paper(s) for s in suite_of(contexts)],
        storage=results,
    )
    if "table1" in rep.tables:
        _print_table1(rep.tables["table1"])
    click.echo(f"report: {rep.markdown}")
    click.echo(f"        {rep.html}")


#: Commands that :mod:`hpolab.cli` attaches to the ``hpolab`` group.
COMMANDS = [compare, report]
