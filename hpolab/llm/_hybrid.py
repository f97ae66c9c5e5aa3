"""HybridOptimizer: several proposal sources, and a policy that gives each trial to one of them.

An LLM that can only help: a classic core (TPE by default), the LLM optimizer and,
when records of other tasks are given, the transfer portfolio propose configurations; an
allocation policy decides which of them proposes each trial:

* :class:`FixedSchedule`: the first trials from given sources, then the core (seed 002's warm
  start: ``llm-tpe`` and ``llm-smac`` are this policy with the LLM for the first five trials);
* :class:`AdaptiveBandit`: every source proposes once, then Thompson sampling over the sources'
  rewards (a proposal that improves the incumbent earns 1, any other its rank among the study's
  results so far, a failed one 0), with a floor that keeps a share of trials for the core.
* :class:`FixedShare`: Centaur's policy (arXiv 2603.24647): the core runs the first ``warmup``
  trials, then the LLM proposes a fixed ``share`` of the trials, spread evenly, the core the rest.

Every source sees every result: the source that asked a trial is told, the others observe it.
The LLM's prompt may carry the core's state (incumbent, top configurations, the core's own
next proposal and, for a CMA-ES core, its mean, step size and covariance: the Centaur idea), the LLM may decline and keep the core's proposal within a
share of trials the user sets, and where the LLM repeats an evaluated configuration after a
re-ask, or gives no usable answer, the core answers instead of a random perturbation. Each trial
records its source in ``metadata["source"]`` and what the hybrid did in ``metadata["hybrid"]``.

Sub-optimizers are used standalone, through their public ``ask`` / ``tell`` / ``observe``, with
their own local trial ids; the hybrid's trial handle maps each source that asked for the trial to
the source's own Trial. On resume the hybrid replays each source's asks from the stored metadata,
so a resumed study makes the same next asks as an uninterrupted one.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hpolab.llm._prompts import ClassicState, cma_state_text
from hpolab.optimizers._base import Optimizer, OptimizerError, Proposal
from hpolab.trial import Direction, Trial, TrialResult, TrialState

if TYPE_CHECKING:
    from hpolab.llm._client import LLMClient

__all__ = [
    "AdaptiveBandit",
    "AllocationPolicy",
    "FixedSchedule",
    "FixedShare",
    "HybridOptimizer",
    "SourceStats",
    "make_llm_hybrid",
]

_logger = logging.getLogger("hpolab.llm.hybrid")

#: Metadata keys of the LLM source that the hybrid lifts to the trial's top level (read by reports).
_LLM_KEYS = ("llm", "llm_usage")


@dataclass
class SourceStats:
    """What one source did in this study.

    Attributes:
        chosen: Trials the policy gave it.
        trials: Trials it is credited with (its own proposals, and the core's for declined ones).
        results: Finished trials credited to it.
        reward: Sum of its rewards (see :class:`AdaptiveBandit`).
        improvements: Its proposals that improved the incumbent.
    """

    chosen: int = 0
    trials: int = 0
    results: int = 0
    reward: float = 0.0
    improvements: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "chosen": self.chosen,
            "trials": self.trials,
            "results": self.results,
            "reward": round(self.reward, 6),
            "improvements": self.improvements,
        }


class AllocationPolicy(ABC):
    """Decides which source proposes the next trial."""

    #: Name recorded in the optimizer's meta.
    name: ClassVar[str] = "policy"

    @abstractmethod
    def choose(
        self, index: int, labels: Sequence[str], stats: Mapping[str, SourceStats], rng: np.random.Generator
    ) -> tuple[str, str]:
        """The source of trial ``index`` (0-based) and why (``"schedule"``, ``"warmup"``, ...).

        Args:
            index: How many trials were allocated before this one.
            labels: The sources' labels, in the hybrid's order (the core last).
            stats: Each source's record so far.
            rng: A generator for this decision only (derived from the seed and ``index``).
        """

    def params(self) -> dict[str, Any]:
        """Parameters recorded in the optimizer's meta."""
        return {}

    def start(self, seed: int) -> None:  # noqa: B027 - optional hook
        """Called once by the hybrid with its seed, before the first decision (default: nothing)."""


class FixedSchedule(AllocationPolicy):
    """A fixed schedule: ``schedule`` trials from named sources in order, then ``then`` forever.

    ``FixedSchedule([("llm", 5)])`` is seed 002's warm start: five LLM proposals, then the core.
    Sources of the schedule that the hybrid does not have are skipped.

    Args:
        schedule: ``(label, number of trials)`` pairs, in order.
        then: The source of every later trial; ``None`` for the hybrid's core.
    """

    name: ClassVar[str] = "fixed"

    def __init__(self, schedule: Sequence[tuple[str, int]] = (("llm", 5),), then: str | None = None) -> None:
        pairs: list[tuple[str, int]] = []
        for item in schedule:
            label, count = item
            if isinstance(count, bool) or int(count) < 0:
                raise ValueError(f"schedule: {item!r} needs a non-negative number of trials")
            pairs.append((str(label), int(count)))
        self.schedule = pairs
        self.then = then

    def choose(
        self, index: int, labels: Sequence[str], stats: Mapping[str, SourceStats], rng: np.random.Generator
    ) -> tuple[str, str]:
        position = 0
        for label, count in self.schedule:
            if label not in labels:
                continue
            if index < position + count:
                return label, "schedule"
            position += count
        then = self.then if self.then in labels else labels[-1]
        return str(then), "schedule"

    def params(self) -> dict[str, Any]:
        return {"schedule": [list(p) for p in self.schedule], "then": self.then}


class FixedShare(AllocationPolicy):
    """Centaur's allocation: ``warmup`` core trials, then the LLM on a fixed ``share`` of the trials.

    After the warm-up, trial ``j`` (counted from the end of the warm-up) goes to the LLM when
    ``floor((j + 1) * share + phase)`` exceeds ``floor(j * share + phase)``, the core otherwise: after
    ``n`` such trials the LLM has had ``floor(n * share + phase)`` of them, ``n * share`` rounded
    down or up, spread evenly. ``phase`` in ``[0, 1)`` is drawn from the hybrid's seed, so the
    positions differ between seeds and repeat with one. Without an ``llm`` source (the "LLM
    removed" control) every trial goes to the core.

    Args:
        share: Share of the trials after the warm-up that the LLM proposes, in ``[0, 1]``.
        warmup: Trials the core runs first.
        llm_label: The LLM source's label.
    """

    name: ClassVar[str] = "fixed-share"

    def __init__(self, share: float = 0.3, warmup: int = 10, *, llm_label: str = "llm") -> None:
        if isinstance(share, bool) or not 0.0 <= float(share) <= 1.0:
            raise ValueError(f"share: {share!r} must be a share of trials in [0, 1], e.g. 0.3")
        if isinstance(warmup, bool) or int(warmup) != warmup or int(warmup) < 0:
            raise ValueError(f"warmup: {warmup!r} must be a non-negative int (core trials before the LLM's first)")
        self.share = float(share)
        self.warmup = int(warmup)
        self.llm_label = str(llm_label)
        self.phase = 0.0

    def start(self, seed: int) -> None:
        self.phase = float(np.random.default_rng([int(seed), 0x5EED]).random())

    def choose(
        self, index: int, labels: Sequence[str], stats: Mapping[str, SourceStats], rng: np.random.Generator
    ) -> tuple[str, str]:
        core = labels[-1]
        if index < self.warmup or self.llm_label not in labels:
            return core, "warmup" if index < self.warmup else "share"
        j = index - self.warmup
        if math.floor((j + 1) * self.share + self.phase) > math.floor(j * self.share + self.phase):
            return self.llm_label, "share"
        return core, "share"

    def params(self) -> dict[str, Any]:
        return {"share": self.share, "warmup": self.warmup, "llm_label": self.llm_label, "phase": self.phase}


class AdaptiveBandit(AllocationPolicy):
    """Thompson sampling over the sources, with a floor for the core.

    In order: (1) every source proposes once (``warmup`` order; default: the hybrid's order, the
    LLM first and the core last); (2) a source whose share of the trials is below its ``floor``
    proposes (by default the core keeps 20% of the trials, so the classic optimizer always runs);
    (3) otherwise each source's reward record gives a Beta posterior (``prior`` pseudo-counts plus
    the sum of its rewards as successes and the rest of its finished trials as failures), one
    value is drawn from each and the largest wins (Thompson sampling), among the eligible
    sources: the sources with a floor (the core), and each other source whose posterior's
    ``gate`` quantile reaches the core's posterior mean. The gate makes the core the default: a
    source that has so far ranked clearly below the core stops getting trials until its record
    improves (results of other sources move every rank), while one as good as the core competes.

    Rewards, computed by the hybrid before each decision: a result that improved the incumbent
    when it arrived earns 1; any other its rank among all of the study's results as they are now
    (the share of the other results it beats, ties counting half; 0.5 while it is the only one);
    a failed trial earns 0, and so does a trial the chosen source passed on to the core (the LLM
    declined, copied the core's proposal, repeated itself or answered nothing usable; the core is
    credited with the result). A source whose proposals improve the incumbent or rank well gets more
    trials; one that proposes the worst configurations soon gets only the trials exploration still
    gives it.

    Args:
        floor: Least share of the trials per source label; the core label is ``"core"`` in
            ``llm-hybrid`` (``{"core": 0.2}`` when ``None``).
        warmup: Order of the first round; ``None`` for the hybrid's order.
        prior: Beta prior pseudo-counts (successes, failures).
        gate: Posterior quantile a source without a floor must bring up to the floor sources'
            posterior mean to be eligible; ``None`` for plain Thompson sampling.
    """

    name: ClassVar[str] = "adaptive"

    def __init__(
        self,
        *,
        floor: Mapping[str, float] | None = None,
        warmup: Sequence[str] | None = None,
        prior: tuple[float, float] = (0.5, 0.5),
        gate: float | None = 0.75,
    ) -> None:
        floors = {"core": 0.2} if floor is None else {str(k): float(v) for k, v in floor.items()}
        for label, share in floors.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"floor[{label!r}]: {share} must be a share of trials in [0, 1]")
        if sum(floors.values()) > 1.0:
            raise ValueError(f"floor: the shares {floors} add up to more than 1")
        a, b = (float(prior[0]), float(prior[1]))
        if not (a > 0 and b > 0):
            raise ValueError(f"prior: {prior!r} must be two positive pseudo-counts")
        self.floor = floors
        self.warmup = None if warmup is None else [str(w) for w in warmup]
        self.prior = (a, b)
        if gate is not None and not 0.0 < float(gate) < 1.0:
            raise ValueError(f"gate: {gate!r} must be a quantile in (0, 1) or None")
        self.gate = None if gate is None else float(gate)

    def choose(
        self, index: int, labels: Sequence[str], stats: Mapping[str, SourceStats], rng: np.random.Generator
    ) -> tuple[str, str]:
        order = [w for w in (self.warmup or labels) if w in labels]
        for label in order:
            if stats[label].chosen == 0:
                return label, "warmup"
        for label, share in self.floor.items():
            if label in labels and stats[label].chosen < share * (index + 1) - 1e-9:
                return label, "floor"
        a, b = self.prior
        post = {
            label: (a + stats[label].reward, b + max(stats[label].results - stats[label].reward, 0.0))
            for label in labels
        }
        eligible = list(labels)
        protected = [label for label in self.floor if label in labels]
        if self.gate is not None and protected:
            from scipy.special import betaincinv

            bar = max(post[p][0] / (post[p][0] + post[p][1]) for p in protected)
            eligible = [
                label
                for label in labels
                if label in protected or float(betaincinv(post[label][0], post[label][1], self.gate)) >= bar
            ]
        draws = {label: float(rng.beta(*post[label])) for label in labels}
        best = max(eligible, key=lambda label: draws[label])
        return best, "bandit"

    def params(self) -> dict[str, Any]:
        return {"floor": dict(self.floor), "warmup": self.warmup, "prior": list(self.prior), "gate": self.gate}


def _policy(
    policy: AllocationPolicy | str, n_initial: int, floor: float, core_label: str, share: float | None, warmup: int
) -> AllocationPolicy:
    if share is not None and policy != "fixed":
        raise ValueError(
            f"share: {share!r} is the fixed policy's LLM share; give it with policy='fixed', not {policy!r}"
        )
    if isinstance(policy, AllocationPolicy):
        return policy
    if policy == "fixed" and share is not None:
        return FixedShare(share, warmup)
    if policy == "fixed":
        return FixedSchedule([("llm", n_initial)], then=core_label)
    if policy == "adaptive":
        return AdaptiveBandit(floor={core_label: floor})
    raise ValueError(f"policy: {policy!r} is not 'adaptive', 'fixed' or an AllocationPolicy")


class HybridOptimizer(Optimizer):
    """Several proposal sources and an allocation policy (``llm-hybrid``; see the module docstring).

    Args:
        space: The search space.
        sources: The proposal sources, ``{label: optimizer}`` on the same space and direction, in
            the order the policy's first round uses; must hold ``core_label``. ``None`` builds them
            from ``client`` / ``llm``, ``core`` and ``records``.
        client: The LLM source's model (``None``: the LLM optimizer's default, the local SmolLM2).
        core: The classic core: a registry name (``"tpe"``, ``"smac-rf"``, ...) or an Optimizer.
        llm: ``True`` for an :class:`~hpolab.llm.LLMOptimizer` on ``client``, ``False`` for none
            (the "LLM removed" control), or an LLM optimizer.
        records: Records of other tasks (a :class:`~hpolab.llm.finetune.Records` or a JSON path):
            adds the ``portfolio`` source.
        exclude_tasks: Tasks left out of ``records`` (the task being optimized).
        policy: ``"adaptive"`` (:class:`AdaptiveBandit`), ``"fixed"`` (``n_initial`` LLM trials,
            then the core; with ``share``, :class:`FixedShare`) or an :class:`AllocationPolicy`.
        n_initial: LLM trials of the fixed schedule.
        share: With ``policy="fixed"``: Centaur's policy, the LLM proposes this share of the
            trials after ``warmup`` core trials (:class:`FixedShare`; Centaur uses 0.3).
        warmup: Core trials before the LLM's first under ``share``.
        last_k: Trials the LLM's prompt shows, the most recent ones (an LLM built here; its
            ``max_history``); ``None``: 20 with ``share`` (Centaur's prompt), all trials otherwise.
        floor: The core's least share of trials under the adaptive policy.
        classic_state: Show the core's state (incumbent, ``top_k`` configs, the core's own next
            proposal and, for a ``cmaes`` core, CMA-ES's mean, step size and leading covariance
            directions) in the LLM's prompt.
        top_k: Configurations shown in the classic state.
        keep_share: Most share of all trials in which the LLM may decline and keep the core's
            proposal (0: never); only with ``classic_state``.
        core_label: The core's label in ``metadata["source"]``.
        llm_kwargs: Options of the LLM optimizer (``mode``, ``on_duplicate``, ``base_url``, ...).
        core_kwargs: Options of a core given by name.
        portfolio_kwargs: Options of the portfolio (``prior_weight``).
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the policy's draws and of sources built here.
    """

    name: ClassVar[str] = "llm-hybrid"

    def __init__(
        self,
        space: Any,
        *,
        sources: Mapping[str, Optimizer] | None = None,
        client: LLMClient | None = None,
        core: str | Optimizer = "tpe",
        llm: bool | Optimizer = True,
        records: Any = None,
        exclude_tasks: Sequence[str] = (),
        policy: AllocationPolicy | str = "adaptive",
        n_initial: int = 5,
        share: float | None = None,
        warmup: int = 10,
        last_k: int | None = None,
        floor: float = 0.2,
        classic_state: bool = True,
        top_k: int = 5,
        keep_share: float = 0.3,
        core_label: str = "core",
        llm_kwargs: Mapping[str, Any] | None = None,
        core_kwargs: Mapping[str, Any] | None = None,
        portfolio_kwargs: Mapping[str, Any] | None = None,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        if isinstance(n_initial, bool) or int(n_initial) < 0:
            raise ValueError(f"n_initial: {n_initial!r} must be a non-negative int")
        if not 0.0 <= float(keep_share) <= 1.0:
            raise ValueError(f"keep_share: {keep_share!r} must be a share of trials in [0, 1]")
        if isinstance(top_k, bool) or int(top_k) < 1:
            raise ValueError(f"top_k: {top_k!r} must be a positive int")
        self.core_label = str(core_label)
        if last_k is not None and (isinstance(last_k, bool) or int(last_k) < 1):
            raise ValueError(f"last_k: {last_k!r} must be a positive int (trials shown) or None")
        if last_k is None and share is not None:
            last_k = 20  # Centaur's prompt: the last 20 trials
        if last_k is not None and llm is True and "max_history" not in (llm_kwargs or {}):
            llm_kwargs = {**dict(llm_kwargs or {}), "max_history": int(last_k)}
        if sources is None:
            sources = self._build_sources(
                client, core, llm, records, exclude_tasks, llm_kwargs, core_kwargs, portfolio_kwargs
            )
        elif client is not None or records is not None:
            raise ValueError("sources: give either sources= or client= / records=, not both")
        if self.core_label not in sources:
            raise ValueError(f"sources: {sorted(sources)} has no core {self.core_label!r}; add it or set core_label=")
        for label, source in sources.items():
            if not isinstance(source, Optimizer):
                raise TypeError(f"sources[{label!r}]: {type(source).__name__} is not an hpolab Optimizer")
            if source.space != self.space:
                raise ValueError(f"sources[{label!r}]: its search space differs from the hybrid's; use one space")
            if source.direction is not self.direction:
                raise ValueError(
                    f"sources[{label!r}]: direction {source.direction.value} is not {self.direction.value}"
                )
        # the core last, so that the first round asks the others first
        ordered = [label for label in sources if label != self.core_label] + [self.core_label]
        self.sources: dict[str, Optimizer] = {label: sources[label] for label in ordered}
        self.policy = _policy(
            policy, int(n_initial), float(floor), self.core_label, None if share is None else float(share), warmup
        )
        self.classic_state = bool(classic_state)
        self.top_k = int(top_k)
        self.keep_share = float(keep_share)
        self._base_seed = int(self._rng.integers(2**31 - 1)) if seed is None else int(seed)
        self.policy.start(self._base_seed)
        self.stats: dict[str, SourceStats] = {label: SourceStats() for label in self.sources}
        self.counts: dict[str, int] = {}
        self._n_allocated = 0
        self._bank: Trial | None = None
        self._results: list[tuple[str | None, float | None, bool]] = []
        self._asks: list[dict[str, Any]] = []
        self._batch: list[Proposal] = []

    # ---------------------------------------------------------------- building
    def _build_sources(
        self,
        client: LLMClient | None,
        core: str | Optimizer,
        llm: bool | Optimizer,
        records: Any,
        exclude_tasks: Sequence[str],
        llm_kwargs: Mapping[str, Any] | None,
        core_kwargs: Mapping[str, Any] | None,
        portfolio_kwargs: Mapping[str, Any] | None,
    ) -> dict[str, Optimizer]:
        from hpolab.registry import make_optimizer

        out: dict[str, Optimizer] = {}
        if isinstance(llm, Optimizer):
            out["llm"] = llm
        elif llm:
            from hpolab.llm._optimizer import LLMOptimizer

            options = dict(llm_kwargs or {})
            if "on_duplicate" not in options and "duplicates" not in options:
                # the hybrid re-asks a duplicate, then hands it to its core (the pure llm perturbs at once)
                options["on_duplicate"] = "reask"
            out["llm"] = LLMOptimizer(self.space, client, direction=self.direction, seed=self.seed, **options)
        elif client is not None or llm_kwargs:
            raise ValueError("llm: False leaves the LLM out; do not give client= or llm_kwargs= with it")
        if records is not None:
            from hpolab.optimizers._portfolio import Portfolio

            out["portfolio"] = Portfolio(
                self.space,
                direction=self.direction,
                seed=self.seed,
                records=records,
                exclude_tasks=exclude_tasks,
                **dict(portfolio_kwargs or {}),
            )
        if isinstance(core, Optimizer):
            if core_kwargs:
                raise ValueError("core_kwargs: only used with a core given by name; configure the instance instead")
            out[self.core_label] = core
        else:
            out[self.core_label] = make_optimizer(
                str(core), self.space, direction=self.direction, seed=self.seed, **dict(core_kwargs or {})
            )
        return out

    @property
    def core(self) -> Optimizer:
        """The classic core."""
        return self.sources[self.core_label]

    @property
    def llm(self) -> Optimizer | None:
        """The LLM source, if any."""
        return self.sources.get("llm")

    def set_context(self, *, description: str | None = None, n_trials: int | None = None, fidelity: Any = None) -> None:
        super().set_context(description=description, n_trials=n_trials, fidelity=fidelity)
        for source in self.sources.values():
            source.set_context(description=description, n_trials=n_trials, fidelity=fidelity)

    def _meta_params(self) -> dict[str, Any]:
        return {
            "policy": {"name": self.policy.name, **self.policy.params()},
            "classic_state": self.classic_state,
            "top_k": self.top_k,
            "keep_share": self.keep_share,
            "core_label": self.core_label,
            "sources": {label: source.meta for label, source in self.sources.items()},
        }

    # ---------------------------------------------------------------- the state shown to the LLM
    def _ranked(self) -> list[tuple[dict[str, Any], float]]:
        done = [
            r
            for r in self._history
            if r.state is TrialState.COMPLETE and r.value is not None and math.isfinite(r.value)
        ]
        done.sort(key=lambda r: self._signed(float(r.value)))  # type: ignore[arg-type]
        return [(dict(r.config), float(r.value)) for r in done]  # type: ignore[arg-type]

    def _peek(self) -> Trial:
        """The core's next proposal, asked once and kept until the core is given a trial."""
        if self._bank is None:
            self._sync_running(self.core_label)
            self._bank = self.core.ask()
            self._asks.append(self._ask_entry(self.core_label, self._bank, banked=True))
        return self._bank

    def _classic(self, allow_keep: bool) -> ClassicState:
        ranked = self._ranked()
        proposal = self._peek().config
        return ClassicState(
            core=str(self.core.name),
            incumbent=ranked[0] if ranked else None,
            top=tuple(ranked[: self.top_k]),
            proposal=proposal,
            allow_keep=allow_keep,
            core_state=self._core_state(),
        )

    def _core_state(self) -> str:
        """The core's own state as prompt text: CMA-ES's search distribution for a ``cmaes`` core, else nothing."""
        from hpolab.optimizers._cmaes import CmaEs

        if not isinstance(self.core, CmaEs):
            return ""
        state = self.core.state()
        templates = getattr(self.llm, "templates", None)
        if state is None:
            return ""
        return cma_state_text(state) if templates is None else cma_state_text(state, templates=templates)

    def _may_keep(self) -> bool:
        declined = self.counts.get("declined", 0)
        return self.keep_share > 0 and declined + 1 <= self.keep_share * (self._n_allocated + 1) + 1e-9

    # ---------------------------------------------------------------- ask / tell
    def _ask_entry(self, label: str, trial: Trial, *, banked: bool = False) -> dict[str, Any]:
        entry: dict[str, Any] = {"source": label, "id": trial.id, "seed": trial.seed, "budget": trial.budget}
        if label == "llm":
            entry["meta_keys"] = [k for k in _LLM_KEYS if k in trial.metadata]
        else:
            entry["meta"] = dict(trial.metadata)
        entry["config"] = dict(trial.config)
        if banked:
            entry["banked"] = True
        return entry

    def _sync_running(self, label: str) -> None:
        """Tell a source what runs elsewhere: other workers' trials and the hybrid's pending trials it did not ask.

        The study's trial ids and a source's own local ids are different namespaces: the trials
        are passed with negative ids so that they never clash with the source's own.
        """
        running = [Trial(-1 - t.id, t.config, budget=t.budget) for t in self.running_elsewhere]
        for trial in self._pending.values():
            handles = trial.handle if isinstance(trial.handle, Mapping) else {}
            if label not in handles:
                running.append(Trial(-1 - trial.id, trial.config, budget=trial.budget))
        # proposals of the batch being asked (not pending yet): ids below every study id
        for i, proposal in enumerate(self._batch):
            if label not in (proposal.handle or {}):
                running.append(Trial(-(2**40) - i, proposal.config, budget=proposal.budget))
        self.sources[label].set_running_elsewhere(running)

    def _ask(self, n: int) -> list[Proposal]:
        labels = list(self.sources)
        out: list[Proposal] = []
        self._batch = out
        for _ in range(n):
            index = self._n_allocated
            rng = np.random.default_rng([self._base_seed, index])
            label, why = self.policy.choose(index, labels, self.stats, rng)
            if label not in self.sources:
                raise OptimizerError(f"{self.policy.name} policy chose {label!r}, which is not a source ({labels})")
            self._asks = []
            handles: dict[str, Trial] = {}
            credited = label
            top: dict[str, Any] = {}
            bank_used = False
            if label == "llm":
                llm = self.sources["llm"]
                allow_keep = self.classic_state and self._may_keep()
                state = self._classic(allow_keep) if self.classic_state else None
                set_classic = getattr(llm, "set_classic", None)
                if set_classic is not None:
                    set_classic(state, lambda reason: self._peek().config)
                try:
                    self._sync_running("llm")
                    inner = llm.ask()
                finally:
                    if set_classic is not None:
                        set_classic(None, None)
                handles["llm"] = inner
                self._asks.append(self._ask_entry("llm", inner))
                top.update({k: inner.metadata[k] for k in _LLM_KEYS if k in inner.metadata})
                llm_meta = inner.metadata.get("llm") or {}
                copied = self._bank is not None and self.space.key(self._bank.config) == self.space.key(inner.config)
                if (llm_meta.get("delegated") or copied) and self._bank is not None:
                    if self.space.key(self._bank.config) != self.space.key(inner.config):
                        raise OptimizerError("the LLM source delegated but its config is not the core's proposal")
                    handles[self.core_label] = self._bank
                    self._bank = None
                    bank_used = True
                    credited = self.core_label
                    outcome = llm_meta.get("outcome")
                    if not llm_meta.get("delegated"):
                        why = "copied"  # the model wrote the core's proposal out: the core's trial runs it
                    else:
                        why = outcome if outcome in ("declined", "fallback") else "duplicate"
                    self.counts[why] = self.counts.get(why, 0) + 1
                config, budget = inner.config, inner.budget
            elif label == self.core_label and self._bank is not None:
                handles[label] = self._bank
                self._bank = None
                bank_used = True
                config, budget = handles[label].config, handles[label].budget
            else:
                source = self.sources[label]
                self._sync_running(label)
                inner = source.ask()
                handles[label] = inner
                self._asks.append(self._ask_entry(label, inner))
                config, budget = inner.config, inner.budget
            self.stats[label].chosen += 1
            self.stats[credited].trials += 1
            self._n_allocated += 1
            metadata: dict[str, Any] = {
                "source": credited,
                "inner_id": handles[credited].id,
                **top,
                "hybrid": {
                    "index": index,
                    "chosen": label,
                    "why": why,
                    "asks": self._asks,
                    "bank_used": bank_used,
                    "told": sorted(handles),
                },
            }
            out.append(Proposal(config, budget=budget, metadata=metadata, handle=handles))
        self._batch = []
        return out

    def _credit(self, label: str | None, result: TrialResult) -> None:
        """Record a result for the rewards (see :class:`AdaptiveBandit`)."""
        ok = result.state is TrialState.COMPLETE and result.value is not None and math.isfinite(result.value)
        value = self._signed(float(result.value)) if ok else None  # type: ignore[arg-type]
        finite = [v for _, v, _ in self._results if v is not None]
        improved = value is not None and bool(finite) and value < min(finite)
        source = str(label) if label is not None and str(label) in self.stats else None
        self._results.append((source, value, improved))
        if source is not None:
            self.stats[source].results += 1
            self.stats[source].improvements += int(improved)
        self._refresh_rewards()

    def _refresh_rewards(self) -> None:
        """Each source's reward sum over its results, ranked among all of the study's results as they are now."""
        values = np.sort(np.array([v for _, v, _ in self._results if v is not None], dtype=float))
        sums = dict.fromkeys(self.stats, 0.0)
        for source, value, improved in self._results:
            if source is None:
                continue
            if value is None:
                continue  # a failed trial earns 0
            if improved:
                sums[source] += 1.0
            elif len(values) > 1:
                worse = len(values) - np.searchsorted(values, value, side="right")
                ties = np.searchsorted(values, value, side="right") - np.searchsorted(values, value, side="left") - 1
                sums[source] += float(worse + 0.5 * ties) / (len(values) - 1)
            else:
                sums[source] += 0.5
        for label, total in sums.items():
            self.stats[label].reward = total

    def _tell(self, trial: Trial, result: TrialResult) -> None:
        handles = trial.handle if isinstance(trial.handle, Mapping) else None
        if not handles:
            self._observe(trial, result)
            return
        for label, source in self.sources.items():
            inner = handles.get(label)
            if inner is not None:
                source.tell(inner, result)
            else:
                source.observe(trial.config, result, budget=trial.budget)
        self._credit(trial.metadata.get("source"), result)
        hybrid = trial.metadata.get("hybrid")
        chosen = hybrid.get("chosen") if isinstance(hybrid, Mapping) else None
        if chosen in self.stats and chosen != trial.metadata.get("source"):
            # the chosen source passed its trial on (declined, copied the core's proposal, repeated
            # itself or gave nothing usable): an abstention, which earns it nothing
            self._results.append((str(chosen), None, False))
            self.stats[str(chosen)].results += 1
            self._refresh_rewards()

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        for source in self.sources.values():
            source.observe(trial.config, result, budget=trial.budget)
        label = trial.metadata.get("source") if isinstance(trial.metadata, Mapping) else None
        self._credit(label if label in self.sources else None, result)

    def _replay_ask(self, trials: Sequence[Trial]) -> list[Any]:
        """Replay each source's asks from the stored metadata; no source is asked anew except by its own replay."""
        out: list[Any] = []
        for trial in trials:
            hybrid = trial.metadata.get("hybrid")
            if not isinstance(hybrid, Mapping):
                raise OptimizerError(
                    f"trial {trial.id} has no 'hybrid' record of which source asked it, so this hybrid cannot "
                    "replay it; resume the study with the optimizer that wrote it, or start a new study"
                )
            handles: dict[str, Trial] = {}
            for entry in hybrid.get("asks", []):
                label = str(entry["source"])
                source = self.sources.get(label)
                if source is None:
                    raise OptimizerError(f"trial {trial.id} was asked from source {label!r}, which this hybrid lacks")
                if "meta_keys" in entry:
                    meta = {k: trial.metadata[k] for k in entry["meta_keys"] if k in trial.metadata}
                else:
                    meta = dict(entry.get("meta") or {})
                inner = Trial(
                    int(entry["id"]),
                    dict(entry.get("config") or trial.config),
                    budget=entry.get("budget"),
                    seed=entry.get("seed"),
                    metadata=meta,
                )
                source.replay([{"ask": [inner.to_dict()]}])
                live = next((t for t in source.pending if t.id == inner.id), None)
                if live is None:
                    raise OptimizerError(f"replaying trial {trial.id}: source {label!r} lost its trial {inner.id}")
                if entry.get("banked"):
                    self._bank = live
                else:
                    handles[label] = live
            credited = str(trial.metadata.get("source", self.core_label))
            chosen = str(hybrid.get("chosen", credited))
            if hybrid.get("bank_used"):
                if self._bank is None:
                    raise OptimizerError(f"replaying trial {trial.id}: it used the core's proposal, but none was kept")
                handles[self.core_label] = self._bank
                self._bank = None
                why = str(hybrid.get("why"))
                if why in ("declined", "duplicate", "fallback", "copied"):
                    self.counts[why] = self.counts.get(why, 0) + 1
            if chosen in self.stats:
                self.stats[chosen].chosen += 1
            if credited in self.stats:
                self.stats[credited].trials += 1
            self._n_allocated += 1
            out.append(handles)
        return out

    # ---------------------------------------------------------------- reporting
    def summary(self) -> dict[str, Any]:
        """Trials, results, rewards and improvements per source, and how often the LLM declined or was replaced."""
        return {
            "sources": {label: stats.to_dict() for label, stats in self.stats.items()},
            "counts": dict(self.counts),
            "policy": self.policy.name,
        }

    def __repr__(self) -> str:
        inner = ", ".join(f"{label}={type(s).__name__}" for label, s in self.sources.items())
        return f"{type(self).__name__}({inner}, policy={self.policy.name}, seed={self.seed}, told={self.n_told})"


def make_llm_hybrid(
    space: Any,
    *,
    direction: Direction | str = "minimize",
    seed: int | None = None,
    client: LLMClient | None = None,
    simulated: Mapping[str, Any] | None = None,
    llm_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> HybridOptimizer:
    """Registry factory ``llm-hybrid`` (see :class:`HybridOptimizer` for the keywords).

    Extra keywords: ``simulated={"kind": "oracle" | "adversary", "objective": NAME, "quantile": 0.05}``
    builds a simulated client (:mod:`hpolab.testing`) from the objective's table, and LLM options
    (``model=``, ``base_url=``, ``mode=``, ...) may be given at the top level as well as in ``llm_kwargs``.
    """
    client = _simulated_client(client, simulated, seed)
    llm_options, rest = _split_llm_options(kwargs)
    return HybridOptimizer(
        space,
        client=client,
        llm_kwargs={**llm_options, **dict(llm_kwargs or {})} or None,
        direction=direction,
        seed=seed,
        **rest,
    )


_LLM_OPTIONS = frozenset(
    {
        "mode",
        "chain_of_thought",
        "description",
        "budget",
        "system_prompt",
        "templates",
        "metric",
        "on_duplicate",
        "temperature",
        "reask_temperature",
        "max_tokens",
        "structured_output",
        "answer_format",
        "max_history",
        "base_url",
        "model",
        "api_key",
    }
)


def _split_llm_options(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    llm = {k: v for k, v in kwargs.items() if k in _LLM_OPTIONS}
    rest = {k: v for k, v in kwargs.items() if k not in _LLM_OPTIONS}
    return llm, rest


def _simulated_client(client: Any, simulated: Mapping[str, Any] | None, seed: int | None) -> Any:
    if simulated is None:
        return client
    if client is not None:
        raise ValueError("simulated: give either client= or simulated=, not both")
    from hpolab.llm._client_simulated import simulated_client

    return simulated_client(dict(simulated), seed=seed)
