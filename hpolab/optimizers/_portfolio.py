"""Portfolio: the configurations with the best mean rank on other tasks, proposed in order (no LLM).

The transfer baseline every learned optimizer must be compared with: an LLM fine-tuned
on other tasks' histories that only rediscovers this list is not worth its cost.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np

from hpolab.optimizers._base import Optimizer, Proposal
from hpolab.trial import Direction

if TYPE_CHECKING:
    from hpolab.records import Records

__all__ = ["Portfolio", "rank_configs"]

_logger = logging.getLogger("hpolab.optimizers.portfolio")


def _key(config: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((str(k), round(v, 12) if isinstance(v, float) else v) for k, v in config.items()))


def rank_configs(records: Records, *, prior_weight: float = 1.0) -> list[tuple[dict[str, Any], float, int]]:
    """Rank the records' configurations by their mean normalized rank across tasks.

    Within each task, the task's configurations are ranked by accuracy (average ranks for ties) and
    the ranks scaled to [0, 1] (0 = the task's best, 1 = its worst). A configuration's score is its
    mean scaled rank over the tasks it was evaluated on, shrunk towards 0.5 with ``prior_weight``
    pseudo-tasks, so a configuration seen on one task only does not beat one that was good on all.

    Args:
        records: The training records (several tasks).
        prior_weight: Pseudo-observations at rank 0.5 added to every configuration.

    Returns:
        ``(config, score, n_tasks)`` sorted from the best score; configs identical across tasks
        are merged.
    """
    from scipy.stats import rankdata

    sums: dict[Any, float] = {}
    counts: dict[Any, int] = {}
    configs: dict[Any, dict[str, Any]] = {}
    for _task, rows in records.by_task().items():
        # Repeated evaluations of one config on one task: use its mean accuracy.
        acc: dict[Any, list[float]] = {}
        for r in rows:
            key = _key(r.config)
            configs.setdefault(key, dict(r.config))
            acc.setdefault(key, []).append(r.accuracy)
        keys = list(acc)
        means = np.array([np.mean(acc[k]) for k in keys])
        ranks = rankdata(-means, method="average")
        scaled = (ranks - 1) / (len(keys) - 1) if len(keys) > 1 else np.full(len(keys), 0.5)
        for key, rank in zip(keys, scaled, strict=True):
            sums[key] = sums.get(key, 0.0) + float(rank)
            counts[key] = counts.get(key, 0) + 1
    scored = [(configs[k], (sums[k] + 0.5 * prior_weight) / (counts[k] + prior_weight), counts[k]) for k in configs]
    scored.sort(key=lambda item: (item[1], -item[2]))
    return scored


class Portfolio(Optimizer):
    """Propose, in order, the configurations with the best mean rank across training tasks.

    Built from the same :class:`~hpolab.llm.finetune.Records` as the fine-tuned LLM optimizer
    (histories of other tasks). Each configuration is snapped into this optimizer's search space
    with :meth:`SearchSpace.repair` (counted in the trial's metadata as ``repaired``); snapped
    duplicates are skipped. When the list is used up, random samples follow (``fallback`` in the
    metadata). No model, no feedback: the order is fixed by the records.

    Args:
        space: The target search space.
        direction: ``"minimize"`` or ``"maximize"`` (the order does not depend on it).
        seed: Seed of the random samples after the list is used up.
        records: Training records, or a path to a records JSON file.
        exclude_tasks: Tasks to leave out of the ranking (e.g. the task being optimized).
        prior_weight: Shrinkage of a configuration's mean rank (see :func:`rank_configs`).
    """

    name: ClassVar[str] = "portfolio"

    def __init__(
        self,
        space: Any,
        *,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
        records: Records | str | os.PathLike[str] | None = None,
        exclude_tasks: Iterable[str] = (),
        prior_weight: float = 1.0,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        from hpolab.records import Records

        excluded = set(exclude_tasks)
        records = Records.of_other_tasks(records, excluded, needed_by="Portfolio")
        self.exclude_tasks = sorted(excluded)
        self.prior_weight = float(prior_weight)
        self.n_tasks = len(records.tasks)
        self.data_hash = records.hash()
        self._ranked = rank_configs(records, prior_weight=prior_weight)
        self._position = 0
        self.stats: dict[str, int] = {}

    def _next_from_list(self, seen: set[Any]) -> Proposal | None:
        while self._position < len(self._ranked):
            config, score, n_tasks = self._ranked[self._position]
            self._position += 1
            known = {k: v for k, v in config.items() if k in self.space.params}
            repaired, changes = self.space.repair(known)
            dropped = sorted(set(config) - set(known))
            if dropped:
                changes = [*changes, f"dropped keys not in the space: {dropped}"]
            fixed = self.space.validate(repaired)
            key = self.space.key(fixed)
            if key in seen:
                self.stats["skipped_duplicate"] = self.stats.get("skipped_duplicate", 0) + 1
                continue
            outcome = "repaired" if changes else "valid"
            self.stats[outcome] = self.stats.get(outcome, 0) + 1
            metadata = {
                "optimizer": self.name,
                "outcome": outcome,
                "changes": changes,
                "portfolio_rank": self._position,
                "mean_rank": round(score, 6),
                "n_tasks": n_tasks,
            }
            return Proposal(fixed, metadata=metadata)
        return None

    def _ask(self, n: int) -> list[Proposal]:
        seen = {self.space.key(r.config) for r in self._history}
        seen |= {self.space.key(t.config) for t in self._pending.values()}
        seen |= {self.space.key(t.config) for t in self.running_elsewhere}
        out: list[Proposal] = []
        for _ in range(n):
            proposal = self._next_from_list(seen)
            if proposal is None:
                self.stats["fallback"] = self.stats.get("fallback", 0) + 1
                config = self.space.validate(cast(dict[str, Any], self.space.sample(rng=self._rng)))
                proposal = Proposal(config, metadata={"optimizer": self.name, "outcome": "fallback"})
            seen.add(self.space.key(proposal.config))
            out.append(proposal)
        return out

    def _meta_params(self) -> dict[str, Any]:
        return {
            "n_configs": len(self._ranked),
            "n_tasks": self.n_tasks,
            "exclude_tasks": self.exclude_tasks,
            "prior_weight": self.prior_weight,
            "data_hash": self.data_hash,
        }
