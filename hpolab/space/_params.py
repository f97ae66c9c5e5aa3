"""Param: one hyperparameter in plain form, and how to sample, check, repair, describe and move it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

import numpy as np

from hpolab.space._values import fmt, plain_value

__all__ = ["Kind", "Param", "Value", "neighbour_value"]

Kind = Literal["float", "int", "categorical", "ordinal", "constant"]
Value = Any


@dataclass(frozen=True)
class Param:
    """One hyperparameter, in the plain form hpolab samples and repairs with.

    Attributes:
        name: Hyperparameter name.
        kind: ``"float"``, ``"int"``, ``"categorical"``, ``"ordinal"`` or ``"constant"``.
        lower: Lower bound (float / int).
        upper: Upper bound (float / int).
        log: Whether the range is on a log scale (float / int).
        choices: Allowed values (categorical / ordinal, in order; constant: its one value).
        default: Default value.
        description: Optional text shown to LLMs next to the parameter.
        step: For an ordinal that is a stepped range (Optuna's ``suggest_float(..., step=s)`` or
            ``suggest_int(..., step=s)``): the step; its choices are ``lower + k * step``.
    """

    name: str
    kind: Kind
    lower: float | int | None = None
    upper: float | int | None = None
    log: bool = False
    choices: tuple[Value, ...] = ()
    default: Value = None
    description: str | None = None
    step: float | int | None = None

    @property
    def is_numeric_choice(self) -> bool:
        """Whether all choices are numbers (so snapping to the nearest one makes sense)."""
        return bool(self.choices) and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in self.choices)

    def sample(self, rng: np.random.Generator) -> Value:
        """Draw one value (log-uniform on a log scale)."""
        if self.kind == "float":
            lo, hi = float(self.lower), float(self.upper)  # type: ignore[arg-type]
            if self.log:
                return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            return float(rng.uniform(lo, hi))
        if self.kind == "int":
            lo_i, hi_i = int(self.lower), int(self.upper)  # type: ignore[arg-type,call-overload]
            if self.log:
                x = math.exp(rng.uniform(math.log(lo_i - 0.5 + 1e-12), math.log(hi_i + 0.5)))
                return int(min(max(round(x), lo_i), hi_i))
            return int(rng.integers(lo_i, hi_i + 1))
        if self.kind == "constant":
            return self.choices[0]
        return self.choices[int(rng.integers(len(self.choices)))]

    def describe(self) -> str:
        """One line in ConfigSpace's wording, e.g. ``lr, Type: UniformFloat, Range: [...]``."""
        head = self.name if not self.description else f"{self.name}, {self.description}"
        if self.kind in ("float", "int"):
            typ = "UniformFloat" if self.kind == "float" else "UniformInteger"
            text = f"{head}, Type: {typ}, Range: [{fmt(self.lower)}, {fmt(self.upper)}], Default: {fmt(self.default)}"
            return text + (", on log-scale" if self.log else "")
        if self.kind == "categorical":
            choices = ", ".join(fmt(c) for c in self.choices)
            return f"{head}, Type: Categorical, Choices: {{{choices}}}, Default: {fmt(self.default)}"
        if self.kind == "ordinal" and self.step is not None:
            typ = "UniformInteger" if isinstance(self.step, int) else "UniformFloat"
            return (
                f"{head}, Type: {typ}, Range: [{fmt(self.lower)}, {fmt(self.upper)}], Step: {fmt(self.step)}, "
                f"Default: {fmt(self.default)}"
            )
        if self.kind == "ordinal":
            seq = ", ".join(fmt(c) for c in self.choices)
            return f"{head}, Type: Ordinal, Sequence: {{{seq}}}, Default: {fmt(self.default)}"
        return f"{head}, Type: Constant, Value: {fmt(self.choices[0])}"

    def json_schema(self) -> dict[str, Any]:
        """JSON schema of one value (used for LLM structured output)."""
        if self.kind == "float":
            return {"type": "number", "minimum": self.lower, "maximum": self.upper}
        if self.kind == "int":
            return {"type": "integer", "minimum": self.lower, "maximum": self.upper}
        return {"enum": list(self.choices)}

    def check(self, value: Value) -> str | None:
        """Return why ``value`` is not allowed, or ``None`` if it is."""
        if self.kind in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                return f"{self.name}: {value!r} is not a number; give a {self.kind} in [{fmt(self.lower)}, {fmt(self.upper)}]"
            v = _to_number(value)
            if v is None or not math.isfinite(v):
                return f"{self.name}: {value!r} is not finite; give a {self.kind} in [{fmt(self.lower)}, {fmt(self.upper)}]"
            if self.kind == "int" and v != round(v):
                return (
                    f"{self.name}: {value!r} is not an integer; give an int in [{fmt(self.lower)}, {fmt(self.upper)}]"
                )
            if v < float(self.lower):  # type: ignore[arg-type]
                return f"{self.name}: {fmt(value)} is below the lower bound {fmt(self.lower)}"
            if v > float(self.upper):  # type: ignore[arg-type]
                return f"{self.name}: {fmt(value)} is above the upper bound {fmt(self.upper)}"
            return None
        if self.step is not None and self._step_index(value) is not None:
            return None
        if not any(_same_choice(value, c) for c in self.choices):
            choices = ", ".join(fmt(c) for c in self.choices)
            return f"{self.name}: {value!r} is not one of the choices [{choices}]"
        return None

    def _step_index(self, value: Value) -> int | None:
        """Index of the stepped choice ``value`` equals (to float rounding), or ``None``."""
        number = _to_number(value) if not isinstance(value, (bool, str)) else None
        if number is None or not math.isfinite(number) or not self.choices or self.step is None:
            return None
        first = float(self.choices[0])  # type: ignore[arg-type]
        k = round((number - first) / float(self.step))
        if 0 <= k < len(self.choices) and math.isclose(number, float(self.choices[k]), rel_tol=1e-9, abs_tol=1e-12):  # type: ignore[arg-type]
            return int(k)
        return None

    def canonical(self, value: Value) -> Value:
        """The allowed value equal to ``value`` (e.g. ``2.0`` -> ``2`` for an int choice)."""
        if self.kind == "float":
            return float(value)
        if self.kind == "int":
            return round(float(value))
        if self.step is not None:
            index = self._step_index(value)
            if index is not None:
                return self.choices[index]
        for c in self.choices:
            if _same_choice(value, c):
                return c
        return value

    def repair(self, value: Value) -> tuple[Value, str | None]:
        """Return the nearest allowed value and a note of the change (``None`` if unchanged)."""
        if self.check(value) is None:
            fixed = self.canonical(value)
            return fixed, None
        if self.kind in ("float", "int"):
            number = _to_number(value)
            if number is None or math.isnan(number):
                return self.default, f"{self.name}: {value!r} is not a number, used the default {fmt(self.default)}"
            lo, hi = float(self.lower), float(self.upper)  # type: ignore[arg-type]
            clipped = min(max(number, lo), hi)  # +-inf clip to the bounds
            if self.kind == "int":
                fixed_int = int(min(max(round(clipped), int(lo)), int(hi)))
                if clipped != number:
                    verb = "clipped"
                elif fixed_int != number:
                    verb = "rounded"
                else:
                    verb = "converted"
                return fixed_int, f"{self.name}: {verb} {value!r} to {fixed_int}"
            if clipped != number:
                return float(clipped), f"{self.name}: clipped {fmt(value)} to {fmt(clipped)}"
            return float(clipped), f"{self.name}: converted {value!r} to {fmt(clipped)}"
        if self.kind == "constant":
            return self.choices[0], f"{self.name}: replaced {value!r} with the constant {fmt(self.choices[0])}"
        found, snapped = self._snap_choice(value)
        if not found:
            return self.default, f"{self.name}: {value!r} matches no choice, used the default {fmt(self.default)}"
        return snapped, f"{self.name}: snapped {value!r} to {fmt(snapped)}"

    def _snap_choice(self, value: Value) -> tuple[bool, Value]:
        """``(True, choice)`` for the choice nearest ``value``, ``(False, None)`` if none is near.

        Text matches case-insensitively (``"ADAM"`` -> ``"adam"``, ``"none"`` -> ``None``); numbers
        snap to the nearest numeric choice (by ratio on a geometric ordinal like 2, 4, 8, 16); 0 and
        1 match ``False`` and ``True``.
        """
        text = str(value).strip().strip("'\"").lower()
        for c in self.choices:
            if str(c).lower() == text:
                return True, c
        number = _to_number(value)
        if number is None or not math.isfinite(number):
            return False, None
        if self.is_numeric_choice:
            if self.kind == "ordinal" and number > 0 and _is_geometric(self.choices):
                return True, min(self.choices, key=lambda c: abs(math.log(float(c)) - math.log(number)))
            return True, min(self.choices, key=lambda c: abs(float(c) - number))
        for c in self.choices:
            if isinstance(c, bool) and number == float(c):
                return True, c
        return False, None

    def grid(self, resolution: int) -> list[Value]:
        """Grid values: all choices, all ints when few, else ``resolution`` points (log-spaced on a log scale)."""
        if self.kind in ("categorical", "ordinal", "constant"):
            return list(self.choices)
        lo, hi = float(self.lower), float(self.upper)  # type: ignore[arg-type]
        if resolution < 1:
            raise ValueError(f"resolution: {resolution} must be at least 1")
        if resolution == 1:
            return [self.default]
        points = (
            np.exp(np.linspace(math.log(lo), math.log(hi), resolution)) if self.log else np.linspace(lo, hi, resolution)
        )
        points = np.clip(points, lo, hi)
        points[0], points[-1] = lo, hi
        if self.kind == "int":
            if int(hi) - int(lo) + 1 <= resolution:
                return list(range(int(lo), int(hi) + 1))
            return sorted({round(float(p)) for p in points})
        return [float(p) for p in points]


def _is_geometric(values: Sequence[Any]) -> bool:
    """Whether positive ``values`` grow by a constant ratio (and not by a constant step)."""
    xs = sorted(float(v) for v in values)
    if len(xs) < 3 or xs[0] <= 0:
        return False
    ratios = [b / a for a, b in pairwise(xs)]
    steps = [b - a for a, b in pairwise(xs)]
    same_ratio = max(ratios) - min(ratios) <= 1e-6 * max(ratios)
    same_step = max(steps) - min(steps) <= 1e-6 * max(abs(s) for s in steps)
    return same_ratio and not same_step


def _to_number(value: Any) -> float | None:
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.number)):
        try:
            return float(value)
        except OverflowError:  # an int beyond float range
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _same_choice(value: Any, choice: Any) -> bool:
    value = plain_value(value)  # np.str_ / np.bool_ / np.int64 compare as their Python value
    if isinstance(value, bool) or isinstance(choice, bool):
        return value is choice or (type(value) is type(choice) and value == choice)
    if isinstance(choice, (int, float)) and isinstance(value, (int, float, np.number)):
        return float(value) == float(choice)
    return type(value) is type(choice) and value == choice


def neighbour_value(p: Param, old: Any, rng: np.random.Generator, scale: float) -> Any:
    """One step away from ``old`` for :meth:`SearchSpace.neighbour` (may equal ``old`` for a one-choice param)."""
    if p.kind in ("float", "int"):
        lo, hi = float(p.lower), float(p.upper)  # type: ignore[arg-type]
        use_log = p.log and lo > 0
        to = (lambda v: math.log(max(v, 1e-300))) if use_log else (lambda v: v)
        back = math.exp if use_log else (lambda v: v)
        a, b = to(lo), to(hi)
        x = to(float(old)) + float(rng.normal(0.0, scale * (b - a)))
        value: Any = min(max(back(min(max(x, a), b)), lo), hi)
        if p.kind == "float":
            return float(value)
        value = round(value)
        if value == old:
            step = 1 if (rng.random() < 0.5 and old < hi) or old <= lo else -1
            value = int(min(max(old + step, lo), hi))
        return value
    choices = list(p.choices)
    if len(choices) < 2:
        return old
    idx = next((i for i, c in enumerate(choices) if c == old), 0)
    if p.kind == "ordinal":
        moves = [j for j in (idx - 1, idx + 1) if 0 <= j < len(choices)]
        return choices[moves[int(rng.integers(len(moves)))]]
    others = [c for i, c in enumerate(choices) if i != idx]
    return others[int(rng.integers(len(others)))]
