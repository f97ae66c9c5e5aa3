"""Planning a grid: one :class:`RunSpec` per optimizer x objective x seed, and each run's optimizer seed."""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpolab._deprecation import renamed_fields, renamed_keyword
from hpolab._table import POOL_LABEL

__all__ = [
    "LLM_CLIENT_OPTIMIZERS",
    "SEED_SCHEME",
    "SEED_SCHEMES",
    "RunSpec",
    "expand_objectives",
    "optimizer_seed",
    "plan",
    "with_llm",
]

#: The rule that gives a run its optimizer's seed, recorded in each study's bookkeeping (``seed_scheme``).
SEED_SCHEME = 2

#: What each seed scheme means, in words (the report prints the one its runs used).
SEED_SCHEMES: dict[int, str] = {
    1: (
        "seed scheme 1: the optimizer's seed was the run's seed itself on every objective, so runs with one seed "
        "on objectives of the same search space drew the same random configurations (their results are not "
        "independent draws across tasks)"
    ),
    2: (
        "seed scheme 2: the optimizer's seed of a run is derived from (seed, objective) as the first 4 bytes of "
        'SHA-256 of "objective|seed" (31 bits), so runs on different tasks are independent draws; methods on one '
        "(task, seed) get the same derived seed, and the objective's noise and data split take the plain seed, "
        "so they are shared by every method on that (task, seed)"
    ),
}


@renamed_fields(budget="max_budget_spent")
@dataclass(frozen=True)
class RunSpec:
    """One run of the grid.

    Attributes:
        optimizer: Label of the optimizer in results (usually its registry name).
        objective: Registry name of the objective.
        seed: Seed of the optimizer (and of the objective's noise, where it takes one).
        n_trials: Finished trials the run should hold (``None``: only ``max_budget_spent`` limits it).
        max_budget_spent: Total fidelity (e.g. epochs) the run may spend, summed over its trials
            (``None``: only ``n_trials``). ``budget=`` is its deprecated old name.
        optimizer_name: Registry name of the optimizer.
        optimizer_kwargs: Options for the optimizer.
        objective_kwargs: Options for the objective.
        context: Command line and suite recorded with the study.
        seed_scheme: How the optimizer's seed derives from ``seed`` (:data:`SEED_SCHEMES`).
    """

    optimizer: str
    objective: str
    seed: int
    n_trials: int | None
    max_budget_spent: float | None
    optimizer_name: str
    optimizer_kwargs: Mapping[str, Any] = field(default_factory=dict)
    objective_kwargs: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    seed_scheme: int = SEED_SCHEME

    @property
    def study_name(self) -> str:
        """The study's name: ``"{optimizer}|{objective}|{seed}"``."""
        return f"{self.optimizer}|{self.objective}|{self.seed}"

    @property
    def optimizer_seed(self) -> int:
        """The seed the optimizer gets (:func:`optimizer_seed` of this run's seed and objective)."""
        return optimizer_seed(self.seed, self.objective, self.seed_scheme)

    def limits(self) -> dict[str, Any]:
        """The limits a finished run was run with."""
        return {"n_trials": self.n_trials, "max_budget_spent": self.max_budget_spent}


def _check_scheme(scheme: int) -> int:
    if isinstance(scheme, bool) or scheme not in SEED_SCHEMES:
        raise ValueError(
            f"seed_scheme: {scheme!r} is not a seed scheme; known: {sorted(SEED_SCHEMES)} "
            f"({SEED_SCHEME}, the default, derives a seed per task)"
        )
    return int(scheme)


def optimizer_seed(seed: int, objective: str, scheme: int = SEED_SCHEME) -> int:
    """The optimizer's seed of the run with ``seed`` on ``objective``.

    Scheme 2 (the default) hashes ``"objective|seed"`` with SHA-256 and keeps the first 4 bytes,
    masked to 31 bits (so any library's seed argument takes it); the result is the same on every
    machine and Python version. Scheme 1 is the seed itself, shared by every objective.

    Args:
        seed: The run's seed (it also seeds the objective's noise and data split).
        objective: The objective's registry name.
        scheme: A key of :data:`SEED_SCHEMES`.

    Raises:
        ValueError: If ``scheme`` is unknown.
    """
    if _check_scheme(scheme) == 1:
        return int(seed)
    digest = hashlib.sha256(f"{objective}|{int(seed)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _optimizer_specs(optimizers: Sequence[str] | Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, registry name, kwargs) per optimizer."""
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    out: list[tuple[str, str, dict[str, Any]]] = []
    if isinstance(optimizers, Mapping):
        for label, spec in optimizers.items():
            if isinstance(spec, str):
                out.append((str(label), spec, {}))
            elif isinstance(spec, Mapping):
                kwargs = dict(spec)
                name = kwargs.pop("name", label)
                out.append((str(label), str(name), kwargs))
            else:
                raise TypeError(
                    f"optimizers[{label!r}]: {spec!r} is not a registry name or a dict like "
                    "{'name': 'llm', 'chain_of_thought': True}"
                )
    else:
        for name in optimizers:
            out.append((str(name), str(name), {}))
    labels = [label for label, _, _ in out]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ValueError(f"optimizers: label(s) {dupes} given twice; give each configuration its own label")
    for label in labels:
        if "|" in label:
            raise ValueError(f"optimizers: label {label!r} contains '|', which separates the parts of study names")
    return out


def expand_objectives(objectives: Iterable[str] | str) -> list[str]:
    """Registry names with shell wildcards expanded (``"hpobench/nn/*"`` -> the eight tables).

    Raises:
        ValueError: If a pattern matches no registered objective.
    """
    from hpolab.registry import list_objectives

    if isinstance(objectives, str):
        objectives = [objectives]
    out: list[str] = []
    known: list[str] | None = None
    for name in objectives:
        if any(ch in name for ch in "*?["):
            if known is None:
                known = [k for k in list_objectives() if not k.endswith("...") and "<" not in k]
            matches = [k for k in known if fnmatch.fnmatchcase(k, name)]
            if not matches:
                raise ValueError(
                    f"objectives: pattern {name!r} matches no registered objective (is its extra installed? "
                    "`hpolab list objectives` shows them)"
                )
            out.extend(m for m in matches if m not in out)
        elif name not in out:
            out.append(name)
    return out


def _seeds(seeds: int | Iterable[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise ValueError(f"seeds: {seeds!r} is not a number of seeds or a list of seeds")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds: {seeds} must be at least 1 (or a list of seeds)")
        return list(range(seeds))
    out = [int(s) for s in seeds]
    if not out:
        raise ValueError("seeds: no seed given")
    return out


def plan(
    optimizers: Sequence[str] | Mapping[str, Any],
    objectives: Iterable[str] | str,
    seeds: int | Iterable[int],
    *,
    n_trials: int | None = None,
    max_budget_spent: float | None = None,
    budget: float | None = None,
    random_pool: int = 0,
    objective_kwargs: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    seed_scheme: int = SEED_SCHEME,
) -> list[RunSpec]:
    """The runs of a grid, in order (objective, optimizer, seed), plus the random pools.

    Args:
        optimizers: Registry names, or ``{label: name or {"name": name, **options}}``.
        objectives: Registry names (wildcards allowed).
        seeds: A number of seeds (``0..seeds-1``) or the seeds.
        n_trials: Trials per run.
        max_budget_spent: Total fidelity per run (e.g. epochs summed over its trials); runs stop at
            whichever limit comes first.
        budget: Deprecated old name of ``max_budget_spent``.
        random_pool: If positive, one extra run per objective labelled ``"random-pool"`` with this
            many random configurations (seed 0), the pool of Table 1's bootstrap baseline.
        objective_kwargs: Options for every objective.
        context: Recorded with each study (command line, suite).
        seed_scheme: How each run's optimizer seed derives from its seed (:data:`SEED_SCHEMES`);
            1 only to extend a storage made with it.

    Raises:
        ValueError: If neither ``n_trials`` nor ``max_budget_spent`` is given, one is not positive, or the
            seed scheme is unknown.
        TypeError: If both ``max_budget_spent`` and its old name ``budget`` are given.
    """
    max_budget_spent = renamed_keyword("plan", "budget", "max_budget_spent", budget, max_budget_spent)
    if n_trials is None and max_budget_spent is None:
        raise ValueError("n_trials / max_budget_spent: give at least one limit per run, e.g. n_trials=10")
    if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1):
        raise ValueError(f"n_trials: {n_trials!r} must be a positive int")
    if max_budget_spent is not None and not (max_budget_spent > 0):
        raise ValueError(f"max_budget_spent: {max_budget_spent!r} must be positive (e.g. total epochs per run)")
    if random_pool < 0:
        raise ValueError(f"random_pool: {random_pool} must be >= 0")
    scheme = _check_scheme(seed_scheme)
    opts = _optimizer_specs(optimizers)
    objs = expand_objectives(objectives)
    seed_list = _seeds(seeds)
    ctx = dict(context or {})
    okw = dict(objective_kwargs or {})
    specs = [
        RunSpec(label, obj, seed, n_trials, max_budget_spent, name, kwargs, okw, ctx, scheme)
        for obj in objs
        for label, name, kwargs in opts
        for seed in seed_list
    ]
    if random_pool:
        specs += [RunSpec(POOL_LABEL, obj, 0, int(random_pool), None, "random", {}, okw, ctx, scheme) for obj in objs]
    return specs


#: Registered optimizers whose LLM is built from a ``client`` option (``with_llm`` replaces it).
LLM_CLIENT_OPTIMIZERS = ("llm", "llm-multimodal", "llm-hybrid", "llm-tpe", "llm-smac")


def with_llm(specs: Sequence[RunSpec], client: Mapping[str, Any]) -> list[RunSpec]:
    """The same runs with every LLM optimizer's model replaced by ``client`` (a :func:`hpolab.llm.make_client` spec).

    The optimizer's label gets the model's name in brackets (``llm[qwen2.5-7b]``), so the runs are
    new studies beside those of another model and Table 1 names the model.

    Args:
        specs: Planned runs.
        client: ``{"model": "path/to.gguf"}`` or ``{"base_url": "http://host/v1", "model": "name"}``.
    """
    from dataclasses import replace

    model = str(client.get("model") or client.get("base_url") or "model")
    short = Path(model).stem if model.endswith(".gguf") else model.rsplit("/", 1)[-1]
    out = []
    for spec in specs:
        if spec.optimizer_name not in LLM_CLIENT_OPTIMIZERS:
            out.append(spec)
            continue
        kwargs = {k: v for k, v in spec.optimizer_kwargs.items() if k not in ("client", "llama_cpp", "simulated_llm")}
        kwargs["client"] = dict(client)
        out.append(replace(spec, optimizer=f"{spec.optimizer}[{short}]", optimizer_kwargs=kwargs))
    return out
