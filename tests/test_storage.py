"""Storage: hpolab's mapping onto Optuna's storages, the same in memory, in a journal file, in SQLite
and in PostgreSQL (the shape of Optuna's own optuna/testing/pytest_storages.py).

The PostgreSQL cases run where HPOLAB_TEST_POSTGRES_URL names a server (.ci/run starts one);
elsewhere they skip and say so.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import sqlite3
import uuid

import optuna
import pytest

import hpolab
from hpolab import RandomSearch, StorageError, Trial, TrialResult, TrialState, get_storage
from hpolab.objectives import ToyObjective
from hpolab.storage import redact_url

PG_URL = os.environ.get("HPOLAB_TEST_POSTGRES_URL")
KINDS = ["memory", "journal", "sqlite", "postgres"]


def _url(kind: str, tmp_path) -> str | None:
    if kind == "memory":
        return None
    if kind == "journal":
        return f"journal:///{tmp_path / 'store.log'}"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set HPOLAB_TEST_POSTGRES_URL=postgresql://user:pw@127.0.0.1/db")
    pytest.importorskip("psycopg", reason='PostgreSQL storage needs pip install "hpolab[postgres]"')
    return PG_URL


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def storage(kind, tmp_path):
    return get_storage(_url(kind, tmp_path))


def _name() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


SPACE = hpolab.SearchSpace({"a": (0.0, 1.0), "b": ["x", "y"]})


def test_study_lifecycle_trials_and_event_log(storage):
    info = storage.create_study(_name(), "minimize", {"objective": "toy/branin", "x": [1, 2]})
    assert storage.get_study(info.name).attrs["x"] == [1, 2]
    with pytest.raises(StorageError, match="already exists"):
        storage.create_study(info.name, "minimize", {})
    t0 = Trial(-1, {"a": 0.1234567890123, "b": "x"}, budget=3.0, seed=2**40, metadata={"m": [1], "source": "llm"})
    t1 = Trial(-1, {"a": 0.5, "b": "y"})
    n0, n1 = storage.create_trials(info.study_id, [t0, t1], SPACE, worker="w", seq=0)
    assert (n0, n1) == (0, 1)
    storage.record_tell(info.study_id, n1, TrialResult(0.25, runtime=1.5, info={"true_value": 0.2}), worker="w", seq=1)
    n2 = storage.record_observe(
        info.study_id,
        Trial(-1, {"a": 0.9, "b": "x"}, metadata={"observed": True}),
        TrialResult(1.0),
        SPACE,
        worker="w",
        seq=2,
    )
    storage.record_tell(info.study_id, n0, TrialResult.fail("boom"), worker="w", seq=3)
    recs = storage.get_trials(info.study_id)
    assert [r.id for r in recs] == [0, 1, 2] and n2 == 2
    assert recs[0].config == {"a": 0.1234567890123, "b": "x"}  # doubles survive exactly
    assert recs[0].trial.seed == 2**40 and recs[0].trial.budget == 3.0 and recs[0].metadata["m"] == [1]
    assert recs[0].state is TrialState.FAIL and recs[0].info["error"] == "boom"
    assert recs[1].value == 0.25 and recs[1].result.runtime == 1.5 and recs[1].info["true_value"] == 0.2
    events = storage.get_events(info.study_id)
    assert [next(iter(e)) for e in events] == ["ask", "tell", "observe", "tell"]
    assert [t["id"] for t in events[0]["ask"]] == [0, 1]
    assert events[1] == {"tell": 1, "result": recs[1].result.to_dict()}
    storage.set_study_attrs(info.study_id, {"note": "hi"})
    assert storage.get_study(info.name).attrs["note"] == "hi"
    storage.delete_study(info.name)
    assert storage.get_study(info.name) is None


def test_a_result_stored_by_an_older_hpolab_reads_its_cost_as_the_runtime(storage):
    info = storage.create_study(_name(), "minimize", {})
    (n,) = storage.create_trials(info.study_id, [Trial(-1, {"a": 0.5, "b": "x"})], SPACE, worker="w", seq=0)
    storage.record_tell(info.study_id, n, TrialResult(0.25, runtime=1.5), worker="w", seq=1)
    (new,) = storage.frozen_trials(info.study_id)
    assert new.system_attrs["hpolab:result"]["runtime"] == 1.5 and "cost" not in new.system_attrs["hpolab:result"]
    stored = {k: v for k, v in new.system_attrs["hpolab:result"].items() if k != "runtime"}
    old = optuna.trial.create_trial(  # the result's time under the key older versions wrote
        value=0.75,
        params={"a": 0.25, "b": "y"},
        distributions=SPACE.to_optuna(),
        system_attrs={**new.system_attrs, "hpolab:result": {**stored, "cost": 2.5}},
    )
    storage.backend.create_new_trial(info.study_id, template_trial=old)
    records = storage.get_trials(info.study_id)
    assert [r.result.runtime for r in records] == [1.5, 2.5] and records[1].value == 0.75
    assert TrialResult.from_dict({"value": 0.75, "state": "COMPLETE", "cost": 2.5}) == records[1].result


def test_every_hpolab_study_is_an_optuna_study(kind, tmp_path):
    url = _url(kind, tmp_path)
    obj = ToyObjective("branin")
    name = _name()
    study = hpolab.create_study(obj, "tpe", storage=url, study_name=name, seed=1)
    study.optimize(n_trials=6)
    backend = study.storage.backend if url is None else url
    if kind == "journal":
        backend = study.storage.backend
    loaded = optuna.load_study(study_name=name, storage=backend)
    assert [t.number for t in loaded.trials] == [r.id for r in study.trials]
    assert [t.params for t in loaded.trials] == [r.config for r in study.trials]
    assert math.isclose(loaded.best_value, study.best_value)
    if kind != "memory":  # user attributes are for the dashboard, which cannot open an in-memory storage
        assert loaded.trials[0].user_attrs["seed"] == study.trials[0].trial.seed
    assert loaded.direction == optuna.study.StudyDirection.MINIMIZE


def test_resume_through_the_storage(storage):
    obj = ToyObjective("himmelblau")
    name = _name()
    first = hpolab.create_study(obj, RandomSearch(obj.search_space, seed=9), storage=storage, study_name=name)
    first.optimize(n_trials=7)
    resumed = hpolab.create_study(
        obj, RandomSearch(obj.search_space, seed=9), storage=storage, study_name=name, load_if_exists=True
    )
    assert resumed.worker.slot == 0  # the first study's loop ended: its slot (and its log) is free
    resumed.optimize(max_trials=15)
    straight = hpolab.create_study(obj, RandomSearch(obj.search_space, seed=9))
    straight.optimize(n_trials=15)
    assert [r.config for r in resumed.trials] == [r.config for r in straight.trials]
    assert math.isclose(resumed.best_value, straight.best_value)


def test_two_workers_in_one_process_share_the_study_without_clashes(storage):
    obj = ToyObjective("branin")
    name = _name()
    a = hpolab.create_study(obj, "random", storage=storage, study_name=name, seed=4)
    b = hpolab.create_study(obj, "random", storage=storage, study_name=name, seed=4, load_if_exists=True)
    assert (a.worker.slot, b.worker.slot) == (0, 1)  # a still holds slot 0 (not yet optimized)
    for _ in range(3):
        a.optimize(n_trials=2)
        b.optimize(n_trials=2)
    ids = [r.id for r in a.trials]
    assert ids == list(range(12))
    configs = {tuple(sorted(r.config.items())) for r in a.trials}
    assert len(configs) == 12  # the second worker has a seed of its own
    assert len(b.optimizer.history) == 12  # it took in the first worker's results


def test_enqueued_trial_runs_first_and_the_optimizer_observes_it(storage):
    obj = ToyObjective("branin")
    study = hpolab.create_study(obj, "tpe", storage=storage, study_name=_name(), seed=0)
    number = study.enqueue_trial({"x1": 1.0, "x2": 2.0})
    study.optimize(n_trials=3)
    first = study.trials[0]
    assert first.id == number and first.config == {"x1": 1.0, "x2": 2.0} and first.state is TrialState.COMPLETE
    assert any(r.config == {"x1": 1.0, "x2": 2.0} for r in study.optimizer.history)


def test_persistent_storage_is_picklable_for_worker_processes(kind, tmp_path):
    if kind == "memory":
        with pytest.raises(StorageError, match="cannot be sent to another process"):
            pickle.dumps(get_storage(None))
        return
    store = get_storage(_url(kind, tmp_path))
    info = store.create_study(_name(), "minimize", {})
    clone = pickle.loads(pickle.dumps(store))
    assert clone.get_study(info.name).study_id == info.study_id


def test_passwords_are_redacted_everywhere():
    url = "postgresql://alice:s3cr3t-pw@127.0.0.1:1/db"
    assert redact_url(url) == "postgresql://alice:***@127.0.0.1:1/db"
    pytest.importorskip("psycopg")
    with pytest.raises(StorageError) as err:
        get_storage(url, timeout=2)
    assert "s3cr3t-pw" not in str(err.value) and "alice:***@127.0.0.1" in str(err.value)
    assert "cannot connect" in str(err.value)


def test_a_corrupt_sqlite_file_is_one_clear_error_and_is_left_alone(tmp_path):
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(StorageError, match="not a readable SQLite database"):
        get_storage(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_a_locked_sqlite_file_is_one_clear_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    store = get_storage(url)
    info = store.create_study("s", "minimize", {})
    con = sqlite3.connect(tmp_path / "locked.db")
    con.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError, match="locked"):
            hpolab.create_study(ToyObjective("branin"), "random", storage=get_storage(url, timeout=0.2), study_name="t")
    finally:
        con.rollback()
        con.close()
    assert store.get_study("s").study_id == info.study_id  # nothing stored was lost


def test_a_study_of_another_hpolab_storage_format_is_refused(storage):
    info = storage.create_study(_name(), "minimize", {})
    storage.backend.set_study_system_attr(info.study_id, "hpolab:format", 99)
    with pytest.raises(StorageError, match="format 99"):
        storage.get_study(info.name)


def test_sqlite_commits_are_synced_to_disk(tmp_path):
    store = get_storage(f"sqlite:///{tmp_path / 'sync.db'}")
    rdb = store.backend._backend  # Optuna's cache wraps the RDBStorage
    with rdb.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_secrets_in_optimizer_options_are_never_stored(tmp_path):
    url = f"sqlite:///{tmp_path / 'secret.db'}"
    study = hpolab.create_study(
        ToyObjective("branin"), "tpe", storage=url, study_name="s", optimizer_kwargs={"n_startup_trials": 3}
    )
    attrs = study.storage.get_study("s").attrs
    assert attrs["optimizer_registry"]["kwargs"] == {"n_startup_trials": 3}
    from hpolab.study import _plain_kwargs

    stored = _plain_kwargs({"api_key": "sk-very-secret", "base_url": "http://127.0.0.1:1/v1", "client": object()})
    assert stored == {"api_key": "<secret: not stored>", "base_url": "http://127.0.0.1:1/v1", "client": "<object>"}
    assert "sk-very-secret" not in str(stored)


@pytest.mark.parametrize("n_queued", [40, pytest.param(200, marks=pytest.mark.slow)])
def test_queued_configs_run_once_each_with_parallel_workers_on_sqlite(tmp_path, n_queued):
    """Four worker processes on one SQLite queue: no trial is taken twice (SQLite has no row locks)."""
    study = hpolab.create_study(
        ToyObjective("branin"), "random", storage=f"sqlite:///{tmp_path / 'q.db'}", study_name="q", seed=0
    )
    queued = [{"x1": -5.0 + 15.0 * i / n_queued, "x2": 7.5} for i in range(n_queued)]
    for config in queued:
        study.enqueue_trial(config)
    study.optimize(n_trials=n_queued, n_jobs=4)
    records = study.trials
    assert [r.state for r in records] == [TrialState.COMPLETE] * n_queued
    assert sorted(r.config["x1"] for r in records) == [c["x1"] for c in queued]


def test_the_repair_command_repairs_a_journal_with_a_torn_line_inside(tmp_path, capsys):
    from hpolab.storage.__main__ import main

    path = tmp_path / "j.log"
    store = get_storage(f"journal:///{path}")
    info = store.create_study("s", "minimize", {})
    store.set_study_attrs(info.study_id, {"a": 1})
    store.set_study_attrs(info.study_id, {"b": 2})
    store.set_study_attrs(info.study_id, {"c": 3})
    lines = path.read_bytes().splitlines(keepends=True)
    lines[-3] = lines[-3][:-10]  # torn, with the next record appended after it
    path.write_bytes(b"".join(lines))
    with pytest.raises(StorageError, match=rf"line {len(lines) - 2} of {len(lines) - 1}.*repair"):
        get_storage(f"journal:///{path}")
    assert main(["repair", str(path)]) == 0
    assert f"removed line(s) {len(lines) - 2}" in capsys.readouterr().out
    assert get_storage(f"journal:///{path}").get_study("s").attrs == {"a": 1, "b": 2, "c": 3}
    assert main(["repair", str(path)]) == 0 and "nothing to repair" in capsys.readouterr().out
    assert main(["repair", str(tmp_path / "missing.log")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["fix", str(path)]) == 2


def test_a_torn_record_joined_to_the_last_complete_one_loses_nothing_on_open(tmp_path, caplog):
    path = tmp_path / "j.log"
    store = get_storage(f"journal:///{path}")
    info = store.create_study("s", "minimize", {})
    store.set_study_attrs(info.study_id, {"a": 1})
    store.set_study_attrs(info.study_id, {"b": 2})
    lines = path.read_bytes().splitlines(keepends=True)
    lines[-2] = lines[-2][:-10]  # the last line is now a torn record, then a complete one
    path.write_bytes(b"".join(lines))
    with caplog.at_level("WARNING", logger="hpolab.storage"):
        reopened = get_storage(f"journal:///{path}")
    assert f"cut {len(lines[-2])} bytes" in caplog.text
    assert reopened.get_study("s").attrs == {"a": 1, "b": 2}  # the complete record after the torn one is kept
    reopened.set_study_attrs(info.study_id, {"c": 3})
    assert get_storage(f"journal:///{path}").get_study("s").attrs == {"a": 1, "b": 2, "c": 3}


def test_a_scan_that_does_not_reread_running_trials_reads_them_as_states_on_a_database(kind, tmp_path):
    url = _url(kind, tmp_path)
    writer = get_storage(url)
    reader = writer if url is None else get_storage(url)
    info = writer.create_study(_name(), "minimize", {})
    n0, n1 = writer.create_trials(info.study_id, [Trial(-1, {"a": 0.1, "b": "x"})] * 2, SPACE, worker="w", seq=0)
    assert [f.number for f in reader.scan(info.study_id, 0)] == [n0, n1]  # a full read
    writer.stamp_running(info.study_id, n1, "v")  # n1 changes while it runs
    writer.record_tell(info.study_id, n0, TrialResult(0.5), worker="w", seq=1)
    (n2,) = writer.create_trials(info.study_id, [Trial(-1, {"a": 0.2, "b": "y"})], SPACE, worker="w", seq=2)
    database = kind in ("sqlite", "postgres")
    if database:  # a database's scan must not fall back to reading through Optuna's cache
        reader._scan_cached = None
    fast = reader.scan(info.study_id, n2, [n0, n1], reread_running=False)
    assert [f.number for f in fast] == [n0, n1, n2]
    assert hpolab.storage.to_record(fast[0]).value == 0.5  # a finished trial is read in full
    assert hpolab.storage.run_by(fast[1]) == ("w" if database else "v")  # as at the full read
    assert hpolab.storage.is_unread(fast[2]) is database  # never read in full: a placeholder
    assert fast[2].state is optuna.trial.TrialState.RUNNING
    full = reader.scan(info.study_id, n2, [n1])
    assert [hpolab.storage.run_by(f) for f in full] == ["v", "w"]
    assert not any(hpolab.storage.is_unread(f) for f in full)
    assert hpolab.storage.to_record(full[1]).config == {"a": 0.2, "b": "y"}
    writer.delete_study(info.name)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_database_scan_reads_trials_exactly_as_optuna_does(kind, tmp_path):
    storage = get_storage(_url(kind, tmp_path))
    name = _name()
    info = storage.create_study(name, "minimize", {})
    study = optuna.load_study(study_name=name, storage=storage.backend)
    dists = {
        "a": optuna.distributions.FloatDistribution(0.0, 1.0),
        "b": optuna.distributions.CategoricalDistribution(["x", "y"]),
        "c": optuna.distributions.IntDistribution(1, 64, log=True),
    }
    create = optuna.trial.create_trial
    study.add_trial(create(params={"a": 0.5, "b": "y", "c": 8}, distributions=dists, value=math.inf))
    study.add_trial(create(params={"a": 0.25}, distributions={"a": dists["a"]}, state=optuna.trial.TrialState.FAIL))
    pruned = create(
        params={"c": 3, "a": 0.1},
        distributions={"c": dists["c"], "a": dists["a"]},
        state=optuna.trial.TrialState.PRUNED,
        intermediate_values={0: 1.5, 3: math.nan, 4: -math.inf},
        user_attrs={"seed": 7, "note": [1, "two"]},
        system_attrs={"hpolab:trial": {"budget": 2.0}},
    )
    study.add_trial(pruned)
    study.enqueue_trial({"a": 0.75})
    (mine,) = storage.create_trials(info.study_id, [Trial(-1, {"a": 0.2, "b": "x"})], SPACE, worker="w", seq=0)
    storage.record_tell(info.study_id, mine, TrialResult(-0.5, runtime=1.0), worker="w", seq=1)
    storage.create_trials(info.study_id, [Trial(-1, {"a": 0.3, "b": "x"})], SPACE, worker="w", seq=2)
    fast = storage._scan_rows(info.study_id, 0, (), False)
    assert [f.state.name for f in fast] == ["COMPLETE", "FAIL", "PRUNED", "WAITING", "COMPLETE", "RUNNING"]
    assert hpolab.storage.is_unread(fast[-1])

    def plain(trial: optuna.trial.FrozenTrial) -> str:  # NaN reads equal to NaN
        return json.dumps(vars(trial), sort_keys=True, default=repr)

    full = storage._scan_rows(info.study_id, 0, (), True)  # the RUNNING trial too
    assert [plain(f) for f in fast[:-1]] == [plain(f) for f in full[:-1]]
    for frozen in full:
        optunas = storage.backend.get_trial(frozen._trial_id)
        assert plain(frozen) == plain(optunas)
        assert list(frozen.params) == list(optunas.params)
    storage.delete_study(name)
