"""The LLM's hybrid: the source-agnostic :class:`~hpolab.optimizers.Hybrid` with an LLM source.

A classic core (TPE by default), the LLM optimizer and, when records of other tasks are given, the
transfer portfolio propose configurations; an allocation policy of :mod:`hpolab.optimizers` decides
which of them proposes each trial (``"adaptive"``: :class:`~hpolab.optimizers.AdaptiveBandit`;
``"fixed"``: :class:`~hpolab.optimizers.FixedSchedule`, or with ``share``
:class:`~hpolab.optimizers.FixedShare`, Centaur's policy).

The LLM's prompt may carry the core's state (incumbent, top configurations, the core's own next
proposal and, for a CMA-ES core, its mean, step size and covariance: the Centaur idea), the LLM may
decline and keep the core's proposal within a share of trials the user sets, and where the LLM
repeats an evaluated configuration after a re-ask, or gives no usable answer, the core answers
instead of a random perturbation: the LLM passes its trial on to the core.

``prompt="lean"`` makes the LLM's part cheaper to read for a local model whose prompt reading
dominates its latency, each change a default that an explicit keyword overrides: a duplicate goes
to the core at once (``on_duplicate="delegate"``, no re-ask listing every evaluated
configuration), the last-k window moves in steps of 10 trials (``history_step=10``, so the history
stays a cached prefix between its moves), and the classic state leaves out the incumbent line (the
first of the top configurations), shows the top 3 configurations instead of 5, and shows CMA-ES's
mean in the parameters' values only (not also scaled) and its widest covariance direction only (not
three). The answer stays the paper's JSON object; the compact answer (``answer_format="compact"``)
may be given beside it (docs/llm.md says why it is not part of the lean prompt).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from hpolab.llm._prompts import DEFAULT_TEMPLATES, ClassicState, cma_state_text
from hpolab.optimizers._base import Optimizer, OptimizerError
from hpolab.optimizers._hybrid import (
    AdaptiveBandit,
    AllocationPolicy,
    Draw,
    FixedSchedule,
    FixedShare,
    Hybrid,
)
from hpolab.space import SearchSpace
from hpolab.trial import Direction, TrialState

if TYPE_CHECKING:
    from hpolab.llm.clients._base import LLMClient

__all__ = ["HybridOptimizer", "make_llm_hybrid"]

#: Metadata keys of the LLM source that the hybrid lifts to the trial's top level (read by reports).
_LLM_KEYS = ("llm", "llm_usage")

#: The prompts of :class:`HybridOptimizer`: ``"full"`` (as Centaur shows the state) and ``"lean"``.
_PROMPTS = ("full", "lean")

#: Configurations the lean prompt's classic state shows.
_LEAN_TOP_K = 3

#: The LLM options ``prompt="lean"`` sets where the caller gave none: option -> (value, the LLM
#: optimizer's option group holding it). ``history_step`` only where a last-k window is shown.
_LEAN_LLM = {"on_duplicate": ("delegate", "duplicates"), "history_step": (10, "prompt")}


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


class HybridOptimizer(Hybrid):
    """The hybrid with an LLM source (``llm-hybrid``; see the module docstring).

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
        top_k: Configurations shown in the classic state (``None``: 5, Centaur's; 3 with ``prompt="lean"``).
        keep_share: Most share of all trials in which the LLM may decline and keep the core's
            proposal (0: never); only with ``classic_state``.
        prompt: ``"full"`` (the classic state as Centaur shows it, duplicates re-asked, the
            paper's JSON answer) or ``"lean"`` (cheaper to read: see the module docstring).
        core_label: The core's label in ``metadata["source"]``.
        llm_kwargs: Options of the LLM optimizer (``mode``, ``on_duplicate``, ``base_url``, ...).
        core_kwargs: Options of a core given by name.
        portfolio_kwargs: Options of the portfolio (``prior_weight``).
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the policy's draws and of sources built here.
    """

    name: ClassVar[str] = "llm-hybrid"
    lifted_keys: ClassVar[Mapping[str, tuple[str, ...]]] = {"llm": _LLM_KEYS}

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
        top_k: int | None = None,
        keep_share: float = 0.3,
        prompt: str = "full",
        core_label: str = "core",
        llm_kwargs: Mapping[str, Any] | None = None,
        core_kwargs: Mapping[str, Any] | None = None,
        portfolio_kwargs: Mapping[str, Any] | None = None,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
    ) -> None:
        if isinstance(n_initial, bool) or int(n_initial) < 0:
            raise ValueError(f"n_initial: {n_initial!r} must be a non-negative int")
        if not 0.0 <= float(keep_share) <= 1.0:
            raise ValueError(f"keep_share: {keep_share!r} must be a share of trials in [0, 1]")
        if top_k is None:
            top_k = _LEAN_TOP_K if prompt == "lean" else 5
        if isinstance(top_k, bool) or int(top_k) < 1:
            raise ValueError(f"top_k: {top_k!r} must be a positive int")
        if last_k is not None and (isinstance(last_k, bool) or int(last_k) < 1):
            raise ValueError(f"last_k: {last_k!r} must be a positive int (trials shown) or None")
        if prompt not in _PROMPTS:
            raise ValueError(f"prompt: {prompt!r} is not one of {', '.join(map(repr, _PROMPTS))}")
        if last_k is None and share is not None:
            last_k = 20  # Centaur's prompt: the last 20 trials
        if last_k is not None and llm is True and "max_history" not in (llm_kwargs or {}):
            llm_kwargs = {**dict(llm_kwargs or {}), "max_history": int(last_k)}
        if prompt == "lean" and llm is True:
            llm_kwargs = _lean_options(llm_kwargs, windowed=last_k is not None)
        if sources is None:
            space = SearchSpace.coerce(space)
            sources = _build_sources(
                space,
                Direction.coerce(direction),
                seed,
                str(core_label),
                client,
                core,
                llm,
                records,
                exclude_tasks,
                llm_kwargs,
                core_kwargs,
                portfolio_kwargs,
            )
        elif client is not None or records is not None:
            raise ValueError("sources: give either sources= or client= / records=, not both")
        super().__init__(
            space,
            sources=sources,
            policy=_policy(
                policy, int(n_initial), float(floor), str(core_label), None if share is None else float(share), warmup
            ),
            core_label=core_label,
            direction=direction,
            seed=seed,
        )
        self.classic_state = bool(classic_state)
        self.top_k = int(top_k)
        self.keep_share = float(keep_share)
        self.prompt = str(prompt)

    @property
    def llm(self) -> Optimizer | None:
        """The LLM source, if any."""
        return self.sources.get("llm")

    def _meta_params(self) -> dict[str, Any]:
        base = super()._meta_params()
        return {
            "policy": base.pop("policy"),
            "classic_state": self.classic_state,
            "top_k": self.top_k,
            "keep_share": self.keep_share,
            "prompt": self.prompt,
            **base,
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

    def _classic(self, allow_keep: bool) -> ClassicState:
        ranked = self._ranked()
        proposal = self._peek().config
        top = ranked[: self.top_k]
        lean_top = self.prompt == "lean" and len(top) > 1  # the top list's first line is the incumbent
        return ClassicState(
            core=str(self.core.name),
            incumbent=ranked[0] if ranked and not lean_top else None,
            top=tuple(top),
            proposal=proposal,
            allow_keep=allow_keep,
            core_state=self._core_state(),
        )

    def _core_state(self) -> str:
        """The core's own state as prompt text: CMA-ES's search distribution for a ``cmaes`` core, else nothing."""
        from hpolab.optimizers._cmaes import CmaEs

        if not isinstance(self.core, CmaEs):
            return ""
        lean = self.prompt == "lean"
        state = self.core.state(k=1 if lean else 3)
        templates = getattr(self.llm, "templates", None)
        if state is None:
            return ""
        return cma_state_text(state, templates=templates or DEFAULT_TEMPLATES, scaled_mean=not lean)

    def _may_keep(self) -> bool:
        declined = self.counts.get("declined", 0)
        return self.keep_share > 0 and declined + 1 <= self.keep_share * (self._n_allocated + 1) + 1e-9

    # ---------------------------------------------------------------- the LLM's asks
    def _draw(self, label: str, why: str) -> Draw:
        """The LLM's trial, shown the core's state, or the core's kept proposal where the LLM passes it on."""
        if label != "llm":
            return super()._draw(label, why)
        llm = self.sources["llm"]
        allow_keep = self.classic_state and self._may_keep()
        state = self._classic(allow_keep) if self.classic_state else None
        set_classic = getattr(llm, "set_classic", None)
        if set_classic is not None:
            set_classic(state, lambda reason: self._peek().config)
        try:
            inner = self._ask_source("llm")
        finally:
            if set_classic is not None:
                set_classic(None, None)
        draw = Draw({"llm": inner}, "llm", why, metadata=self._lifted("llm", inner))
        llm_meta = inner.metadata.get("llm") or {}
        copied = self._bank is not None and self.space.key(self._bank.config) == self.space.key(inner.config)
        if (llm_meta.get("delegated") or copied) and self._bank is not None:
            if self.space.key(self._bank.config) != self.space.key(inner.config):
                raise OptimizerError("the LLM source delegated but its config is not the core's proposal")
            outcome = llm_meta.get("outcome")
            if not llm_meta.get("delegated"):
                why = "copied"  # the model wrote the core's proposal out: the core's trial runs it
            else:
                why = outcome if outcome in ("declined", "fallback") else "duplicate"
            self._pass_to_core(draw, why)
        return draw


def _lean_options(llm_kwargs: Mapping[str, Any] | None, *, windowed: bool) -> dict[str, Any]:
    """The LLM options of the lean prompt: its defaults under the options the caller gave."""
    options = dict(llm_kwargs or {})
    for key, (value, group) in _LEAN_LLM.items():
        if (key != "history_step" or windowed) and group not in options:  # a group given whole keeps its value
            options.setdefault(key, value)
    return options


def _build_sources(
    space: SearchSpace,
    direction: Direction,
    seed: int | None,
    core_label: str,
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
        out["llm"] = LLMOptimizer(space, client, direction=direction, seed=seed, **options)
    elif client is not None or llm_kwargs:
        raise ValueError("llm: False leaves the LLM out; do not give client= or llm_kwargs= with it")
    if records is not None:
        from hpolab.optimizers._portfolio import Portfolio

        out["portfolio"] = Portfolio(
            space,
            direction=direction,
            seed=seed,
            records=records,
            exclude_tasks=exclude_tasks,
            **dict(portfolio_kwargs or {}),
        )
    if isinstance(core, Optimizer):
        if core_kwargs:
            raise ValueError("core_kwargs: only used with a core given by name; configure the instance instead")
        out[core_label] = core
    else:
        out[core_label] = make_optimizer(str(core), space, direction=direction, seed=seed, **dict(core_kwargs or {}))
    return out


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
        "n_trials",
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
        "history_step",
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
    from hpolab.llm.clients._simulated import simulated_client

    return simulated_client(dict(simulated), seed=seed)
