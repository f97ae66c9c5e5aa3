"""hpolab's view of an Optuna storage: opening URLs, studies, trials, the queue and workers."""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import os
import random
import re
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab.exceptions import StorageError
from hpolab.storage._codec import (
    _ATTEMPT,
    _ATTRS,
    _FORMAT,
    _HEARTBEAT,
    _RESULT,
    _RETRY_OF,
    _RUN_BY,
    _STALE,
    _TRIAL,
    _UNREAD,
    _WORKER,
    STORAGE_FORMAT,
    _json_safe,
    _trial_of,
    to_record,
)
from hpolab.storage._liveness import _HELD, NO_SLOT, WorkerInfo, _worker_of, this_worker, worker_alive, worker_record
from hpolab.trial import Trial, TrialRecord, TrialResult, TrialState

if TYPE_CHECKING:
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

    from hpolab.space import SearchSpace

__all__ = ["Storage", "StorageError", "StudyInfo", "get_storage", "redact_url"]

_logger = logging.getLogger("hpolab.storage")


def redact_url(url: Any) -> str:
    """``url`` with its password, user-info token and secret query values as ``***`` (for messages, reprs, logs)."""
    from hpolab._secrets import redact_url as redact

    return redact(url)


def _password(url: str) -> str | None:
    match = re.search(r"[a-zA-Z][\w+.-]*://[^:/@\s]*:(?P<pw>[^@\s]*)@", url)
    return match.group("pw") if match and match.group("pw") else None


@dataclass
class StudyInfo:
    """What a storage keeps about a study besides its trials.

    Attributes:
        study_id: Optuna's study id.
        name: The study's unique name.
        direction: ``"minimize"`` or ``"maximize"``.
        attrs: JSON-serializable attributes (optimizer meta, objective name, search space...).
    """

    study_id: int
    name: str
    direction: str
    attrs: dict[str, Any] = field(default_factory=dict)


def _classify_open_error(exc: BaseException, url: str) -> StorageError:
    """One clear error for a storage that cannot be opened."""
    shown = redact_url(url)
    text = str(exc)
    password = _password(url)
    if password:
        text = text.replace(password, "***")
    text = redact_url(text).splitlines()[0] if text else type(exc).__name__
    low = text.lower()
    if "database is locked" in low:
        return StorageError(
            f"storage {shown}: the SQLite file is locked by another process for longer than the timeout; "
            "wait for it, or use a journal file (journal:///path.log) or PostgreSQL for many writers"
        )
    if "file is not a database" in low or "malformed" in low:
        return StorageError(
            f"storage {shown}: the file is not a readable SQLite database (corrupt or another format); "
            "point the URL at another file, or restore it from a backup (nothing was written to it)"
        )
    if "no longer compatible" in low or ("schema" in low and "version" in low):
        return StorageError(
            f"storage {shown}: its database schema was written by another Optuna version ({text}); "
            f"upgrade it with `optuna storage upgrade --storage URL`, then open it again"
        )
    if "unable to open database file" in low or "permission denied" in low or "read-only" in low:
        return StorageError(
            f"storage {shown}: cannot create or write the database file ({text}); choose a writable path"
        )
    if "could not connect" in low or "connection refused" in low or "operationalerror" in low or "timeout" in low:
        return StorageError(
            f"storage {shown}: cannot connect ({text}); check that the database server runs and the URL's "
            "host, port, user and password are right"
        )
    if "failed to import db access module" in low or isinstance(exc, ModuleNotFoundError):
        return StorageError(
            f"storage {shown}: the database driver is not installed; for PostgreSQL "
            'pip install "hpolab[postgres]", for MySQL pip install PyMySQL and use mysql+pymysql://'
        )
    if isinstance(exc, ModuleNotFoundError):
        return StorageError(
            f'storage {shown}: needs the driver module {exc.name!r}; pip install "hpolab[postgres]" for PostgreSQL'
        )
    return StorageError(f"storage {shown}: cannot be opened ({type(exc).__name__}: {text})")


class Storage:
    """hpolab's view of an Optuna storage (``optuna.storages.BaseStorage``).

    Build one with :func:`get_storage`. It is picklable: a worker process reopens the same URL.

    Args:
        backend: An Optuna storage.
        url: The URL it was opened from (``None`` for an in-memory storage).
    """

    def __init__(self, backend: BaseStorage, url: str | None = None) -> None:
        self.backend = backend
        self.url = url
        self._numbers: dict[tuple[int, int], int] = {}  # (study_id, number) -> Optuna trial_id
        self._rdb = _rdb_of(backend)  # an RDB storage's queue and reaping use conditional updates
        self._running: dict[int, dict[int, FrozenTrial]] = {}  # study_id -> number -> last full read while RUNNING

    # ------------------------------------------------------------------ basics
    @property
    def persistent(self) -> bool:
        """Whether other processes can open this storage (everything but in-memory)."""
        return self.url is not None

    def __getstate__(self) -> dict[str, Any]:
        if self.url is None:
            raise StorageError("an in-memory storage cannot be sent to another process; use a URL (sqlite:///...)")
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        other = get_storage(state["url"])
        self.__dict__.update(other.__dict__)

    def __repr__(self) -> str:
        return f"Storage({redact_url(self.url) if self.url else 'memory'})"

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn a database failure inside Optuna into one clear StorageError naming the (redacted) URL."""
        import optuna

        try:
            yield
        except optuna.exceptions.StorageInternalError as exc:
            raise _classify_open_error(exc.__cause__ or exc, self.url or "memory") from None
        except Exception as exc:
            if type(exc).__module__.startswith(("sqlalchemy", "sqlite3", "psycopg")):
                raise _classify_open_error(exc, self.url or "memory") from None
            raise

    # ------------------------------------------------------------------ studies
    def create_study(self, name: str, direction: str, attrs: Mapping[str, Any]) -> StudyInfo:
        """Create a study; raise StorageError if the name is taken."""
        import optuna
        from optuna.study import StudyDirection

        dirs = [StudyDirection.MAXIMIZE if direction == "maximize" else StudyDirection.MINIMIZE]
        # Optuna announces every new study at INFO through its own stderr handler; hpolab's
        # study is the user's, created on purpose, so that one announcement is not repeated.
        announcer = logging.getLogger("optuna")
        level = announcer.level
        announcer.setLevel(logging.WARNING)
        try:
            with self._errors():
                study_id = self.backend.create_new_study(dirs, study_name=name)
        except optuna.exceptions.DuplicatedStudyError:
            raise StorageError(f"study {name!r} already exists; pass load_if_exists=True to continue it") from None
        finally:
            announcer.setLevel(level)
        self.backend.set_study_system_attr(study_id, _FORMAT, STORAGE_FORMAT)
        self.backend.set_study_system_attr(study_id, _ATTRS, _json_safe(dict(attrs)))
        for key in ("objective", "optimizer_name"):
            if key in attrs:
                self.backend.set_study_user_attr(study_id, key, _json_safe(attrs[key]))
        if isinstance(attrs.get("optimizer"), Mapping):
            self.backend.set_study_user_attr(study_id, "optimizer", str(attrs["optimizer"].get("name")))
        if attrs.get("metric_name"):  # Optuna's tools (optuna-dashboard) show it instead of "Objective 0"
            with warnings.catch_warnings():  # set_metric_names is marked experimental
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.load_study(study_name=name, storage=self.backend).set_metric_names([str(attrs["metric_name"])])
        return StudyInfo(study_id, name, direction, dict(attrs))

    def _info(self, study_id: int, name: str) -> StudyInfo:
        system = self.backend.get_study_system_attrs(study_id)
        fmt = system.get(_FORMAT)
        if fmt is not None and fmt != STORAGE_FORMAT:
            raise StorageError(
                f"study {name!r} in {self!r} has hpolab storage format {fmt}, this hpolab reads {STORAGE_FORMAT}; "
                "open it with the hpolab version that wrote it"
            )
        directions = self.backend.get_study_directions(study_id)
        direction = "maximize" if directions[0].name == "MAXIMIZE" else "minimize"
        return StudyInfo(study_id, name, direction, dict(system.get(_ATTRS) or {}))

    def get_study(self, name: str) -> StudyInfo | None:
        """The study called ``name``, or ``None``."""
        try:
            with self._errors():
                study_id = self.backend.get_study_id_from_name(name)
        except KeyError:
            return None
        return self._info(study_id, name)

    def list_studies(self) -> list[StudyInfo]:
        """All studies, in creation order."""
        out = []
        for frozen in sorted(self.backend.get_all_studies(), key=lambda s: s._study_id):
            direction = "maximize" if frozen.directions[0].name == "MAXIMIZE" else "minimize"
            out.append(
                StudyInfo(frozen._study_id, frozen.study_name, direction, dict(frozen.system_attrs.get(_ATTRS) or {}))
            )
        return out

    def delete_study(self, name: str) -> None:
        """Delete a study and its trials."""
        info = self.get_study(name)
        if info is None:
            raise StorageError(f"study {name!r} does not exist")
        self.backend.delete_study(info.study_id)

    def set_study_attrs(self, study_id: int, attrs: Mapping[str, Any]) -> None:
        """Merge ``attrs`` into the study's attributes."""
        current = dict(self.backend.get_study_system_attrs(study_id).get(_ATTRS) or {})
        current.update(_json_safe(dict(attrs)))
        self.backend.set_study_system_attr(study_id, _ATTRS, current)

    # ------------------------------------------------------------------ trials
    def _trial_id(self, study_id: int, number: int) -> int:
        key = (study_id, number)
        if key not in self._numbers:
            self._numbers[key] = self.backend.get_trial_id_from_study_id_trial_number(study_id, number)
        return self._numbers[key]

    def _template(
        self,
        trial: Trial,
        space: SearchSpace,
        state: Any,
        system: dict[str, Any],
        user: dict[str, Any],
    ) -> FrozenTrial:
        from optuna.trial import FrozenTrial

        distributions = space.to_optuna()
        params = {k: v for k, v in trial.config.items() if k in distributions}
        # Every attribute costs a database round trip in an RDB storage: the dashboard gets the
        # few a user reads (seed, budget, source); the rest is in the one system attribute.
        user_attrs: dict[str, Any] = {"seed": trial.seed, **user}
        if trial.budget is not None:
            user_attrs["budget"] = trial.budget
        source = trial.metadata.get("source")
        if source is not None:
            user_attrs["source"] = _json_safe(source)
        stored = {"budget": trial.budget, "seed": trial.seed, "metadata": _json_safe(trial.metadata)}
        if "ask" in system:
            stored["ask"] = system.pop("ask")
        return FrozenTrial(
            number=-1,
            state=state,
            value=None,
            datetime_start=None,
            datetime_complete=None,
            params=params,
            distributions={k: distributions[k] for k in params},
            user_attrs=user_attrs,
            system_attrs={_TRIAL: stored, **system},
            intermediate_values={},
            trial_id=-1,
        )

    def _create(self, study_id: int, template: FrozenTrial) -> int:
        import datetime

        from optuna.storages import InMemoryStorage as OptunaMemory
        from optuna.trial import TrialState as OptunaState

        template.datetime_start = datetime.datetime.now()
        with self._errors():
            if isinstance(self.backend, OptunaMemory) and template.state is OptunaState.RUNNING:
                # In memory a write is a dict update while Optuna deep-copies a template trial, so
                # fields are written one by one; elsewhere each write is a round trip: one template.
                trial_id = self.backend.create_new_trial(study_id)
                for name, value in template.params.items():
                    dist = template.distributions[name]
                    self.backend.set_trial_param(trial_id, name, dist.to_internal_repr(value), dist)
                # (user attributes are for the dashboard, which cannot open an in-memory storage)
                for key, value in template.system_attrs.items():
                    self.backend.set_trial_system_attr(trial_id, key, value)
            else:
                trial_id = self.backend.create_new_trial(study_id, template_trial=template)
            # Optuna's cache of an RDB storage knows the new number; asking the database costs a query
            known = getattr(self.backend, "_trial_id_to_study_id_and_number", {}).get(trial_id)
            number = known[1] if known is not None else self.backend.get_trial_number_from_id(trial_id)
        self._numbers[(study_id, number)] = trial_id
        return number

    def create_trials(
        self, study_id: int, trials: Sequence[Trial], space: SearchSpace, *, worker: str, seq: int
    ) -> list[int]:
        """Store asked trials as RUNNING, stamped with their ask event; return their numbers (ids).

        Each trial is created in one write (Optuna's template trial), and Optuna numbers it
        atomically, so concurrent workers never share a number.
        """
        from optuna.trial import TrialState as OptunaState

        numbers = []
        for position, trial in enumerate(trials):
            template = self._template(trial, space, OptunaState.RUNNING, {"ask": [worker, seq, position]}, {})
            numbers.append(self._create(study_id, template))
        return numbers

    def record_tell(
        self,
        study_id: int,
        number: int,
        result: TrialResult,
        *,
        worker: str,
        seq: int,
        told: int | None = None,
        observe: bool = False,
    ) -> None:
        """Store a trial's result, stamped with the event that gave it to the worker's optimizer.

        Args:
            study_id: The study.
            number: The trial evaluated.
            result: Its result.
            worker: The worker whose optimizer learns the result.
            seq: The event's index in that optimizer's log.
            told: The trial number the optimizer was told about, when it differs from ``number``
                (a retried trial tells the optimizer about the original).
            observe: The optimizer observes the trial (a queued trial it did not ask) rather than
                being told.
        """
        trial_id = self._trial_id(study_id, number)
        if observe:
            self._finish(trial_id, result, {"observe": [worker, seq]})
        else:
            self._finish(trial_id, result, {"tell": [worker, seq, number if told is None else told]})

    def _finish(self, trial_id: int, result: TrialResult, stamp: Mapping[str, Any]) -> None:
        """Two writes: the result with its event stamp (one system attribute), then state and value."""
        payload: dict[str, Any] = {"runtime": result.runtime, "info": result.info, "state": result.state.value, **stamp}
        if result.value is not None:
            payload["value"] = result.value
        with self._errors():
            self._write_result(trial_id, result, _json_safe(payload))

    def _write_result(self, trial_id: int, result: TrialResult, payload: dict[str, Any]) -> None:
        import optuna
        from optuna.trial import TrialState as OptunaState

        if self._rdb is not None:  # one transaction, and only while the trial still runs
            value = result.value if result.state is not TrialState.FAIL else None
            pruned = value if result.state is TrialState.PRUNED else None
            if not self._rdb_transition(
                trial_id, "RUNNING", result.state.value, {_RESULT: payload}, value=value, intermediate=pruned
            ):
                raise optuna.exceptions.UpdateFinishedTrialError(
                    f"trial {trial_id} (Optuna's id) has already finished and can not be updated: another worker "
                    "failed it (its worker was taken for dead) or finished it"
                )
            return

        # The attribute first: Optuna refuses writes to a finished trial.
        self.backend.set_trial_system_attr(trial_id, _RESULT, payload)
        state = {
            TrialState.COMPLETE: OptunaState.COMPLETE,
            TrialState.PRUNED: OptunaState.PRUNED,
            TrialState.FAIL: OptunaState.FAIL,
        }[result.state]
        values = None
        if result.value is not None and result.state is not TrialState.FAIL:
            values = [result.value]
            if result.state is TrialState.PRUNED:
                self.backend.set_trial_intermediate_value(trial_id, 0, result.value)
        self.backend.set_trial_state_values(trial_id, state, values)

    def record_observe(
        self, study_id: int, trial: Trial, result: TrialResult, space: SearchSpace, *, worker: str, seq: int
    ) -> int:
        """Store an observed (not asked) trial with its result; return its number."""
        from optuna.trial import TrialState as OptunaState

        template = self._template(trial, space, OptunaState.RUNNING, {}, {})
        number = self._create(study_id, template)
        self._finish(self._trial_id(study_id, number), result, {"observe": [worker, seq]})
        return number

    def frozen_trials(self, study_id: int) -> list[FrozenTrial]:
        """The study's Optuna trials (shared, not copied: do not modify them)."""
        return self.backend.get_all_trials(study_id, deepcopy=False)

    def frozen_trial(self, study_id: int, number: int) -> FrozenTrial:
        """Trial ``number`` of the study as stored now (an unfinished one is read again)."""
        with self._errors():
            return self.backend.get_trial(self._trial_id(study_id, number))

    def scan(
        self, study_id: int, start: int, revisit: Iterable[int] = (), *, reread_running: bool = True
    ) -> list[FrozenTrial]:
        """The trials a reader that has seen every trial below ``start`` must look at (shared, not copied).

        Those numbered ``start`` or above (the new ones), and those numbered in ``revisit`` (the
        ones it saw unfinished), by number. The cost grows with the trials returned, not with the
        study: an RDB storage reads them in one batch (the trials' rows in one query, their params,
        values and attributes in one query per table, from Optuna's RDB models; through Optuna's
        cache of finished trials if that fails); other storages are read trial by trial
        (numbers are dense, so the new ones are ``start``, ``start + 1``, ... up to the first
        missing one).

        Args:
            study_id: The study.
            start: Every trial numbered from here on is returned.
            revisit: Numbers below ``start`` to return too.
            reread_running: ``False`` lets an RDB storage read only the states of the trials first
                and read in full only those that are not RUNNING: a RUNNING trial comes back as
                it was at the last full read of this storage object, or, if it was never read
                in full, as a placeholder (see :func:`is_unread`) that holds only its number and
                state. Other storages read everything in any case.
        """
        with self._errors():
            if self._rdb is not None:
                try:
                    return self._scan_rows(study_id, start, revisit, reread_running)
                except Exception as exc:  # Optuna's private RDB models changed: the public path
                    _logger.debug("reading trial rows failed (%r); reading through Optuna's cache", exc)
                return self._scan_cached(study_id, start, revisit)
            found = [self.backend.get_trial(self._trial_id(study_id, n)) for n in sorted(set(revisit)) if n < start]
            number = start
            while True:
                try:
                    trial_id = self._trial_id(study_id, number)
                except KeyError:
                    return found
                found.append(self.backend.get_trial(trial_id))
                number += 1

    def _scan_cached(self, study_id: int, start: int, revisit: Iterable[int]) -> list[FrozenTrial]:

        every = self.backend.get_all_trials(study_id, deepcopy=False)  # sorted by number
        found = []
        for number in sorted(set(revisit)):
            if number >= start:
                break
            at = bisect.bisect_left(every, number, key=_number)
            if at < len(every) and every[at].number == number:
                found.append(every[at])
        found.extend(every[bisect.bisect_left(every, start, key=_number) :])
        running = self._running.setdefault(study_id, {})
        for frozen in found:
            _note_running(running, frozen)
        return found

    def _scan_rows(self, study_id: int, start: int, revisit: Iterable[int], reread_running: bool) -> list[FrozenTrial]:
        """:meth:`scan` of an RDB storage, read from Optuna's private RDB models (see ``scan``).

        The trials' rows come in one query; the params, values and attributes of the trials to
        read in full (all, or with ``reread_running=False`` those that are not RUNNING) in one
        query per table, built into ``FrozenTrial`` objects as Optuna's ``RDBStorage`` builds them.
        """
        from optuna.storages._rdb import models
        from optuna.trial import FrozenTrial
        from optuna.trial import TrialState as OptunaState
        from sqlalchemy import or_, select

        rdb = self._rdb
        assert rdb is not None
        table = models.TrialModel.__table__
        older = sorted(n for n in set(revisit) if n < start)
        wanted = table.c.number >= start
        if older:
            wanted = or_(wanted, table.c.number.in_(older))
        columns = (table.c.trial_id, table.c.number, table.c.state, table.c.datetime_start, table.c.datetime_complete)
        session = rdb.scoped_session()
        try:
            rows = session.execute(
                select(*columns).where(table.c.study_id == study_id, wanted).order_by(table.c.number)
            ).all()
            read = [int(row[0]) for row in rows if reread_running or row[2] is not OptunaState.RUNNING]
            parts = _trial_parts(session, read) if read else {}
            session.commit()
        finally:
            session.close()
        running = self._running.setdefault(study_id, {})
        found = []
        for trial_id, number, state, began, ended in rows:
            number = int(number)
            self._numbers[(study_id, number)] = int(trial_id)
            if int(trial_id) in parts:
                frozen = FrozenTrial(
                    number=number,
                    state=state,
                    value=None,
                    datetime_start=began,
                    datetime_complete=ended,
                    trial_id=int(trial_id),
                    **parts[int(trial_id)],
                )
                _note_running(running, frozen)
                found.append(frozen)
                continue
            known = running.get(number)
            if known is None:
                known = FrozenTrial(
                    number=number,
                    state=OptunaState.RUNNING,
                    value=None,
                    datetime_start=None,
                    datetime_complete=None,
                    params={},
                    distributions={},
                    user_attrs={},
                    system_attrs={_UNREAD: True},
                    intermediate_values={},
                    trial_id=int(trial_id),
                )
            found.append(known)
        return found

    def get_trials(self, study_id: int) -> list[TrialRecord]:
        """All trials of a study (finished and running), by number. Waiting (queued) ones are left out."""
        return [r for r in (to_record(t) for t in self.frozen_trials(study_id)) if r is not None]

    def get_events(self, study_id: int, workers: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The event log of ``workers`` (all when ``None``), in the format :meth:`hpolab.Optimizer.replay` takes.

        Events are ordered by worker (in the order the workers started) and by each worker's own
        sequence number: for a study run by one process at a time, that is the exact log.
        """
        wanted = None if workers is None else set(workers)
        stamped: list[tuple[str, int, int, dict[str, Any]]] = []
        asks: dict[tuple[str, int], list[tuple[int, Trial]]] = {}
        records: dict[int, TrialRecord] = {}
        for frozen in self.frozen_trials(study_id):
            record = to_record(frozen)
            if record is None:
                continue
            records[record.id] = record
            system = frozen.system_attrs
            if not isinstance(system.get(_TRIAL), Mapping):
                continue  # a foreign trial is in no hpolab worker's log
            ask = system[_TRIAL].get("ask")
            if ask is not None and (wanted is None or ask[0] in wanted):
                asked = _trial_of(frozen)  # as asked (to_record adds the attempt of an adopted trial)
                asks.setdefault((ask[0], int(ask[1])), []).append((int(ask[2]), asked))
            stored = system.get(_RESULT)
            stored = stored if isinstance(stored, Mapping) else {}
            tell = stored.get("tell")
            if tell is not None and record.result is not None and (wanted is None or tell[0] in wanted):
                event = {"tell": int(tell[2]), "result": record.result.to_dict()}
                stamped.append((tell[0], int(tell[1]), 1, event))
            observe = stored.get("observe")
            if observe is not None and record.result is not None and (wanted is None or observe[0] in wanted):
                event = {"observe": _trial_of(frozen).to_dict(), "result": record.result.to_dict()}
                stamped.append((observe[0], int(observe[1]), 1, event))
        for (worker, seq), batch in asks.items():
            trials = [t.to_dict() for _, t in sorted(batch, key=lambda item: item[0])]
            stamped.append((worker, seq, 0, {"ask": trials}))
        stamped.sort(key=lambda item: (item[0], item[1], item[2]))
        return [event for *_, event in stamped]

    # ------------------------------------------------------------------ queue (retries, enqueued configs)
    def enqueue(self, study_id: int, trial: Trial, space: SearchSpace, *, retry_of: int | None = None) -> int:
        """Add a WAITING trial: the next worker to ask takes it before asking its optimizer."""
        from optuna.trial import TrialState as OptunaState

        system: dict[str, Any] = {}
        if retry_of is not None:
            system[_RETRY_OF] = retry_of
        return self._create(study_id, self._template(trial, space, OptunaState.WAITING, system, {}))

    def pop_waiting(self, study_id: int) -> tuple[int, Trial, int | None] | None:
        """Take one WAITING trial and mark it RUNNING; ``(number, trial, retry_of)``, or None if none waits.

        Atomic on every storage: of any number of workers popping at once, exactly one gets each
        trial (in a database, a conditional ``UPDATE ... WHERE state = 'WAITING'`` decides by its
        row count; SQLite ignores ``SELECT ... FOR UPDATE``; the journal file and memory decide
        under their locks). A trial queued by Optuna's ``enqueue_trial`` comes back with Optuna's
        ``fixed_params`` as its config, as stored (it may be partial or not fit the space), and
        ``{"enqueued": True, "foreign": True}`` as its metadata.
        """
        import optuna
        from optuna.trial import TrialState as OptunaState

        if self._rdb is not None:
            # Only the ids are read (oldest first), and only the trial won is loaded.
            with self._errors():
                for trial_id in self._rdb_waiting(study_id):
                    if self._rdb_transition(trial_id, "WAITING", "RUNNING", {}):
                        return self._popped(study_id, self.backend.get_trial(trial_id))
            return None
        with self._errors():
            waiting = self.backend.get_all_trials(study_id, deepcopy=False, states=(OptunaState.WAITING,))
        for frozen in waiting:
            try:
                with self._errors():
                    won = self.backend.set_trial_state_values(frozen._trial_id, state=OptunaState.RUNNING)
            except optuna.exceptions.UpdateFinishedTrialError:
                continue
            if won:
                return self._popped(study_id, frozen)
        return None

    def _popped(self, study_id: int, frozen: FrozenTrial) -> tuple[int, Trial, int | None]:
        self._numbers[(study_id, frozen.number)] = frozen._trial_id
        retry_of = frozen.system_attrs.get(_RETRY_OF)
        return frozen.number, _trial_of(frozen), retry_of if isinstance(retry_of, int) else None

    def _rdb_waiting(self, study_id: int) -> list[int]:
        """The ids of the study's WAITING trials in an RDB storage, oldest first."""
        from optuna.storages._rdb import models
        from optuna.trial import TrialState as OptunaState

        assert self._rdb is not None
        model = models.TrialModel
        session = self._rdb.scoped_session()
        try:
            rows = (
                session.query(model.trial_id)
                .filter(model.study_id == study_id, model.state == OptunaState.WAITING)
                .order_by(model.trial_id)
                .all()
            )
            session.commit()
        finally:
            session.close()
        return [int(row[0]) for row in rows]

    def stamp_running(self, study_id: int, number: int, worker: str, *, attempt: int | None = None) -> None:
        """Record which worker runs a trial (one it took from the queue, or adopted from its slot's dead worker).

        Args:
            study_id: The study.
            number: The RUNNING trial.
            worker: The worker's key.
            attempt: The attempt this run is (see :func:`attempt_of`), when it is not the first.
        """
        trial_id = self._trial_id(study_id, number)
        with self._errors():
            self.backend.set_trial_system_attr(trial_id, _RUN_BY, worker)
            if attempt is not None:
                self.backend.set_trial_system_attr(trial_id, _ATTEMPT, int(attempt))

    def stamp_attempt(self, study_id: int, number: int, worker: str, attempt: int) -> None:
        """Record that ``worker`` runs a trial again as attempt ``attempt`` (an adopted trial, same number)."""
        self.stamp_running(study_id, number, worker, attempt=attempt)

    def set_trial_config(self, study_id: int, number: int, trial: Trial, space: SearchSpace) -> None:
        """Rewrite a RUNNING trial's params, budget, seed and metadata before it is evaluated.

        Used for a queued trial whose stored config was completed or repaired (a partial
        ``enqueue_trial`` of Optuna's). Keys the space does not know are left out of the params.

        Raises:
            ValueError: If a value does not fit its Optuna distribution (validate the config first).
        """
        trial_id = self._trial_id(study_id, number)
        distributions = space.to_optuna()
        # Optuna's cache of an RDB storage writes a param only for a trial it has read; scans read past it
        writer = self._rdb if self._rdb is not None else self.backend
        with self._errors():
            current = self.backend.get_trial(trial_id).system_attrs.get(_TRIAL)
            for name, value in trial.config.items():
                if name in distributions:
                    dist = distributions[name]
                    writer.set_trial_param(trial_id, name, dist.to_internal_repr(value), dist)
            stored: dict[str, Any] = {
                "budget": trial.budget,
                "seed": trial.seed,
                "metadata": _json_safe(trial.metadata),
            }
            if isinstance(current, Mapping) and "ask" in current:
                stored["ask"] = current["ask"]
            self.backend.set_trial_system_attr(trial_id, _TRIAL, stored)
            if self.persistent:  # user attributes are for the dashboard, which cannot open an in-memory storage
                self.backend.set_trial_user_attr(trial_id, "seed", trial.seed)
                if trial.budget is not None:
                    self.backend.set_trial_user_attr(trial_id, "budget", trial.budget)

    def fail_stale(self, study_id: int, number: int, reason: str) -> bool:
        """Mark a RUNNING trial of a dead worker FAIL, with ``reason`` as its error.

        Atomic on every storage: of any number of workers reaping the trial at once, exactly one
        gets ``True``; the others (and any call on a trial that has left RUNNING) get ``False``.
        """
        return self._fail_running(study_id, number, reason, stale=True)

    def fail_trial(self, study_id: int, number: int, reason: str) -> bool:
        """Mark a RUNNING trial FAIL with ``reason`` as its error (not as a dead worker's trial).

        Used for a queued config that does not fit the space, or a trial that ran too long.
        Atomic like :meth:`fail_stale`: ``False`` if the trial had left RUNNING.
        """
        return self._fail_running(study_id, number, reason, stale=False)

    def _fail_running(self, study_id: int, number: int, reason: str, *, stale: bool) -> bool:
        import optuna
        from optuna.trial import TrialState as OptunaState

        trial_id = self._trial_id(study_id, number)
        attrs: dict[str, Any] = {}
        if stale:
            attrs[_STALE] = reason
        attrs[_RESULT] = {"runtime": None, "info": {"error": reason}, "state": "FAIL"}
        with self._errors():
            if self._rdb is not None:
                return self._rdb_transition(trial_id, "RUNNING", "FAIL", attrs)
            # In memory and in the journal a write to a finished trial raises, and the state
            # change is decided under the storage's lock (the journal's order of records): the
            # second of two reapers gets UpdateFinishedTrialError at one of these writes.
            try:
                if self.backend.get_trial(trial_id).state is not OptunaState.RUNNING:
                    return False
                for key, value in attrs.items():
                    self.backend.set_trial_system_attr(trial_id, key, value)
                self.backend.set_trial_state_values(trial_id, OptunaState.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:
                return False
        return True

    def _rdb_transition(
        self,
        trial_id: int,
        source: str,
        target: str,
        attrs: Mapping[str, Any],
        *,
        value: float | None = None,
        intermediate: float | None = None,
    ) -> bool:
        """Move a trial from state ``source`` to ``target`` and set ``attrs``, in one transaction.

        A conditional ``UPDATE trials ... WHERE trial_id = ? AND state = source`` decides: the
        caller whose update changes the row wins (``True``); every other caller's changes nothing
        (``False``). The system attributes, the objective ``value`` and the ``intermediate`` value
        (step 0) are written in the same transaction, so a trial is never seen finished without
        its result, and a result is never written over a dead worker's failed trial.
        """
        import datetime

        from optuna.storages._rdb import models
        from optuna.trial import TrialState as OptunaState
        from sqlalchemy import update

        rdb = self._rdb
        assert rdb is not None
        table = models.TrialModel.__table__
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)  # Optuna's RDB keeps naive UTC
        values: dict[str, Any] = {"state": OptunaState[target]}
        values["datetime_start" if target == "RUNNING" else "datetime_complete"] = now
        statement = (
            update(table).where(table.c.trial_id == trial_id, table.c.state == OptunaState[source]).values(**values)
        )
        session = rdb.scoped_session()
        try:
            if session.execute(statement).rowcount != 1:
                session.rollback()
                return False
            model = models.TrialSystemAttributeModel
            for key, attr in attrs.items():
                row = session.query(model).filter(model.trial_id == trial_id, model.key == key).one_or_none()
                if row is None:
                    session.add(model(trial_id=trial_id, key=key, value_json=json.dumps(attr)))
                else:
                    row.value_json = json.dumps(attr)
            if value is not None:
                stored, kind = models.TrialValueModel.value_to_stored_repr(value)
                session.add(models.TrialValueModel(trial_id=trial_id, objective=0, value=stored, value_type=kind))
            if intermediate is not None:
                step = models.TrialIntermediateValueModel
                stored_step, step_kind = step.intermediate_value_to_stored_repr(intermediate)
                session.query(step).filter(step.trial_id == trial_id, step.step == 0).delete()
                session.add(
                    step(trial_id=trial_id, step=0, intermediate_value=stored_step, intermediate_value_type=step_kind)
                )
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        return True

    # ------------------------------------------------------------------ workers
    def hold(self, key: str, owner: Any) -> None:
        """Mark worker ``key`` of this process as holding its slot while ``owner`` (its Study) lives."""
        _HELD[key] = owner

    def release(self, study_id: int, key: str) -> None:
        """Free worker ``key``'s slot: its loop ended (it may hold it again with :meth:`hold`)."""
        _HELD.pop(key, None)
        self.retire_worker(study_id, key)

    def register_worker(self, study_id: int, slot_hint: int | None = None, *, parent: str | None = None) -> WorkerInfo:
        """Register this process as a worker of the study and choose its slot.

        The slot is ``slot_hint`` when given, else the lowest slot that no live worker holds and,
        for a worker of a parallel run, that no other worker of the same run ever held: a worker
        that starts after a sibling finished takes a slot of its own rather than the sibling's
        (whose log it would replay). Two workers that start at once may pick the same slot: each
        writes its claim, reads the claims again, and a worker that sees another claim on its
        slot withdraws its own (its record says :data:`NO_SLOT` while it waits, so the worker
        that keeps the slot never reads it as held twice), backs off for a random moment and
        chooses again. Of two racing claims at least one sees the other, so no slot ends up
        held twice.

        Args:
            study_id: The study.
            slot_hint: Claim this slot instead of choosing one.
            parent: The key of the worker whose parallel run started this one (see
                :attr:`WorkerInfo.parent`), or None.
        """
        rng = random.Random()
        key = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        info = this_worker(key, 0, parent)

        def taken(worker: WorkerInfo) -> bool:
            """Whether ``worker`` keeps its slot from this worker: it runs, or it belongs to the same run."""
            if worker.key == key:
                return False
            return (parent is not None and parent in (worker.key, worker.parent)) or self.is_alive(worker)

        for _ in range(50):
            held = {w.slot for w in self.workers(study_id) if w.slot != NO_SLOT and taken(w)}
            slot = slot_hint if slot_hint is not None else min(set(range(len(held) + 1)) - held)
            info = replace(info, slot=slot, heartbeat=time.time())
            _HELD[key] = self  # held from now on; the Study takes the hold over
            self._write_worker(study_id, info)
            if slot_hint is not None:
                return info
            # Writes are committed when they return, so of two claims written at once the later
            # reader sees the earlier writer: no wait is needed before reading the claims again.
            if not any(w.slot == slot and taken(w) for w in self.workers(study_id)):
                return info
            self._write_worker(study_id, replace(info, slot=NO_SLOT))  # withdrawn while it waits
            time.sleep(rng.uniform(0.0, 0.05))
        raise StorageError(f"study {study_id}: could not claim a worker slot; too many workers start at once")

    def _write_worker(self, study_id: int, info: WorkerInfo) -> None:
        record = worker_record(info)
        with self._errors():
            # the heartbeat first: a reader that sees the claim then also sees it alive (a claim without a
            # heartbeat reads as a retired worker, so a rival could take the same slot)
            self.heartbeat(study_id, info.key)
            self.backend.set_study_system_attr(study_id, _WORKER + info.key, record)

    def heartbeat(self, study_id: int, key: str) -> None:
        """Record that worker ``key`` is alive now."""
        self.backend.set_study_system_attr(study_id, _HEARTBEAT + key, time.time())

    def retire_worker(self, study_id: int, key: str) -> None:
        """Mark worker ``key`` as finished (its slot is free)."""
        self.backend.set_study_system_attr(study_id, _HEARTBEAT + key, 0.0)

    def workers(self, study_id: int) -> list[WorkerInfo]:
        """Every worker ever registered in the study, in start order."""
        system = self.backend.get_study_system_attrs(study_id)
        out = []
        for name, record in system.items():
            if name.startswith(_WORKER) and isinstance(record, Mapping):
                worker = _worker_of(name[len(_WORKER) :], record, system.get(_HEARTBEAT + name[len(_WORKER) :]))
                if worker is not None:
                    out.append(worker)
        return sorted(out, key=lambda w: w.key)

    #: Seconds without a heartbeat after which a worker on another host counts as dead.
    grace_period: float = 60.0
    #: Whether a worker on this host is judged by its process (immediately) rather than its heartbeat.
    check_local_processes: bool = True

    def is_alive(self, worker: WorkerInfo) -> bool:
        """Whether a worker still runs (see :func:`hpolab.storage._liveness.worker_alive`).

        By its process where it runs on this machine, in this PID namespace; else by its
        heartbeat, within :attr:`grace_period`.
        """
        return worker_alive(worker, grace_period=self.grace_period, check_local_processes=self.check_local_processes)

    def close(self) -> None:
        """Release connections (RDB storages)."""
        remove = getattr(self.backend, "remove_session", None)
        if callable(remove):
            remove()


def _number(frozen: FrozenTrial) -> int:
    return frozen.number


def _note_running(running: dict[int, FrozenTrial], frozen: FrozenTrial) -> None:
    """Keep ``frozen`` as its number's last full read while it is RUNNING; forget the number once it is not."""
    from optuna.trial import TrialState as OptunaState

    if frozen.state is OptunaState.RUNNING:
        running[frozen.number] = frozen
    else:
        running.pop(frozen.number, None)


def _trial_parts(session: Any, trial_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The params, values, intermediate values and attributes of RDB trials, as ``FrozenTrial`` keywords.

    Read with one query per table from Optuna's private RDB models, and decoded as Optuna's
    ``RDBStorage`` decodes them (params in the order they were written).
    """
    from optuna.distributions import json_to_distribution
    from optuna.storages._rdb import models
    from sqlalchemy import select

    parts: dict[int, dict[str, Any]] = {
        i: {
            "params": {},
            "distributions": {},
            "values": None,
            "intermediate_values": {},
            "user_attrs": {},
            "system_attrs": {},
        }
        for i in trial_ids
    }
    param = models.TrialParamModel.__table__
    rows = session.execute(
        select(param.c.trial_id, param.c.param_name, param.c.param_value, param.c.distribution_json)
        .where(param.c.trial_id.in_(trial_ids))
        .order_by(param.c.param_id)
    )
    for trial_id, name, internal, dist_json in rows:
        distribution = json_to_distribution(dist_json)
        parts[trial_id]["params"][name] = distribution.to_external_repr(internal)
        parts[trial_id]["distributions"][name] = distribution
    value = models.TrialValueModel
    table = value.__table__
    rows = session.execute(
        select(table.c.trial_id, table.c.objective, table.c.value, table.c.value_type).where(
            table.c.trial_id.in_(trial_ids)
        )
    )
    values: dict[int, dict[int, float]] = {}
    for trial_id, objective, stored, kind in rows:
        values.setdefault(trial_id, {})[objective] = value.stored_repr_to_value(stored, kind)
    for trial_id, by_objective in values.items():
        parts[trial_id]["values"] = [by_objective.get(k, 0) for k in range(max(by_objective) + 1)]
    step = models.TrialIntermediateValueModel
    table = step.__table__
    rows = session.execute(
        select(table.c.trial_id, table.c.step, table.c.intermediate_value, table.c.intermediate_value_type).where(
            table.c.trial_id.in_(trial_ids)
        )
    )
    for trial_id, number, stored, kind in rows:
        parts[trial_id]["intermediate_values"][number] = step.stored_repr_to_intermediate_value(stored, kind)
    for model, key in (
        (models.TrialUserAttributeModel, "user_attrs"),
        (models.TrialSystemAttributeModel, "system_attrs"),
    ):
        table = model.__table__
        rows = session.execute(
            select(table.c.trial_id, table.c.key, table.c.value_json).where(table.c.trial_id.in_(trial_ids))
        )
        for trial_id, name, value_json in rows:
            parts[trial_id][key][name] = json.loads(value_json)
    return parts


def _rdb_of(backend: BaseStorage) -> Any | None:
    """The ``RDBStorage`` under ``backend`` (Optuna wraps one in a cache), or None for other storages."""
    from optuna.storages import RDBStorage

    for candidate in (backend, getattr(backend, "_backend", None)):
        if isinstance(candidate, RDBStorage):
            return candidate
    return None


def _open_rdb(url: str, *, timeout: float, check_schema: bool = True) -> BaseStorage:
    import optuna

    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if not path:
            raise StorageError(f"storage {url!r}: no path; give a file, e.g. sqlite:///runs.db (or None for memory)")
        if path != ":memory:":
            try:
                Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"storage {redact_url(url)}: cannot create the folder of the database file ({exc.strerror}); "
                    "choose a writable path"
                ) from None
        engine_kwargs["connect_args"] = {"timeout": timeout}
    elif url.startswith("postgresql"):
        engine_kwargs["pool_pre_ping"] = True
        engine_kwargs["connect_args"] = {"connect_timeout": int(max(1, timeout))}
        if url.startswith("postgresql://"):
            try:
                import psycopg  # noqa: F401

                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            except ImportError:
                pass
    rdb = None
    for attempt in range(5):
        try:
            rdb = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                skip_compatibility_check=not check_schema,
                skip_table_creation=not check_schema,
            )
            break
        except Exception as exc:  # SQLAlchemy / driver errors carry the URL's reason
            # Two processes creating the schema of a new database at once: one wins, the other retries.
            racing = "unique constraint" in str(exc).lower() or "already exists" in str(exc).lower()
            if not racing or attempt == 4:
                raise _classify_open_error(exc, url) from None
            time.sleep(0.2 * (attempt + 1))
    assert rdb is not None
    if url.startswith("sqlite"):
        _enable_wal(rdb)
    return optuna.storages.get_storage(rdb)


def _enable_wal(rdb: Any) -> None:
    """Write-ahead logging (readers do not block the writer), and every commit synced to disk.

    WAL lets many workers share one file. ``synchronous=FULL`` on every connection makes a
    committed result survive an operating-system crash or a power cut even where SQLite's
    build defaults to ``NORMAL`` in WAL mode.
    """
    from sqlalchemy import event

    def full_sync(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA synchronous=FULL")

    event.listen(rdb.engine, "connect", full_sync)
    rdb.engine.dispose()  # connections made before the listener reopen with it
    try:
        with rdb.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    except Exception as exc:  # a read-only or network file system: stay in rollback mode
        _logger.debug("SQLite WAL mode not set: %s", exc)


def _open_journal(path: str) -> BaseStorage:
    from hpolab.storage._journal import open_journal

    file = Path(path).expanduser()
    try:
        file.resolve().parent.mkdir(parents=True, exist_ok=True)
        return open_journal(file)
    except StorageError:
        raise
    except (OSError, ValueError) as exc:
        raise _classify_open_error(exc, f"journal:///{path}") from None


def get_storage(
    storage: Storage | BaseStorage | str | os.PathLike[str] | None,
    *,
    timeout: float = 60.0,
    check_schema: bool = True,
) -> Storage:
    """Open a storage from a URL (see the module docstring), an Optuna storage, or pass a Storage through.

    Args:
        storage: ``None`` / ``"memory"``, a URL, a journal file path, an Optuna storage or a Storage.
        timeout: Seconds to wait for a locked SQLite file or a database connection.
        check_schema: For a database URL: create the tables of a new database and check that an
            existing one's schema version is the one this Optuna writes (Optuna's migrations).
            ``False`` skips both, for a process that joins a database another process on this
            machine has just opened and checked (the worker processes of ``optimize(n_jobs=...)``).

    Raises:
        StorageError: If the URL is not understood or the storage cannot be opened (the message
            names the URL, with any password redacted, and what to do).
    """
    if isinstance(storage, Storage):
        return storage
    if storage is None or storage == "memory":
        from optuna.storages import InMemoryStorage as OptunaMemory

        return Storage(OptunaMemory(), None)
    if not isinstance(storage, (str, os.PathLike)):
        from optuna.storages import BaseStorage as OptunaBase

        if isinstance(storage, OptunaBase):
            return Storage(storage, getattr(storage, "url", None) or "optuna-storage")
        raise StorageError(f"storage: {storage!r} is not a URL, a path or a storage")
    url = os.fspath(storage)
    if url.startswith("journal:///"):  # as with sqlite:///: three slashes, then a relative or absolute path
        return Storage(_open_journal(url[len("journal:///") :]), url)
    if url.endswith((".log", ".journal", ".jsonl")) and "://" not in url:
        return Storage(_open_journal(url), f"journal:///{url}")
    if re.match(r"^(sqlite|postgresql|postgres|mysql|mariadb|oracle|mssql)(\+\w+)?://", url):
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        return Storage(_open_rdb(url, timeout=timeout, check_schema=check_schema), url)
    if url.endswith((".db", ".sqlite", ".sqlite3")) and "://" not in url:
        rdb = _open_rdb(f"sqlite:///{url}", timeout=timeout, check_schema=check_schema)
        return Storage(rdb, f"sqlite:///{url}")
    raise StorageError(
        f"storage: {redact_url(url)!r} is not a storage URL; use sqlite:///file.db, journal:///file.log, "
        "postgresql://user:password@host/db or None (memory)"
    )
