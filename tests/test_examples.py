"""Every script in examples/ runs. An example whose first 10 lines say `slow-example` is marked slow.

An example whose first 10 lines name ``HPOLAB_YAHPO_DATA`` runs a YAHPO Gym surrogate: it gets the
data folder the YAHPO tests use (:mod:`_yahpo_data`) in that variable, and is skipped without one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _yahpo_data import NO_DATA, yahpo_data_dir

from hpolab.objectives.yahpo import DATA_ENV

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))
YAHPO_DATA = yahpo_data_dir()


def _head(path: Path) -> str:
    return "\n".join(path.read_text().splitlines()[:10])


def _param(path: Path):
    head = _head(path)
    marks = [pytest.mark.slow] if "slow-example" in head else []
    if DATA_ENV in head and YAHPO_DATA is None:
        marks.append(pytest.mark.skip(reason=NO_DATA))
    return pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("path", [_param(p) for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    env = dict(os.environ)
    if DATA_ENV in _head(path):
        env[DATA_ENV] = str(YAHPO_DATA)
    proc = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip(), "an example should print what it shows"
    assert not list(tmp_path.iterdir()) or all(
        p.suffix in (".db", ".png", ".md", ".html", ".json") or p.is_dir() for p in tmp_path.iterdir()
    )
