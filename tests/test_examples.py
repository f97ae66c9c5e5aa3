"""Every script in examples/ runs. An example whose first 10 lines say `slow-example` is marked slow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def _param(path: Path):
    head = "\n".join(path.read_text().splitlines()[:10])
    marks = [pytest.mark.slow] if "slow-example" in head else []
    return pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("path", [_param(p) for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip(), "an example should print what it shows"
    assert not list(tmp_path.iterdir()) or all(
        p.suffix in (".db", ".png", ".md", ".html", ".json") or p.is_dir() for p in tmp_path.iterdir()
    )
