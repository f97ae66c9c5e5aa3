"""Optuna's distributions both ways: a space's Params to distributions, distributions to ConfigSpace."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hpolab.exceptions import InvalidSpaceError
from hpolab.space._params import Param
from hpolab.space._spec import hp_from_entry

if TYPE_CHECKING:
    import ConfigSpace as CS
    from optuna.distributions import BaseDistribution

__all__ = ["configspace_from_optuna", "optuna_distributions"]


def optuna_distributions(params: Iterable[Param]) -> dict[str, BaseDistribution]:
    """One Optuna distribution per Param (the inverse of :func:`configspace_from_optuna`).

    Stepped ranges map back to stepped Float / Int distributions; other ordinals and constants
    become categorical.
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, BaseDistribution] = {}
    for p in params:
        name = p.name
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
    return out


def configspace_from_optuna(distributions: Mapping[str, BaseDistribution]) -> CS.ConfigurationSpace:
    """A ``ConfigurationSpace`` of Optuna distributions (the inverse of :func:`optuna_distributions`).

    Float and int ranges (log or not) map to ranges, stepped ones (``step=``) to ordinals of their
    values that remember the step, categorical to categorical.

    Raises:
        InvalidSpaceError: If a stepped range has more than 100,000 values, or a distribution is of
            an unknown type.
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
            hp = hp_from_entry(name, list(dist.choices))
        else:
            raise InvalidSpaceError(f"{name}: {type(dist).__name__} is not supported")
        cs.add(hp)
    return cs
