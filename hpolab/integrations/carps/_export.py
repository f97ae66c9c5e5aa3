"""hpolab results in CARP-S's log format, so CARP-S's analysis reads an hpolab comparison.

Each run (optimizer, objective, seed) of a trial table becomes a CARP-S run directory
``<outdir>/<optimizer_id>/<benchmark_id>/<task_id>/<seed>/`` holding what ``python -m carps.run``
writes: ``trial_logs.jsonl`` (one line per trial: ``n_trials``, ``n_function_calls``,
``trial_info``, ``trial_value``) and ``.hydra/config.yaml`` / ``.hydra/hydra.yaml``. Then
``python -m carps.analysis.gather_data <outdir>`` gathers hpolab's runs beside CARP-S's own.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["carps_optimizer_ids", "export_carps_logs"]

#: Prefix of the exported optimizer ids, the same as the Hydra configs' (``hpolab-tpe``).
OPTIMIZER_PREFIX = "hpolab-"


def _finite(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _task_section(objective: str, seed: int, n_done: int, n_trials: int | None) -> tuple[str, str, dict[str, Any]]:
    """(benchmark_id, task_id, the config's ``task`` node) of an objective.

    A ``carps/...`` objective gets its CARP-S task YAML (resolved with the run's seed); any other
    objective a task node with its name, one objective and the trials of the run.
    """
    family, _, rest = objective.partition("/")
    if family == "carps":
        from omegaconf import OmegaConf

        from hpolab.integrations.carps._tasks import task_config_path

        cfg: Any = OmegaConf.merge(OmegaConf.create({"seed": int(seed)}), OmegaConf.load(task_config_path(rest)))
        node = OmegaConf.to_container(cfg.task, resolve=True)
        if not isinstance(node, dict):
            raise ValueError(f"{objective}: its CARP-S YAML has no task node")
        carps_task: dict[str, Any] = {str(k): v for k, v in node.items()}
        if n_trials is not None:
            carps_task["optimization_resources"]["n_trials"] = int(n_trials)
        return str(cfg.get("benchmark_id", "CARPS")), str(carps_task["name"]), carps_task
    task: dict[str, Any] = {
        "name": objective,
        "seed": int(seed),
        "output_space": {"n_objectives": 1, "objectives": ["quality"]},
        "optimization_resources": {"n_trials": int(n_trials if n_trials is not None else n_done), "n_workers": 1},
        "metadata": {"domain": family},
    }
    return f"hpolab-{family}", objective, task


def carps_optimizer_ids(storage: str | os.PathLike[str]) -> dict[str, tuple[str, str]]:
    """CARP-S's own ``(optimizer_id, optimizer_container_id)`` of each run label that ran one of its optimizers.

    Reads the runs' bookkeeping in ``storage`` (:func:`hpolab.benchmark.study_contexts`): a label run through
    hpolab's ``carps`` optimizer (``optimizer_kwargs={"optimizer": "optuna/SO_TPE"}``) maps to the ids of that
    CARP-S config (``("Optuna-TPE", "Optuna")``); hpolab's own optimizers are not in the result.
    """
    from hpolab.benchmark import study_contexts
    from hpolab.integrations.carps._baseline import carps_optimizer_config

    ids: dict[str, tuple[str, str]] = {}
    for ctx in study_contexts(storage):
        if ctx.get("optimizer_name") != "carps" or not ctx.get("optimizer"):
            continue
        ref = str((ctx.get("optimizer_kwargs") or {}).get("optimizer", "optuna/SO_TPE"))
        cfg = carps_optimizer_config(ref)
        optimizer_id = str(cfg.get("optimizer_id", ref))
        ids[str(ctx["optimizer"])] = (optimizer_id, str(cfg.get("optimizer_container_id", optimizer_id)))
    return ids


def export_carps_logs(
    results: pd.DataFrame | str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    *,
    n_trials: int | None = None,
    storage: str | os.PathLike[str] | None = None,
    optimizer_ids: Mapping[str, tuple[str, str]] | None = None,
) -> list[Path]:
    """Write an hpolab trial table as CARP-S run directories.

    The cost is the value turned into a quantity to minimize (negated for a maximized objective).
    A failed trial is left out of ``trial_logs.jsonl`` (CARP-S has no cost for it) but counts in
    ``n_function_calls`` and ``n_trials``. On a multi-fidelity objective ``n_trials`` counts
    full-budget equivalents (``budget / max_budget``), as CARP-S does. The time axis is the
    cumulative evaluation runtime (``virtual_time``: seconds, or the table's recorded time).

    hpolab's optimizers are written as ``hpolab-<label>``. A label that ran one of CARP-S's own optimizers
    through hpolab's ``carps`` optimizer keeps CARP-S's ids (``Optuna-TPE``, container ``Optuna``), so
    CARP-S's analysis puts it with that optimizer's own runs; the ids come from ``optimizer_ids`` or from the
    runs' bookkeeping in ``storage`` (``results`` itself when it is a storage; :func:`carps_optimizer_ids`).
    A run folder that is already there and was not written by this function (a run of CARP-S's own) is
    never overwritten.

    Args:
        results: The trial table of :func:`hpolab.benchmark.run` / :func:`~hpolab.benchmark.load_results`,
            or the storage to load it from.
        outdir: Root of the run directories (CARP-S's ``runs`` folder).
        n_trials: The trial budget written as ``task.optimization_resources.n_trials`` (which
            CARP-S uses to call a run COMPLETED or TRUNCATED); default: CARP-S's own budget for
            ``carps/...`` objectives, the run's trial count for others (in full-budget equivalents on a
            multi-fidelity objective, the unit of the logged ``n_trials``).
        storage: The storage the table was loaded from, to find the labels of CARP-S's optimizers.
        optimizer_ids: Label -> CARP-S's ``(optimizer_id, optimizer_container_id)``, in place of ``storage``'s.

    Returns:
        The run directories written.

    Raises:
        ValueError: If the table lacks the columns of hpolab's trial table, or a run folder it would write
            holds a run that this function did not write.
    """
    import pandas as pd
    import yaml

    from hpolab.benchmark import load_results

    df = results if isinstance(results, pd.DataFrame) else load_results(results)
    if optimizer_ids is None:
        source = storage if storage is not None else (None if isinstance(results, pd.DataFrame) else results)
        optimizer_ids = carps_optimizer_ids(source) if source is not None else {}
    needed = {"optimizer", "objective", "seed", "trial", "trial_id", "state", "value", "direction", "budget", "config"}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise ValueError(
            f"results: columns {missing} are missing; pass the table of hpolab.benchmark.run or load_results"
        )
    root = Path(outdir)
    planned = []
    for key, run in df.groupby(["optimizer", "objective", "seed"], sort=True):
        optimizer, objective, seed_value = (str(k) for k in key)  # type: ignore[union-attr]
        seed = int(seed_value)
        benchmark_id, task_id, task = _task_section(objective, seed, _full_budgets(run), n_trials)
        optimizer_id, container_id = optimizer_ids.get(optimizer, (f"{OPTIMIZER_PREFIX}{optimizer}", "hpolab"))
        rundir = root / optimizer_id / benchmark_id / task_id / str(seed)
        _check_not_carps_own(rundir)  # every folder before any is written: a refused export writes nothing
        planned.append((rundir, run, optimizer, seed, benchmark_id, task_id, task, optimizer_id, container_id))
    written: list[Path] = []
    for rundir, run, optimizer, seed, benchmark_id, task_id, task, optimizer_id, container_id in planned:
        (rundir / ".hydra").mkdir(parents=True, exist_ok=True)
        lines = _trial_lines(run.sort_values("trial", kind="stable"))
        (rundir / "trial_logs.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
        config = {
            "seed": seed,
            "benchmark_id": benchmark_id,
            "task_id": task_id,
            "optimizer_id": optimizer_id,
            "optimizer_container_id": container_id,
            "optimizer": {"optimizer_name": optimizer},
            _MARK: {"label": optimizer},
            "task": task,
            "outdir": str(rundir),
        }
        (rundir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        overrides = {"hydra": {"overrides": {"task": [f"seed={seed}"], "hydra": []}}}
        (rundir / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(overrides, sort_keys=False))
        written.append(rundir)
    return written


#: The key of ``.hydra/config.yaml`` that marks a run folder written by :func:`export_carps_logs`.
_MARK = "hpolab_export"


def _check_not_carps_own(rundir: Path) -> None:
    """Refuse to write into a run folder that holds a run not exported by hpolab (one of CARP-S's own)."""
    if not rundir.exists():
        return
    import yaml

    config = rundir / ".hydra" / "config.yaml"
    written = yaml.safe_load(config.read_text()) if config.is_file() else None
    if not (isinstance(written, dict) and _MARK in written):
        raise ValueError(
            f"{rundir} already holds a run that hpolab did not export (CARP-S's own, or another program's); "
            "export into another folder and gather both, or move that run first"
        )


def _budget_share(row: Any) -> float:
    """The trial's share of a full-budget evaluation (1 without a fidelity), CARP-S's unit of ``n_trials``."""
    budget = _finite(row.budget)
    max_budget = _finite(getattr(row, "max_budget", None))
    return budget / max_budget if budget is not None and max_budget else 1.0


def _full_budgets(run: pd.DataFrame) -> int:
    """The full-budget evaluations a run spent, whole ones (its trial count without a fidelity)."""
    return math.floor(sum(_budget_share(row) for row in run.itertuples(index=False)) + 1e-9)


def _trial_lines(run: pd.DataFrame) -> list[dict[str, Any]]:
    """The ``trial_logs.jsonl`` lines of one run (its rows in trial order)."""
    lines: list[dict[str, Any]] = []
    n_trials = 0.0
    for calls, row in enumerate(run.itertuples(index=False), start=1):
        budget = _finite(row.budget)
        share = _budget_share(row)
        n_trials += share
        value = _finite(row.value)
        if row.state != "COMPLETE" or value is None:
            continue
        sign = -1.0 if row.direction == "maximize" else 1.0
        config: Mapping[str, Any] = row.config if isinstance(row.config, Mapping) else {}
        lines.append(
            {
                "n_trials": n_trials,
                "n_function_calls": calls,
                "trial_info": {
                    "config": list(config.values()),
                    "instance": None,
                    "seed": None,
                    "budget": budget,
                    "normalized_budget": share if budget is not None else None,
                    "name": str(int(row.trial_id)),  # type: ignore[arg-type]
                    "checkpoint": None,
                    "additional_info": {},
                    "cutoff": None,
                },
                "trial_value": {
                    "cost": sign * value,
                    "time": _finite(getattr(row, "wall_time", None)) or 0.0,
                    "virtual_time": _finite(getattr(row, "runtime", None)) or 0.0,
                    "status": 1,
                    "starttime": 0.0,
                    "endtime": 0.0,
                    "additional_info": {},
                },
            }
        )
    return lines
