"""Run a small `hpolab compare` and read its results back into pandas.

`hpolab compare` writes every trial to OUTPUT/results.log (a journal file; resumable) and a report beside it;
`hpolab.benchmark.load_results` reads the trials back as a DataFrame, one row per trial, for
your own analysis. Here: random search, TPE and grid search on two toy functions, 2 seeds; then Table 1 and
the aggregate view at 12 evaluations written into a Markdown file of your own with the report's own writers.

Run: python examples/08_compare_into_pandas.py [OUTPUT_FOLDER]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from hpolab.analysis.metrics import aggregate_table, final_losses, table1
from hpolab.analysis.report import Document, aggregate_view, table1_table
from hpolab.benchmark import load_results

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "compare"
command = [
    sys.executable, "-m", "hpolab", "compare", "--suite", "quick",
    "--optimizers", "random,tpe,grid", "--objectives", "toy/branin,toy/quad2d",
    "--seeds", "2", "--max-evaluations", "12", "--random-pool", "50",
    "--output", str(out), "--no-progress",
]  # fmt: skip
subprocess.run(command, check=True)

df = load_results(out / "results.log")
print(f"\n{len(df)} trials, columns: {', '.join(df.columns[:12])}, ...")
print(df.groupby(["objective", "optimizer"])["value"].agg(["count", "min", "median"]).round(4))
# the best value of each run after 5 and after 12 evaluations
for n_trials in (5, 12):
    best = final_losses(df[df["optimizer"] != "random-pool"], n_trials)
    print(f"\nbest after {n_trials} evaluations, mean over seeds:")
    print(best.groupby(["objective", "optimizer"])["loss"].mean().unstack().round(4))

# your own Markdown with the report's tables: the same intervals, tie rule and Holm-corrected tests
doc = Document()
doc.h(2, "Table 1 at 12 evaluations")
table1_table(doc, table1(df, 12))
aggregate_view(doc, aggregate_table(df, 12), n_seeds=2, n_tasks=2)
(out / "my_tables.md").write_text(doc.markdown(out))
print(f"\nthe report: {out / 'report.md'}; Table 1 and the aggregate view alone: {out / 'my_tables.md'}")
