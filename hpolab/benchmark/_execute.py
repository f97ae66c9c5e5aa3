"""Run a grid of optimizers x objectives x seeds, resumably, and collect one row per trial.

Every run is a :class:`hpolab.Study` named ``"{optimizer}|{objective}|{seed}"`` in one storage
(SQLite by default). The studies write their trials as they go, so:

* a rerun of the same grid skips runs that are finished (marked ``complete`` in the study's
  ``benchmark`` attribute) and continues partial ones from their last finished trial (the study
  replays its history into a fresh optimizer; a trial that was running when the process died is
  evaluated again);
* runs go in parallel over processes (``n_jobs``). Each worker opens its own connection to the
  one SQLite file and writes its own studies; the storage runs SQLite in WAL mode with a busy
  timeout and keeps every write a short transaction, so concurrent writers wait for each other
  instead of failing, and no trial is lost when a worker is killed. The parent only reads.

:func:`run` returns the trial table that :mod:`hpolab.analysis` works on;
:func:`hpolab.benchmark.load_results` reads the same table back from a storage file.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hpolab._deprecation import renamed_key, renamed_keyword
from hpolab._secrets import mask_secrets
from hpolab.benchmark._plan import SEED_SCHEME, RunSpec, plan
from hpolab.benchmark._results import (
    _ATTR,
    _full_budget,
    _mixed_schemes_message,
    _schemes_in,
    _storage_url,
    _study_scheme,
    load_results,
)
from hpolab.trial import budget_spent

if TYPE_CHECKING:
    import pandas as pd

    from hpolab.objectives.base import Objective
    from hpolab.storage import Storage

__all__ = ["DEFAULT_STORAGE", "execute", "run"]

_logger = logging.getLogger("hpolab.benchmark")

#: Storage used when none is given.
DEFAULT_STORAGE = "journal:///hpolab-benchmark.log"


@functools.lru_cache(maxsize=1)
def _this_machine() -> dict[str, str]:
    """The machine a run is made on, the versions it runs and hpolab's code (kept in the run's bookkeeping for its report)."""
    from hpolab._machine import llama_cpp_build, machine_info, package_versions, source_info

    versions = package_versions(("hpolab", "optuna", "smac", "llama-cpp-python"))
    return {**machine_info(), **versions, **llama_cpp_build(), **source_info()}


def _make_objective(spec: RunSpec) -> Objective:
    import inspect

    from hpolab.registry import _FAMILIES, make_objective

    kwargs = dict(spec.objective_kwargs)
    family = spec.objective.partition("/")[0]
    entry = _FAMILIES.get(family)
    if "seed" not in kwargs and entry is not None:
        # give the objective the run's seed when its factory takes one (noise of a recorded table, data splits)
        try:
            params = inspect.signature(entry[0].load()).parameters
        except (TypeError, ValueError, ImportError):
            params = {}  # type: ignore[assignment]
        if "seed" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            kwargs["seed"] = spec.seed
            try:
                return make_objective(spec.objective, **kwargs)
            except TypeError as exc:
                # a factory that forwards **kwargs to an objective without a seed: only that is retried;
                # any other TypeError is the factory's own error and propagates
                if "unexpected keyword argument 'seed'" not in str(exc):
                    raise
                kwargs.pop("seed")
    return make_objective(spec.objective, **kwargs)


def _optimizer_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Options for the optimizer, with a JSON client spec turned into an LLM ``client``.

    Options must be JSON (they are recorded with the study and sent to worker processes), so an LLM
    client cannot be passed as an object; ``"client": {"base_url": ..., "model": ...}`` (any spec of
    :func:`hpolab.llm.make_client`, e.g. ``{"model": "path.gguf", "n_threads": 1}``) or
    ``"llama_cpp": {"n_threads": 1}`` (the local llama.cpp model with those arguments) builds the
    client inside the worker instead.
    """
    out = dict(kwargs)
    simulated = out.pop("simulated_llm", None)
    if simulated is not None:  # an offline stand-in for a vision model
        from hpolab.llm.clients._simulated import SimulatedLLMClient

        out["client"] = SimulatedLLMClient(**dict(simulated))
    llama = out.pop("llama_cpp", None)
    spec = out.get("client")
    if llama is not None and spec is not None:
        raise TypeError("llama_cpp / client: give one of them; llama_cpp={...} is the client spec of a local model")
    if llama is not None:
        if not isinstance(llama, Mapping):
            raise TypeError(f"llama_cpp: {llama!r} must be a dict of LlamaCppClient arguments, e.g. {{'n_threads': 1}}")
        spec = dict(llama)
    if isinstance(spec, Mapping):
        from hpolab.llm import make_client

        out["client"] = make_client(spec)
    return out


def _finished(records: Iterable[Any]) -> int:
    return sum(1 for r in records if r.state.is_finished)


def _is_complete(info: Any, spec: RunSpec, n_finished: int, spent: float) -> bool:
    meta = (info.attrs or {}).get(_ATTR, {}) if info is not None else {}
    if meta.get("complete") and renamed_key(meta.get("limits") or {}, "budget", "max_budget_spent") == spec.limits():
        return True
    if spec.n_trials is not None and n_finished >= spec.n_trials:
        return True
    return spec.max_budget_spent is not None and spent >= spec.max_budget_spent


#: Storages this process opened, by URL (each harness worker keeps its own).
_STORES: dict[str, Storage] = {}


def _run_one(spec: RunSpec, storage_url: str) -> dict[str, Any]:
    """Run (or finish) one study; executed in a worker process."""
    import hpolab
    from hpolab.storage import get_storage

    t0 = time.perf_counter()
    store = _STORES.get(storage_url)
    if store is None:  # one storage per process: a journal file is replayed once, an engine reused
        store = _STORES[storage_url] = get_storage(storage_url)
    existing = store.get_study(spec.study_name)
    scheme = None if existing is None else _study_scheme(existing)
    if scheme is not None and scheme != spec.seed_scheme:
        raise ValueError(_mixed_schemes_message(storage_url, {scheme: 1}, spec.seed_scheme, spec.study_name))
    objective = _make_objective(spec)
    study = hpolab.create_study(
        objective,
        spec.optimizer_name,
        storage=store,
        study_name=spec.study_name,
        load_if_exists=True,
        seed=spec.optimizer_seed,
        optimizer_kwargs=_optimizer_kwargs(spec.optimizer_kwargs) or None,
    )
    before = _finished(study.trials)
    fidelity = objective.fidelity
    info = store.get_study(spec.study_name)
    assert info is not None
    store.set_study_attrs(
        info.study_id,
        {
            _ATTR: {
                "optimizer": spec.optimizer,
                "optimizer_name": spec.optimizer_name,
                "optimizer_kwargs": mask_secrets(dict(spec.optimizer_kwargs)),
                "objective": spec.objective,
                "seed": spec.seed,
                "seed_scheme": spec.seed_scheme,
                "optimizer_seed": spec.optimizer_seed,
                "limits": spec.limits(),
                "direction": objective.direction.value,
                "optimum": objective.optimum,
                "max_budget": None if fidelity is None else float(fidelity.max),
                "context": mask_secrets(dict(spec.context)),
                "machine": _this_machine(),
                "complete": False,
            }
        },
    )
    study.optimize(max_trials=spec.n_trials, max_budget_spent=spec.max_budget_spent)
    after = _finished(study.trials)
    meta = store.get_study(spec.study_name).attrs[_ATTR]  # type: ignore[union-attr]
    meta["complete"] = True
    meta["seconds"] = float(meta.get("seconds", 0.0)) + (time.perf_counter() - t0)
    store.set_study_attrs(info.study_id, {_ATTR: meta})
    return {"study": spec.study_name, "new_trials": after - before, "seconds": time.perf_counter() - t0}


def run(
    optimizers: Sequence[str] | Mapping[str, Any],
    objectives: Iterable[str] | str,
    seeds: int | Iterable[int],
    n_trials: int | None = None,
    max_budget_spent: float | None = None,
    *,
    budget: float | None = None,
    storage: str | os.PathLike[str] = DEFAULT_STORAGE,
    n_jobs: int = 1,
    scheduler: Any = None,
    show_progress_bar: bool = False,
    random_pool: int = 0,
    objective_kwargs: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    seed_scheme: int = SEED_SCHEME,
) -> pd.DataFrame:
    """Run every optimizer on every objective with every seed; return one row per trial.

    Resumable: runs already finished in ``storage`` are skipped, partial ones are continued.
    See the module docstring for how parallel workers share the SQLite file.

    Args:
        optimizers: Registry names (``["random", "tpe", "smac-rf", "llm"]``) or
            ``{label: name or {"name": name, **options}}`` to compare configurations of one optimizer.
        objectives: Registry names; shell wildcards expand over registered names (``"hpobench/nn/*"``).
        seeds: A number of seeds (``0..seeds-1``) or the seeds themselves.
        n_trials: Trials per run.
        max_budget_spent: Total fidelity per run (e.g. epochs summed over its trials), for an
            equal-budget comparison. Positional after ``n_trials``.
        budget: Deprecated old name of ``max_budget_spent``.
        storage: A storage URL (``"sqlite:///runs.db"``) or a path to a SQLite file.
        n_jobs: Workers of a Dask ``LocalCluster`` on this machine (``-1``: one per CPU); ``1`` runs
            in this process. Without Dask installed, worker processes of a process pool.
        scheduler: A Dask scheduler address (``"tcp://host:8786"``) or ``dask.distributed.Client``:
            run on that cluster instead (its workers must reach ``storage``).
        show_progress_bar: Show a progress bar over runs.
        random_pool: Extra random configurations per objective for Table 1's bootstrap baseline
            (a run labelled ``"random-pool"``).
        objective_kwargs: Options for every objective.
        context: Recorded with each study (e.g. ``{"command": ..., "suite": ...}``).
        seed_scheme: How each run's optimizer seed derives from its seed and objective
            (:data:`SEED_SCHEMES`; the default gives every task its own draws). A storage holds runs of
            one scheme: extending one made with scheme 1 needs ``seed_scheme=1``.

    Returns:
        The trial table (columns :data:`COLUMNS`) of every run of this grid.

    Raises:
        ValueError: If ``storage`` holds runs made with another seed scheme.
    """
    max_budget_spent = renamed_keyword("run", "budget", "max_budget_spent", budget, max_budget_spent)
    specs = plan(
        optimizers,
        objectives,
        seeds,
        n_trials=n_trials,
        max_budget_spent=max_budget_spent,
        random_pool=random_pool,
        objective_kwargs=objective_kwargs,
        context=context,
        seed_scheme=seed_scheme,
    )
    url = _storage_url(storage)
    execute(specs, url, n_jobs=n_jobs, scheduler=scheduler, show_progress_bar=show_progress_bar)
    return load_results(url, studies=[s.study_name for s in specs])


def execute(
    specs: Sequence[RunSpec],
    storage: str,
    *,
    n_jobs: int = 1,
    scheduler: Any = None,
    show_progress_bar: bool = False,
) -> list[dict[str, Any]]:
    """Run the given specs that are not finished yet; return a summary per run that ran.

    Each run is one study with one worker, so a seeded deterministic optimizer gives the same
    trials whichever process or machine runs it: results do not depend on ``n_jobs``.

    Raises:
        ValueError: If ``storage`` holds runs made with another seed scheme than the specs'
            (:data:`SEED_SCHEMES`): one storage never mixes them.
    """
    from hpolab.storage import get_storage

    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs: {n_jobs!r} must be a positive int or -1 (one worker per CPU)")
    workers = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    url = _storage_url(storage)
    store = get_storage(url)
    found = _schemes_in(store)
    for wanted in sorted({spec.seed_scheme for spec in specs}):
        if any(k != wanted for k in found):
            close = getattr(store, "close", None)
            if close is not None:
                close()
            raise ValueError(_mixed_schemes_message(url, found, wanted))
    todo: list[RunSpec] = []
    for spec in specs:
        info = store.get_study(spec.study_name)
        if info is not None:
            records = store.get_trials(info.study_id)
            spent = budget_spent(records, _full_budget(info))
            if _is_complete(info, spec, _finished(records), spent):
                continue
        todo.append(spec)
    close = getattr(store, "close", None)
    if close is not None:
        close()
    skipped = len(specs) - len(todo)
    if skipped:
        _logger.info("%d of %d runs are already finished in %s; skipping them", skipped, len(specs), url)
    bar = None
    if show_progress_bar:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(specs), initial=skipped, desc="runs", unit="run")
    summaries: list[dict[str, Any]] = []
    try:
        if scheduler is None and (workers == 1 or len(todo) <= 1):
            for spec in todo:
                summaries.append(_run_one(spec, url))
                if bar is not None:
                    bar.set_postfix_str(spec.study_name, refresh=False)
                    bar.update(1)
        else:
            for summary, spec in _run_parallel(_interleave(todo), url, workers, scheduler):
                summaries.append(summary)
                if bar is not None:
                    bar.set_postfix_str(spec.study_name, refresh=False)
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return summaries


def _run_parallel(
    specs: Sequence[RunSpec], url: str, workers: int, scheduler: Any
) -> Iterator[tuple[dict[str, Any], RunSpec]]:
    """Run specs on Dask (a LocalCluster of ``workers``, or ``scheduler``); yield results as they finish."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        if scheduler is not None:
            raise ImportError('a Dask scheduler needs dask.distributed; pip install "hpolab[dask]"') from None
        _logger.info('Dask is not installed (pip install "hpolab[dask]"): running on a local process pool')
        yield from _run_pool(specs, url, workers)
        return
    from hpolab.study import dask_client

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=min(workers, len(specs)), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = dask_client(scheduler)
    try:
        futures = {
            client.submit(_run_one, spec, url, pure=False, key=f"hpolab-run-{spec.study_name}"): spec for spec in specs
        }
        for future in as_completed(futures):
            yield future.result(), futures[future]
    finally:
        if cluster is not None:
            client.close()
            cluster.close()


def _run_pool(specs: Sequence[RunSpec], url: str, workers: int) -> Iterator[tuple[dict[str, Any], RunSpec]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=ctx) as pool:
        futures = {pool.submit(_run_one, spec, url): spec for spec in specs}
        for fut in as_completed(futures):
            yield fut.result(), futures[fut]


def _interleave(specs: Sequence[RunSpec]) -> list[RunSpec]:
    """Slow optimizers (LLMs, GPs) first, so that the pool does not end waiting on one long run."""
    slow = ("llm", "smac-gp", "gp")
    return sorted(specs, key=lambda s: 0 if any(k in s.optimizer_name for k in slow) else 1)
