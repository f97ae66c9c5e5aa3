"""The worker command of the ``hpolab`` CLI: ``hpolab worker`` joins a running study from any shell or machine."""

from __future__ import annotations

import importlib

import click

from hpolab.cli._common import Command
from hpolab.study import DEAD_WORKER_POLICIES, DEFAULT_MAX_RETRIES

__all__ = ["COMMANDS"]


@click.command(cls=Command)
@click.option(
    "--storage",
    required=True,
    envvar="HPOLAB_STORAGE",
    help="The study's storage URL (sqlite:///runs.db, journal:///runs.log, postgresql://...); env HPOLAB_STORAGE.",
)
@click.option("--study", "study_name", required=True, help="Name of the study to join.")
@click.option("--n-trials", "-n", type=click.IntRange(min=1), default=None, help="Trials this worker runs.")
@click.option(
    "--max-trials",
    type=click.IntRange(min=1),
    default=None,
    help="Stop once the study holds this many finished trials (all workers counted, checked before every trial).",
)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Seconds to work.")
@click.option(
    "--import",
    "modules",
    multiple=True,
    help="Module to import first (one that registers your own objective with hpolab.register_objective).",
)
@click.option(
    "--on-dead-worker",
    type=click.Choice(DEAD_WORKER_POLICIES),
    default="retry",
    show_default=True,
    help="What happens to the trial of a worker that died (also one this worker takes over on joining).",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_RETRIES,
    show_default=True,
    help="Times a trial whose worker died is evaluated again; then it stays FAIL with the reason.",
)
@click.option(
    "--trial-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds after which a running trial fails with reason 'timeout' (a hung worker process is killed).",
)
@click.option(
    "--llm-base-url",
    default=None,
    help="The LLM server URL the study's stored options name; only a URL given here (or in the environment "
    "variable HPOLAB_LLM_BASE_URL) receives the key in OPENAI_API_KEY.",
)
def worker(
    storage: str,
    study_name: str,
    n_trials: int | None,
    max_trials: int | None,
    timeout: float | None,
    modules: tuple[str, ...],
    on_dead_worker: str,
    max_retries: int,
    trial_timeout: float | None,
    llm_base_url: str | None,
) -> None:
    """Join a study as one more worker (its optimizer rebuilt by name; a seed of its own while others run)."""
    import hpolab

    for module in modules:
        importlib.import_module(module)
    if llm_base_url:
        from hpolab._secrets import trust_base_url

        trust_base_url(llm_base_url)
    store = hpolab.get_storage(storage)  # opened once: the study below joins through it
    info = store.get_study(study_name)
    if info is None:
        raise click.ClickException(f"study {study_name!r} is not in {hpolab.storage.redact_url(storage)}")
    objective = info.attrs.get("objective")
    family = str(objective).partition("/")[0]  # a family lists only its own names (CARP-S has thousands)
    if objective not in hpolab.list_objectives([family]) and not modules:
        raise click.ClickException(
            f"study {study_name!r} runs objective {objective!r}, which is not a registered name here; "
            "register it in a module (hpolab.register_objective) and pass --import MODULE"
        )
    if n_trials is None and max_trials is None and timeout is None:
        raise click.ClickException("give --n-trials, --max-trials or --timeout (a worker needs a limit)")
    study = hpolab.load_study(
        study_name, store, on_dead_worker=on_dead_worker, max_retries=max_retries, trial_timeout=trial_timeout
    )
    study._worker_process = True  # a hung trial past --trial-timeout may kill this process
    click.echo(f"joined study {study_name!r} as worker slot {study.worker.slot} ({study.optimizer.name})", err=True)
    study.optimize(n_trials=n_trials, max_trials=max_trials, timeout=timeout)
    best = study.best_value
    click.echo(f"study {study_name!r}: {len(study.trials)} trials, best {best}")


#: Commands that :mod:`hpolab.cli` attaches to the ``hpolab`` group.
COMMANDS = [worker]
