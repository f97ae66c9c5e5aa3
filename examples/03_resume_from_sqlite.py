"""Resume a study from SQLite: every finished trial is committed before the next one starts.

Run it twice: the second run continues the stored study up to 30 trials in total.
Run: python examples/03_resume_from_sqlite.py [path/to/runs.db]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import hpolab

db = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "runs.db"
url = f"sqlite:///{db}"

# First process: 12 trials, then it "crashes" (here: just stops).
study = hpolab.create_study("toy/rosenbrock", "random", storage=url, study_name="demo", load_if_exists=True, seed=1)
study.optimize(max_trials=12)
print(f"after the first run: {len(study.trials)} trials in {db.name}")

# A later process reopens the study by name; the optimizer replays the history and continues.
resumed = hpolab.load_study("demo", url)
resumed.optimize(max_trials=30)
print(f"after resuming: {len(resumed.trials)} trials, best {resumed.best_value:.4f}")
