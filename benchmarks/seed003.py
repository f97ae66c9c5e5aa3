"""Seed 003 end to end: the LLM optimizer's three modes (text, text + plot, plot only) on SVM and XGBoost.

Offline the LLM is hpolab's SimulatedLLMClient (marked as a simulation in the report). With a vision
model behind an OpenAI-compatible server, run ``hpolab compare --suite seed003`` with the LLM
optimizers given ``client={"base_url": ..., "model": ...}`` (docs/benchmarks.md has the command).
``--smoke`` runs one SVM and one XGBoost task with 1 seed.

Usage::

    python benchmarks/seed003.py                        # full scale: 8 tasks x 5 methods x 3 seeds
    python benchmarks/seed003.py --smoke -o /tmp/seed003-smoke
"""

from __future__ import annotations

import sys
from dataclasses import replace

from paper_suite import main

from hpolab._suites import Suite


def smoke(suite: Suite) -> Suite:
    """One SVM and one XGBoost task, 1 seed."""
    parts = tuple(replace(p, objectives=["ml/xgboost/twin_credit_g"]) for p in suite.parts)
    return replace(suite, objectives=["ml/svm/twin_kc1"], seeds=1, parts=parts)


if __name__ == "__main__":
    sys.exit(main("seed003", smoke=smoke))
