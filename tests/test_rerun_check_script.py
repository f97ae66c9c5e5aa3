"""benchmarks/rerun_check.py: runs made again with the same code repeat the stored ones; a changed trial is found."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from hpolab.benchmark import execute, load_results, plan_runs, results_storage

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "rerun_check.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rerun_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _runs(folder: Path) -> Path:
    folder.mkdir()
    plan = plan_runs("quick", optimizers=["random", "tpe"], objectives=["toy/branin"], seeds=2, n_trials=8, parts=False)
    execute(plan.specs, str(results_storage(folder)))
    return folder


def test_runs_made_again_are_identical_and_a_changed_trial_is_found(tmp_path: Path) -> None:
    module = _script()
    stored, again = _runs(tmp_path / "a"), _runs(tmp_path / "b")
    out = tmp_path / "check.md"
    assert module.main([str(stored), str(again), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "5 of 5 runs identical trial by trial." in text
    assert "Stored runs' hpolab code: " in text and "unrecorded" not in text  # the runs name their code
    # one trial's value changed in the rerun: found at that trial, by its source
    df = load_results(str(results_storage(again)))
    changed = df.copy()
    row = changed.index[(changed["optimizer"] == "tpe") & (changed["seed"] == 1) & (changed["trial"] == 5)][0]
    changed.loc[row, "value"] = float(changed.loc[row, "value"]) + 1.0
    table = module.compare_runs(df, changed)
    hit = table[(table["optimizer"] == "tpe") & (table["seed"] == 1)].iloc[0]
    assert not hit["identical"] and hit["first_difference"] == 5
    assert int(table["identical"].sum()) == 4
    # a float parameter a few ulps apart is the same value; a name missing is not
    assert module.same_config({"x": 0.1, "k": "a"}, {"x": 0.1 + 1e-17, "k": "a"})
    assert not module.same_config({"x": 0.1}, {"x": 0.1, "y": 1})


def test_folders_without_runs_are_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _script().main([str(tmp_path), str(tmp_path)])
    assert "holds no results.log" in capsys.readouterr().err
