"""Number formats the paper sections share."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["acc_ci", "fmt"]


def fmt(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits (``-`` when not finite, ``0`` when near zero)."""
    if not math.isfinite(x):
        return "-"
    return "0" if abs(x) < 1e-9 else f"{x:.{digits}g}"


def acc_ci(values: Any) -> str:
    """Accuracies (fractions) as a percentage with a 95% percentile-bootstrap interval and ``n``."""
    from hpolab.analysis.stats import bootstrap_interval

    ci = bootstrap_interval(values)  # percentile bootstrap over seeds: inside [0, 100]% without clipping
    if not math.isfinite(ci.mean):
        return "-"
    if not (math.isfinite(ci.low) and math.isfinite(ci.high)):
        return f"{100 * ci.mean:.1f}% (n={ci.n})"
    return f"{100 * ci.mean:.1f}% [{100 * ci.low:.1f}, {100 * ci.high:.1f}] (n={ci.n})"
