"""Renamed keywords: each old spelling warns once, gives what the new one gives, and both together fail."""

from __future__ import annotations

import re
import warnings

import pytest

from hpolab._deprecation import renamed_key, renamed_keyword


def _one_deprecation(call, new: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    dep = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(dep) == 1, [str(w.message) for w in dep]
    assert f"{new}=" in str(dep[0].message)
    assert dep[0].filename == __file__  # it points at the caller
    return out


def test_the_helper_passes_the_new_value_and_rejects_both():
    assert renamed_keyword("f", "old", "new", None, 3) == 3
    with pytest.raises(TypeError, match="give new= only"):
        renamed_keyword("f", "old", "new", 1, 2)
    assert renamed_key({"old": 1, "x": 2}, "old", "new") == {"new": 1, "x": 2}
    assert renamed_key({"old": 1, "new": 5}, "old", "new") == {"new": 5}


def test_plan_budget_is_max_budget_spent():
    from hpolab.benchmark import plan
    from hpolab.benchmark._suites import plan_runs, plan_suite

    new = plan(["random"], ["toy/branin"], 1, max_budget_spent=5.0)
    old = _one_deprecation(lambda: plan(["random"], ["toy/branin"], 1, budget=5.0), "max_budget_spent")
    assert old == new and new[0].max_budget_spent == 5.0
    with pytest.raises(TypeError, match="max_budget_spent"):
        plan(["random"], ["toy/branin"], 1, budget=5.0, max_budget_spent=5.0)
    kw = {"optimizers": ["random"], "objectives": ["toy/branin"], "seeds": 1}
    assert _one_deprecation(lambda: plan_suite("quick", **kw, budget=4.0), "max_budget_spent") == plan_suite(
        "quick", **kw, max_budget_spent=4.0
    )
    assert _one_deprecation(lambda: plan_runs("quick", **kw, budget=4.0), "max_budget_spent") == plan_runs(
        "quick", **kw, max_budget_spent=4.0
    )
    with pytest.raises(TypeError, match="max_budget_spent"):
        plan_suite("quick", **kw, budget=4.0, max_budget_spent=4.0)


def test_run_budget_is_max_budget_spent_and_old_limits_still_count_as_complete(tmp_path):
    from hpolab.benchmark import run

    url = f"sqlite:///{tmp_path / 'r.db'}"
    old = _one_deprecation(lambda: run(["random"], ["toy/branin-mf"], 1, budget=2.0, storage=url), "max_budget_spent")
    new = run(["random"], ["toy/branin-mf"], 1, max_budget_spent=2.0, storage=f"sqlite:///{tmp_path / 'n.db'}")
    cols = ["optimizer", "objective", "seed", "value", "budget"]
    assert old[cols].equals(new[cols])
    with pytest.raises(TypeError, match="max_budget_spent"):
        run(["random"], ["toy/branin-mf"], 1, budget=2.0, max_budget_spent=2.0, storage=url)


def test_a_finished_run_stored_with_the_old_limits_key_is_still_finished():
    from types import SimpleNamespace

    from hpolab.benchmark import plan
    from hpolab.benchmark._execute import _ATTR, _is_complete

    (spec,) = plan(["random"], ["toy/branin-mf"], 1, max_budget_spent=2.0)
    stored = {"complete": True, "limits": {"n_trials": None, "budget": 2.0}}  # as older versions wrote it
    assert _is_complete(SimpleNamespace(attrs={_ATTR: stored}), spec, 0, 0.0)
    stored["limits"] = {"n_trials": None, "budget": 3.0}
    assert not _is_complete(SimpleNamespace(attrs={_ATTR: stored}), spec, 0, 0.0)


def test_llm_budget_is_n_trials():
    from hpolab.llm import LLMOptimizer, PromptOptions
    from hpolab.testing import ScriptedClient, mixed_space

    space = mixed_space()
    new = LLMOptimizer(space, ScriptedClient(["{}"]), n_trials=4)
    old = _one_deprecation(lambda: LLMOptimizer(space, ScriptedClient(["{}"]), budget=4), "n_trials")
    assert old.prompt == new.prompt == PromptOptions(n_trials=4) and old.n_trials == 4
    as_dict = _one_deprecation(lambda: LLMOptimizer(space, ScriptedClient(["{}"]), prompt={"budget": 4}), "n_trials")
    assert as_dict.prompt == new.prompt
    with pytest.raises(TypeError, match="n_trials"):
        LLMOptimizer(space, ScriptedClient(["{}"]), budget=4, n_trials=4)
    with pytest.raises(TypeError, match="n_trials"):
        LLMOptimizer(space, ScriptedClient(["{}"]), prompt={"budget": 4, "n_trials": 4})


def _trials():
    import pandas as pd

    rows = []
    for opt, values in {"A": [3.0, 1.0, 2.0], "random": [4.0, 2.0, 3.0]}.items():
        for seed in (0, 1):
            for i, v in enumerate(values):
                rows.append(
                    {
                        "optimizer": opt,
                        "objective": "t",
                        "seed": seed,
                        "trial": i,
                        "value": v + seed,
                        "direction": "minimize",
                    }
                )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "name", ["final_losses", "task_losses", "table1_tasks", "table1", "win_probabilities", "aggregate_table"]
)
def test_metrics_budget_is_n_trials(name):
    import hpolab.analysis.metrics as M

    fn = getattr(M, name)
    df = _trials()
    new = fn(df, n_trials=2)
    old = _one_deprecation(lambda: fn(df, budget=2), "n_trials")
    assert old.equals(new)
    assert not old.equals(fn(df, n_trials=1))  # the keyword is used, not dropped
    with pytest.raises(TypeError, match="n_trials"):
        fn(df, budget=2, n_trials=3)


@pytest.mark.parametrize("name", ["expected_best_of", "bootstrap_best_of", "win_probability"])
def test_stats_budget_is_n_draws(name):
    import numpy as np

    import hpolab.analysis.stats as S

    pool = [3.0, 1.0, 2.0]
    fn = {
        "expected_best_of": lambda **kw: S.expected_best_of(pool, **kw),
        "bootstrap_best_of": lambda **kw: S.bootstrap_best_of(pool, n_bootstrap=20, **kw),
        "win_probability": lambda **kw: S.win_probability([1.5, 2.5], pool, **kw),
    }[name]
    new = fn(n_draws=2)
    old = _one_deprecation(lambda: fn(budget=2), "n_draws")
    assert np.array_equal(
        np.asarray(old if name != "bootstrap_best_of" else old.mean),
        np.asarray(new if name != "bootstrap_best_of" else new.mean),
    )
    with pytest.raises(TypeError, match="n_draws"):
        fn(budget=2, n_draws=2)
    if name == "bootstrap_best_of":
        assert _one_deprecation(lambda: new.budget, "n_draws") == new.n_draws == 2


def test_write_report_budget_is_n_trials(tmp_path):
    from hpolab.analysis.report import write_report
    from hpolab.benchmark import run

    df = run(["random", "tpe"], ["toy/branin"], 2, n_trials=3, random_pool=20, storage=tmp_path / "r.db")
    new = write_report(df, tmp_path / "new", n_trials=2, sections=("table1",))
    old = _one_deprecation(lambda: write_report(df, tmp_path / "old", budget=2, sections=("table1",)), "n_trials")
    assert old.tables["table1"].equals(new.tables["table1"])
    with pytest.raises(TypeError, match="n_trials"):
        write_report(df, tmp_path / "both", budget=2, n_trials=3)


def test_trial_result_cost_is_runtime():
    from hpolab import TrialResult
    from hpolab.objectives import FunctionObjective

    new = TrialResult(0.5, runtime=2.0, info={"a": 1})
    assert _one_deprecation(lambda: TrialResult(0.5, cost=2.0, info={"a": 1}), "runtime") == new
    assert _one_deprecation(lambda: new.cost, "runtime") == new.runtime == 2.0
    failed = _one_deprecation(lambda: TrialResult.fail("boom", cost=1.5), "runtime")
    assert failed == TrialResult.fail("boom", runtime=1.5)
    coerced = _one_deprecation(lambda: TrialResult.coerce({"value": 0.5, "cost": 2.0, "info": {"a": 1}}), "runtime")
    assert coerced == new
    for both in (
        lambda: TrialResult(0.5, cost=1.0, runtime=2.0),
        lambda: TrialResult.fail("boom", cost=1.0, runtime=2.0),
        lambda: TrialResult.coerce({"value": 0.5, "cost": 1.0, "runtime": 2.0}),
    ):
        with pytest.raises(TypeError, match=r"runtime=.*cost="):
            both()
    assert [f.name for f in __import__("dataclasses").fields(new)] == ["value", "state", "runtime", "info"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stored data in the old shape reads without a warning
        assert TrialResult.from_dict({"value": 0.5, "state": "COMPLETE", "cost": 2.0, "info": {"a": 1}}) == new
    obj = FunctionObjective(lambda c: {"value": c["x"], "cost": 9.0}, {"x": (0.0, 1.0)})
    with pytest.warns(DeprecationWarning, match="runtime="):
        assert obj.evaluate({"x": 0.25}).runtime == 9.0


def _renamed_dataclasses():
    from hpolab.benchmark import RunSpec
    from hpolab.benchmark._suite import Suite, SuitePart
    from hpolab.llm import PromptOptions

    run = {"optimizer": "random", "objective": "toy/branin", "seed": 0, "n_trials": None, "optimizer_name": "random"}
    part = {"name": "p", "description": "d", "optimizers": ["random"], "objectives": ["toy/branin"]}
    return [
        (RunSpec, run, "max_budget_spent", 5.0),
        (Suite, {**part, "seeds": 1, "n_trials": None}, "max_budget_spent", 5.0),
        (SuitePart, part, "max_budget_spent", 5.0),
        (PromptOptions, {}, "n_trials", 4),
    ]


@pytest.mark.parametrize("cls, kwargs, new, value", _renamed_dataclasses(), ids=lambda x: getattr(x, "__name__", ""))
def test_dataclass_budget_is_its_new_field(cls, kwargs, new, value):
    import dataclasses

    built = cls(**kwargs, **{new: value})
    old = _one_deprecation(lambda: cls(**kwargs, budget=value), new)
    assert old == built and getattr(old, new) == value and repr(old) == repr(built)
    assert "budget" not in {f.name for f in dataclasses.fields(cls)} and not re.search(r"\bbudget=", repr(old))
    assert dataclasses.replace(old, **{new: None}) == cls(**kwargs, **{new: None})
    with pytest.raises(TypeError, match=rf"{new}=.*budget="):
        cls(**kwargs, budget=value, **{new: value})
