"""The suite registry: the named comparisons ``hpolab compare --suite NAME`` runs, and planning them.

:data:`SUITES` holds the quick suite, the papers' suites (:mod:`hpolab.benchmark.papers`, one module per
paper) and CARP-S's offline subsets. :func:`plan_runs` turns a suite into the runs this install can do
and one line for each thing it skips (a missing extra, a data set that is not on disk), with the
command that enables it; nothing it skips ends in a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hpolab._deprecation import renamed_keyword
from hpolab.benchmark._carps_suites import CARPS_SUITES
from hpolab.benchmark._plan import SEED_SCHEME, RunSpec, plan
from hpolab.benchmark._suite import LOCAL_LLM, Suite, SuitePlan, _filter, _task_limits
from hpolab.benchmark.papers import PAPER_SUITES

__all__ = [
    "SUITES",
    "get_suite",
    "plan_runs",
    "plan_suite",
    "suite_of",
]

_logger = logging.getLogger("hpolab.benchmark")


def plan_runs(
    suite: Suite | str,
    *,
    optimizers: Sequence[str] | Mapping[str, Any] | None = None,
    objectives: Sequence[str] | None = None,
    seeds: int | Iterable[int] | None = None,
    n_trials: int | None = None,
    max_budget_spent: float | None = None,
    budget: float | None = None,
    random_pool: int | None = None,
    parts: bool | Sequence[str] = True,
    context: Mapping[str, Any] | None = None,
    seed_scheme: int | None = None,
) -> SuitePlan:
    """The runs of a suite that can run on this install, and one line for each thing skipped.

    Arguments override the suite's own for the main comparison; ``seeds`` also applies to the parts.
    An objective or optimizer whose extra is missing is left out with a line saying how to enable it;
    a part none of whose runs can go is left out the same way.

    Args:
        suite: A :class:`Suite` or its name.
        optimizers: Optimizers of the main comparison.
        objectives: Objectives of the main comparison (patterns allowed).
        seeds: Number of seeds or the seeds.
        n_trials: Trials per run of the main comparison.
        max_budget_spent: Total fidelity per run of the main comparison (e.g. epochs).
        budget: Deprecated old name of ``max_budget_spent``.
        random_pool: Random configurations per objective for the bootstrap baseline.
        parts: Run the parts: ``True`` (those with ``default=True``), ``False`` or the names of the
            parts to run (opt-in parts included).
        context: Recorded with every study (command line).
        seed_scheme: How each run's optimizer seed derives from its seed and objective
            (:data:`hpolab.benchmark.SEED_SCHEMES`; ``None``: the current scheme).

    Raises:
        ValueError: If the suite is unknown, or nothing of the main comparison can run here.
        TypeError: If both ``max_budget_spent`` and its old name ``budget`` are given.
    """
    max_budget_spent = renamed_keyword("plan_runs", "budget", "max_budget_spent", budget, max_budget_spent)
    scheme = SEED_SCHEME if seed_scheme is None else seed_scheme
    s = get_suite(suite) if isinstance(suite, str) else suite
    ctx = {"suite": s.name, **dict(context or {})}
    skipped: list[str] = []
    opts, objs = _filter(
        optimizers if optimizers is not None else s.optimizers, objectives or s.objectives, "", skipped
    )
    if not opts or not objs:
        raise ValueError(
            f"suite {s.name}: nothing of the comparison can run on this install: " + "; ".join(skipped or ["no runs"])
        )
    specs = plan(
        opts,
        objs,
        seeds if seeds is not None else s.seeds,
        n_trials=n_trials if n_trials is not None else s.n_trials,
        max_budget_spent=max_budget_spent if max_budget_spent is not None else s.max_budget_spent,
        random_pool=s.random_pool if random_pool is None else random_pool,
        objective_kwargs=s.objective_kwargs,
        context={**ctx, "part": "main"},
        seed_scheme=scheme,
    )
    if s.task_trials:
        specs = _task_limits(specs, s.task_trials, n_trials is not None or max_budget_spent is not None, "", skipped)
    by_part = {"main": [sp.study_name for sp in specs]}
    wanted = {p.name for p in s.parts if p.default} if parts is True else set(parts or ())
    unknown = sorted(wanted - {p.name for p in s.parts})
    if unknown:
        raise ValueError(f"parts: {unknown} are not parts of suite {s.name}; its parts: {[p.name for p in s.parts]}")
    for part in s.parts:
        if part.name not in wanted:
            continue
        where = f" (part `{part.name}`)"
        p_opts, p_objs = _filter(part.optimizers, part.objectives, where, skipped)
        if not p_opts or not p_objs:
            skipped.append(f"skipped part `{part.name}`: none of its runs can go on this install")
            continue
        p_specs = plan(
            p_opts,
            p_objs,
            seeds if seeds is not None else (part.seeds if part.seeds is not None else s.seeds),
            n_trials=part.n_trials if part.n_trials is not None or part.max_budget_spent is not None else s.n_trials,
            max_budget_spent=part.max_budget_spent,
            objective_kwargs=s.objective_kwargs if part.objective_kwargs is None else part.objective_kwargs,
            context={**ctx, "part": part.name},
            seed_scheme=scheme,
        )
        if s.task_trials:
            limited = part.n_trials is not None or part.max_budget_spent is not None
            p_specs = _task_limits(p_specs, s.task_trials, limited, where, skipped)
        known = {sp.study_name for sp in specs}
        p_specs = [sp for sp in p_specs if sp.study_name not in known]
        specs += p_specs
        by_part[part.name] = [sp.study_name for sp in p_specs]
    return SuitePlan(specs=specs, skipped=skipped, parts=by_part)


#: The named suites.
SUITES: dict[str, Suite] = {
    "quick": Suite(
        name="quick",
        description=(
            "A few minutes on 2 CPU cores: two 2-D toy functions and two HPOBench NN tables; random search, "
            "TPE, SMAC (random forest) and the local LLM optimizer (SmolLM2-135M through llama.cpp: grammar-constrained "
            "compact answers, the values alone in the space's order; duplicates perturbed); 10 evaluations per run."
        ),
        optimizers={
            "random": "random",
            "tpe": "tpe",
            "smac-rf": "smac-rf",
            "llm": {**LOCAL_LLM, "answer_format": "compact"},
        },
        objectives=["toy/branin", "toy/shifted_ackley", "hpobench/nn/kc1", "hpobench/nn/credit_g"],
        seeds=2,
        n_trials=10,
        random_pool=200,
        table1_n_trials=10,
        sections=("table1", "importance"),
    ),
    **PAPER_SUITES,
    **CARPS_SUITES,
}


def get_suite(name: str) -> Suite:
    """The suite called ``name``.

    Raises:
        ValueError: If there is no such suite (the message lists them).
    """
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"suite: {name!r} is not a suite; known: {', '.join(sorted(SUITES))}") from None


def suite_of(contexts: Sequence[Mapping[str, Any]]) -> list[Suite]:
    """The named suites the studies were run by (from their bookkeeping), known ones only, in order.

    Args:
        contexts: The studies' benchmark attributes (:func:`hpolab.benchmark.study_contexts`).
    """
    names: list[str] = []
    for c in contexts:
        name = (c.get("context") or {}).get("suite")
        if name in SUITES and name not in names:
            names.append(str(name))
    return [SUITES[n] for n in names]


def plan_suite(
    suite: str | Suite,
    *,
    optimizers: Sequence[str] | Mapping[str, Any] | None = None,
    objectives: Sequence[str] | None = None,
    seeds: int | Iterable[int] | None = None,
    n_trials: int | None = None,
    max_budget_spent: float | None = None,
    budget: float | None = None,
    random_pool: int | None = None,
    context: Mapping[str, Any] | None = None,
    seed_scheme: int = SEED_SCHEME,
) -> tuple[Suite, list[RunSpec]]:
    """A named suite, narrowed or resized, and its runs: every argument given overrides the suite's own.

    An optimizer name that the suite configures keeps the suite's options (e.g. the LLM's answer
    format). With ``n_trials`` given, Table 1 is computed at that many evaluations. Run the specs
    with :func:`execute`; ``hpolab compare`` is this plus a report.

    Args:
        suite: A suite or its name (:data:`SUITES`).
        optimizers: Registry names (or ``{label: spec}``) instead of the suite's.
        objectives: Objective names or patterns instead of the suite's. Giving ``optimizers`` or
            ``objectives`` runs just that comparison, without the suite's parts.
        seeds: Number of seeds (or the seeds) instead of the suite's.
        n_trials: Evaluations (trials) per run; it also replaces a suite's per-objective budgets
            (:attr:`Suite.task_trials`).
        max_budget_spent: Total fidelity per run (e.g. epochs); it too replaces per-objective trial counts.
        budget: Deprecated old name of ``max_budget_spent``.
        random_pool: Random configurations per objective for the bootstrap baseline.
        context: Recorded with each study, beside the suite's name.
        seed_scheme: How each run's optimizer seed derives from its seed (:data:`SEED_SCHEMES`).

    Returns:
        The suite with the overrides applied, and its runs.

    Raises:
        ValueError: If the suite is unknown or an override is invalid.
        TypeError: If both ``max_budget_spent`` and its old name ``budget`` are given.
    """
    max_budget_spent = renamed_keyword("plan_suite", "budget", "max_budget_spent", budget, max_budget_spent)
    from dataclasses import replace

    s = get_suite(suite) if isinstance(suite, str) else suite
    changes: dict[str, Any] = {}
    if optimizers is not None:
        given = s.optimizers if isinstance(s.optimizers, Mapping) else {}
        changes["optimizers"] = (
            dict(optimizers) if isinstance(optimizers, Mapping) else {n: given.get(n, n) for n in optimizers}
        )
    if objectives is not None:
        changes["objectives"] = list(objectives)
    if seeds is not None:
        changes["seeds"] = seeds
    if n_trials is not None:
        changes["n_trials"] = n_trials
        changes["table1_n_trials"] = n_trials if "table1" in s.sections else min(s.table1_n_trials, n_trials)
    if max_budget_spent is not None:
        changes["max_budget_spent"] = max_budget_spent
    if random_pool is not None:
        changes["random_pool"] = random_pool
    s = replace(s, **changes)
    # the suite's parts too; what this install cannot run is
    # left out with one logged line saying how to enable it
    # narrowing the comparison to some optimizers or objectives runs just that, without the parts
    runs = plan_runs(
        s,
        seeds=seeds,
        n_trials=n_trials,
        max_budget_spent=max_budget_spent,
        parts=optimizers is None and objectives is None,
        context=context,
        seed_scheme=seed_scheme,
    )
    for line in runs.skipped:
        _logger.warning("%s", line)
    return s, runs.specs
