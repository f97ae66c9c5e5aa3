"""Run hpolab's fault suites against your own storage, as Optuna ships its storage tests.

`hpolab.testing.StorageFaultTestCase` (what the storage layer survives: many workers racing for one
queue or one dead worker's trials, trials written by plain Optuna, worker records) and
`hpolab.testing.StudyFaultTestCase` (what a study survives: workers that die mid-trial, Optuna's
`enqueue_trial`, `max_trials` over independent workers, `trial_timeout`) are pytest classes. Subclass
them in a test module of your own and override one fixture with your storage's URL: `storage_url` for
the storage suite, `storage` for the study suite. This script writes such a module and runs pytest on
it. The storage is a SQLite file unless you give a URL (e.g. a PostgreSQL database you own: the suites
create studies in it); the cases of journal files only are skipped on other storages. By default the
whole storage suite and the study suite's cases of Optuna's `enqueue_trial` and of parallel workers
run, to stay quick; `--all` runs every case. Needs pytest (pip install -c constraints.txt "hpolab[dev]").

Run: python examples/12_a_fault_suite_for_your_storage.py [STORAGE_URL] [--all]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

TEST_MODULE = """
import os

import pytest

from hpolab.testing import StorageFaultTestCase, StudyFaultTestCase

URL = os.environ["MY_STORAGE_URL"]


class TestMyStorage(StorageFaultTestCase):
    n_workers = 4  # workers racing for n_queued queued / n_reaped dead workers' trials
    n_queued = 40
    n_reaped = 20

    @pytest.fixture
    def storage_url(self):
        return URL


class TestMyStudies(StudyFaultTestCase):
    @pytest.fixture
    def storage(self):
        return URL
"""

args = [a for a in sys.argv[1:] if a != "--all"]
select = [] if "--all" in sys.argv else ["-k", "TestMyStorage or enqueue or queued"]
with tempfile.TemporaryDirectory(prefix="hpolab-faults-") as tmp:
    folder = Path(tmp)
    url = args[0] if args else f"sqlite:///{folder / 'mine.db'}"
    (folder / "test_my_storage.py").write_text(TEST_MODULE)
    os.environ["MY_STORAGE_URL"] = url  # the module reads its URL from the environment, as a CI job would set it
    print(f"fault suites on a {url.split(':')[0]} storage:")
    code = pytest.main([str(folder), "-q", "-p", "no:cacheprovider", "--rootdir", str(folder), *select])
sys.exit(int(code))
