"""The ``hpolab`` command (also ``python -m hpolab``): run, list, and the benchmark commands."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import click

import hpolab
from hpolab.registry import UnknownNameError

__all__ = ["main"]


def _parse_options(options: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in options:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--option")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(hpolab.__version__, prog_name="hpolab")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Hyperparameter optimization with classic and LLM optimizers behind one interface."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logger = logging.getLogger("hpolab")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


@cli.command()
@click.option("--optimizer", "-o", default="random", show_default=True, help="Optimizer name (hpolab list).")
@click.option("--objective", "-f", required=True, help="Objective name, e.g. toy/branin or hpobench/nn/credit_g.")
@click.option(
    "--n-trials",
    "-n",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Total trials of the study (a resumed study runs only the missing ones).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Optimizer seed.")
@click.option("--storage", default=None, help="Storage URL, e.g. sqlite:///runs.db (default: in memory).")
@click.option("--study", "study_name", default=None, help="Study name; an existing one is resumed.")
@click.option("--timeout", type=float, default=None, help="Seconds after which no new trial starts.")
@click.option("--max-budget", type=float, default=None, help="Stop once this much budget (e.g. epochs) is spent.")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Optimizer option (JSON value), repeatable, e.g. --option resolution=7.",
)
@click.option(
    "--llm-base-url", default=None, help="OpenAI-compatible server for LLM optimizers (default: local model)."
)
@click.option("--llm-model", default=None, help="Model name on that server.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run(
    optimizer: str,
    objective: str,
    n_trials: int,
    seed: int,
    storage: str | None,
    study_name: str | None,
    timeout: float | None,
    max_budget: float | None,
    options: tuple[str, ...],
    llm_base_url: str | None,
    llm_model: str | None,
    no_progress: bool,
    as_json: bool,
) -> None:
    """Run one study and print its best trial."""
    kwargs = _parse_options(options)
    if llm_base_url or llm_model:
        from hpolab.llm import OpenAIClient

        kwargs["client"] = OpenAIClient(base_url=llm_base_url, model=llm_model or "default")
    try:
        study = hpolab.create_study(
            objective,
            optimizer,
            storage=storage,
            study_name=study_name,
            load_if_exists=study_name is not None,
            seed=seed,
            optimizer_kwargs=kwargs or None,
        )
    except (UnknownNameError, ValueError, TypeError, ImportError) as exc:
        raise click.ClickException(str(exc)) from exc
    start = time.perf_counter()
    study.optimize(
        max_trials=n_trials,
        timeout=timeout,
        max_budget_spent=max_budget,
        show_progress_bar=not no_progress,
    )
    elapsed = time.perf_counter() - start
    _print_summary(study, elapsed, as_json)


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


@cli.command("list")
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


def _attach_optional_commands() -> None:
    import importlib
    import importlib.util

    if importlib.util.find_spec("hpolab._cli_bench") is None:
        return
    _cli_bench = importlib.import_module("hpolab._cli_bench")
    for command in getattr(_cli_bench, "COMMANDS", ()):
        cli.add_command(command)


_attach_optional_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``hpolab`` command."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="hpolab")
