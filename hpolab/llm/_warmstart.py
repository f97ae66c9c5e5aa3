"""LLM proposals as the initial design of Bayesian optimization: the hybrid's fixed schedule.

``llm-tpe`` and ``llm-smac`` are :class:`~hpolab.llm.HybridOptimizer` instances whose policy is a
fixed schedule (``n_initial`` LLM proposals, then the core). Each is its own class with its own
registry name, so that a stored study names a registry key and ``hpolab.load_study(name, url)``
rebuilds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from hpolab.llm._hybrid import HybridOptimizer, _simulated_client, _split_llm_options
from hpolab.optimizers._base import Optimizer
from hpolab.optimizers._hybrid import FixedSchedule
from hpolab.trial import Direction

__all__ = ["LLMSMAC", "LLMTPE", "WarmStartedBO", "make_llm_smac", "make_llm_tpe"]


class WarmStartedBO(HybridOptimizer):
    """The first ``n_initial`` configs come from an LLM optimizer, the rest from a BO optimizer.

    Every result is given to both: the optimizer that asked a trial is told, the other one
    observes it, so the BO model is fitted on the LLM's initial design and the LLM sees the BO
    trials in its history. Trials carry ``metadata["source"]`` (``"llm"`` or ``"bo"``) and, for
    LLM trials, the LLM transcript under ``metadata["llm"]``. Where the LLM repeats an evaluated
    configuration after a re-ask, the BO optimizer answers for it.

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
        super().__init__(
            llm.space,
            sources={"llm": llm, "bo": bo},
            core_label="bo",
            policy=FixedSchedule([("llm", int(n_initial))], then="bo"),
            classic_state=False,
            keep_share=0.0,
            direction=llm.direction,
            seed=llm.seed,
        )
        self.n_initial = int(n_initial)

    @property
    def bo(self) -> Optimizer:
        """The BO optimizer."""
        return self.core


class LLMTPE(HybridOptimizer):
    """``llm-tpe``: TPE warm-started with ``n_initial`` LLM proposals.

    A :class:`HybridOptimizer` with a fixed schedule; the core's label is ``"bo"``.
    """

    name: ClassVar[str] = "llm-tpe"
    _core: ClassVar[str] = "tpe"

    def __init__(
        self,
        space: Any,
        *,
        n_initial: int = 5,
        client: Any = None,
        simulated: Mapping[str, Any] | None = None,
        llm_kwargs: Mapping[str, Any] | None = None,
        bo_kwargs: Mapping[str, Any] | None = None,
        direction: Direction | str = "minimize",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        llm_options, rest = _split_llm_options(kwargs)
        if rest:
            raise TypeError(f"{self.name}: unknown option(s) {sorted(rest)}; LLM options go in llm_kwargs=")
        super().__init__(
            space,
            client=_simulated_client(client, simulated, seed),
            core=self._core,
            core_kwargs=bo_kwargs,
            llm_kwargs={**llm_options, **dict(llm_kwargs or {})} or None,
            policy=FixedSchedule([("llm", int(n_initial))], then="bo"),
            core_label="bo",
            classic_state=False,
            keep_share=0.0,
            direction=direction,
            seed=seed,
        )
        self.n_initial = int(n_initial)


class LLMSMAC(LLMTPE):
    """``llm-smac``: SMAC with a random forest, warm-started with LLM proposals."""

    name: ClassVar[str] = "llm-smac"
    _core: ClassVar[str] = "smac-rf"


def make_llm_tpe(
    space: Any, *, direction: Direction | str = "minimize", seed: int | None = None, **kwargs: Any
) -> LLMTPE:
    """Registry factory ``llm-tpe``: TPE warm-started with ``n_initial`` LLM proposals.

    Keyword arguments: ``n_initial``, ``client``, ``llm_kwargs`` and ``bo_kwargs`` (options of each
    part); LLM options (``model=``, ``mode=``, ...) may also be given at the top level.
    """
    return LLMTPE(space, direction=direction, seed=seed, **kwargs)


def make_llm_smac(
    space: Any, *, direction: Direction | str = "minimize", seed: int | None = None, **kwargs: Any
) -> LLMSMAC:
    """Registry factory ``llm-smac``: SMAC (random forest) warm-started with LLM proposals.

    Same keywords as :func:`make_llm_tpe`.
    """
    return LLMSMAC(space, direction=direction, seed=seed, **kwargs)
