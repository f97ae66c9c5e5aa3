"""CARP-S both ways: hpolab optimizers inside CARP-S, and CARP-S tasks as hpolab objectives.

* :class:`HpolabOptimizer` runs any registered hpolab optimizer as a CARP-S optimizer. Hydra
  configs for it ship in :mod:`hpolab.integrations.carps.configs`; CARP-S finds them with
  ``hydra.searchpath=[pkg://hpolab.integrations.carps.configs]``, e.g.
  ``python -m carps.run +optimizer/hpolab=tpe +task/BBOB=cfg_2_1_0 'hydra.searchpath=[pkg://hpolab.integrations.carps.configs]'``.
* :class:`CARPSObjective` is a CARP-S task as an hpolab objective, registered as ``carps/<task id>``
  (``hpolab.create_study("carps/bbob/2/1/0", "tpe")``).
* :class:`CARPSBaseline` (registered as ``carps``) runs one of CARP-S's own optimizers in an hpolab
  study through CARP-S's ask/tell (``optimizer_kwargs={"optimizer": "optuna/SO_TPE"}``).
* :func:`export_carps_logs` writes an hpolab comparison as CARP-S run directories, which
  ``python -m carps.analysis.gather_data`` gathers beside CARP-S's own runs; CARP-S's optimizers run
  through ``carps`` keep their CARP-S ids there (:func:`carps_optimizer_ids`).

CARP-S is imported on first use (``pip install "hpolab[carps]"``), never by ``import hpolab``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SEARCH_PATH",
    "CARPSBaseline",
    "CARPSObjective",
    "HpolabOptimizer",
    "carps_optimizer_ids",
    "export_carps_logs",
    "list_carps",
    "load_task",
    "make_carps",
]

#: The Hydra search path that adds hpolab's optimizer configs to ``python -m carps.run``.
SEARCH_PATH = "pkg://hpolab.integrations.carps.configs"

_LAZY = {
    "CARPSBaseline": "hpolab.integrations.carps._baseline",
    "HpolabOptimizer": "hpolab.integrations.carps._optimizer",
    "CARPSObjective": "hpolab.integrations.carps._tasks",
    "list_carps": "hpolab.integrations.carps._tasks",
    "load_task": "hpolab.integrations.carps._tasks",
    "make_carps": "hpolab.integrations.carps._tasks",
    "export_carps_logs": "hpolab.integrations.carps._export",
    "carps_optimizer_ids": "hpolab.integrations.carps._export",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hpolab.integrations.carps' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
