"""Seed 004 end to end: grid, random, SMAC, TPE and ASHA under one epoch budget; fANOVA; subset transfer.

Writes benchmarks/results/seed004/ (report.md, report.html, plots, commands.txt, wall_time.json).
The suite itself is ``hpolab.benchmark.SUITES["seed004"]`` (digits with its training split cut to
200 images, ``cnn/digits-small-4block``; ``hpolab compare --suite seed004-digits`` runs the whole
split, at its ceiling); its report says where it differs from the paper. ``--smoke`` runs every part
at its smallest size (a few minutes on 2 cores).

Usage::

    python benchmarks/seed004.py                        # full scale
    python benchmarks/seed004.py --smoke -o out/seed004-smoke
"""

from __future__ import annotations

import sys
from dataclasses import replace

from paper_suite import main

from hpolab.benchmark import Suite


def smoke(suite: Suite) -> Suite:
    """4 epochs per training, 4 sets per method (16 epochs; ASHA r=1, R=4, eta=4), 1 seed, small parts."""
    epochs, sets = 4, 4
    asha = {"name": "asha", "min_budget": 1, "max_budget": epochs, "eta": 4}
    optimizers = {**dict(suite.optimizers), "asha": asha}  # type: ignore[arg-type]
    optimizers["smac-gp"] = {**optimizers["smac-gp"], "n_trials": sets, "n_initial": 2}
    kw = {**dict(suite.objective_kwargs), "max_epochs": epochs}
    parts = []
    for part in suite.parts:
        if part.name == "fanova":
            parts.append(replace(part, n_trials=12, seeds=1))
        elif part.name == "transfer":
            parts.append(replace(part, optimizers={"asha": asha}, max_budget_spent=float(2 * epochs), seeds=1))
        elif part.name == "mnist":
            parts.append(
                replace(
                    part,
                    optimizers=optimizers,
                    max_budget_spent=float(2 * epochs),
                    objective_kwargs={
                        **dict(part.objective_kwargs or {}),
                        "max_epochs": epochs,
                        "subset_fraction": 0.2,
                    },
                    seeds=1,
                )
            )
    return replace(
        suite,
        optimizers=optimizers,
        seeds=1,
        max_budget_spent=float(sets * epochs),
        objective_kwargs=kw,
        parts=tuple(parts),
        differences=(
            "**Smoke size (this run).** 4 epochs per training, 4 sets per method (16 epochs; ASHA r=1, R=4, eta=4), 1 seed; fANOVA from 12 trainings; transfer with 8 epochs of ASHA per subset; MNIST (when asked for) on a fifth of the sample. The lines below describe the full-scale suite.",
            *suite.differences,
        ),
    )


if __name__ == "__main__":
    sys.exit(main("seed004", smoke=smoke))
