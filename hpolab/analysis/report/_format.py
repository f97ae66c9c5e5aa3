"""How the report writes numbers: values, percentages, estimates with their interval, and the intervals.

Every interval in the report comes from :func:`bootstrap`: a 95% percentile bootstrap over seeds,
resampled within each task when the tasks are given (:func:`hpolab.analysis.stats.bootstrap_interval`),
so it lies inside its metric's range. A value that is not finite is written ``-``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hpolab.analysis import stats as S
from hpolab.trial import Direction

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALPHA_SYMBOL",
    "bootstrap",
    "fmt_ci",
    "fmt_interval",
    "fmt_number",
    "fmt_percent",
    "loss_signs",
    "per_trial",
]

#: The significance level's symbol in text.
ALPHA_SYMBOL = "\u03b1"


def fmt_number(x: Any, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits; ``-`` if it is not finite, ``str(x)`` if it is not a number."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "-"
    return f"{v:.{digits}g}"


def fmt_percent(x: float) -> str:
    """``x`` (already in percent) with two decimals and a ``%`` sign; ``-`` if it is not finite."""
    return "-" if not math.isfinite(x) else f"{x:.2f}%"


def fmt_ci(mean: float, low: float, high: float, digits: int = 3, pct: bool = False) -> str:
    """``mean [low, high]`` to ``digits`` significant digits (``%`` after each if ``pct``).

    The brackets are left out when an end is not finite; the whole is ``-`` when ``mean`` is not.
    """
    unit = "%" if pct else ""
    if not math.isfinite(mean):
        return "-"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{mean:.{digits}g}{unit}"
    return f"{mean:.{digits}g}{unit} [{low:.{digits}g}, {high:.{digits}g}]"


def bootstrap(
    values: Any, strata: Any = None, weights: Any = None, statistic: str = "mean", seed: int = 0
) -> S.Interval:
    """The report's interval: a 95% percentile bootstrap, within ``strata`` (the tasks) when given."""
    return S.bootstrap_interval(values, strata=strata, weights=weights, statistic=statistic, seed=seed)


def per_trial(g: pd.DataFrame, column: str, seed: int = 0) -> S.Interval:
    """Mean per trial of ``column`` with an interval that resamples whole runs (seeds) within each task."""
    import numpy as np

    d = g[["objective", "seed", column]].copy()
    d[column] = d[column].astype(float)
    d = d[np.isfinite(d[column].to_numpy())]
    if d.empty:
        return S.Interval(math.nan, math.nan, math.nan, 0)
    runs = d.groupby(["objective", "seed"], sort=True)[column].agg(["mean", "size"]).reset_index()
    return bootstrap(
        runs["mean"].to_numpy(), runs["objective"].to_numpy(), runs["size"].to_numpy(dtype=float), seed=seed
    )


def fmt_interval(ci: S.Interval) -> str:
    """An interval as :func:`fmt_ci` writes it: its estimate, then its ends in brackets."""
    return fmt_ci(ci.estimate, ci.low, ci.high)


def loss_signs(df: pd.DataFrame) -> dict[str, float]:
    """Per objective, the sign that turns its values into losses (``Direction.sign``)."""
    return {str(o): Direction.coerce(d).sign for o, d in df.groupby("objective")["direction"].first().items()}
