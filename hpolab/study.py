"""Study: joins an optimizer, an objective and a storage in an ask -> evaluate -> tell loop.

A study lives in a storage (Optuna's storages: memory, a journal file, SQLite, PostgreSQL), which
numbers its trials. Any number of workers (the ``n_jobs`` processes of :meth:`Study.optimize`,
Dask tasks, ``hpolab worker`` processes on other machines) can run one study: each has its own
optimizer, takes in the other workers' finished trials before it asks, and sees their running
ones, so it does not propose them again.
"""

from __future__ import annotations

import logging
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
from hpolab.trial import Trial, TrialRecord, TrialResult, TrialState, best_record, budget_spent, trial_budget

if TYPE_CHECKING:
    import pandas as pd
    from optuna.trial import FrozenTrial

__all__ = ["Study", "create_study", "load_study", "optimize", "worker_seed"]

_logger = logging.getLogger("hpolab.study")

Callback = Callable[["Study", TrialRecord], None]

#: What happens to the trial of a worker that died mid-trial: evaluated again, or left FAIL.
DEAD_WORKER_POLICIES = ("retry", "fail")


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


class _StudyLedger:
    """The optimizer's ledger in a study: trial numbers and events go to the storage."""

    def __init__(self, study: Study) -> None:
        self._study = study

    def asked(self, trials: Sequence[Trial], seq: int) -> list[int]:
        s = self._study
        return s.storage.create_trials(s._info.study_id, trials, s.optimizer.space, worker=s.worker.key, seq=seq)

    def told(self, trial: Trial, result: TrialResult, seq: int) -> None:
        s = self._study
        number = s._evaluated_as.pop(trial.id, trial.id)
        if number in s._finished_elsewhere:  # a retry another worker finished: nothing to write
            s._finished_elsewhere.discard(number)
            return
        s.storage.record_tell(
            s._info.study_id,
            number,
            result,
            worker=s.worker.key,
            seq=seq,
            told=trial.id if number != trial.id else None,
        )

    def observed(self, trial: Trial, result: TrialResult, seq: int) -> int:
        s = self._study
        return s.storage.record_observe(
            s._info.study_id, trial, result, s.optimizer.space, worker=s.worker.key, seq=seq
        )


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
        heartbeat_interval: Seconds between this worker's heartbeats (persistent storages).
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
        heartbeat_interval: float = 10.0,
    ) -> None:
        if on_dead_worker not in DEAD_WORKER_POLICIES:
            raise ValueError(f"on_dead_worker: {on_dead_worker!r} is not one of {DEAD_WORKER_POLICIES}")
        if not heartbeat_interval > 0:
            raise ValueError(f"heartbeat_interval: {heartbeat_interval!r} must be a positive number of seconds")
        self.objective = objective
        self.optimizer = optimizer
        self.storage = storage
        self.worker = worker
        self.on_dead_worker = on_dead_worker
        self.heartbeat_interval = float(heartbeat_interval)
        self._info = info
        self._factory = factory
        self._stop = False
        self._evaluated_as: dict[int, int] = {}  # optimizer trial id -> storage number evaluated for it
        self._finished_elsewhere: set[int] = set()
        self._workers: dict[str, WorkerInfo] = {}
        self._workers_read = 0.0
        self._adopted: list[Trial] = []  # this slot's trials left RUNNING by its dead previous worker
        self._scanned = 0  # stored trials below this number were looked at by a sync ...
        self._revisit: set[int] = set()  # ... and these of them must be looked at again
        self._waiting = True  # whether the last sync saw queued (WAITING) trials
        storage.hold(worker.key, self)
        optimizer.attach(_StudyLedger(self))

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
        """All trials of every worker (finished and running), by number."""
        return self.storage.get_trials(self._info.study_id)

    @property
    def best_trial(self) -> TrialRecord | None:
        """The best COMPLETE trial (``None`` if there is none). FAIL trials are never the best."""
        return best_record(self.trials, self.optimizer.direction)

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
        return budget_spent(self.trials, self._full_budget)

    @property
    def _full_budget(self) -> float | None:
        fidelity = self.objective.fidelity
        return None if fidelity is None else float(fidelity.max)

    def _n_finished(self) -> int:
        """Finished trials that count toward ``max_trials`` (a dead worker's trial does not)."""
        from optuna.trial import TrialState as OptunaState

        return sum(
            1
            for t in self.storage.frozen_trials(self._info.study_id)
            if t.state.is_finished() and not (t.state is OptunaState.FAIL and is_stale(t))
        )

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
                those of earlier runs and of other workers (what a resumed run should use).
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
                if limits.max_trials is not None and tickets is not None and self._n_finished() >= limits.max_trials:
                    break
                if tickets is not None and not _take_ticket(tickets):
                    break
                job = self._next_job()
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

    # ------------------------------------------------------------------ workers
    def _worker_table(self, refresh: bool = False) -> dict[str, WorkerInfo]:
        now = time.monotonic()
        if refresh or now - self._workers_read > min(5.0, self.heartbeat_interval):
            self._workers = {w.key: w for w in self.storage.workers(self._info.study_id)}
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

    def _reap(self, frozen: FrozenTrial, key: str) -> None:
        """Fail the RUNNING trial of dead worker ``key``, and queue a retry (policy ``"retry"``)."""
        reason = f"worker {key} died while evaluating the trial"
        if not self.storage.fail_stale(self._info.study_id, frozen.number, reason):
            return  # another worker got there first
        _logger.warning("study %s: trial %d was running on worker %s, which died", self.study_name, frozen.number, key)
        if self.on_dead_worker == "retry":
            trial = to_record(frozen)
            if trial is None:
                return
            original = frozen.system_attrs.get("hpolab:retry_of", frozen.number)
            copy = replace(trial.trial, metadata={**trial.trial.metadata, "retry_of": int(original)})
            self.storage.enqueue(self._info.study_id, copy, self.optimizer.space, retry_of=int(original))

    def _sync(self) -> None:
        """Take in other workers' finished trials, note their running ones, and reap dead workers' trials.

        Incremental: trials settled at an earlier sync (finished and taken in) are not looked at
        again; new trials and those still running or queued elsewhere are.
        """
        frozen_all = self.storage.frozen_trials(self._info.study_id)
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

    def _take_in(self, frozen: FrozenTrial, elsewhere: list[Trial]) -> bool:
        """Handle one stored trial at a sync; ``False`` if it must be looked at again next time."""
        from optuna.trial import TrialState as OptunaState

        opt = self.optimizer
        state = frozen.state
        number = frozen.number
        if state is OptunaState.RUNNING:
            by = run_by(frozen)
            if by is not None and by != self.worker.key:
                if self._is_orphan(by):
                    self._reap(frozen, by)
                elif not opt.knows(number):
                    record = to_record(frozen)
                    if record is not None:
                        elsewhere.append(record.trial)
            return False
        if state is OptunaState.WAITING:
            self._waiting = True
            return False
        if opt.knows(number):
            if self.on_dead_worker == "fail" and is_stale(frozen) and opt.pending_trial(number) is not None:
                self._finished_elsewhere.add(number)  # this optimizer's own trial, failed with its dead worker
                record = to_record(frozen)
                opt.tell(number, record.result if record is not None else None)
            return True
        if is_stale(frozen):
            return True
        record = to_record(frozen)
        if record is None or record.result is None:
            return False
        retry_of = frozen.system_attrs.get("hpolab:retry_of")
        if retry_of is not None and opt.pending_trial(int(retry_of)) is not None:
            # a retry of this optimizer's own trial, run by another worker: the result is that trial's
            self._evaluated_as[int(retry_of)] = number
            self._finished_elsewhere.add(number)
            opt.tell(int(retry_of), record.result)
            return True
        opt.observe_trial(record.trial, record.result)
        return True

    def _adopt(self) -> None:
        """Take over this slot's trials that its previous (dead) worker left RUNNING: they run again first."""
        from optuna.trial import TrialState as OptunaState

        frozen = {t.number: t for t in self.storage.frozen_trials(self._info.study_id)}
        for trial in sorted(self.optimizer.pending, key=lambda t: t.id):
            row = frozen.get(trial.id)
            if row is not None and row.state is OptunaState.RUNNING:
                self.storage.stamp_running(self._info.study_id, trial.id, self.worker.key)
                self._adopted.append(trial)

    def _next_job(self) -> _Job | None:
        if self._adopted:
            trial = self._adopted.pop(0)
            return _Job(trial, trial.id, trial.id)
        self._sync()
        study_id = self._info.study_id
        popped = self.storage.pop_waiting(study_id) if self._waiting else None
        if popped is not None:
            number, trial, retry_of = popped
            self.storage.stamp_running(study_id, number, self.worker.key)
            own = None if retry_of is None else self.optimizer.pending_trial(retry_of)
            if own is not None:
                self._evaluated_as[own.id] = number
                return _Job(replace(own, id=number), number, own.id)
            return _Job(trial, number, None)
        try:
            trial = self.optimizer.ask()
        except SearchExhausted as exc:
            _logger.info("study %s: optimizer exhausted (%s)", self.study_name, exc)
            return None
        return _Job(trial, trial.id, trial.id)

    def _run(self, job: _Job, catch: tuple[type[BaseException], ...]) -> TrialRecord:
        trial = job.trial
        started = time.time()
        t0 = time.perf_counter()
        try:
            raw = self.objective.evaluate(trial.config, trial.budget, trial.seed)
            result = TrialResult.coerce(raw)
        except catch as exc:
            _logger.warning("trial %d failed: %s: %s", job.number, type(exc).__name__, exc)
            result = TrialResult.fail(f"{type(exc).__name__}: {exc}", cost=time.perf_counter() - t0)
        elapsed = time.perf_counter() - t0
        info = dict(result.info)
        info.setdefault("wall_time", elapsed)
        result = TrialResult(result.value, result.state, elapsed if result.cost is None else result.cost, info)
        if result.state is TrialState.FAIL and "error" in result.info:
            _logger.info("trial %d: FAIL (%s)", job.number, result.info["error"])
        if job.tell is not None:
            self.optimizer.tell(job.tell, result)
        else:  # a queued trial (enqueue_trial, or another worker's retry): stored, then observed
            seq = len(self.optimizer._events)
            self.storage.record_tell(
                self._info.study_id, job.number, result, worker=self.worker.key, seq=seq, observe=True
            )
            self.optimizer.observe_trial(trial, result)
        return TrialRecord(replace(trial, id=job.number), result, started, time.time())

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
    heartbeat_interval: float = 10.0,
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
        on_dead_worker: ``"retry"`` or ``"fail"``: what happens to the trial of a worker that died.
        heartbeat_interval: Seconds between heartbeats; a worker on another host is taken for
            dead after the storage's grace period (60 s) without one. A worker on this host is
            taken for dead as soon as its process is gone.
        slot: Claim this worker slot instead of the lowest free one.

    Returns:
        The Study.

    Raises:
        StorageError: If the study exists and ``load_if_exists`` is false, or the storage is unusable.
        ValueError: If the optimizer's direction or space does not match the objective's.
    """
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
    options = {"on_dead_worker": on_dead_worker, "heartbeat_interval": heartbeat_interval}
    if info is not None:
        if not load_if_exists:
            raise StorageError(f"study {name!r} already exists; pass load_if_exists=True to continue it")
        return _load(obj, opt, store, info, factory, slot, options)
    if opt.history or opt.pending:
        raise ValueError("optimizer: a new study needs a fresh optimizer; this one was already used")
    from hpolab._secrets import mask_secrets

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
        return _load(obj, opt, store, raced, factory, slot, options)  # another process created it just now
    worker = store.register_worker(info.study_id, slot)
    if worker.slot != 0:
        opt = _reslot(opt, factory, obj, worker.slot)
    return Study(obj, opt, store, info, worker, factory=factory, **options)  # type: ignore[arg-type]


def _plain_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments as stored with the study: secrets (at any depth) and objects are named, never written."""
    import json

    from hpolab._secrets import mask_secrets

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
            "study %s: %d trial(s) were running when the last process of slot %d stopped; evaluating them again",
            info.name,
            len(opt.pending),
            worker.slot,
        )
        study._adopt()
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
) -> Study:
    """Reopen a stored study; objective and optimizer default to the stored names, seed and options.

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
            from hpolab._secrets import check_stored_urls, find_masked

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
