"""SimulatedLLMClient: a stand-in for a (vision) LLM that lets a suite run its LLM plumbing offline.

It is **not a model**: it never reads the image and knows nothing about machine learning. Each
answer is a configuration of the JSON schema the optimizer sends (structured output): with
probability ``explore`` a fresh sample of the schema, otherwise a small perturbation of the best
configuration whose loss it can read in the prompt's text, or of the last configuration when the
text holds no losses (seed 003's "plot only" mode, where the losses are only in the image). What it
does check is the plumbing: every image it is sent must be a PNG, and it counts them.

Results produced with it measure the harness, the prompts and the parsing, never a model; the
suites that use it (:data:`hpolab.benchmarking.SUITES` ``seed003``) say so in their reports.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpolab.llm._client import Completion, LLMClientError

__all__ = ["SimulatedLLMClient"]

_PNG = b"\x89PNG\r\n\x1a\n"
_OBJECT = re.compile(r"\{[^{}]*\}")
_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_LOSS = re.compile(r"(?:loss|error|score|value)\w*\s*[:=]\s*" + _NUMBER, re.IGNORECASE)


class SimulatedLLMClient:
    """A seeded, scripted stand-in for an LLM (see the module docstring); marked as a simulation.

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
            raw = match.group(0)
            try:
                config = json.loads(raw)
            except json.JSONDecodeError:
                try:
                    config = json.loads(raw.replace("'", '"'))
                except json.JSONDecodeError:
                    continue
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
        """Answer one configuration as JSON (see the class docstring).

        Raises:
            LLMClientError: If images are sent to a text-only stand-in, an image is not a PNG, or
                no JSON schema is given (it answers only under structured output).
        """
        start = time.perf_counter()
        if images and not self.supports_images:
            raise LLMClientError(f"{self.name}: images given but supports_images=False")
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
            for m in messages
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
        return Completion(
            text=answer,
            prompt_tokens=len(text.split()),
            completion_tokens=len(answer.split()),
            latency_s=time.perf_counter() - start,
            raw={"simulated": True, "how": how, "images": len(images)},
        )
