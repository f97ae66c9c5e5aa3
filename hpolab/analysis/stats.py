"""Statistics of optimizer comparisons: intervals, random search's baseline, paired tests, Holm, ranks.

Stratified bootstrap intervals (of a mean, an IQM, an RMSE), random search's best of ``b`` draws and the win
probability against it, Wilcoxon tests with Holm's adjustment, mean ranks and Friedman/Nemenyi's critical
difference. Every interval here except :func:`mean_ci`'s (Student-t, for quantities without bounds) is a
percentile bootstrap: the ``(1 - c) / 2`` and ``(1 + c) / 2`` quantiles of the
statistic recomputed on resampled data. A quantile of replicates of a statistic lies where the statistic can
lie, so a mean rank stays in ``[1, k]``, an error rate in ``[0, 1]``, a time at or above 0 and an RMSE at or
above 0 without clipping. Resampling is *stratified*: the units (seeds, runs) of each stratum (a task) are
drawn with replacement within that stratum, at its own size, so every replicate has every task with as many
runs as the data; the interval is over seeds for this set of tasks.

Random search's baseline is exact. Its best of ``b`` evaluations from a pool of ``n`` random configurations
has, for ``b`` distinct configurations of the pool (draws without replacement),
``P(best >= x) = C(#{pool >= x}, b) / C(n, b)``, an unbiased estimate of the same probability for ``b``
independent random configurations (a random ``b``-subset of independent draws is ``b`` independent draws).
With replacement, ``(#{pool >= x} / n)^b``, as a bootstrap draws, a finite pool repeats
configurations and makes random search look worse than it is (:func:`pool_bias`). :func:`win_probability`
uses the unbiased form with the tie rule of :func:`tie_tolerance`, :func:`expected_best_of` its expectation
(``replace=True``: the paper's).

The library choices (scipy's ``bootstrap`` and tests, no autorank or rliable) are explained in
``docs/statistics.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hpolab._deprecation import renamed_keyword
from hpolab.trial import Direction

__all__ = [
    "ALPHA",
    "BootstrapEstimate",
    "FriedmanNemenyi",
    "Interval",
    "MeanCI",
    "PairedTest",
    "RMSEResult",
    "bootstrap_best_of",
    "bootstrap_interval",
    "check_confidence",
    "expected_best_of",
    "finite_values",
    "friedman_nemenyi",
    "holm",
    "interquartile_mean",
    "mean_ci",
    "mean_rank",
    "percentile_interval",
    "pool_bias",
    "rank_matrix",
    "resample_indices",
    "rmse_ci",
    "smallest_p_value",
    "stratum_means",
    "tie_tolerance",
    "wilcoxon_against_half",
    "wilcoxon_paired",
    "win_probability",
]

#: Significance level of the report's tests.
ALPHA: float = 0.05

#: Relative gap under which two floats count as the same value (rounding noise, not a difference).
_REL_EPS = 1e-9


# ----------------------------------------------------------------------------- intervals
@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile-bootstrap interval.

    Attributes:
        estimate: The statistic on the data (``NaN`` without data).
        low: Lower end (``NaN`` when no stratum has two units: a bootstrap of one value has no spread).
        high: Upper end (``NaN`` likewise).
        n: Number of units (seeds or runs) the statistic used.
        confidence: Confidence level.
    """

    estimate: float
    low: float
    high: float
    n: int
    confidence: float = 0.95

    @property
    def mean(self) -> float:
        """The estimate (the name the report's formatting uses)."""
        return self.estimate

    def __str__(self) -> str:
        if not math.isfinite(self.low):
            return f"{self.estimate:.4g}"
        return f"{self.estimate:.4g} [{self.low:.4g}, {self.high:.4g}]"


def check_confidence(confidence: float) -> None:
    """Raise a ``ValueError`` unless ``confidence`` is strictly between 0 and 1."""
    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence: {confidence} must be strictly between 0 and 1 (e.g. 0.95)")


def finite_values(values: Iterable[float] | np.ndarray | pd.Series) -> np.ndarray:
    """The finite entries of ``values`` as a float array (``NaN`` and infinities dropped)."""
    arr = np.asarray(list(values) if not isinstance(values, (np.ndarray, pd.Series)) else values, dtype=float)
    return arr[np.isfinite(arr)]


@dataclass(frozen=True)
class MeanCI:
    """A mean with its Student-t confidence interval.

    Attributes:
        mean: Sample mean (``NaN`` for no values).
        low: Lower end of the interval (``NaN`` with fewer than two values).
        high: Upper end of the interval (``NaN`` with fewer than two values).
        n: Number of (finite) values.
        sem: Standard error of the mean, ``s / sqrt(n)`` with ``s`` the ``ddof=1`` standard deviation.
        confidence: Confidence level of the interval.
    """

    mean: float
    low: float
    high: float
    n: int
    sem: float
    confidence: float

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return (self.high - self.low) / 2.0

    def __str__(self) -> str:
        if math.isnan(self.low):
            return f"{self.mean:.4g}"
        return f"{self.mean:.4g} [{self.low:.4g}, {self.high:.4g}]"


def mean_ci(values: Iterable[float] | np.ndarray | pd.Series, confidence: float = 0.95) -> MeanCI:
    """Mean and Student-t confidence interval ``mean ± t_{(1+c)/2, n-1} * s / sqrt(n)``.

    Non-finite values are dropped.

    Args:
        values: The sample.
        confidence: Confidence level.

    Returns:
        A :class:`MeanCI`; the interval is ``NaN`` when fewer than two values remain.
    """
    from scipy import stats

    check_confidence(confidence)
    arr = finite_values(values)
    n = int(arr.size)
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, 0, math.nan, confidence)
    mean = float(arr.mean())
    if n == 1:
        return MeanCI(mean, math.nan, math.nan, 1, math.nan, confidence)
    sem = float(arr.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf((1.0 + confidence) / 2.0, n - 1)) * sem
    return MeanCI(mean, mean - half, mean + half, n, sem, confidence)


def resample_indices(strata: Sequence[object] | np.ndarray, n_resamples: int, seed: int = 0) -> np.ndarray:
    """Indices of a stratified bootstrap: column ``j`` of each row is drawn from the units of ``j``'s stratum.

    Args:
        strata: Stratum label of each unit (e.g. the task of each run).
        n_resamples: Number of replicates (rows).
        seed: Seed of the generator.

    Returns:
        An ``int`` array of shape ``(n_resamples, len(strata))``; ``values[idx]`` is one resampled data set
        per row in which every unit is replaced by a unit of its own stratum.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples: {n_resamples} must be a positive number of replicates (e.g. 1000)")
    labels = pd.factorize(pd.Series(list(strata), dtype=object))[0]
    rng = np.random.default_rng(seed)
    idx = np.empty((n_resamples, labels.size), dtype=np.int64)
    for code in np.unique(labels):
        members = np.flatnonzero(labels == code)
        idx[:, members] = members[rng.integers(0, members.size, size=(n_resamples, members.size))]
    return idx


def stratum_means(samples: np.ndarray, strata: Sequence[object] | np.ndarray) -> np.ndarray:
    """Mean of ``samples``' columns per stratum, then the mean over strata (every stratum weighs the same).

    Args:
        samples: Shape ``(..., n_units)``; non-finite entries are left out of their stratum's mean.
        strata: Stratum label of each column.

    Returns:
        Shape ``samples.shape[:-1]``.
    """
    labels = pd.factorize(pd.Series(list(strata), dtype=object))[0]
    parts = []
    for code in np.unique(labels):
        cols = samples[..., labels == code]
        with np.errstate(invalid="ignore"):
            parts.append(np.nanmean(np.where(np.isfinite(cols), cols, np.nan), axis=-1))
    with np.errstate(invalid="ignore"):
        return np.nanmean(np.stack(parts, axis=-1), axis=-1)


def percentile_interval(replicates: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The ``(1 - c) / 2`` and ``(1 + c) / 2`` quantiles of the finite bootstrap replicates (``NaN`` if none)."""
    check_confidence(confidence)
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return (math.nan, math.nan)
    lo, hi = np.quantile(reps, [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0])
    return (float(lo), float(hi))


def interquartile_mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50% of the values (scipy's ``trim_mean`` at 25%)."""
    from scipy import stats

    return np.asarray(stats.trim_mean(values, 0.25, axis=axis), dtype=float)


def _statistic(name: str | Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    if callable(name):
        return name
    table: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "mean": lambda x: np.mean(x, axis=-1),
        "median": lambda x: np.median(x, axis=-1),
        "iqm": interquartile_mean,
        "rmse": lambda x: np.sqrt(np.mean(np.square(x), axis=-1)),
    }
    if name not in table:
        raise ValueError(f"statistic: {name!r} is not one of {sorted(table)} or a function of an array")
    return table[name]


def bootstrap_interval(
    values: Iterable[float] | np.ndarray | pd.Series,
    *,
    strata: Sequence[object] | np.ndarray | None = None,
    weights: Iterable[float] | np.ndarray | None = None,
    statistic: str | Callable[[np.ndarray], np.ndarray] = "mean",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """A statistic of the values with its stratified percentile-bootstrap interval.

    Args:
        values: One value per unit (a seed's or a run's result); non-finite ones are dropped.
        strata: Stratum of each unit (e.g. its task); units are resampled within their stratum.
            ``None``: one stratum.
        weights: Weight of each unit for ``statistic="mean"`` (a weighted mean ``sum(w x) / sum(w)``, e.g.
            a run's mean per trial weighted by its number of trials). Only with ``"mean"`` or ``"rmse"``.
        statistic: ``"mean"``, ``"median"``, ``"iqm"`` (interquartile mean), ``"rmse"`` (``sqrt(mean(x²))``)
            or a function mapping an array of shape ``(replicates, units)`` to one value per replicate.
        confidence: Confidence level.
        n_resamples: Bootstrap replicates.
        seed: Seed of the resampling.

    Returns:
        An :class:`Interval`; its ends are ``NaN`` when no stratum has two units.
    """
    check_confidence(confidence)
    arr = np.asarray(list(values) if not isinstance(values, (np.ndarray, pd.Series)) else values, dtype=float)
    labels = (
        np.zeros(arr.size, dtype=np.int64)
        if strata is None
        else np.asarray(pd.factorize(pd.Series(list(strata), dtype=object))[0])
    )
    if labels.size != arr.size:
        raise ValueError(f"strata: {labels.size} labels for {arr.size} values; give one stratum per value")
    w = (
        None
        if weights is None
        else np.asarray(list(weights) if not isinstance(weights, np.ndarray) else weights, float)
    )
    if w is not None and w.size != arr.size:
        raise ValueError(f"weights: {w.size} weights for {arr.size} values; give one weight per value")
    keep = np.isfinite(arr) & (np.isfinite(w) & (w > 0) if w is not None else True)
    arr, labels = arr[keep], labels[keep]
    w = w[keep] if w is not None else None
    if arr.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    if w is not None:
        if statistic not in ("mean", "rmse"):
            raise ValueError(f"weights: only the 'mean' and 'rmse' statistics take weights, not {statistic!r}")
        squared = statistic == "rmse"

        def fn(x: np.ndarray, ww: np.ndarray) -> np.ndarray:
            m = np.sum((x**2 if squared else x) * ww, axis=-1) / np.sum(ww, axis=-1)
            return np.sqrt(m) if squared else m

        estimate = float(fn(arr, w))
        if np.bincount(labels).max() < 2:
            return Interval(estimate, math.nan, math.nan, int(arr.size), confidence)
        idx = resample_indices(labels, n_resamples, seed)
        lo, hi = percentile_interval(fn(arr[idx], w[idx]), confidence)
        return Interval(estimate, lo, hi, int(arr.size), confidence)
    fn1 = _statistic(statistic)
    estimate = float(fn1(arr[None, :])[0])
    if np.bincount(labels).max() < 2:
        return Interval(estimate, math.nan, math.nan, int(arr.size), confidence)
    idx = resample_indices(labels, n_resamples, seed)
    lo, hi = percentile_interval(fn1(arr[idx]), confidence)
    return Interval(estimate, lo, hi, int(arr.size), confidence)


@dataclass(frozen=True)
class RMSEResult:
    """Root mean square error with a percentile-bootstrap interval of the RMSE itself.

    Attributes:
        rmse: ``sqrt(mean(e_i^2))``.
        std: Sample standard deviation of the errors ``e_i`` (``ddof=1``; ``NaN`` for one error).
        n: Number of errors.
        low: Lower end of the interval (``NaN`` with fewer than two resampling units).
        high: Upper end of the interval.
        confidence: Confidence level.
    """

    rmse: float
    std: float
    n: int
    low: float
    high: float
    confidence: float

    def __str__(self) -> str:
        return f"{self.rmse:.3f} (sd {self.std:.3f}) [{self.low:.3f}, {self.high:.3f}]"


def rmse_ci(
    errors: Iterable[float] | np.ndarray | pd.Series,
    confidence: float = 0.95,
    *,
    runs: Sequence[object] | np.ndarray | None = None,
    strata: Sequence[object] | np.ndarray | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
) -> RMSEResult:
    """RMSE of errors, ``sqrt(mean(e_i^2))``, with a percentile-bootstrap interval of the RMSE.

    The interval is the spread of the RMSE recomputed on resampled data, so it lies between 0 and the
    largest error. (``RMSE ± t * sd(e) / sqrt(n)`` is an interval for the mean error, not for the
    RMSE, and can fall below 0.) The resampling units are the errors, or whole runs when ``runs``
    names each error's run (the errors of one run are not independent); with ``strata`` (each error's
    task) units are resampled within their task.

    Args:
        errors: The errors (non-finite ones are dropped).
        confidence: Confidence level.
        runs: Run of each error (resampled as a whole), or ``None`` to resample single errors.
        strata: Stratum (task) of each error, or ``None`` for one stratum.
        n_resamples: Bootstrap replicates.
        seed: Seed of the resampling.

    Returns:
        An :class:`RMSEResult` (interval ``NaN`` with fewer than two units in every stratum).

    Raises:
        ValueError: If there is no finite error.
    """
    check_confidence(confidence)
    arr = np.asarray(list(errors) if not isinstance(errors, (np.ndarray, pd.Series)) else errors, dtype=float)
    frame = pd.DataFrame(
        {
            "e": arr,
            "run": np.arange(arr.size) if runs is None else list(runs),
            "stratum": 0 if strata is None else list(strata),
        }
    )
    frame = frame[np.isfinite(frame["e"].to_numpy())]
    n = len(frame)
    if n == 0:
        raise ValueError("errors: no finite value to compute an RMSE from; pass at least one error")
    rmse = float(math.sqrt(float(np.mean(frame["e"].to_numpy() ** 2))))
    std = float(frame["e"].std(ddof=1)) if n > 1 else math.nan
    per_run = (
        frame.assign(sq=frame["e"] ** 2)
        .groupby(["stratum", "run"], sort=False)
        .agg(ms=("sq", "mean"), count=("sq", "size"))
        .reset_index()
    )
    ci = bootstrap_interval(
        np.sqrt(per_run["ms"].to_numpy()),
        strata=per_run["stratum"].to_numpy(),
        weights=per_run["count"].to_numpy(dtype=float),
        statistic="rmse",
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
    )
    return RMSEResult(rmse, std, n, ci.low, ci.high, confidence)


# --------------------------------------------------------------------- random baseline, ties
@dataclass(frozen=True)
class BootstrapEstimate:
    """Bootstrap estimate of random search's best loss after ``n_draws`` evaluations.

    Attributes:
        mean: Mean over bootstrap replicates of the best of ``n_draws`` draws.
        std: Standard deviation over replicates (the spread of one random-search run).
        sem: Standard error of ``mean``.
        low: 2.5% quantile of the replicates.
        high: 97.5% quantile of the replicates.
        n_draws: Evaluations per replicate (its old name ``budget`` still reads, deprecated).
        n_bootstrap: Number of replicates.
        pool_size: Size of the pool the draws came from.
    """

    mean: float
    std: float
    sem: float
    low: float
    high: float
    n_draws: int
    n_bootstrap: int
    pool_size: int

    @property
    def budget(self) -> int:
        """Deprecated old name of :attr:`n_draws`."""
        return renamed_keyword("BootstrapEstimate", "budget", "n_draws", self.n_draws, None)


def bootstrap_best_of(
    pool: Iterable[float] | np.ndarray,
    n_draws: int | None = None,
    *,
    budget: int | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    direction: str = "minimize",
) -> BootstrapEstimate:
    """Estimate random search's best value after ``n_draws`` evaluations by bootstrap from a pool (draws with replacement).

    The pool holds many random configurations of one task, evaluated; random search's loss at a
    budget is estimated from bootstrap samples of them. :func:`~hpolab.analysis.metrics.table1` uses the exact
    :func:`expected_best_of` instead (``baseline="bootstrap"`` selects this estimate); the replicates'
    spread remains the spread of one random-search run. Here: ``idx = default_rng(seed).integers(0, n, size=(n_bootstrap,
    budget))``; each replicate is the best of ``pool[idx[r]]`` (draws with replacement); the estimate is the
    mean over replicates. Non-finite pool entries (failed trials) are dropped first.

    Args:
        pool: Values of random configurations (in the objective's own direction).
        n_draws: Number of evaluations of the random search being estimated.
        budget: Deprecated old name of ``n_draws``.
        n_bootstrap: Number of replicates.
        seed: Seed of the bootstrap's generator (a fixed seed makes the baseline reproducible).
        direction: ``"minimize"`` or ``"maximize"``.

    Returns:
        A :class:`BootstrapEstimate` in the objective's direction.

    Raises:
        ValueError: If the pool has no finite value or ``n_draws`` / ``n_bootstrap`` are not positive.
    """
    n_draws = renamed_keyword("bootstrap_best_of", "budget", "n_draws", budget, n_draws)
    if n_draws is None or n_draws < 1:
        raise ValueError(f"n_draws: {n_draws} must be a positive number of evaluations (draws from the pool)")
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap: {n_bootstrap} must be positive (e.g. 1000)")
    sign = Direction.coerce(direction).sign
    arr = finite_values(pool) * sign
    if arr.size == 0:
        raise ValueError("pool: no finite value; evaluate some random configurations first")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(n_bootstrap, int(n_draws)))
    best = arr[idx].min(axis=1) * sign
    std = float(best.std(ddof=1)) if n_bootstrap > 1 else math.nan
    lo, hi = (float(q) for q in np.quantile(best, [0.025, 0.975]))
    if sign < 0:
        lo, hi = min(lo, hi), max(lo, hi)
    return BootstrapEstimate(
        mean=float(best.mean()),
        std=std,
        sem=std / math.sqrt(n_bootstrap) if n_bootstrap > 1 else math.nan,
        low=lo,
        high=hi,
        n_draws=int(n_draws),
        n_bootstrap=int(n_bootstrap),
        pool_size=int(arr.size),
    )


def expected_best_of(
    pool: Iterable[float] | np.ndarray,
    n_draws: int | None = None,
    *,
    direction: str = "minimize",
    budget: int | None = None,
    replace: bool = False,
) -> float:
    """Exact expectation of random search's best of ``n_draws`` draws from a pool.

    With the pool's losses sorted ascending ``x_(1) <= ... <= x_(n)`` and ``S(k)`` the probability that every
    draw lands among the ``n - k + 1`` largest, ``E[min] = sum_k x_(k) * (S(k) - S(k + 1))``. Without
    replacement (the default: ``n_draws`` distinct configurations) ``S(k) = C(n - k + 1, b) / C(n, b)``, which
    is unbiased for ``b`` independent random configurations. With replacement (the expectation
    :func:`bootstrap_best_of` estimates, a paper's bootstrap baseline) ``S(k) = ((n - k + 1) / n)^b``: a finite
    pool repeats configurations and overstates random search's loss (:func:`pool_bias`).

    Args:
        pool: Values of random configurations (in the objective's own direction).
        n_draws: Evaluations of the random search.
        direction: ``"minimize"`` or ``"maximize"``.
        budget: Deprecated old name of ``n_draws``.
        replace: Draw with replacement (as a bootstrap does) or ``n_draws`` distinct configurations.

    Raises:
        ValueError: If the pool has no finite value, ``n_draws`` is not positive, or ``replace=False`` and the
            pool has fewer than ``n_draws`` values.
    """
    n_draws = renamed_keyword("expected_best_of", "budget", "n_draws", budget, n_draws)
    if n_draws is None or n_draws < 1:
        raise ValueError(f"n_draws: {n_draws} must be a positive number of evaluations (draws from the pool)")
    sign = Direction.coerce(direction).sign
    arr = np.sort(finite_values(pool) * sign)
    n = arr.size
    if n == 0:
        raise ValueError("pool: no finite value; evaluate some random configurations first")
    survival = _all_draws_among(np.arange(n, -1, -1), n, int(n_draws), replace)  # S(1), ..., S(n + 1) = 0
    return float(np.dot(arr, survival[:-1] - survival[1:])) * sign


def _all_draws_among(count: np.ndarray, n: int, n_draws: int, replace: bool) -> np.ndarray:
    """P(all ``n_draws`` draws from a pool of ``n`` land among ``count`` given values of it).

    With replacement ``(count / n)^b``; without, ``C(count, b) / C(n, b) = prod_i (count - i) / (n - i)``.
    """
    c = np.asarray(count, dtype=float)
    if replace:
        return (c / n) ** n_draws
    if n < n_draws:
        raise ValueError(
            f"pool: {n} finite value(s) for {n_draws} draws without replacement; evaluate at least {n_draws} random "
            "configurations of the task (a pool of 100 or more keeps the estimate close), or pass replace=True"
        )
    i = np.arange(n_draws, dtype=float)
    return np.prod(np.clip(c[..., None] - i, 0.0, None) / (n - i), axis=-1)


def pool_bias(pool_size: int, n_draws: int = 10, grid: int = 4000) -> float:
    """How far above 0.5 random search's own win probability lies when its baseline draws with replacement.

    For continuous losses, a run of ``n_draws`` independent random configurations scored by
    :func:`win_probability` with ``replace=True`` against a pool of ``pool_size`` configurations from the same
    distribution has this expected score minus 0.5 (a numerical integral over the run's best loss, exact in
    the pool); without replacement the bias is 0. For 10 draws: about 0.012 at a pool of 100, 0.006 at 200
    and 0.002 at 500.

    Args:
        pool_size: Configurations in the pool.
        n_draws: Evaluations of the random search.
        grid: Points of the integral's midpoint rule.

    Raises:
        ValueError: If ``pool_size`` or ``n_draws`` is not positive.
    """
    from scipy import stats

    if pool_size < 1 or n_draws < 1:
        raise ValueError(f"pool_size: {pool_size} and n_draws: {n_draws} must both be positive")
    u = (np.arange(grid) + 0.5) / grid  # the run's best as a quantile of the loss distribution
    density = n_draws * (1.0 - u) ** (n_draws - 1)
    k = np.arange(pool_size + 1)
    above = stats.binom.pmf(k[None, :], pool_size, 1.0 - u[:, None])  # pool values above the run's best
    win = above @ ((k / pool_size) ** n_draws)
    return float(np.mean(win * density)) - 0.5


def tie_tolerance(values: Iterable[float] | np.ndarray) -> float:
    """The resolution of an objective: the smallest gap between two distinct values it produced.

    Two results closer than this cannot be told apart by the objective (an error rate on 287 images moves in
    steps of 1/287), so a comparison counts them as a tie. Values that differ by less than a relative
    ``1e-9`` are one value (rounding noise). With fewer than two distinct values the resolution is that
    rounding floor.

    Args:
        values: Values the objective returned (a pool of random configurations and the runs' trials).

    Returns:
        A tolerance ``h >= 0``: results ``a`` and ``b`` tie when ``|a - b| < h``.
    """
    arr = np.unique(np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float))
    arr = arr[np.isfinite(arr)]
    scale = float(np.max(np.abs(arr))) if arr.size else 0.0
    floor = _REL_EPS * max(scale, 1.0)
    if arr.size < 2:
        return floor
    gaps = np.diff(arr)
    gaps = gaps[gaps > floor]
    return float(gaps.min()) if gaps.size else floor


def win_probability(
    losses: Iterable[float] | np.ndarray,
    pool: Iterable[float] | np.ndarray,
    n_draws: int | None = None,
    tolerance: float = 0.0,
    *,
    budget: int | None = None,
    replace: bool = False,
) -> np.ndarray:
    """Per loss: the chance it beats one random search of ``n_draws`` evaluations, a tie counting half.

    Random search's best loss ``R`` is that of ``n_draws`` distinct configurations of the pool (draws without
    replacement): ``P(R >= x) = C(#{pool >= x}, n_draws) / C(n, n_draws)`` exactly, an unbiased estimate of
    the same probability for independent random configurations. A loss ``L`` wins when ``R >= L + h``, loses
    when ``R <= L - h`` and ties otherwise (``h`` the tolerance, at least rounding noise), and scores
    ``P(win) + P(tie) / 2``: 0.5 on average for a method that is random search, above 0.5 for a better one.
    ``replace=True`` draws with replacement, ``(#{pool >= x} / n)^n_draws``, as a bootstrap does;
    that scores random search above 0.5 by :func:`pool_bias`.

    Args:
        losses: Losses (lower is better) of a method's runs; ``NaN`` gives ``NaN``.
        pool: Losses of random configurations.
        n_draws: Evaluations of the random search.
        budget: Deprecated old name of ``n_draws``.
        tolerance: Tie tolerance ``h`` (:func:`tie_tolerance`).
        replace: Draw from the pool with replacement.

    Returns:
        One probability in [0, 1] per loss.

    Raises:
        ValueError: If ``n_draws`` is not positive, the pool has no finite value, or it has fewer than
            ``n_draws`` values and ``replace`` is false.
    """
    n_draws = renamed_keyword("win_probability", "budget", "n_draws", budget, n_draws)
    if n_draws is None or n_draws < 1:
        raise ValueError(f"n_draws: {n_draws} must be a positive number of evaluations (draws from the pool)")
    x = np.sort(np.asarray(list(pool) if not isinstance(pool, np.ndarray) else pool, dtype=float))
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise ValueError("pool: no finite value; evaluate some random configurations first")
    ls = np.asarray(list(losses) if not isinstance(losses, np.ndarray) else losses, dtype=float)
    h = max(float(tolerance), _REL_EPS * max(float(np.max(np.abs(x))), 1.0))
    n = x.size
    at_least = n - np.searchsorted(x, ls + h, side="left")  # pool values >= L + h
    above = n - np.searchsorted(x, ls - h, side="right")  # pool values > L - h
    win = _all_draws_among(at_least, n, int(n_draws), replace)
    lose = 1.0 - _all_draws_among(above, n, int(n_draws), replace)
    out = win + 0.5 * (1.0 - win - lose)
    return np.where(np.isfinite(ls), np.clip(out, 0.0, 1.0), np.nan)


# ------------------------------------------------------------------------------- tests
@dataclass(frozen=True)
class PairedTest:
    """A two-sided test of one method against a reference, with its Holm-adjusted p-value.

    Attributes:
        name: The method.
        n: Units the test used (runs with a non-tied result).
        statistic: The test statistic.
        p_value: Unadjusted p-value.
        p_holm: Holm-adjusted p-value over the report's family of tests.
    """

    name: str
    n: int
    statistic: float
    p_value: float
    p_holm: float = math.nan


def smallest_p_value(n: int) -> float:
    """The smallest two-sided p-value the exact Wilcoxon signed-rank test can give with ``n`` non-zero units."""
    return 1.0 if n < 1 else min(1.0, 2.0 / 2.0**n)


def wilcoxon_against_half(scores: Iterable[float] | np.ndarray, name: str = "") -> PairedTest:
    """Wilcoxon signed-rank test of win probabilities against 0.5 (two-sided).

    For a method that is random search, a run's :func:`win_probability` is spread symmetrically around 0.5,
    so ``scores - 0.5`` is a paired difference with median 0 under the null hypothesis. Exact ties (0.5)
    are left out. All runs of a task share that task's pool, so the pool's own sampling error moves them
    together; :func:`wilcoxon_paired` against random search's runs on the same pool cancels it.

    Args:
        scores: One win probability per run.
        name: The method's name, kept in the result.

    Returns:
        A :class:`PairedTest` (``p_value`` 1 when no run differs from 0.5).
    """
    d = np.asarray(list(scores) if not isinstance(scores, np.ndarray) else scores, dtype=float) - 0.5
    return _signed_rank(d, name)


def wilcoxon_paired(
    scores: Iterable[float] | np.ndarray, reference: Iterable[float] | np.ndarray, name: str = ""
) -> PairedTest:
    """Wilcoxon signed-rank test of paired scores against a reference's (two-sided).

    ``scores[i]`` and ``reference[i]`` belong to one unit (a task and seed); the test is of the differences'
    median against 0, exact ties left out. Used with both sides' :func:`win_probability` against one pool,
    the pool's sampling error, common to both, cancels out of the differences.

    Args:
        scores: One score per unit for the method.
        reference: The reference's score on the same units, in the same order.
        name: The method's name, kept in the result.

    Returns:
        A :class:`PairedTest` (``p_value`` 1 when no pair differs).

    Raises:
        ValueError: If the two have different lengths.
    """
    a = np.asarray(list(scores) if not isinstance(scores, np.ndarray) else scores, dtype=float)
    b = np.asarray(list(reference) if not isinstance(reference, np.ndarray) else reference, dtype=float)
    if a.shape != b.shape:
        raise ValueError(
            f"scores: {a.size} value(s) against {b.size} reference value(s); pair them one to one (same task and seed)"
        )
    return _signed_rank(a - b, name)


def _signed_rank(d: np.ndarray, name: str) -> PairedTest:
    """The two-sided Wilcoxon signed-rank test of differences ``d`` against 0, exact zeros left out."""
    from scipy import stats

    d = d[np.isfinite(d) & (np.abs(d) > 1e-12)]
    if d.size == 0:
        return PairedTest(name, 0, math.nan, 1.0)
    res = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return PairedTest(name, int(d.size), float(res.statistic), float(res.pvalue))


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values for the family-wise error rate.

    The ``i``-th smallest of ``m`` p-values becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``; reject where
    the adjusted value is at most alpha. ``NaN`` p-values are left out of the family and stay ``NaN``.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, math.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out


# ------------------------------------------------------------------------------- ranks
def rank_matrix(task_table: pd.DataFrame) -> pd.DataFrame:
    """Rank of every method (column) on every task (row), 1 = lowest loss; ties share their average rank.

    A missing entry (``NaN``) is ranked last on that task (tied with other missing ones).
    """
    from scipy import stats

    values = task_table.to_numpy(dtype=float)
    ranks = np.empty_like(values)
    for i, row in enumerate(values):
        filled = np.where(np.isfinite(row), row, np.inf)
        ranks[i] = stats.rankdata(filled, method="average")
    return pd.DataFrame(ranks, index=task_table.index, columns=task_table.columns)


def mean_rank(task_table: pd.DataFrame, confidence: float = 0.95, *, seed: int = 0) -> pd.DataFrame:
    """Mean rank of each method over tasks (ties averaged), with a percentile-bootstrap interval over tasks.

    The interval resamples the tasks (rows), so it lies in ``[1, k]``; :func:`~hpolab.analysis.metrics.table1`
    resamples seeds instead where they are known.

    Args:
        task_table: Losses, one row per task and one column per method.
        confidence: Confidence level.
        seed: Seed of the resampling.

    Returns:
        Index method; columns ``mean_rank``, ``low``, ``high``, ``n_tasks``.
    """
    ranks = rank_matrix(task_table)
    rows = {}
    for col in ranks.columns:
        ci = bootstrap_interval(ranks[col].to_numpy(), confidence=confidence, n_resamples=1000, seed=seed)
        rows[col] = {"mean_rank": ci.mean, "low": ci.low, "high": ci.high, "n_tasks": ci.n}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mean_rank", "low", "high", "n_tasks"])


@dataclass(frozen=True)
class FriedmanNemenyi:
    """Friedman's test of equal mean ranks and Nemenyi's critical difference over tasks (Demšar, 2006).

    Attributes:
        mean_ranks: Mean rank of each method over tasks (1 = best), sorted best first.
        n_tasks: Tasks ranked.
        statistic: Friedman's chi-square (``NaN`` with fewer than three methods).
        p_value: Its p-value (``NaN`` likewise).
        critical_difference: Nemenyi's ``q_alpha(k) * sqrt(k (k + 1) / (6 N))``: mean ranks closer than
            this do not differ at ``alpha``.
        alpha: Significance level.
        cliques: Groups of methods (best first) whose mean ranks lie within one critical difference of each
            other, maximal ones only; every method is in at least one.
    """

    mean_ranks: pd.Series
    n_tasks: int
    statistic: float
    p_value: float
    critical_difference: float
    alpha: float = ALPHA
    cliques: list[list[str]] = field(default_factory=list)


def friedman_nemenyi(task_table: pd.DataFrame, alpha: float = ALPHA) -> FriedmanNemenyi:
    """Friedman's test and Nemenyi's critical difference on a task-by-method table of losses.

    Args:
        task_table: Losses (lower is better), one row per task and one column per method; a row with a
            missing value is left out (every task must rank every method).
        alpha: Significance level of the critical difference.

    Returns:
        A :class:`FriedmanNemenyi`.

    Raises:
        ValueError: With fewer than two methods or two complete tasks.
    """
    from scipy import stats

    table = task_table.dropna(how="any")
    k, n = table.shape[1], table.shape[0]
    if k < 2 or n < 2:
        raise ValueError(f"task_table: {n} complete task(s) and {k} method(s); a critical difference needs two of each")
    ranks = rank_matrix(table)
    mean_ranks = ranks.mean(axis=0).sort_values(kind="stable")
    statistic, p_value = math.nan, math.nan
    if k >= 3:
        res = stats.friedmanchisquare(*(table[c].to_numpy(dtype=float) for c in table.columns))
        statistic, p_value = float(res.statistic), float(res.pvalue)
        if not math.isfinite(p_value):  # every task ties every method
            statistic, p_value = 0.0, 1.0
    q = float(stats.studentized_range.ppf(1.0 - alpha, k, np.inf)) / math.sqrt(2.0)
    cd = q * math.sqrt(k * (k + 1) / (6.0 * n))
    names = [str(c) for c in mean_ranks.index]
    values = mean_ranks.to_numpy(dtype=float)
    cliques: list[list[str]] = []
    for i in range(k):
        j = i
        while j + 1 < k and values[j + 1] - values[i] < cd:
            j += 1
        group = names[i : j + 1]
        if not any(set(group) <= set(c) for c in cliques):
            cliques.append(group)
    return FriedmanNemenyi(mean_ranks, n, statistic, p_value, cd, alpha, cliques)
