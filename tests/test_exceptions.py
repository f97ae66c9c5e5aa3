"""hpolab.exceptions: every public error in one module, one root, the same objects as at their public paths."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hpolab.exceptions
from hpolab.exceptions import HpolabError

ROOT = Path(__file__).resolve().parents[1]

#: The public paths each error was (and stays) importable from, besides ``hpolab.exceptions``.
PUBLIC_PATHS = {
    "HpolabError": ["hpolab"],
    "InvalidConfigError": ["hpolab", "hpolab.space"],
    "InvalidSpaceError": ["hpolab", "hpolab.space"],
    "UnknownNameError": ["hpolab", "hpolab.registry"],
    "OptimizerError": ["hpolab", "hpolab.optimizers"],
    "SearchExhausted": ["hpolab", "hpolab.optimizers"],
    "StorageError": ["hpolab", "hpolab.storage"],
    "DatasetUnavailableError": ["hpolab.objectives", "hpolab.objectives.datasets"],
    "LLMClientError": ["hpolab.llm"],
    "CostLimitReached": ["hpolab.llm"],
    "RateLimitError": ["hpolab.llm"],
    "UntrustedURLError": ["hpolab.llm"],
    "WorkerError": ["hpolab.study"],
    "PaperDataError": [],
}


def test_all_lists_exactly_the_errors_of_the_module():
    defined = {
        name
        for name, value in vars(hpolab.exceptions).items()
        if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == "hpolab.exceptions"
    }
    assert sorted(hpolab.exceptions.__all__) == sorted(defined)
    assert set(PUBLIC_PATHS) == defined


@pytest.mark.parametrize("name", sorted(PUBLIC_PATHS))
def test_each_error_derives_from_hpolab_error_and_is_the_same_object_at_its_public_paths(name: str):
    error = getattr(hpolab.exceptions, name)
    assert issubclass(error, HpolabError)
    if error is not HpolabError:  # and from the built-in a caller would catch
        assert issubclass(error, (ValueError, RuntimeError))
    for module in PUBLIC_PATHS[name]:
        assert getattr(importlib.import_module(module), name) is error, f"{module}.{name}"


def _base_names(node: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, ast.Name | ast.Attribute)}


def test_no_public_error_class_is_defined_outside_hpolab_exceptions():
    """A new error defined in another module fails here: it belongs in hpolab/exceptions.py."""
    exception_bases = {*hpolab.exceptions.__all__, "Exception", "ValueError", "RuntimeError", "TypeError", "OSError"}
    outside = []
    for path in sorted((ROOT / "hpolab").rglob("*.py")):
        if path.name == "exceptions.py" and path.parent.name == "hpolab":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and _base_names(node) & exception_bases:
                outside.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert outside == []


def test_hpolab_exceptions_imports_nothing_else_of_hpolab():
    code = "import sys, hpolab.exceptions\nprint(sorted(m for m in sys.modules if m.startswith('hpolab')))"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "['hpolab', 'hpolab.exceptions']"
