"""ScriptedClient: a test double of an LLM client that answers scripted texts."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from hpolab.llm.clients._base import LLMClientError
from hpolab.llm.clients._simulated import Reply, Request, SimulatedClient

__all__ = ["ScriptedClient"]

Script = Callable[[Sequence[Mapping[str, Any]], int, "int | None"], "str | Exception"]


class ScriptedClient(SimulatedClient):
    """A test double standing in for an LLM: it answers from a script, never from a model.

    Use it to test LLM optimizers deterministically and without a model.

    Args:
        answers: Either a sequence of answers used in order (an :class:`Exception` instance in it
            is raised instead of answering, e.g. ``LLMClientError("down")``), or a callable
            ``answers(messages, call_index, seed) -> str | Exception``.
        cycle: With a sequence, start again at the first answer when all are used (otherwise
            running out raises ``LLMClientError``).
        supports_images: What the double claims (multimodal tests set it).
        name: Label in transcripts.

    Attributes:
        calls: One dict per call: ``messages``, ``json_schema``, ``images``, ``temperature``,
            ``seed``, ``max_tokens``.
    """

    def __init__(
        self,
        answers: Sequence[str | Exception] | Script,
        *,
        cycle: bool = False,
        supports_images: bool = False,
        name: str = "scripted",
    ) -> None:
        if not callable(answers):
            answers = list(answers)
            if not answers:
                raise ValueError("answers: give at least one scripted answer")
        self._answers = answers
        self.cycle = cycle
        self.supports_images = supports_images
        self.name = name
        self.calls: list[dict[str, Any]] = []

    @classmethod
    def random_configs(
        cls, space: Any, *, as_text: Callable[[dict[str, Any]], str] = json.dumps, **kwargs: Any
    ) -> ScriptedClient:
        """A double that answers a random config of ``space`` as JSON, drawn from the request's seed.

        Deterministic per seed, so optimizers built on it pass seed-determinism tests.
        """

        def answer(messages: Sequence[Mapping[str, Any]], index: int, seed: int | None) -> str:
            rng = np.random.default_rng(seed if seed is not None else index)
            return as_text(space.sample(rng=rng))

        return cls(answer, **kwargs)

    def _answer(self, request: Request) -> Reply:
        index = len(self.calls)
        self.calls.append(
            {
                "messages": [dict(m) for m in request.messages],
                "json_schema": None if request.json_schema is None else dict(request.json_schema),
                "images": [bytes(b) for b in request.images],
                "temperature": request.temperature,
                "seed": request.seed,
                "max_tokens": request.max_tokens,
            }
        )
        if callable(self._answers):
            answer: str | Exception = self._answers(request.messages, index, request.seed)
        else:
            if index >= len(self._answers) and not self.cycle:
                raise LLMClientError(f"{self.name}: the script has only {len(self._answers)} answers")
            answer = self._answers[index % len(self._answers)]
        if isinstance(answer, Exception):
            raise answer
        return Reply(str(answer), {"scripted": True, "index": index})
