"""Study, storage and resume: the loop that joins optimizers and objectives."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import hpolab
from hpolab import RandomSearch, StorageError, TrialState
from hpolab.objectives import FunctionObjective, ToyObjective


def branin():
    return ToyObjective("branin")


def test_optimize_in_memory_keeps_every_trial():
    study = hpolab.create_study(branin(), "random", seed=0)
    study.optimize(n_trials=25)
    assert len(study.trials) == 25
    assert all(r.state is TrialState.COMPLETE for r in study.trials)
    assert study.best_value == min(r.value for r in study.trials)
    df = study.to_dataframe()
    assert list(df["id"]) == list(range(25))
    assert {"params_x1", "params_x2", "value", "regret"} <= set(df.columns)
    assert (df["regret"] >= 0).all()


def test_objective_that_raises_or_returns_nan_fails_and_the_study_goes_on():
    calls = []

    def fn(config):
        calls.append(config)
        if len(calls) % 3 == 1:
            raise RuntimeError("diverged at lr=" + str(config["x"]))
        if len(calls) % 3 == 2:
            return float("nan")
        return config["x"] ** 2

    study = hpolab.create_study(fn, "random", space={"x": (-1.0, 1.0)}, seed=0)
    study.optimize(n_trials=9)
    states = [r.state for r in study.trials]
    assert states.count(TrialState.FAIL) == 6 and states.count(TrialState.COMPLETE) == 3
    errors = [r.info["error"] for r in study.trials if r.state is TrialState.FAIL]
    assert any("RuntimeError: diverged at lr=" in e for e in errors)
    assert any("non-finite" in e for e in errors)
    assert study.best_trial.state is TrialState.COMPLETE


def test_an_exception_outside_catch_fails_its_trial_then_stops_the_loop(tmp_path):
    # As Optuna does: the trial is stored as FAIL with the error, then the exception propagates.
    calls = []

    def fn(config):
        calls.append(config)
        if len(calls) == 2:
            raise KeyError("boom")
        return config["x"]

    url = f"sqlite:///{tmp_path / 'c.db'}"
    study = hpolab.create_study(fn, "random", space={"x": (0.0, 1.0)}, storage=url, study_name="c", seed=0)
    with pytest.raises(KeyError, match="boom"):
        study.optimize(n_trials=3, catch=())
    assert [r.state for r in study.trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert study.trials[1].info["error"] == "KeyError: 'boom'"
    # the study goes on, in this process and after a reopen; nothing is left RUNNING to adopt
    study.optimize(n_trials=1, catch=())
    reopened = hpolab.create_study(
        fn, "random", space={"x": (0.0, 1.0)}, storage=url, study_name="c", seed=0, load_if_exists=True
    )
    reopened.optimize(n_trials=1)
    assert [r.state for r in reopened.trials] == [TrialState.COMPLETE, TrialState.FAIL] + [TrialState.COMPLETE] * 2


def test_sqlite_resume_gives_the_same_trials_as_an_uninterrupted_run(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    study = hpolab.create_study(branin(), RandomSearch(branin().search_space, seed=3), storage=url, study_name="s")
    study.optimize(n_trials=12)
    resumed = hpolab.create_study(
        branin(), RandomSearch(branin().search_space, seed=3), storage=url, study_name="s", load_if_exists=True
    )
    resumed.optimize(max_trials=30)
    straight = hpolab.create_study(branin(), RandomSearch(branin().search_space, seed=3))
    straight.optimize(n_trials=30)
    assert [r.config for r in resumed.trials] == [r.config for r in straight.trials]
    assert [r.id for r in resumed.trials] == list(range(30))


def test_existing_study_without_load_if_exists_is_an_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    hpolab.create_study(branin(), "random", storage=url, study_name="x")
    with pytest.raises(StorageError, match="load_if_exists=True"):
        hpolab.create_study(branin(), "random", storage=url, study_name="x")


def test_load_study_by_name_rebuilds_objective_and_optimizer(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    hpolab.create_study("toy/branin", "random", storage=url, study_name="named", seed=4).optimize(n_trials=5)
    study = hpolab.load_study("named", url)
    assert study.optimizer.seed == 4 and study.objective.name == "toy/branin"
    study.optimize(max_trials=8)
    assert len(study.trials) == 8


@pytest.mark.parametrize(
    ("storage", "match"),
    [
        ("redis://nowhere", "not a storage URL"),
        ("mysql://user:secret@127.0.0.1:1/nowhere", "driver|cannot connect"),
        ("sqlite://", "no path"),
        ("sqlite:////proc/hpolab-cannot-write/runs.db", "cannot"),
    ],
)
def test_unusable_storage_is_a_clear_error(storage, match):
    with pytest.raises(StorageError, match=match):
        hpolab.create_study(branin(), "random", storage=storage)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(hpolab.UnknownNameError, match=r"known: .*random"):
        hpolab.create_study(branin(), "rnadom")
    with pytest.raises(hpolab.UnknownNameError, match="branin"):
        hpolab.create_study("toy/brainn", "random")


def test_direction_and_space_mismatch_are_errors():
    with pytest.raises(ValueError, match="direction"):
        hpolab.create_study(branin(), RandomSearch(branin().search_space, direction="maximize"))
    with pytest.raises(ValueError, match="space"):
        hpolab.create_study(branin(), RandomSearch({"y": (0.0, 1.0)}))


def test_max_budget_spent_counts_trial_budgets():
    space = {"x": (0.0, 1.0)}
    objective = FunctionObjective(
        lambda c, budget: c["x"] + 1.0 / budget, space, fidelity=hpolab.Fidelity("epochs", 1, 9)
    )

    class Fixed(hpolab.Optimizer):
        name = "fixed-budget"

        def _ask(self, n):
            return [hpolab.Proposal(self.space.sample(rng=self._rng), budget=3.0) for _ in range(n)]

    study = hpolab.create_study(objective, Fixed(space, seed=0))
    study.optimize(max_budget_spent=10)
    assert study.budget_spent == 12.0  # 4 trials of 3: the fourth starts at 9 < 10
    assert len(study.trials) == 4


def test_grid_exhaustion_ends_the_study_cleanly():
    study = hpolab.create_study(branin(), "grid", optimizer_kwargs={"resolution": 3})
    study.optimize(n_trials=100)
    assert len(study.trials) == 9


def test_callbacks_can_stop_the_study():
    study = hpolab.create_study(branin(), "random", seed=0)
    study.optimize(n_trials=50, callbacks=[lambda s, rec: s.stop() if rec.id == 4 else None])
    assert len(study.trials) == 5


def test_timeout_stops_starting_trials():
    def slow(config):
        time.sleep(0.05)
        return config["x"]

    study = hpolab.create_study(slow, "random", space={"x": (0.0, 1.0)}, seed=0)
    study.optimize(timeout=0.2)
    assert 1 <= len(study.trials) <= 6


def test_optimize_one_call_api():
    study = hpolab.optimize("toy/quad2d", "random", n_trials=10, seed=1)
    assert len(study.trials) == 10 and study.best_value is not None


def test_optimize_one_call_api_takes_max_retries_and_trial_timeout():
    def sometimes_hangs(config):
        if config["x"] > 0.5:
            time.sleep(5)  # cut short by trial_timeout
        return config["x"]

    study = hpolab.optimize(
        sometimes_hangs, "random", n_trials=6, space={"x": (0.0, 1.0)}, seed=0, max_retries=0, trial_timeout=0.2
    )
    assert (study.max_retries, study.trial_timeout) == (0, 0.2)
    hung = [t for t in study.trials if t.config["x"] > 0.5]
    assert hung and all(t.state is TrialState.FAIL and "timeout" in t.info["error"] for t in hung)
    with pytest.raises(ValueError, match="max_retries: -1"):
        hpolab.optimize("toy/quad2d", "random", n_trials=1, max_retries=-1)


def _half_failing(config):
    if config["x"] > 0.7:
        raise RuntimeError("too far")
    return {"value": config["x"] ** 2, "info": {"accuracy": 1 - config["x"]}}


def test_best_params_is_the_best_trials_config_and_none_before_any_trial():
    study = hpolab.create_study(_half_failing, "random", space={"x": (0.0, 1.0)}, seed=0)
    assert study.best_params is None and study.best_value is None  # Optuna's raise ValueError here
    study.optimize(n_trials=8)
    best = min((t for t in study.trials if t.state is TrialState.COMPLETE), key=lambda t: t.value)
    assert study.best_params == best.config == {"x": best.config["x"]}


def test_trials_dataframe_has_optunas_layout():
    import optuna

    study = hpolab.create_study(_half_failing, "random", space={"x": (0.0, 1.0)}, seed=0)
    assert study.trials_dataframe().empty
    study.optimize(n_trials=8)
    df = study.trials_dataframe()
    plain = optuna.create_study()
    plain.optimize(
        lambda t: (t.set_user_attr("accuracy", 0.5), t.suggest_float("x", 0.0, 1.0))[1],
        n_trials=2,
    )
    hpolab_only = ["user_attrs_error", "user_attrs_wall_time"]  # the result info a FAIL trial and the loop add
    assert [c for c in df.columns if c not in hpolab_only] == list(plain.trials_dataframe().columns)
    assert set(hpolab_only) <= set(df.columns)
    assert list(df["number"]) == list(range(8))
    assert set(df["state"]) == {"COMPLETE", "FAIL"}  # seed 0 draws x above and below 0.7
    done = df[df["state"] == "COMPLETE"]
    assert (done["value"] == done["params_x"] ** 2).all()
    assert (done["user_attrs_accuracy"] == 1 - done["params_x"]).all()
    assert str(df["datetime_start"].dtype).startswith("datetime64") and str(df["duration"].dtype).startswith(
        "timedelta"
    )
    assert (df["datetime_complete"] - df["datetime_start"] == df["duration"]).all()
    picked = study.trials_dataframe(attrs=("number", "params", "state"), multi_index=True)
    assert list(picked.columns) == [("number", ""), ("params", "x"), ("state", "")]
    with pytest.raises(ValueError, match="intermediate_values"):
        study.trials_dataframe(attrs=("number", "intermediate_values"))


def test_get_trials_filters_by_state_like_optunas():
    import optuna

    study = hpolab.create_study(_half_failing, "random", space={"x": (0.0, 1.0)}, seed=0)
    study.optimize(n_trials=8)
    failed = [t for t in study.trials if t.state is TrialState.FAIL]
    assert failed and study.get_trials(states=[TrialState.FAIL]) == failed
    assert study.get_trials(states=(optuna.trial.TrialState.FAIL,)) == failed
    assert study.get_trials(states=["COMPLETE", "FAIL"]) == study.get_trials() == study.trials
    with pytest.raises(ValueError, match="WAITING"):
        study.get_trials(states=[optuna.trial.TrialState.WAITING])


_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import hpolab
    from hpolab.objectives import ToyObjective

    class Slow(ToyObjective):
        def evaluate(self, config, budget=None, seed=None):
            time.sleep(0.02)
            return super().evaluate(config, budget, seed)

    url, n = sys.argv[1], int(sys.argv[2])
    obj = Slow("branin")
    study = hpolab.create_study(obj, hpolab.RandomSearch(obj.search_space, seed=11), storage=url,
                                study_name="killme", load_if_exists=True)
    study.optimize(max_trials=n)
    print(json.dumps([r.config for r in study.trials]))
    """
)


def test_sigkill_mid_run_then_resume_finishes_the_study(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(_SCRIPT)
    db = tmp_path / "kill.db"
    url = f"sqlite:///{db}"
    n = 60
    proc = subprocess.Popen([sys.executable, str(script), url, str(n)], stdout=subprocess.PIPE)
    deadline = time.time() + 60
    storage = hpolab.get_storage(url) if db.exists() else None
    while time.time() < deadline:
        time.sleep(0.1)
        if storage is None and db.exists():
            storage = hpolab.get_storage(url)
        info = storage.get_study("killme") if storage else None
        if info and sum(r.state.is_finished for r in storage.get_trials(info.study_id)) >= 10:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    info = storage.get_study("killme")
    before = {r.id: r for r in storage.get_trials(info.study_id) if r.state.is_finished}
    assert 10 <= len(before) < n
    out = subprocess.run([sys.executable, str(script), url, str(n)], capture_output=True, text=True, check=True)
    after = storage.get_trials(info.study_id)
    ids = [r.id for r in after]
    assert len(ids) == len(set(ids)) == n
    assert all(r.state is TrialState.COMPLETE for r in after)
    for rid, rec in before.items():
        assert after[rid].config == rec.config and after[rid].value == rec.value
    # The resumed run made exactly the trials an uninterrupted run would have.
    straight = hpolab.create_study(ToyObjective("branin"), RandomSearch(ToyObjective("branin").search_space, seed=11))
    straight.optimize(n_trials=n)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [r.config for r in straight.trials]


def test_same_seeded_study_in_two_fresh_processes_gives_identical_trials(tmp_path):
    code = (
        "import json, hpolab\n"
        "s = hpolab.optimize('toy/ackley', 'random', n_trials=20, seed=5)\n"
        "print(json.dumps([[r.config, r.value] for r in s.trials]))\n"
    )
    outs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert outs[0] == outs[1] and json.loads(outs[0])


def test_import_hpolab_is_light():
    code = (
        "import sys, hpolab, hpolab.study, hpolab.registry, hpolab.cli\n"
        "heavy = ['torch', 'transformers', 'smac', 'openai', 'llama_cpp', 'matplotlib', 'sklearn', 'xgboost', 'peft']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_study_storage_holds_every_finished_trial_before_the_next_ask(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    seen = []

    def fn(config):
        store = hpolab.get_storage(url)
        info = store.get_study("watch")
        seen.append(sum(r.state.is_finished for r in store.get_trials(info.study_id)))
        return config["x"]

    study = hpolab.create_study(fn, "random", space={"x": (0.0, 1.0)}, storage=url, study_name="watch", seed=0)
    study.optimize(n_trials=5)
    assert seen == [0, 1, 2, 3, 4]
    assert math.isclose(study.best_value, min(r.value for r in study.trials))


def test_a_heartbeat_interval_not_below_half_the_grace_period_is_refused():
    with pytest.raises(ValueError, match=r"heartbeat_interval: 30.*grace period of 60"):
        hpolab.create_study(branin(), "random", heartbeat_interval=30)
    with pytest.raises(ValueError, match="max_retries: -1"):
        hpolab.create_study(branin(), "random", max_retries=-1)
    with pytest.raises(ValueError, match="trial_timeout: 0"):
        hpolab.create_study(branin(), "random", trial_timeout=0)
    assert hpolab.create_study(branin(), "random", heartbeat_interval=29).heartbeat_interval == 29


def test_optuna_enqueue_trial_on_an_hpolab_study_is_evaluated_and_the_study_reopens(tmp_path):
    """The issue's reproduction: Optuna's own enqueue_trial, then optimize, then hpolab.load_study."""
    import optuna

    url = f"sqlite:///{tmp_path / 'b.db'}"
    study = hpolab.create_study("toy/branin", "random", storage=url, study_name="b", seed=0)
    optuna.load_study(study_name="b", storage=url).enqueue_trial({"x1": 1.0, "x2": 2.0})
    study.optimize(n_trials=2)
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert trials[0].config == {"x1": 1.0, "x2": 2.0}
    reopened = hpolab.load_study("b", url)
    assert [t.config for t in reopened.trials] == [t.config for t in trials]
    reopened.optimize(n_trials=1)
    assert len(reopened.optimizer.history) == 3


def test_a_stored_trial_outside_the_space_never_stops_the_study_from_opening(tmp_path, caplog):
    import optuna

    url = f"journal:///{tmp_path / 'f.log'}"
    study = hpolab.create_study("toy/branin", "random", storage=url, study_name="f", seed=0)
    study.optimize(n_trials=2)
    journal = hpolab.get_storage(url).backend  # Optuna opens a journal file through a JournalStorage
    optuna.load_study(study_name="f", storage=journal).optimize(lambda t: t.suggest_float("nope", 0, 1), n_trials=1)
    optuna.load_study(study_name="f", storage=journal).enqueue_trial({"x1": 1000.0, "x2": 2.0})
    study.optimize(n_trials=2)
    bad = next(t for t in study.trials if t.state is TrialState.FAIL)
    assert "x1" in bad.info["error"] and "1000" in bad.info["error"]
    caplog.clear()
    with caplog.at_level("WARNING", logger="hpolab"):
        reopened = hpolab.load_study("f", url)
        reopened.optimize(n_trials=1)
    assert sum(t.state is TrialState.COMPLETE for t in reopened.trials) == 6  # 5 of hpolab's, 1 of Optuna's
    assert len(reopened.optimizer.history) == 5
    skipped = [r for r in caplog.records if r.name.startswith("hpolab") and "nope" in r.getMessage()]
    assert len(skipped) == 1  # one warning for the foreign trial, not one per sync


def test_study_reads_convert_each_finished_trial_once(monkeypatch):
    import hpolab.storage as storage_module
    import hpolab.study._ledger as study_module

    study = hpolab.create_study(branin(), "random", seed=0)
    study.optimize(n_trials=20)
    assert len(study.trials) == 20  # the last trial is read once after it finished
    calls = []
    original = storage_module.to_record
    for module in (storage_module, study_module):
        monkeypatch.setattr(module, "to_record", lambda frozen: calls.append(frozen.number) or original(frozen))
    for _ in range(5):
        assert len(study.trials) == 20
        assert study.best_value == min(t.value for t in study.trials)
        assert study.budget_spent == 20
    assert calls == []  # every trial was finished and converted already: nothing is read again


def _bowl(config):
    return (config["x1"] - 1.0) ** 2 + (config["x2"] - 2.0) ** 2


def test_a_partial_optuna_enqueue_is_completed_by_the_study_s_tpe_and_a_resume_replays_it(tmp_path):
    """Optuna's enqueue_trial({"x1": 1.0}) after TPE's start-up trials: TPE proposes x2, and a resume goes on alike."""
    import optuna

    space = {"x1": (-5.0, 5.0), "x2": (-5.0, 5.0)}
    runs = {}
    for run in ("whole", "resumed"):
        url = f"journal:///{tmp_path / f'{run}.log'}"
        study = hpolab.create_study(
            FunctionObjective(_bowl, space, name="bowl"), "tpe", storage=url, study_name="p", seed=0
        )
        study.optimize(n_trials=15)
        expected = study.optimizer.complete({"x1": 1.0}, number=15)  # what TPE proposes in this state
        assert expected != RandomSearch(space, seed=0).complete({"x1": 1.0}, number=15)
        optuna.load_study(study_name="p", storage=study.storage.backend).enqueue_trial({"x1": 1.0})
        study.optimize(n_trials=1)
        completed = study.trials[15]
        assert completed.config == expected and completed.state is TrialState.COMPLETE
        if run == "resumed":  # this worker dies; a new process reopens the study and replays its log
            study.storage.release(study._info.study_id, study.worker.key)
            study = hpolab.load_study("p", url, objective=FunctionObjective(_bowl, space, name="bowl"))
        study.optimize(n_trials=4)
        runs[run] = [(t.config, t.value) for t in study.trials]
    assert len(runs["whole"]) == 20 and runs["resumed"] == runs["whole"]
