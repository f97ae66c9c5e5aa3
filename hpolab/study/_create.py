"""Creating, reopening and joining a study; the one-call ``optimize``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hpolab._secrets import check_stored_urls, find_masked, mask_secrets
from hpolab.objectives.base import FunctionObjective, Objective
from hpolab.optimizers._base import Optimizer
from hpolab.storage import Storage, StorageError, StudyInfo, get_storage
from hpolab.study._ledger import DEFAULT_MAX_RETRIES, _check_options
from hpolab.study._optimize import Study, worker_seed

__all__ = ["create_study", "load_study", "optimize"]

_logger = logging.getLogger("hpolab.study")


@dataclass
class _OptimizerFactory:
    """How to build the optimizer of another worker: by registry name, or from a pristine copy."""

    name: str | None
    kwargs: dict[str, Any]
    pristine: Optimizer | None
    seed: int | None

    def build(self, space: Any, direction: Any, slot: int) -> Optimizer:
        seed = worker_seed(self.seed, slot)
        if self.name is not None:
            from hpolab.registry import make_optimizer

            return make_optimizer(self.name, space, direction=direction, seed=seed, **self.kwargs)
        assert self.pristine is not None
        return self.pristine.spawn(seed)


def _resolve_objective(objective: Objective | str | Callable[..., Any], space: Any) -> Objective:
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        from hpolab.registry import make_objective

        return make_objective(objective)
    if callable(objective):
        if space is None:
            raise ValueError("space: a plain function needs a search space; pass space={...}")
        return FunctionObjective(objective, space)
    raise TypeError(f"objective: {objective!r} is not an Objective, a registry name or a function")


def create_study(
    objective: Objective | str | Callable[..., Any],
    optimizer: Optimizer | str = "random",
    *,
    storage: Storage | str | None = None,
    study_name: str | None = None,
    load_if_exists: bool = False,
    seed: int | None = None,
    space: Any = None,
    optimizer_kwargs: Mapping[str, Any] | None = None,
    on_dead_worker: str = "retry",
    max_retries: int = DEFAULT_MAX_RETRIES,
    heartbeat_interval: float = 10.0,
    trial_timeout: float | None = None,
    slot: int | None = None,
    parent_worker: str | None = None,
) -> Study:
    """Create (or reopen, or join) a study.

    Args:
        objective: An Objective, a registry name (``"toy/branin"``) or a function of a config
            (then ``space`` is required).
        optimizer: An Optimizer over the objective's space, or a registry name (built with the
            objective's direction, ``seed`` and ``optimizer_kwargs``).
        storage: ``None`` (memory), a URL (``"sqlite:///runs.db"``, ``"journal:///runs.log"``,
            ``"postgresql://..."``) or a Storage.
        study_name: Unique name in the storage; generated when omitted.
        load_if_exists: Continue the study of that name if it exists. This process becomes a
            worker of the study: when no other worker is running it continues the earlier
            process's log exactly (the fresh optimizer replays it, and a trial that was running
            when that process died is evaluated again first); when others are running it joins
            them with a seed of its own.
        seed: Seed for an optimizer given by name (worker slots after the first derive theirs
            from it, see :func:`worker_seed`).
        space: Search space of a plain-function objective.
        optimizer_kwargs: Options for an optimizer given by name.
        on_dead_worker: ``"retry"`` or ``"fail"``: what happens to the trial of a worker that died,
            including one this worker takes over from its slot's dead predecessor on resume.
        max_retries: How many times a trial whose worker died is evaluated again; after that it
            stays FAIL with the reason (a configuration that kills its worker cannot stop the study).
        heartbeat_interval: Seconds between heartbeats; a worker on another host is taken for
            dead after the storage's grace period (60 s) without one, which must exceed twice
            this interval. A worker on this host is taken for dead as soon as its process is gone.
        trial_timeout: Seconds after which a running trial is failed with reason ``"timeout"``
            (in the main thread of a POSIX process, by a signal that interrupts the objective; a
            worker process whose objective does not return to Python is also killed).
        slot: Claim this worker slot instead of the lowest free one.
        parent_worker: The key of the worker whose parallel run starts this one (what
            ``optimize(n_jobs=...)`` passes to its worker processes and Dask tasks): workers of
            one run never share a slot, even when one starts after another finished.

    Returns:
        The Study.

    Raises:
        StorageError: If the study exists and ``load_if_exists`` is false, or the storage is unusable.
        ValueError: If the optimizer's direction or space does not match the objective's.
    """
    store_for_check = storage if isinstance(storage, Storage) else None
    grace = store_for_check.grace_period if store_for_check is not None else Storage.grace_period
    _check_options(on_dead_worker, max_retries, heartbeat_interval, trial_timeout, grace)
    obj = _resolve_objective(objective, space)
    if isinstance(optimizer, str):
        from hpolab.registry import make_optimizer

        kwargs = dict(optimizer_kwargs or {})
        opt = make_optimizer(optimizer, obj.search_space, direction=obj.direction, seed=seed, **kwargs)
        factory = _OptimizerFactory(optimizer, kwargs, None, seed)
    elif isinstance(optimizer, Optimizer):
        if optimizer_kwargs:
            raise ValueError("optimizer_kwargs: only used with an optimizer name; configure the instance instead")
        opt = optimizer
        factory = _OptimizerFactory(
            None, {}, optimizer.spawn(optimizer.seed) if not optimizer.history else None, optimizer.seed
        )
    else:
        raise TypeError(f"optimizer: {optimizer!r} is not an Optimizer or a registry name")
    if opt.direction is not obj.direction:
        raise ValueError(
            f"direction: the optimizer {opt.direction.value}s but objective {obj.name!r} is to "
            f"{obj.direction.value}; build the optimizer with direction={obj.direction.value!r}"
        )
    if set(opt.space.names) != set(obj.search_space.names):
        raise ValueError(
            f"space: the optimizer's parameters {sorted(opt.space.names)} differ from objective "
            f"{obj.name!r}'s {sorted(obj.search_space.names)}; build the optimizer on objective.search_space"
        )
    # The objective's context before anything reads the optimizer (its meta may fix ASHA's rungs).
    opt.set_context(description=obj.description or None, fidelity=obj.fidelity)
    store = get_storage(storage)
    name = study_name or f"study-{uuid.uuid4().hex[:12]}"
    info = store.get_study(name)
    options = {
        "on_dead_worker": on_dead_worker,
        "max_retries": max_retries,
        "heartbeat_interval": heartbeat_interval,
        "trial_timeout": trial_timeout,
    }
    if info is not None:
        if not load_if_exists:
            raise StorageError(f"study {name!r} already exists; pass load_if_exists=True to continue it")
        return _load(obj, opt, store, info, factory, slot, parent_worker, options)
    if opt.history or opt.pending:
        raise ValueError("optimizer: a new study needs a fresh optimizer; this one was already used")
    attrs = {
        "objective": obj.name,
        "optimizer": mask_secrets(opt.meta),
        "search_space": obj.search_space.to_json(),
        "created_by": "hpolab",
        "metric_name": obj.metric_name,
    }
    if factory.name is not None:
        attrs["optimizer_registry"] = {"name": factory.name, "kwargs": _plain_kwargs(factory.kwargs)}
    try:
        info = store.create_study(name, obj.direction.value, attrs)
    except StorageError:
        raced = store.get_study(name) if load_if_exists else None
        if raced is None:
            raise
        return _load(obj, opt, store, raced, factory, slot, parent_worker, options)  # created by another just now
    worker = store.register_worker(info.study_id, slot, parent=parent_worker)
    if worker.slot != 0:
        opt = _reslot(opt, factory, obj, worker.slot)
    return Study(obj, opt, store, info, worker, factory=factory, **options)  # type: ignore[arg-type]


def _plain_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments as stored with the study: secrets (at any depth) and objects are named, never written."""
    import json

    out: dict[str, Any] = {}
    for key, value in mask_secrets(kwargs).items():
        try:
            json.dumps(value)
            out[key] = value
        except (TypeError, ValueError):
            out[key] = f"<{type(value).__name__}>"
    return out


def _reslot(opt: Optimizer, factory: _OptimizerFactory, obj: Objective, slot: int) -> Optimizer:
    if factory.name is None and factory.pristine is None:
        raise ValueError(
            "optimizer: other workers are running this study, so this worker needs a seed of its own, but the "
            "optimizer instance was already used; pass a fresh instance or an optimizer name"
        )
    _logger.info("worker slot %d: optimizer seed %s", slot, worker_seed(factory.seed, slot))
    return factory.build(obj.search_space, obj.direction, slot)


def _load(
    obj: Objective,
    opt: Optimizer,
    store: Storage,
    info: StudyInfo,
    factory: _OptimizerFactory,
    slot: int | None,
    parent_worker: str | None,
    options: Mapping[str, Any],
) -> Study:
    stored_obj = info.attrs.get("objective")
    if stored_obj is not None and stored_obj != obj.name:
        raise ValueError(
            f"study {info.name!r} was run on objective {stored_obj!r}, not {obj.name!r}; open it with the same objective"
        )
    stored_meta = info.attrs.get("optimizer", {})
    if stored_meta.get("name") not in (None, opt.name):
        raise ValueError(
            f"study {info.name!r} was run with optimizer {stored_meta.get('name')!r}, not {opt.name!r}; "
            "resume it with the same optimizer"
        )
    if stored_meta.get("seed") != opt.seed:
        _logger.warning(
            "study %s was run with seed %s; resuming with seed %s will not reproduce an uninterrupted run",
            info.name,
            stored_meta.get("seed"),
            opt.seed,
        )
    if opt.history or opt.pending:
        raise ValueError("optimizer: resuming needs a fresh optimizer; this one was already used")
    worker = store.register_worker(info.study_id, slot, parent=parent_worker)
    if worker.slot != 0:
        opt = _reslot(opt, factory, obj, worker.slot)
    lineage = [w.key for w in store.workers(info.study_id) if w.slot == worker.slot and w.key != worker.key]
    opt.set_context(description=obj.description or None, n_trials=info.attrs.get("n_trials"), fidelity=obj.fidelity)
    if lineage:
        opt.replay(store.get_events(info.study_id, lineage))
    study = Study(obj, opt, store, info, worker, factory=factory, **options)
    if opt.pending:
        _logger.info(
            "study %s: %d trial(s) were running when the last process of slot %d stopped; taking them over",
            info.name,
            len(opt.pending),
            worker.slot,
        )
        study._ledger.adopt()
    return study


def load_study(
    study_name: str,
    storage: Storage | str,
    objective: Objective | str | None = None,
    optimizer: Optimizer | str | None = None,
    *,
    seed: int | None = None,
    optimizer_kwargs: Mapping[str, Any] | None = None,
    slot: int | None = None,
    on_dead_worker: str = "retry",
    max_retries: int = DEFAULT_MAX_RETRIES,
    heartbeat_interval: float = 10.0,
    trial_timeout: float | None = None,
) -> Study:
    """Reopen a stored study; objective and optimizer default to the stored names, seed and options.

    ``on_dead_worker``, ``max_retries``, ``heartbeat_interval`` and ``trial_timeout`` are as in
    :func:`create_study`; they apply from the moment the study opens (to the trials this worker
    takes over from its slot's dead predecessor too).

    Raises:
        StorageError: If there is no such study.
    """
    store = get_storage(storage)
    info = store.get_study(study_name)
    if info is None:
        known = [s.name for s in store.list_studies()]
        raise StorageError(f"study {study_name!r} is not in {store!r}; known: {known}")
    meta = info.attrs.get("optimizer", {})
    registry = info.attrs.get("optimizer_registry") or {}
    obj = objective if objective is not None else info.attrs.get("objective")
    if obj is None:
        raise ValueError(f"study {study_name!r} has no stored objective name; pass objective=")
    opt = optimizer if optimizer is not None else registry.get("name", meta.get("name", "random"))
    kwargs = optimizer_kwargs
    if isinstance(opt, str):
        seed = meta.get("seed") if seed is None else seed
        if kwargs is None and opt == registry.get("name"):
            stored = dict(registry.get("kwargs") or {})
            unusable = [k for k, v in stored.items() if isinstance(v, str) and v.startswith("<") and v.endswith(">")]
            unusable += [p for p in find_masked(stored) if p not in unusable]
            check_stored_urls(stored, what=f"study {study_name!r}")
            if unusable:
                raise ValueError(
                    f"study {study_name!r} was built with options {unusable} that are not stored (secrets and "
                    "objects); pass them again with optimizer_kwargs= (all options) or optimizer= (an instance)"
                )
            kwargs = stored
    return create_study(
        obj,
        opt,
        storage=store,
        study_name=study_name,
        load_if_exists=True,
        seed=seed,
        optimizer_kwargs=kwargs if isinstance(opt, str) else None,
        slot=slot,
        on_dead_worker=on_dead_worker,
        max_retries=max_retries,
        heartbeat_interval=heartbeat_interval,
        trial_timeout=trial_timeout,
    )


def optimize(
    objective: Objective | str | Callable[..., Any],
    optimizer: Optimizer | str = "random",
    n_trials: int | None = None,
    *,
    space: Any = None,
    seed: int | None = None,
    timeout: float | None = None,
    n_jobs: int = 1,
    storage: Storage | str | None = None,
    study_name: str | None = None,
    show_progress_bar: bool = False,
    max_retries: int = DEFAULT_MAX_RETRIES,
    trial_timeout: float | None = None,
    **optimizer_kwargs: Any,
) -> Study:
    """Create a study and run it: the one-call API.

    ``max_retries`` and ``trial_timeout`` are as in :func:`create_study`; every other keyword
    is an option of the optimizer (``optimizer_kwargs``).

    Example:
        >>> study = hpolab.optimize("toy/branin", "tpe", n_trials=30, seed=0)
        >>> study.best_value

    Returns:
        The finished Study.
    """
    study = create_study(
        objective,
        optimizer,
        storage=storage,
        study_name=study_name,
        seed=seed,
        space=space,
        optimizer_kwargs=optimizer_kwargs or None,
        max_retries=max_retries,
        trial_timeout=trial_timeout,
    )
    study.optimize(n_trials=n_trials, timeout=timeout, n_jobs=n_jobs, show_progress_bar=show_progress_bar)
    return study
