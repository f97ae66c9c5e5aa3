"""Study: joins an optimizer, an objective and a storage in an ask -> evaluate -> tell loop.

A study lives in a storage (Optuna's storages: memory, a journal file, SQLite, PostgreSQL), which
numbers its trials. Any number of workers (the ``n_jobs`` processes of :meth:`Study.optimize`,
Dask tasks, ``hpolab worker`` processes on other machines) can run one study: each has its own
optimizer, takes in the other workers' finished trials before it asks, and sees their running
ones, so it does not propose them again.
"""

from __future__ import annotations

from hpolab.study._create import _plain_kwargs as _plain_kwargs  # hpolab's own tests read it here
from hpolab.study._create import create_study, load_study, optimize
from hpolab.study._ledger import DEAD_WORKER_POLICIES, DEFAULT_MAX_RETRIES, attempt_of
from hpolab.study._optimize import DATAFRAME_ATTRS, Callback, Study, worker_seed
from hpolab.study._workers import WorkerError, dask_client

__all__ = [
    "DATAFRAME_ATTRS",
    "DEAD_WORKER_POLICIES",
    "DEFAULT_MAX_RETRIES",
    "Callback",
    "Study",
    "WorkerError",
    "attempt_of",
    "create_study",
    "dask_client",
    "load_study",
    "optimize",
    "worker_seed",
]
