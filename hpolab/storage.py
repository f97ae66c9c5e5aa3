"""Study storage: in memory, SQLite (a file) and PostgreSQL through the same SQL code.

A storage keeps, per study, the trials and the ordered event log (ask / tell / observe) that an
optimizer replays to resume. Every write is committed before the call returns, so a process
killed with SIGKILL loses at most the trial it was evaluating (which is evaluated again on resume).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpolab.trial import Trial, TrialRecord, TrialResult

__all__ = [
    "InMemoryStorage",
    "SQLStorage",
    "Storage",
    "StorageError",
    "StudyInfo",
    "get_storage",
]


class StorageError(ValueError):
    """A storage URL that cannot be used, or a study that does not exist / already exists."""


@dataclass
class StudyInfo:
    """What a storage keeps about a study besides its trials.

    Attributes:
        study_id: Storage-internal id.
        name: The study's unique name.
        direction: ``"minimize"`` or ``"maximize"``.
        attrs: JSON-serializable attributes (optimizer meta, objective name, search space...).
    """

    study_id: int
    name: str
    direction: str
    attrs: dict[str, Any] = field(default_factory=dict)


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, default=_json_default)


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def _clean(value: Any) -> Any:
    """Replace non-finite floats by None so the value is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class Storage(ABC):
    """Where studies live. Implementations commit every write before returning."""

    @abstractmethod
    def create_study(self, name: str, direction: str, attrs: Mapping[str, Any]) -> StudyInfo:
        """Create a study; raise StorageError if the name is taken."""

    @abstractmethod
    def get_study(self, name: str) -> StudyInfo | None:
        """The study called ``name``, or ``None``."""

    @abstractmethod
    def list_studies(self) -> list[StudyInfo]:
        """All studies, in creation order."""

    @abstractmethod
    def delete_study(self, name: str) -> None:
        """Delete a study and its trials."""

    @abstractmethod
    def set_study_attrs(self, study_id: int, attrs: Mapping[str, Any]) -> None:
        """Merge ``attrs`` into the study's attributes."""

    @abstractmethod
    def record_ask(self, study_id: int, trials: Sequence[Trial]) -> None:
        """Store asked trials as RUNNING (one ask event)."""

    @abstractmethod
    def record_tell(self, study_id: int, trial_id: int, result: TrialResult) -> None:
        """Store a trial's result (one tell event)."""

    @abstractmethod
    def record_observe(self, study_id: int, trial: Trial, result: TrialResult) -> None:
        """Store an observed (not asked) trial with its result (one observe event)."""

    @abstractmethod
    def get_trials(self, study_id: int) -> list[TrialRecord]:
        """All trials of a study, by id."""

    @abstractmethod
    def get_events(self, study_id: int) -> list[dict[str, Any]]:
        """The study's event log, in the format :meth:`hpolab.Optimizer.replay` takes."""


class InMemoryStorage(Storage):
    """Storage in this process's memory (the default; nothing survives the process)."""

    def __init__(self) -> None:
        self._studies: dict[str, StudyInfo] = {}
        self._trials: dict[int, dict[int, TrialRecord]] = {}
        self._events: dict[int, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def create_study(self, name: str, direction: str, attrs: Mapping[str, Any]) -> StudyInfo:
        with self._lock:
            if name in self._studies:
                raise StorageError(f"study {name!r} already exists; pass load_if_exists=True to continue it")
            info = StudyInfo(len(self._studies), name, direction, dict(attrs))
            self._studies[name] = info
            self._trials[info.study_id] = {}
            self._events[info.study_id] = []
            return info

    def get_study(self, name: str) -> StudyInfo | None:
        return self._studies.get(name)

    def list_studies(self) -> list[StudyInfo]:
        return list(self._studies.values())

    def delete_study(self, name: str) -> None:
        with self._lock:
            info = self._studies.pop(name, None)
            if info is None:
                raise StorageError(f"study {name!r} does not exist")
            self._trials.pop(info.study_id, None)
            self._events.pop(info.study_id, None)

    def set_study_attrs(self, study_id: int, attrs: Mapping[str, Any]) -> None:
        for info in self._studies.values():
            if info.study_id == study_id:
                info.attrs.update(attrs)

    def record_ask(self, study_id: int, trials: Sequence[Trial]) -> None:
        now = time.time()
        with self._lock:
            for t in trials:
                self._trials[study_id][t.id] = TrialRecord(t, None, now)
            self._events[study_id].append({"ask": [t.to_dict() for t in trials]})

    def record_tell(self, study_id: int, trial_id: int, result: TrialResult) -> None:
        with self._lock:
            old = self._trials[study_id][trial_id]
            self._trials[study_id][trial_id] = TrialRecord(old.trial, result, old.datetime_start, time.time())
            self._events[study_id].append({"tell": trial_id, "result": result.to_dict()})

    def record_observe(self, study_id: int, trial: Trial, result: TrialResult) -> None:
        now = time.time()
        with self._lock:
            self._trials[study_id][trial.id] = TrialRecord(trial, result, now, now)
            self._events[study_id].append({"observe": trial.to_dict(), "result": result.to_dict()})

    def get_trials(self, study_id: int) -> list[TrialRecord]:
        return [self._trials[study_id][k] for k in sorted(self._trials[study_id])]

    def get_events(self, study_id: int) -> list[dict[str, Any]]:
        return list(self._events[study_id])


_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS hpolab_studies (
        study_id INTEGER PRIMARY KEY {autoinc},
        name TEXT UNIQUE NOT NULL,
        direction TEXT NOT NULL,
        attrs TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS hpolab_trials (
        study_id INTEGER NOT NULL,
        trial_id INTEGER NOT NULL,
        config TEXT NOT NULL,
        budget DOUBLE PRECISION,
        seed BIGINT,
        metadata TEXT NOT NULL,
        state TEXT NOT NULL,
        value DOUBLE PRECISION,
        cost DOUBLE PRECISION,
        info TEXT,
        datetime_start DOUBLE PRECISION,
        datetime_complete DOUBLE PRECISION,
        PRIMARY KEY (study_id, trial_id))""",
    """CREATE TABLE IF NOT EXISTS hpolab_events (
        study_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        trial_ids TEXT NOT NULL,
        PRIMARY KEY (study_id, seq))""",
]


class SQLStorage(Storage):
    """SQLite (``sqlite:///path.db``) or PostgreSQL (``postgresql://...``) storage.

    SQLite runs in WAL mode with a busy timeout, so several processes can share one file
    (each write is a short transaction). PostgreSQL needs ``pip install "hpolab[postgres]"``.

    Args:
        url: ``sqlite:///relative/or/absolute.db``, ``sqlite:///:memory:`` or ``postgresql://user@host/db``.
        timeout: Seconds to wait for a lock held by another process.
    """

    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        self.url = url
        self._lock = threading.RLock()
        if url.startswith("sqlite://"):
            path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
            if not path:
                raise StorageError(f"storage: {url!r} has no path; use sqlite:///file.db")
            if path != ":memory:":
                parent = Path(path).expanduser().resolve().parent
                try:
                    parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StorageError(f"storage: cannot create the folder {parent} for {url!r} ({exc})") from exc
            try:
                self._conn: Any = sqlite3.connect(path, timeout=timeout, check_same_thread=False, isolation_level=None)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise StorageError(f"storage: cannot open {url!r} ({exc}); check the path is writable") from exc
            self._param = "?"
            self._autoinc = "AUTOINCREMENT"
            self._kind = "sqlite"
        elif url.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg
            except ImportError as exc:
                raise ImportError('PostgreSQL storage needs psycopg: pip install "hpolab[postgres]"') from exc
            try:
                self._conn = psycopg.connect(url, autocommit=True)
            except Exception as exc:
                raise StorageError(
                    f"storage: cannot connect to the PostgreSQL server ({type(exc).__name__}: {exc})"
                ) from exc
            self._param = "%s"
            self._autoinc = ""
            self._kind = "postgres"
        else:
            raise StorageError(
                f"storage: {url!r} is not a storage URL; use sqlite:///file.db, postgresql://... or None (in memory)"
            )
        try:
            with self._tx() as cur:
                for stmt in _SCHEMA:
                    sql = stmt.format(autoinc=self._autoinc)
                    if self._kind == "postgres":
                        sql = sql.replace("INTEGER PRIMARY KEY ", "SERIAL PRIMARY KEY ")
                    cur.execute(sql)
        except sqlite3.OperationalError as exc:
            raise StorageError(f"storage: cannot write to {url!r} ({exc}); check the path is writable") from exc

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"SQLStorage({self.url!r})"

    def _q(self, sql: str) -> str:
        return sql if self._param == "?" else sql.replace("?", "%s")

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            if self._kind == "sqlite":
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield cur
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
                cur.execute("COMMIT")
            else:
                with self._conn.transaction():
                    yield cur

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(self._q(sql), tuple(params))
            return list(cur.fetchall())

    def create_study(self, name: str, direction: str, attrs: Mapping[str, Any]) -> StudyInfo:
        if self.get_study(name) is not None:
            raise StorageError(f"study {name!r} already exists in {self.url}; pass load_if_exists=True to continue it")
        with self._tx() as cur:
            cur.execute(
                self._q("INSERT INTO hpolab_studies (name, direction, attrs, created) VALUES (?, ?, ?, ?)"),
                (name, direction, _dumps(_clean(dict(attrs))), time.time()),
            )
        info = self.get_study(name)
        if info is None:  # pragma: no cover - the insert above committed
            raise StorageError(f"study {name!r} could not be created in {self.url}")
        return info

    def get_study(self, name: str) -> StudyInfo | None:
        rows = self._fetch("SELECT study_id, name, direction, attrs FROM hpolab_studies WHERE name = ?", (name,))
        if not rows:
            return None
        sid, nm, direction, attrs = rows[0]
        return StudyInfo(int(sid), nm, direction, json.loads(attrs))

    def list_studies(self) -> list[StudyInfo]:
        rows = self._fetch("SELECT study_id, name, direction, attrs FROM hpolab_studies ORDER BY study_id")
        return [StudyInfo(int(s), n, d, json.loads(a)) for s, n, d, a in rows]

    def delete_study(self, name: str) -> None:
        info = self.get_study(name)
        if info is None:
            raise StorageError(f"study {name!r} does not exist in {self.url}")
        with self._tx() as cur:
            for table in ("hpolab_trials", "hpolab_events", "hpolab_studies"):
                cur.execute(self._q(f"DELETE FROM {table} WHERE study_id = ?"), (info.study_id,))

    def set_study_attrs(self, study_id: int, attrs: Mapping[str, Any]) -> None:
        with self._tx() as cur:
            cur.execute(self._q("SELECT attrs FROM hpolab_studies WHERE study_id = ?"), (study_id,))
            current = json.loads(cur.fetchone()[0])
            current.update(_clean(dict(attrs)))
            cur.execute(self._q("UPDATE hpolab_studies SET attrs = ? WHERE study_id = ?"), (_dumps(current), study_id))

    def _next_seq(self, cur: Any, study_id: int) -> int:
        cur.execute(self._q("SELECT COALESCE(MAX(seq), -1) + 1 FROM hpolab_events WHERE study_id = ?"), (study_id,))
        return int(cur.fetchone()[0])

    def _insert_trial(self, cur: Any, study_id: int, trial: Trial, result: TrialResult | None, now: float) -> None:
        res = result.to_dict() if result is not None else None
        cur.execute(
            self._q(
                "INSERT INTO hpolab_trials (study_id, trial_id, config, budget, seed, metadata, state, value, cost, "
                "info, datetime_start, datetime_complete) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                study_id,
                trial.id,
                _dumps(_clean(trial.config)),
                trial.budget,
                trial.seed,
                _dumps(_clean(trial.metadata)),
                "RUNNING" if res is None else res["state"],
                None if res is None else res["value"],
                None if res is None else res["cost"],
                None if res is None else _dumps(_clean(res["info"])),
                now,
                None if res is None else now,
            ),
        )

    def record_ask(self, study_id: int, trials: Sequence[Trial]) -> None:
        now = time.time()
        with self._tx() as cur:
            for t in trials:
                self._insert_trial(cur, study_id, t, None, now)
            cur.execute(
                self._q("INSERT INTO hpolab_events (study_id, seq, kind, trial_ids) VALUES (?, ?, ?, ?)"),
                (study_id, self._next_seq(cur, study_id), "ask", _dumps([t.id for t in trials])),
            )

    def record_tell(self, study_id: int, trial_id: int, result: TrialResult) -> None:
        res = result.to_dict()
        with self._tx() as cur:
            cur.execute(
                self._q(
                    "UPDATE hpolab_trials SET state = ?, value = ?, cost = ?, info = ?, datetime_complete = ? "
                    "WHERE study_id = ? AND trial_id = ?"
                ),
                (res["state"], res["value"], res["cost"], _dumps(_clean(res["info"])), time.time(), study_id, trial_id),
            )
            cur.execute(
                self._q("INSERT INTO hpolab_events (study_id, seq, kind, trial_ids) VALUES (?, ?, ?, ?)"),
                (study_id, self._next_seq(cur, study_id), "tell", _dumps([trial_id])),
            )

    def record_observe(self, study_id: int, trial: Trial, result: TrialResult) -> None:
        with self._tx() as cur:
            self._insert_trial(cur, study_id, trial, result, time.time())
            cur.execute(
                self._q("INSERT INTO hpolab_events (study_id, seq, kind, trial_ids) VALUES (?, ?, ?, ?)"),
                (study_id, self._next_seq(cur, study_id), "observe", _dumps([trial.id])),
            )

    def get_trials(self, study_id: int) -> list[TrialRecord]:
        rows = self._fetch(
            "SELECT trial_id, config, budget, seed, metadata, state, value, cost, info, datetime_start, "
            "datetime_complete FROM hpolab_trials WHERE study_id = ? ORDER BY trial_id",
            (study_id,),
        )
        out = []
        for tid, config, budget, seed, metadata, state, value, cost, info, start, done in rows:
            trial = Trial(int(tid), json.loads(config), budget, seed, json.loads(metadata))
            result = None
            if state != "RUNNING":
                result = TrialResult.from_dict(
                    {"value": value, "state": state, "cost": cost, "info": json.loads(info) if info else {}}
                )
            out.append(TrialRecord(trial, result, start, done))
        return out

    def get_events(self, study_id: int) -> list[dict[str, Any]]:
        records = {r.id: r for r in self.get_trials(study_id)}
        rows = self._fetch("SELECT kind, trial_ids FROM hpolab_events WHERE study_id = ? ORDER BY seq", (study_id,))
        events: list[dict[str, Any]] = []
        for kind, ids_text in rows:
            ids = json.loads(ids_text)
            if kind == "ask":
                events.append({"ask": [records[i].trial.to_dict() for i in ids]})
            else:
                rec = records[ids[0]]
                if rec.result is None:
                    raise StorageError(f"trial {ids[0]}: a {kind} event without a result; the storage is corrupt")
                if kind == "tell":
                    events.append({"tell": rec.id, "result": rec.result.to_dict()})
                else:
                    events.append({"observe": rec.trial.to_dict(), "result": rec.result.to_dict()})
        return events

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def get_storage(storage: Storage | str | None) -> Storage:
    """Return a Storage for ``None`` (in memory), a URL string, or a Storage.

    Raises:
        StorageError: If the URL cannot be used.
    """
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, Storage):
        return storage
    if isinstance(storage, (str, Path)):
        return SQLStorage(str(storage))
    raise StorageError(f"storage: {storage!r} is not a URL or a Storage; use e.g. 'sqlite:///runs.db'")
