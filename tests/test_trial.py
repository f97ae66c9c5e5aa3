"""Trial, TrialResult, TrialRecord, TrialState and Direction."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from hpolab import Direction, Trial, TrialRecord, TrialResult, TrialState
from hpolab.trial import best_record


# --------------------------------------------------------------------------- enums
def test_states_and_directions() -> None:
    assert [s.value for s in TrialState] == ["RUNNING", "COMPLETE", "PRUNED", "FAIL"]
    assert not TrialState.RUNNING.is_finished and all(
        s.is_finished for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    )
    assert Direction.coerce("minimize") is Direction.MINIMIZE
    assert Direction.coerce("MAXIMIZE") is Direction.MAXIMIZE
    assert Direction.coerce(Direction.MAXIMIZE) is Direction.MAXIMIZE
    with pytest.raises(ValueError, match=r"direction: 'up' is not a direction; use 'minimize' or 'maximize'"):
        Direction.coerce("up")
    assert Direction.MINIMIZE.better(1.0, 2.0) and not Direction.MINIMIZE.better(2.0, 1.0)
    assert Direction.MAXIMIZE.better(2.0, 1.0) and not Direction.MAXIMIZE.better(1.0, 1.0)
    assert Direction.MINIMIZE.sign == 1.0 and Direction.MAXIMIZE.sign == -1.0


# --------------------------------------------------------------------------- Trial
def test_trial_is_frozen() -> None:
    trial = Trial(0, {"x": 1.0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        trial.id = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        trial.config = {}  # type: ignore[misc]


def test_trial_copies_its_inputs_and_converts_numpy() -> None:
    config = {"x": np.float64(1.5), "n": np.int64(3), "o": np.str_("adam"), "b": np.bool_(True)}
    trial = Trial(np.int64(4), config, budget=np.int64(9), seed=np.int32(7), metadata={"a": np.arange(3)})
    config["x"] = 99.0
    assert trial.config == {"x": 1.5, "n": 3, "o": "adam", "b": True}
    assert [type(v) for v in trial.config.values()] == [float, int, str, bool]
    assert type(trial.id) is int and trial.id == 4 and type(trial.seed) is int and trial.seed == 7
    assert type(trial.budget) is float and trial.budget == 9.0
    data = trial.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["metadata"] == {"a": [0, 1, 2]}


def test_trial_ids_and_seeds_must_be_whole_numbers() -> None:
    assert Trial(3.0, {}, seed=5.0).id == 3  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"id: 1.5 is not an int"):
        Trial(1.5, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"seed: 'x' is not an int"):
        Trial(1, {}, seed="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"id: True is not an int"):
        Trial(True, {})


def test_trial_dict_round_trip_and_metadata() -> None:
    trial = Trial(2, {"x": 0.25, "o": "sgd"}, budget=3.0, seed=11, metadata={"note": "hi", "tokens": [1, 2]})
    data = json.loads(json.dumps(trial.to_dict()))
    assert Trial.from_dict(data) == trial
    bare = Trial.from_dict({"id": 5, "config": {"x": 1}})
    assert (bare.budget, bare.seed, bare.metadata) == (None, None, {})
    more = trial.with_metadata(extra=1)
    assert more.metadata == {"note": "hi", "tokens": [1, 2], "extra": 1} and trial.metadata == {
        "note": "hi",
        "tokens": [1, 2],
    }
    assert hash(trial) == hash(Trial(2, {"x": 9.0}))


# --------------------------------------------------------------------------- TrialResult
def test_result_is_frozen_and_plain() -> None:
    result = TrialResult(
        np.float32(0.5), runtime=np.float64(1.25), info={"losses": np.array([1.0, 0.5]), "n": np.int64(2)}
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.value = 1.0  # type: ignore[misc]
    assert type(result.value) is float and result.value == 0.5 and type(result.runtime) is float
    assert result.info == {"losses": [1.0, 0.5], "n": 2} and type(result.info["n"]) is int
    assert result.state is TrialState.COMPLETE
    tagged = TrialResult(1.0, info={"tags": {"b", "a"}, "pair": (1, np.int64(2))})
    assert tagged.info == {"tags": ["a", "b"], "pair": [1, 2]}
    json.dumps(tagged.to_dict())
    assert TrialResult(1.0, info=None).info == {} and Trial(0, {}, metadata=None).metadata == {}  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_non_finite_values_fail_with_error_text(bad: float) -> None:
    result = TrialResult(bad)
    assert result.state is TrialState.FAIL and result.value is None
    assert "non-finite" in result.info["error"] and str(float(bad)) in result.info["error"]
    pruned = TrialResult(bad, state=TrialState.PRUNED)
    assert pruned.state is TrialState.FAIL
    data = result.to_dict()
    assert data["value"] is None and data["state"] == "FAIL"
    assert json.loads(json.dumps(data)) == data  # strict JSON: no NaN token
    json.dumps(data, allow_nan=False)


def test_result_validation_messages() -> None:
    with pytest.raises(ValueError, match=r"value: 'abc' is not a number"):
        TrialResult("abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"value: None is not allowed for a COMPLETE trial"):
        TrialResult(None)
    with pytest.raises(ValueError, match=r"state: RUNNING is not a result"):
        TrialResult(1.0, state=TrialState.RUNNING)
    with pytest.raises(ValueError, match=r"state: 'bogus' is not a TrialState; use COMPLETE, PRUNED or FAIL"):
        TrialResult(1.0, state="bogus")  # type: ignore[arg-type]
    assert TrialResult(1.0, state="pruned").state is TrialState.PRUNED  # type: ignore[arg-type]
    assert TrialResult(None, state=TrialState.PRUNED).value is None


def test_fail_and_coerce() -> None:
    failed = TrialResult.fail("boom", runtime=2.0, trace="t")
    assert failed.state is TrialState.FAIL and failed.value is None
    assert failed.info == {"error": "boom", "trace": "t"} and failed.runtime == 2.0
    assert TrialResult.coerce(failed) is failed
    assert TrialResult.coerce(3) == TrialResult(3.0)
    assert TrialResult.coerce(np.float64(2.5)).value == 2.5
    none = TrialResult.coerce(None)
    assert none.state is TrialState.FAIL and none.info["error"]
    assert TrialResult.coerce(math.nan).state is TrialState.FAIL
    from_dict = TrialResult.coerce({"value": 1.0, "runtime": 3, "info": {"a": 1}})
    assert from_dict == TrialResult(1.0, runtime=3.0, info={"a": 1})
    assert TrialResult.coerce({"state": "FAIL", "info": {"error": "x"}}).state is TrialState.FAIL
    with pytest.raises(ValueError, match=r"keys \['loss'\] are not TrialResult fields"):
        TrialResult.coerce({"value": 1.0, "loss": 2.0})
    with pytest.raises(ValueError, match=r"value: None is not allowed for a COMPLETE trial"):
        TrialResult.coerce({"runtime": 1.0})
    with pytest.raises(ValueError, match="not a number"):
        TrialResult.coerce("fast")  # type: ignore[arg-type]


def test_result_dict_round_trip() -> None:
    for result in (
        TrialResult(0.125, runtime=1.5, info={"losses": [1.0, 0.5], "nested": {"k": [1, "a"]}}),
        TrialResult(2.0, state=TrialState.PRUNED, info={"at_budget": 3}),
        TrialResult.fail("Traceback ...: ValueError"),
    ):
        data = json.loads(json.dumps(result.to_dict()))
        assert TrialResult.from_dict(data) == result
    assert hash(TrialResult(1.0)) == hash(TrialResult(1.0))


# --------------------------------------------------------------------------- TrialRecord
def test_record_properties() -> None:
    trial = Trial(1, {"x": 1.0}, budget=2.0, metadata={"m": 1})
    running = TrialRecord(trial)
    assert running.state is TrialState.RUNNING and running.value is None and running.info == {}
    assert (running.id, running.config, running.budget, running.metadata) == (1, {"x": 1.0}, 2.0, {"m": 1})
    assert not running.is_complete
    done = TrialRecord(trial, TrialResult(0.5, info={"i": 1}))
    assert done.state is TrialState.COMPLETE and done.value == 0.5 and done.info == {"i": 1} and done.is_complete
    assert not TrialRecord(trial, TrialResult.fail("x")).is_complete
    assert not TrialRecord(trial, TrialResult(0.1, state=TrialState.PRUNED)).is_complete
    assert hash(done) == hash(running)


def test_best_record_skips_failed_and_pruned_and_keeps_first_tie() -> None:
    def rec(i: int, result: TrialResult) -> TrialRecord:
        return TrialRecord(Trial(i, {}), result)

    records = [
        rec(0, TrialResult.fail("x")),
        rec(1, TrialResult(3.0)),
        rec(2, TrialResult(-math.inf)),  # becomes FAIL
        rec(3, TrialResult(1.0)),
        rec(4, TrialResult(1.0)),
        rec(5, TrialResult(0.0, state=TrialState.PRUNED)),
        rec(6, TrialResult(5.0)),
        TrialRecord(Trial(7, {})),  # running
    ]
    assert best_record(records, Direction.MINIMIZE).id == 3  # type: ignore[union-attr]
    assert best_record(records, Direction.MAXIMIZE).id == 6  # type: ignore[union-attr]
    assert best_record(records[:1], Direction.MINIMIZE) is None
    assert best_record([], Direction.MAXIMIZE) is None
