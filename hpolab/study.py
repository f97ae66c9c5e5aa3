"""Study: joins an optimizer, an objective and a storage in an ask -> evaluate -> tell loop.

A study lives in a storage (Optuna's storages: memory, a journal file, SQLite, PostgreSQL), which
numbers its trials. Any number of workers (the ``n_jobs`` processes of :meth:`Study.optimize`,
Dask tasks, ``hpolab worker`` processes on other machines) can run one study: each has its own
optimizer, takes in the other workers' finished trials before it asks, and sees their running
ones, so it does not propose them again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from hpolab.objectives.base import FunctionObjective, Objective
from hpolab.optimizer import Optimizer, SearchExhausted
from hpolab.storage import (
    Storage,
    StorageError,
    StudyInfo,
    WorkerInfo,
    get_storage,
    is_stale,
    run_by,
    to_record,
)
from hpolab.trial import Trial, TrialRecord, TrialResult, TrialState, best_record, trial_budget

if TYPE_CHECKING:
    import pandas as pd
    from optuna.trial import FrozenTrial

__all__ = ["Study", "create_study", "load_study", "optimize", "worker_seed"]

_logger = logging.getLogger("hpolab.study")

Callback = Callable[["Study", TrialRecord], None]

#: What happens to the trial of a worker that died mid-trial: evaluated again, or left FAIL.
DEAD_WORKER_POLICIES = ("retry", "fail")
#: How many times a trial whose worker died is evaluated again, by default.
DEFAULT_MAX_RETRIES = 2
#: Words in the reason of a dead worker's trial that is not evaluated again.
_NOT_RETRIED = "not retried"
_RETRY_OF = "hpolab:retry_of"
_ATTEMPT = "hpolab:attempt"


def _check_options(
    on_dead_worker: str, max_retries: int, heartbeat_interval: float, trial_timeout: float | None, grace: float
) -> None:
    """Raise a ValueError naming the bad value of a study's fault-handling options."""
    if on_dead_worker not in DEAD_WORKER_POLICIES:
        raise ValueError(f"on_dead_worker: {on_dead_worker!r} is not one of {DEAD_WORKER_POLICIES}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries: {max_retries!r} must be a non-negative int")
    if (
        isinstance(heartbeat_interval, bool)
        or not isinstance(heartbeat_interval, (int, float))
        or not heartbeat_interval > 0
    ):
        raise ValueError(f"heartbeat_interval: {heartbeat_interval!r} must be a positive number of seconds")
    if not grace > 2 * heartbeat_interval:
        raise ValueError(
            f"heartbeat_interval: {heartbeat_interval!r} s is too long for the storage's grace period of {grace!r} s "
            "(a worker is taken for dead after the grace period without a heartbeat, so the grace period must "
            f"exceed twice the interval); pass heartbeat_interval below {grace / 2!r}"
        )
    if trial_timeout is not None and (
        isinstance(trial_timeout, bool) or not isinstance(trial_timeout, (int, float)) or not trial_timeout > 0
    ):
        raise ValueError(f"trial_timeout: {trial_timeout!r} must be a positive number of seconds or None")


def worker_seed(seed: int | None, slot: int) -> int | None:
    """The optimizer seed of the worker in ``slot``: ``seed`` itself for slot 0, a derived one otherwise.

    Slot 0 keeps the study's seed, so one worker alone reproduces a single-process run exactly;
    the others get independent streams (numpy's SeedSequence), so workers never propose the
    same random configurations.
    """
    if seed is None or slot == 0:
        return seed
    return int(np.random.SeedSequence([int(seed), int(slot)]).generate_state(1)[0] % (2**31 - 1))


@dataclass
class _Job:
    """One evaluation: the trial, the storage number its result goes to, and how the optimizer hears of it."""

    trial: Trial
    number: int
    tell: int | None  # the optimizer's pending trial to tell; None: observe the trial as another's


class _TrialTimeout(BaseException):
    """Raised inside an objective that ran past the study's ``trial_timeout``.

    Not an ``Exception``, so an objective's own ``except Exception`` does not swallow it.
    """


class _Alarm:
    """Raises :class:`_TrialTimeout` in the main thread after ``seconds`` (POSIX ``SIGALRM``), while armed."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._armed = False
        self._active = False
        self._previous: Any = None

    @staticmethod
    def usable() -> bool:
        return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def _fire(self, signum: int, frame: Any) -> None:
        if self._armed:
            self._armed = False
            raise _TrialTimeout

    def __enter__(self) -> _Alarm:
        if self.seconds is not None and self.usable():
            self._previous = signal.signal(signal.SIGALRM, self._fire)
            self._active = self._armed = True
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            self._armed = self._active = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous if self._previous is not None else signal.SIG_DFL)


class _Records:
    """The read side of a study: its trials as records, updated incrementally from the storage scan.

    Finished trials are converted once; only new trials and those still running or queued are
    looked at again. The best trial, the budget spent and the count of finished trials are kept
    as running totals, so reading them costs the same at any study size.
    """

    def __init__(self, direction: Any, full_budget: float | None) -> None:
        self._direction = direction
        self._full_budget = full_budget
        self._by_number: dict[int, TrialRecord] = {}
        self._scanned = 0
        self._open: set[int] = set()
        self.best: TrialRecord | None = None
        self.budget_spent = 0.0
        self.n_counted = 0  # finished trials that count toward max_trials (a dead worker's does not)

    def update(self, frozen_all: Sequence[FrozenTrial]) -> None:
        numbers = sorted(self._open) + list(range(self._scanned, len(frozen_all)))
        self._scanned = len(frozen_all)
        self._open = set()
        by_number: Any = frozen_all
        if any(n >= len(frozen_all) or frozen_all[n].number != n for n in numbers):
            by_number = {f.number: f for f in frozen_all}
        for number in numbers:
            frozen = by_number[number]
            record = to_record(frozen)
            if record is None:  # queued (WAITING)
                self._open.add(number)
                continue
            stamped = frozen.system_attrs.get(_ATTEMPT)
            if isinstance(stamped, int) and record.trial.metadata.get("attempt") != stamped:
                record = replace(
                    record, trial=replace(record.trial, metadata={**record.trial.metadata, "attempt": stamped})
                )
            self._by_number[number] = record
            if record.result is None:
                self._open.add(number)
                continue
            self.budget_spent += trial_budget(record, self._full_budget)
            if not (record.state is TrialState.FAIL and is_stale(frozen)):
                self.n_counted += 1
            if record.is_complete:
                self.best = best_record([r for r in (self.best, record) if r is not None], self._direction)

    def all(self) -> list[TrialRecord]:
        return sorted(self._by_number.values(), key=lambda r: r.id)


def attempt_of(frozen: FrozenTrial) -> int:
    """Which attempt at its configuration a stored trial is (1 for a first evaluation).

    A retry queued for a dead worker's trial carries ``attempt`` in its metadata; a trial that a
    worker took over from its slot's dead predecessor and evaluates again under the same number
    carries the attempt in the system attribute ``hpolab:attempt``.
    """
    stamped = frozen.system_attrs.get(_ATTEMPT)
    if isinstance(stamped, int):
        return stamped
    record = to_record(frozen)
    meta = {} if record is None else record.trial.metadata
    value = meta.get("attempt", 1)
    return int(value) if isinstance(value, (int, float)) else 1


def complete_config(space: Any, fixed: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """``fixed`` with every missing active hyperparameter drawn at random from ``space``.

    Keys of ``fixed`` are kept as given (also unknown or inactive ones, so validation names them).
    """
    drawn = {name: param.sample(rng) for name, param in space.params.items()}
    values = {**drawn, **fixed}
    active = set(space.active_names(values))
    return {k: v for k, v in values.items() if k in active or k in fixed}


class _Ledger:
    """The one owner of a study's writes: trial numbers, results, the queue, retries, adoption, reaping.

    The loop and the optimizer talk only to it. The optimizer calls :meth:`asked`, :meth:`told`
    and :meth:`observed` (the :class:`hpolab.optimizer.Ledger` protocol) as it logs its events;
    the loop takes its next job from :meth:`next_job` and hands each result to :meth:`report`,
    which writes it once and then tells the optimizer. The read side is :attr:`records`.
    """

    def __init__(self, study: Study) -> None:
        self._study = study
        self.storage = study.storage
        self.study_id = study._info.study_id
        self.optimizer = study.optimizer
        self.records = _Records(study.optimizer.direction, study._full_budget)
        self._evaluated_as: dict[int, int] = {}  # optimizer trial id -> storage number evaluated for it
        self._finished_elsewhere: set[int] = set()
        self._workers: dict[str, WorkerInfo] = {}
        self._workers_read = 0.0
        self.adopted: list[Trial] = []  # this slot's trials left RUNNING by its dead previous worker
        self._scanned = 0  # stored trials below this number were looked at by a sync ...
        self._revisit: set[int] = set()  # ... and these of them must be looked at again
        self._waiting = True  # whether the last sync saw queued (WAITING) trials
        self._skipped: set[int] = set()  # foreign trials not taken in (warned once)

    @property
    def worker(self) -> str:
        return self._study.worker.key

    # ------------------------------------------------------- the optimizer's Ledger protocol
    def asked(self, trials: Sequence[Trial], seq: int) -> list[int]:
        return self.storage.create_trials(self.study_id, trials, self.optimizer.space, worker=self.worker, seq=seq)

    def told(self, trial: Trial, result: TrialResult, seq: int) -> None:
        number = self._evaluated_as.pop(trial.id, trial.id)
        if number in self._finished_elsewhere:  # a retry another worker finished: nothing to write
            self._finished_elsewhere.discard(number)
            return
        self.storage.record_tell(
            self.study_id,
            number,
            result,
            worker=self.worker,
            seq=seq,
            told=trial.id if number != trial.id else None,
        )

    def observed(self, trial: Trial, result: TrialResult, seq: int) -> int:
        return self.storage.record_observe(
            self.study_id, trial, result, self.optimizer.space, worker=self.worker, seq=seq
        )

    # ------------------------------------------------------------------------- reading
    def refresh(self) -> _Records:
        """Bring :attr:`records` up to date with the storage (new and unfinished trials only)."""
        self.records.update(self.storage.frozen_trials(self.study_id))
        return self.records

    # ------------------------------------------------------------------------- the loop
    def next_job(self, max_trials: int | None = None) -> _Job | None:
        """The next trial to evaluate: an adopted one, a queued one, else the optimizer's next ask.

        ``None`` when the study holds ``max_trials`` finished trials or the optimizer is exhausted.
        """
        if self.adopted:
            trial = self.adopted.pop(0)
            return _Job(trial, trial.id, trial.id)
        self.sync()
        if max_trials is not None and self.records.n_counted >= max_trials:
            return None
        while self._waiting:
            popped = self.storage.pop_waiting(self.study_id)
            if popped is None:
                break
            job = self._queued_job(*popped)
            if job is not None:
                return job
        try:
            trial = self.optimizer.ask()
        except SearchExhausted as exc:
            _logger.info("study %s: optimizer exhausted (%s)", self._study.study_name, exc)
            return None
        return _Job(trial, trial.id, trial.id)

    def _queued_job(self, number: int, trial: Trial, retry_of: int | None) -> _Job | None:
        """A job for a trial taken from the queue, or ``None`` when its configuration was failed."""
        self.storage.stamp_running(self.study_id, number, self.worker)
        own = None if retry_of is None else self.optimizer.pending_trial(retry_of)
        if own is not None:
            self._evaluated_as[own.id] = number
            return _Job(replace(own, id=number, metadata={**own.metadata, **trial.metadata}), number, own.id)
        space = self.optimizer.space
        config = dict(trial.config) or self._fixed_params(number)
        completed = complete_config(space, config, np.random.default_rng([self.optimizer.seed or 0, number]))
        problems = space.problems(completed)
        if problems:
            reason = f"queued configuration {config} does not fit the search space: {'; '.join(problems)}"
            _logger.warning("study %s: trial %d failed: %s", self._study.study_name, number, reason)
            _fail_trial(self.storage, self.study_id, number, reason)
            self._skipped.add(number)  # warned once here; a sync does not take it in
            return None
        job_trial = Trial(number, space.validate(completed), trial.budget, trial.seed, trial.metadata)
        if job_trial.config != trial.config:
            _set_trial_config(self.storage, self.study_id, job_trial, space)  # what is evaluated is what is stored
        return _Job(job_trial, number, None)

    def _fixed_params(self, number: int) -> dict[str, Any]:
        """The values of a trial queued through Optuna's ``enqueue_trial`` (its ``fixed_params``)."""
        frozen = next((f for f in self.storage.frozen_trials(self.study_id) if f.number == number), None)
        fixed = None if frozen is None else frozen.system_attrs.get("fixed_params")
        return dict(fixed) if isinstance(fixed, Mapping) else {}

    def report(self, job: _Job, result: TrialResult) -> None:
        """Write a job's result to storage once, then let the optimizer learn it."""
        if job.tell is not None:
            self.optimizer.tell(job.tell, result)  # the optimizer's ledger call (told) writes first
            return
        # a queued trial (enqueue_trial, Optuna's enqueue_trial, another worker's retry): observed
        self.storage.record_tell(
            self.study_id, job.number, result, worker=self.worker, seq=self.optimizer.n_events, observe=True
        )
        self.optimizer.observe_trial(job.trial, result)

    # ------------------------------------------------------------------------- workers
    def _worker_table(self, refresh: bool = False) -> dict[str, WorkerInfo]:
        now = time.monotonic()
        if refresh or now - self._workers_read > min(5.0, self._study.heartbeat_interval):
            self._workers = {w.key: w for w in self.storage.workers(self.study_id)}
            self._workers_read = now
        return self._workers

    def _is_orphan(self, key: str) -> bool:
        """Whether worker ``key`` died and no live worker took over its slot (which adopts its trials)."""
        table = self._worker_table()
        if key not in table:
            table = self._worker_table(refresh=True)
        worker = table.get(key)
        if worker is None or self.storage.is_alive(worker):
            return False  # alive, or not an hpolab worker (a plain Optuna process): never reaped
        table = self._worker_table(refresh=True)
        worker = table.get(key, worker)
        if self.storage.is_alive(worker):
            return False
        return not any(w.slot == worker.slot and self.storage.is_alive(w) for w in table.values())

    def _retries_left(self, attempt: int) -> bool:
        return self._study.on_dead_worker == "retry" and attempt <= self._study.max_retries

    def _no_retry(self) -> str:
        if self._study.on_dead_worker == "fail":
            return f"; {_NOT_RETRIED} (on_dead_worker='fail')"
        return f"; {_NOT_RETRIED}: max_retries={self._study.max_retries} retries were used"

    def _reap(self, frozen: FrozenTrial, key: str) -> None:
        """Fail the RUNNING trial of dead worker ``key``, and queue a retry while attempts are left."""
        attempt = attempt_of(frozen)
        retry = self._retries_left(attempt)
        reason = f"worker {key} died while evaluating the trial (attempt {attempt})"
        if not retry:
            reason += self._no_retry()
        if not self.storage.fail_stale(self.study_id, frozen.number, reason):
            return  # another worker got there first
        _logger.warning("study %s: trial %d: %s", self._study.study_name, frozen.number, reason)
        if retry:
            record = to_record(frozen)
            if record is None:
                return
            original = int(frozen.system_attrs.get(_RETRY_OF, frozen.number))
            meta = {**record.trial.metadata, "retry_of": original, "attempt": attempt + 1}
            self.storage.enqueue(
                self.study_id, replace(record.trial, metadata=meta), self.optimizer.space, retry_of=original
            )
            self._waiting = True

    def adopt(self) -> None:
        """Take over this slot's trials that its previous (dead) worker left RUNNING.

        Each is evaluated again first under its own number while attempts are left (see
        ``max_retries``), else, or under ``on_dead_worker="fail"``, it is failed with the reason.
        """
        from optuna.trial import TrialState as OptunaState

        frozen = {t.number: t for t in self.storage.frozen_trials(self.study_id)}
        for trial in sorted(self.optimizer.pending, key=lambda t: t.id):
            row = frozen.get(trial.id)
            if row is None or row.state is not OptunaState.RUNNING:
                continue
            attempt = attempt_of(row)
            if self._retries_left(attempt):
                _stamp_attempt(self.storage, self.study_id, trial.id, self.worker, attempt + 1)
                self.adopted.append(replace(trial, metadata={**trial.metadata, "attempt": attempt + 1}))
                continue
            reason = f"the worker evaluating the trial died (attempt {attempt})" + self._no_retry()
            _logger.warning("study %s: trial %d: %s", self._study.study_name, trial.id, reason)
            self.optimizer.tell(trial.id, TrialResult.fail(reason))  # stored as this slot's tell, then learned

    def sync(self) -> None:
        """Take in other workers' finished trials, note their running ones, and reap dead workers' trials.

        Incremental: trials settled at an earlier sync (finished and taken in) are not looked at
        again; new trials and those still running or queued elsewhere are. The records are
        brought up to date from the same scan.
        """
        frozen_all = self.storage.frozen_trials(self.study_id)
        numbers = sorted(self._revisit) + list(range(self._scanned, len(frozen_all)))
        self._scanned = len(frozen_all)
        self._revisit = set()
        self._waiting = False
        by_number: Any = frozen_all
        if any(n >= len(frozen_all) or frozen_all[n].number != n for n in numbers):
            by_number = {f.number: f for f in frozen_all}  # numbering with gaps: look trials up by number
        elsewhere: list[Trial] = []
        for number in numbers:
            frozen = by_number[number]
            if not self._take_in(frozen, elsewhere):
                self._revisit.add(number)
        self.optimizer.set_running_elsewhere(elsewhere)
        self.records.update(frozen_all)

    def _skip(self, number: int, problem: str) -> None:
        if number not in self._skipped:
            self._skipped.add(number)
            _logger.warning("study %s: trial %d is not taken in: %s", self._study.study_name, number, problem)

    def _take_in(self, frozen: FrozenTrial, elsewhere: list[Trial]) -> bool:
        """Handle one stored trial at a sync; ``False`` if it must be looked at again next time."""
        from optuna.trial import TrialState as OptunaState

        opt = self.optimizer
        state = frozen.state
        number = frozen.number
        if state is OptunaState.RUNNING:
            by = run_by(frozen)
            if by is not None and by != self.worker:
                if self._is_orphan(by):
                    self._reap(frozen, by)
                elif not opt.knows(number):
                    record = to_record(frozen)
                    if record is not None and not opt.space.problems(record.trial.config):
                        elsewhere.append(record.trial)
            return False
        if state is OptunaState.WAITING:
            self._waiting = True
            return False
        if opt.knows(number):
            if is_stale(frozen) and opt.pending_trial(number) is not None and not self._retried(frozen):
                self._tell_stale(number, number, frozen)  # this optimizer's own trial, failed with its dead worker
            return True
        retry_of = frozen.system_attrs.get(_RETRY_OF)
        own = None if retry_of is None else opt.pending_trial(int(retry_of))
        if is_stale(frozen):
            if own is not None and not self._retried(frozen):
                self._tell_stale(own.id, number, frozen)  # the last attempt at this optimizer's trial died
            return True
        record = to_record(frozen)
        if record is None or record.result is None:
            return False
        if own is not None:
            # a retry of this optimizer's own trial, run by another worker: the result is that trial's
            self._evaluated_as[own.id] = number
            self._finished_elsewhere.add(number)
            opt.tell(own.id, record.result)
            return True
        problem = opt.unusable(record.trial)
        if problem is not None:
            self._skip(number, problem)
            return True
        opt.observe_trial(record.trial, record.result)
        return True

    def _retried(self, frozen: FrozenTrial) -> bool:
        """Whether a stale trial was (or will be) given another attempt (then its retry's result counts)."""
        record = to_record(frozen)
        reason = "" if record is None else str(record.info.get("error", ""))
        return _NOT_RETRIED not in reason

    def _tell_stale(self, own: int, number: int, frozen: FrozenTrial) -> None:
        record = to_record(frozen)
        self._evaluated_as[own] = number
        self._finished_elsewhere.add(number)
        self.optimizer.tell(own, record.result if record is not None else None)


class Study:
    """An optimization run: an optimizer driven against an objective, recorded in a storage.

    Build one with :func:`create_study`. The loop is: take in the other workers' results, ask the
    optimizer (the storage numbers the trial and stores it RUNNING), evaluate
    ``objective.evaluate(config, budget, seed)``, store the result, tell the optimizer. A result is
    in storage before the optimizer hears of it and before the next ask, so a killed process loses
    only the trial it was evaluating; reopening the study evaluates that trial again first and then
    asks exactly what an uninterrupted run would have.

    Attributes:
        objective: The objective.
        optimizer: This worker's optimizer.
        storage: The storage.
        worker: This process's worker record (its slot decides its optimizer seed and which
            earlier log it continues).
        on_dead_worker: ``"retry"`` (a dead worker's trial is evaluated again by the next worker
            that asks; the default) or ``"fail"`` (it stays FAIL).
        max_retries: How many times a trial whose worker died is evaluated again (attempts at a
            configuration are at most ``1 + max_retries``); then it stays FAIL with the reason.
        heartbeat_interval: Seconds between this worker's heartbeats (persistent storages).
        trial_timeout: Seconds after which a running trial is failed with reason ``"timeout"``
            (``None``: no limit).
    """

    def __init__(
        self,
        objective: Objective,
        optimizer: Optimizer,
        storage: Storage,
        info: StudyInfo,
        worker: WorkerInfo,
        *,
        factory: _OptimizerFactory | None = None,
        on_dead_worker: str = "retry",
        max_retries: int = DEFAULT_MAX_RETRIES,
        heartbeat_interval: float = 10.0,
        trial_timeout: float | None = None,
    ) -> None:
        _check_options(on_dead_worker, max_retries, heartbeat_interval, trial_timeout, storage.grace_period)
        self.objective = objective
        self.optimizer = optimizer
        self.storage = storage
        self.worker = worker
        self.on_dead_worker = on_dead_worker
        self.max_retries = int(max_retries)
        self.heartbeat_interval = float(heartbeat_interval)
        self.trial_timeout = None if trial_timeout is None else float(trial_timeout)
        self._info = info
        self._factory = factory
        self._stop = False
        self._worker_process = False  # a worker process of a parallel run or ``hpolab worker``
        storage.hold(worker.key, self)
        self._ledger = _Ledger(self)
        optimizer.attach(self._ledger)

    # ---------------------------------------------------------------- properties
    @property
    def study_name(self) -> str:
        """The study's unique name in its storage."""
        return self._info.name

    @property
    def direction(self) -> str:
        """``"minimize"`` or ``"maximize"``."""
        return self.optimizer.direction.value

    @property
    def trials(self) -> list[TrialRecord]:
        """All trials of every worker (finished and running), by number; queued ones are left out."""
        return self._ledger.refresh().all()

    @property
    def best_trial(self) -> TrialRecord | None:
        """The best COMPLETE trial (``None`` if there is none). FAIL trials are never the best."""
        return self._ledger.refresh().best

    @property
    def best_value(self) -> float | None:
        """Value of :attr:`best_trial`."""
        best = self.best_trial
        return None if best is None else best.value

    @property
    def best_config(self) -> dict[str, Any] | None:
        """Configuration of :attr:`best_trial`."""
        best = self.best_trial
        return None if best is None else best.config

    @property
    def attrs(self) -> dict[str, Any]:
        """The study's stored attributes (optimizer meta, objective name, search space...)."""
        return dict(self._info.attrs)

    @property
    def budget_spent(self) -> float:
        """Total budget of finished trials (see :func:`hpolab.trial.budget_spent`)."""
        return self._ledger.refresh().budget_spent

    @property
    def _full_budget(self) -> float | None:
        fidelity = self.objective.fidelity
        return None if fidelity is None else float(fidelity.max)

    def _n_finished(self) -> int:
        """Finished trials that count toward ``max_trials`` (a dead worker's trial does not)."""
        return self._ledger.refresh().n_counted

    # ------------------------------------------------------------------- running
    def stop(self) -> None:
        """Ask :meth:`optimize` to stop after the current trial (for callbacks)."""
        self._stop = True

    def optimize(
        self,
        n_trials: int | None = None,
        timeout: float | None = None,
        *,
        n_jobs: int = 1,
        executor: Any = None,
        max_trials: int | None = None,
        max_budget_spent: float | None = None,
        callbacks: Sequence[Callback] = (),
        catch: tuple[type[BaseException], ...] = (Exception,),
        show_progress_bar: bool = False,
    ) -> None:
        """Run the ask -> evaluate -> tell loop, in this process or on several workers.

        Stops at the first limit reached. With none given it runs until the optimizer is exhausted
        (a grid) or :meth:`stop` is called.

        Args:
            n_trials: Trials to run in this call, over all its workers (as in Optuna).
            timeout: Seconds after which no new trial starts.
            n_jobs: Worker processes on this machine; this process is one of them. More than one
                needs a persistent storage (a URL). ``-1``: one per CPU core.
            executor: A ``dask.distributed.Client`` or a scheduler address: run ``n_jobs`` workers
                (default: one per Dask worker) as tasks on that cluster instead. The storage must be
                reachable from the cluster.
            max_trials: Stop once the study holds this many finished trials in total, counting
                those of earlier runs and of other workers (what a resumed run should use). It
                is checked against the storage before every trial, so a study run by several
                workers ends with at most one extra trial per other running worker.
            max_budget_spent: Stop once :attr:`budget_spent` reaches this (e.g. total epochs);
                the last trial may go past it by less than its own budget.
            callbacks: Functions ``callback(study, record)`` called after each trial, in the worker
                that ran it (so with several workers they must be picklable).
            catch: Exceptions from the objective that make a trial FAIL instead of stopping
                the study. The error text is kept in the result's ``info["error"]``.
            show_progress_bar: Show a tqdm progress bar.
        """
        for name, limit in (("n_trials", n_trials), ("max_trials", max_trials)):
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
                raise ValueError(f"{name}: {limit!r} must be a non-negative int")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout: {timeout} must be positive (seconds)")
        if max_budget_spent is not None and max_budget_spent <= 0:
            raise ValueError(f"max_budget_spent: {max_budget_spent} must be positive")
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
            raise ValueError(f"n_jobs: {n_jobs!r} must be a positive int or -1 (one per CPU core)")
        finished = self._n_finished()
        planned = n_trials
        if max_trials is not None:
            planned = max_trials - finished if planned is None else min(planned, max_trials - finished)
        total = None if planned is None else finished + max(planned, 0)
        self.optimizer.set_context(
            description=self.objective.description or None,
            n_trials=total,
            fidelity=self.objective.fidelity,
        )
        if total is not None and self._info.attrs.get("n_trials") != total:
            # A resumed optimizer is rebuilt with the same context before it replays its log
            # (SMAC sizes its scenario by it, LLM prompts say "This is the last try.").
            self._info.attrs["n_trials"] = total
            self.storage.set_study_attrs(self._info.study_id, {"n_trials": total})
        limits = _Limits(planned, timeout, max_trials, max_budget_spent)
        if executor is not None or n_jobs != 1:
            from hpolab._workers import run_parallel

            run_parallel(
                self,
                limits,
                n_jobs=n_jobs,
                executor=executor,
                callbacks=callbacks,
                catch=catch,
                show_progress_bar=show_progress_bar,
            )
            return
        self._work(limits, callbacks, catch, show_progress_bar)

    def _work(
        self,
        limits: _Limits,
        callbacks: Sequence[Callback],
        catch: tuple[type[BaseException], ...],
        show_progress_bar: bool,
        tickets: Any = None,
        release: bool = True,
    ) -> int:
        """This worker's loop; ``tickets`` (a shared counter) caps the trials of all local workers.

        With ``release`` the worker frees its slot when the loop ends; a parent of local workers
        holds it until they are done, so none of them takes over its slot (and replays its log).
        """
        spent = self.budget_spent if limits.max_budget_spent is not None else 0.0
        self._stop = False
        start = time.perf_counter()
        done = 0
        bar = None
        if show_progress_bar:
            from tqdm.auto import tqdm

            bar = tqdm(total=limits.n_trials, desc=self.study_name, unit="trial")
        self._claim_slot()
        beat = _Heartbeat(self) if self.storage.persistent else None
        try:
            while not self._stop:
                if tickets is None and limits.n_trials is not None and done >= limits.n_trials:
                    break
                if limits.timeout is not None and time.perf_counter() - start >= limits.timeout:
                    break
                if limits.max_budget_spent is not None and spent >= limits.max_budget_spent:
                    break
                if tickets is not None and not _take_ticket(tickets):
                    break
                job = self._ledger.next_job(limits.max_trials)
                if job is None:
                    break
                record = self._run(job, catch)
                done += 1
                if max_budget := limits.max_budget_spent:
                    spent = self.budget_spent if tickets is not None else spent + _record_budget(record, self)
                    if spent >= max_budget:
                        break
                if bar is not None:
                    best = self.optimizer.best
                    bar.set_postfix(best=None if best is None else f"{best.value:.6g}", refresh=False)
                    bar.update(1)
                for callback in callbacks:
                    callback(self, record)
        finally:
            if beat is not None:
                beat.stop()
            if release:
                self.storage.release(self._info.study_id, self.worker.key)
            if bar is not None:
                bar.close()
        return done

    def _claim_slot(self) -> None:
        """Hold this worker's slot again for a loop; warn if another live worker took it meanwhile."""
        study_id = self._info.study_id
        self.storage.hold(self.worker.key, self)
        self.storage.heartbeat(study_id, self.worker.key)
        rivals = [
            w
            for w in self.storage.workers(study_id)
            if w.slot == self.worker.slot and w.key != self.worker.key and self.storage.is_alive(w)
        ]
        if rivals:
            _logger.warning(
                "study %s: worker slot %d is also held by worker %s (another Study object or process on the same "
                "study); the two optimizers share a seed and may propose the same configurations",
                self.study_name,
                self.worker.slot,
                rivals[0].key,
            )

    def _run(self, job: _Job, catch: tuple[type[BaseException], ...]) -> TrialRecord:
        trial = job.trial
        started = time.time()
        t0 = time.perf_counter()
        watchdog = self._watchdog(job.number)
        try:
            with _Alarm(self.trial_timeout):
                raw = self.objective.evaluate(trial.config, trial.budget, trial.seed)
            result = TrialResult.coerce(raw)
        except _TrialTimeout:
            reason = f"timeout: the trial ran longer than trial_timeout={self.trial_timeout} s"
            _logger.warning("trial %d failed: %s", job.number, reason)
            result = TrialResult.fail(reason, cost=time.perf_counter() - t0)
        except catch as exc:
            _logger.warning("trial %d failed: %s: %s", job.number, type(exc).__name__, exc)
            result = TrialResult.fail(f"{type(exc).__name__}: {exc}", cost=time.perf_counter() - t0)
        finally:
            if watchdog is not None:
                watchdog.cancel()
        elapsed = time.perf_counter() - t0
        info = dict(result.info)
        info.setdefault("wall_time", elapsed)
        result = TrialResult(result.value, result.state, elapsed if result.cost is None else result.cost, info)
        if result.state is TrialState.FAIL and "error" in result.info:
            _logger.info("trial %d: FAIL (%s)", job.number, result.info["error"])
        self._ledger.report(job, result)
        return TrialRecord(replace(trial, id=job.number), result, started, time.time())

    def _watchdog(self, number: int) -> threading.Timer | None:
        """In a worker process, a timer that fails trial ``number`` and kills the process.

        It fires when the objective is still running ``trial_timeout`` plus a margin after it
        started: a hang the timeout signal cannot interrupt, such as native code that never returns.
        """
        if self.trial_timeout is None or not self._worker_process:
            return None
        timeout = self.trial_timeout
        storage, study_id = self.storage, self._info.study_id

        def kill() -> None:
            reason = f"timeout: the trial ran longer than trial_timeout={timeout} s; its worker process was killed"
            with contextlib.suppress(Exception):
                _fail_trial(storage, study_id, number, reason)
            os.kill(os.getpid(), signal.SIGKILL)

        timer = threading.Timer(timeout + max(5.0, 0.2 * timeout), kill)
        timer.daemon = True
        timer.start()
        return timer

    def enqueue_trial(self, config: Mapping[str, Any], *, budget: float | None = None) -> int:
        """Queue a configuration to evaluate before the optimizer's next proposals (Optuna's ``enqueue_trial``).

        The next worker to ask takes it; the optimizer learns its result as an outside trial.

        Returns:
            The queued trial's number.
        """
        config = self.optimizer.space.validate(config)
        trial = Trial(-1, config, budget=budget, seed=None, metadata={"enqueued": True})
        return self.storage.enqueue(self._info.study_id, trial, self.optimizer.space)

    def add_trial(
        self, config: Mapping[str, Any], result: TrialResult | float, *, budget: float | None = None
    ) -> TrialRecord:
        """Add a finished outside result (a known good configuration) to the optimizer and the storage."""
        return self.optimizer.observe(config, result, budget=budget)

    # -------------------------------------------------------------------- output
    def to_dataframe(self) -> pd.DataFrame:
        """One row per trial: id, state, value, budget, cost, times, ``params_<name>``, info fields.

        Adds ``regret`` where the objective's optimum is known (on ``true_value`` when the
        objective reports one, else on ``value``).
        """
        import pandas as pd

        rows = []
        for rec in self.trials:
            row: dict[str, Any] = {
                "id": rec.id,
                "state": rec.state.value,
                "value": rec.value,
                "budget": rec.budget,
                "cost": None if rec.result is None else rec.result.cost,
                "datetime_start": rec.datetime_start,
                "datetime_complete": rec.datetime_complete,
            }
            for key, val in rec.config.items():
                row[f"params_{key}"] = val
            for key in ("true_value", "error", "wall_time"):
                if key in rec.info:
                    row[key] = rec.info[key]
            if self.objective.optimum is not None and rec.value is not None:
                base = rec.info.get("true_value", rec.value)
                row["regret"] = self.objective.regret(base)
            rows.append(row)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return (
            f"Study({self.study_name!r}, objective={self.objective.name!r}, optimizer={self.optimizer.name!r}, "
            f"storage={self.storage!r}, slot={self.worker.slot})"
        )


@dataclass(frozen=True)
class _Limits:
    n_trials: int | None
    timeout: float | None
    max_trials: int | None
    max_budget_spent: float | None


def _take_ticket(tickets: Any) -> bool:
    with tickets.get_lock():
        if tickets.value <= 0:
            return False
        tickets.value -= 1
        return True


def _record_budget(record: TrialRecord, study: Study) -> float:
    return trial_budget(record, study._full_budget)


class _Heartbeat:
    """Writes this worker's heartbeat every ``heartbeat_interval`` seconds from a daemon thread."""

    def __init__(self, study: Study) -> None:
        self._study = study
        self._done = threading.Event()
        study.storage.heartbeat(study._info.study_id, study.worker.key)
        self._thread = threading.Thread(target=self._loop, name="hpolab-heartbeat", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        study = self._study
        while not self._done.wait(study.heartbeat_interval):
            try:
                study.storage.heartbeat(study._info.study_id, study.worker.key)
            except Exception as exc:  # a lost connection must not kill the worker; the next beat retries
                _logger.warning("heartbeat of worker %s failed: %s", study.worker.key, exc)

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)


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
        return _load(obj, opt, store, info, factory, slot, options)
    if opt.history or opt.pending:
        raise ValueError("optimizer: a new study needs a fresh optimizer; this one was already used")
    attrs = {
        "objective": obj.name,
        "optimizer": opt.meta,
        "search_space": obj.search_space.to_json(),
        "created_by": "hpolab",
    }
    if factory.name is not None:
        attrs["optimizer_registry"] = {"name": factory.name, "kwargs": _plain_kwargs(factory.kwargs)}
    try:
        info = store.create_study(name, obj.direction.value, attrs)
    except StorageError:
        raced = store.get_study(name) if load_if_exists else None
        if raced is None:
            raise
        return _load(obj, opt, store, raced, factory, slot, options)  # another process created it just now
    worker = store.register_worker(info.study_id, slot)
    if worker.slot != 0:
        opt = _reslot(opt, factory, obj, worker.slot)
    return Study(obj, opt, store, info, worker, factory=factory, **options)  # type: ignore[arg-type]


_SECRET = re.compile(r"key|token|secret|password|credential", re.IGNORECASE)


def _plain_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments as stored with the study: secrets and objects are named, never written."""
    import json

    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if _SECRET.search(key):
            out[key] = "<secret: not stored>"
            continue
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
    worker = store.register_worker(info.study_id, slot)
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
    **optimizer_kwargs: Any,
) -> Study:
    """Create a study and run it: the one-call API.

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
    )
    study.optimize(n_trials=n_trials, timeout=timeout, n_jobs=n_jobs, show_progress_bar=show_progress_bar)
    return study


# Storage calls the study needs beyond today's Storage methods. Each uses the agreed Storage method
# when the storage has it, else writes the same attributes through Optuna's storage API.


def _stamp_attempt(storage: Storage, study_id: int, number: int, worker: str, attempt: int) -> None:
    """Record that ``worker`` now runs trial ``number`` as attempt ``attempt`` at its configuration."""
    stamp = getattr(storage, "stamp_attempt", None)
    if stamp is not None:
        stamp(study_id, number, worker, attempt)
        return
    storage.stamp_running(study_id, number, worker)
    storage.backend.set_trial_system_attr(storage._trial_id(study_id, number), _ATTEMPT, attempt)


def _fail_trial(storage: Storage, study_id: int, number: int, reason: str) -> None:
    """Mark a RUNNING trial FAIL with ``reason`` (not as a dead worker's trial: it is not retried)."""
    fail = getattr(storage, "fail_trial", None)
    if fail is not None:
        fail(study_id, number, reason)
        return
    storage._finish(storage._trial_id(study_id, number), TrialResult.fail(reason), {})


def _set_trial_config(storage: Storage, study_id: int, trial: Trial, space: Any) -> None:
    """Store the configuration a RUNNING trial is evaluated with (a completed or foreign queued one)."""
    write = getattr(storage, "set_trial_config", None)
    if write is not None:
        write(study_id, trial.id, trial, space)
        return
    trial_id = storage._trial_id(study_id, trial.id)
    distributions = space.to_optuna()
    for name, value in trial.config.items():
        if name in distributions:
            dist = distributions[name]
            storage.backend.set_trial_param(trial_id, name, dist.to_internal_repr(value), dist)
    stored = {"budget": trial.budget, "seed": trial.seed, "metadata": dict(trial.metadata)}
    storage.backend.set_trial_system_attr(trial_id, "hpolab:trial", stored)
