"""Intervals, tests, ranks and the random baseline of hpolab.analysis.stats against cases computed by hand."""

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


def test_win_probability_without_replacement_hand_computed() -> None:
    # pool {1, 2, 3}, 2 distinct draws: subsets {1,2}, {1,3}, {2,3} -> P(R = 1) = 2/3, P(R = 2) = 1/3.
    # L = 1: win P(R = 2) = 1/3, tie P(R = 1) = 2/3 -> 2/3; L = 2: tie 1/3 -> 1/6; L = 3: 0.
    u = S.win_probability([1.0, 2.0, 3.0], [3.0, 1.0, 2.0], 2)
    np.testing.assert_allclose(u, [2 / 3, 1 / 6, 0.0])
    # random search that is the pool's own subsets scores exactly 0.5: 2/3 * 2/3 + 1/3 * 1/6
    assert 2 / 3 * u[0] + 1 / 3 * u[1] == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"pool: 3 finite value\(s\) for 4 draws without replacement.*replace=True"):
        S.win_probability([1.0], [1.0, 2.0, 3.0], 4)
    assert S.win_probability([1.0], [1.0, 2.0, 3.0], 4, replace=True)[0] > 0.5


def test_random_search_scores_one_half_without_replacement_and_more_with_it() -> None:
    # every 3-subset of a population of 8 (ties included) is one random search of 3 evaluations against the
    # population as its pool: without replacement they average exactly 0.5, with replacement above it
    import itertools

    pool = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    bests = [float(pool[list(c)].min()) for c in itertools.combinations(range(8), 3)]
    assert float(np.mean(S.win_probability(bests, pool, 3))) == pytest.approx(0.5)
    assert float(np.mean(S.win_probability(bests, pool, 3, replace=True))) > 0.54
    assert S.expected_best_of(pool, 3) == pytest.approx(np.mean(bests))
    assert S.expected_best_of(pool, 3, replace=True) > np.mean(bests)  # with replacement: repeats make it worse
    assert S.expected_best_of(-pool, 3, direction="maximize") == pytest.approx(-np.mean(bests))


def test_pool_bias_matches_a_simulation_and_shrinks_with_the_pool() -> None:
    rng = np.random.default_rng(0)
    scores = [
        S.win_probability(rng.uniform(0, 1, (1, 10)).min(axis=1), rng.uniform(0, 1, 20), 10, replace=True)[0]
        for _ in range(20000)
    ]
    assert float(np.mean(scores)) - 0.5 == pytest.approx(S.pool_bias(20), abs=0.006)
    biases = [S.pool_bias(m) for m in (20, 100, 200, 500)]
    assert biases == sorted(biases, reverse=True) and biases[1] == pytest.approx(0.0117, abs=2e-4)
    with pytest.raises(ValueError, match="pool_size: 0"):
        S.pool_bias(0)


def test_win_probability_with_replacement_hand_computed_and_fair_for_random_search() -> None:
    # pool {1, 2, 3}, budget 2: P(R = 1) = 5/9, P(R = 2) = 3/9, P(R = 3) = 1/9.
    # L = 2: win P(R = 3) = 1/9, tie P(R = 2) = 3/9 -> 1/9 + 1.5/9 = 2.5/9; L = 1: 4/9 + 2.5/9; L = 3: 0.5/9.
    u = S.win_probability([1.0, 2.0, 3.0, np.nan], [3.0, 1.0, 2.0], 2, replace=True)
    np.testing.assert_allclose(u[:3], [6.5 / 9, 2.5 / 9, 0.5 / 9])
    assert math.isnan(u[3])
    # a method that is random search scores 0.5 on average: 5/9 * 6.5/9 + 3/9 * 2.5/9 + 1/9 * 0.5/9 = 0.5
    assert float(np.dot([5 / 9, 3 / 9, 1 / 9], u[:3])) == pytest.approx(0.5)
    # with a tolerance of 1, L = 2 ties every value of R: 0.5
    assert S.win_probability([2.0], [1.0, 2.0, 3.0], 2, tolerance=1.5, replace=True)[0] == pytest.approx(0.5)
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


def test_wilcoxon_paired_tests_the_differences() -> None:
    t = S.wilcoxon_paired([0.9, 0.8, 0.7, 0.95, 0.6, 0.85, 0.5], [0.1, 0.2, 0.3, 0.05, 0.4, 0.15, 0.5], "m")
    assert t.n == 6 and t.p_value == pytest.approx(2 / 64) and t.name == "m"  # the tied pair is left out
    assert S.wilcoxon_paired([0.3, 0.4], [0.3, 0.4]).p_value == 1.0
    with pytest.raises(ValueError, match="2 value\\(s\\) against 3 reference"):
        S.wilcoxon_paired([0.1, 0.2], [0.1, 0.2, 0.3])


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


# ------------------------------------------------------------------ bootstrap baseline
def test_bootstrap_fixed_seed_hand_computed() -> None:
    # default_rng(0).integers(0, 3, size=(4, 2)) == [[2, 1], [1, 0], [0, 0], [0, 0]]
    # pool [3, 1, 2]: replicates min(2, 1) = 1, min(1, 3) = 1, min(3, 3) = 3, min(3, 3) = 3 -> mean 2.0
    est = S.bootstrap_best_of([3.0, 1.0, 2.0], 2, n_bootstrap=4, seed=0)
    assert est.mean == pytest.approx(2.0)
    assert est.std == pytest.approx(np.std([1, 1, 3, 3], ddof=1))
    assert est.pool_size == 3 and est.n_draws == 2
    again = S.bootstrap_best_of([3.0, 1.0, 2.0], 2, n_bootstrap=4, seed=0)
    assert again == est
    # maximize: the best is the largest of each replicate: max(2, 1) = 2, max(1, 3) = 3, 3, 3 -> 2.75
    assert S.bootstrap_best_of([3.0, 1.0, 2.0], 2, n_bootstrap=4, seed=0, direction="maximize").mean == pytest.approx(
        2.75
    )


def test_bootstrap_converges_to_exact_expectation() -> None:
    # E[min of 2 draws from {1, 2, 3}] = 1 * 5/9 + 2 * 3/9 + 3 * 1/9 = 14/9
    assert S.expected_best_of([1.0, 2.0, 3.0], 2, replace=True) == pytest.approx(14 / 9)
    est = S.bootstrap_best_of([1.0, 2.0, 3.0, float("nan")], 2, n_bootstrap=20000, seed=1)
    assert est.pool_size == 3
    assert est.mean == pytest.approx(14 / 9, abs=4 * est.sem)


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="n_draws"):
        S.bootstrap_best_of([1.0], 0)
    with pytest.raises(ValueError, match="pool"):
        S.bootstrap_best_of([float("nan")], 1)


# ------------------------------------------------------------------ ranks
def test_rank_matrix_ties_and_missing() -> None:
    table = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, float("nan")], "c": [3.0, 1.0]}, index=["x", "y"])
    r = S.rank_matrix(table)
    # x: a and b tie for 1st -> 1.5 each, c 3rd; y: c 1, a 2, b missing -> last (3)
    assert r.loc["x"].tolist() == [1.5, 1.5, 3.0]
    assert r.loc["y"].tolist() == [2.0, 3.0, 1.0]
    mr = S.mean_rank(table)
    assert mr.loc["a", "mean_rank"] == pytest.approx(1.75)
    assert mr.loc["b", "mean_rank"] == pytest.approx(2.25)
    assert mr.loc["c", "mean_rank"] == pytest.approx(2.0)
    # interval for a: bootstrap over the tasks' ranks (1.5, 2): means 1.5, 1.75, 2 -> [1.5, 2], inside [1, 3]
    # (a Student-t interval, 1.75 ± 12.706 * 0.25, reaches 4.93)
    assert (mr.loc["a", "low"], mr.loc["a", "high"]) == (1.5, 2.0)


# ------------------------------------------------------------------ RMSE, means
def test_rmse_ci_hand_computed() -> None:
    # accuracies 0.9, 0.8, 0.7, 0.6 -> errors 0.1 .. 0.4; mean square 0.075; RMSE sqrt(0.075) = 0.273861
    # sd (ddof 1) = sqrt(0.05 / 3) = 0.129099. The interval is the bootstrap of the RMSE: between the RMSEs of the
    # smallest and largest resamples, 0.1 and 0.4.
    res = S.rmse_ci(1 - np.array([0.9, 0.8, 0.7, 0.6]))
    assert res.rmse == pytest.approx(0.273861, abs=1e-6)
    assert res.std == pytest.approx(0.129099, abs=1e-6)
    assert 0.1 <= res.low < res.rmse < res.high <= 0.4
    assert res.n == 4
    # errors near 0: RMSE ± t * sd / sqrt(n) = 0.150 ± 3.182 * 0.148 / 2 reaches -0.086; the RMSE's bootstrap cannot
    near_zero = S.rmse_ci([0.0, 0.0, 0.01, 0.3])
    assert near_zero.rmse == pytest.approx(math.sqrt((0.0001 + 0.09) / 4))
    assert 0.0 <= near_zero.low < near_zero.rmse < near_zero.high <= 0.3
    # whole runs resampled: run a errors (0.4, 0.2), mean square 0.1; run b (0.1, 0.3), 0.05 -> resampled RMSEs
    # sqrt(0.1), sqrt(0.075), sqrt(0.05)
    runs = S.rmse_ci([0.4, 0.2, 0.1, 0.3], runs=["a", "a", "b", "b"])
    assert (runs.low, runs.high) == pytest.approx((math.sqrt(0.05), math.sqrt(0.1)))
    one = S.rmse_ci([0.5])
    assert one.rmse == 0.5 and math.isnan(one.low)
    with pytest.raises(ValueError, match="errors"):
        S.rmse_ci([])


def test_mean_ci_hand_computed() -> None:
    # values 1, 2, 3: mean 2, sd 1, sem 1/sqrt(3), t(0.975, 2) = 4.302653
    ci = S.mean_ci([1.0, 2.0, 3.0, float("nan")])
    assert ci.mean == 2.0 and ci.n == 3
    assert ci.half_width == pytest.approx(4.302653 / math.sqrt(3), abs=1e-5)
    assert math.isnan(S.mean_ci([4.0]).low)
    with pytest.raises(ValueError, match="confidence"):
        S.mean_ci([1.0, 2.0], confidence=95)


def test_the_statistics_live_in_stats_and_stay_importable_from_the_package() -> None:
    from hpolab import analysis
    from hpolab.analysis import metrics as M

    moved = ["BootstrapEstimate", "MeanCI", "RMSEResult", "bootstrap_best_of", "expected_best_of"]
    moved += ["mean_ci", "mean_rank", "rank_matrix", "rmse_ci"]
    for name in moved:
        assert getattr(analysis, name) is getattr(S, name) and name in S.__all__
        assert name not in M.__all__ and not hasattr(M, name), name
