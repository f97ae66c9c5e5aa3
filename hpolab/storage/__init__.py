"""Study storage on Optuna's storage layer: in memory, a journal file, or a database.

Every hpolab study is an Optuna study: ``optuna.load_study(study_name=..., storage=url)`` and
``optuna-dashboard url`` open it. Optuna allocates trial numbers atomically, so any number of
worker processes (on this machine or others) can share one study. What hpolab adds lives in
Optuna's trial and study attributes:

- a trial's configuration is its ``params`` (with the distributions of :meth:`SearchSpace.to_optuna`),
  its budget, seed and source are user attributes (the dashboard shows them), and its full
  metadata (LLM transcripts included) and its result's runtime and info are system attributes;
- the optimizer's event log (ask, tell, observe) is kept as ``(worker, seq)`` stamps on the
  trials it concerns, so one worker's log can be replayed exactly on resume;
- each worker registers itself (host, process, slot) and keeps a heartbeat in the study's system
  attributes, so a worker that died mid-trial is found and its trial failed or retried.

URLs: ``None`` or ``"memory"`` (this process only), ``"sqlite:///runs.db"``,
``"postgresql://user:password@host/db"``, ``"mysql+pymysql://..."`` (Optuna's ``RDBStorage``
on SQLAlchemy, with its schema migrations), and ``"journal:///runs.log"`` (like ``sqlite:///``: a
relative path after three slashes, an absolute one after four) or any path ending
in ``.log`` / ``.journal`` (Optuna's ``JournalStorage`` on a file: the fastest for one machine).
Passwords in URLs are redacted in every message, repr and log line.

A journal file whose last line was torn by an interrupted write is cut back to its last
complete record when it is opened (with a warning); a torn line elsewhere stops the opening
with an error naming the line and :func:`repair_journal` (``python -m hpolab.storage repair PATH``).
"""

from __future__ import annotations

from hpolab.storage._codec import (
    STORAGE_FORMAT,
    asked_by,
    attempt_of,
    is_foreign,
    is_stale,
    is_unread,
    run_by,
    to_record,
)
from hpolab.storage._journal import repair_journal
from hpolab.storage._liveness import NO_SLOT, WorkerInfo
from hpolab.storage._storage import Storage, StorageError, StudyInfo, get_storage, redact_url

__all__ = [
    "NO_SLOT",
    "STORAGE_FORMAT",
    "Storage",
    "StorageError",
    "StudyInfo",
    "WorkerInfo",
    "asked_by",
    "attempt_of",
    "get_storage",
    "is_foreign",
    "is_stale",
    "is_unread",
    "redact_url",
    "repair_journal",
    "run_by",
    "to_record",
]
