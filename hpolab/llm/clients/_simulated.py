"""Offline stand-ins for an LLM: one base class and the simulated clients built on it.

:class:`SimulatedClient` implements the :class:`~hpolab.llm.LLMClient` protocol once (the request,
the images check, the timing, the :class:`~hpolab.llm.Completion`); a stand-in only says what it
answers (:meth:`SimulatedClient._answer`). Built on it:

- :class:`SimulatedOracleClient` / :class:`SimulatedAdversaryClient`: a simulated strong model and a
  simulated adversary that answer from the task's own values, which no real model knows. With them
  a hybrid optimizer's ceiling (a model that knows good configurations) and floor (a model that
  proposes the worst ones) are found without a hosted model.
- :class:`SimulatedLLMClient`: a stand-in for a vision model (perturbs the best configuration it
  reads in the prompt; checks that the images it gets are PNGs).
- :class:`~hpolab.testing.SimulatedMemorizerClient` (:mod:`hpolab.llm.clients._memorizer`), the
  hybrid's :class:`~hpolab.llm.PlaceboClient` and the scripted test double of :mod:`hpolab.testing`.

They are simulations, named as such wherever they appear (transcripts, benchmark rows). They are
production code (the benchmark suites and the controls run them); :mod:`hpolab.testing` re-exports them.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from hpolab.llm.clients._base import Completion, LLMClientError
from hpolab.space import SearchSpace
from hpolab.trial import Direction

__all__ = [
    "Reply",
    "Request",
    "SimulatedAdversaryClient",
    "SimulatedClient",
    "SimulatedLLMClient",
    "SimulatedOracleClient",
    "simulated_client",
]

_OBJECT = re.compile(r"\{[^{}]*\}")
_PNG = b"\x89PNG\r\n\x1a\n"
_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_LOSS = re.compile(r"(?:loss|error|score|value)\w*\s*[:=]\s*" + _NUMBER, re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """One :meth:`SimulatedClient.complete` call, as a stand-in sees it (the protocol's arguments)."""

    messages: Sequence[Mapping[str, Any]]
    json_schema: Mapping[str, Any] | None = None
    images: Sequence[bytes] = ()
    temperature: float = 0.0
    seed: int | None = None
    max_tokens: int = 256

    @property
    def prompt_words(self) -> int:
        """Words in all messages' content: the stand-ins' count of prompt tokens."""
        return sum(len(str(m.get("content", "")).split()) for m in self.messages)


@dataclass(frozen=True)
class Reply:
    """What a stand-in answers: the text, ``Completion.raw``, and its prompt token count (``None``: words)."""

    text: str
    raw: dict[str, Any] = field(default_factory=dict)
    prompt_tokens: int | None = None


class SimulatedClient:
    """Base of hpolab's offline LLM stand-ins: the :class:`~hpolab.llm.LLMClient` protocol, once.

    A subclass sets ``name`` and ``supports_images`` and implements :meth:`_answer`.
    :meth:`complete` refuses images when ``supports_images`` is false, times the answer and counts
    the answer's words as completion tokens.
    """

    supports_images: bool = False
    name: str = "simulated"

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
        """Answer a chat (the :class:`~hpolab.llm.LLMClient` protocol).

        Raises:
            LLMClientError: If images are given to a stand-in without ``supports_images``, or the
                stand-in cannot answer.
        """
        if images and not self.supports_images:
            raise LLMClientError(f"{self.name}: images given but supports_images=False")
        start = time.perf_counter()
        request = Request(messages, json_schema, images, temperature, seed, max_tokens)
        reply = self._answer(request)
        return Completion(
            text=reply.text,
            prompt_tokens=reply.prompt_tokens if reply.prompt_tokens is not None else request.prompt_words,
            completion_tokens=len(reply.text.split()),
            latency_s=time.perf_counter() - start,
            raw=reply.raw,
        )

    def _answer(self, request: Request) -> Reply:
        """The stand-in's answer to one request."""
        raise NotImplementedError(f"{type(self).__name__} must implement _answer(request)")


def answer_rng(seed: int, calls: int, request_seed: int | None) -> np.random.Generator:
    """The generator of a stand-in's answer: from ``(seed, request seed)``, or ``(seed, calls)`` without one.

    The same request seed gives the same answer; without one, each call (``calls`` so far) a new one.
    """
    return np.random.default_rng([seed, calls if request_seed is None else int(request_seed) & 0x7FFFFFFF])


def _read_object(raw: str, *, single_quotes: bool = False) -> Any:
    """``json.loads(raw)``, retried with single quotes turned double if asked; ``None`` if neither reads."""
    try:
        return json.loads(raw)
    except ValueError:
        pass
    if single_quotes:
        try:
            return json.loads(raw.replace("'", '"'))
        except ValueError:
            pass
    return None


def json_objects(text: str, *, single_quotes: bool = False) -> list[dict[str, Any]]:
    """Every flat JSON object written in ``text`` that reads as a dict, in order (how the stand-ins read prompts)."""
    out = []
    for match in _OBJECT.finditer(text):
        obj = _read_object(match.group(0), single_quotes=single_quotes)
        if isinstance(obj, dict):
            out.append(obj)
    return out


class SimulatedOracleClient(SimulatedClient):
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
        return {tuple(sorted(obj.items())) for m in messages for obj in json_objects(str(m.get("content", "")))}

    def _answer(self, request: Request) -> Reply:
        rng = answer_rng(self.seed, self.calls, request.seed)
        self.calls += 1
        shown = self._shown(request.messages)
        fresh = [c for c in self._configs if tuple(sorted(c.items())) not in shown]
        pool = fresh or self._configs
        return Reply(json.dumps(pool[int(rng.integers(len(pool)))]), {"simulated": self.name})


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


def simulated_client(spec: Mapping[str, Any], *, seed: int | None = None) -> SimulatedClient:
    """A simulated client from plain data (what the benchmark harness passes as optimizer options).

    Args:
        spec: ``{"kind": "oracle" | "adversary", "objective": registry name, "quantile": 0.05,
            "n_pool": 2000, "objective_kwargs": {...}}``, or ``{"kind": "memorizer", "quantile": 0.01,
            "tables": [...]}`` (:class:`~hpolab.testing.SimulatedMemorizerClient`; no objective).
        seed: Seed of the answers (the run's seed).
    """
    from hpolab.registry import make_objective

    kind = spec.get("kind", "oracle")
    if kind == "memorizer":
        from hpolab.llm.clients._memorizer import SimulatedMemorizerClient

        return SimulatedMemorizerClient(spec.get("tables"), quantile=float(spec.get("quantile", 0.01)), seed=seed)
    if kind not in ("oracle", "adversary"):
        raise ValueError(f"simulated: kind {kind!r} is not 'oracle', 'adversary' or 'memorizer'")
    name = spec.get("objective")
    if not isinstance(name, str):
        raise ValueError(f"simulated: {dict(spec)!r} needs 'objective', the registry name of the task it answers for")
    objective = make_objective(name, **dict(spec.get("objective_kwargs") or {}))
    cls = SimulatedAdversaryClient if kind == "adversary" else SimulatedOracleClient
    return cls.from_objective(
        objective, quantile=float(spec.get("quantile", 0.05)), n_pool=int(spec.get("n_pool", 2000)), seed=seed
    )


class SimulatedLLMClient(SimulatedClient):
    """A seeded stand-in for a (vision) LLM that lets a suite run its LLM plumbing offline.

    It is **not a model**: it never reads the image and knows nothing about machine learning. Each
    answer is a configuration of the JSON schema the optimizer sends (structured output): with
    probability ``explore`` a fresh sample of the schema, otherwise a small perturbation of the best
    configuration whose loss it can read in the prompt's text, or of the last configuration when the
    text holds no losses (the "plot only" mode, where the losses are only in the image). What
    it does check is the plumbing: every image it is sent must be a PNG, and it counts them.

    Results produced with it measure the harness, the prompts and the parsing, never a model; the
    suites that use it (:data:`hpolab.benchmark.SUITES`) say so in their reports.

    Args:
        supports_images: Whether it accepts images (a stand-in for a vision model).
        explore: Probability of answering a fresh sample of the schema instead of a perturbation.
        step: Perturbation size as a fraction of each numeric range (on a log scale for positive
            ranges that span more than two decades).
        name: Label in transcripts (keeps ``simulated`` in it).

    Attributes:
        calls: Number of answers given.
        images_seen: Number of PNG images received.
        requests_with_images: Number of requests that carried at least one image.
    """

    simulated = True

    def __init__(
        self,
        *,
        supports_images: bool = True,
        explore: float = 0.2,
        step: float = 0.1,
        name: str = "simulated-llm",
    ) -> None:
        if not 0.0 <= explore <= 1.0:
            raise ValueError(f"explore: {explore} must be in [0, 1]")
        if not 0.0 < step <= 1.0:
            raise ValueError(f"step: {step} must be in (0, 1]")
        self.supports_images = bool(supports_images)
        self.explore = float(explore)
        self.step = float(step)
        self.name = name if "simulated" in name else f"simulated-{name}"
        self.calls = 0
        self.images_seen = 0
        self.requests_with_images = 0

    # ----------------------------------------------------------------- parsing
    @staticmethod
    def _properties(schema: Mapping[str, Any] | None) -> dict[str, Any]:
        if not schema:
            return {}
        if "anyOf" in schema:
            for option in schema["anyOf"]:
                props = SimulatedLLMClient._properties(option)
                if props and "keep" not in props:
                    return props
            return {}
        props = dict(schema.get("properties") or {})
        if set(props) >= {"config"} and isinstance(props["config"], Mapping):
            return SimulatedLLMClient._properties(props["config"])
        return props

    @staticmethod
    def _history(text: str, props: Mapping[str, Any]) -> list[tuple[dict[str, Any], float | None]]:
        """(config, loss or None) for every config of the schema written in ``text``, in order."""
        out: list[tuple[dict[str, Any], float | None]] = []
        matches = list(_OBJECT.finditer(text))
        for i, match in enumerate(matches):
            config = _read_object(match.group(0), single_quotes=True)
            if not isinstance(config, dict) or not config or set(config) != set(props):
                continue
            if any(isinstance(v, list) for v in config.values()):
                continue  # a search-space listing, not a tried config
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            loss = _LOSS.search(text, match.end(), end)
            value = float(loss.group(1)) if loss else None
            out.append((config, value if value is not None and math.isfinite(value) else None))
        return out

    # --------------------------------------------------------------- answering
    def _sample(self, props: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in sorted(props):
            p = props[name]
            if "enum" in p:
                out[name] = p["enum"][int(rng.integers(len(p["enum"])))]
                continue
            lo, hi = float(p["minimum"]), float(p["maximum"])
            if lo > 0 and hi / lo > 100:
                value = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            else:
                value = float(rng.uniform(lo, hi))
            out[name] = round(value) if p.get("type") == "integer" else value
        return out

    def _perturb(self, config: Mapping[str, Any], props: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in sorted(props):
            p = props[name]
            value = config.get(name)
            if "enum" in p:
                keep = value in p["enum"] and rng.random() > 0.2
                out[name] = value if keep else p["enum"][int(rng.integers(len(p["enum"])))]
                continue
            lo, hi = float(p["minimum"]), float(p["maximum"])
            try:
                x = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                x = (lo + hi) / 2
            if lo > 0 and hi / lo > 100:
                span = math.log(hi) - math.log(lo)
                x = math.exp(math.log(min(max(x, lo), hi)) + rng.normal(0.0, self.step * span))
            else:
                x = x + rng.normal(0.0, self.step * (hi - lo))
            x = min(max(x, lo), hi)
            out[name] = round(x) if p.get("type") == "integer" else float(x)
        return out

    def _answer(self, request: Request) -> Reply:
        """Answer one configuration as JSON (see the class docstring).

        Raises:
            LLMClientError: If an image is not a PNG, or no JSON schema is given (it answers only
                under structured output).
        """
        images, json_schema, seed = request.images, request.json_schema, request.seed
        for png in images:
            if not bytes(png).startswith(_PNG):
                raise LLMClientError(f"{self.name}: an attached image is not a PNG")
        self.images_seen += len(images)
        self.requests_with_images += 1 if images else 0
        props = self._properties(json_schema)
        if not props:
            raise LLMClientError(
                f"{self.name}: answers only with structured output; give the optimizer structured_output=True"
            )
        text = "\n".join(
            str(m.get("content"))
            if not isinstance(m.get("content"), list)
            else " ".join(str(part.get("text", "")) for part in m["content"] if isinstance(part, Mapping))
            for m in request.messages
            if m.get("role") != "system"
        )
        rng = np.random.default_rng([0 if seed is None else int(seed) % 2**32, self.calls])
        self.calls += 1
        history = self._history(text, props)
        scored = [(c, v) for c, v in history if v is not None]
        if not history or rng.random() < self.explore:
            config = self._sample(props, rng)
            how = "sample"
        elif scored:
            config = self._perturb(min(scored, key=lambda cv: float(cv[1]))[0], props, rng)  # type: ignore[arg-type]
            how = "perturb-best"
        else:
            config = self._perturb(history[-1][0], props, rng)
            how = "perturb-last"
        answer = json.dumps(config)
        if json_schema and "config" in (json_schema.get("properties") or {}):
            answer = json.dumps({"analysis": f"simulated ({how})", "config": config})
        return Reply(answer, {"simulated": True, "how": how, "images": len(images)}, prompt_tokens=len(text.split()))
