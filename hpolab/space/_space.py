"""SearchSpace: hyperparameters to tune, on top of a ``ConfigSpace.ConfigurationSpace``.

The space knows how to sample, validate and repair configurations, under conditions and forbidden
clauses. LLM optimizers depend on ``validate`` / ``repair`` / ``describe`` / ``json_schema``; classic
backends on ``to_configspace`` (SMAC) and ``to_optuna`` (TPE).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterator, Mapping
from itertools import product
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from hpolab.exceptions import InvalidConfigError, InvalidSpaceError
from hpolab.space._optuna import configspace_from_optuna, optuna_distributions
from hpolab.space._params import Param, neighbour_value
from hpolab.space._spec import configspace_from_dict, param_from_hp
from hpolab.space._values import fmt, plain_value

if TYPE_CHECKING:
    import ConfigSpace as CS
    from optuna.distributions import BaseDistribution

__all__ = ["SearchSpace"]


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
            cs = configspace_from_dict(spec)
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
            self._params[hp.name] = param_from_hp(hp, descriptions.get(hp.name))
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
            value = neighbour_value(self._params[name], old, rng, scale)
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

    def problems(self, config: Mapping[str, Any], *, partial: bool = False) -> list[str]:
        """Every reason ``config`` is not in the space (empty if it is).

        Args:
            config: A configuration.
            partial: Take missing values as values still to come (a partial configuration that
                an optimizer completes): the values given must be known, allowed and active
                under the values given before them (a parameter behind a condition needs its
                parent given too).
        """
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
                if not partial:
                    problems.append(f"{name}: missing; give a value ({self._params[name].describe()})")
                active[name] = None
                continue
            issue = self._params[name].check(config[name])
            if issue:
                problems.append(issue)
            active[name] = config[name]
        whole = not partial or all(name in config for name in active)
        if not problems and whole and self._has_forbidden and self._is_forbidden(config):
            problems.append(f"config: {dict(config)} is forbidden by a clause of the space")
        return problems

    def validate(self, config: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Check ``config`` and return it with canonical plain-Python values.

        Args:
            config: A configuration.
            partial: Allow missing values (see :meth:`problems`).

        Raises:
            InvalidConfigError: Naming each bad key, its value and the bound or choices.
        """
        problems = self.problems(config, partial=partial)
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
                changes.append(f"{name}: missing, filled with the default {fmt(param.default)}")
                continue
            fixed, note = param.repair(config[name])
            active[name] = plain_value(fixed)
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
        if self._optuna is None:
            self._optuna = optuna_distributions(self._params.values())
        return dict(self._optuna)

    @classmethod
    def from_optuna(cls, distributions: Mapping[str, BaseDistribution]) -> SearchSpace:
        """Build from Optuna distributions (the inverse of :meth:`to_optuna`).

        Every Optuna distribution maps: float and int ranges (log or not) to ranges, stepped ones
        (``step=``) to ordinals of their values that remember the step, categorical to categorical.

        Raises:
            InvalidSpaceError: If a stepped range has more than 100,000 values, or a distribution
                is of an unknown type.
        """
        return cls(configspace_from_optuna(distributions))

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
