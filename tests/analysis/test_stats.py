"""Intervals and tests of hpolab.analysis.stats against cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hpolab.analysis import stats as S


def test_resampling_stays_inside_each_stratum() -> None:
    strata = ["a", "a", "b", "b", "b", "c"]
    idx = S.resample_indices(strata, 500, seed=3)
    assert idx.shape == (500, 6)
    assert set(np.unique(idx[:, :2])) == {0, 1}
    assert set(np.unique(idx[:, 2:5])) == {2, 3, 4}
    assert set(np.unique(idx[:, 5])) == {5}
    with pytest.raises(ValueError, match="n_resamples"):
        S.resample_indices(strata, 0)


def test_bootstrap_interval_of_two_seeds_stays_in_the_data_range() -> None:
    # two seeds: the resampled means are 0, 0.5 and 1 (probabilities 1/4, 1/2, 1/4), so the 95% interval is [0, 1];
    # a Student-t interval is 0.5 ± 12.706 * 0.5 = [-5.85, 6.85]
    ci = S.bootstrap_interval([0.0, 1.0], n_resamples=4000)
    assert ci.estimate == 0.5 and ci.n == 2
    assert ci.low == 0.0 and ci.high == 1.0
    # one value per stratum: nothing to resample, no interval
    one = S.bootstrap_interval([0.2, 0.4], strata=["a", "b"])
    assert one.estimate == pytest.approx(0.3) and math.isnan(one.low) and math.isnan(one.high)
    assert math.isnan(S.bootstrap_interval([]).estimate)
    with pytest.raises(ValueError, match="strata"):
        S.bootstrap_interval([1.0, 2.0], strata=["a"])
    with pytest.raises(ValueError, match="statistic"):
        S.bootstrap_interval([1.0, 2.0], statistic="mode")
    with pytest.raises(ValueError, match="confidence"):
        S.bootstrap_interval([1.0, 2.0], confidence=95)


def test_stratified_task_mean_weighs_tasks_equally() -> None:
    values = np.array([0.0, 0.0, 0.0, 1.0])  # task a has three runs at 0, task b one at 1
    strata = ["a", "a", "a", "b"]
    assert S.stratum_means(values[None, :], strata)[0] == pytest.approx(0.5)
    ci = S.bootstrap_interval(values, strata=strata, statistic=lambda x: S.stratum_means(x, strata))
    assert ci.estimate == 0.5 and ci.low == ci.high == 0.5  # no seed moves either task's mean


def test_weighted_mean_and_iqm() -> None:
    # runs with per-trial means 1 and 3 over 1 and 3 trials: (1 + 9) / 4 = 2.5
    assert S.bootstrap_interval([1.0, 3.0], weights=[1, 3]).estimate == pytest.approx(2.5)
    # IQM of 1..8: the middle 50% (3, 4, 5, 6) -> 4.5
    assert float(S.interquartile_mean(np.arange(1.0, 9.0))) == pytest.approx(4.5)
    ci = S.bootstrap_interval(np.arange(1.0, 9.0), statistic="iqm")
    assert 1.0 <= ci.low <= 4.5 <= ci.high <= 8.0
    with pytest.raises(ValueError, match="weights"):
        S.bootstrap_interval([1.0, 3.0], weights=[1, 3], statistic="median")


def test_tie_tolerance_is_the_objectives_step() -> None:
    errors = np.arange(0, 20) / 287.0
    assert S.tie_tolerance(np.concatenate([errors, errors + 1e-15])) == pytest.approx(1 / 287)
    assert S.tie_tolerance([0.25]) == pytest.approx(1e-9)


def test_win_probability_hand_computed_and_fair_for_random_search() -> None:
    # pool {1, 2, 3}, budget 2: P(R = 1) = 5/9, P(R = 2) = 3/9, P(R = 3) = 1/9.
    # L = 2: win P(R = 3) = 1/9, tie P(R = 2) = 3/9 -> 1/9 + 1.5/9 = 2.5/9; L = 1: 4/9 + 2.5/9; L = 3: 0.5/9.
    u = S.win_probability([1.0, 2.0, 3.0, np.nan], [3.0, 1.0, 2.0], 2)
    np.testing.assert_allclose(u[:3], [6.5 / 9, 2.5 / 9, 0.5 / 9])
    assert math.isnan(u[3])
    # a method that is random search scores 0.5 on average: 5/9 * 6.5/9 + 3/9 * 2.5/9 + 1/9 * 0.5/9 = 0.5
    assert float(np.dot([5 / 9, 3 / 9, 1 / 9], u[:3])) == pytest.approx(0.5)
    # with a tolerance of 1, L = 2 ties every value of R: 0.5
    assert S.win_probability([2.0], [1.0, 2.0, 3.0], 2, tolerance=1.5)[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="pool"):
        S.win_probability([1.0], [np.nan], 2)


def test_holm_hand_computed() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01 = 0.03, 2 * 0.03 = 0.06, max(0.06, 1 * 0.04) = 0.06
    np.testing.assert_allclose(S.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    adj = S.holm([0.5, np.nan, 0.2])
    assert math.isnan(adj[1]) and adj[0] == pytest.approx(0.5) and adj[2] == pytest.approx(0.4)
    np.testing.assert_allclose(S.holm([0.9, 0.8]), [1.0, 1.0])  # 2 * 0.8 caps at 1


def test_wilcoxon_against_half() -> None:
    assert S.wilcoxon_against_half([0.5, 0.5]).p_value == 1.0
    # six runs all above 0.5: exact two-sided p = 2 / 2^6
    t = S.wilcoxon_against_half([0.9, 0.8, 0.7, 0.95, 0.6, 0.85], "m")
    assert t.n == 6 and t.p_value == pytest.approx(2 / 64) and t.name == "m"
    assert S.smallest_p_value(6) == pytest.approx(2 / 64)
    assert S.smallest_p_value(0) == 1.0


def test_friedman_nemenyi_critical_difference() -> None:
    # Demsar (2006), Table 5: q_0.05 = 2.343 for k = 3; CD = 2.343 * sqrt(3 * 4 / (6 * 10)) = 1.048
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": rng.uniform(0, 1, 10), "b": rng.uniform(1, 2, 10), "c": rng.uniform(5, 6, 10)})
    fn = S.friedman_nemenyi(table)
    assert fn.critical_difference == pytest.approx(2.343 * math.sqrt(12 / 60), abs=2e-3)
    assert list(fn.mean_ranks.index) == ["a", "b", "c"] and fn.mean_ranks["a"] == 1.0
    assert fn.p_value < 0.001
    # a, b and c are 1 apart: a-b and b-c within the CD (1.048), a-c not
    assert fn.cliques == [["a", "b"], ["b", "c"]]
    with pytest.raises(ValueError, match="two of each"):
        S.friedman_nemenyi(table.iloc[:1])
