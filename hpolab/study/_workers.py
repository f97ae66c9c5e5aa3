"""Running one study on several workers: processes on this machine, or tasks on a Dask cluster.

Every worker opens the study from its storage URL and runs the study's loop with an optimizer
of its own (its seed derived from the study's seed and its slot, see :func:`hpolab.study.worker_seed`).
The storage numbers trials atomically, and each worker takes in the others' results before it
asks, so the workers share one history without talking to each other.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpolab.exceptions import WorkerError
from hpolab.storage import StorageError

if TYPE_CHECKING:
    from hpolab.study._optimize import Callback, Study, _Limits

__all__ = ["WorkerError", "dask_client", "run_parallel", "run_worker"]

_logger = logging.getLogger("hpolab.workers")


@dataclass
class _Payload:
    """What a worker needs to join a study (sent pickled to another process or machine)."""

    url: str
    study_name: str
    objective: Any
    optimizer: Any  # a registry name, or a fresh Optimizer to spawn from
    seed: int | None
    optimizer_kwargs: dict[str, Any]
    limits: Any
    callbacks: Sequence[Any]
    catch: tuple[type[BaseException], ...]
    options: dict[str, Any]
    parent: str  # the key of the worker that started the run: its workers never share a slot


def _dumps(payload: _Payload) -> bytes:
    try:
        import cloudpickle

        return bytes(cloudpickle.dumps(payload))
    except ImportError:
        return pickle.dumps(payload)


def _payload(
    study: Study, limits: _Limits, callbacks: Sequence[Callback], catch: tuple[type[BaseException], ...]
) -> _Payload:
    factory = study._factory
    if factory is None or (factory.name is None and factory.pristine is None):
        raise ValueError(
            "optimizer: running several workers needs an optimizer name or a fresh optimizer instance "
            "(each worker builds its own); this study's optimizer was already used when the study was created"
        )
    if not study.storage.persistent or study.storage.url is None:
        raise StorageError(
            "storage: several workers need a storage every worker can open; pass storage='journal:///runs.log' "
            "(one machine), 'sqlite:///runs.db' or 'postgresql://...' to create_study"
        )
    return _Payload(
        url=study.storage.url,
        study_name=study.study_name,
        objective=study.objective,
        optimizer=factory.name if factory.name is not None else factory.pristine,
        seed=factory.seed,
        optimizer_kwargs=dict(factory.kwargs),
        limits=limits,
        callbacks=list(callbacks),
        catch=catch,
        options={
            "on_dead_worker": study.on_dead_worker,
            "max_retries": study.max_retries,
            "heartbeat_interval": study.heartbeat_interval,
            "trial_timeout": study.trial_timeout,
        },
        parent=study.worker.key,
    )


def _join(payload: _Payload, check_schema: bool) -> Study:
    from hpolab.optimizers._base import Optimizer
    from hpolab.storage import get_storage
    from hpolab.study import create_study

    optimizer = payload.optimizer
    if isinstance(optimizer, Optimizer):
        optimizer = optimizer.spawn(payload.seed)
    return create_study(
        payload.objective,
        optimizer,
        storage=get_storage(payload.url, check_schema=check_schema),
        study_name=payload.study_name,
        load_if_exists=True,
        seed=payload.seed,
        optimizer_kwargs=payload.optimizer_kwargs if isinstance(optimizer, str) else None,
        parent_worker=payload.parent,
        **payload.options,
    )


def run_worker(payload: bytes | _Payload, tickets: Any = None, *, check_schema: bool = True) -> int:
    """Join the study described by ``payload`` as a new worker and run its loop; return the trials run.

    ``check_schema=False`` skips the database's table creation and schema check, for a process on
    the machine whose process built ``payload`` (that one opened the same storage and checked it).
    """
    data = pickle.loads(payload) if isinstance(payload, bytes) else payload
    study = _join(data, check_schema)
    study._worker_process = True  # a hung trial past trial_timeout may kill this process
    try:
        return study._work(data.limits, data.callbacks, data.catch, False, tickets)
    finally:
        study.storage.retire_worker(study._info.study_id, study.worker.key)
        study.storage.close()


def _child(payload: bytes | _Payload, tickets: Any, errors: Any) -> None:
    try:
        run_worker(payload, tickets, check_schema=False)  # the parent opened and checked the storage
    except BaseException as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
        raise SystemExit(1) from None
    finally:
        # A worker process ends with os._exit, which runs no finalizer: collect the run's objects now,
        # so that theirs run (an optimizer's temporary folder, such as SMAC's output, is removed).
        gc.collect()


def _start_method() -> str:
    """``fork`` where it is safe and fast (POSIX, torch not loaded), else ``spawn``."""
    chosen = os.environ.get("HPOLAB_START_METHOD")
    if chosen:
        return chosen
    if "fork" in mp.get_all_start_methods() and "torch" not in sys.modules and sys.platform != "darwin":
        return "fork"
    return "spawn"


def _start(children: Sequence[Any], *, forked: bool) -> None:
    """Start the worker processes; forked ones find the objects they inherit frozen for the collector.

    A collection in a forked child that visits the parent's objects (every module the parent
    imported) costs CPU time and writes to their memory pages, so the child copies them. Frozen,
    those objects are left out of the child's collections, while what the child builds (its
    optimizer and study) is collected as usual. Objects the caller froze stay frozen.
    """
    freeze = forked and gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        for child in children:
            child.start()
    finally:
        if freeze:
            gc.unfreeze()


def run_parallel(
    study: Study,
    limits: _Limits,
    *,
    n_jobs: int,
    executor: Any,
    callbacks: Sequence[Callback],
    catch: tuple[type[BaseException], ...],
    show_progress_bar: bool,
) -> None:
    """Run ``study`` on ``n_jobs`` local processes (this one included) or on a Dask cluster."""
    payload = _payload(study, limits, callbacks, catch)
    if executor is not None:
        _run_dask(study, payload, n_jobs, executor)
        study._ledger.sync()
        return
    n = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    method = _start_method()
    ctx = mp.get_context(method)
    data: bytes | _Payload = payload if method == "fork" else _dumps(payload)
    tickets = ctx.Value("l", limits.n_trials if limits.n_trials is not None else 2**62)
    errors = ctx.Queue()
    process = ctx.Process  # type: ignore[attr-defined]
    children = [process(target=_child, args=(data, tickets, errors), daemon=False) for _ in range(n - 1)]
    _start(children, forked=method == "fork")
    try:
        study._work(limits, callbacks, catch, show_progress_bar, tickets, release=False)
    except BaseException:
        for child in children:
            child.terminate()
        raise
    finally:
        for child in children:
            child.join()
        study.storage.release(study._info.study_id, study.worker.key)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    failures += [f"exit code {c.exitcode}" for c in children if c.exitcode not in (0, None) and not failures]
    study._ledger.sync()
    if failures:
        raise WorkerError(f"study {study.study_name!r}: {len(failures)} worker(s) failed: {failures[0]}")


def dask_client(executor: Any) -> Any:
    """A ``dask.distributed.Client`` from what ``executor=`` accepts: a client or a scheduler address.

    Args:
        executor: A ``dask.distributed.Client`` (returned as it is) or a scheduler address such as
            ``"tcp://scheduler:8786"`` (a new client connected to it).

    Returns:
        The client.

    Raises:
        ImportError: If ``dask.distributed`` is not installed.
        ValueError: If ``executor`` is neither a client nor a string.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise ImportError('the Dask executor needs dask.distributed; pip install "hpolab[dask]"') from None
    if isinstance(executor, Client):
        return executor
    if isinstance(executor, str):
        return Client(executor)
    raise ValueError(f"executor: {executor!r} is not a dask.distributed.Client or a scheduler address")


def _shares(total: int | None, k: int) -> list[int | None]:
    if total is None:
        return [None] * k
    return [total // k + (1 if i < total % k else 0) for i in range(k)]


def _run_dask(study: Study, payload: _Payload, n_jobs: int, executor: Any) -> None:
    from dataclasses import replace

    client = dask_client(executor)
    k = n_jobs if n_jobs > 1 else max(1, len(client.scheduler_info().get("workers", {})))
    futures = []
    for i, share in enumerate(_shares(payload.limits.n_trials, k)):
        if share == 0:
            continue
        part = replace(payload, limits=replace(payload.limits, n_trials=share))
        futures.append(
            client.submit(run_worker, _dumps(part), pure=False, key=f"hpolab-{study.study_name}-{i}-{os.getpid()}")
        )
    errors = []
    for future in futures:
        try:
            future.result()
        except Exception as exc:  # the task's own exception, re-raised by Dask
            errors.append(f"{type(exc).__name__}: {exc}")
    if errors:
        raise WorkerError(f"study {study.study_name!r}: {len(errors)} Dask task(s) failed: {errors[0]}")
