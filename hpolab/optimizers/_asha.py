"""ASHA (asynchronous successive halving) and asynchronous Hyperband: schedulers over any optimizer.

A scheduler decides *how much budget* a trial gets and when a configuration is promoted; the
wrapped optimizer (the *base*, or searcher) decides *which configuration* is tried next. This is
Syne Tune's scheduler / searcher split, and it lets any hpolab optimizer (random, TPE, SMAC, the
LLM ones) run multi-fidelity.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hpolab.optimizers._base import Optimizer, OptimizerError, Proposal, SearchExhausted
from hpolab.trial import Direction, Trial, TrialResult, TrialState, budget_spent

__all__ = ["ASHA", "Hyperband", "rung_budgets"]

_logger = logging.getLogger("hpolab.optimizers.asha")

#: ASHA's defaults without a fidelity: r = 1, R = 16, eta = 4.
DEFAULT_MIN_BUDGET = 1.0
DEFAULT_MAX_BUDGET = 16.0


def rung_budgets(min_budget: float, max_budget: float, eta: int) -> list[float]:
    """Budgets of the rungs: ``r * eta**k`` for ``k < K`` and ``R`` at the top.

    ``K = floor(log_eta(R / r))``; when ``R / r`` is a power of ``eta`` this is exactly
    ``r, r * eta, ..., R`` (1, 4, 16 for r = 1, R = 16, eta = 4). Otherwise the top rung is ``R``
    itself, so the best configurations are always evaluated at the full budget.

    Raises:
        ValueError: If the budgets or ``eta`` are out of range.
    """
    if not (0 < min_budget <= max_budget) or not math.isfinite(max_budget):
        raise ValueError(f"min_budget/max_budget: need 0 < min_budget <= max_budget, got {min_budget}, {max_budget}")
    if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
        raise ValueError(f"eta: {eta!r} must be an int >= 2")
    top = math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9)
    budgets = [float(min_budget * eta**k) for k in range(top)]
    budgets.append(float(max_budget))
    return budgets


@dataclass
class _Config:
    """One configuration followed through the rungs of its bracket."""

    cid: int
    config: dict[str, Any]
    bracket: int
    base_trial: int | None = None
    values: dict[int, float] = field(default_factory=dict)


@dataclass
class _Pending:
    cid: int
    bracket: int
    rung: int


class ASHA(Optimizer):
    """Asynchronous successive halving (Li et al., 2020) as a scheduler over any hpolab optimizer.

    Rungs ``k = 0..K`` have the budgets of :func:`rung_budgets` (1, 4, 16 for the defaults r = 1,
    R = 16, eta = 4). Every ask (and every slot of a batch ask) follows ASHA's
    ``get_job``: from the highest rung down, if a configuration is in the top ``floor(n_k / eta)``
    of the ``n_k`` results of rung ``k`` and was not yet promoted, it is promoted: the *same*
    configuration is asked again at the budget of rung ``k + 1``. Otherwise the base optimizer is
    asked for a new configuration, which starts at rung 0. Failed results count in ``n_k`` and are
    never promoted. Nothing waits for stragglers: asks never block on running trials.

    Which results the base optimizer learns from: exactly one per configuration it proposed,
    the result at the configuration's *first* rung (rung 0, the smallest budget). Why: every
    configuration the base proposed is evaluated there, so the base sees all of its proposals,
    on one fidelity, with comparable values, and is told each one once as soon as it exists
    (asynchronously, without waiting for promotions). Telling it the highest rung reached instead
    would mix fidelities in one model (low-budget values of e.g. ``toy/branin-mf`` are biased) and
    would show it only the survivors' later results, a sample selected by the scheduler itself.
    Results at higher rungs stay in the scheduler, which uses them for promotions and which
    reports them in :attr:`history` (and :attr:`best`).

    Budget accounting: every trial carries its budget; a promoted configuration is trained again
    at the higher budget (no checkpoint is assumed), so the budget spent is the sum of the trial
    budgets, :attr:`budget_spent`, which is also what a Study accounts with ``max_budget_spent``.

    Args:
        space: The search space.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the scheduler; a base given by name gets the same seed.
        base: The searcher: a registry name (``"random"``, ``"tpe"``, ``"smac-rf"``...) or an
            Optimizer over the same space and direction (fresh, owned by the scheduler from now on).
        base_kwargs: Options of a base given by name.
        min_budget: Budget of rung 0 (r); ``None``: the Study's fidelity minimum, else 1.
        max_budget: Budget of the top rung (R); ``None``: the Study's fidelity maximum, else 16.
        eta: Reduction factor: the top ``1 / eta`` of a rung is promoted.
    """

    name: ClassVar[str] = "asha"

    def __init__(
        self,
        space: Any,
        *,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
        base: str | Optimizer = "random",
        base_kwargs: Mapping[str, Any] | None = None,
        min_budget: float | None = None,
        max_budget: float | None = None,
        eta: int = 4,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
            raise ValueError(f"eta: {eta!r} must be an int >= 2")
        if min_budget is not None and max_budget is not None:
            rung_budgets(float(min_budget), float(max_budget), eta)  # validates
        for label, budget in (("min_budget", min_budget), ("max_budget", max_budget)):
            if budget is not None and (isinstance(budget, bool) or not budget > 0):
                raise ValueError(f"{label}: {budget!r} must be a positive number or None")
        self.eta = eta
        self.min_budget = None if min_budget is None else float(min_budget)
        self.max_budget = None if max_budget is None else float(max_budget)
        self.base = self._make_base(base, dict(base_kwargs or {}))
        self._budgets: list[float] | None = None
        self._configs: dict[int, _Config] = {}
        self._rungs: dict[tuple[int, int], list[tuple[float, int]]] = {}
        self._promoted: dict[tuple[int, int], set[int]] = {}
        self._bracket_counts: dict[int, int] = {}

    # -------------------------------------------------------------- set-up
    def _make_base(self, base: str | Optimizer, kwargs: dict[str, Any]) -> Optimizer:
        if isinstance(base, Optimizer):
            if kwargs:
                raise ValueError("base_kwargs: only for a base given by name; configure the Optimizer directly")
            if base.space != self.space:
                raise ValueError(f"base: {base!r} works on another search space than this scheduler")
            if base.direction is not self.direction:
                raise ValueError(
                    f"base: direction {base.direction.value!r} differs from the scheduler's {self.direction.value!r}"
                )
            if base.n_told or base.pending:
                raise ValueError(f"base: {base!r} was already used; give a fresh optimizer")
            return base
        if not isinstance(base, str):
            raise ValueError(f"base: {base!r} must be an optimizer name (e.g. 'random', 'tpe') or an Optimizer")
        if base in ("asha", "hyperband"):
            raise ValueError(f"base: {base!r} is a scheduler; give a searcher such as 'random' or 'tpe'")
        from hpolab.registry import make_optimizer

        return make_optimizer(base, self.space, direction=self.direction, seed=self.seed, **kwargs)

    def _complete(self, fixed: Mapping[str, Any], seed: int, number: int) -> dict[str, Any]:
        """The base searcher, which proposes every new configuration, completes a partial one."""
        return self.base.complete(fixed, number=number)

    @property
    def n_brackets(self) -> int:
        """Number of brackets (1 for ASHA)."""
        return 1

    @property
    def budgets(self) -> list[float]:
        """Rung budgets (resolved at the first ask from the arguments or the Study's fidelity)."""
        if self._budgets is None:
            lo, hi = self._bounds()
            self._budgets = rung_budgets(lo, hi, self.eta)
            self.min_budget, self.max_budget = self._budgets[0], self._budgets[-1]
        return list(self._budgets)

    def set_context(
        self,
        *,
        description: str | None = None,
        n_trials: int | None = None,
        fidelity: Any = None,
    ) -> None:
        """Set the context; the base gets the description and its expected share of the trials."""
        super().set_context(description=description, n_trials=n_trials, fidelity=fidelity)
        base_trials = None
        if n_trials is not None:
            base_trials = max(1, math.ceil(n_trials * self._new_config_share()))
        self.base.set_context(description=description, n_trials=base_trials)

    def _bounds(self) -> tuple[float, float]:
        """(r, R): the given budgets, else the Study's fidelity, else the defaults."""
        lo, hi = self._fidelity_bounds(self.min_budget, self.max_budget)
        return (DEFAULT_MIN_BUDGET if lo is None else lo), (DEFAULT_MAX_BUDGET if hi is None else hi)

    def _new_config_share(self) -> float:
        """Fraction of a sequential run's trials that are new configurations (for the base's context)."""
        lo, hi = self._bounds()
        n_rungs = len(rung_budgets(lo, max(hi, lo), self.eta))
        per_cycle = sum(self.eta**k for k in range(n_rungs))
        return float(self.eta ** (n_rungs - 1)) / per_cycle

    def _meta_params(self) -> dict[str, Any]:
        return {
            "base": self.base.meta,
            "min_budget": self.min_budget,
            "max_budget": self.max_budget,
            "eta": self.eta,
            "brackets": self.n_brackets,
        }

    # -------------------------------------------------------- bookkeeping
    @property
    def budget_spent(self) -> float:
        """Sum of the budgets of the finished trials (a promotion re-runs at the higher budget)."""
        return budget_spent(self._history, self.budgets[-1] if self._budgets is not None else None)

    def rung_table(self) -> list[dict[str, Any]]:
        """One row per bracket and rung: budget, number of results, configurations promoted from it."""
        rows = []
        budgets = self.budgets
        for bracket in range(self.n_brackets):
            for k in range(bracket, len(budgets)):
                rows.append(
                    {
                        "bracket": bracket,
                        "rung": k,
                        "budget": budgets[k],
                        "n_results": len(self._rungs.get((bracket, k), [])),
                        "n_promoted": len(self._promoted.get((bracket, k), set())),
                    }
                )
        return rows

    def _start_rung(self, bracket: int) -> int:
        return bracket

    def _choose_bracket(self) -> int:
        return 0

    def _next_promotion(self) -> tuple[_Config, int] | None:
        """ASHA's get_job: a configuration to promote and its new rung, or ``None``."""
        top = len(self.budgets) - 1
        for k in range(top - 1, -1, -1):
            for bracket in range(self.n_brackets):
                if k < self._start_rung(bracket):
                    continue
                results = self._rungs.get((bracket, k), [])
                n_top = len(results) // self.eta
                if n_top == 0:
                    continue
                promoted = self._promoted.setdefault((bracket, k), set())
                for value, cid in sorted(results)[:n_top]:
                    if math.isfinite(value) and cid not in promoted:
                        promoted.add(cid)
                        return self._configs[cid], k + 1
        return None

    def _metadata(self, entry: _Config, rung: int, base_trial: Trial | None) -> dict[str, Any]:
        meta: dict[str, Any] = {"config_id": entry.cid, "bracket": entry.bracket, "rung": rung}
        if base_trial is not None:
            meta["base_trial"] = base_trial.to_dict()
        return {"asha": meta}

    # -------------------------------------------------------------- backend
    def _ask(self, n: int) -> list[Proposal]:
        budgets = self.budgets
        proposals: list[Proposal] = []
        n_new = 0
        for _ in range(n):
            job = self._next_promotion()
            if job is None:
                n_new += 1
                continue
            entry, rung = job
            proposals.append(
                Proposal(
                    dict(entry.config),
                    budget=budgets[rung],
                    metadata=self._metadata(entry, rung, None),
                    handle=_Pending(entry.cid, entry.bracket, rung),
                )
            )
        if n_new:
            try:
                base_trials = self.base.ask(n_new)
            except SearchExhausted:
                if not proposals:
                    raise
                base_trials = []
            for base_trial in base_trials:
                entry = self._new_config(base_trial.config, self._choose_bracket(), base_trial.id)
                rung = self._start_rung(entry.bracket)
                proposals.append(
                    Proposal(
                        dict(base_trial.config),
                        budget=budgets[rung],
                        metadata=self._metadata(entry, rung, base_trial),
                        handle=_Pending(entry.cid, entry.bracket, rung),
                    )
                )
        return proposals

    def _new_config(self, config: Mapping[str, Any], bracket: int, base_trial: int | None) -> _Config:
        cid = len(self._configs)
        entry = _Config(cid, dict(config), bracket, base_trial)
        self._configs[cid] = entry
        self._bracket_counts[bracket] = self._bracket_counts.get(bracket, 0) + 1
        return entry

    def _tell(self, trial: Trial, result: TrialResult) -> None:
        pending = trial.handle
        if not isinstance(pending, _Pending):
            raise OptimizerError(f"{self.name}: trial {trial.id} was not scheduled here")
        entry = self._configs[pending.cid]
        value = math.inf
        if result.state is TrialState.COMPLETE and result.value is not None and math.isfinite(result.value):
            value = self._signed(result.value)
        entry.values[pending.rung] = value
        self._rungs.setdefault((pending.bracket, pending.rung), []).append((value, entry.cid))
        if pending.rung == self._start_rung(entry.bracket) and entry.base_trial is not None:
            self.base.tell(entry.base_trial, result)

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        budgets = self.budgets
        budget = budgets[-1] if trial.budget is None else float(trial.budget)
        matches = [k for k, b in enumerate(budgets) if math.isclose(b, budget)]
        if not matches:
            _logger.info("observed budget %s is on no rung %s; kept in the history only", budget, budgets)
            return
        rung = matches[0]
        bracket = min(rung, self.n_brackets - 1)
        entry = self._new_config(trial.config, bracket, None)
        self._bracket_counts[bracket] -= 1  # observed configs do not shift the bracket schedule
        value = math.inf
        if result.state is TrialState.COMPLETE and result.value is not None and math.isfinite(result.value):
            value = self._signed(result.value)
        entry.values[rung] = value
        self._rungs.setdefault((bracket, rung), []).append((value, entry.cid))
        if rung == self._start_rung(bracket):
            self.base.observe(trial.config, result)

    def _replay_ask(self, trials: Sequence[Trial]) -> list[Any]:
        # Rebuild the schedule from the stored metadata; the base replays its own ask (an LLM base
        # takes its stored trials, a seeded one re-asks and reproduces them).
        base_asked: list[dict[str, Any]] = []
        handles: list[Any] = []
        for trial in trials:
            meta = trial.metadata.get("asha")
            if not isinstance(meta, Mapping):
                raise OptimizerError(f"{self.name}: stored trial {trial.id} has no 'asha' metadata; cannot resume")
            cid, bracket, rung = int(meta["config_id"]), int(meta["bracket"]), int(meta["rung"])
            if "base_trial" in meta:
                base_trial = Trial.from_dict(meta["base_trial"])
                entry = self._new_config(trial.config, bracket, base_trial.id)
                if entry.cid != cid:
                    raise OptimizerError(f"{self.name}: replayed config id {entry.cid} is not the stored {cid}")
                base_asked.append(base_trial.to_dict())
            else:
                self._promoted.setdefault((bracket, rung - 1), set()).add(cid)
            handles.append(_Pending(cid, bracket, rung))
        if base_asked:
            self.base.replay([{"ask": base_asked}])
        return handles


class Hyperband(ASHA):
    """Asynchronous Hyperband: ASHA run over all of Hyperband's brackets at once.

    Bracket ``s`` starts its configurations at rung ``s`` (budget ``r * eta**s``) and promotes
    within its own rungs by the ASHA rule, so bracket 0 is ASHA and the last bracket is random
    search at the full budget. New configurations are dealt to brackets deterministically in
    proportion to Hyperband's bracket sizes ``ceil((K + 1) / (K + 1 - s) * eta**(K - s))``
    (a smooth weighted round-robin). The base optimizer is told each configuration's result at
    the first rung of its bracket, so it sees several fidelities (one per bracket).

    Args:
        space: The search space.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the scheduler and of a base given by name.
        base: The searcher (a registry name or a fresh Optimizer).
        base_kwargs: Options of a base given by name.
        min_budget: Smallest budget (r); ``None``: the Study's fidelity minimum, else 1.
        max_budget: Full budget (R); ``None``: the Study's fidelity maximum, else 16.
        eta: Reduction factor.
    """

    name: ClassVar[str] = "hyperband"

    @property
    def n_brackets(self) -> int:
        return len(self.budgets)

    def bracket_weights(self) -> list[int]:
        """Hyperband's number of configurations of each bracket, used as dealing weights."""
        top = len(self.budgets) - 1
        return [math.ceil((top + 1) / (top + 1 - s) * self.eta ** (top - s)) for s in range(top + 1)]

    def _choose_bracket(self) -> int:
        weights = self.bracket_weights()
        total = sum(self._bracket_counts.get(s, 0) for s in range(len(weights))) + 1
        # the bracket furthest behind its share (ties: the more exploratory, lower bracket)
        deficits = [w * total / sum(weights) - self._bracket_counts.get(s, 0) for s, w in enumerate(weights)]
        return max(range(len(weights)), key=lambda s: (deficits[s], -s))
