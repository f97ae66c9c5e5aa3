"""WarmStartedBO: LLM proposals as the initial design of Bayesian optimization (seed 002)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from hpolab.optimizer import Optimizer, Proposal
from hpolab.trial import Direction, Trial, TrialResult

__all__ = ["WarmStartedBO", "make_llm_smac", "make_llm_tpe"]


class WarmStartedBO(Optimizer):
    """The first ``n_initial`` configs come from an LLM optimizer, the rest from a BO optimizer.

    Every result is given to both: the optimizer that asked a trial is told, the other one
    observes it (:meth:`Optimizer.observe`), so the BO model is fitted on the LLM's initial design
    and the LLM sees the BO trials in its history. Trials carry ``metadata["source"]`` (``"llm"``
    or ``"bo"``) and, for LLM trials, the LLM transcript under ``metadata["llm"]``.

    Args:
        llm: The LLM optimizer (its space, direction and seed are used).
        bo: A BO optimizer on the same space, e.g. ``make_optimizer("tpe", space)``.
        n_initial: Configs asked from the LLM before switching to ``bo``.
    """

    name: ClassVar[str] = "llm-warmstart"

    def __init__(self, llm: Optimizer, bo: Optimizer, n_initial: int = 5) -> None:
        if isinstance(n_initial, bool) or int(n_initial) < 0:
            raise ValueError(f"n_initial: {n_initial!r} must be a non-negative int")
        if llm.space != bo.space:
            raise ValueError("bo: its search space differs from the LLM optimizer's; build both on the same space")
        if llm.direction is not bo.direction:
            raise ValueError(f"bo: direction {bo.direction.value} differs from the LLM's {llm.direction.value}")
        super().__init__(llm.space, direction=llm.direction, seed=llm.seed)
        self.llm = llm
        self.bo = bo
        self.n_initial = int(n_initial)
        self._inner: dict[int, tuple[str, int]] = {}
        self._n_proposed = 0

    def set_context(self, *, description: str | None = None, n_trials: int | None = None, fidelity: Any = None) -> None:
        super().set_context(description=description, n_trials=n_trials, fidelity=fidelity)
        self.llm.set_context(description=description, n_trials=n_trials, fidelity=fidelity)
        self.bo.set_context(description=description, n_trials=n_trials, fidelity=fidelity)

    def _meta_params(self) -> dict[str, Any]:
        return {"n_initial": self.n_initial, "llm": self.llm.meta, "bo": self.bo.meta}

    def _source(self) -> Optimizer:
        return self.llm if self._n_proposed < self.n_initial else self.bo

    def _ask(self, n: int) -> list[Proposal]:
        out: list[Proposal] = []
        while len(out) < n:
            source = self._source()
            k = n - len(out)
            if source is self.llm:
                k = min(k, self.n_initial - self._n_proposed)
            label = "llm" if source is self.llm else "bo"
            for inner in source.ask(k):
                metadata: dict[str, Any] = {"source": label, "inner_id": inner.id, **dict(inner.metadata)}
                self._inner[self._next_id + len(out)] = (label, inner.id)
                out.append(Proposal(inner.config, budget=inner.budget, metadata=metadata))
                self._n_proposed += 1
        return out

    def _route(self, trial: Trial) -> tuple[Optimizer, Optimizer, int] | None:
        entry = self._inner.pop(trial.id, None)
        if entry is None:
            return None
        label, inner_id = entry
        return (self.llm, self.bo, inner_id) if label == "llm" else (self.bo, self.llm, inner_id)

    def _tell(self, trial: Trial, result: TrialResult) -> None:
        route = self._route(trial)
        if route is None:
            self._observe(trial, result)
            return
        asker, other, inner_id = route
        asker.tell(inner_id, result)
        other.observe(trial.config, result, budget=trial.budget)

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        self.llm.observe(trial.config, result, budget=trial.budget)
        self.bo.observe(trial.config, result, budget=trial.budget)

    def _replay_ask(self, trials: Sequence[Trial]) -> None:
        for trial in trials:
            label = str(trial.metadata.get("source", "llm" if self._n_proposed < self.n_initial else "bo"))
            source = self.llm if label == "llm" else self.bo
            inner_id = int(trial.metadata.get("inner_id", source._next_id))
            inner_meta = {k: v for k, v in trial.metadata.items() if k not in ("source", "inner_id")}
            inner = Trial(inner_id, dict(trial.config), budget=trial.budget, seed=trial.seed, metadata=inner_meta)
            source.replay([{"ask": [inner.to_dict()]}])
            self._inner[trial.id] = (label, inner_id)
            self._n_proposed += 1

    def __repr__(self) -> str:
        return f"WarmStartedBO(llm={self.llm!r}, bo={self.bo!r}, n_initial={self.n_initial})"


def _make(
    bo_name: str,
    space: Any,
    *,
    direction: Direction | str = "minimize",
    seed: int | None = None,
    n_initial: int = 5,
    client: Any = None,
    llm_kwargs: Mapping[str, Any] | None = None,
    bo_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> WarmStartedBO:
    from hpolab.llm._optimizer import LLMOptimizer
    from hpolab.registry import make_optimizer

    llm = LLMOptimizer(space, client, direction=direction, seed=seed, **dict(llm_kwargs or {}), **kwargs)
    bo = make_optimizer(bo_name, llm.space, direction=direction, seed=seed, **dict(bo_kwargs or {}))
    return WarmStartedBO(llm, bo, n_initial=n_initial)


def make_llm_tpe(
    space: Any, *, direction: Direction | str = "minimize", seed: int | None = None, **kwargs: Any
) -> WarmStartedBO:
    """Registry factory ``llm-tpe``: TPE warm-started with ``n_initial`` LLM proposals.

    Keyword arguments: ``n_initial``, ``client``, ``llm_kwargs`` and ``bo_kwargs`` (options of each
    part); any other keyword goes to :class:`LLMOptimizer`.
    """
    return _make("tpe", space, direction=direction, seed=seed, **kwargs)


def make_llm_smac(
    space: Any, *, direction: Direction | str = "minimize", seed: int | None = None, **kwargs: Any
) -> WarmStartedBO:
    """Registry factory ``llm-smac``: SMAC with a random forest, warm-started with LLM proposals.

    Same keywords as :func:`make_llm_tpe`.
    """
    return _make("smac-rf", space, direction=direction, seed=seed, **kwargs)
