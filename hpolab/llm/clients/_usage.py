"""What LLM calls used and cost: one typed record, the user's prices, and the sum over trials.

Every LLM-driven optimizer puts one :class:`LLMUsage` per trial in the trial's metadata under
``metadata["llm_usage"]`` (as plain data, :meth:`LLMUsage.to_dict`), whatever else its metadata
holds; :func:`llm_usage` sums it over trials or records, and the benchmark harness reads it with
:meth:`LLMUsage.from_metadata`.

Prices are the user's: hpolab ships no price list (prices change). A :class:`Pricing` gives the
price of 1,000 prompt tokens and of 1,000 completion tokens of one model, in whatever currency
the user counts in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["LLMUsage", "Pricing", "PricingLike", "llm_usage", "resolve_pricing"]


@dataclass(frozen=True)
class Pricing:
    """The price of one model's tokens, set by the user.

    Attributes:
        prompt_per_1k: Price of 1,000 prompt (input) tokens.
        completion_per_1k: Price of 1,000 completion (output) tokens.
    """

    prompt_per_1k: float
    completion_per_1k: float

    def __post_init__(self) -> None:
        for label in ("prompt_per_1k", "completion_per_1k"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{label}: {value!r} must be a finite price >= 0 (per 1,000 tokens)")
            object.__setattr__(self, label, float(value))

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """The price of one request's tokens."""
        return (int(prompt_tokens) * self.prompt_per_1k + int(completion_tokens) * self.completion_per_1k) / 1000.0

    @classmethod
    def coerce(cls, value: PricingLike) -> Pricing:
        """A Pricing from a Pricing, a ``(prompt_per_1k, completion_per_1k)`` pair or a dict of those two keys."""
        if isinstance(value, Pricing):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"prompt_per_1k", "completion_per_1k"}
            if unknown or len(value) != 2:
                raise ValueError(
                    f"pricing: {dict(value)!r} must have exactly the keys prompt_per_1k and completion_per_1k"
                )
            return cls(value["prompt_per_1k"], value["completion_per_1k"])
        if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
            return cls(value[0], value[1])
        raise TypeError(
            f"pricing: {value!r} is not a Pricing, a (prompt_per_1k, completion_per_1k) pair or a dict of those keys"
        )


#: What a price may be given as.
PricingLike = Pricing | Mapping[str, float] | Sequence[float]


def resolve_pricing(model: str, pricing: PricingLike | Mapping[str, PricingLike] | None) -> Pricing | None:
    """The price of ``model`` from one price or from a table ``{model name: price}``.

    Args:
        model: The model name the client sends.
        pricing: ``None`` (unpriced), one price (see :meth:`Pricing.coerce`), or a dict from model
            names to prices.

    Raises:
        ValueError: If a table has no entry for ``model``.
    """
    if pricing is None:
        return None
    if isinstance(pricing, Mapping) and not (set(pricing) <= {"prompt_per_1k", "completion_per_1k"}):
        if model not in pricing:
            raise ValueError(
                f"pricing: no price for model {model!r} in the table (models priced: {sorted(pricing)}); "
                "add it or pass one Pricing"
            )
        entry: Any = pricing[model]
        return Pricing.coerce(entry)
    single: Any = pricing
    return Pricing.coerce(single)


@dataclass(frozen=True)
class LLMUsage:
    """Tokens, time and cost of LLM calls (one trial's, or a sum).

    Attributes:
        prompt_tokens: Prompt tokens, as the backend counted them.
        completion_tokens: Generated tokens.
        latency_s: Seconds spent waiting for the model (retries and rate-limit waits included).
        cost: Price of the tokens (:class:`Pricing`); ``None`` when no call was priced.
        calls: Number of model calls.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cost: float | None = None
    calls: int = 0

    #: The trial-metadata key LLM-driven optimizers write this record under.
    METADATA_KEY: ClassVar[str] = "llm_usage"

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: LLMUsage) -> LLMUsage:
        if not isinstance(other, LLMUsage):
            return NotImplemented
        cost = None if self.cost is None and other.cost is None else (self.cost or 0.0) + (other.cost or 0.0)
        return LLMUsage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.latency_s + other.latency_s,
            cost,
            self.calls + other.calls,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for trial metadata (JSON)."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "latency_s": self.latency_s,
            "cost": self.cost,
            "calls": self.calls,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LLMUsage:
        """The inverse of :meth:`to_dict`."""
        cost = data.get("cost")
        return cls(
            int(data.get("prompt_tokens") or 0),
            int(data.get("completion_tokens") or 0),
            float(data.get("latency_s") or 0.0),
            None if cost is None else float(cost),
            int(data.get("calls") or 0),
        )

    @classmethod
    def from_exchanges(cls, exchanges: Iterable[Mapping[str, Any]]) -> LLMUsage:
        """The sum over transcript records.

        Each record is one call's dict with ``prompt_tokens``, ``completion_tokens``, ``latency_s`` and,
        when priced, ``cost``.
        """
        total = cls()
        for exchange in exchanges:
            total = total + cls.from_dict({**exchange, "calls": 1})
        return total

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> LLMUsage | None:
        """The usage recorded in one trial's metadata, ``None`` if the trial made no LLM call.

        Reads ``metadata["llm_usage"]``; a trial without that key is read from the two other
        shapes its metadata may hold: ``metadata["llm"]`` with ``prompt_tokens`` / ``completion_tokens`` /
        ``latency_s`` / ``exchanges`` (the LLM optimizers), and ``metadata["transcript"]`` (the
        fine-tuned optimizer).
        """
        if not isinstance(metadata, Mapping):
            return None
        data = metadata.get(cls.METADATA_KEY)
        if isinstance(data, Mapping):
            return cls.from_dict(data)
        old = metadata.get("llm")
        if isinstance(old, Mapping) and ("prompt_tokens" in old or "completion_tokens" in old):
            exchanges = old.get("exchanges")
            return cls.from_dict({**old, "calls": len(exchanges) if isinstance(exchanges, list) else 1})
        transcript = metadata.get("transcript")
        if isinstance(transcript, list) and transcript and all(isinstance(e, Mapping) for e in transcript):
            return cls.from_exchanges(transcript)
        return None


def llm_usage(trials: Iterable[Any]) -> LLMUsage:
    """The LLM usage summed over trials.

    Args:
        trials: Trials, trial records (anything with ``metadata`` or ``trial.metadata``) or metadata dicts,
            e.g. ``study.trials``.

    Returns:
        The sum; an all-zero :class:`LLMUsage` (``cost`` ``None``) when no trial called an LLM.
    """
    total = LLMUsage()
    for item in trials:
        if isinstance(item, Mapping):
            metadata: Any = item
        else:
            metadata = getattr(item, "metadata", None)
            if metadata is None and hasattr(item, "trial"):
                metadata = getattr(item.trial, "metadata", None)
        usage = LLMUsage.from_metadata(metadata)
        if usage is not None:
            total = total + usage
    return total
