"""The study fault suite: ordinary faults of real use that a study survives, on every storage.

Subclass :class:`StudyFaultTestCase` in a pytest module; every test then runs over the storages
in :attr:`StudyFaultTestCase.storage_modes` (memory, a journal file, SQLite and, when
``HPOLAB_TEST_POSTGRES_URL`` names a server, PostgreSQL), each where it applies::

    from hpolab.testing import StudyFaultTestCase

    class TestStudyFaults(StudyFaultTestCase):
        pass

The faults: a worker that dies mid-trial again and again (its trial is retried a bounded number of
times, then failed with the reason), trials written through Optuna's own API (an
``enqueue_trial``, a plain Optuna sampler) that the study evaluates, fails or skips but never
trips on, a queue drained by several worker processes at once, ``max_trials`` counted over the
whole study when independent processes share it, and a trial that runs past ``trial_timeout``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest

from hpolab.storage import Storage, get_storage
from hpolab.study import Study, create_study, load_study
from hpolab.trial import TrialState

__all__ = ["StudyFaultTestCase"]

#: The space of the suite's objective (Branin's).
_SPACE = {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}


def branin(config: dict[str, Any]) -> float:
    """Branin's function (the suite's objective; importable by the suite's worker processes)."""
    import math

    x1, x2 = float(config["x1"]), float(config["x2"])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def slow_branin(config: dict[str, Any]) -> float:
    """Branin's function after a short sleep, so that workers started together overlap."""
    time.sleep(0.02)
    return branin(config)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


class StudyFaultTestCase:
    """Base class of the study fault suite (see the module docstring)."""

    #: The storages every test runs over (those a test cannot use are skipped in it).
    storage_modes: ClassVar[tuple[str, ...]] = ("memory", "journal", "sqlite", "postgresql")

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture(params=["memory", "journal", "sqlite", "postgresql"])
    def storage_mode(self, request: pytest.FixtureRequest) -> str:
        mode = str(request.param)
        if mode not in self.storage_modes:
            pytest.skip(f"{mode} is not in this suite's storage_modes")
        if mode == "postgresql" and not os.environ.get("HPOLAB_TEST_POSTGRES_URL"):
            pytest.skip("set HPOLAB_TEST_POSTGRES_URL to run the PostgreSQL cases")
        return mode

    @pytest.fixture
    def storage(self, storage_mode: str, tmp_path: Path) -> Storage | str:
        """A storage of the mode: a URL, or a Storage object for memory (one process only)."""
        if storage_mode == "memory":
            return get_storage(None)
        if storage_mode == "journal":
            return f"journal:///{tmp_path / 'faults.log'}"
        if storage_mode == "sqlite":
            return f"sqlite:///{tmp_path / 'faults.db'}"
        return os.environ["HPOLAB_TEST_POSTGRES_URL"]

    @pytest.fixture
    def study_name(self) -> str:
        """A fresh study name (a PostgreSQL database is shared by every test)."""
        return f"faults-{uuid.uuid4().hex[:10]}"

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _url(storage: Storage | str) -> str:
        if not isinstance(storage, str):
            pytest.skip("this case needs worker processes, which an in-memory storage cannot have")
        return storage

    @staticmethod
    def _study(storage: Storage | str, name: str, **options: Any) -> Study:
        return create_study(
            branin, "random", space=_SPACE, storage=storage, study_name=name, load_if_exists=True, **options
        )

    @staticmethod
    def _die(study: Study) -> None:
        """Stand for the death of ``study``'s worker: it stops holding its slot and its heartbeat."""
        study.storage.release(study._info.study_id, study.worker.key)

    # ------------------------------------------------------------------ case: a trial that kills its worker
    def test_a_trial_that_kills_its_workers_is_retried_at_most_max_retries_times(
        self, storage: Storage | str, study_name: str
    ) -> None:
        """Each worker that takes the trial dies; workers in other slots reap it and queue a retry."""
        max_retries = 2
        first = self._study(storage, study_name, seed=0, max_retries=max_retries)
        job = first._ledger.next_job()
        assert job is not None
        killing = job.trial.config
        self._die(first)
        attempts = [job.number]
        for slot in range(1, max_retries + 2):
            worker = self._study(storage, study_name, seed=0, max_retries=max_retries, slot=slot)
            job = worker._ledger.next_job()
            assert job is not None
            if job.trial.config != killing:  # no retry left: the worker went on with a new trial
                worker._run(job, (Exception,))
                break
            assert job.trial.metadata.get("retry_of") == attempts[0]
            attempts.append(job.number)
            self._die(worker)  # the retry kills its worker too
        else:
            pytest.fail(f"the killing configuration was evaluated {len(attempts)} times")
        assert len(attempts) == 1 + max_retries
        last = self._study(storage, study_name, seed=0, max_retries=max_retries)
        trials = {t.id: t for t in last.trials}
        assert all(trials[n].state is TrialState.FAIL for n in attempts)
        assert [trials[n].metadata.get("attempt", 1) for n in attempts] == list(range(1, 2 + max_retries))
        assert "not retried" in str(trials[attempts[-1]].info["error"])
        last.optimize(n_trials=3)
        assert sum(t.state is TrialState.COMPLETE for t in last.trials) == 4
        assert not last.optimizer.pending

    def test_a_trial_taken_over_on_resume_obeys_the_same_attempt_limit(
        self, storage: Storage | str, study_name: str
    ) -> None:
        """Each resume in the dead worker's slot takes its trial over (same number) until no retry is left."""
        max_retries = 1
        first = self._study(storage, study_name, seed=0, max_retries=max_retries)
        job = first._ledger.next_job()
        assert job is not None
        number = job.number
        self._die(first)
        second = self._study(storage, study_name, seed=0, max_retries=max_retries)
        assert second.worker.slot == 0
        again = second._ledger.next_job()
        assert again is not None and again.number == number and again.trial.metadata.get("attempt") == 2
        self._die(second)
        third = self._study(storage, study_name, seed=0, max_retries=max_retries)
        trial = next(t for t in third.trials if t.id == number)
        assert trial.state is TrialState.FAIL and "not retried" in str(trial.info["error"])
        assert third.optimizer.pending == []
        third.optimize(n_trials=2)
        assert [t.state for t in third.trials].count(TrialState.COMPLETE) == 2

    def test_a_queued_trial_left_running_is_retried_when_its_slot_is_taken_over(
        self, storage: Storage | str, study_name: str
    ) -> None:
        """A queued trial is not the optimizer's to adopt: the slot's next worker reaps and retries it."""
        first = self._study(storage, study_name, seed=0)
        first.enqueue_trial({"x1": 1.0, "x2": 2.0})
        job = first._ledger.next_job()
        assert job is not None and job.tell is None and job.trial.config == {"x1": 1.0, "x2": 2.0}
        self._die(first)
        second = self._study(storage, study_name, seed=0)
        assert second.worker.slot == first.worker.slot
        second.optimize(n_trials=2)
        trials = {t.id: t for t in second.trials}
        assert trials[job.number].state is TrialState.FAIL
        assert "died" in str(trials[job.number].info["error"])
        retries = [t for t in trials.values() if t.metadata.get("retry_of") == job.number]
        assert [(t.state, t.config, t.metadata.get("attempt")) for t in retries] == [
            (TrialState.COMPLETE, {"x1": 1.0, "x2": 2.0}, 2)
        ]
        assert not [t for t in trials.values() if t.state is TrialState.RUNNING]

    def test_a_dead_worker_s_trial_is_not_retried_under_the_fail_policy(
        self, storage: Storage | str, study_name: str
    ) -> None:
        first = self._study(storage, study_name, seed=0)
        job = first._ledger.next_job()
        assert job is not None
        self._die(first)
        other = self._study(storage, study_name, seed=1, on_dead_worker="fail")
        other.optimize(n_trials=2)
        trials = other.trials
        assert trials[job.number].state is TrialState.FAIL
        assert "not retried" in str(trials[job.number].info["error"])
        assert not [t for t in trials if t.metadata.get("retry_of") == job.number]

    # ------------------------------------------------------------------ case: trials written through Optuna
    @staticmethod
    def _optuna_study(storage: Storage | str, name: str) -> Any:
        import optuna

        backend = (storage if isinstance(storage, Storage) else get_storage(storage)).backend
        return optuna.load_study(study_name=name, storage=backend)

    def test_optuna_enqueue_trial_is_evaluated_with_its_values(self, storage: Storage | str, study_name: str) -> None:
        study = self._study(storage, study_name, seed=0)
        self._optuna_study(storage, study_name).enqueue_trial({"x1": 1.0, "x2": 2.0})
        study.optimize(n_trials=2)
        trials = study.trials
        assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]
        assert trials[0].config == {"x1": 1.0, "x2": 2.0}
        assert trials[0].value == pytest.approx(branin({"x1": 1.0, "x2": 2.0}))
        if isinstance(storage, str):
            reopened = load_study(study_name, storage, objective=study.objective)
            assert [t.config for t in reopened.trials] == [t.config for t in trials]

    def test_a_partial_optuna_enqueue_is_completed_and_a_bad_one_failed(
        self, storage: Storage | str, study_name: str
    ) -> None:
        study = self._study(storage, study_name, seed=0)
        optuna_study = self._optuna_study(storage, study_name)
        optuna_study.enqueue_trial({"x1": 2.5})
        optuna_study.enqueue_trial({"x1": 99.0, "x2": 1.0})
        study.optimize(n_trials=2)
        trials = study.trials
        partial = trials[0]
        assert partial.state is TrialState.COMPLETE and partial.config["x1"] == 2.5
        assert 0.0 <= partial.config["x2"] <= 15.0
        assert partial.config == study.optimizer.complete({"x1": 2.5}, number=partial.id)  # the optimizer's completion
        bad = trials[1]
        assert bad.state is TrialState.FAIL and "x1" in str(bad.info["error"]) and "99" in str(bad.info["error"])
        assert sum(t.state is TrialState.COMPLETE for t in trials) == 2

    def test_a_plain_optuna_trial_outside_the_space_is_skipped_not_fatal(
        self, storage: Storage | str, study_name: str
    ) -> None:
        study = self._study(storage, study_name, seed=0)
        optuna_study = self._optuna_study(storage, study_name)
        optuna_study.optimize(lambda t: t.suggest_float("x1", -5.0, 10.0) + t.suggest_float("other", 0, 1), n_trials=2)
        study.optimize(n_trials=2)
        assert len(study.optimizer.history) == 2  # the two foreign trials were not taken in
        if isinstance(storage, str):
            reopened = load_study(study_name, storage, objective=study.objective)
            reopened.optimize(n_trials=1)
            assert sum(t.state is TrialState.COMPLETE for t in reopened.trials) == 5

    # ------------------------------------------------------------------ case: a queue drained by many workers
    def test_queued_trials_are_each_evaluated_once_by_parallel_workers(
        self, storage: Storage | str, study_name: str
    ) -> None:
        url = self._url(storage)
        study = self._study(url, study_name, seed=0)
        configs = [{"x1": -5.0 + 0.25 * i, "x2": 1.0} for i in range(24)]
        for config in configs:
            study.enqueue_trial(config)
        study.optimize(n_trials=len(configs), n_jobs=3)
        trials = study.trials
        assert all(t.state is TrialState.COMPLETE for t in trials)
        assert sorted(t.config["x1"] for t in trials) == sorted(c["x1"] for c in configs)

    # ------------------------------------------------------------------ case: max_trials counts the study
    _MAX_TRIALS_WORKER: ClassVar[str] = textwrap.dedent(
        """
        import sys
        from hpolab.testing._faults_study import slow_branin, _SPACE
        import hpolab
        study = hpolab.create_study(slow_branin, "random", space=_SPACE, storage=sys.argv[1], study_name=sys.argv[2],
                                    seed=int(sys.argv[3]), load_if_exists=True)
        study.optimize(max_trials=int(sys.argv[4]))
        """
    )

    def test_max_trials_counts_the_whole_study_over_independent_workers(
        self, storage: Storage | str, study_name: str
    ) -> None:
        url = self._url(storage)
        create_study(slow_branin, "random", space=_SPACE, storage=url, study_name=study_name, seed=0)
        n_workers, max_trials = 3, 30
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", self._MAX_TRIALS_WORKER, url, study_name, str(i), str(max_trials)],
                env=_env(),
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(n_workers)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-2000:]
        store = get_storage(url)
        trials = store.get_trials(store.get_study(study_name).study_id)  # type: ignore[union-attr]
        finished = [t for t in trials if t.state is TrialState.COMPLETE]
        assert max_trials <= len(finished) <= max_trials + n_workers - 1

    # ------------------------------------------------------------------ case: a trial that runs too long
    @staticmethod
    def _hanging(config: dict[str, Any]) -> float:
        if config["x1"] > 2.5:
            time.sleep(60)
        return branin(config)

    def test_a_trial_past_trial_timeout_fails_with_reason_timeout(
        self, storage: Storage | str, study_name: str
    ) -> None:
        study = create_study(
            self._hanging, "random", space=_SPACE, storage=storage, study_name=study_name, seed=0, trial_timeout=0.5
        )
        started = time.perf_counter()
        study.optimize(n_trials=4)
        assert time.perf_counter() - started < 30
        trials = study.trials
        slow = [t for t in trials if t.config["x1"] > 2.5]
        assert slow, "the seed gave no trial with x1 > 2.5"
        assert all(t.state is TrialState.FAIL and "timeout" in str(t.info["error"]) for t in slow)
        assert all(t.state is TrialState.COMPLETE for t in trials if t.config["x1"] <= 2.5)

    def test_a_worker_process_fails_a_trial_past_trial_timeout(self, storage: Storage | str, study_name: str) -> None:
        url = self._url(storage)
        study = create_study(
            self._hanging, "random", space=_SPACE, storage=url, study_name=study_name, seed=0, trial_timeout=0.5
        )
        study.optimize(n_trials=6, n_jobs=2)
        trials = study.trials
        slow = [t for t in trials if t.config["x1"] > 2.5]
        assert len(trials) == 6 and slow
        assert all(t.state is TrialState.FAIL and "timeout" in str(t.info["error"]) for t in slow)
