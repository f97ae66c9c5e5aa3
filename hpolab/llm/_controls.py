"""The controls that show what an LLM adds to a hybrid optimizer.

Each is a registered optimizer, so the benchmark harness and Table 1 show it beside the method:

* ``default-first``: the search space's default configuration first, then the core
  (an LLM's early lead is often just a good default, arXiv 2606.21641);
* ``llm-hybrid-nollm``: the hybrid with the LLM removed (its other sources and policy kept);
* ``llm-hybrid-placebo``: the hybrid whose LLM is a :class:`PlaceboClient` (answers sampled at
  random inside the space, or the values of the prompt's history permuted);
* ``counting-prior``: the hybrid with the LLM replaced by :class:`CountingPrior`, the frequency of
  each value among other tasks' best configurations (needs records).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal, cast

import numpy as np

from hpolab.llm._hybrid import HybridOptimizer
from hpolab.llm.clients._simulated import Reply, Request, SimulatedClient, answer_rng, json_objects
from hpolab.optimizers._base import Optimizer, Proposal
from hpolab.optimizers._hybrid import FixedSchedule
from hpolab.space import SearchSpace
from hpolab.trial import Direction

__all__ = [
    "CountingPrior",
    "CountingPriorHybrid",
    "DefaultConfig",
    "DefaultFirst",
    "HybridNoLLM",
    "HybridPlacebo",
    "PlaceboClient",
]


def _unseen(space: SearchSpace, rng: np.random.Generator, seen: set[Any]) -> dict[str, Any]:
    """An unseen random configuration, or any one when the space is (nearly) exhausted."""
    return space.sample_unseen(seen, rng) or space.validate(cast(dict[str, Any], space.sample(rng=rng)))


class PlaceboClient(SimulatedClient):
    """A placebo LLM: answers carry no knowledge of the task (a control, not a model).

    Args:
        space: The search space the answers are drawn from.
        mode: ``"random"``: a configuration sampled uniformly inside the space; ``"permute"``:
            each hyperparameter's value drawn from the values the prompt's history shows (the
            history's values permuted across configurations; a random sample while there is none).
        seed: Seed; each answer is drawn from ``(seed, request seed)``.
    """

    supports_images = False

    def __init__(self, space: Any, *, mode: Literal["random", "permute"] = "random", seed: int | None = 0) -> None:
        if mode not in ("random", "permute"):
            raise ValueError(f"mode: {mode!r} is not 'random' or 'permute'")
        self.space = SearchSpace.coerce(space)
        self.mode = mode
        self.seed = 0 if seed is None else int(seed)
        self.name = f"placebo-{mode}"
        self.calls = 0

    def __repr__(self) -> str:
        return f"PlaceboClient(mode={self.mode!r}, seed={self.seed})"

    def _answer(self, request: Request) -> Reply:
        rng = answer_rng(self.seed, self.calls, request.seed)
        self.calls += 1
        config = cast(dict[str, Any], self.space.sample(rng=rng))
        if self.mode == "permute":
            messages = request.messages
            text = str(messages[-1].get("content", "")) if messages else ""
            shown = [c for c in json_objects(text) if set(c) == set(self.space.names)]
            if shown:
                config = {name: shown[int(rng.integers(len(shown)))][name] for name in self.space.names}
                repaired, _ = self.space.repair(config)
                config = self.space.validate(repaired)
        return Reply(json.dumps(config), {"placebo": self.mode})


class DefaultConfig(Optimizer):
    """A source that proposes the space's default configuration, then random unseen samples."""

    name: ClassVar[str] = "default"

    def _ask(self, n: int) -> list[Proposal]:
        seen = {self.space.key(r.config) for r in self._history} | {self.space.key(t.config) for t in self.pending}
        out: list[Proposal] = []
        for _ in range(n):
            default = self.space.validate(self.space.default())
            if self.space.key(default) not in seen:
                config, how = default, "default"
            else:
                config, how = _unseen(self.space, self._rng, seen), "random"
            seen.add(self.space.key(config))
            out.append(Proposal(config, metadata={"default": how}))
        return out


class CountingPrior(Optimizer):
    """The frequency of each value among other tasks' best configurations, as a proposal source.

    For every task of the records (minus ``exclude_tasks``), its ``best_k`` configurations; each
    hyperparameter's values among them are counted. The first proposal takes each
    hyperparameter's most frequent value; later ones draw each hyperparameter independently from
    its counts plus ``smoothing`` pseudo-counts per choice (numeric values: a counted value moved
    by a small step), skipping configurations already proposed.

    Args:
        space: The search space.
        records: A :class:`~hpolab.llm.finetune.Records` or a records JSON path.
        exclude_tasks: Tasks to leave out (the task being optimized).
        best_k: Configurations per task counted.
        smoothing: Pseudo-count per choice of a categorical or ordinal hyperparameter.
        direction: ``"minimize"`` or ``"maximize"`` (records hold accuracies; higher is better).
        seed: Seed of the draws.
    """

    name: ClassVar[str] = "counting-prior"

    def __init__(
        self,
        space: Any,
        *,
        records: Any,
        exclude_tasks: Iterable[str] = (),
        best_k: int = 1,
        smoothing: float = 0.5,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        from hpolab.records import Records

        excluded = set(exclude_tasks)
        records = Records.of_other_tasks(records, excluded, needed_by="the counting prior")
        if isinstance(best_k, bool) or int(best_k) < 1:
            raise ValueError(f"best_k: {best_k!r} must be a positive int")
        if float(smoothing) < 0:
            raise ValueError(f"smoothing: {smoothing!r} must be >= 0")
        self.best_k = int(best_k)
        self.smoothing = float(smoothing)
        self.exclude_tasks = sorted(excluded)
        self.counts: dict[str, dict[Any, int]] = {name: {} for name in self.space.names}
        for task in records.tasks:
            for record in records.best(task, self.best_k):
                repaired, _ = self.space.repair({k: v for k, v in record.config.items() if k in self.space.params})
                for name, value in repaired.items():
                    bucket = self.counts.setdefault(name, {})
                    bucket[value] = bucket.get(value, 0) + 1

    def _meta_params(self) -> dict[str, Any]:
        return {"best_k": self.best_k, "smoothing": self.smoothing, "exclude_tasks": self.exclude_tasks}

    def mode_config(self) -> dict[str, Any]:
        """Each hyperparameter's most frequent value (the space's default where none was counted)."""
        config = self.space.default()
        for name, bucket in self.counts.items():
            if bucket:
                config[name] = max(bucket.items(), key=lambda kv: kv[1])[0]
        repaired, _ = self.space.repair(config)
        return self.space.validate(repaired)

    def _draw(self, name: str) -> Any:
        param = self.space[name]
        bucket = self.counts.get(name) or {}
        rng = self._rng
        if param.kind in ("categorical", "ordinal"):
            choices = list(param.choices)
            weights = np.array([bucket.get(c, 0) + self.smoothing for c in choices], dtype=float)
            if weights.sum() <= 0:
                weights = np.ones(len(choices))
            return choices[int(rng.choice(len(choices), p=weights / weights.sum()))]
        if param.kind in ("float", "int") and bucket:
            values = list(bucket)
            weights = np.array([bucket[v] for v in values], dtype=float)
            value = float(values[int(rng.choice(len(values), p=weights / weights.sum()))])
            lo, hi = float(param.lower), float(param.upper)  # type: ignore[arg-type]
            if param.log and lo > 0:
                value = float(np.exp(np.log(max(value, lo)) + rng.normal(0.0, 0.1 * (np.log(hi) - np.log(lo)))))
            else:
                value = value + float(rng.normal(0.0, 0.1 * (hi - lo)))
            return min(max(value, lo), hi)
        return param.sample(rng)

    def _ask(self, n: int) -> list[Proposal]:
        seen = {self.space.key(r.config) for r in self._history} | {self.space.key(t.config) for t in self.pending}
        seen |= {self.space.key(t.config) for t in self.running_elsewhere}
        out: list[Proposal] = []
        for _ in range(n):
            config = self.mode_config()
            how = "mode"
            tries = 0
            while self.space.key(config) in seen and tries < 100:
                raw = {name: self._draw(name) for name in self.space.names}
                repaired, _ = self.space.repair(raw)
                config = self.space.validate(repaired)
                how = "drawn"
                tries += 1
            if self.space.key(config) in seen:
                config, how = _unseen(self.space, self._rng, seen), "random"
            seen.add(self.space.key(config))
            out.append(Proposal(config, metadata={"prior": how}))
        return out


# ------------------------------------------------------------------------- registered controls
_NO_LLM = ("client", "simulated", "llm", "llm_kwargs", "model", "base_url", "api_key")


class HybridNoLLM(HybridOptimizer):
    """``llm-hybrid-nollm``: the hybrid with the LLM removed (core, portfolio with records, same policy)."""

    name: ClassVar[str] = "llm-hybrid-nollm"

    def __init__(self, space: Any, **kwargs: Any) -> None:
        given = sorted(k for k in _NO_LLM if kwargs.get(k) is not None)
        if given:
            raise ValueError(f"{self.name} has no LLM; remove {given}")
        super().__init__(space, llm=False, **kwargs)


class HybridPlacebo(HybridOptimizer):
    """``llm-hybrid-placebo``: the hybrid whose LLM is a :class:`PlaceboClient`.

    Args:
        space: The search space.
        placebo: ``"random"`` or ``"permute"`` (see :class:`PlaceboClient`).
        **kwargs: :class:`HybridOptimizer` options (no ``client``).
    """

    name: ClassVar[str] = "llm-hybrid-placebo"

    def __init__(self, space: Any, *, placebo: Literal["random", "permute"] = "random", **kwargs: Any) -> None:
        given = sorted(k for k in _NO_LLM if kwargs.get(k) is not None and k != "llm_kwargs")
        if given:
            raise ValueError(f"{self.name} answers with a placebo; remove {given}")
        seed = kwargs.get("seed")
        self.placebo = placebo
        super().__init__(space, client=PlaceboClient(space, mode=placebo, seed=seed), **kwargs)  # type: ignore[arg-type]

    def _meta_params(self) -> dict[str, Any]:
        return {**super()._meta_params(), "placebo": self.placebo}


class CountingPriorHybrid(HybridOptimizer):
    """``counting-prior``: the hybrid with the LLM replaced by :class:`CountingPrior` (needs ``records``).

    Args:
        space: The search space.
        records: Records of other tasks (also feed the portfolio source unless ``portfolio=False``).
        exclude_tasks: Tasks to leave out (the task being optimized).
        portfolio: Keep the portfolio source beside the prior, as in ``llm-hybrid`` with records.
        prior_kwargs: Options of :class:`CountingPrior` (``best_k``, ``smoothing``).
        core: The classic core (a registry name or an Optimizer).
        core_kwargs: Options of a core given by name.
        **kwargs: Further :class:`HybridOptimizer` options (``policy``, ``floor``, ``n_initial``).
    """

    name: ClassVar[str] = "counting-prior"

    def __init__(
        self,
        space: Any,
        *,
        records: Any = None,
        exclude_tasks: Sequence[str] = (),
        portfolio: bool = True,
        prior_kwargs: Mapping[str, Any] | None = None,
        core: str | Optimizer = "tpe",
        core_kwargs: Mapping[str, Any] | None = None,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        from hpolab.registry import make_optimizer

        given = sorted(k for k in _NO_LLM if kwargs.get(k) is not None)
        if given:
            raise ValueError(f"{self.name} has no LLM; remove {given}")
        space = SearchSpace.coerce(space)
        sources: dict[str, Optimizer] = {
            "prior": CountingPrior(
                space,
                records=records,
                exclude_tasks=exclude_tasks,
                direction=direction,
                seed=seed,
                **dict(prior_kwargs or {}),
            )
        }
        if portfolio:
            from hpolab.optimizers._portfolio import Portfolio

            sources["portfolio"] = Portfolio(
                space, direction=direction, seed=seed, records=records, exclude_tasks=exclude_tasks
            )
        if isinstance(core, Optimizer):
            sources["core"] = core
        else:
            sources["core"] = make_optimizer(core, space, direction=direction, seed=seed, **dict(core_kwargs or {}))
        policy = kwargs.pop("policy", "adaptive")
        n_initial = int(kwargs.pop("n_initial", 5))
        if policy == "fixed":
            policy = FixedSchedule([("prior", n_initial)], then="core")
        super().__init__(space, sources=sources, policy=policy, direction=direction, seed=seed, **kwargs)


class DefaultFirst(HybridOptimizer):
    """``default-first``: the space's default configuration first, then the core optimizer.

    Args:
        space: The search space.
        core: The classic core (a registry name or an Optimizer).
        core_kwargs: Options of a core given by name.
    """

    name: ClassVar[str] = "default-first"

    def __init__(
        self,
        space: Any,
        *,
        core: str | Optimizer = "tpe",
        core_kwargs: Mapping[str, Any] | None = None,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
    ) -> None:
        from hpolab.registry import make_optimizer

        space = SearchSpace.coerce(space)
        core_opt = (
            core
            if isinstance(core, Optimizer)
            else make_optimizer(core, space, direction=direction, seed=seed, **dict(core_kwargs or {}))
        )
        super().__init__(
            space,
            sources={"default": DefaultConfig(space, direction=direction, seed=seed), "core": core_opt},
            policy=FixedSchedule([("default", 1)], then="core"),
            classic_state=False,
            direction=direction,
            seed=seed,
        )
