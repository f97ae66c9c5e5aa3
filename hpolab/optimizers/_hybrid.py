"""Hybrid: several proposal sources, and a policy that gives each trial to one of them.

The sources are optimizers on one search space: a classic core (TPE, SMAC, CMA-ES, ...) and others
beside it (a transfer portfolio, a prior, an LLM optimizer in :class:`hpolab.llm.HybridOptimizer`).
An allocation policy decides which source proposes each trial:

* :class:`FixedSchedule`: the first trials from given sources, then the core;
* :class:`AdaptiveBandit`: every source proposes once, then Thompson sampling over the sources'
  rewards (a proposal that improves the incumbent earns 1, any other its rank among the study's
  results so far, a failed one 0), with a floor that keeps a share of trials for the core;
* :class:`FixedShare`: Centaur's policy: the core runs the first ``warmup`` trials, then one other
  source proposes a fixed ``share`` of the trials, spread evenly, the core the rest.

Every source sees every result: the source that asked a trial is told, the others observe it. A
source may pass the trial it was given on to the core: the hybrid then runs the core's next
proposal (asked ahead with :meth:`Hybrid._peek` and kept until the core is given a trial) and
credits the core with it. Each trial records its source in ``metadata["source"]`` and what the
hybrid did in ``metadata["hybrid"]``.

Sub-optimizers are used standalone, through their public ``ask`` / ``tell`` / ``observe``, with
their own local trial ids; the hybrid's trial handle maps each source that asked for the trial to
the source's own Trial. On resume the hybrid replays each source's asks from the stored metadata,
so a resumed study makes the same next asks as an uninterrupted one.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hpolab.optimizers._base import Optimizer, OptimizerError, Proposal
from hpolab.space import SearchSpace
from hpolab.trial import Direction, Trial, TrialResult, TrialState

__all__ = [
    "AdaptiveBandit",
    "AllocationPolicy",
    "Draw",
    "FixedSchedule",
    "FixedShare",
    "Hybrid",
    "SourceStats",
]


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

    ``FixedSchedule([("llm", 5)])`` is a warm start: five proposals of the ``llm`` source, then the
    core. Sources of the schedule that the hybrid does not have are skipped.

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


@dataclass
class Draw:
    """One trial of a hybrid as its sources answered for it, before it becomes a :class:`Proposal`.

    Attributes:
        handles: Each source that asked for the trial, and the source's own Trial.
        credited: The source the trial's result is credited to.
        why: Why this source proposes it (the policy's reason, or why the chosen source passed it on).
        bank_used: Whether the trial runs the core's kept proposal.
        metadata: Keys lifted from the source's trial to the hybrid's trial.
    """

    handles: dict[str, Trial]
    credited: str
    why: str
    bank_used: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)


class Hybrid(Optimizer):
    """Several proposal sources and an allocation policy (see the module docstring).

    Args:
        space: The search space.
        sources: The proposal sources, ``{label: optimizer}`` on the same space and direction, in
            the order the policy's first round uses; must hold ``core_label``.
        policy: The allocation policy; ``None`` for :class:`AdaptiveBandit` with 20% of the trials
            kept for the core.
        core_label: The core's label in ``sources`` and in ``metadata["source"]``.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the policy's draws.
    """

    name: ClassVar[str] = "hybrid"

    #: Metadata keys of a source's trials that the hybrid lifts to its own trial's top level, by
    #: source label; the hybrid's ask record then names them instead of holding a second copy.
    lifted_keys: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def __init__(
        self,
        space: SearchSpace | Mapping[str, Any] | Any,
        *,
        sources: Mapping[str, Optimizer],
        policy: AllocationPolicy | None = None,
        core_label: str = "core",
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        self.core_label = str(core_label)
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
        if policy is not None and not isinstance(policy, AllocationPolicy):
            raise TypeError(f"policy: {policy!r} is not an AllocationPolicy; pass e.g. AdaptiveBandit() or None")
        # the core last, so that the first round asks the others first
        ordered = [label for label in sources if label != self.core_label] + [self.core_label]
        self.sources: dict[str, Optimizer] = {label: sources[label] for label in ordered}
        self.policy = AdaptiveBandit(floor={self.core_label: 0.2}) if policy is None else policy
        self._base_seed = int(self._rng.integers(2**31 - 1)) if seed is None else int(seed)
        self.policy.start(self._base_seed)
        self.stats: dict[str, SourceStats] = {label: SourceStats() for label in self.sources}
        self.counts: dict[str, int] = {}
        self._n_allocated = 0
        self._bank: Trial | None = None
        self._results: list[tuple[str | None, float | None, bool]] = []
        self._asks: list[dict[str, Any]] = []
        self._batch: list[Proposal] = []

    @property
    def core(self) -> Optimizer:
        """The classic core."""
        return self.sources[self.core_label]

    def set_context(self, *, description: str | None = None, n_trials: int | None = None, fidelity: Any = None) -> None:
        super().set_context(description=description, n_trials=n_trials, fidelity=fidelity)
        for source in self.sources.values():
            source.set_context(description=description, n_trials=n_trials, fidelity=fidelity)

    def _meta_params(self) -> dict[str, Any]:
        return {
            "policy": {"name": self.policy.name, **self.policy.params()},
            "core_label": self.core_label,
            "sources": {label: source.meta for label, source in self.sources.items()},
        }

    def _complete(self, fixed: Mapping[str, Any], seed: int, number: int) -> dict[str, Any]:
        """The core completes a partial configuration (it sees every result of the study)."""
        return self.core.complete(fixed, number=number)

    # ---------------------------------------------------------------- the sources' asks
    def _ask_entry(self, label: str, trial: Trial, *, banked: bool = False) -> dict[str, Any]:
        entry: dict[str, Any] = {"source": label, "id": trial.id, "seed": trial.seed, "budget": trial.budget}
        lifted = self.lifted_keys.get(label)
        if lifted is not None:
            entry["meta_keys"] = [k for k in lifted if k in trial.metadata]
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

    def _ask_source(self, label: str) -> Trial:
        """Ask source ``label`` for one trial and record the ask."""
        self._sync_running(label)
        inner = self.sources[label].ask()
        self._asks.append(self._ask_entry(label, inner))
        return inner

    def _lifted(self, label: str, trial: Trial) -> dict[str, Any]:
        return {k: trial.metadata[k] for k in self.lifted_keys.get(label, ()) if k in trial.metadata}

    def _peek(self) -> Trial:
        """The core's next proposal, asked once and kept until the core is given a trial."""
        if self._bank is None:
            self._sync_running(self.core_label)
            self._bank = self.core.ask()
            self._asks.append(self._ask_entry(self.core_label, self._bank, banked=True))
        return self._bank

    def _take_bank(self) -> Trial:
        bank = self._bank
        if bank is None:
            raise OptimizerError("the hybrid kept no proposal of its core to hand out")
        self._bank = None
        return bank

    def _pass_to_core(self, draw: Draw, why: str) -> None:
        """Run the core's kept proposal for a trial its chosen source passed on, credited to the core."""
        draw.handles[self.core_label] = self._take_bank()
        draw.bank_used = True
        draw.credited = self.core_label
        draw.why = why
        self.counts[why] = self.counts.get(why, 0) + 1

    def _draw(self, label: str, why: str) -> Draw:
        """The trial source ``label`` proposes now (the core hands out its kept proposal first)."""
        if label == self.core_label and self._bank is not None:
            return Draw({label: self._take_bank()}, label, why, bank_used=True)
        inner = self._ask_source(label)
        return Draw({label: inner}, label, why, metadata=self._lifted(label, inner))

    # ---------------------------------------------------------------- ask / tell
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
            draw = self._draw(label, why)
            chosen = draw.handles[label]
            self.stats[label].chosen += 1
            self.stats[draw.credited].trials += 1
            self._n_allocated += 1
            metadata: dict[str, Any] = {
                "source": draw.credited,
                "inner_id": draw.handles[draw.credited].id,
                **draw.metadata,
                "hybrid": {
                    "index": index,
                    "chosen": label,
                    "why": draw.why,
                    "asks": self._asks,
                    "bank_used": draw.bank_used,
                    "told": sorted(draw.handles),
                },
            }
            out.append(Proposal(chosen.config, budget=chosen.budget, metadata=metadata, handle=draw.handles))
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
                handles[self.core_label] = self._take_bank()
                if chosen != credited:  # the chosen source passed the trial on
                    why = str(hybrid.get("why"))
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
        """Trials, results, rewards and improvements per source, and how often a source passed its trial on, by why."""
        return {
            "sources": {label: stats.to_dict() for label, stats in self.stats.items()},
            "counts": dict(self.counts),
            "policy": self.policy.name,
        }

    def __repr__(self) -> str:
        inner = ", ".join(f"{label}={type(s).__name__}" for label, s in self.sources.items())
        return f"{type(self).__name__}({inner}, policy={self.policy.name}, seed={self.seed}, told={self.n_told})"
