"""Storage back ends: the same behaviour in memory, in SQLite and in PostgreSQL.

The PostgreSQL cases run where HPOLAB_TEST_POSTGRES_URL names a server (.ci/run starts one);
elsewhere they skip and say so.
"""

from __future__ import annotations

import math
import os
import uuid

import pytest

import hpolab
from hpolab import InMemoryStorage, RandomSearch, SQLStorage, StorageError, Trial, TrialResult, TrialState
from hpolab.objectives import ToyObjective

PG_URL = os.environ.get("HPOLAB_TEST_POSTGRES_URL")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def storage(request, tmp_path):
    if request.param == "memory":
        return InMemoryStorage()
    if request.param == "sqlite":
        return SQLStorage(f"sqlite:///{tmp_path / 'store.db'}")
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set HPOLAB_TEST_POSTGRES_URL=postgresql://user:pw@127.0.0.1/db")
    pytest.importorskip("psycopg", reason='PostgreSQL storage needs pip install "hpolab[postgres]"')
    return SQLStorage(PG_URL)


def _name() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def test_study_lifecycle_and_event_log(storage):
    info = storage.create_study(_name(), "minimize", {"objective": "toy/branin", "x": [1, 2]})
    assert storage.get_study(info.name).attrs["x"] == [1, 2]
    with pytest.raises(StorageError, match="already exists"):
        storage.create_study(info.name, "minimize", {})
    t0 = Trial(0, {"a": 0.1234567890123, "b": "x"}, budget=3.0, seed=2**40, metadata={"m": [1]})
    t1 = Trial(1, {"a": 0.5, "b": "y"})
    storage.record_ask(info.study_id, [t0, t1])
    storage.record_tell(info.study_id, 1, TrialResult(0.25, cost=1.5, info={"true_value": 0.2}))
    storage.record_observe(info.study_id, Trial(2, {"a": 0.9, "b": "x"}, metadata={"observed": True}), TrialResult(1.0))
    storage.record_tell(info.study_id, 0, TrialResult.fail("boom"))
    recs = storage.get_trials(info.study_id)
    assert [r.id for r in recs] == [0, 1, 2]
    assert recs[0].trial == t0 and recs[0].config["a"] == 0.1234567890123  # doubles survive exactly
    assert recs[0].trial.seed == 2**40 and recs[0].trial.budget == 3.0
    assert recs[0].state is TrialState.FAIL and recs[0].info["error"] == "boom"
    assert recs[1].value == 0.25 and recs[1].result.cost == 1.5
    events = storage.get_events(info.study_id)
    assert [next(iter(e)) for e in events] == ["ask", "tell", "observe", "tell"]
    assert [t["id"] for t in events[0]["ask"]] == [0, 1]
    storage.set_study_attrs(info.study_id, {"note": "hi"})
    assert storage.get_study(info.name).attrs["note"] == "hi"
    storage.delete_study(info.name)
    assert storage.get_study(info.name) is None


def test_resume_through_the_storage(storage):
    obj = ToyObjective("himmelblau")
    name = _name()
    first = hpolab.create_study(obj, RandomSearch(obj.search_space, seed=9), storage=storage, study_name=name)
    first.optimize(n_trials=7)
    resumed = hpolab.create_study(
        obj, RandomSearch(obj.search_space, seed=9), storage=storage, study_name=name, load_if_exists=True
    )
    resumed.optimize(max_trials=15)
    straight = hpolab.create_study(obj, RandomSearch(obj.search_space, seed=9))
    straight.optimize(n_trials=15)
    assert [r.config for r in resumed.trials] == [r.config for r in straight.trials]
    assert math.isclose(resumed.best_value, straight.best_value)


def test_sqlite_storage_is_picklable_for_worker_processes(tmp_path):
    import pickle

    store = SQLStorage(f"sqlite:///{tmp_path / 'p.db'}")
    info = store.create_study("p", "minimize", {})
    clone = pickle.loads(pickle.dumps(store))
    assert clone.get_study("p").study_id == info.study_id
