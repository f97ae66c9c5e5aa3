"""The paired test of benchmarks/carps_crosscheck.py on a made-up trial table: identical runs, wins, the sign test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "carps_crosscheck.py"


@pytest.fixture(scope="module")
def crosscheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("carps_crosscheck", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["carps_crosscheck"] = module
    spec.loader.exec_module(module)
    return module


def _runs(values: dict[tuple[str, str, int], list[float]]) -> pd.DataFrame:
    rows = [
        {"optimizer": o, "objective": t, "seed": s, "trial": i, "value": v}
        for (o, t, s), vals in values.items()
        for i, v in enumerate(vals)
    ]
    return pd.DataFrame(rows)


def test_a_pair_of_other_methods_is_tested_and_counted_per_task(crosscheck: ModuleType) -> None:
    values = {}
    for seed in range(6):
        values[("llm-hybrid", "a", seed)] = [3.0, 1.0]  # identical to tpe's run on task a
        values[("tpe", "a", seed)] = [3.0, 1.0]
        values[("llm-hybrid", "b", seed)] = [3.0, 2.0]  # worse than tpe on every seed of task b
        values[("tpe", "b", seed)] = [3.0, 1.0 - 0.1 * seed]
    table = crosscheck.paired_table(_runs(values), "llm-hybrid", "tpe").set_index("task")
    assert table.loc["a", "identical runs"] == 6 and table.loc["a", "ties"] == 6
    assert table.loc["b", "tpe better"] == 6 and table.loc["b", "llm-hybrid better"] == 0
    assert table.loc["b", "p"] == pytest.approx(0.03125)  # Wilcoxon, 6 untied pairs all one way: 2 / 2**6
    assert table.loc["b", "mean best tpe"] == pytest.approx(0.75)
    line = crosscheck.pooled_line(table.reset_index(), "llm-hybrid", "tpe")
    assert "`llm-hybrid` better in 0, `tpe` better in 6, 6 ties" in line
    assert "Over the 1 task without an identical run, 6 (task, seed) pairs" in line
