"""The storage fault suite: what hpolab's storage layer survives, on every storage.

Subclass :class:`StorageFaultTestCase` in a pytest module and every case runs on memory, a
journal file, SQLite and PostgreSQL (where ``HPOLAB_TEST_POSTGRES_URL`` names a server; the
PostgreSQL cases skip and say so elsewhere)::

    from hpolab.testing import StorageFaultTestCase

    class TestStorageFaults(StorageFaultTestCase):
        pass

Override the ``storage_url`` fixture to run the suite on another storage (it returns a URL, or
``None`` for memory). The cases: of many workers popping one queue or reaping one dead worker's
trials at once, exactly one wins each trial; trials written without hpolab (Optuna's
``enqueue_trial``, a plain Optuna sampler, unreadable hpolab attributes) decode and never stop
a study from opening; a torn journal line is cut back (at its end) or named with its repair (inside);
a worker in another PID namespace goes by its heartbeat, a zombie is dead, and worker records of
older versions load.
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import os
import queue
import random
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest

from hpolab.storage import Storage, StorageError, WorkerInfo, get_storage, is_foreign, repair_journal, to_record
from hpolab.trial import Trial, TrialResult, TrialState

__all__ = ["StorageFaultTestCase"]

_KINDS = ("memory", "journal", "sqlite", "postgresql")


def _space() -> Any:
    from hpolab.space import SearchSpace

    return SearchSpace({"x": (0.0, 1.0), "c": ["a", "b"]})


def _pop_all(storage: Storage, study_id: int) -> list[int]:
    won = []
    while (popped := storage.pop_waiting(study_id)) is not None:
        won.append(popped[0])
    return won


def _reap_all(storage: Storage, study_id: int, numbers: list[int]) -> list[int]:
    order = list(numbers)
    random.Random().shuffle(order)
    return [n for n in order if storage.fail_stale(study_id, n, "worker w died")]


def _child(url: str, study_id: int, action: str, numbers: list[int], start: Any, out: Any) -> None:
    storage = get_storage(url)
    start.wait()
    won = _pop_all(storage, study_id) if action == "pop" else _reap_all(storage, study_id, numbers)
    out.put(won)


def _compete(storage: Storage, study_id: int, action: str, n_workers: int, numbers: list[int]) -> list[int]:
    """Every trial number won by ``n_workers`` workers doing ``action`` at once (processes where possible)."""
    results: list[int] = []
    if storage.url is None:  # memory: threads of this process share the one storage
        barrier = threading.Barrier(n_workers)
        out: queue.Queue[list[int]] = queue.Queue()

        def work() -> None:
            barrier.wait()
            out.put(_pop_all(storage, study_id) if action == "pop" else _reap_all(storage, study_id, numbers))

        threads = [threading.Thread(target=work) for _ in range(n_workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        while not out.empty():
            results.extend(out.get())
        return results
    methods = multiprocessing.get_all_start_methods()
    context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    start = context.Event()
    mp_out = context.Queue()
    processes = [
        context.Process(target=_child, args=(storage.url, study_id, action, numbers, start, mp_out))
        for _ in range(n_workers)
    ]
    for process in processes:
        process.start()
    start.set()
    for _ in processes:
        results.extend(mp_out.get(timeout=120))
    for process in processes:
        process.join(30)
    assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]
    return results


def _fake_worker(storage: Storage, study_id: int, **fields: Any) -> WorkerInfo:
    """Write a worker record as a worker with ``fields`` would (other fields: this process's)."""
    key = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    record = {"slot": 7, "host": socket.gethostname(), "pid": os.getpid(), "pid_start": None, **fields}
    heartbeat = record.pop("heartbeat", time.time())
    storage.backend.set_study_system_attr(study_id, "hpolab:worker:" + key, record)
    storage.backend.set_study_system_attr(study_id, "hpolab:heartbeat:" + key, heartbeat)
    return next(w for w in storage.workers(study_id) if w.key == key)


def _unused_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


class StorageFaultTestCase:
    """Base class of the storage fault suite (see the module docstring)."""

    #: Trials queued for the concurrent pop, and trials left RUNNING for the concurrent reaping.
    n_queued: ClassVar[int] = 100
    n_reaped: ClassVar[int] = 60
    #: Workers (processes; threads for memory) racing for them: four times the cores of a small CI
    #: machine, so that the operating system also switches workers in the middle of a claim.
    n_workers: ClassVar[int] = 8

    @pytest.fixture(params=_KINDS)
    def storage_url(self, request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
        """The storage each case runs on: a URL, or None for memory."""
        kind = request.param
        if kind == "memory":
            return None
        if kind == "journal":
            return f"journal:///{tmp_path / 'faults.log'}"
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / 'faults.db'}"
        url = os.environ.get("HPOLAB_TEST_POSTGRES_URL")
        if not url:
            pytest.skip("no PostgreSQL server: set HPOLAB_TEST_POSTGRES_URL=postgresql://user:pw@host/db")
        pytest.importorskip("psycopg", reason='PostgreSQL storage needs pip install "hpolab[postgres]"')
        return url

    @pytest.fixture
    def storage(self, storage_url: str | None) -> Storage:
        """The storage opened from :meth:`storage_url`."""
        return get_storage(storage_url)

    @staticmethod
    def _study(storage: Storage) -> int:
        return storage.create_study(f"faults-{uuid.uuid4().hex[:10]}", "minimize", {}).study_id

    @staticmethod
    def _journal_only(storage_url: str | None) -> Path:
        if storage_url is None or not storage_url.startswith("journal:///"):
            pytest.skip("a journal-file case")
        return Path(storage_url[len("journal:///") :])

    # ----------------------------------------------------------------- the queue and reaping
    def test_each_queued_trial_is_popped_by_exactly_one_worker(self, storage: Storage) -> None:
        study_id = self._study(storage)
        space = _space()
        queued = [
            storage.enqueue(study_id, Trial(-1, {"x": i / self.n_queued, "c": "a"}), space)
            for i in range(self.n_queued)
        ]
        won = _compete(storage, study_id, "pop", self.n_workers, [])
        twice = [n for n, count in collections.Counter(won).items() if count > 1]
        assert not twice, f"trials popped by more than one worker: {sorted(twice)}"
        assert sorted(won) == sorted(queued)
        assert storage.pop_waiting(study_id) is None

    def test_each_dead_workers_trial_is_reaped_by_exactly_one_worker(self, storage: Storage) -> None:
        study_id = self._study(storage)
        trials = [Trial(-1, {"x": i / self.n_reaped, "c": "b"}) for i in range(self.n_reaped)]
        numbers = storage.create_trials(study_id, trials, _space(), worker="w", seq=0)
        won = _compete(storage, study_id, "reap", self.n_workers, numbers)
        twice = [n for n, count in collections.Counter(won).items() if count > 1]
        assert not twice, f"trials reaped by more than one worker (each would be retried twice): {sorted(twice)}"
        assert sorted(won) == sorted(numbers)
        records = storage.get_trials(study_id)
        assert all(r.state is TrialState.FAIL and r.info["error"] == "worker w died" for r in records)
        assert not storage.fail_stale(study_id, numbers[0], "again")

    def test_a_finished_trial_is_neither_popped_nor_reaped_nor_failed(self, storage: Storage) -> None:
        study_id = self._study(storage)
        (number,) = storage.create_trials(study_id, [Trial(-1, {"x": 0.5, "c": "a"})], _space(), worker="w", seq=0)
        storage.record_tell(study_id, number, TrialResult(1.0), worker="w", seq=1)
        assert not storage.fail_stale(study_id, number, "late")
        assert not storage.fail_trial(study_id, number, "late")
        assert storage.pop_waiting(study_id) is None
        assert storage.get_trials(study_id)[0].value == 1.0

    def test_results_round_trip_and_never_land_on_a_reaped_trial(self, storage: Storage) -> None:
        import optuna

        name = f"faults-{uuid.uuid4().hex[:10]}"
        study_id = storage.create_study(name, "minimize", {}).study_id
        trials = [Trial(-1, {"x": i / 4, "c": "a"}) for i in range(4)]
        a, b, c, d = storage.create_trials(study_id, trials, _space(), worker="w", seq=0)
        storage.record_tell(study_id, a, TrialResult(0.3, TrialState.PRUNED, runtime=2.0), worker="w", seq=1)
        storage.record_tell(study_id, b, TrialResult(-1e300, info={"note": "big"}), worker="w", seq=2)
        storage.record_tell(study_id, c, TrialResult.fail("boom"), worker="w", seq=3)
        assert storage.fail_stale(study_id, d, "worker w died")
        with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
            storage.record_tell(study_id, d, TrialResult(1.0), worker="w", seq=4)
        records = storage.get_trials(study_id)
        assert [r.state for r in records] == [TrialState.PRUNED, TrialState.COMPLETE, TrialState.FAIL, TrialState.FAIL]
        assert records[0].value == 0.3 and records[0].result is not None and records[0].result.runtime == 2.0
        assert records[1].value == -1e300 and records[1].info["note"] == "big"
        assert records[2].info["error"] == "boom" and records[3].info["error"] == "worker w died"
        plain = optuna.load_study(study_name=name, storage=storage.backend).trials
        assert plain[0].intermediate_values == {0: 0.3} and plain[1].values == [-1e300]
        assert plain[2].values is None and plain[3].values is None

    # ----------------------------------------------------------------- foreign trials
    def test_a_trial_enqueued_through_optuna_pops_with_its_fixed_params(self, storage: Storage) -> None:
        import optuna

        name = f"faults-{uuid.uuid4().hex[:10]}"
        study_id = storage.create_study(name, "minimize", {}).study_id
        plain = optuna.load_study(study_name=name, storage=storage.backend)
        plain.enqueue_trial({"x": 0.25})  # partial: "c" is for the study to complete
        plain.enqueue_trial({"x": 7.0, "c": "zzz"})  # does not fit the space: for the study to fail
        first = storage.pop_waiting(study_id)
        second = storage.pop_waiting(study_id)
        assert first is not None and second is not None
        assert first[1].config == {"x": 0.25} and first[1].metadata == {"enqueued": True, "foreign": True}
        assert second[1].config == {"x": 7.0, "c": "zzz"} and first[2] is None
        assert storage.fail_trial(study_id, second[0], "x: 7.0 is above the upper bound 1.0")
        completed = Trial(first[0], {"x": 0.25, "c": "a"}, metadata={"enqueued": True})
        storage.set_trial_config(study_id, first[0], completed, _space())
        storage.record_tell(study_id, first[0], TrialResult(0.5), worker="w", seq=0, observe=True)
        records = storage.get_trials(study_id)
        assert records[0].config == {"x": 0.25, "c": "a"} and records[0].value == 0.5
        assert records[1].state is TrialState.FAIL and "upper bound" in records[1].info["error"]
        assert next(t.params for t in plain.trials) == {"x": 0.25, "c": "a"}

    def test_trials_written_without_hpolab_decode_and_never_raise(self, storage: Storage) -> None:
        import optuna

        name = f"faults-{uuid.uuid4().hex[:10]}"
        study_id = storage.create_study(name, "minimize", {}).study_id
        plain = optuna.load_study(study_name=name, storage=storage.backend)
        plain.optimize(lambda t: t.suggest_float("x", 0, 5) + t.suggest_int("other", 0, 3), n_trials=2)
        trial = plain.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        plain.tell(trial, state=optuna.trial.TrialState.FAIL)
        # hpolab attributes of the wrong shape (another tool, a hand edit) read as missing
        bad = plain.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        storage.backend.set_trial_system_attr(
            bad._trial_id, "hpolab:trial", {"seed": "s", "metadata": 3, "budget": "b"}
        )
        storage.backend.set_trial_system_attr(bad._trial_id, "hpolab:result", ["not", "a", "mapping"])
        plain.tell(bad, 0.1)
        frozen = storage.frozen_trials(study_id)
        assert [is_foreign(f) for f in frozen] == [True, True, True, False]
        records = [to_record(f) for f in frozen]
        assert all(r is not None for r in records)
        assert records[0] is not None and records[0].metadata == {"foreign": True} and "other" in records[0].config
        assert records[2] is not None and records[2].state is TrialState.FAIL
        assert records[3] is not None and records[3].value == 0.1 and records[3].trial.seed is None
        assert len(storage.get_trials(study_id)) == 4
        assert storage.get_events(study_id) == []  # no foreign trial is in an hpolab worker's log

    # ----------------------------------------------------------------- liveness
    def test_a_worker_in_another_pid_namespace_goes_by_its_heartbeat(self, storage: Storage) -> None:
        study_id = self._study(storage)
        me = storage.register_worker(study_id)
        assert me.boot_id is not None or not Path("/proc/sys/kernel/random/boot_id").exists()
        fresh = _fake_worker(storage, study_id, pid=_unused_pid(), boot_id=me.boot_id, pid_ns="pid:[1]")
        assert storage.is_alive(fresh)  # its pid means nothing here: a container sharing the host name
        stale = _fake_worker(
            storage, study_id, pid=os.getpid(), boot_id=me.boot_id, pid_ns="pid:[1]", heartbeat=time.time() - 3600
        )
        assert not storage.is_alive(stale)  # this pid runs here, but the heartbeat is what counts
        rebooted = _fake_worker(storage, study_id, pid=os.getppid(), boot_id="another-boot", pid_ns=me.pid_ns)
        assert storage.is_alive(rebooted)
        local = _fake_worker(storage, study_id, pid=_unused_pid(), boot_id=me.boot_id, pid_ns=me.pid_ns)
        assert (not storage.is_alive(local)) or me.pid_ns is None  # same machine and namespace: its pid is gone

    def test_worker_records_without_boot_or_namespace_ids_load(self, storage: Storage) -> None:
        study_id = self._study(storage)
        old = _fake_worker(storage, study_id, pid=_unused_pid())
        assert (old.boot_id, old.pid_ns, old.slot) == (None, None, 7)
        assert storage.is_alive(old)  # judged by its fresh heartbeat, as on another host
        gone = _fake_worker(storage, study_id, pid=_unused_pid(), heartbeat=time.time() - 3600)
        assert not storage.is_alive(gone)

    @pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc/self/stat").exists(), reason="needs fork and /proc")
    def test_a_zombie_worker_is_dead(self, storage: Storage) -> None:
        study_id = self._study(storage)
        me = storage.register_worker(study_id)
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        try:
            for _ in range(500):  # until it has exited (its parent, this process, has not reaped it)
                with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                    if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
                time.sleep(0.01)
            zombie = _fake_worker(storage, study_id, pid=pid, boot_id=me.boot_id, pid_ns=me.pid_ns)
            assert not storage.is_alive(zombie)
        finally:
            os.waitpid(pid, 0)

    # ----------------------------------------------------------------- torn journal lines
    def test_a_torn_last_journal_line_is_cut_and_the_study_goes_on(
        self, storage_url: str | None, caplog: pytest.LogCaptureFixture
    ) -> None:
        import hpolab
        from hpolab.objectives import ToyObjective

        path = self._journal_only(storage_url)
        study = hpolab.create_study(ToyObjective("branin"), "tpe", storage=storage_url, study_name="torn", seed=0)
        study.optimize(n_trials=6)
        before = [(r.id, r.value) for r in study.trials if r.state is TrialState.COMPLETE]
        study.storage.close()
        data = path.read_bytes()
        last = data[data.rstrip(b"\n").rfind(b"\n") + 1 :]
        assert len(last) > 40 and json.loads(last)["op_code"] == 3  # the cut tears the worker's last record only
        path.write_bytes(data[:-40])
        with caplog.at_level("WARNING", logger="hpolab.storage"):
            resumed = hpolab.create_study(
                ToyObjective("branin"), "tpe", storage=storage_url, study_name="torn", seed=0, load_if_exists=True
            )
        assert f"cut {len(last) - 40} bytes" in caplog.text  # what was left of the torn record
        assert [(r.id, r.value) for r in resumed.trials if r.state is TrialState.COMPLETE] == before
        resumed.optimize(n_trials=3)
        again = get_storage(storage_url)
        info = again.get_study("torn")
        assert info is not None
        assert sum(r.state is TrialState.COMPLETE for r in again.get_trials(info.study_id)) == len(before) + 3

    def test_an_append_after_a_torn_write_does_not_join_it(self, storage_url: str | None) -> None:
        path = self._journal_only(storage_url)
        storage = get_storage(storage_url)
        study_id = self._study(storage)
        with open(path, "ab") as fh:  # a writer killed in the middle of its append
            fh.write(b'{"op_code":3,"worker_id":"dead","study_id":0,"system_attr":{"hpolab:x')
        storage.set_study_attrs(study_id, {"after": 1})  # a live worker appends next
        assert path.read_bytes().endswith(b"\n")
        reopened = get_storage(storage_url)
        assert reopened.list_studies()[0].attrs == {"after": 1}

    def test_a_torn_line_inside_a_journal_is_named_and_repaired(self, storage_url: str | None) -> None:
        path = self._journal_only(storage_url)
        storage = get_storage(storage_url)
        study_id = self._study(storage)
        numbers = storage.create_trials(study_id, [Trial(-1, {"x": 0.1, "c": "a"})], _space(), worker="w", seq=0)
        storage.set_study_attrs(study_id, {"note": "kept"})
        storage.record_tell(study_id, numbers[0], TrialResult(2.0), worker="w", seq=1)
        lines = path.read_bytes().splitlines(keepends=True)
        torn = next(i for i, line in enumerate(lines) if b'"note"' in line)  # 0-based
        lines[torn] = lines[torn][: len(lines[torn]) // 2]  # torn, and the next record appended right after it
        path.write_bytes(b"".join(lines))
        with pytest.raises(
            StorageError, match=rf"line {torn + 1} of {len(lines) - 1}\b.*python -m hpolab.storage repair"
        ):
            get_storage(storage_url)
        assert repair_journal(path) == [torn + 1]
        assert Path(str(path) + ".bak").exists()
        repaired = get_storage(storage_url)
        (record,) = repaired.get_trials(repaired.list_studies()[0].study_id)
        assert record.value == 2.0  # the record joined to the torn line was kept
        assert repair_journal(path) == []
