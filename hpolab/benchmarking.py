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

:func:`run` returns the trial table that :mod:`hpolab.analysis` works on; :func:`load_results`
reads the same table back from a storage file; :data:`SUITES` names the papers' comparisons.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab._secrets import mask_secrets
from hpolab._table import COLUMNS, POOL_LABEL
from hpolab.trial import regret, trial_budget

if TYPE_CHECKING:
    import pandas as pd

    from hpolab._suites import SUITES, Suite, SuitePart, get_suite, plan_runs, plan_suite, suite_of
    from hpolab.objectives.base import Objective
    from hpolab.storage import Storage

__all__ = [
    "COLUMNS",
    "DEFAULT_STORAGE",
    "SEED_SCHEME",
    "SEED_SCHEMES",
    "SUITES",
    "RunSpec",
    "Suite",
    "SuitePart",
    "execute",
    "expand_objectives",
    "get_suite",
    "load_results",
    "optimizer_seed",
    "plan",
    "plan_runs",
    "plan_suite",
    "results_storage",
    "run",
    "seed_note",
    "storage_seed_schemes",
    "study_contexts",
    "suite_of",
    "with_llm",
]

_logger = logging.getLogger("hpolab.benchmarking")

#: Storage used when none is given.
DEFAULT_STORAGE = "journal:///hpolab-benchmark.log"

#: Name of the study attribute where the benchmark keeps its bookkeeping.
_ATTR = "benchmark"

#: The rule that gives a run its optimizer's seed, recorded in each study's bookkeeping (``seed_scheme``).
SEED_SCHEME = 2

#: What each seed scheme means, in words (the report prints the one its runs used).
SEED_SCHEMES: dict[int, str] = {
    1: (
        "seed scheme 1: the optimizer's seed was the run's seed itself on every objective, so runs with one seed "
        "on objectives of the same search space drew the same random configurations (their results are not "
        "independent draws across tasks)"
    ),
    2: (
        "seed scheme 2: the optimizer's seed of a run is derived from (seed, objective) as the first 4 bytes of "
        'SHA-256 of "objective|seed" (31 bits), so runs on different tasks are independent draws; methods on one '
        "(task, seed) get the same derived seed, and the objective's noise and data split take the plain seed, "
        "so they are shared by every method on that (task, seed)"
    ),
}


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid.

    Attributes:
        optimizer: Label of the optimizer in results (usually its registry name).
        objective: Registry name of the objective.
        seed: Seed of the optimizer (and of the objective's noise, where it takes one).
        n_trials: Finished trials the run should hold (``None``: only ``budget`` limits it).
        budget: Total fidelity budget (e.g. epochs) the run may spend (``None``: only ``n_trials``).
        optimizer_name: Registry name of the optimizer.
        optimizer_kwargs: Options for the optimizer.
        objective_kwargs: Options for the objective.
        context: Command line and suite recorded with the study.
        seed_scheme: How the optimizer's seed derives from ``seed`` (:data:`SEED_SCHEMES`).
    """

    optimizer: str
    objective: str
    seed: int
    n_trials: int | None
    budget: float | None
    optimizer_name: str
    optimizer_kwargs: Mapping[str, Any] = field(default_factory=dict)
    objective_kwargs: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    seed_scheme: int = SEED_SCHEME

    @property
    def study_name(self) -> str:
        """The study's name: ``"{optimizer}|{objective}|{seed}"``."""
        return f"{self.optimizer}|{self.objective}|{self.seed}"

    @property
    def optimizer_seed(self) -> int:
        """The seed the optimizer gets (:func:`optimizer_seed` of this run's seed and objective)."""
        return optimizer_seed(self.seed, self.objective, self.seed_scheme)

    def limits(self) -> dict[str, Any]:
        """The limits a finished run was run with."""
        return {"n_trials": self.n_trials, "budget": self.budget}


def _check_scheme(scheme: int) -> int:
    if isinstance(scheme, bool) or scheme not in SEED_SCHEMES:
        raise ValueError(
            f"seed_scheme: {scheme!r} is not a seed scheme; known: {sorted(SEED_SCHEMES)} "
            f"({SEED_SCHEME}, the default, derives a seed per task)"
        )
    return int(scheme)


def optimizer_seed(seed: int, objective: str, scheme: int = SEED_SCHEME) -> int:
    """The optimizer's seed of the run with ``seed`` on ``objective``.

    Scheme 2 (the default) hashes ``"objective|seed"`` with SHA-256 and keeps the first 4 bytes,
    masked to 31 bits (so any library's seed argument takes it); the result is the same on every
    machine and Python version. Scheme 1 is the seed itself, shared by every objective.

    Args:
        seed: The run's seed (it also seeds the objective's noise and data split).
        objective: The objective's registry name.
        scheme: A key of :data:`SEED_SCHEMES`.

    Raises:
        ValueError: If ``scheme`` is unknown.
    """
    if _check_scheme(scheme) == 1:
        return int(seed)
    digest = hashlib.sha256(f"{objective}|{int(seed)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


# ------------------------------------------------------------------------------ planning
def _optimizer_specs(optimizers: Sequence[str] | Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, registry name, kwargs) per optimizer."""
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    out: list[tuple[str, str, dict[str, Any]]] = []
    if isinstance(optimizers, Mapping):
        for label, spec in optimizers.items():
            if isinstance(spec, str):
                out.append((str(label), spec, {}))
            elif isinstance(spec, Mapping):
                kwargs = dict(spec)
                name = kwargs.pop("name", label)
                out.append((str(label), str(name), kwargs))
            else:
                raise TypeError(
                    f"optimizers[{label!r}]: {spec!r} is not a registry name or a dict like "
                    "{'name': 'llm', 'chain_of_thought': True}"
                )
    else:
        for name in optimizers:
            out.append((str(name), str(name), {}))
    labels = [label for label, _, _ in out]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ValueError(f"optimizers: label(s) {dupes} given twice; give each configuration its own label")
    for label in labels:
        if "|" in label:
            raise ValueError(f"optimizers: label {label!r} contains '|', which separates the parts of study names")
    return out


def expand_objectives(objectives: Iterable[str] | str) -> list[str]:
    """Registry names with shell wildcards expanded (``"hpobench/nn/*"`` -> the eight tables).

    Raises:
        ValueError: If a pattern matches no registered objective.
    """
    from hpolab.registry import list_objectives

    if isinstance(objectives, str):
        objectives = [objectives]
    out: list[str] = []
    known: list[str] | None = None
    for name in objectives:
        if any(ch in name for ch in "*?["):
            if known is None:
                known = [k for k in list_objectives() if not k.endswith("...") and "<" not in k]
            matches = [k for k in known if fnmatch.fnmatchcase(k, name)]
            if not matches:
                raise ValueError(
                    f"objectives: pattern {name!r} matches no registered objective (is its extra installed? "
                    "`hpolab list objectives` shows them)"
                )
            out.extend(m for m in matches if m not in out)
        elif name not in out:
            out.append(name)
    return out


def _seeds(seeds: int | Iterable[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise ValueError(f"seeds: {seeds!r} is not a number of seeds or a list of seeds")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds: {seeds} must be at least 1 (or a list of seeds)")
        return list(range(seeds))
    out = [int(s) for s in seeds]
    if not out:
        raise ValueError("seeds: no seed given")
    return out


def plan(
    optimizers: Sequence[str] | Mapping[str, Any],
    objectives: Iterable[str] | str,
    seeds: int | Iterable[int],
    *,
    n_trials: int | None = None,
    budget: float | None = None,
    random_pool: int = 0,
    objective_kwargs: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    seed_scheme: int = SEED_SCHEME,
) -> list[RunSpec]:
    """The runs of a grid, in order (objective, optimizer, seed), plus the random pools.

    Args:
        optimizers: Registry names, or ``{label: name or {"name": name, **options}}``.
        objectives: Registry names (wildcards allowed).
        seeds: A number of seeds (``0..seeds-1``) or the seeds.
        n_trials: Trials per run.
        budget: Fidelity budget per run (e.g. total epochs); runs stop at whichever limit comes first.
        random_pool: If positive, one extra run per objective labelled ``"random-pool"`` with this
            many random configurations (seed 0), the pool of seed 002's bootstrap baseline.
        objective_kwargs: Options for every objective.
        context: Recorded with each study (command line, suite).
        seed_scheme: How each run's optimizer seed derives from its seed (:data:`SEED_SCHEMES`);
            1 only to extend a storage made with it.

    Raises:
        ValueError: If neither ``n_trials`` nor ``budget`` is given, one is not positive, or the
            seed scheme is unknown.
    """
    if n_trials is None and budget is None:
        raise ValueError("n_trials / budget: give at least one limit per run, e.g. n_trials=10")
    if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1):
        raise ValueError(f"n_trials: {n_trials!r} must be a positive int")
    if budget is not None and not (budget > 0):
        raise ValueError(f"budget: {budget!r} must be positive (e.g. total epochs per run)")
    if random_pool < 0:
        raise ValueError(f"random_pool: {random_pool} must be >= 0")
    scheme = _check_scheme(seed_scheme)
    opts = _optimizer_specs(optimizers)
    objs = expand_objectives(objectives)
    seed_list = _seeds(seeds)
    ctx = dict(context or {})
    okw = dict(objective_kwargs or {})
    specs = [
        RunSpec(label, obj, seed, n_trials, budget, name, kwargs, okw, ctx, scheme)
        for obj in objs
        for label, name, kwargs in opts
        for seed in seed_list
    ]
    if random_pool:
        specs += [RunSpec(POOL_LABEL, obj, 0, int(random_pool), None, "random", {}, okw, ctx, scheme) for obj in objs]
    return specs


# ------------------------------------------------------------------------------- running
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


#: Registered optimizers whose LLM is built from a ``client`` option (``with_llm`` replaces it).
LLM_CLIENT_OPTIMIZERS = ("llm", "llm-multimodal", "llm-hybrid", "llm-tpe", "llm-smac")


def with_llm(specs: Sequence[RunSpec], client: Mapping[str, Any]) -> list[RunSpec]:
    """The same runs with every LLM optimizer's model replaced by ``client`` (a :func:`hpolab.llm.make_client` spec).

    The optimizer's label gets the model's name in brackets (``llm[qwen2.5-7b]``), so the runs are
    new studies beside those of another model and Table 1 names the model.

    Args:
        specs: Planned runs.
        client: ``{"model": "path/to.gguf"}`` or ``{"base_url": "http://host/v1", "model": "name"}``.
    """
    from dataclasses import replace

    model = str(client.get("model") or client.get("base_url") or "model")
    short = Path(model).stem if model.endswith(".gguf") else model.rsplit("/", 1)[-1]
    out = []
    for spec in specs:
        if spec.optimizer_name not in LLM_CLIENT_OPTIMIZERS:
            out.append(spec)
            continue
        kwargs = {k: v for k, v in spec.optimizer_kwargs.items() if k not in ("client", "llama_cpp", "simulated_llm")}
        kwargs["client"] = dict(client)
        out.append(replace(spec, optimizer=f"{spec.optimizer}[{short}]", optimizer_kwargs=kwargs))
    return out


def _finished(records: Iterable[Any]) -> int:
    return sum(1 for r in records if r.state.is_finished)


def _is_complete(info: Any, spec: RunSpec, n_finished: int, spent: float) -> bool:
    meta = (info.attrs or {}).get(_ATTR, {}) if info is not None else {}
    if meta.get("complete") and meta.get("limits") == spec.limits():
        return True
    if spec.n_trials is not None and n_finished >= spec.n_trials:
        return True
    return spec.budget is not None and spent >= spec.budget


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
                "complete": False,
            }
        },
    )
    study.optimize(max_trials=spec.n_trials, max_budget_spent=spec.budget)
    after = _finished(study.trials)
    meta = store.get_study(spec.study_name).attrs[_ATTR]  # type: ignore[union-attr]
    meta["complete"] = True
    meta["seconds"] = float(meta.get("seconds", 0.0)) + (time.perf_counter() - t0)
    store.set_study_attrs(info.study_id, {_ATTR: meta})
    return {"study": spec.study_name, "new_trials": after - before, "seconds": time.perf_counter() - t0}


def _study_scheme(info: Any) -> int | None:
    """The seed scheme a harness study was run with (1 when its bookkeeping predates schemes); ``None``: no harness study."""
    meta = (info.attrs or {}).get(_ATTR)
    if not isinstance(meta, Mapping) or "objective" not in meta:
        return None
    return int(meta.get("seed_scheme", 1))


def _schemes_in(store: Storage) -> dict[int, int]:
    counts: dict[int, int] = {}
    for info in store.list_studies():
        scheme = _study_scheme(info)
        if scheme is not None:
            counts[scheme] = counts.get(scheme, 0) + 1
    return counts


def storage_seed_schemes(storage: str | os.PathLike[str]) -> dict[int, int]:
    """How many harness runs in a storage used each seed scheme (:data:`SEED_SCHEMES`): ``{scheme: runs}``."""
    from hpolab.storage import get_storage

    store = get_storage(_storage_url(storage))
    try:
        return _schemes_in(store)
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


def _mixed_schemes_message(url: str, found: Mapping[int, int], wanted: int, what: str | None = None) -> str:
    old = ", ".join(f"{n} run(s) with seed scheme {k}" for k, n in sorted(found.items()) if k != wanted)
    where = f"study {what!r} in " if what else ""
    return (
        f"{where}storage {url} holds {old}, and these runs use seed scheme {wanted}: resuming or extending it "
        f"would mix draws made by two rules in one comparison ({SEED_SCHEMES[wanted]}). Write the runs to a new "
        f"storage (`hpolab compare -o NEW_FOLDER`, or another `storage=`), or continue this storage in its own "
        f"scheme with seed_scheme={min(k for k in found if k != wanted)} (`--seed-scheme "
        f"{min(k for k in found if k != wanted)}`)."
    )


def seed_note(contexts: Iterable[Mapping[str, Any]]) -> str | None:
    """One sentence for a report saying how the runs' optimizer seeds were derived (from :func:`study_contexts`).

    Returns:
        ``None`` when no context is a harness run's.
    """
    counts: dict[int, int] = {}
    for c in contexts:
        if "objective" not in c:
            continue
        scheme = int(c.get("seed_scheme", 1))
        counts[scheme] = counts.get(scheme, 0) + 1
    if not counts:
        return None
    parts = [f"{SEED_SCHEMES.get(k, f'seed scheme {k}')} ({n} runs)" for k, n in sorted(counts.items())]
    return "Seeds: " + "; ".join(parts) + "."


def results_storage(folder: str | os.PathLike[str]) -> Path:
    """Where a suite's runs go in ``folder``: ``results.log`` (a journal file), or an existing ``results.db``.

    The journal file is the harness's storage by measurement (benchmarks/results/harness_speed.md:
    the 400-run grid in about half the time SQLite takes); a folder that already holds a SQLite
    ``results.db`` from an earlier run keeps it, so the rerun resumes there.
    """
    folder = Path(folder)
    old = folder / "results.db"
    return old if old.exists() else folder / "results.log"


def _storage_url(storage: str | os.PathLike[str]) -> str:
    """A storage URL from a URL or a path (``.log`` / ``.journal``: a journal file; else SQLite)."""
    text = os.fspath(storage)
    if "://" in text:
        return text
    if text.endswith((".log", ".journal", ".jsonl")):
        return f"journal:///{text}"
    return f"sqlite:///{text}"


def run(
    optimizers: Sequence[str] | Mapping[str, Any],
    objectives: Iterable[str] | str,
    seeds: int | Iterable[int],
    n_trials: int | None = None,
    budget: float | None = None,
    *,
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
        n_trials: Trials per run (seed 002 uses 10).
        budget: Total fidelity budget per run, e.g. epochs for seed 004's equal-budget comparison.
        storage: A storage URL (``"sqlite:///runs.db"``) or a path to a SQLite file.
        n_jobs: Workers of a Dask ``LocalCluster`` on this machine (``-1``: one per CPU); ``1`` runs
            in this process. Without Dask installed, worker processes of a process pool.
        scheduler: A Dask scheduler address (``"tcp://host:8786"``) or ``dask.distributed.Client``:
            run on that cluster instead (its workers must reach ``storage``).
        show_progress_bar: Show a progress bar over runs.
        random_pool: Extra random configurations per objective for seed 002's bootstrap baseline
            (a run labelled ``"random-pool"``; seed 002 used 500).
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
    specs = plan(
        optimizers,
        objectives,
        seeds,
        n_trials=n_trials,
        budget=budget,
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
            spent = sum(_record_budget(r, info) for r in records if r.state.is_finished)
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
        _logger.warning('Dask is not installed (pip install "hpolab[dask]"): running on a local process pool')
        yield from _run_pool(specs, url, workers)
        return
    from hpolab._workers import dask_client

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


def _record_budget(record: Any, info: Any) -> float:
    return trial_budget(record, ((info.attrs or {}).get(_ATTR) or {}).get("max_budget"))


# ------------------------------------------------------------------------------- results
def _usage(metadata: Any) -> tuple[int, int, float, int, float | None]:
    """(prompt tokens, completion tokens, latency seconds, model calls, cost) of one trial's LLM use.

    Read from the typed record :meth:`hpolab.llm.LLMUsage.from_metadata` (all zero when the trial made no LLM call).
    """
    from hpolab.llm.clients._usage import LLMUsage

    usage = LLMUsage.from_metadata(metadata) or LLMUsage()
    return (usage.prompt_tokens, usage.completion_tokens, usage.latency_s, usage.calls, usage.cost)


def _llm_outcome(metadata: Mapping[str, Any]) -> str | None:
    """How an LLM proposal was obtained (``valid``, ``repaired``, ``reasked``, ``fallback``), if recorded."""
    llm = metadata.get("llm") if isinstance(metadata, Mapping) else None
    outcome = llm.get("outcome") if isinstance(llm, Mapping) else None
    return str(outcome) if outcome is not None else None


def _source(metadata: Any) -> str | None:
    """Which source of a hybrid optimizer proposed the trial (``metadata["source"]``), if any."""
    source = metadata.get("source") if isinstance(metadata, Mapping) else None
    return str(source) if source is not None else None


def _parse_name(name: str) -> tuple[str, str, int] | None:
    parts = name.split("|")
    if len(parts) != 3:
        return None
    try:
        return parts[0], parts[1], int(parts[2])
    except ValueError:
        return None


def _study_rows(store: Storage, info: Any) -> list[dict[str, Any]]:
    meta = (info.attrs or {}).get(_ATTR) or {}
    parsed = _parse_name(info.name)
    optimizer = meta.get("optimizer") or (parsed[0] if parsed else (info.attrs.get("optimizer") or {}).get("name"))
    objective = meta.get("objective") or (parsed[1] if parsed else info.attrs.get("objective"))
    seed = meta.get("seed", parsed[2] if parsed else (info.attrs.get("optimizer") or {}).get("seed"))
    opt_seed = meta.get("optimizer_seed", (info.attrs.get("optimizer") or {}).get("seed", seed))
    direction = meta.get("direction") or info.direction
    optimum = meta.get("optimum")
    max_budget = meta.get("max_budget")
    rows = []
    position = 0
    for rec in store.get_trials(info.study_id):
        if not rec.state.is_finished:
            continue
        result = rec.result
        value = rec.value if rec.value is not None else math.nan
        info_d = rec.info
        true_value = info_d.get("true_value")
        true_value = float(true_value) if isinstance(true_value, (int, float)) else math.nan
        gap = regret(true_value if math.isfinite(true_value) else value, optimum, direction)
        gap = math.nan if gap is None else gap
        wall = info_d.get("wall_time")
        if not isinstance(wall, (int, float)):
            wall = (
                rec.datetime_complete - rec.datetime_start
                if rec.datetime_complete is not None and rec.datetime_start is not None
                else math.nan
            )
        prompt, completion, latency, calls, llm_cost = _usage(rec.metadata)
        rows.append(
            {
                "optimizer": optimizer,
                "objective": objective,
                "seed": seed,
                "optimizer_seed": opt_seed,
                "trial": position,
                "trial_id": rec.id,
                "state": rec.state.value,
                "value": value,
                "true_value": true_value,
                "regret": gap,
                "direction": direction,
                "budget": rec.budget if rec.budget is not None else math.nan,
                "max_budget": float(max_budget) if max_budget is not None else math.nan,
                "cost": result.cost if result is not None and result.cost is not None else math.nan,
                "wall_time": float(wall),
                "prompt_tokens": prompt if calls else math.nan,
                "completion_tokens": completion if calls else math.nan,
                "llm_latency": latency if calls else math.nan,
                "llm_calls": calls if calls else math.nan,
                "llm_cost": llm_cost if calls and llm_cost is not None else math.nan,
                "llm_outcome": _llm_outcome(rec.metadata),
                "source": _source(rec.metadata),
                "config": dict(rec.config),
                "error": info_d.get("error"),
            }
        )
        position += 1
    return rows


def load_results(storage: str | os.PathLike[str], *, studies: Sequence[str] | None = None) -> pd.DataFrame:
    """Read the trial table back from a storage (a URL or a SQLite file path).

    Args:
        storage: Where :func:`run` wrote its studies.
        studies: Study names to read (default: every study in the storage).

    Returns:
        One row per finished trial, columns :data:`COLUMNS`, sorted by objective, optimizer, seed, trial.

    Raises:
        FileNotFoundError: If a SQLite path does not exist.
    """
    import pandas as pd

    from hpolab.storage import get_storage

    url = _storage_url(storage)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path != ":memory:" and not os.path.exists(path):
            raise FileNotFoundError(f"storage: {path!r} does not exist; run `hpolab compare` first or check the path")
    store = get_storage(url)
    wanted = None if studies is None else set(studies)
    rows: list[dict[str, Any]] = []
    for info in store.list_studies():
        if wanted is not None and info.name not in wanted:
            continue
        rows.extend(_study_rows(store, info))
    close = getattr(store, "close", None)
    if close is not None:
        close()
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    if df.empty:
        return df
    df["seed"] = df["seed"].astype(int)
    if df["optimizer_seed"].notna().all():
        df["optimizer_seed"] = df["optimizer_seed"].astype(int)
    return df.sort_values(["objective", "optimizer", "seed", "trial"], kind="stable").reset_index(drop=True)


def study_contexts(storage: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The benchmark bookkeeping of every study in a storage (optimizer options, limits, command)."""
    from hpolab.storage import get_storage

    store = get_storage(_storage_url(storage))
    out = [
        mask_secrets(
            dict((info.attrs or {}).get(_ATTR) or {}, study=info.name, optimizer_meta=info.attrs.get("optimizer"))
        )
        for info in store.list_studies()
    ]
    close = getattr(store, "close", None)
    if close is not None:
        close()
    return out


#: Names of :mod:`hpolab._suites` that this module re-exports: the suites sit on top of the harness
#: (they plan with :func:`plan`), so they are imported on first use, never when this module loads.
_SUITE_NAMES = ("SUITES", "Suite", "SuitePart", "get_suite", "plan_runs", "plan_suite", "suite_of")


def __getattr__(name: str) -> Any:
    if name in _SUITE_NAMES:
        from hpolab import _suites

        return getattr(_suites, name)
    raise AttributeError(f"module 'hpolab.benchmarking' has no attribute {name!r}")
