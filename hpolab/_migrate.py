"""Copy studies from an hpolab 0.1 SQLite file (its own SQL tables) into an Optuna storage.

hpolab 0.1 kept studies in three tables of its own (``hpolab_studies``, ``hpolab_trials``,
``hpolab_events``). This version keeps them in Optuna's storages, and refuses such a file with a
message that names ``hpolab migrate``. Migration replays each study's event log into the new
storage as the log of one (finished) worker in slot 0, so a study reopened after migration
continues exactly as it would have in hpolab 0.1.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

from hpolab.space import SearchSpace
from hpolab.storage import Storage, StorageError, WorkerInfo, get_storage
from hpolab.trial import Trial, TrialResult, TrialState

__all__ = ["migrate_legacy"]

_logger = logging.getLogger("hpolab.migrate")

#: The worker that stands for hpolab 0.1's single process in a migrated study.
LEGACY_WORKER = "00000000000000000000-hpolab01"


def _legacy_path(url: str) -> Path:
    path = url.split(":///", 1)[1] if url.startswith("sqlite:///") else url
    if not Path(path).exists():
        raise StorageError(f"migrate: {url!r} does not exist; give the hpolab 0.1 SQLite file (sqlite:///runs.db)")
    return Path(path)


def _row_trial(row: sqlite3.Row) -> tuple[Trial, TrialResult | None]:
    trial = Trial(
        -1,
        json.loads(row["config"]),
        budget=row["budget"],
        seed=row["seed"],
        metadata=json.loads(row["metadata"] or "{}"),
    )
    state = TrialState(row["state"])
    if state is TrialState.RUNNING:
        return trial, None
    info = json.loads(row["info"] or "{}")
    return trial, TrialResult(row["value"], state, row["cost"], info)


def migrate_legacy(old: str, new: str | Storage) -> list[str]:
    """Copy every study of an hpolab 0.1 SQLite file into ``new`` (any storage URL); return their names.

    Raises:
        StorageError: If ``old`` is not an hpolab 0.1 file, or a study of that name exists in ``new``.
    """
    path = _legacy_path(old)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "hpolab_trials" not in tables:
            raise StorageError(f"migrate: {old!r} has no hpolab 0.1 tables; nothing to migrate")
        target = get_storage(new)
        names = []
        for study in con.execute("SELECT study_id, name, direction, attrs FROM hpolab_studies ORDER BY study_id"):
            names.append(_migrate_study(con, study, target))
        return names
    finally:
        con.close()


def _migrate_study(con: sqlite3.Connection, study: sqlite3.Row, target: Storage) -> str:
    name = study["name"]
    attrs: dict[str, Any] = json.loads(study["attrs"])
    space_json = attrs.get("search_space")
    if not space_json:
        raise StorageError(f"migrate: study {name!r} has no stored search space; it cannot be copied")
    space = SearchSpace.from_json(space_json)
    info = target.create_study(name, study["direction"], attrs)
    rows = {
        r["trial_id"]: r for r in con.execute("SELECT * FROM hpolab_trials WHERE study_id = ?", (study["study_id"],))
    }
    ids: dict[int, int] = {}
    events = con.execute(
        "SELECT seq, kind, trial_ids FROM hpolab_events WHERE study_id = ? ORDER BY seq", (study["study_id"],)
    )
    for seq, (_, kind, ids_text) in enumerate(events):
        old_ids = json.loads(ids_text)
        if kind == "ask":
            trials = [_row_trial(rows[i])[0] for i in old_ids]
            new_ids = target.create_trials(info.study_id, trials, space, worker=LEGACY_WORKER, seq=seq)
            ids.update(zip(old_ids, new_ids, strict=True))
            continue
        trial, result = _row_trial(rows[old_ids[0]])
        if result is None:
            raise StorageError(f"migrate: study {name!r}, trial {old_ids[0]}: a {kind} without a result")
        if kind == "tell":
            target.record_tell(info.study_id, ids[old_ids[0]], result, worker=LEGACY_WORKER, seq=seq)
        else:
            ids[old_ids[0]] = target.record_observe(info.study_id, trial, result, space, worker=LEGACY_WORKER, seq=seq)
    legacy = WorkerInfo(LEGACY_WORKER, 0, "hpolab-0.1", -1, None, 0.0)
    target._write_worker(info.study_id, legacy)
    target.retire_worker(info.study_id, LEGACY_WORKER)
    _logger.info("migrated study %s: %d trials", name, len(ids))
    return str(name)
