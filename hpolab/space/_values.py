"""Plain Python values of hyperparameters and their text: one value as ConfigSpace prints it, a config as JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["fmt", "format_config", "plain_value"]


def plain_value(value: Any) -> Any:
    """The Python value of a numpy scalar (``np.int64(3)`` -> ``3``); any other value unchanged."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def fmt(value: Any) -> str:
    """One value as ConfigSpace prints it (floats in full, text without quotes)."""
    value = plain_value(value)
    if isinstance(value, float):
        return repr(value)  # as ConfigSpace prints it; %g would round 5000000.5 to 5e+06
    if isinstance(value, str):
        return value
    return str(value)


def format_config(config: Mapping[str, Any], order: Sequence[str] | None = None, precision: int | None = None) -> str:
    """A configuration as one line of JSON (the format the model is asked to answer in).

    hpolab's one config formatter: the LLM prompts use it with the defaults, the fine-tuning records
    (:mod:`hpolab.records`) with a key order and 4 significant digits.

    Args:
        config: Hyperparameter values.
        order: Key order (keys of ``config`` missing from it follow in the config's order); the
            config's own order when ``None``.
        precision: Significant digits of floats (fewer digits, fewer tokens); ``None`` writes each
            float in full (its shortest round-trip form).

    Returns:
        A one-line JSON object, e.g. ``{"lr": 0.001, "batch_size": 64}``. A non-finite float is
        written as a string (``"nan"``, ``"inf"``) so that the line stays JSON.
    """
    keys = list(config) if not order else [k for k in order if k in config] + [k for k in config if k not in order]
    return "{" + ", ".join(f"{json.dumps(str(k))}: {_value_text(config[k], precision)}" for k in keys) + "}"


def _value_text(value: Any, precision: int | None) -> str:
    """One value of :func:`format_config`: JSON, floats rounded to ``precision`` significant digits."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return json.dumps(str(value))
        if precision is not None:
            text = f"{value:.{precision}g}"
            return text if "e" in text or "." in text else text + ".0"
    return json.dumps(value)
