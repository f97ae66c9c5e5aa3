"""SearchSpace: hyperparameters to tune, on top of a ``ConfigSpace.ConfigurationSpace``.

The space knows how to sample, validate and repair configurations. LLM optimizers depend on
``validate`` / ``repair`` / ``describe`` / ``json_schema``; classic backends on
``to_configspace`` (SMAC) and ``to_optuna`` (TPE).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise, product
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from hpolab.exceptions import InvalidConfigError, InvalidSpaceError

if TYPE_CHECKING:
    import ConfigSpace as CS
    from optuna.distributions import BaseDistribution

__all__ = ["InvalidConfigError", "InvalidSpaceError", "Param", "SearchSpace", "format_config"]

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
            text = (
                f"{head}, Type: {typ}, Range: [{_fmt(self.lower)}, {_fmt(self.upper)}], Default: {_fmt(self.default)}"
            )
            return text + (", on log-scale" if self.log else "")
        if self.kind == "categorical":
            choices = ", ".join(_fmt(c) for c in self.choices)
            return f"{head}, Type: Categorical, Choices: {{{choices}}}, Default: {_fmt(self.default)}"
        if self.kind == "ordinal" and self.step is not None:
            typ = "UniformInteger" if isinstance(self.step, int) else "UniformFloat"
            return (
                f"{head}, Type: {typ}, Range: [{_fmt(self.lower)}, {_fmt(self.upper)}], Step: {_fmt(self.step)}, "
                f"Default: {_fmt(self.default)}"
            )
        if self.kind == "ordinal":
            seq = ", ".join(_fmt(c) for c in self.choices)
            return f"{head}, Type: Ordinal, Sequence: {{{seq}}}, Default: {_fmt(self.default)}"
        return f"{head}, Type: Constant, Value: {_fmt(self.choices[0])}"

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
                return f"{self.name}: {value!r} is not a number; give a {self.kind} in [{_fmt(self.lower)}, {_fmt(self.upper)}]"
            v = _to_number(value)
            if v is None or not math.isfinite(v):
                return f"{self.name}: {value!r} is not finite; give a {self.kind} in [{_fmt(self.lower)}, {_fmt(self.upper)}]"
            if self.kind == "int" and v != round(v):
                return (
                    f"{self.name}: {value!r} is not an integer; give an int in [{_fmt(self.lower)}, {_fmt(self.upper)}]"
                )
            if v < float(self.lower):  # type: ignore[arg-type]
                return f"{self.name}: {_fmt(value)} is below the lower bound {_fmt(self.lower)}"
            if v > float(self.upper):  # type: ignore[arg-type]
                return f"{self.name}: {_fmt(value)} is above the upper bound {_fmt(self.upper)}"
            return None
        if self.step is not None and self._step_index(value) is not None:
            return None
        if not any(_same_choice(value, c) for c in self.choices):
            choices = ", ".join(_fmt(c) for c in self.choices)
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
                return self.default, f"{self.name}: {value!r} is not a number, used the default {_fmt(self.default)}"
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
                return float(clipped), f"{self.name}: clipped {_fmt(value)} to {_fmt(clipped)}"
            return float(clipped), f"{self.name}: converted {value!r} to {_fmt(clipped)}"
        if self.kind == "constant":
            return self.choices[0], f"{self.name}: replaced {value!r} with the constant {_fmt(self.choices[0])}"
        found, snapped = self._snap_choice(value)
        if not found:
            return self.default, f"{self.name}: {value!r} matches no choice, used the default {_fmt(self.default)}"
        return snapped, f"{self.name}: snapped {value!r} to {_fmt(snapped)}"

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


def _fmt(value: Any) -> str:
    value = _plain_value(value)
    if isinstance(value, float):
        return repr(value)  # as ConfigSpace prints it; %g would round 5000000.5 to 5e+06
    if isinstance(value, str):
        return value
    return str(value)


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
    value = _plain_value(value)  # np.str_ / np.bool_ / np.int64 compare as their Python value
    if isinstance(value, bool) or isinstance(choice, bool):
        return value is choice or (type(value) is type(choice) and value == choice)
    if isinstance(choice, (int, float)) and isinstance(value, (int, float, np.number)):
        return float(value) == float(choice)
    return type(value) is type(choice) and value == choice


def _plain_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


class SearchSpace:
    """A hyperparameter search space over a ``ConfigSpace.ConfigurationSpace``.

    Build it from a ConfigSpace object or from a plain dict::

        SearchSpace({
            "x": (-5.0, 5.0),                # float (float bounds)
            "n": (1, 10),                    # int (int bounds)
            "lr": (1e-4, 1e-1, "log"),       # float on a log scale
            "opt": ["adam", "sgd"],          # categorical
        })

    Conditions and forbidden clauses come through ConfigSpace.

    Args:
        spec: A ``ConfigurationSpace``, another SearchSpace, or a dict as above.
        descriptions: Optional per-parameter text shown to LLMs by :meth:`describe`.

    Raises:
        InvalidSpaceError: If a dict entry cannot be read as a hyperparameter.
    """

    def __init__(
        self,
        spec: SearchSpace | CS.ConfigurationSpace | Mapping[str, Any],
        descriptions: Mapping[str, str] | None = None,
    ) -> None:
        import ConfigSpace as CS

        if isinstance(spec, SearchSpace):
            cs = spec.to_configspace()
        elif isinstance(spec, CS.ConfigurationSpace):
            cs = spec
        elif isinstance(spec, Mapping):
            cs = _configspace_from_dict(spec)
        else:
            raise InvalidSpaceError(
                f"search space: {type(spec).__name__} is not a dict or ConfigurationSpace; "
                'give e.g. {"lr": (1e-4, 1e-1, "log"), "opt": ["adam", "sgd"]}'
            )
        if len(list(cs.keys())) == 0:
            raise InvalidSpaceError("search space: it has no hyperparameters; add at least one")
        self._cs = cs
        descriptions = dict(descriptions or {})
        self._params: dict[str, Param] = {}
        self._optuna: dict[str, BaseDistribution] | None = None
        for hp in cs.values():
            self._params[hp.name] = _param_from_hp(hp, descriptions.get(hp.name))
        unknown = set(descriptions) - set(self._params)
        if unknown:
            raise InvalidSpaceError(
                f"descriptions: {sorted(unknown)} are not hyperparameters of this space ({sorted(self._params)})"
            )
        self._order = list(self._params)  # ConfigSpace keeps a topological order
        self._sorted = sorted(self._params)
        self._conditional = {name for name in self._params if cs.parent_conditions_of[name]}
        self._has_forbidden = bool(cs.forbidden_clauses)

    # ------------------------------------------------------------------ basics
    @classmethod
    def coerce(cls, spec: SearchSpace | CS.ConfigurationSpace | Mapping[str, Any]) -> SearchSpace:
        """Return ``spec`` as a SearchSpace (unchanged if it already is one)."""
        return spec if isinstance(spec, SearchSpace) else cls(spec)

    @property
    def params(self) -> dict[str, Param]:
        """The hyperparameters by name, in topological order."""
        return dict(self._params)

    @property
    def names(self) -> list[str]:
        """Hyperparameter names, in topological order."""
        return list(self._order)

    @property
    def is_conditional(self) -> bool:
        """Whether some hyperparameters are only active under conditions."""
        return bool(self._conditional)

    def __len__(self) -> int:
        return len(self._params)

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __contains__(self, config: object) -> bool:
        if not isinstance(config, Mapping):
            return False
        try:
            self.validate(config)
        except InvalidConfigError:
            return False
        return True

    def __getitem__(self, name: str) -> Param:
        try:
            return self._params[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a hyperparameter; known: {self._order}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self._cs == other._cs

    def __hash__(self) -> int:
        return hash(tuple(self._order))

    def __repr__(self) -> str:
        return f"SearchSpace({', '.join(p.describe() for p in self._params.values())})"

    def default(self) -> dict[str, Any]:
        """The default configuration (inactive conditional parameters left out)."""
        return self._active_only({n: p.default for n, p in self._params.items()})

    # ---------------------------------------------------------------- sampling
    @overload
    def sample(
        self, n: None = None, *, seed: int | None = None, rng: np.random.Generator | None = None
    ) -> dict[str, Any]: ...

    @overload
    def sample(
        self, n: int, *, seed: int | None = None, rng: np.random.Generator | None = None
    ) -> list[dict[str, Any]]: ...

    def sample(
        self,
        n: int | None = None,
        *,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """Sample configurations uniformly (log-uniformly on log scales).

        Args:
            n: Number of configurations; ``None`` returns one dict, an int a list.
            seed: Seed for a fresh generator (ignored when ``rng`` is given).
            rng: Generator to draw from; the space never touches global random state.

        Returns:
            One configuration, or a list of ``n``.
        """
        gen = rng if rng is not None else np.random.default_rng(seed)
        if n is None:
            return self._sample_one(gen)
        if n < 0:
            raise ValueError(f"n: {n} must be >= 0")
        return [self._sample_one(gen) for _ in range(n)]

    def _sample_one(self, rng: np.random.Generator) -> dict[str, Any]:
        for _ in range(1000):
            values = {name: self._params[name].sample(rng) for name in self._sorted}
            config = self._active_only(values) if self._conditional else values
            if not self._has_forbidden or not self._is_forbidden(config):
                return {name: config[name] for name in self._order if name in config}
        raise InvalidSpaceError("search space: 1000 samples in a row were forbidden; relax the clauses")

    def sample_unseen(self, seen: Collection[Any], rng: np.random.Generator, tries: int = 200) -> dict[str, Any] | None:
        """A valid random configuration whose :meth:`key` is not in ``seen``.

        Args:
            seen: Keys (:meth:`key`) of the configurations to avoid.
            rng: Generator to draw from.
            tries: Samples drawn before giving up.

        Returns:
            The first sample not in ``seen``, or ``None`` when ``tries`` samples were all seen
            (a small space that is nearly exhausted).
        """
        for _ in range(tries):
            config = self.validate(self._sample_one(rng))
            if self.key(config) not in seen:
                return config
        return None

    def neighbour(
        self, config: Mapping[str, Any], rng: np.random.Generator, scale: float = 0.1
    ) -> tuple[dict[str, Any], list[str]]:
        """A random neighbour of ``config``: at least one hyperparameter changed.

        One hyperparameter always moves, each other one with probability 1/2. A numeric value moves
        by a normal step of ``scale`` times its range (in log space on a log scale), clipped to the
        bounds; an integer moves by at least one; an ordinal moves to an adjacent choice and a
        categorical to another choice. The result is repaired (conditions, forbidden clauses).

        Args:
            config: A configuration of this space.
            rng: Generator to draw from.
            scale: Step as a fraction of each numeric range.

        Returns:
            The valid neighbour and one note per change (like :meth:`repair`). A config with no
            hyperparameter that can move comes back unchanged, with no notes.
        """
        names = [n for n in sorted(config) if n in self._params and self._params[n].kind != "constant"]
        if not names:
            return self.validate(config), []
        new = dict(config)
        must = names[int(rng.integers(len(names)))]
        notes: list[str] = []
        for name in names:
            if name != must and rng.random() >= 0.5:
                continue
            old = new[name]
            value = _neighbour_value(self._params[name], old, rng, scale)
            if value != old:
                new[name] = value
                notes.append(f"{name}: perturbed {old!r} to {value!r}")
        repaired, changes = self.repair(new)
        return self.validate(repaired), notes + changes

    # ------------------------------------------------------- conditions / checks
    def active_names(self, config: Mapping[str, Any]) -> list[str]:
        """Names of the hyperparameters active under ``config`` (topological order)."""
        active: dict[str, Any] = {}
        for name in self._order:
            if name not in self._conditional or self._satisfied(name, active):
                active[name] = config.get(name)
        return list(active)

    def _satisfied(self, name: str, active: Mapping[str, Any]) -> bool:
        """Whether every condition on ``name`` holds under the active values so far.

        ``active`` maps the names of active parameters to their values (``None``: missing); a
        condition on a parent that is inactive or missing does not hold.
        """
        return all(_condition_holds(cond, active) for cond in self._cs.parent_conditions_of[name])

    def _active_only(self, values: Mapping[str, Any]) -> dict[str, Any]:
        active: dict[str, Any] = {}
        for name in self._order:
            if name not in self._conditional or self._satisfied(name, active):
                active[name] = values[name]
        return active

    def _is_forbidden(self, config: Mapping[str, Any]) -> bool:
        """Whether a forbidden clause matches ``config`` (a config otherwise inside the space)."""
        values = dict(config)
        try:  # fast path: the clauses on plain values (inactive parameters never match)
            return any(clause.is_forbidden_value(values) for clause in self._cs.forbidden_clauses)
        except Exception:  # a clause that cannot judge plain values: ask ConfigSpace
            pass
        from ConfigSpace import Configuration

        try:
            Configuration(self._cs, values=values)
        except Exception:  # ConfigSpace raises several types for forbidden values
            return True
        return False

    def problems(self, config: Mapping[str, Any]) -> list[str]:
        """Every reason ``config`` is not in the space (empty if it is)."""
        if not isinstance(config, Mapping):
            return [f"config: {config!r} is not a dict of hyperparameter values"]
        problems = []
        unknown = [k for k in config if k not in self._params]
        for key in unknown:
            problems.append(f"{key}: unknown hyperparameter; known: {', '.join(self._order)}")
        active: dict[str, Any] = {}
        for name in self._order:
            if name in self._conditional and not self._satisfied(name, active):
                if name in config:
                    problems.append(f"{name}: {config[name]!r} given but the parameter is inactive under its condition")
                continue
            if name not in config:
                problems.append(f"{name}: missing; give a value ({self._params[name].describe()})")
                active[name] = None
                continue
            issue = self._params[name].check(config[name])
            if issue:
                problems.append(issue)
            active[name] = config[name]
        if not problems and self._has_forbidden and self._is_forbidden(config):
            problems.append(f"config: {dict(config)} is forbidden by a clause of the space")
        return problems

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``config`` and return it with canonical plain-Python values.

        Raises:
            InvalidConfigError: Naming each bad key, its value and the bound or choices.
        """
        problems = self.problems(config)
        if problems:
            raise InvalidConfigError(problems)
        return {n: self._params[n].canonical(config[n]) for n in self._order if n in config}

    def repair(self, config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Return the nearest valid configuration and what was changed.

        Drops unknown and inactive keys, converts strings to numbers, clips to bounds (``inf``
        too), rounds integers, snaps to the nearest choice or ordinal value (text matched
        case-insensitively) and fills missing keys with the default; NaN and values that are no
        number become the default. A result that a forbidden clause excludes becomes the default
        configuration. The repaired configuration always validates.

        Returns:
            The repaired configuration and one note per change (empty if ``config`` was valid).
        """
        changes: list[str] = []
        if not isinstance(config, Mapping):
            changes.append(f"config: {type(config).__name__} is not a dict, used the default configuration")
            config = {}
        for key in config:
            if key not in self._params:
                changes.append(f"{key}: dropped unknown hyperparameter")
        active: dict[str, Any] = {}
        for name in self._order:
            if name in self._conditional and not self._satisfied(name, active):
                if name in config:
                    changes.append(f"{name}: dropped, inactive under its condition")
                continue
            param = self._params[name]
            if name not in config:
                active[name] = param.default
                changes.append(f"{name}: missing, filled with the default {_fmt(param.default)}")
                continue
            fixed, note = param.repair(config[name])
            active[name] = _plain_value(fixed)
            if note:
                changes.append(note)
        if self._has_forbidden and self._is_forbidden(active):
            fallback = self.default()
            changes.append(f"config: {active} is forbidden, used the default configuration")
            active = fallback
        return active, changes

    # ------------------------------------------------------------- conversions
    def to_configspace(self) -> CS.ConfigurationSpace:
        """The underlying ``ConfigSpace.ConfigurationSpace`` (a copy SMAC can own)."""
        import ConfigSpace as CS

        return CS.ConfigurationSpace.from_serialized_dict(self._cs.to_serialized_dict())

    def to_json(self) -> str:
        """Serialize to JSON (ConfigSpace's format, plus LLM descriptions)."""
        data = self._cs.to_serialized_dict()
        return json.dumps({"configspace": data, "descriptions": self.descriptions()})

    @classmethod
    def from_json(cls, text: str) -> SearchSpace:
        """Inverse of :meth:`to_json`."""
        import ConfigSpace as CS

        try:
            data = json.loads(text)
            cs = CS.ConfigurationSpace.from_serialized_dict(data["configspace"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidSpaceError(
                f"search space JSON: cannot be read ({exc}); use SearchSpace.to_json output"
            ) from exc
        return cls(cs, descriptions=data.get("descriptions") or {})

    def descriptions(self) -> dict[str, str]:
        """Per-parameter descriptions for LLM prompts."""
        return {n: p.description for n, p in self._params.items() if p.description}

    def to_optuna(self) -> dict[str, BaseDistribution]:
        """Optuna distributions, one per hyperparameter (the inverse of :meth:`from_optuna`).

        Stepped ranges map back to stepped Float / Int distributions; other ordinals and
        constants become categorical.
        """
        if self._optuna is not None:
            return dict(self._optuna)
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        out: dict[str, BaseDistribution] = {}
        for name, p in self._params.items():
            if p.kind == "float":
                out[name] = FloatDistribution(float(p.lower), float(p.upper), log=p.log)  # type: ignore[arg-type]
            elif p.kind == "int":
                out[name] = IntDistribution(int(p.lower), int(p.upper), log=p.log)  # type: ignore[arg-type,call-overload]
            elif p.kind == "ordinal" and p.step is not None:
                lo, hi = p.choices[0], p.choices[-1]
                if isinstance(p.step, int):
                    out[name] = IntDistribution(int(lo), int(hi), step=p.step)  # type: ignore[arg-type,call-overload]
                else:
                    out[name] = FloatDistribution(float(lo), float(hi), step=float(p.step))  # type: ignore[arg-type]
            else:
                out[name] = CategoricalDistribution(list(p.choices))
        self._optuna = out
        return dict(out)

    @classmethod
    def from_optuna(cls, distributions: Mapping[str, BaseDistribution]) -> SearchSpace:
        """Build from Optuna distributions (the inverse of :meth:`to_optuna`).

        Every Optuna distribution maps: float and int ranges (log or not) to ranges, stepped ones
        (``step=``) to ordinals of their values that remember the step, categorical to categorical.

        Raises:
            InvalidSpaceError: If a stepped range has more than 100,000 values, or a distribution
                is of an unknown type.
        """
        import ConfigSpace as CS
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        cs = CS.ConfigurationSpace()
        for name, dist in distributions.items():
            hp: Any
            if isinstance(dist, (FloatDistribution, IntDistribution)) and dist.step not in (None, 1):
                is_int = isinstance(dist, IntDistribution)
                count = math.floor((dist.high - dist.low) / dist.step + 1e-9) + 1
                if count > 100_000:
                    raise InvalidSpaceError(
                        f"{name}: step {dist.step} gives {count} values in [{dist.low}, {dist.high}]; "
                        "use a coarser step or an unstepped range"
                    )
                values: list[Any] = [
                    int(dist.low + k * dist.step) if is_int else float(dist.low + k * dist.step) for k in range(count)
                ]
                step: Any = int(dist.step) if is_int else float(dist.step)
                hp = CS.OrdinalHyperparameter(name, values, meta={"step": step})
            elif isinstance(dist, FloatDistribution):
                hp = CS.UniformFloatHyperparameter(name, float(dist.low), float(dist.high), log=dist.log)
            elif isinstance(dist, IntDistribution):
                hp = CS.UniformIntegerHyperparameter(name, int(dist.low), int(dist.high), log=dist.log)
            elif isinstance(dist, CategoricalDistribution):
                hp = _hp_from_entry(name, list(dist.choices))
            else:
                raise InvalidSpaceError(f"{name}: {type(dist).__name__} is not supported")
            cs.add(hp)
        return cls(cs)

    def describe(self) -> str:
        """A compact text for prompts, one parameter a line, in ConfigSpace's wording."""
        return "\n".join(p.describe() for p in self._params.values())

    def json_schema(self) -> dict[str, Any]:
        """A JSON schema of a configuration (for LLM structured output).

        Conditional parameters are optional; unconditional ones required.
        """
        props = {n: p.json_schema() for n, p in self._params.items()}
        required = [n for n in self._order if n not in self._conditional]
        return {"type": "object", "properties": props, "required": required, "additionalProperties": False}

    def grid(self, resolution: int = 5) -> list[dict[str, Any]]:
        """The full grid: every choice, continuous parameters at ``resolution`` points.

        Conditional parameters are only varied where active; duplicates are removed.
        """
        axes = {n: self._params[n].grid(resolution) for n in self._order}
        out: list[dict[str, Any]] = []
        if not self._conditional:
            for values in product(*axes.values()):
                config = dict(zip(self._order, values, strict=True))
                if not (self._has_forbidden and self._is_forbidden(config)):
                    out.append(config)
            return out

        # Depth-first over the topological order, branching only on active parameters: no
        # duplicates to remove, and the same order as the deduplicated full product.
        def walk(i: int, partial: dict[str, Any]) -> None:
            if i == len(self._order):
                if not (self._has_forbidden and self._is_forbidden(partial)):
                    out.append(dict(partial))
                return
            name = self._order[i]
            if name in self._conditional and not self._satisfied(name, partial):
                walk(i + 1, partial)
                return
            for value in axes[name]:
                partial[name] = value
                walk(i + 1, partial)
            del partial[name]

        walk(0, {})
        return out

    def grid_size(self, resolution: int = 5) -> int:
        """Number of points of :meth:`grid` (an upper bound when forbidden clauses remove some).

        Counted without building the grid: only parameters that other parameters' conditions
        depend on are branched on, so this stays fast for large conditional spaces.
        """
        sizes = {n: len(self._params[n].grid(resolution)) for n in self._order}
        if not self._conditional:
            return math.prod(sizes.values())  # Python ints: no overflow on huge grids
        parents = {n for n in self._order if self._cs.children_of[n]}

        def count(i: int, partial: dict[str, Any]) -> int:
            if i == len(self._order):
                return 1
            name = self._order[i]
            if name in self._conditional and not self._satisfied(name, partial):
                return count(i + 1, partial)
            if name not in parents:
                return sizes[name] * count(i + 1, partial)
            total = 0
            for value in self._params[name].grid(resolution):
                partial[name] = value
                total += count(i + 1, partial)
            del partial[name]
            return total

        return count(0, {})

    def key(self, config: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        """A hashable key of a configuration (for duplicate detection)."""
        return tuple((n, config[n]) for n in self._order if n in config)


def _neighbour_value(p: Param, old: Any, rng: np.random.Generator, scale: float) -> Any:
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


def _condition_holds(cond: Any, active: Mapping[str, Any]) -> bool:
    """Evaluate a ConfigSpace condition or conjunction on plain values.

    A leaf condition whose parent is inactive (absent from ``active``) or missing (``None``) does
    not hold; an ``AndConjunction`` needs all its components, an ``OrConjunction`` one of them.
    """
    components = getattr(cond, "components", None)
    if components is not None:
        if type(cond).__name__ == "OrConjunction":
            return any(_condition_holds(c, active) for c in components)
        return all(_condition_holds(c, active) for c in components)
    parent = cond.parent.name
    value = active.get(parent)
    if value is None:
        return False
    try:
        return bool(cond.satisfied_by_value({parent: value}))
    except (TypeError, ValueError, KeyError, IndexError):
        return False  # a value of the wrong type for the parent satisfies no condition


def _param_from_hp(hp: Any, description: str | None) -> Param:
    import ConfigSpace as CS

    description = description or (hp.meta or {}).get("description")
    if isinstance(hp, (CS.UniformFloatHyperparameter, CS.NormalFloatHyperparameter)):
        return Param(
            hp.name,
            "float",
            float(hp.lower),
            float(hp.upper),
            bool(hp.log),
            default=float(hp.default_value),
            description=description,
        )
    if isinstance(hp, (CS.UniformIntegerHyperparameter, CS.NormalIntegerHyperparameter)):
        return Param(
            hp.name,
            "int",
            int(hp.lower),
            int(hp.upper),
            bool(hp.log),
            default=int(hp.default_value),
            description=description,
        )
    if isinstance(hp, CS.CategoricalHyperparameter):
        choices = tuple(_plain_value(c) for c in hp.choices)
        return Param(
            hp.name, "categorical", choices=choices, default=_plain_value(hp.default_value), description=description
        )
    if isinstance(hp, CS.OrdinalHyperparameter):
        seq = tuple(_plain_value(c) for c in hp.sequence)
        step = (hp.meta or {}).get("step")
        return Param(
            hp.name,
            "ordinal",
            lower=seq[0] if step is not None else None,  # type: ignore[arg-type]
            upper=seq[-1] if step is not None else None,  # type: ignore[arg-type]
            choices=seq,
            default=_plain_value(hp.default_value),
            description=description,
            step=step,
        )
    if isinstance(hp, CS.Constant):
        value = _plain_value(hp.value)
        return Param(hp.name, "constant", choices=(value,), default=value, description=description)
    raise InvalidSpaceError(f"{hp.name}: {type(hp).__name__} is not supported")


def _configspace_from_dict(spec: Mapping[str, Any]) -> CS.ConfigurationSpace:
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace()
    for name, entry in spec.items():
        if not isinstance(name, str) or not name:
            raise InvalidSpaceError(f"search space: key {name!r} must be a non-empty string")
        hp = _hp_from_entry(name, entry)
        try:
            cs.add(hp)
        except (ValueError, TypeError) as exc:
            raise InvalidSpaceError(f"{name}: {entry!r} cannot be added to the space ({exc})") from exc
    return cs


_CHOICE_TYPES = (str, int, float, bool, type(None))


def _hp_from_entry(name: str, entry: Any) -> Any:
    import ConfigSpace as CS

    if isinstance(entry, CS.hyperparameters.Hyperparameter):
        if entry.name != name:
            raise InvalidSpaceError(
                f"{name}: the hyperparameter given is named {entry.name!r}; use the same name as its key"
            )
        return entry
    try:
        return _hp_from_plain_entry(name, entry)
    except (ValueError, TypeError, OverflowError) as exc:
        if isinstance(exc, InvalidSpaceError):
            raise
        raise InvalidSpaceError(f"{name}: {entry!r} is not a valid hyperparameter spec ({exc})") from exc


def _hp_from_plain_entry(name: str, entry: Any) -> Any:
    import ConfigSpace as CS

    entry = _plain_value(entry)
    if isinstance(entry, list):
        if not entry:
            raise InvalidSpaceError(f"{name}: an empty list of choices; give at least one")
        choices = [_plain_value(c) for c in entry]
        for c in choices:
            if not isinstance(c, _CHOICE_TYPES) or (isinstance(c, float) and not math.isfinite(c)):
                raise InvalidSpaceError(
                    f"{name}: choice {c!r} is not allowed; choices are str, int, float (finite), bool or None"
                )
        dups = sorted(
            {repr(a) for i, a in enumerate(choices) for b in choices[i + 1 :] if a == b or repr(a) == repr(b)}
        )
        if dups:
            raise InvalidSpaceError(
                f"{name}: choices {entry} contain duplicates ({', '.join(dups)}; note 1 == 1.0 == True); "
                "give each choice once"
            )
        if len(choices) == 1:
            return CS.Constant(name, choices[0])
        return CS.CategoricalHyperparameter(name, choices)
    if isinstance(entry, tuple) and len(entry) in (2, 3):
        lo, hi = _plain_value(entry[0]), _plain_value(entry[1])
        scale = entry[2] if len(entry) == 3 else None
        if scale not in (None, "log", "linear"):
            raise InvalidSpaceError(f"{name}: scale {scale!r} is not 'log' or 'linear'; e.g. (1e-4, 1e-1, 'log')")
        log = scale == "log"
        numbers = (int, float)
        if isinstance(lo, bool) or isinstance(hi, bool) or not isinstance(lo, numbers) or not isinstance(hi, numbers):
            raise InvalidSpaceError(f"{name}: bounds {entry!r} must be numbers, e.g. (0.0, 1.0) or (1e-4, 1e-1, 'log')")
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise InvalidSpaceError(f"{name}: bounds {entry!r} must be finite")
        if lo >= hi:
            raise InvalidSpaceError(f"{name}: lower bound {lo} must be below the upper bound {hi}")
        if log and lo <= 0:
            raise InvalidSpaceError(f"{name}: lower bound {lo} must be > 0 on a log scale")
        if isinstance(lo, int) and isinstance(hi, int):
            if max(abs(lo), abs(hi)) >= 2**53:
                raise InvalidSpaceError(f"{name}: int bounds {entry!r} must be below 2**53 in absolute value")
            return CS.UniformIntegerHyperparameter(name, lo, hi, log=log)
        return CS.UniformFloatHyperparameter(name, float(lo), float(hi), log=log)
    if isinstance(entry, (int, float, str)) and not isinstance(entry, bool):
        if isinstance(entry, float) and not math.isfinite(entry):
            raise InvalidSpaceError(f"{name}: constant {entry!r} must be finite")
        return CS.Constant(name, entry)
    raise InvalidSpaceError(
        f"{name}: {entry!r} is not a hyperparameter spec; use (low, high), (low, high, 'log'), "
        "a list of choices, or a ConfigSpace hyperparameter"
    )


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
