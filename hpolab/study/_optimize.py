"""The Study and its ask -> evaluate -> tell loop."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from hpolab.objectives.base import Objective
from hpolab.optimizers._base import Optimizer
from hpolab.storage import Storage, StudyInfo, WorkerInfo
from hpolab.study._heartbeat import _Alarm, _Heartbeat, _TrialTimeout
from hpolab.study._ledger import DEFAULT_MAX_RETRIES, _check_options, _Job, _Ledger
from hpolab.trial import Trial, TrialRecord, TrialResult, TrialState, trial_budget

if TYPE_CHECKING:
    import pandas as pd

    from hpolab.study._create import _OptimizerFactory

__all__ = ["DATAFRAME_ATTRS", "Callback", "Study", "worker_seed"]

_logger = logging.getLogger("hpolab.study")

Callback = Callable[["Study", TrialRecord], None]

#: Seconds between the reads of a slot's other claims when one is seen at a loop's start: a worker
#: that lost the race for the slot withdraws its claim within a write or two (they sum to 0.7 s).
_RIVAL_RECHECKS = (0.1, 0.2, 0.4)

#: The columns :meth:`Study.trials_dataframe` can show, and shows by default (Optuna's defaults).
DATAFRAME_ATTRS = (
    "number",
    "value",
    "datetime_start",
    "datetime_complete",
    "duration",
    "params",
    "user_attrs",
    "system_attrs",
    "state",
)


def worker_seed(seed: int | None, slot: int) -> int | None:
    """The optimizer seed of the worker in ``slot``: ``seed`` itself for slot 0, a derived one otherwise.

    Slot 0 keeps the study's seed, so one worker alone reproduces a single-process run exactly;
    the others get independent streams (numpy's SeedSequence), so workers never propose the
    same random configurations.
    """
    if seed is None or slot == 0:
        return seed
    return int(np.random.SeedSequence([int(seed), int(slot)]).generate_state(1)[0] % (2**31 - 1))


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
    def best_params(self) -> dict[str, Any] | None:
        """Configuration of :attr:`best_trial` (Optuna's name for :attr:`best_config`; ``None`` if there is none)."""
        return self.best_config

    def get_trials(self, states: Collection[Any] | None = None) -> list[TrialRecord]:
        """The trials of :attr:`trials` whose state is one of ``states`` (all when ``None``), as Optuna's ``get_trials``.

        Args:
            states: States to keep: hpolab's :class:`~hpolab.TrialState`, Optuna's ``TrialState``
                or their names (``"COMPLETE"``).

        Raises:
            ValueError: If a state is none of RUNNING, COMPLETE, PRUNED and FAIL (queued trials,
                Optuna's WAITING, are not study trials here).
        """
        if states is None:
            return self.trials
        names = {str(getattr(state, "name", state)) for state in states}
        unknown = sorted(names - set(TrialState.__members__))
        if unknown:
            raise ValueError(f"states: {unknown} are not trial states here; use some of {list(TrialState.__members__)}")
        return [record for record in self.trials if record.state.name in names]

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
            catch: Exceptions from the objective that make a trial FAIL and the study go on.
                The error text is kept in the result's ``info["error"]``. Any other exception
                (or ``KeyboardInterrupt``) also makes its trial FAIL, then stops the loop.
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
            from hpolab.study._workers import run_parallel

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

        def rivals() -> list[WorkerInfo]:
            return [
                w
                for w in self.storage.workers(study_id)
                if w.slot == self.worker.slot and w.key != self.worker.key and self.storage.is_alive(w)
            ]

        found = rivals()
        for delay in _RIVAL_RECHECKS:
            if not found:
                break
            # A worker that lost a race for this slot shows its claim until it withdraws it
            # (Storage.register_worker): only a claim that stays is another holder.
            time.sleep(delay)
            found = rivals()
        if found:
            _logger.warning(
                "study %s: worker slot %d is also held by worker %s (another Study object or process on the same "
                "study); the two optimizers share a seed and may propose the same configurations",
                self.study_name,
                self.worker.slot,
                found[0].key,
            )

    def _run(self, job: _Job, catch: tuple[type[BaseException], ...]) -> TrialRecord:
        trial = job.trial
        started = time.time()
        t0 = time.perf_counter()
        watchdog = self._watchdog(job.number)
        uncaught: BaseException | None = None
        try:
            with _Alarm(self.trial_timeout):
                raw = self.objective.evaluate(trial.config, trial.budget, trial.seed)
            result = TrialResult.coerce(raw)
        except _TrialTimeout:
            reason = f"timeout: the trial ran longer than trial_timeout={self.trial_timeout} s"
            _logger.warning("trial %d failed: %s", job.number, reason)
            result = TrialResult.fail(reason, runtime=time.perf_counter() - t0)
        except catch as exc:
            _logger.warning("trial %d failed: %s: %s", job.number, type(exc).__name__, exc)
            result = TrialResult.fail(f"{type(exc).__name__}: {exc}", runtime=time.perf_counter() - t0)
        except (Exception, KeyboardInterrupt) as exc:
            # not in ``catch``: the trial is stored as FAIL (as Optuna does), then the exception stops the loop
            uncaught = exc
            result = TrialResult.fail(f"{type(exc).__name__}: {exc}", runtime=time.perf_counter() - t0)
        finally:
            if watchdog is not None:
                watchdog.cancel()
        elapsed = time.perf_counter() - t0
        info = dict(result.info)
        info.setdefault("wall_time", elapsed)
        result = TrialResult(result.value, result.state, elapsed if result.runtime is None else result.runtime, info)
        if result.state is TrialState.FAIL and "error" in result.info:
            _logger.info("trial %d: FAIL (%s)", job.number, result.info["error"])
        self._ledger.report(job, result)
        if uncaught is not None:
            raise uncaught
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
                storage.fail_trial(study_id, number, reason)
            os.kill(os.getpid(), signal.SIGKILL)

        timer = threading.Timer(timeout + max(5.0, 0.2 * timeout), kill)
        timer.daemon = True
        timer.start()
        return timer

    def enqueue_trial(
        self,
        config: Mapping[str, Any],
        *,
        budget: float | None = None,
        seed: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> int:
        """Queue a configuration to evaluate before the optimizer's next proposals (Optuna's ``enqueue_trial``).

        The next worker to ask takes it; the optimizer learns its result as an outside trial. A
        partial configuration is completed by that worker's optimizer when it takes the trial
        (:meth:`Optimizer.complete`), as Optuna's sampler completes a partial enqueue.

        Args:
            config: The configuration.
            budget: The budget to evaluate it at (``None``: the objective's default).
            seed: The seed the objective gets (``None``: the objective draws its own).
            metadata: What to record with the trial (JSON-serializable, like Optuna's ``user_attrs``);
                the key ``"enqueued"`` is set to ``True``.

        Returns:
            The queued trial's number.

        Raises:
            InvalidConfigError: If a value given is unknown, not allowed, or inactive under the
                values given before it.
        """
        config = self.optimizer.space.validate(config, partial=True)
        trial = Trial(-1, config, budget=budget, seed=seed, metadata={**dict(metadata or {}), "enqueued": True})
        return self.storage.enqueue(self._info.study_id, trial, self.optimizer.space)

    def add_trial(
        self, config: Mapping[str, Any], result: TrialResult | float, *, budget: float | None = None
    ) -> TrialRecord:
        """Add a finished outside result (a known good configuration) to the optimizer and the storage."""
        return self.optimizer.observe(config, result, budget=budget)

    # -------------------------------------------------------------------- output
    def to_dataframe(self) -> pd.DataFrame:
        """One row per trial: id, state, value, budget, runtime, times, ``params_<name>``, info fields.

        Adds ``regret`` where the objective's optimum is known (on ``true_value`` when the
        objective reports one, else on ``value``). :meth:`trials_dataframe` gives Optuna's layout.

        Raises:
            ImportError: If pandas is not installed.
        """
        pd = _pandas("to_dataframe")
        rows = []
        for rec in self.trials:
            row: dict[str, Any] = {
                "id": rec.id,
                "state": rec.state.value,
                "value": rec.value,
                "budget": rec.budget,
                "runtime": None if rec.result is None else rec.result.runtime,
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

    def trials_dataframe(self, attrs: Sequence[str] = DATAFRAME_ATTRS, multi_index: bool = False) -> pd.DataFrame:
        """One row per trial in the layout of Optuna's ``Study.trials_dataframe``.

        The columns follow ``attrs``: ``number``, ``value``, ``datetime_start`` and
        ``datetime_complete`` (local time, as Optuna's), ``duration``, ``params_<name>``,
        ``user_attrs_<key>`` (the result's info: what the objective reported beside its value,
        where Optuna's objectives call ``set_user_attr``), ``system_attrs_<key>`` (the trial's
        metadata: worker, attempt, ``retry_of``...) and ``state`` (``"COMPLETE"``, ``"FAIL"``...).
        Queued trials are left out, as in :attr:`trials`; a study without trials gives an empty
        DataFrame. hpolab's own columns (budget, runtime, regret) are in :meth:`to_dataframe`.

        Args:
            attrs: The columns, some of :data:`hpolab.study.DATAFRAME_ATTRS`, in order.
            multi_index: Name the columns by pairs (``("params", "x")``) instead of joined names
                (``"params_x"``), as Optuna's ``multi_index``.

        Raises:
            ValueError: If ``attrs`` names another column.
            ImportError: If pandas is not installed.
        """
        unknown = [attr for attr in attrs if attr not in DATAFRAME_ATTRS]
        if unknown:
            raise ValueError(
                f"attrs: {unknown} are not columns of trials_dataframe; choose from {list(DATAFRAME_ATTRS)}"
            )
        pd = _pandas("trials_dataframe")
        records = self.trials
        if not records:
            return pd.DataFrame()
        rows: list[dict[tuple[str, str], Any]] = []
        columns: dict[str, set[tuple[str, str]]] = {attr: set() for attr in attrs}
        for rec in records:
            row: dict[tuple[str, str], Any] = {}
            for attr in attrs:
                value = _column(rec, attr)
                pairs = value.items() if isinstance(value, dict) else [("", value)]
                for key, item in pairs:
                    row[(attr, key)] = item
                    columns[attr].add((attr, key))
            rows.append(row)
        ordered = [column for attr in attrs for column in sorted(columns[attr])]
        frame = pd.DataFrame(rows, columns=pd.MultiIndex.from_tuples(ordered))
        if not multi_index:
            frame.columns = ["_".join(part for part in column if part) for column in ordered]
        return frame

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


def _pandas(what: str) -> Any:
    """The pandas module, or an ImportError saying that ``what`` needs it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"Study.{what} needs pandas; pip install pandas") from None
    return pandas


def _when(seconds: float | None) -> datetime.datetime | None:
    """Seconds since the epoch as a local datetime without a time zone (Optuna's), or None."""
    return None if seconds is None else datetime.datetime.fromtimestamp(seconds)


def _column(rec: TrialRecord, attr: str) -> Any:
    """What :meth:`Study.trials_dataframe` shows of ``rec`` under ``attr`` (a dict spreads over columns)."""
    if attr == "number":
        return rec.id
    if attr == "value":
        return rec.value
    if attr in ("datetime_start", "datetime_complete"):
        return _when(getattr(rec, attr))
    if attr == "duration":
        start, end = rec.datetime_start, rec.datetime_complete
        return None if start is None or end is None else datetime.timedelta(seconds=end - start)
    if attr == "params":
        return dict(rec.config)
    if attr == "user_attrs":
        return dict(rec.info)
    if attr == "system_attrs":
        return dict(rec.metadata)
    return rec.state.name  # "state"


def _take_ticket(tickets: Any) -> bool:
    with tickets.get_lock():
        if tickets.value <= 0:
            return False
        tickets.value -= 1
        return True


def _record_budget(record: TrialRecord, study: Study) -> float:
    return trial_budget(record, study._full_budget)
