"""CARP-S tasks as hpolab objectives: the ``carps/<task id>`` registry family.

A CARP-S task is defined by a YAML under ``carps/configs/task`` (a ConfigSpace, a fidelity space,
an objective function and a trial budget). ``carps/<name>`` names a task by its CARP-S name (the
``task.name`` of its YAML, e.g. ``carps/bbob/2/1/0``) or by its YAML's path under
``configs/task`` without ``.yaml`` (e.g. ``carps/BBOB/cfg_2_1_0`` or
``carps/subselection/blackbox/test/subset_bbob_16_11_0``). The task is built the way
``python -m carps.run`` builds it (Hydra's ``instantiate`` with the run's ``seed``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from hpolab.integrations.carps._common import describe_task, fidelity_of, import_carps, result_from_trial_value
from hpolab.objectives.base import Objective
from hpolab.space import SearchSpace
from hpolab.trial import Direction, TrialResult

__all__ = ["CARPSObjective", "list_carps", "load_task", "make_carps", "task_config_path"]

#: CARP-S's default run seed (its ``base.yaml``).
DEFAULT_SEED = 1


def _task_root() -> Path:
    carps = import_carps()
    return Path(carps.__file__).parent / "configs" / "task"


def _yaml_task_name(path: Path) -> str | None:
    """The ``task.name`` of a CARP-S task YAML, read from its text (no YAML parse: there are thousands)."""
    in_task = False
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("task:"):
                in_task = True
            elif in_task and line.startswith("  name:"):
                return line.split(":", 1)[1].strip().strip("'\"") or None
            elif in_task and line.strip() and not line.startswith(" "):
                return None
    return None


@functools.lru_cache(maxsize=1)
def _index() -> tuple[dict[str, Path], dict[str, Path]]:
    """(task name -> YAML, YAML path without suffix -> YAML); a name's main YAML wins over a subset's."""
    root = _task_root()
    by_name: dict[str, Path] = {}
    by_path: dict[str, Path] = {}
    files = sorted(root.rglob("*.yaml"), key=lambda p: (p.relative_to(root).parts[0] == "subselection", str(p)))
    for path in files:
        by_path[path.relative_to(root).with_suffix("").as_posix()] = path
        name = _yaml_task_name(path)
        if name is not None:
            by_name.setdefault(name, path)
    return by_name, by_path


def task_config_path(ref: str) -> Path:
    """The YAML of the CARP-S task ``ref`` (a task name or a config path under ``configs/task``).

    Raises:
        UnknownNameError: If no CARP-S task has that name or path (the message suggests close ones).
    """
    from hpolab.registry import unknown_objective

    by_name, by_path = _index()
    path = by_name.get(ref) or by_path.get(ref)
    if path is None:
        raise unknown_objective("carps", ref, _close_names(ref, list(by_name) + list(by_path)))
    return path


def _close_names(ref: str, known: list[str]) -> list[str]:
    """A few known names near ``ref`` (the full list has thousands of entries)."""
    import difflib

    return difflib.get_close_matches(ref, known, n=8, cutoff=0.5) or sorted(known)[:8]


def load_task(ref: str, seed: int = DEFAULT_SEED) -> Any:
    """Build the CARP-S ``Task`` ``ref`` as ``python -m carps.run`` does, with the run seed ``seed``.

    Raises:
        UnknownNameError: If ``ref`` names no CARP-S task.
        RuntimeError: If CARP-S cannot build the task (its benchmark's dependencies or data are missing).
    """
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.merge(OmegaConf.create({"seed": int(seed)}), OmegaConf.load(task_config_path(ref)))
    try:
        return instantiate(cfg.task)
    except Exception as exc:  # Hydra wraps the benchmark's own import / file errors
        cause = exc.__cause__ or exc
        raise RuntimeError(
            f"carps/{ref}: CARP-S cannot build this task here ({type(cause).__name__}: {cause}); install its "
            "benchmark's own dependencies as CARP-S's README says (yahpo-gym and its data for YAHPO, containers "
            "for HPOBench, the HPO-B data); BBOB, BBOBVizier, Pymoo and DUMMY tasks need nothing more"
        ) from exc


class CARPSObjective(Objective):
    """A CARP-S task as an hpolab Objective (minimized, like every CARP-S cost).

    The search space is the task's ConfigSpace, the fidelity its fidelity space (``None`` for a
    blackbox task), the optimum the objective function's ``f_min`` where CARP-S knows it (BBOB),
    and ``evaluate`` calls the task's objective function with a ``TrialInfo``. Pickling keeps only
    the task's name and seed; a worker process builds the task again.

    Args:
        ref: The task's CARP-S name (``"bbob/2/1/0"``) or its config path (``"BBOB/cfg_2_1_0"``).
        seed: CARP-S's run seed, given to the task's YAML (``${seed}``).

    Attributes:
        task: The CARP-S ``Task``.
        n_trials: CARP-S's trial budget for the task (full-budget equivalents on a multi-fidelity task).

    Raises:
        UnknownNameError: If ``ref`` names no CARP-S task.
        RuntimeError: If CARP-S cannot build the task (its benchmark's dependencies or data are missing).
        ValueError: If the task has several objectives.
    """

    direction = Direction.MINIMIZE

    def __init__(self, ref: str, *, seed: int = DEFAULT_SEED) -> None:
        self.ref = ref
        self.seed = int(seed)
        self.task = load_task(ref, self.seed)
        n_objectives = self.task.output_space.n_objectives
        if n_objectives != 1:
            raise ValueError(
                f"carps/{ref}: the task has {n_objectives} objectives; hpolab objectives have one, "
                "pick a single-objective CARP-S task"
            )
        self.name = f"carps/{self.task.name}"
        self._configspace = self.task.objective_function.configspace
        self._space = SearchSpace(self._configspace)
        self.fidelity = fidelity_of(self.task.input_space.fidelity_space)
        f_min = self.task.objective_function.f_min
        self.optimum = None if f_min is None else float(f_min)
        self.n_trials: int | None = self.task.optimization_resources.n_trials
        self.metric_name = f"CARP-S cost ({', '.join(str(o) for o in self.task.output_space.objectives)})"
        self.description = describe_task(self.task)

    @property
    def search_space(self) -> SearchSpace:
        return self._space

    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        """Evaluate ``config`` with the task's objective function.

        Args:
            config: A configuration of the task's space.
            budget: The fidelity value; ``None`` is the task's ``max_fidelity`` (or none for a blackbox task).
            seed: The ``TrialInfo``'s seed.

        Returns:
            The cost as the value; the virtual (surrogate) time, else the ``TrialValue``'s ``time``, as the
            runtime; the task's ``additional_info`` and the budget used in ``info``.

        Raises:
            ValueError: If a budget is given to a blackbox task or is outside the fidelity range.
        """
        from carps.utils.trials import TrialInfo
        from ConfigSpace import Configuration

        clean = self._space.validate(config)
        used: float | None = None
        normalized: float | None = None
        if self.fidelity is not None:
            used = self.fidelity.check(budget)
            normalized = used / self.fidelity.max
        elif budget is not None:
            raise ValueError(f"budget: {budget} given, but {self.name} is not a multi-fidelity task")
        trial_info = TrialInfo(
            config=Configuration(self._configspace, values=clean),
            seed=seed,
            budget=used,
            normalized_budget=normalized,
        )
        result = result_from_trial_value(self.task.objective_function.evaluate(trial_info=trial_info))
        if self.fidelity is not None:
            result = replace(result, info={**result.info, self.fidelity.name: used})
        return result

    def __getstate__(self) -> dict[str, Any]:
        return {"ref": self.ref, "seed": self.seed}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["ref"], seed=state["seed"])  # type: ignore[misc]


def make_carps(rest: str, **kwargs: Any) -> Objective:
    """Registry factory of the ``carps`` family: ``carps/<task name or config path>`` (``seed=`` the run seed)."""
    unknown = sorted(set(kwargs) - {"seed"})
    if unknown:
        raise TypeError(f"carps/{rest}: unexpected arguments {unknown}; the only option is seed=")
    return CARPSObjective(rest, **kwargs)


def list_carps() -> dict[str, str]:
    """Registry lister of the ``carps`` family: every CARP-S task name, with its config group."""
    by_name, _ = _index()
    root = _task_root()
    return {
        f"carps/{name}": f"CARP-S task ({path.relative_to(root).parent.as_posix()})"
        for name, path in sorted(by_name.items())
    }
