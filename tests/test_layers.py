"""The layers of docs/concepts.md: the import-linter contracts of pyproject.toml hold, and they can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with ``root``'s pyproject.toml, importing the ``hpolab`` under ``root``."""
    pytest.importorskip("importlinter", reason='the layer contracts need import-linter: pip install "hpolab[dev]"')
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run(
        [sys.executable, "-c", _LINT, "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_hold():
    res = _lint(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    for name in (
        "Imports point down the layers",
        "The space's modules import only lower ones",
        "The statistics know no metric",
        "The report's sections know no other section",
        "Nothing imports hpolab.testing",
        "An optimizer knows no objective",
        "The optimizers and their hybrid know no LLM",
        "An objective knows no optimizer",
        "The LLM clients know nothing of the optimizers built on them",
        "The analysis needs neither the harness, the suites nor an objective",
    ):
        assert f"{name} KEPT" in res.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("trial.py", "import hpolab.study", "Imports point down the layers"),  # [0] -> [3]
        (
            "space/_params.py",
            "from hpolab.space._space import SearchSpace",
            "The space's modules import only lower ones",
        ),
        ("optimizers/_random.py", "from hpolab.benchmark import run", "Imports point down the layers"),
        ("analysis/stats.py", "from hpolab.analysis.metrics import losses", "The statistics know no metric"),
        (
            "analysis/report/_cost.py",
            "from hpolab.analysis.report._table1 import section_table1",
            "The report's sections know no other section",
        ),
        ("llm/_prompts.py", "from hpolab.testing import quadratic", "Nothing imports hpolab.testing"),
        (
            "llm/clients/_openai.py",
            "from hpolab.llm._propose import propose_config",
            "The LLM clients know nothing of the optimizers built on them",
        ),
        ("optimizers/_grid.py", "from hpolab.objectives.toy import ToyObjective", "An optimizer knows no objective"),
        ("optimizers/_hybrid.py", "from hpolab.llm import LLMOptimizer", "The optimizers and their hybrid know no LLM"),
        ("objectives/toy.py", "from hpolab.optimizers import RandomSearch", "An objective knows no optimizer"),
        (
            "analysis/metrics.py",
            "from hpolab.benchmark import POOL_LABEL",
            "The analysis needs neither the harness, the suites nor an objective",
        ),
    ],
)
def test_an_added_forbidden_import_breaks_its_contract(tmp_path: Path, module: str, line: str, broken: str):
    """The contracts are not vacuous: one added import in a copy of the package breaks the right one."""
    shutil.copytree(ROOT / "hpolab", tmp_path / "hpolab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "hpolab" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    res = _lint(tmp_path)
    assert res.returncode != 0, res.stdout
    assert f"{broken} BROKEN" in res.stdout
    assert "hpolab." + module.removesuffix(".py").replace("/", ".") in res.stdout


#: The package root: the public surface, DESIGN's modules and packages, and three private utilities that
#: sit below every layer using them (docs/concepts.md says why each is not in a package).
ROOT_ENTRIES = {
    "__init__.py",
    "__main__.py",
    "py.typed",
    "exceptions.py",
    "_machine.py",
    "trial.py",
    "space",
    "records.py",
    "registry.py",
    "optimizers",
    "objectives",
    "llm",
    "storage",
    "study",
    "benchmark",
    "analysis",
    "integrations",
    "cli",
    "testing",
    "_deprecation.py",
    "_secrets.py",
    "_table.py",
}


def _root_entries(package: Path) -> set[str]:
    return {p.name for p in package.iterdir() if p.name != "__pycache__" and not p.name.startswith(".")}


def test_the_package_root_holds_one_concept_per_entry():
    """A new module at the root fails here: it belongs in a package, or in this list and in docs/concepts.md."""
    assert _root_entries(ROOT / "hpolab") == ROOT_ENTRIES
    concepts = (ROOT / "docs" / "concepts.md").read_text(encoding="utf-8")
    undocumented = [
        name
        for name in sorted(ROOT_ENTRIES - {"__init__.py", "__main__.py", "py.typed"})
        if f"| `hpolab/{name}" not in concepts
    ]
    assert not undocumented, f"docs/concepts.md's 'Where things live' has no row for {undocumented}"


def test_importing_the_metrics_loads_neither_the_harness_nor_an_objective():
    code = (
        "import sys, hpolab.analysis.metrics\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[:2] in (['hpolab', 'benchmark'], "
        "['hpolab', 'objectives'], ['hpolab', 'testing']))\n"
        "print(' '.join(bad))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""


def test_importing_the_llm_package_loads_no_test_helper():
    code = (
        "import sys, hpolab.llm, hpolab.llm._controls\nprint(any(m.startswith('hpolab.testing') for m in sys.modules))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_every_public_name_of_the_package_root_resolves_to_its_home():
    """The root imports lazily from a hand-kept table: each name in ``__all__`` must be in it and load."""
    code = (
        "import hpolab\n"
        "names = [n for n in hpolab.__all__ if n != '__version__']\n"
        "assert len(set(names)) == len(names), 'a name twice in __all__'\n"
        "missing = [n for n in names if n not in hpolab._HOMES]\n"
        "assert not missing, missing\n"
        "for n in names:\n"
        "    obj = getattr(hpolab, n)\n"
        "    assert getattr(obj, '__name__', n) == n, (n, obj)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
