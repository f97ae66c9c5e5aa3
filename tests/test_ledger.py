"""The study's read side: reads fetch only new and unfinished trials, and still see every worker's."""

from __future__ import annotations

import collections
import math
from typing import Any

import pytest

import hpolab
from hpolab import TrialState


class _Counting:
    """An Optuna storage that counts its trial reads: whole-study reads and trials fetched."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.calls: collections.Counter[str] = collections.Counter()

    def get_all_trials(self, study_id: int, deepcopy: bool = True, states: Any = None) -> Any:
        self.calls["get_all_trials"] += 1
        return self._backend.get_all_trials(study_id, deepcopy=deepcopy, states=states)

    def get_trial(self, trial_id: int) -> Any:
        self.calls["get_trial"] += 1
        return self._backend.get_trial(trial_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def _count(study: hpolab.Study) -> _Counting:
    counting = _Counting(study.storage.backend)
    study.storage.backend = counting
    return counting


@pytest.mark.parametrize("kind", ["memory", "journal"])
def test_reads_fetch_only_new_and_unfinished_trials_not_the_whole_study(tmp_path, kind):
    url = None if kind == "memory" else f"journal:///{tmp_path / 'r.log'}"
    study = hpolab.create_study("toy/branin", "random", storage=url, seed=0)
    study.optimize(n_trials=200)
    counting = _count(study)
    for _ in range(5):
        assert len(study.trials) == 200
        assert study.best_value == min(t.value for t in study.trials)
        assert study.budget_spent == 200
    assert counting.calls["get_all_trials"] == 0
    assert counting.calls["get_trial"] == 1  # the last trial, seen running at the last ask, is fetched once
    study.optimize(n_trials=10)
    assert counting.calls["get_all_trials"] == 0
    # each new trial is fetched by the sync before the next ask, at most twice (running, then finished)
    assert counting.calls["get_trial"] <= 2 * 10
    assert len(study.trials) == 210


def test_a_trial_of_another_worker_is_seen_running_then_finished(tmp_path):
    url = f"journal:///{tmp_path / 'w.log'}"
    seen: list[list[tuple[int, TrialState | None]]] = []
    here: list[hpolab.Study] = []

    def fn(config: dict[str, float]) -> float:
        if sum(t.result is not None for t in here[0].trials) < 3:  # this worker's own first trials
            return config["x"]
        seen.append([(t.id, t.result and t.state) for t in here[0].trials])
        return -1.0  # better than any of the first

    objective = hpolab.FunctionObjective(fn, {"x": (0.0, 1.0)}, name="watched")
    here.append(hpolab.create_study(objective, "random", storage=url, study_name="w", seed=0))
    here[0].optimize(n_trials=3)
    best = here[0].best_value
    hpolab.create_study(objective, "random", storage=url, study_name="w2", seed=1).optimize(n_trials=1)
    assert len(here[0].trials) == 3  # another study's trial in the same file is not this study's
    other = hpolab.load_study("w", url, objective=objective)  # its own storage connection
    other.optimize(n_trials=2)
    assert seen[-2][-1] == (3, None)  # the other worker's first trial, seen RUNNING
    assert seen[-1][-2:] == [(3, TrialState.COMPLETE), (4, None)]
    assert [t.id for t in here[0].trials] == [0, 1, 2, 3, 4]
    assert here[0].best_value == -1.0 < best
    assert here[0].budget_spent == 5


def test_a_queued_trial_taken_after_later_ones_is_read_in_its_place(tmp_path):
    url = f"journal:///{tmp_path / 'q.log'}"
    study = hpolab.create_study("toy/branin", "random", storage=url, study_name="q", seed=0)
    queued = study.enqueue_trial({"x1": 1.0, "x2": 2.0})
    study.add_trial({"x1": 3.0, "x2": 3.0}, 50.0)
    assert [t.id for t in study.trials] == [queued + 1]  # the queued trial is left out while it waits
    study.optimize(n_trials=1)  # takes the queued trial
    trials = study.trials
    assert [t.id for t in trials] == [queued, queued + 1]
    assert trials[0].config == {"x1": 1.0, "x2": 2.0}
    assert math.isclose(study.best_value, min(t.value for t in trials))


def test_a_partial_configuration_queued_with_enqueue_trial_is_completed_by_the_optimizer(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    study = hpolab.create_study("toy/branin", "tpe", storage=url, study_name="p", seed=0)
    study.optimize(n_trials=12)
    queued = study.enqueue_trial({"x2": 2.0})
    expected = study.optimizer.complete({"x2": 2.0}, number=queued)
    study.optimize(n_trials=1)
    trial = study.trials[queued]
    assert trial.config == expected and trial.config["x2"] == 2.0 and trial.state is TrialState.COMPLETE
    assert hpolab.load_study("p", url).trials[queued].config == expected  # what was evaluated is stored
    with pytest.raises(hpolab.InvalidConfigError, match="x1: 99"):
        study.enqueue_trial({"x1": 99.0})
    with pytest.raises(hpolab.InvalidConfigError, match="nope: unknown"):
        study.enqueue_trial({"nope": 1.0})


def test_another_workers_running_trial_reaches_the_optimizer_within_the_reread_interval(tmp_path):
    from hpolab.study._ledger import RUNNING_REREAD_INTERVAL

    url = f"sqlite:///{tmp_path / 'e.db'}"
    here = hpolab.create_study("toy/branin", "random", storage=url, study_name="e", seed=0)
    here.optimize(n_trials=2)
    other = hpolab.load_study("e", url)  # its own storage connection, a live worker
    here._ledger.sync()  # reads other workers' running trials in full, then not for a while
    (running,) = other.optimizer.ask(1)
    here._ledger.sync()
    assert here.optimizer.running_elsewhere == []  # read as a state only, within the interval
    assert [t.id for t in here.trials] == [0, 1, running.id]  # the study's own reads are always full
    assert here.trials[-1].config == running.config
    here._ledger._running_read -= RUNNING_REREAD_INTERVAL  # the interval has passed
    here._ledger.sync()
    assert [t.config for t in here.optimizer.running_elsewhere] == [running.config]
