"""fANOVA importance on its raw scale with bootstrap intervals, and seed 004's Table 4 with both scales."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from hpolab.analysis.importance import fanova_importance, fanova_intervals, importance_by_objective, normalized

SPACE = {"x": (0.0, 1.0), "y": (0.0, 1.0), "c": ["a", "b"]}


def _pairs(n: int, seed: int = 0) -> list[tuple[dict[str, object], float]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x, y = float(rng.uniform()), float(rng.uniform())
        c = str(rng.choice(["a", "b"]))
        out.append(({"x": x, "y": y, "c": c}, 10 * x + 0.1 * y + (0.0 if c == "a" else 0.5) + 4 * x * y))
    return out


def test_raw_importance_is_fanovas_share_not_normalised() -> None:
    pairs = _pairs(60)
    raw = fanova_importance(pairs, SPACE, normalize=False, n_trees=16)
    norm = fanova_importance(pairs, SPACE, normalize=True, n_trees=16)
    assert all(0.0 <= v <= 1.0 for v in raw.values())
    assert sum(raw.values()) < 1.0  # the interaction x*y takes a share: raw values do not sum to 1
    assert sum(norm.values()) == pytest.approx(1.0)
    assert norm == pytest.approx(normalized(raw))
    assert normalized({"a": 0.0, "b": 0.0}) == {"a": 0.5, "b": 0.5}


def test_fanova_intervals_lie_in_0_1_and_separate_the_dominant_parameter() -> None:
    pairs = _pairs(60)
    tab = fanova_intervals(pairs, SPACE, n_bootstrap=12, n_trees=16, bootstrap_trees=8, seed=3)
    assert list(tab.columns) == ["param", "importance", "low", "high", "normalized", "n_trials"]
    assert tab["param"].iloc[0] == "x" and (tab["n_trials"] == 60).all()
    assert ((tab["low"] >= 0.0) & (tab["high"] <= 1.0) & (tab["low"] <= tab["high"])).all()
    assert tab["importance"].sum() < 1.0 and tab["normalized"].sum() == pytest.approx(1.0)
    x = tab.set_index("param").loc["x"]
    others = tab[tab["param"] != "x"]
    assert x["low"] > others["high"].max()  # 60 configs settle that x matters most
    # no bootstrap: no interval; bad arguments are named
    none = fanova_intervals(pairs, SPACE, n_bootstrap=0, n_trees=8)
    assert none["low"].isna().all() and none["high"].isna().all()
    with pytest.raises(ValueError, match="n_bootstrap"):
        fanova_intervals(pairs, SPACE, n_bootstrap=-1)
    with pytest.raises(ValueError, match="confidence"):
        fanova_intervals(pairs, SPACE, confidence=95)
    with pytest.raises(ValueError, match="at least 2"):
        fanova_intervals(pairs[:1], SPACE)


def test_importance_by_objective_has_both_scales_and_the_interval() -> None:
    pairs = _pairs(30, seed=1)
    df = pd.DataFrame(
        {
            "objective": "toy/branin",
            "optimizer": "random",
            "state": "COMPLETE",
            "config": [{"x1": -5 + 15 * p["x"], "x2": 15 * p["y"]} for p, _ in pairs],  # type: ignore[operator]
            "value": [v for _, v in pairs],
        }
    )
    imp = importance_by_objective(df, n_bootstrap=5, n_trees=8)
    assert list(imp.columns) == ["objective", "param", "importance", "low", "high", "normalized", "n_trials"]
    assert imp["normalized"].sum() == pytest.approx(1.0)
    assert imp["low"].notna().all() and ((imp["low"] >= 0) & (imp["high"] <= 1)).all()
    assert importance_by_objective(df.iloc[:3]).empty  # fewer than min_trials: skipped


def test_seed004_table4_shows_raw_with_intervals_and_normalised_labelled(tmp_path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    from hpolab import benchmark
    from hpolab.benchmark.papers import seed004
    from hpolab.objectives.base import FunctionObjective
    from hpolab.registry import _FAMILIES, register_objective

    space = {"lr": (1e-4, 0.03, "log"), "dropout": (0.01, 0.4), "optimizer": ["adam", "sgd"]}

    def make(rest, **kwargs):
        def f(c):
            return 0.05 + 0.5 * c["dropout"] + (0.2 if c["optimizer"] == "sgd" else 0.0) + 2 * c["lr"]

        return FunctionObjective(f, space, name="s4/" + rest)

    register_objective("s4", make, lambda: {"s4/toy-seed004": "a seed 004 stand-in"})
    monkeypatch.setattr(seed004, "FANOVA_BOOTSTRAP", 6)
    try:
        storage = tmp_path / "r.db"
        df = benchmark.run(
            {"random": "random"}, ["s4/toy-seed004"], 1, n_trials=14, storage=storage, context={"suite": "seed004"}
        )
        rep = benchmark.write_suite_report(
            df,
            tmp_path / "out",
            suite=benchmark.get_suite("seed004"),
            sections=(),
            contexts=benchmark.study_contexts(storage),
        )
    finally:
        _FAMILIES.pop("s4", None)
    md = rep.markdown.read_text()
    t4 = md.split("## Seed 004, Table 4", 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")] for line in t4.splitlines() if line.startswith("| ")
    ]
    header = rows[0]
    assert header[:4] == ["objective", "trials of", "n", "scale"]
    raw = next(r for r in rows if r[3] == "raw [95% CI]")
    norm = next(r for r in rows if r[3] == "normalised (sums to 1)")
    paper = next(r for r in rows if r[0] == "seed 004, Table 4")
    assert paper[3] == "raw" and paper[header.index("`lr`")] == "0.187"
    for cell in raw[4:]:
        if cell == "-":
            continue
        value, low, high = (float(x) for x in re.fullmatch(r"(\S+) \[(\S+), (\S+)\]", cell).groups())  # type: ignore[union-attr]
        assert 0.0 <= low <= high <= 1.0 and 0.0 <= value <= 1.0
    assert math.isclose(sum(float(c) for c in norm[4:] if c != "-"), 1.0, abs_tol=0.01)
    assert rep.tables["seed004_importance"]["low"].notna().all()
