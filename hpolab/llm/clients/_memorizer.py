"""A simulated LLM that has memorized the public lookup tables and recalls them by name.

A model trained on the web may have read the HPOBench, HPOLib and NAS-Bench-201 tables. Its good
result on ``hpobench/nn/credit_g`` would then be recall, not optimization. The
:class:`SimulatedMemorizerClient` is that model at its most extreme: when the prompt names a table
it remembers, it answers from the table's best configurations; when it does not (a twin,
:mod:`hpolab.objectives.twin`), it can only guess. Comparing a method's runs with it on the
originals and on their twins measures how much of the advantage a twin removes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

import numpy as np

from hpolab.llm.clients._base import LLMClientError
from hpolab.llm.clients._simulated import (
    Reply,
    Request,
    SimulatedClient,
    SimulatedLLMClient,
    SimulatedOracleClient,
    answer_rng,
)
from hpolab.space import SearchSpace

__all__ = ["SimulatedMemorizerClient", "table_cues"]

#: Public names of data sets that the registry name does not spell (matched case-insensitively).
_ALIASES: dict[str, tuple[str, ...]] = {
    "blood_transfusion": ("blood-transfusion-service-center",),
    "protein_structure": ("protein tertiary structure",),
    "cifar10": ("CIFAR-10",),
    "cifar100": ("CIFAR-100",),
    "imagenet": ("ImageNet16-120",),
}


def _word(text: str) -> re.Pattern[str]:
    """``text`` as a whole word (not part of a longer name such as ``cifar100`` for ``cifar10``)."""
    return re.compile(r"(?<![\w-])" + re.escape(text) + r"(?![\w-])", re.IGNORECASE)


def table_cues(name: str) -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]:
    """What names a table in a prompt: (patterns of its data set's names, patterns of its hyperparameters' names).

    Args:
        name: A table objective's registry name, e.g. ``"hpobench/nn/credit_g"``.

    Raises:
        ValueError: If ``name`` is not a table of :data:`hpolab.objectives.tabular.TABLES`.
    """
    from hpolab.objectives.tabular import TABLES

    family, _, dataset = name.rpartition("/")
    spec = TABLES.get(family)
    if spec is None or dataset not in spec.datasets:
        known = [f"{f}/{d}" for f, s in TABLES.items() for d in s.datasets]
        raise ValueError(f"tables: {name!r} is not a table objective; known: {', '.join(known)}")
    spellings = {dataset, dataset.replace("_", "-"), dataset.replace("_", " "), *_ALIASES.get(dataset, ())}
    return tuple(_word(s) for s in sorted(spellings)), tuple(_word(p) for p in sorted(spec.param_text))


def _all_tables() -> list[str]:
    from hpolab.objectives.tabular import TABLES

    return [f"{family}/{dataset}" for family, spec in TABLES.items() for dataset in spec.datasets]


class SimulatedMemorizerClient(SimulatedClient):
    """A simulated LLM that recalls the public tables by name (a stand-in for memorization, not a model).

    It recognizes a table when the prompt shows all of the table's hyperparameter names and names
    its data set (the registry's spelling, e.g. ``credit_g``, or the public one, ``credit-g``);
    then it answers a configuration drawn from that table's best ``quantile`` (by the mean over the
    recorded seeds), as :class:`~hpolab.testing.SimulatedOracleClient` does, leaving out the
    configurations the prompt already shows. Otherwise it answers a configuration drawn uniformly
    from ``space`` or, without one, from the request's JSON schema (structured output).

    Args:
        tables: Registry names of the tables it remembers; ``None``: every table objective.
        quantile: Share of a recognized table answered from (0.01: its best 1%).
        space: Where unrecognized answers are drawn from; ``None``: the request's JSON schema.
        seed: Seed; each answer is drawn from ``(seed, request seed)``.

    Attributes:
        calls: Answers given.
        recalled: Per table name, the answers recalled from it.
        guessed: Answers drawn at random (no table recognized).
    """

    supports_images = False
    kind = "memorizer"

    def __init__(
        self,
        tables: Iterable[str] | None = None,
        *,
        quantile: float = 0.01,
        space: Any = None,
        seed: int | None = 0,
    ) -> None:
        if not 0.0 < float(quantile) <= 1.0:
            raise ValueError(f"quantile: {quantile!r} must be in (0, 1]")
        names = list(_all_tables() if tables is None else tables)
        if not names:
            raise ValueError("tables: give at least one table name (None: every table objective)")
        self._cues = {name: table_cues(name) for name in names}
        self.tables = names
        self.quantile = float(quantile)
        self.space = None if space is None else SearchSpace.coerce(space)
        self.seed = 0 if seed is None else int(seed)
        self.name = f"simulated-memorizer(q={self.quantile:g})"
        self.calls = 0
        self.recalled: dict[str, int] = {}
        self.guessed = 0
        self._oracles: dict[str, SimulatedOracleClient] = {}
        self._schema_sampler = SimulatedLLMClient(supports_images=False, explore=1.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tables={len(self.tables)}, quantile={self.quantile})"

    def recognize(self, text: str) -> str | None:
        """The remembered table ``text`` names (the one whose data set is named first), or ``None``."""
        found: list[tuple[int, str]] = []
        for name, (datasets, params) in self._cues.items():
            if not all(p.search(text) for p in params):
                continue
            hits = [m.start() for pattern in datasets if (m := pattern.search(text)) is not None]
            if hits:
                found.append((min(hits), name))
        return min(found)[1] if found else None

    def _oracle(self, name: str) -> SimulatedOracleClient:
        """An oracle over the table's best ``quantile`` (only those rows are turned into configurations)."""
        oracle = self._oracles.get(name)
        if oracle is None:
            from hpolab.objectives.tabular import TabularObjective

            family, _, dataset = name.rpartition("/")
            table = TabularObjective(family, dataset).table
            true = np.asarray(table.true, dtype=float)
            valid = np.flatnonzero(np.isfinite(true))
            best = valid[np.argsort(true[valid], kind="stable")][: max(1, math.ceil(self.quantile * len(valid)))]
            configs = [table.config_of(int(r)) for r in best]
            oracle = SimulatedOracleClient(configs, [float(true[r]) for r in best], quantile=1.0, seed=self.seed)
            self._oracles[name] = oracle
        return oracle

    def _answer(self, request: Request) -> Reply:
        text = "\n".join(str(m.get("content", "")) for m in request.messages)
        table = self.recognize(text)
        if table is not None:
            self.calls += 1
            self.recalled[table] = self.recalled.get(table, 0) + 1
            config = json.loads(self._oracle(table)._answer(request).text)
        else:
            rng = answer_rng(self.seed, self.calls, request.seed)
            self.calls += 1
            self.guessed += 1
            if self.space is not None:
                config = cast(dict[str, Any], self.space.sample(rng=rng))
            else:
                props = SimulatedLLMClient._properties(request.json_schema)
                if not props:
                    raise LLMClientError(
                        f"{self.name}: no table recognized and nothing to guess from; give space= or use "
                        "structured output"
                    )
                config = self._schema_sampler._sample(props, rng)
        schema: Mapping[str, Any] = request.json_schema or {}
        answer: Any = config
        if "config" in (schema.get("properties") or {}):
            answer = {"analysis": "simulated (recalled)" if table else "simulated (guessed)", "config": config}
        return Reply(json.dumps(answer), {"simulated": self.name, "recalled": table})
