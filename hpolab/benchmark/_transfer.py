"""Transfer from a training subset, the trainings: each chosen configuration trained once on the whole set.

For every subset condition (objectives ``cnn/<dataset>-4block/<condition>``) and seed,
:func:`hpolab.analysis.best_configs` picks the configuration the tuner found best on the subset.
:func:`transfer_table` trains it for the full budget on the whole training split (objective
``<base>/whole``) and scores it on the held-out test split (``info["test_error"]``). Each training
is a study of its own in the results' storage, named by :func:`transfer_study_name`: the
configuration is enqueued with the run's seed and evaluated through the study loop, so it is
recorded as it ends, a killed run continues where it stopped (a trial its dead process left
running is evaluated again), and a table made again reads the finished studies instead of training.
The trial's metadata says which subset trial the configuration came from (``metadata["transfer"]``:
the subset run's study and trial number, its validation error and budget).

Older hpolab versions kept these trainings in a JSON file beside the report (``transfer.json``).
Given that file, :func:`transfer_table` records each training it holds into its study once, through
the same loop (the trial's metadata names the file in ``"imported_from"``), instead of training again;
from then on the study is read and the file is not.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hpolab.exceptions import SearchExhausted
from hpolab.optimizers._base import Optimizer
from hpolab.trial import TrialState

if TYPE_CHECKING:
    import pandas as pd

    from hpolab.objectives.base import Objective
    from hpolab.storage import Storage
    from hpolab.trial import TrialRecord

__all__ = ["TRANSFER_ATTR", "transfer_study_name", "transfer_table"]

_logger = logging.getLogger("hpolab.benchmark.transfer")

#: The study attribute that marks a transfer study (what was tuned where), and the trial metadata key that
#: says which subset trial the configuration came from.
TRANSFER_ATTR = "transfer"

#: The JSON file of trainings that versions before the trainings were studies wrote beside the report.
_OLD_CACHE = "transfer.json"


class _EnqueuedOnly(Optimizer):
    """An optimizer that proposes nothing: its study evaluates only the configurations enqueued in it."""

    name: ClassVar[str] = "enqueued-only"

    def _ask(self, n: int) -> list[dict[str, Any]]:
        raise SearchExhausted("this study evaluates only the configurations enqueued in it")


def transfer_study_name(base: str, condition: str, optimizer: str, seed: int) -> str:
    """The name of the study that trains on the whole set the configuration ``optimizer`` chose on a subset.

    Args:
        base: The objective without its condition (``"cnn/digits-4block"``).
        condition: The training subset the configuration was tuned on (``"balanced"``).
        optimizer: The tuner's label in the trial table.
        seed: The run's seed.

    Returns:
        ``"transfer|<base>/<condition>|<optimizer>|<seed>"``.
    """
    return f"transfer|{base}/{condition}|{optimizer}|{int(seed)}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _same_config(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if set(a) != set(b):
        return False
    for key, x in a.items():
        y = b[key]
        if isinstance(x, float) or isinstance(y, float):
            if not (isinstance(x, (int, float)) and isinstance(y, (int, float)) and math.isclose(x, y, rel_tol=1e-12)):
                return False
        elif x != y:
            return False
    return True


def _matches(record: TrialRecord, config: Mapping[str, Any], epochs: int) -> bool:
    return record.budget is not None and float(record.budget) == float(epochs) and _same_config(record.config, config)


def _finished(store: Storage, name: str, config: Mapping[str, Any], epochs: int) -> TrialRecord | None:
    """The study's completed training of ``config`` at ``epochs``, or ``None``."""
    info = store.get_study(name)
    if info is None:
        return None
    done = [
        r for r in store.get_trials(info.study_id) if r.state is TrialState.COMPLETE and _matches(r, config, epochs)
    ]
    return done[-1] if done else None


def _train(
    store: Storage,
    name: str,
    objective: Objective,
    row: Any,
    epochs: int,
    imported: Path | None = None,
) -> TrialRecord:
    """Evaluate ``row.config`` once at ``epochs`` in study ``name`` (created, or continued where it stopped).

    ``imported``: the old JSON file ``objective`` answers from, recorded in the trial's metadata.
    """
    from optuna.trial import TrialState as OptunaState

    from hpolab.study import create_study

    seed = int(row.seed)
    optimizer = _EnqueuedOnly(objective.search_space, direction=objective.direction, seed=seed)
    known = store.get_study(name)
    # a slot of its own: a training that a dead process left running is then reaped and queued again by the
    # study's dead-worker rule (a worker that takes over a dead one's slot adopts only its optimizer's asks)
    slot = None if known is None else 1 + max((w.slot for w in store.workers(known.study_id)), default=-1)
    study = create_study(objective, optimizer, storage=store, study_name=name, load_if_exists=True, slot=slot)
    study_id = store.get_study(name).study_id  # type: ignore[union-attr]
    source = {
        "tuned_on": f"{row.base}/{row.condition}",
        "optimizer": str(row.optimizer),
        "seed": seed,
        "study": f"{row.optimizer}|{row.base}/{row.condition}|{seed}",
        "trial_id": None if _missing(row.trial_id) else int(row.trial_id),
        "subset_error": float(row.subset_error),
        "subset_budget": float(row.budget),
    }
    store.set_study_attrs(study_id, {TRANSFER_ATTR: {k: source[k] for k in ("tuned_on", "optimizer", "seed")}})
    config = study.optimizer.space.validate(row.config)
    pending = [
        t
        for t in store.frozen_trials(study_id)
        if t.state in (OptunaState.RUNNING, OptunaState.WAITING) and _same_config(t.params, config)
    ]
    if not pending:  # else the queued trial, or the one a dead process left running, is evaluated
        meta: dict[str, Any] = {TRANSFER_ATTR: source}
        if imported is not None:
            meta["imported_from"] = imported.name
        study.enqueue_trial(config, budget=float(epochs), seed=seed, metadata=meta)
    _logger.info("transfer: training %s (%s, seed %s) on the whole training split", row.base, row.condition, seed)
    study.optimize(catch=())
    record = _finished(store, name, config, epochs)
    if record is None:
        raise RuntimeError(
            f"study {name!r}: the training of {dict(config)} at {epochs} epochs did not complete (another process "
            "may be running it); make the table again when it has finished"
        )
    return record


def _old_key(row: Any, epochs: int) -> str:
    """The key an older hpolab gave a training in its JSON file."""
    return json.dumps([str(row.base), str(row.condition), int(row.seed), dict(sorted(row.config.items())), epochs])


def _read_old_cache(old_cache: str | os.PathLike[str] | None) -> tuple[Path | None, dict[str, Any]]:
    """The old JSON file (a file, or ``transfer.json`` in a folder) and its trainings; ``(None, {})`` if none."""
    if old_cache is None:
        return None, {}
    path = Path(old_cache)
    path = path / _OLD_CACHE if path.is_dir() else path
    if not path.is_file():
        return None, {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _logger.warning("transfer: %s is not a readable JSON file of trainings (%s); it is left out", path, exc)
        return None, {}
    if not isinstance(data, dict):
        _logger.warning("transfer: %s holds no trainings (a JSON object of them); it is left out", path)
        return None, {}
    return path, data


def _answering(objective: Objective, entry: Mapping[str, Any], path: Path) -> Objective:
    """``objective`` as a study knows it, answering with a training from the old JSON file instead of training."""
    from hpolab.objectives.base import FunctionObjective

    def recorded(config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> dict[str, Any]:
        test_error = entry.get("test_error")
        info: dict[str, Any] = {"imported_from": path.name}
        if test_error is not None and not math.isnan(float(test_error)):
            info["test_error"] = float(test_error)
        return {"value": float(entry["valid_error"]), "info": info}

    return FunctionObjective(
        recorded,
        objective.search_space,
        direction=objective.direction,
        name=objective.name,
        description=objective.description,
        fidelity=objective.fidelity,
        metric_name=objective.metric_name,
    )


def transfer_table(
    df: pd.DataFrame,
    storage: str | os.PathLike[str] | Storage,
    *,
    epochs: int | None = None,
    objective_kwargs: Mapping[str, Any] | None = None,
    old_cache: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Train each condition's best configuration on the whole training split once; score it on the test split.

    A training whose study in ``storage`` has finished is read, not trained again.

    Args:
        df: Trial table with the transfer runs (:func:`hpolab.benchmark.load_results`).
        storage: The results' storage (a URL, a path as :func:`~hpolab.benchmark.load_results` takes, or a
            Storage); the trainings are studies there (:func:`transfer_study_name`).
        epochs: Epochs of the final training (default: the objectives' full budget, ``max_budget``).
        objective_kwargs: Options for the whole-data objective (e.g. ``{"threads": 1}``).
        old_cache: A folder or file where an older hpolab kept these trainings as JSON (``transfer.json``):
            a training there whose study has not finished is recorded into its study from the file, not
            trained; trainings not in the file are trained.

    Returns:
        :func:`hpolab.analysis.best_configs`' columns plus ``test_error``, ``test_accuracy``,
        ``valid_error`` (of the final training), ``epochs`` and ``study`` (the training's study name).
        Empty when ``df`` has no transfer runs.
    """
    from hpolab.analysis._transfer import best_configs
    from hpolab.benchmark._results import _storage_url
    from hpolab.registry import make_objective
    from hpolab.storage import Storage, get_storage

    best = best_configs(df)
    if best.empty:
        return best.assign(test_error=[], test_accuracy=[], valid_error=[], epochs=[], study=[])
    old_path, old_trainings = _read_old_cache(old_cache)
    n_imported = 0
    own = not isinstance(storage, Storage)
    store = storage if isinstance(storage, Storage) else get_storage(_storage_url(storage))
    objectives: dict[tuple[str, int], Objective] = {}
    full_budget = df.groupby("objective")["max_budget"].max()
    rows: list[dict[str, Any]] = []
    try:
        for row in best.itertuples():
            full = full_budget.get(f"{row.base}/{row.condition}", row.budget)
            n_epochs = int(epochs if epochs is not None else full)  # type: ignore[arg-type]
            name = transfer_study_name(str(row.base), str(row.condition), str(row.optimizer), int(row.seed))  # type: ignore[arg-type]
            record = _finished(store, name, row.config, n_epochs)  # type: ignore[arg-type]
            if record is None:
                key = (str(row.base), n_epochs)
                if key not in objectives:
                    kwargs = {"max_epochs": n_epochs, **dict(objective_kwargs or {})}
                    objectives[key] = make_objective(f"{row.base}/whole", **kwargs)
                entry = old_trainings.get(_old_key(row, n_epochs))
                if entry is not None and old_path is not None:
                    answering = _answering(objectives[key], entry, old_path)
                    record = _train(store, name, answering, row, n_epochs, imported=old_path)
                    n_imported += 1
                else:
                    record = _train(store, name, objectives[key], row, n_epochs)
            test_error = record.info.get("test_error")
            rows.append(
                {
                    "test_error": math.nan if test_error is None else float(test_error),
                    "valid_error": math.nan if record.value is None else float(record.value),
                    "epochs": n_epochs,
                    "study": name,
                }
            )
    finally:
        close = getattr(store, "close", None)
        if own and close is not None:
            close()
    if n_imported:
        _logger.warning(
            "transfer: %d training(s) read from %s into their studies in the results' storage; the studies are "
            "read from now on, not the file",
            n_imported,
            old_path,
        )
    out = best.copy()
    out["test_error"] = [r["test_error"] for r in rows]
    out["test_accuracy"] = 1.0 - out["test_error"]
    out["valid_error"] = [r["valid_error"] for r in rows]
    out["epochs"] = [r["epochs"] for r in rows]
    out["study"] = [r["study"] for r in rows]
    return out
