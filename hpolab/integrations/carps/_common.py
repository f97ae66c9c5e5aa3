"""What both directions of the CARP-S integration share: the import, fidelities, results, descriptions."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from hpolab.objectives.base import Fidelity
from hpolab.trial import TrialResult, to_plain

__all__ = ["describe_task", "fidelity_of", "import_carps", "result_from_trial_value", "to_plain_dict"]

INSTALL_HINT = 'pip install "hpolab[carps]"'


def import_carps() -> Any:
    """Import the ``carps`` package, or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module("carps")
    except ImportError as exc:
        raise ImportError(f"{exc}. The CARP-S integration needs CARP-S: {INSTALL_HINT}") from exc


def fidelity_of(fidelity_space: Any) -> Fidelity | None:
    """A CARP-S ``FidelitySpace`` as an hpolab Fidelity (``None`` for a single-fidelity task).

    The fidelity counts whole units (epochs) when both bounds are integers, as CARP-S's YAMLs
    write them; fractions (a training-set share) otherwise.
    """
    if fidelity_space is None or not fidelity_space.is_multifidelity:
        return None
    lo, hi = fidelity_space.min_fidelity, fidelity_space.max_fidelity
    integer = all(isinstance(b, int) and not isinstance(b, bool) for b in (lo, hi))
    return Fidelity(str(fidelity_space.fidelity_type), float(lo), float(hi), integer=integer)


def result_from_trial_value(trial_value: Any) -> TrialResult:
    """A CARP-S ``TrialValue`` as an hpolab TrialResult.

    CARP-S's cost is the value; the result's runtime is the virtual (surrogate / table) time when the
    task records one, else its ``time``. A status other than SUCCESS is a FAIL.

    Raises:
        ValueError: If the cost is a list (a multi-objective task).
    """
    status = getattr(trial_value.status, "name", str(trial_value.status))
    virtual = float(trial_value.virtual_time or 0.0)
    seconds = virtual if virtual > 0 else float(trial_value.time or 0.0)
    info = {**to_plain(dict(trial_value.additional_info or {})), "carps_status": status}
    if status != "SUCCESS":
        return TrialResult.fail(f"CARP-S status {status}", runtime=seconds, **info)
    cost = trial_value.cost
    if isinstance(cost, (list, tuple)):
        raise ValueError(
            f"cost: {cost!r} has several objectives; hpolab's CARP-S integration handles single-objective tasks"
        )
    return TrialResult(float(cost), runtime=seconds, info=info)


def to_plain_dict(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``options`` (a dict or an OmegaConf ``DictConfig`` from Hydra) as a plain dict."""
    if options is None:
        return {}
    if type(options).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        container = OmegaConf.to_container(options, resolve=True)
        if not isinstance(container, dict):
            raise ValueError(f"optimizer_kwargs: {options!r} is not a mapping")
        return {str(k): v for k, v in container.items()}
    if not isinstance(options, Mapping):
        raise ValueError(f"optimizer_kwargs: {options!r} is not a mapping of option names to values")
    return {str(k): v for k, v in options.items()}


def describe_task(task: Any) -> str:
    """Text an LLM reads about a CARP-S task: its name, function, kind, space and what is minimized."""
    meta = task.metadata
    fidelity = task.input_space.fidelity_space
    objectives = ", ".join(str(o) for o in task.output_space.objectives)
    parts = [f"CARP-S benchmark task {task.name}."]
    function_name = _function_name(task.objective_function)
    if function_name:
        parts.append(f"The objective function is {function_name}.")
    kind = [str(x) for x in (meta.domain, meta.objective_function_approximation) if x]
    if kind:
        parts.append(f"Kind: {' / '.join(kind)}.")
    n_params = len(list(task.input_space.configuration_space.values()))
    parts.append(f"It has {n_params} hyperparameters; minimize the cost ({objectives}).")
    if fidelity.is_multifidelity:
        parts.append(
            f"The fidelity {fidelity.fidelity_type} runs from {fidelity.min_fidelity} to {fidelity.max_fidelity}; "
            "the largest gives the true cost."
        )
    if meta.deterministic is not None:
        parts.append("Evaluations are deterministic." if meta.deterministic else "Evaluations are noisy.")
    return " ".join(parts)


def _function_name(objective_function: Any) -> str | None:
    """The BBOB function's name from ioh's meta data, where the objective function has one."""
    meta = getattr(getattr(objective_function, "_problem", None), "meta_data", None)
    name = getattr(meta, "name", None)
    if name is None:
        return None
    fid = getattr(meta, "problem_id", None)
    dims = getattr(meta, "n_variables", None)
    label = f"the BBOB function f{fid} ({name})" if fid is not None else str(name)
    return f"{label} in {dims} dimensions" if dims is not None else label
