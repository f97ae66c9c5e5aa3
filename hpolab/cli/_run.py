"""The study commands of the ``hpolab`` CLI: ``hpolab run`` (one study) and ``hpolab list`` (the registry).

``hpolab run`` limits a study by ``--n-trials N`` (run N more trials, Optuna's meaning),
``--max-trials N`` (stop once the study holds N finished trials, counting earlier runs: what a
resumed study wants) and ``--max-budget-spent B`` (stop once the study has spent B of fidelity
budget, e.g. epochs). :mod:`hpolab.cli` attaches every command in :data:`COMMANDS`.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import click

import hpolab
from hpolab.cli._common import Command, KeyValue, LazyChoice

__all__ = ["COMMANDS", "DEFAULT_N_TRIALS", "list_cmd", "run"]

#: Trials ``hpolab run`` runs when neither ``--n-trials`` nor ``--max-trials`` is given.
DEFAULT_N_TRIALS = 50


@click.command(cls=Command)
@click.option(
    "--optimizer",
    "-o",
    type=LazyChoice(lambda: sorted(hpolab.list_optimizers())),
    default="random",
    show_default=True,
    help="Registered optimizer (hpolab list optimizers).",
)
@click.option("--objective", "-f", required=True, help="Objective name, e.g. toy/branin or hpobench/nn/credit_g.")
@click.option(
    "--n-trials",
    "-n",
    type=click.IntRange(min=1),
    default=None,
    help=f"Trials to run in this call, as Optuna's n_trials [default: {DEFAULT_N_TRIALS} without --max-trials].",
)
@click.option(
    "--max-trials",
    type=click.IntRange(min=1),
    default=None,
    help="Stop once the study holds this many finished trials, counting those of earlier runs (resuming).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Optimizer seed.")
@click.option(
    "--storage",
    envvar="HPOLAB_STORAGE",
    show_envvar=True,
    default=None,
    help="Storage URL, e.g. sqlite:///runs.db (default: in memory).",
)
@click.option("--study", "study_name", default=None, help="Study name; an existing one is resumed.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds after which no new trial starts.",
)
@click.option(
    "--max-budget-spent",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop once the study has spent this much fidelity budget (e.g. epochs), counting earlier runs.",
)
@click.option(
    "--option",
    "options",
    multiple=True,
    type=KeyValue(),
    help="Optimizer option (JSON value), repeatable, e.g. --option resolution=7.",
)
@click.option(
    "--llm-base-url",
    envvar="HPOLAB_LLM_BASE_URL",
    show_envvar=True,
    default=None,
    help="OpenAI-compatible server (ending in /v1) for an LLM optimizer (default: the local model).",
)
@click.option(
    "--llm-model", envvar="HPOLAB_LLM_MODEL", show_envvar=True, default=None, help="Model name on that server."
)
@click.option(
    "--llm-api-key",
    envvar=["HPOLAB_LLM_API_KEY", "OPENAI_API_KEY"],
    show_envvar=True,
    default=None,
    help="Key for that server (local servers accept any value); best given through the environment. It reaches "
    "the client as this process's OPENAI_API_KEY and is never stored with the study.",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run(
    optimizer: str,
    objective: str,
    n_trials: int | None,
    max_trials: int | None,
    seed: int,
    storage: str | None,
    study_name: str | None,
    timeout: float | None,
    max_budget_spent: float | None,
    options: tuple[tuple[str, Any], ...],
    llm_base_url: str | None,
    llm_model: str | None,
    llm_api_key: str | None,
    no_progress: bool,
    as_json: bool,
) -> None:
    """Run one study and print its best trial."""
    kwargs = dict(options)
    if optimizer.startswith("llm"):
        if llm_base_url or llm_model:
            kwargs.update(base_url=llm_base_url, model=llm_model)
        if llm_api_key:
            # The key reaches the client through the environment of this process (and of the workers it
            # starts), never as an optimizer option: options are recorded with the study.
            os.environ["OPENAI_API_KEY"] = llm_api_key
    else:
        ctx = click.get_current_context()
        for name in ("llm_base_url", "llm_model"):  # set in the environment, they only apply to LLM optimizers
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE:
                raise click.BadParameter(
                    f"optimizer {optimizer!r} uses no LLM; choose an llm* optimizer or leave this option out",
                    param_hint="--" + name.replace("_", "-"),
                )
    if n_trials is None and max_trials is None:
        n_trials = DEFAULT_N_TRIALS
    study = hpolab.create_study(
        objective,
        optimizer,
        storage=storage,
        study_name=study_name,
        load_if_exists=study_name is not None,
        seed=seed,
        optimizer_kwargs=kwargs or None,
    )
    start = time.perf_counter()
    study.optimize(
        n_trials=n_trials,
        timeout=timeout,
        max_trials=max_trials,
        max_budget_spent=max_budget_spent,
        show_progress_bar=not no_progress,
    )
    _print_summary(study, time.perf_counter() - start, as_json)


def _print_summary(study: hpolab.Study, elapsed: float, as_json: bool) -> None:
    trials = study.trials
    best = study.best_trial
    counts: dict[str, int] = {}
    for rec in trials:
        counts[rec.state.value] = counts.get(rec.state.value, 0) + 1
    summary: dict[str, Any] = {
        "study": study.study_name,
        "objective": study.objective.name,
        "optimizer": study.optimizer.name,
        "seed": study.optimizer.seed,
        "trials": counts,
        "seconds": round(elapsed, 3),
        "budget_spent": study.budget_spent,
        "best": None,
    }
    if best is not None:
        value = float(best.value) if best.value is not None else float("nan")
        truth = float(best.info.get("true_value", value))
        summary["best"] = {"id": best.id, "value": best.value, "config": best.config}
        if "true_value" in best.info:
            summary["best"]["true_value"] = truth
        if study.objective.optimum is not None:
            summary["best"]["regret"] = study.objective.regret(truth)
            summary["optimum"] = study.objective.optimum
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    states = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
    click.echo(
        f"study {study.study_name}: {study.optimizer.name} on {study.objective.name}, {states} in {elapsed:.2f} s"
    )
    if best is None:
        click.echo("no trial completed")
        return
    click.echo(f"best trial {best.id}: value {best.value:.6g}")
    if "true_value" in summary["best"]:
        click.echo(f"  true value: {summary['best']['true_value']:.6g}")
    if "regret" in summary["best"]:
        click.echo(f"  regret vs the optimum {study.objective.optimum:.6g}: {summary['best']['regret']:.6g}")
    for key, value in best.config.items():
        click.echo(f"  {key} = {value}")


@click.command("list", cls=Command)
@click.argument("what", type=click.Choice(["all", "optimizers", "objectives"]), default="all")
def list_cmd(what: str) -> None:
    """List the registered optimizers and objectives."""
    if what in ("all", "optimizers"):
        click.echo("Optimizers:")
        for name, desc in hpolab.list_optimizers().items():
            click.echo(f"  {name:<16} {desc}")
    if what in ("all", "objectives"):
        if what == "all":
            click.echo("")
        click.echo("Objectives:")
        for name, desc in hpolab.list_objectives().items():
            click.echo(f"  {name:<28} {desc}")


#: Commands that :mod:`hpolab.cli` attaches to the ``hpolab`` group.
COMMANDS = [run, list_cmd]
