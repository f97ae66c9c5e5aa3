"""Reading hyperparameter specs: plain dict entries into ConfigSpace, ConfigSpace's hyperparameters into Params."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hpolab.exceptions import InvalidSpaceError
from hpolab.space._params import Param
from hpolab.space._values import plain_value

if TYPE_CHECKING:
    import ConfigSpace as CS

__all__ = ["configspace_from_dict", "hp_from_entry", "param_from_hp"]


def param_from_hp(hp: Any, description: str | None) -> Param:
    """The Param of a ConfigSpace hyperparameter, with ``description`` (or the one in its ``meta``).

    Raises:
        InvalidSpaceError: For a hyperparameter type hpolab does not handle.
    """
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
        choices = tuple(plain_value(c) for c in hp.choices)
        return Param(
            hp.name, "categorical", choices=choices, default=plain_value(hp.default_value), description=description
        )
    if isinstance(hp, CS.OrdinalHyperparameter):
        seq = tuple(plain_value(c) for c in hp.sequence)
        step = (hp.meta or {}).get("step")
        return Param(
            hp.name,
            "ordinal",
            lower=seq[0] if step is not None else None,  # type: ignore[arg-type]
            upper=seq[-1] if step is not None else None,  # type: ignore[arg-type]
            choices=seq,
            default=plain_value(hp.default_value),
            description=description,
            step=step,
        )
    if isinstance(hp, CS.Constant):
        value = plain_value(hp.value)
        return Param(hp.name, "constant", choices=(value,), default=value, description=description)
    raise InvalidSpaceError(f"{hp.name}: {type(hp).__name__} is not supported")


def configspace_from_dict(spec: Mapping[str, Any]) -> CS.ConfigurationSpace:
    """A ``ConfigurationSpace`` of a plain dict spec, e.g. ``{"lr": (1e-4, 1e-1, "log"), "opt": ["adam", "sgd"]}``.

    Raises:
        InvalidSpaceError: Naming the key whose entry is not a hyperparameter spec.
    """
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace()
    for name, entry in spec.items():
        if not isinstance(name, str) or not name:
            raise InvalidSpaceError(f"search space: key {name!r} must be a non-empty string")
        hp = hp_from_entry(name, entry)
        try:
            cs.add(hp)
        except (ValueError, TypeError) as exc:
            raise InvalidSpaceError(f"{name}: {entry!r} cannot be added to the space ({exc})") from exc
    return cs


_CHOICE_TYPES = (str, int, float, bool, type(None))


def hp_from_entry(name: str, entry: Any) -> Any:
    """The ConfigSpace hyperparameter of one dict entry (a ConfigSpace hyperparameter is taken as it is).

    Raises:
        InvalidSpaceError: Naming ``name``, the entry and the forms that are allowed.
    """
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

    entry = plain_value(entry)
    if isinstance(entry, list):
        if not entry:
            raise InvalidSpaceError(f"{name}: an empty list of choices; give at least one")
        choices = [plain_value(c) for c in entry]
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
        lo, hi = plain_value(entry[0]), plain_value(entry[1])
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
