"""benchmarks/cmaes_crosscheck.py: hpolab's ``cmaes`` and Optuna's ``CmaEsSampler`` give the same runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cmaes_crosscheck.py"


def test_hpolab_cmaes_and_optuna_cmaes_tie_on_every_run(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))  # the script imports its sibling centaur_ablation.py
    try:
        spec = importlib.util.spec_from_file_location("cmaes_crosscheck", SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["cmaes_crosscheck"] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    out = tmp_path / "x.md"
    module.main(["--objectives", "toy/branin,toy/rosenbrock", "--seeds", "3", "--n-trials", "15", "--out", str(out)])
    rows = {
        line.split(" | ")[0]: line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("| `")
    }
    # mean difference 0, neither better, 6 ties (2 objectives x 3 seeds), no test
    assert rows["| `hpolab cmaes` - `Optuna CmaEsSampler`"].endswith("| 0 | 0 | 0 | 6 | n/a |")
    assert "| `toy/branin`" in rows and "| `toy/rosenbrock`" in rows
