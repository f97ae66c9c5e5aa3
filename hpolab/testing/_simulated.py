"""Simulated LLM clients: a simulated strong model and a simulated adversary, for tests and for the upside.

They are simulations, named as such wherever they appear (transcripts, benchmark rows): they
answer from the task's own values, which no real model knows. With them a hybrid optimizer's
ceiling (a model that knows good configurations) and floor (a model that proposes the worst ones)
are measured without a hosted model.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from hpolab.llm._client import Completion
from hpolab.space import SearchSpace
from hpolab.trial import Direction

__all__ = ["SimulatedAdversaryClient", "SimulatedOracleClient", "simulated_client"]

_OBJECT = re.compile(r"\{[^{}]*\}")


class SimulatedOracleClient:
    """A simulated strong LLM: answers a random configuration from the task's best ``quantile``.

    Each answer is a JSON config (the format the LLM optimizer parses) drawn uniformly from the
    best ``quantile`` of a pool of configurations with known values, leaving out the
    configurations the prompt already shows; it never declines. For a lookup table
    (:class:`~hpolab.objectives.tabular.TabularObjective`) the pool is the whole table with its
    true values (mean over seeds); for other objectives, ``n_pool`` random configurations
    evaluated once (:meth:`from_objective`).

    Args:
        configs: The pool's configurations.
        values: Their values (lower is better with ``direction="minimize"``).
        quantile: Share of the pool answered from (0.05: the best 5%).
        direction: The objective's direction.
        seed: Seed; each answer is drawn from ``(seed, request seed)``.
        worst: Answer from the worst ``quantile`` instead (the adversary).
    """

    supports_images = False
    kind = "oracle"

    def __init__(
        self,
        configs: Sequence[Mapping[str, Any]],
        values: Sequence[float],
        *,
        quantile: float = 0.05,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = 0,
        worst: bool = False,
    ) -> None:
        if len(configs) != len(values) or not configs:
            raise ValueError(
                f"configs / values: need one value per config and at least one ({len(configs)}, {len(values)})"
            )
        if not 0.0 < float(quantile) <= 1.0:
            raise ValueError(f"quantile: {quantile!r} must be in (0, 1]")
        sign = Direction.coerce(direction).sign
        signed = np.array([sign * float(v) for v in values], dtype=float)
        valid = np.flatnonzero(np.isfinite(signed))
        if valid.size == 0:
            raise ValueError("values: no finite value in the pool")
        order = valid[np.argsort(signed[valid], kind="stable")]
        if worst:
            order = order[::-1]
        k = max(1, math.ceil(float(quantile) * len(order)))
        self._configs = [dict(configs[i]) for i in order[:k]]
        self.quantile = float(quantile)
        self.worst = bool(worst)
        self.seed = 0 if seed is None else int(seed)
        self.name = f"simulated-{'adversary' if worst else 'oracle'}(q={self.quantile:g})"
        self.calls = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(quantile={self.quantile}, pool={len(self._configs)})"

    @classmethod
    def from_objective(
        cls,
        objective: Any,
        *,
        quantile: float = 0.05,
        n_pool: int = 2000,
        seed: int | None = 0,
        **kwargs: Any,
    ) -> SimulatedOracleClient:
        """A client over an objective: its whole table (tabular objectives) or ``n_pool`` random configs.

        Args:
            objective: An hpolab Objective.
            quantile: Share of the pool answered from.
            n_pool: Random configurations evaluated for objectives without a table.
            seed: Seed of the pool and of the answers.
            **kwargs: Passed to the constructor (``worst``).
        """
        table = getattr(objective, "table", None)
        if table is not None and hasattr(table, "true") and hasattr(table, "config_of"):
            true = np.asarray(table.true, dtype=float)
            rows = np.flatnonzero(np.isfinite(true))
            configs = [table.config_of(int(r)) for r in rows]
            values = [float(true[r]) for r in rows]
        else:
            space: SearchSpace = objective.search_space
            rng = np.random.default_rng(seed)
            configs = [cast(dict[str, Any], space.sample(rng=rng)) for _ in range(int(n_pool))]
            values = []
            for config in configs:
                true_value = getattr(objective, "true_value", None)
                if callable(true_value):
                    values.append(float(true_value(config)))
                else:
                    result = objective.evaluate(config)
                    values.append(math.nan if result.value is None else float(result.value))
        return cls(configs, values, quantile=quantile, direction=objective.direction, seed=seed, **kwargs)

    def _shown(self, messages: Sequence[Mapping[str, Any]]) -> set[tuple[tuple[str, Any], ...]]:
        keys = set()
        for message in messages:
            for match in _OBJECT.finditer(str(message.get("content", ""))):
                try:
                    obj = json.loads(match.group(0))
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    keys.add(tuple(sorted(obj.items())))
        return keys

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        json_schema: Mapping[str, Any] | None = None,
        images: Sequence[bytes] = (),
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 256,
    ) -> Completion:
        start = time.perf_counter()
        rng = np.random.default_rng([self.seed, self.calls if seed is None else int(seed) & 0x7FFFFFFF])
        self.calls += 1
        shown = self._shown(messages)
        fresh = [c for c in self._configs if tuple(sorted(c.items())) not in shown]
        pool = fresh or self._configs
        answer = json.dumps(pool[int(rng.integers(len(pool)))])
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in messages)
        return Completion(
            answer, prompt_words, len(answer.split()), time.perf_counter() - start, {"simulated": self.name}
        )


class SimulatedAdversaryClient(SimulatedOracleClient):
    """A simulated adversarial LLM: answers a random configuration from the task's worst ``quantile``."""

    kind = "adversary"

    def __init__(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float], **kwargs: Any) -> None:
        kwargs["worst"] = True
        super().__init__(configs, values, **kwargs)

    @classmethod
    def from_objective(  # type: ignore[override]
        cls, objective: Any, *, quantile: float = 0.05, n_pool: int = 2000, seed: int | None = 0, **kwargs: Any
    ) -> SimulatedAdversaryClient:
        """As :meth:`SimulatedOracleClient.from_objective`, answering from the worst ``quantile``."""
        client = SimulatedOracleClient.from_objective(
            objective, quantile=quantile, n_pool=n_pool, seed=seed, worst=True, **kwargs
        )
        client.__class__ = cls
        return cast(SimulatedAdversaryClient, client)


def simulated_client(spec: Mapping[str, Any], *, seed: int | None = None) -> SimulatedOracleClient:
    """A simulated client from plain data (what the benchmark harness passes as optimizer options).

    Args:
        spec: ``{"kind": "oracle" | "adversary", "objective": registry name, "quantile": 0.05,
            "n_pool": 2000, "objective_kwargs": {...}}``.
        seed: Seed of the answers (the run's seed).
    """
    from hpolab.registry import make_objective

    kind = spec.get("kind", "oracle")
    if kind not in ("oracle", "adversary"):
        raise ValueError(f"simulated: kind {kind!r} is not 'oracle' or 'adversary'")
    name = spec.get("objective")
    if not isinstance(name, str):
        raise ValueError(f"simulated: {dict(spec)!r} needs 'objective', the registry name of the task it answers for")
    objective = make_objective(name, **dict(spec.get("objective_kwargs") or {}))
    cls = SimulatedAdversaryClient if kind == "adversary" else SimulatedOracleClient
    return cls.from_objective(
        objective, quantile=float(spec.get("quantile", 0.05)), n_pool=int(spec.get("n_pool", 2000)), seed=seed
    )
