"""Rerun check: do runs made again with the current code repeat the stored ones, trial by trial?

A benchmark's runs are seeded, so a run made again with the same code, options and seed should repeat
the stored one. This script compares a folder of stored runs (``results.log`` of an ``hpolab
compare``) with a folder of runs made again (the same command with another ``-o``, e.g. ``--seeds 1``
for each task's seed 0): for every run present in both, whether the two are identical (every trial's
configuration, to a relative 1e-12 on floats, and value), else the first trial where they part and
which source (the core or the LLM, ``source``) proposed it in each, and both runs' best values. It also
names the hpolab code each storage's runs record (``hpolab-source`` / ``hpolab-commit``, when recorded).

Run: ``python benchmarks/rerun_check.py STORED RERUN [--optimizers a,b] [-o FILE]``; it writes a Markdown
table to ``FILE`` (default: ``RERUN/rerun-check.md``).
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from hpolab.benchmark import load_results, results_storage, study_contexts
from hpolab.benchmark._transfer import _same_config as same_config

#: Relative tolerance for two floats to count as the same value (:func:`same_config` uses the same).
REL_TOL = 1e-12


def _same_value(x: Any, y: Any) -> bool:
    if pd.isna(x) and pd.isna(y):
        return True
    return bool(not pd.isna(x) and not pd.isna(y) and math.isclose(float(x), float(y), rel_tol=REL_TOL))


def compare_runs(stored: pd.DataFrame, rerun: pd.DataFrame) -> pd.DataFrame:
    """One row per run in both frames: identical or not, the first trial where they part, and both best values."""
    rows: list[dict[str, Any]] = []
    keys = ["optimizer", "objective", "seed"]
    theirs = {k: g.sort_values("trial") for k, g in rerun.groupby(keys, sort=True)}
    for key, old in stored.groupby(keys, sort=True):
        new = theirs.get(key)
        if new is None:
            continue
        old = old.sort_values("trial")
        parted: int | None = None
        for i, (a, b) in enumerate(zip(old.itertuples(), new.itertuples(), strict=False)):
            if not same_config(a.config or {}, b.config or {}) or not _same_value(a.value, b.value):
                parted = i
                break
        if parted is None and len(old) != len(new):
            parted = min(len(old), len(new))
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row.update(
            trials=f"{len(old)} / {len(new)}",
            identical=parted is None,
            first_difference="-" if parted is None else parted,
            source_there="-",
            best_stored=old["value"].min(),
            best_rerun=new["value"].min(),
        )
        if parted is not None:
            src = [str(f.iloc[parted]["source"]) if parted < len(f) else "-" for f in (old, new)]
            row["source_there"] = " / ".join(src)
        rows.append(row)
    return pd.DataFrame(rows)


def _code(folder: Path, runs: set[tuple[str, str, int]]) -> str:
    """The hpolab code that the folder's ``runs`` record, with run counts (``unrecorded`` for runs made before)."""
    counts: dict[str, int] = {}
    for c in study_contexts(str(results_storage(folder))):
        if (str(c.get("optimizer")), str(c.get("objective")), int(c.get("seed", -1))) not in runs:
            continue
        machine = c.get("machine") or {}
        label = str(machine.get("hpolab-source", "unrecorded"))
        if machine.get("hpolab-commit"):
            label += f" (commit {machine['hpolab-commit']})"
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{label}: {n} run{'s' if n != 1 else ''}" for label, n in sorted(counts.items()))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stored", type=Path, help="folder of the stored runs (its results.log)")
    parser.add_argument("rerun", type=Path, help="folder of the runs made again (its results.log)")
    parser.add_argument("--optimizers", default="", help="comma-separated optimizers to compare (default: all)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="Markdown file (default: RERUN/rerun-check.md)")
    args = parser.parse_args(argv)
    for folder in (args.stored, args.rerun):
        if not (folder / "results.log").is_file():
            parser.error(f"{str(folder)!r} holds no results.log; give the -o folder of an `hpolab compare`")
    wanted = {o.strip() for o in args.optimizers.split(",") if o.strip()}
    rerun = load_results(str(results_storage(args.rerun)))
    if wanted:
        rerun = rerun[rerun["optimizer"].isin(wanted)]
    studies = sorted({f"{o}|{t}|{s}" for o, t, s in rerun[["optimizer", "objective", "seed"]].itertuples(index=False)})
    stored = load_results(str(results_storage(args.stored)), studies=studies)
    table = compare_runs(stored, rerun)
    if table.empty:
        parser.error("no run is in both folders; rerun some of the stored runs' (optimizer, objective, seed) first")
    command = "python " + shlex.join(["benchmarks/rerun_check.py", *(sys.argv[1:] if argv is None else argv)])
    same = int(table["identical"].sum())
    runs = {(str(o), str(t), int(s)) for o, t, s in table[["optimizer", "objective", "seed"]].itertuples(index=False)}
    lines = [
        "# Runs made again against the stored ones",
        "",
        f"Command: `{command}`.",
        "",
        f"Stored runs' hpolab code: {_code(args.stored, runs)}. Runs made again: {_code(args.rerun, runs)}.",
        "",
        "A run is identical when every trial's configuration (floats to a relative 1e-12) and value repeat; "
        "otherwise `first difference` is the first trial (from 0) where they part and `source there` which "
        "source proposed it in the stored run / the rerun.",
        "",
        "| " + " | ".join(c.replace("_", " ") for c in table.columns) + " |",
        "|" + "---|" * len(table.columns),
    ]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in table.itertuples(index=False)]
    lines += ["", f"{same} of {len(table)} runs identical trial by trial."]
    out = args.output or args.rerun / "rerun-check.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
