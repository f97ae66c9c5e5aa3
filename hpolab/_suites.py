"""The named suites: each paper's comparison as a :class:`Suite` (re-exported by :mod:`hpolab.benchmarking`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SUITES", "Suite", "get_suite"]


# -------------------------------------------------------------------------------- suites
@dataclass(frozen=True)
class Suite:
    """A named comparison from one of the seed papers.

    Attributes:
        name: ``hpolab compare --suite NAME``.
        description: What it compares and which paper it reproduces.
        optimizers: Registry names or ``{label: spec}`` (see :func:`run`).
        objectives: Registry names or patterns.
        seeds: Number of seeds.
        n_trials: Trials per run.
        budget: Fidelity budget per run (multi-fidelity suites).
        random_pool: Random configurations per objective for the bootstrap baseline.
        table1_budget: Evaluations at which Table 1 is computed.
        sections: Report sections: ``"table1"``, ``"rmse"``, ``"importance"``, ``"budget"``.
        objective_kwargs: Options for every objective.
    """

    name: str
    description: str
    optimizers: Sequence[str] | Mapping[str, Any]
    objectives: Sequence[str]
    seeds: int
    n_trials: int | None
    budget: float | None = None
    random_pool: int = 0
    table1_budget: int = 10
    sections: tuple[str, ...] = ("table1",)
    objective_kwargs: Mapping[str, Any] = field(default_factory=dict)


#: The 8 OpenML data sets of HPOBench that seed 002 uses (4 models each: 32 tasks).
_HPOBENCH_DATASETS = ("car", "phoneme", "vehicle", "australian", "kc1", "segment", "blood_transfusion", "credit_g")

#: How the suites run the local LLM (SmolLM2-135M through llama.cpp) on a CPU: LLMOptimizer's defaults
#: (compressed prompt, JSON-schema-constrained answers), duplicates perturbed instead of re-asked (one model call
#: per trial), and one llama.cpp thread per worker process (more threads than free cores make llama.cpp's threads
#: wait on each other). Measured with one thread on a free core (benchmarks/results/llm_hpobench.md), constrained
#: answers took a median 2.2 s, no slower than free-text ones, and were all valid JSON.
_LOCAL_LLM: dict[str, Any] = {
    "name": "llm",
    "on_duplicate": "perturb",
    "llama_cpp": {"n_threads": 1},
}

#: The named suites.
SUITES: dict[str, Suite] = {
    "quick": Suite(
        name="quick",
        description=(
            "A few minutes on 2 CPU cores: two 2-D toy functions and two HPOBench NN tables; random search, "
            "TPE, SMAC (random forest) and the local LLM optimizer (SmolLM2-135M through llama.cpp: JSON-schema-constrained "
            "answers; duplicates perturbed); 10 evaluations per run as in seed 002."
        ),
        optimizers={
            "random": "random",
            "tpe": "tpe",
            "smac-rf": "smac-rf",
            "llm": _LOCAL_LLM,
        },
        objectives=["toy/branin", "toy/shifted_ackley", "hpobench/nn/kc1", "hpobench/nn/credit_g"],
        seeds=2,
        n_trials=10,
        random_pool=200,
        table1_budget=10,
        sections=("table1", "importance"),
    ),
    "seed002": Suite(
        name="seed002",
        description=(
            "Seed 002 (Zhang et al.), Table 1: the 8 HPOBench NN tables and live SVM, logistic regression and random "
            "forest models on the same 8 data sets (32 tasks); random search, "
            "TPE, SMAC with random-forest and Gaussian-process surrogates and the LLM optimizer, 10 evaluations; "
            "random's loss at 10 evaluations is a bootstrap from 500 random configurations per task."
        ),
        optimizers={
            "random": "random",
            "tpe": "tpe",
            "smac-rf": "smac-rf",
            "smac-gp": "smac-gp",
            "llm": _LOCAL_LLM,
        },
        objectives=["hpobench/nn/*", *[f"ml/{m}/{d}" for m in ("svm", "lr", "rf") for d in _HPOBENCH_DATASETS]],
        seeds=3,
        n_trials=10,
        random_pool=500,
        table1_budget=10,
        sections=("table1", "importance"),
    ),
    "seed003": Suite(
        name="seed003",
        description=(
            "Seed 003: the multimodal LLM optimizer (loss plot as an image) against the text-only one, random "
            "search and TPE on SVM and XGBoost tasks (phoneme, segment, credit-g, kc1)."
        ),
        optimizers=["random", "tpe", "llm", "llm-multimodal"],
        objectives=[f"ml/{m}/{d}" for m in ("svm", "xgboost") for d in ("phoneme", "segment", "credit_g", "kc1")],
        seeds=3,
        n_trials=10,
        random_pool=100,
        table1_budget=10,
        sections=("table1",),
    ),
    "seed004": Suite(
        name="seed004",
        description=(
            "Seed 004: grid search, random search, Bayesian optimization (TPE) and ASHA on small CNNs under one "
            "epoch budget per run, with fANOVA importance of the hyperparameters."
        ),
        optimizers=["grid", "random", "tpe", "asha"],
        objectives=["cnn/*"],
        seeds=3,
        n_trials=None,
        budget=48.0,
        sections=("budget", "importance"),
    ),
    "seed000": Suite(
        name="seed000",
        description=(
            "Seed 000: the fine-tuned LLM optimizer (one-shot proposals) against Optuna's TPE on CNNs, compared "
            "by the RMSE of (1 - accuracy) with Student-t 95% intervals."
        ),
        optimizers=["tpe", "llm-finetuned"],
        objectives=["cnn/*"],
        seeds=3,
        n_trials=10,
        sections=("rmse",),
    ),
}


def get_suite(name: str) -> Suite:
    """The suite called ``name``.

    Raises:
        ValueError: If there is no such suite (the message lists them).
    """
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"suite: {name!r} is not a suite; known: {', '.join(sorted(SUITES))}") from None
