"""Every metric against small cases computed by hand (the arithmetic is written out in comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hpolab.analysis import metrics as M
from hpolab.analysis import stats as S


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
    tasks = M.table1_tasks(_runs(TABLE1_RUNS), n_trials=2, n_bootstrap=50, seed=0)
    by = tasks.set_index(["objective", "optimizer"])
    assert by.loc[("t1", "A"), "loss"] == 0.125
    assert by.loc[("t2", "A"), "loss"] == 0.625
    assert by.loc[("t2", "random"), "loss"] == 0.5
    # change = (random - loss) / |random|
    assert by.loc[("t1", "A"), "change"] == pytest.approx(0.5)  # (0.25 - 0.125) / 0.25
    assert by.loc[("t2", "A"), "change"] == pytest.approx(-0.25)  # (0.5 - 0.625) / 0.5
    assert by.loc[("t2", "B"), "change"] == pytest.approx(0.25)  # (0.5 - 0.375) / 0.5
    assert by.loc[("t1", "B"), "change"] == 0.0  # a tie
    assert not by.loc[("t1", "B"), "beats_random"] and by.loc[("t1", "B"), "tie"]  # a tie scores half
    assert by.loc[("t1", "B"), "score"] == 0.5 and by.loc[("t1", "A"), "score"] == 1.0
    # the tolerance is the smallest gap between distinct values on the task: t1 0.0625 (0.0625 -> 0.125)
    assert by.loc[("t1", "A"), "tolerance"] == 0.0625
    # ranks with ties averaged: t1: A 1, B/random tie 2.5; t2: B 1, random 2, A 3; t3: A/B tie 1.5, random 3
    assert by.loc[("t1", "B"), "rank"] == 2.5
    assert by.loc[("t1", "random"), "rank"] == 2.5
    assert by.loc[("t2", "A"), "rank"] == 3.0
    assert by.loc[("t3", "A"), "rank"] == 1.5


def test_table1_hand_computed() -> None:
    t = M.table1(_runs(TABLE1_RUNS), n_trials=2, n_bootstrap=400, seed=0)
    # A beats random on t1 and t3: 2 of 3 tasks; B ties on t1 (half a win) and beats it on t2 and t3
    assert t.loc["A", "beats_random"] == pytest.approx(200 / 3)
    assert t.loc["B", "beats_random"] == pytest.approx(250 / 3)
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
    # Intervals over seeds: only A on t2 has two seeds (0.5, 0.75); resampled, its mean there is 0.5, 0.625 or 0.75
    # (1/4, 1/2, 1/4), so A's change on t2 is 0, -25% or -50% and its mean change 33.3, 25 or 16.7%;
    # at 0.5 A ties random on t2 (score 0.5; beats 83.3%) and shares rank 2.5 with it (mean rank 5/3).
    assert (t.loc["A", "mean_change_low"], t.loc["A", "mean_change_high"]) == pytest.approx((50 / 3, 100 / 3))
    assert (t.loc["A", "beats_random_low"], t.loc["A", "beats_random_high"]) == pytest.approx((200 / 3, 250 / 3))
    assert (t.loc["A", "mean_rank_low"], t.loc["A", "mean_rank_high"]) == pytest.approx((5 / 3, 5.5 / 3))
    assert (t.loc["random", "mean_rank_low"], t.loc["random", "mean_rank_high"]) == pytest.approx((2.5, 8 / 3))
    assert t.loc["B", "beats_random_low"] == t.loc["B", "beats_random_high"] == pytest.approx(250 / 3)
    # sorted by mean rank
    assert list(t.index) == ["B", "A", "random"]


def test_table1_maximize_uses_losses() -> None:
    # accuracy (maximize): random 0.8, A 0.9 -> losses -0.8 and -0.9: A beats random, change +12.5%
    df = _runs({("A", "t", 0): [0.9], ("random", "t", 0): [0.8, 0.8]}, direction="maximize")
    t = M.table1(df, n_trials=1, n_bootstrap=10)
    assert t.loc["A", "beats_random"] == 100.0
    assert t.loc["A", "mean_change"] == pytest.approx(12.5)  # (-0.8 - -0.9) / 0.8


def test_table1_saturated_task_is_a_tie_not_a_coin_flip() -> None:
    # Every run finds error 0; random's pool has 50 zeros and 50 errors of 1/36 (a 36-image validation set). The exact
    # expected best of 10 distinct configurations is (1/36) * C(50, 10) / C(100, 10) > 0, so "strictly below random"
    # calls every method a winner on a task no method can improve; the tie rule (resolution 1/36, the pool's step)
    # scores it half.
    pool = [0.0] * 50 + [1 / 36] * 50
    spec = {("A", "wine", s): [0.0] * 10 for s in range(3)}
    spec[("random-pool", "wine", 0)] = pool
    df = _runs(spec)
    tasks = M.table1_tasks(df, n_trials=10)
    row = tasks.set_index("optimizer").loc["random"]
    assert row["loss"] == pytest.approx((1 / 36) * math.comb(50, 10) / math.comb(100, 10))
    assert row["loss"] == S.expected_best_of(pool, 10)
    # seed 002's definition, 10 draws with replacement: (1/36) * 0.5^10, larger (random looks worse)
    paper = M.table1_tasks(df, n_trials=10, baseline="with-replacement").set_index("optimizer").loc["random", "loss"]
    assert paper == pytest.approx((1 / 36) * 0.5**10) and paper > row["loss"]
    assert tasks.set_index("optimizer").loc["A", "tolerance"] == pytest.approx(1 / 36)
    t = M.table1(df, n_trials=10)
    assert t.loc["A", "beats_random"] == 50.0
    assert t.loc["A", "beats_random_low"] == t.loc["A", "beats_random_high"] == 50.0
    # the paper's fixed-seed bootstrap baseline stays available
    boot = M.table1_tasks(df, n_trials=10, baseline="bootstrap").set_index("optimizer").loc["random", "loss"]
    assert boot == S.bootstrap_best_of(pool, 10, n_bootstrap=1000, seed=0).mean
    # a stated resolution overrides the one read from the data: 0 makes the comparison strict
    assert M.table1(df, n_trials=10, resolution=0.0).loc["A", "beats_random"] == 100.0
    assert M.table1(df, n_trials=10, resolution={"wine": 0.0}).loc["A", "beats_random"] == 100.0
    with pytest.raises(ValueError, match="baseline"):
        M.table1(df, n_trials=10, baseline="median")
    small = _runs({("A", "wine", 0): [0.0] * 10, ("random-pool", "wine", 0): pool[:8]})
    with pytest.raises(ValueError, match=r"'wine': 8 random configuration.*at least 10.*with-replacement"):
        M.table1(small, n_trials=10)
    with pytest.raises(ValueError, match="resolution"):
        M.table1(df, n_trials=10, resolution=-1.0)


def test_table1_intervals_stay_in_range_at_two_seeds() -> None:
    rng = np.random.default_rng(1)
    spec = {}
    for task in ("t1", "t2"):
        for s in (0, 1):
            for opt in ("A", "B", "random"):
                spec[(opt, task, s)] = list(rng.uniform(0, 1, 5))
    t = M.table1(_runs(spec), n_trials=5)
    k = 3  # A, B and random
    assert ((t["mean_rank_low"] >= 1) & (t["mean_rank_high"] <= k)).all()
    b = t.drop(index="random")
    assert ((b["beats_random_low"] >= 0) & (b["beats_random_high"] <= 100)).all()
    for col in ("beats_random", "mean_change", "mean_rank"):
        assert (b[f"{col}_low"] <= b[col] + 1e-12).all() and (b[col] <= b[f"{col}_high"] + 1e-12).all()


def test_aggregate_table_probability_of_improvement_and_holm() -> None:
    rng = np.random.default_rng(0)
    spec = {("random-pool", f"t{i}", 0): list(rng.uniform(0, 1, 200)) for i in range(4)}
    for i in range(4):
        for s in range(3):
            spec[("good", f"t{i}", s)] = [float(rng.uniform(0, 0.001))] * 5  # always below random's best of 5
            spec[("random", f"t{i}", s)] = list(rng.uniform(0, 1, 5))
    agg = M.aggregate_table(_runs(spec), n_trials=5)
    assert agg.loc["good", "p_improve"] > 0.99 and agg.loc["good", "p_improve_low"] > 0.95
    assert 0.0 <= agg.loc["random", "p_improve_low"] <= 0.5 <= agg.loc["random", "p_improve_high"] <= 1.0
    wins = M.win_probabilities(_runs(spec), n_trials=5)
    assert set(wins["optimizer"]) == {"good", "random"} and len(wins) == 24
    # the test pairs each of good's 12 runs with random's run of the same task and seed; every pair that
    # differs has good above, so the exact p is 2 / 2^n over the n differing pairs; Holm over one method keeps it
    w = wins.pivot_table(index=["objective", "seed"], columns="optimizer", values="win_probability")
    d = (w["good"] - w["random"]).to_numpy()
    n = int((np.abs(d) > 1e-12).sum())
    assert n >= 10 and (d >= 0).all()
    assert agg.loc["good", "reference"] == "random" and agg.loc["good", "difference"] == pytest.approx(d.mean())
    assert agg.loc["good", "p_value"] == pytest.approx(2 / 2**n)
    assert agg.loc["good", "p_holm"] == pytest.approx(2 / 2**n) and math.isnan(agg.loc["random", "p_holm"])
    assert ((agg["iqm_low"] >= 0) & (agg["iqm_high"] <= 1)).all()
    assert agg.loc["good", "iqm"] < agg.loc["random", "iqm"]


def test_aggregate_table_tests_against_half_only_without_random_runs_to_pair_with() -> None:
    rng = np.random.default_rng(1)
    pools = {f"t{i}": rng.uniform(0, 1, 200) for i in range(4)}
    spec = {("good", f"t{i}", s): [float(rng.uniform(0, 0.001))] * 5 for i in range(4) for s in range(3)}
    agg = M.aggregate_table(_runs(spec), n_trials=5, pools=pools)
    assert agg.loc["good", "reference"] == "0.5"
    assert agg.loc["good", "p_value"] == pytest.approx(2 / 2**12)  # 12 runs, all above 0.5
    assert agg.loc["good", "difference"] == pytest.approx(agg.loc["good", "p_improve"] - 0.5, abs=1e-9)


def test_a_copy_of_random_search_does_not_differ_from_it_even_with_a_lucky_pool() -> None:
    # a small pool that happens to be poor on every task: every run scores above 0.5 against it, so the
    # old test against 0.5 called a copy of random search better; paired with random's runs it cannot
    rng = np.random.default_rng(2)
    spec: dict[tuple[str, str, int], list[float]] = {}
    for i in range(6):
        spec[("random-pool", f"t{i}", 0)] = list(rng.uniform(0.3, 1, 30))
        for s in range(10):
            values = list(rng.uniform(0, 1, 5))
            spec[("random", f"t{i}", s)] = values
            spec[("copy", f"t{i}", s)] = values
    agg = M.aggregate_table(_runs(spec), n_trials=5)
    assert agg.loc["copy", "p_improve"] > 0.6  # the poor pool flatters both
    assert (
        S.wilcoxon_against_half(
            M.win_probabilities(_runs(spec), n_trials=5).query("optimizer == 'copy'")["win_probability"]
        ).p_value
        < 0.05
    )
    assert agg.loc["copy", "difference"] == 0.0 and agg.loc["copy", "p_value"] == 1.0


def test_table1_without_random_pool_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="random"):
        M.table1(_runs({("A", "t", 0): [1.0]}), n_trials=1)


def test_relative_change_edge_cases() -> None:
    assert M.relative_change(0.1, 0.2) == pytest.approx(0.5)
    assert M.relative_change(0.0, 0.0) == 0.0
    assert math.isnan(M.relative_change(0.1, 0.0))
    assert math.isnan(M.relative_change(float("nan"), 0.2))


# ------------------------------------------------------------------ ranks
def test_rank_over_trials() -> None:
    df = _runs({("A", "t", 0): [5.0, 1.0], ("B", "t", 0): [3.0, 2.0, 0.5]})
    r = M.rank_over_trials(df).set_index(["optimizer", "trial"])
    assert r.loc[("A", 0), "mean_rank"] == 2.0  # 5 vs 3
    assert r.loc[("A", 1), "mean_rank"] == 1.0  # 1 vs 2
    assert r.loc[("A", 2), "mean_rank"] == 2.0  # A's 1 carried forward vs 0.5


# ------------------------------------------------------------------ RMSE (seed 000)
def test_rmse_table_groups() -> None:
    df = pd.DataFrame({"optimizer": ["a", "a", "b"], "value": [0.9, 0.7, 1.0]})
    t = M.rmse_table(df).set_index("optimizer")
    assert t.loc["a", "rmse"] == pytest.approx(math.sqrt((0.01 + 0.09) / 2))
    assert t.loc["b", "rmse"] == pytest.approx(0.0)


def test_rmse_summary_seed000_table1_hand_computed() -> None:
    # llm: run (a, 0) errors 0.4 then 0.2, run (b, 0) errors 0.1 then 0.3 (rows shuffled, order from "trial").
    # All: [0.4, 0.2, 0.1, 0.3]: RMSE sqrt(0.075) = 0.273861; sd sqrt(0.05 / 3) = 0.129099.
    # Best: [0.2, 0.1]: RMSE sqrt(0.025) = 0.158114.
    # Intervals resample runs within tasks (the first run column); each task has one run: nothing to resample.
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
    assert math.isnan(t.loc[("llm", "All"), "ci_low"]) and math.isnan(t.loc[("llm", "Best"), "ci_high"])
    assert t.loc[("llm", "Best"), "rmse"] == pytest.approx(0.158114, abs=1e-6)
    # runs told apart by the task alone: one stratum, runs a (mean square 0.1) and b (0.05) resampled
    one = M.rmse_summary(df, run="objective").set_index(["optimizer", "trial"])
    assert (one.loc[("llm", "All"), "ci_low"], one.loc[("llm", "All"), "ci_high"]) == pytest.approx(
        (math.sqrt(0.05), math.sqrt(0.1))
    )
    assert (one.loc[("llm", "Best"), "ci_low"], one.loc[("llm", "Best"), "ci_high"]) == pytest.approx((0.1, 0.2))
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


# ------------------------------------------------------------------ curves, budgets
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


def test_final_rows_are_each_runs_last_trial_in_run_key_order_whatever_the_rows_order() -> None:
    # Runs of equal length tie on their last trial number; the bootstrap intervals over these rows resample
    # them by position, so their order must come from the run keys, not from how a sort breaks the ties.
    spec = {(opt, obj, seed): [float(seed), 1.0, 0.5] for opt in "BA" for obj in ("t2", "t1") for seed in (2, 0, 1)}
    curves = M.regret_curves(_runs(spec))
    keys = sorted(spec)
    for rows in (curves, curves.sample(frac=1.0, random_state=3), curves.iloc[::-1]):
        last = M.final_rows(rows)
        assert list(zip(last["optimizer"], last["objective"], last["seed"], strict=True)) == keys
        assert set(last["trial"]) == {2}


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
    fl = M.final_losses(_runs({("A", "t", 0): [3.0, 2.0, 1.0]}), n_trials=2)
    assert fl["loss"].tolist() == [2.0] and fl["n_trials"].tolist() == [2]
    with pytest.raises(ValueError, match="n_trials"):
        M.final_losses(_runs({("A", "t", 0): [3.0]}), n_trials=0)


def test_transfer_summary_accuracy_interval_stays_below_100_percent() -> None:
    from hpolab.analysis._transfer import transfer_summary

    # two seeds at 99% and 100%: a Student-t interval is 0.995 ± 12.706 * 0.005 = [0.931, 1.059]
    table = pd.DataFrame(
        {
            "base": "cnn/digits-4block",
            "condition": "balanced",
            "seed": [0, 1],
            "test_accuracy": [0.99, 1.0],
            "subset_error": [0.02, 0.0],
            "config": [{"lr": 0.01}, {"lr": 0.02}],
        }
    )
    row = transfer_summary(table).iloc[0]
    assert row["accuracy"] == pytest.approx(0.995)
    assert 0.99 <= row["low"] <= row["accuracy"] <= row["high"] <= 1.0
