"""The study's ledger: the one owner of its writes, queue, retries, adoption and read cache."""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from hpolab.optimizers._base import SearchExhausted
from hpolab.storage import WorkerInfo, attempt_of, is_stale, is_unread, run_by, to_record
from hpolab.trial import Trial, TrialRecord, TrialResult, TrialState, best_record, trial_budget

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from hpolab.study._optimize import Study

__all__ = ["DEAD_WORKER_POLICIES", "DEFAULT_MAX_RETRIES", "RUNNING_REREAD_INTERVAL", "attempt_of"]

_logger = logging.getLogger("hpolab.study")

#: What happens to the trial of a worker that died mid-trial: evaluated again, or left FAIL.
DEAD_WORKER_POLICIES = ("retry", "fail")
#: How many times a trial whose worker died is evaluated again, by default.
DEFAULT_MAX_RETRIES = 2
#: Seconds between the syncs that read other workers' RUNNING trials in full (at most; and at most the
#: heartbeat interval); the syncs between read their states only, on a database.
RUNNING_REREAD_INTERVAL = 5.0
#: Words in the reason of a dead worker's trial that is not evaluated again.
_NOT_RETRIED = "not retried"
_RETRY_OF = "hpolab:retry_of"


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


@dataclass
class _Job:
    """One evaluation: the trial, the storage number its result goes to, and how the optimizer hears of it."""

    trial: Trial
    number: int
    tell: int | None  # the optimizer's pending trial to tell; None: observe the trial as another's


class _Records:
    """The read side of a study: its trials as records, updated incrementally from the storage scan.

    Finished trials are converted once and kept; a scan fetches only the trials that are new
    since the last one and those that were unfinished then (see :meth:`Storage.scan`). The
    records are kept sorted by number, and the best trial, the budget spent and the count of
    finished trials as running totals, so a read costs the same at any study size.
    """

    def __init__(self, direction: Any, full_budget: float | None) -> None:
        self._direction = direction
        self._full_budget = full_budget
        self._sorted: list[TrialRecord] = []  # by number; queued (WAITING) trials are left out
        self._numbers: list[int] = []  # the numbers of ``_sorted``
        self.scanned = 0  # every stored trial below this number was seen ...
        self.open: set[int] = set()  # ... and these of them were unfinished (RUNNING or WAITING)
        self.best: TrialRecord | None = None
        self.budget_spent = 0.0
        self.n_counted = 0  # finished trials that count toward max_trials (a dead worker's does not)

    def update(self, scanned: Sequence[FrozenTrial]) -> None:
        """Take in a scan's trials: those numbered from :attr:`scanned` on or in :attr:`open`."""
        for frozen in scanned:
            number = frozen.number
            if number < self.scanned and number not in self.open:
                continue  # settled at an earlier scan (the scan was for another reader too)
            self.scanned = max(self.scanned, number + 1)
            if is_unread(frozen):  # a RUNNING trial read as its state only: placed at a full read
                self.open.add(number)
                continue
            self.open.discard(number)
            record = to_record(frozen)
            self._place(number, record)
            if record is None or record.result is None:  # queued (WAITING) or running
                self.open.add(number)
                continue
            self.budget_spent += trial_budget(record, self._full_budget)
            if not (record.state is TrialState.FAIL and is_stale(frozen)):
                self.n_counted += 1
            if record.is_complete:
                self.best = best_record([r for r in (self.best, record) if r is not None], self._direction)

    def _place(self, number: int, record: TrialRecord | None) -> None:
        """Put ``record`` at its number in the sorted list (appended when it is the highest), or take it out."""
        if not self._numbers or number > self._numbers[-1]:
            if record is not None:
                self._numbers.append(number)
                self._sorted.append(record)
            return
        at = bisect.bisect_left(self._numbers, number)
        present = at < len(self._numbers) and self._numbers[at] == number
        if record is None:
            if present:
                del self._numbers[at], self._sorted[at]
        elif present:
            self._sorted[at] = record
        else:
            self._numbers.insert(at, number)
            self._sorted.insert(at, record)

    def all(self) -> list[TrialRecord]:
        return list(self._sorted)


class _Ledger:
    """The one owner of a study's writes: trial numbers, results, the queue, retries, adoption, reaping.

    The loop and the optimizer talk only to it. The optimizer calls :meth:`asked`, :meth:`told`
    and :meth:`observed` (the :class:`hpolab.optimizers.Ledger` protocol) as it logs its events;
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
        self._running_read = -float("inf")  # when a sync last read the RUNNING trials in full (monotonic)

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
        records = self.records
        records.update(self.storage.scan(self.study_id, records.scanned, records.open))
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
        config = dict(trial.config)
        completed = self.optimizer.complete(config, number=number)  # a partial enqueue: the optimizer adds the rest
        problems = space.problems(completed)
        if problems:
            reason = f"queued configuration {config} does not fit the search space: {'; '.join(problems)}"
            _logger.warning("study %s: trial %d failed: %s", self._study.study_name, number, reason)
            self.storage.fail_trial(self.study_id, number, reason)
            self._skipped.add(number)  # warned once here; a sync does not take it in
            return None
        job_trial = Trial(number, space.validate(completed), trial.budget, trial.seed, trial.metadata)
        if job_trial.config != trial.config:
            self.storage.set_trial_config(
                self.study_id, job_trial.id, job_trial, space
            )  # what is evaluated is what is stored
        return _Job(job_trial, number, None)

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

    def _is_orphan(self, key: str, *, in_my_slot: bool = False) -> bool:
        """Whether worker ``key`` died and no live worker took over its slot (which adopts its trials).

        With ``in_my_slot``, this worker does not count as having taken the slot over: it adopts only
        the trials its optimizer asked for, so a queued trial its slot's dead worker left running is
        reaped like any other dead worker's.
        """
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
        return not any(
            w.slot == worker.slot and self.storage.is_alive(w) and not (in_my_slot and w.key == self.worker)
            for w in table.values()
        )

    def _retries_left(self, attempt: int) -> bool:
        return self._study.on_dead_worker == "retry" and attempt <= self._study.max_retries

    def _no_retry(self) -> str:
        if self._study.on_dead_worker == "fail":
            return f"; {_NOT_RETRIED} (on_dead_worker='fail')"
        return f"; {_NOT_RETRIED}: max_retries={self._study.max_retries} retries were used"

    def _reap(self, frozen: FrozenTrial, key: str) -> None:
        """Fail the RUNNING trial of dead worker ``key``, and queue a retry while attempts are left."""
        from optuna.trial import TrialState as OptunaState

        frozen = self.storage.frozen_trial(self.study_id, frozen.number)  # the scan's copy may be older
        if frozen.state is not OptunaState.RUNNING or run_by(frozen) != key:
            return  # finished, or taken over, since
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
                self.storage.stamp_attempt(self.study_id, trial.id, self.worker, attempt + 1)
                self.adopted.append(replace(trial, metadata={**trial.metadata, "attempt": attempt + 1}))
                continue
            reason = f"the worker evaluating the trial died (attempt {attempt})" + self._no_retry()
            _logger.warning("study %s: trial %d: %s", self._study.study_name, trial.id, reason)
            self.optimizer.tell(trial.id, TrialResult.fail(reason))  # stored as this slot's tell, then learned

    def sync(self) -> None:
        """Take in other workers' finished trials, note their running ones, and reap dead workers' trials.

        Incremental: trials settled at an earlier sync (finished and taken in) are not looked at
        again; new trials and those still running or queued elsewhere are. The records are
        brought up to date from the same scan. Other workers' RUNNING trials are read in full
        at most every :data:`RUNNING_REREAD_INTERVAL` seconds (or heartbeat interval, if
        shorter); between those syncs a database is asked only for their states, so the
        optimizer's view of them, and the reaping of a dead worker's trial, may lag that long.
        """
        records = self.records
        now = time.monotonic()
        reread = now - self._running_read >= min(RUNNING_REREAD_INTERVAL, self._study.heartbeat_interval)
        if reread:
            self._running_read = now
        scanned = self.storage.scan(
            self.study_id,
            min(self._scanned, records.scanned),
            self._revisit | records.open,
            reread_running=reread,
        )
        revisit = self._revisit
        start = self._scanned
        self._revisit = set()
        self._waiting = False
        elsewhere: list[Trial] = []
        for frozen in scanned:
            number = frozen.number
            if number < start and number not in revisit:
                continue  # settled at an earlier sync (fetched for the records' sake)
            self._scanned = max(self._scanned, number + 1)
            if not self._take_in(frozen, elsewhere):
                self._revisit.add(number)
        self.optimizer.set_running_elsewhere(elsewhere)
        records.update(scanned)

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
            if is_unread(frozen):
                return False  # its content is read at a later sync
            by = run_by(frozen)
            if by is not None and by != self.worker:
                if self._is_orphan(by, in_my_slot=not opt.knows(number)):
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
