"""Seed 002 end to end: Table 1 on 32 tasks (8 HPOBench NN tables + live SVM / LR / RF), both TPE start-ups.

Writes benchmarks/results/seed002/. ``--smoke`` runs one task per model family with 1 seed and a
random pool of 20 configurations (a couple of minutes on 2 cores).

Usage::

    python benchmarks/seed002.py                        # full scale: 32 tasks x 6 methods x 3 seeds + pools
    python benchmarks/seed002.py --smoke -o out/seed002-smoke
"""

from __future__ import annotations

import sys
from dataclasses import replace

from paper_suite import main

from hpolab.benchmark import Suite


def smoke(suite: Suite) -> Suite:
    """One NN table and one live task per model (4 tasks), 1 seed, a pool of 20, no LLM."""
    optimizers = {k: v for k, v in dict(suite.optimizers).items() if k != "llm"}  # type: ignore[arg-type]
    objectives = ["hpobench/nn/kc1", "ml/svm/twin_kc1", "ml/lr/breast_cancer", "ml/rf/iris"]
    return replace(
        suite,
        optimizers=optimizers,
        objectives=objectives,
        seeds=1,
        random_pool=20,
        differences=(
            "**Smoke size (this run).** 4 tasks (one NN table, one SVM, one logistic regression, one random forest), 1 seed, a random pool of 20, no LLM. The lines below describe the full-scale suite.",
            *suite.differences,
        ),
    )


if __name__ == "__main__":
    sys.exit(main("seed002", smoke=smoke))
