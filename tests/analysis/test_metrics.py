"""Every metric against small cases computed by hand (the arithmetic is written out in comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hpolab.analysis import metrics as M


def _runs(spec: dict[tuple[str, str, int], list[float]], direction: str = "minimize") -> pd.DataFrame:
    rows = []
    for (opt, obj, seed), values in spec.items():
        for i, v in enumerate(values):
            rows.append(
                {"optimizer": opt, "objective": obj, "seed": seed, "trial": i, "value": v, "direction": direction}
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ Table 1 (seed 002)
# Random's pool on each task is a constant, so its bootstrap loss is exactly that constant (dyadic
# values keep the float arithmetic exact):
#   t1: random 0.25  A 0.125  B 0.25        t2: random 0.5  A 0.625  B 0.375     t3: random 0.5  A 0.25  B 0.25
TABLE1_RUNS = {
    # budget 2: A's third trial on t1 (0.0625) must not count
    ("A", "t1", 0): [0.375, 0.125, 0.0625],
    ("B", "t1", 0): [0.25, 0.875],
    # A on t2 has two seeds: best-within-2 is 0.5 and 0.75, mean 0.625
    ("A", "t2", 0): [0.75, 0.5],
    ("A", "t2", 1): [0.75, 0.75],
    ("B", "t2", 0): [0.375, float("nan")],  # a failed trial is ignored
    ("A", "t3", 0): [0.25, 0.375],
    ("B", "t3", 0): [0.5, 0.25],
    ("random", "t1", 0): [0.25, 0.25, 0.25],
    ("random", "t2", 0): [0.5, 0.5],
    ("random", "t3", 0): [0.5, 0.5, 0.5, 0.5],
}


def test_table1_tasks_hand_computed() -> None:
    tasks = M.table1_tasks(_runs(TABLE1_RUNS), budget=2, n_bootstrap=50, seed=0)
    by = tasks.set_index(["objective", "optimizer"])
    assert by.loc[("t1", "A"), "loss"] == 0.125
    assert by.loc[("t2", "A"), "loss"] == 0.625
    assert by.loc[("t2", "random"), "loss"] == 0.5
    # change = (random - loss) / |random|
    assert by.loc[("t1", "A"), "change"] == pytest.approx(0.5)  # (0.25 - 0.125) / 0.25
    assert by.loc[("t2", "A"), "change"] == pytest.approx(-0.25)  # (0.5 - 0.625) / 0.5
    assert by.loc[("t2", "B"), "change"] == pytest.approx(0.25)  # (0.5 - 0.375) / 0.5
    assert by.loc[("t1", "B"), "change"] == 0.0  # a tie
    assert not by.loc[("t1", "B"), "beats_random"]  # a tie does not beat random
    # ranks with ties averaged: t1: A 1, B/random tie 2.5; t2: B 1, random 2, A 3; t3: A/B tie 1.5, random 3
    assert by.loc[("t1", "B"), "rank"] == 2.5
    assert by.loc[("t1", "random"), "rank"] == 2.5
    assert by.loc[("t2", "A"), "rank"] == 3.0
    assert by.loc[("t3", "A"), "rank"] == 1.5


def test_table1_hand_computed() -> None:
    t = M.table1(_runs(TABLE1_RUNS), budget=2, n_bootstrap=50, seed=0)
    # A beats random on t1 and t3: 2 of 3 tasks
    assert t.loc["A", "beats_random"] == pytest.approx(200 / 3)
    assert t.loc["B", "beats_random"] == pytest.approx(200 / 3)
    # A's changes: +50%, -25%, +50% -> median 50%, mean 25%
    assert t.loc["A", "median_change"] == pytest.approx(50.0)
    assert t.loc["A", "mean_change"] == pytest.approx(25.0)
    # B's changes: 0%, +25%, +50% -> median 25%, mean 25%
    assert t.loc["B", "median_change"] == pytest.approx(25.0)
    assert t.loc["B", "mean_change"] == pytest.approx(25.0)
    # mean ranks: A (1 + 3 + 1.5) / 3, B (2.5 + 1 + 1.5) / 3, random (2.5 + 2 + 3) / 3
    assert t.loc["A", "mean_rank"] == pytest.approx(5.5 / 3)
    assert t.loc["B", "mean_rank"] == pytest.approx(5.0 / 3)
    assert t.loc["random", "mean_rank"] == pytest.approx(2.5)
    assert math.isnan(t.loc["random", "beats_random"])
    assert t.loc["random", "mean_change"] == 0.0
    # t interval of A's mean change: sd of (50, -25, 50) = sqrt(1875), sem = 25, t(0.975, 2) = 4.302653
    assert t.loc["A", "mean_change_low"] == pytest.approx(25 - 4.302653 * 25, abs=1e-4)
    assert t.loc["A", "mean_change_high"] == pytest.approx(25 + 4.302653 * 25, abs=1e-4)
    # sorted by mean rank
    assert list(t.index) == ["B", "A", "random"]


def test_table1_maximize_uses_losses() -> None:
    # accuracy (maximize): random 0.8, A 0.9 -> losses -0.8 and -0.9: A beats random, change +12.5%
    df = _runs({("A", "t", 0): [0.9], ("random", "t", 0): [0.8, 0.8]}, direction="maximize")
    t = M.table1(df, budget=1, n_bootstrap=10)
    assert t.loc["A", "beats_random"] == 100.0
    assert t.loc["A", "mean_change"] == pytest.approx(12.5)  # (-0.8 - -0.9) / 0.8


def test_table1_without_random_pool_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="random"):
        M.table1(_runs({("A", "t", 0): [1.0]}), budget=1)


def test_relative_change_edge_cases() -> None:
    assert M.relative_change(0.1, 0.2) == pytest.approx(0.5)
    assert M.relative_change(0.0, 0.0) == 0.0
    assert math.isnan(M.relative_change(0.1, 0.0))
    assert math.isnan(M.relative_change(float("nan"), 0.2))


# ------------------------------------------------------------------ bootstrap baseline
def test_bootstrap_fixed_seed_hand_computed() -> None:
    # default_rng(0).integers(0, 3, size=(4, 2)) == [[2, 1], [1, 0], [0, 0], [0, 0]]
    # pool [3, 1, 2]: replicates min(2, 1) = 1, min(1, 3) = 1, min(3, 3) = 3, min(3, 3) = 3 -> mean 2.0
    est = M.bootstrap_best_of([3.0, 1.0, 2.0], 2, n_bootstrap=4, seed=0)
    assert est.mean == pytest.approx(2.0)
    assert est.std == pytest.approx(np.std([1, 1, 3, 3], ddof=1))
    assert est.pool_size == 3 and est.budget == 2
    again = M.bootstrap_best_of([3.0, 1.0, 2.0], 2, n_bootstrap=4, seed=0)
    assert again == est
    # maximize: the best is the largest of each replicate: max(2, 1) = 2, max(1, 3) = 3, 3, 3 -> 2.75
    assert M.bootstrap_best_of([3.0, 1.0, 2.0], 2, n_bootstrap=4, seed=0, direction="maximize").mean == pytest.approx(
        2.75
    )


def test_bootstrap_converges_to_exact_expectation() -> None:
    # E[min of 2 draws from {1, 2, 3}] = 1 * 5/9 + 2 * 3/9 + 3 * 1/9 = 14/9
    assert M.expected_best_of([1.0, 2.0, 3.0], 2) == pytest.approx(14 / 9)
    est = M.bootstrap_best_of([1.0, 2.0, 3.0, float("nan")], 2, n_bootstrap=20000, seed=1)
    assert est.pool_size == 3
    assert est.mean == pytest.approx(14 / 9, abs=4 * est.sem)


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="budget"):
        M.bootstrap_best_of([1.0], 0)
    with pytest.raises(ValueError, match="pool"):
        M.bootstrap_best_of([float("nan")], 1)


# ------------------------------------------------------------------ ranks
def test_rank_matrix_ties_and_missing() -> None:
    table = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, float("nan")], "c": [3.0, 1.0]}, index=["x", "y"])
    r = M.rank_matrix(table)
    # x: a and b tie for 1st -> 1.5 each, c 3rd; y: c 1, a 2, b missing -> last (3)
    assert r.loc["x"].tolist() == [1.5, 1.5, 3.0]
    assert r.loc["y"].tolist() == [2.0, 3.0, 1.0]
    mr = M.mean_rank(table)
    assert mr.loc["a", "mean_rank"] == pytest.approx(1.75)
    assert mr.loc["b", "mean_rank"] == pytest.approx(2.25)
    assert mr.loc["c", "mean_rank"] == pytest.approx(2.0)
    # interval for a: ranks (1.5, 2): sem = 0.25, t(0.975, 1) = 12.7062
    assert mr.loc["a", "high"] == pytest.approx(1.75 + 12.7062 * 0.25, abs=1e-3)


def test_rank_over_trials() -> None:
    df = _runs({("A", "t", 0): [5.0, 1.0], ("B", "t", 0): [3.0, 2.0, 0.5]})
    r = M.rank_over_trials(df).set_index(["optimizer", "trial"])
    assert r.loc[("A", 0), "mean_rank"] == 2.0  # 5 vs 3
    assert r.loc[("A", 1), "mean_rank"] == 1.0  # 1 vs 2
    assert r.loc[("A", 2), "mean_rank"] == 2.0  # A's 1 carried forward vs 0.5


# ------------------------------------------------------------------ RMSE (seed 000)
def test_rmse_ci_hand_computed() -> None:
    # accuracies 0.9, 0.8, 0.7, 0.6 -> errors 0.1 .. 0.4; mean square 0.075; RMSE sqrt(0.075) = 0.273861
    # sd (ddof 1) = sqrt(0.05 / 3) = 0.129099; t(0.975, 3) = 3.182446; half width = 3.182446 * 0.129099 / 2
    res = M.rmse_ci(1 - np.array([0.9, 0.8, 0.7, 0.6]))
    assert res.rmse == pytest.approx(0.273861, abs=1e-6)
    assert res.std == pytest.approx(0.129099, abs=1e-6)
    assert res.low == pytest.approx(0.273861 - 0.205425, abs=1e-5)
    assert res.high == pytest.approx(0.273861 + 0.205425, abs=1e-5)
    assert res.n == 4
    one = M.rmse_ci([0.5])
    assert one.rmse == 0.5 and math.isnan(one.low)
    with pytest.raises(ValueError, match="errors"):
        M.rmse_ci([])


def test_rmse_table_groups() -> None:
    df = pd.DataFrame({"optimizer": ["a", "a", "b"], "value": [0.9, 0.7, 1.0]})
    t = M.rmse_table(df).set_index("optimizer")
    assert t.loc["a", "rmse"] == pytest.approx(math.sqrt((0.01 + 0.09) / 2))
    assert t.loc["b", "rmse"] == pytest.approx(0.0)


def test_rmse_summary_seed000_table1_hand_computed() -> None:
    # llm: run (a, 0) errors 0.4 then 0.2, run (b, 0) errors 0.1 then 0.3 (rows shuffled, order from "trial").
    # All: [0.4, 0.2, 0.1, 0.3]: RMSE sqrt(0.075) = 0.273861; sd sqrt(0.05 / 3) = 0.129099;
    #      t(0.975, 3) = 3.182446, half width 3.182446 * 0.129099 / 2 = 0.205428.
    # Best: [0.2, 0.1]: RMSE sqrt(0.025) = 0.158114; sd 0.070711; half 12.706205 * 0.070711 / sqrt(2) = 0.635310.
    # One-shot (first trial of each run): [0.4, 0.1]: RMSE sqrt(0.085) = 0.291548.
    df = pd.DataFrame(
        {
            "optimizer": ["llm", "llm", "llm", "llm", "tpe", "tpe"],
            "objective": ["a", "b", "a", "b", "a", "a"],
            "seed": [0, 0, 0, 0, 0, 0],
            "trial": [1, 0, 0, 1, 0, 1],
            "value": [0.2, 0.1, 0.4, 0.3, 0.5, 0.5],
        }
    )
    t = M.rmse_summary(df, one_shot=["llm"]).set_index(["optimizer", "trial"])
    assert list(t.index) == [("llm", "All"), ("llm", "Best"), ("llm", "One-shot"), ("tpe", "All"), ("tpe", "Best")]
    assert t.loc[("llm", "All"), "rmse"] == pytest.approx(0.273861, abs=1e-6)
    assert t.loc[("llm", "All"), "std"] == pytest.approx(0.129099, abs=1e-6)
    assert t.loc[("llm", "All"), "ci_low"] == pytest.approx(0.273861 - 0.205428, abs=1e-5)
    assert t.loc[("llm", "All"), "ci_high"] == pytest.approx(0.273861 + 0.205428, abs=1e-5)
    assert t.loc[("llm", "Best"), "rmse"] == pytest.approx(0.158114, abs=1e-6)
    assert t.loc[("llm", "Best"), "ci_high"] == pytest.approx(0.158114 + 0.635310, abs=1e-5)
    assert t.loc[("llm", "One-shot"), "rmse"] == pytest.approx(0.291548, abs=1e-6)
    assert t.loc[("llm", "One-shot"), "n"] == 2
    assert t.loc[("tpe", "Best"), "n"] == 1
    # The same table from accuracies.
    acc = M.rmse_summary(df.assign(value=1.0 - df["value"]), kind="accuracy", one_shot=["llm"])
    np.testing.assert_allclose(acc["rmse"].to_numpy(), t["rmse"].to_numpy())
    with pytest.raises(ValueError, match="kind"):
        M.rmse_summary(df, kind="loss")
    with pytest.raises(ValueError, match="seed"):
        M.rmse_summary(df.drop(columns="seed"))


# ------------------------------------------------------------------ means, curves, budgets
def test_mean_ci_hand_computed() -> None:
    # values 1, 2, 3: mean 2, sd 1, sem 1/sqrt(3), t(0.975, 2) = 4.302653
    ci = M.mean_ci([1.0, 2.0, 3.0, float("nan")])
    assert ci.mean == 2.0 and ci.n == 3
    assert ci.half_width == pytest.approx(4.302653 / math.sqrt(3), abs=1e-5)
    assert math.isnan(M.mean_ci([4.0]).low)
    with pytest.raises(ValueError, match="confidence"):
        M.mean_ci([1.0, 2.0], confidence=95)


def test_best_so_far() -> None:
    np.testing.assert_array_equal(M.best_so_far([3, float("nan"), 2, 5, 1]), [3, 3, 2, 2, 1])
    np.testing.assert_array_equal(M.best_so_far([1, float("nan"), 3, 2], "maximize"), [1, 1, 3, 3])
    out = M.best_so_far([float("nan"), 2.0])
    assert math.isnan(out[0]) and out[1] == 2.0


def test_regret_curves_from_known_optimum_and_column() -> None:
    df = _runs({("A", "t", 0): [4.0, 2.0, 3.0], ("B", "t", 0): [6.0, 1.0]})
    c = M.regret_curves(df, optima={"t": 1.0})
    a = c[c.optimizer == "A"]
    assert a["regret"].tolist() == [3.0, 1.0, 1.0]
    # normalized by worst - optimum over the objective's trials = 6 - 1
    assert a["normalized_regret"].tolist() == pytest.approx([0.6, 0.2, 0.2])
    # without an optimum the best found anywhere (1.0) is the reference
    assert M.regret_curves(df)["regret"].tolist() == [3.0, 1.0, 1.0, 5.0, 0.0]
    # a regret column (from the true value) is used as is
    df["regret"] = [0.5, 0.25, 0.0, 1.0, 0.75]
    c2 = M.regret_curves(df)
    assert c2[c2.optimizer == "A"]["regret"].tolist() == [0.5, 0.25, 0.0]
    assert c2[c2.optimizer == "B"]["normalized_regret"].tolist() == [1.0, 0.75]
    agg = M.aggregate_curves(c, "regret").set_index(["optimizer", "trial"])
    assert agg.loc[("A", 1), "mean"] == 1.0 and agg.loc[("A", 1), "n"] == 1


def test_budget_accounting() -> None:
    df = _runs({("asha", "t", 0): [3.0, 2.0, 1.0], ("random", "t", 0): [2.5]})
    df["budget"] = [1.0, 3.0, 9.0, float("nan")]  # random runs single-fidelity: the full 9 epochs
    df["max_budget"] = 9.0
    spent = M.budget_spent(df).set_index("optimizer")
    assert spent.loc["asha", "budget_spent"] == 13.0
    assert spent.loc["asha", "full_evaluations"] == pytest.approx(13 / 9)
    assert spent.loc["random", "budget_spent"] == 9.0
    curves = M.budget_curves(df, full_fidelity_only=True)
    asha = curves[curves.optimizer == "asha"]
    assert asha["cumulative_budget"].tolist() == [1.0, 4.0, 13.0]
    assert np.isnan(asha["best_loss"].iloc[0]) and asha["best_loss"].iloc[2] == 1.0


def test_final_losses_budget() -> None:
    fl = M.final_losses(_runs({("A", "t", 0): [3.0, 2.0, 1.0]}), budget=2)
    assert fl["loss"].tolist() == [2.0] and fl["n_trials"].tolist() == [2]
    with pytest.raises(ValueError, match="budget"):
        M.final_losses(_runs({("A", "t", 0): [3.0]}), budget=0)
