"""CARP-S's offline subsets as suites: its blackbox test tasks and multi-fidelity tasks at its own trial budgets."""

from __future__ import annotations

from typing import Any

from hpolab.benchmark._suite import Suite

__all__ = [
    "CARPS_BASELINES",
    "CARPS_BB_OFFLINE_TRIALS",
    "CARPS_BB_TASK_IDS",
    "CARPS_MF_OFFLINE_TRIALS",
    "CARPS_SUITES",
]

#: CARP-S's blackbox test subset (``task/subselection/blackbox/test``) that runs offline, with CARP-S's own
#: trial budgets: 8 BBOB tasks (ioh) and 7 YAHPO tasks (hpolab's ``yahpo/`` surrogates on onnxruntime
#: stand in for CARP-S's yahpo-gym tasks of the same scenario, instance and target).
CARPS_BB_OFFLINE_TRIALS: dict[str, int] = {
    "carps/bbob/2/6/1": 77,
    "carps/bbob/2/9/0": 77,
    "carps/bbob/2/12/2": 77,
    "carps/bbob/8/22/0": 134,
    "carps/bbob/16/1/1": 180,
    "carps/bbob/16/11/0": 180,
    "carps/bbob/32/9/0": 247,
    "carps/bbob/32/11/0": 247,
    "yahpo/lcbench/167184": 126,
    "yahpo/rbv2_rpart/18": 110,
    "yahpo/rbv2_rpart/4534": 110,
    "yahpo/rbv2_xgboost/1457": 170,
    "yahpo/rbv2_xgboost/1493": 170,
    "yahpo/rbv2_xgboost/1510": 170,
    "yahpo/rbv2_xgboost/41027": 170,
}
#: Which CARP-S blackbox test task each objective of the offline suite stands for (its task id there).
CARPS_BB_TASK_IDS: dict[str, str] = {
    **{name: name.removeprefix("carps/") for name in CARPS_BB_OFFLINE_TRIALS if name.startswith("carps/")},
    **{name: f"{name}/None" for name in CARPS_BB_OFFLINE_TRIALS if name.startswith("yahpo/")},
}
#: CARP-S's multi-fidelity subsets' lcbench and rbv2_xgboost tasks that run offline (trainsize / epoch fidelity),
#: with the trials CARP-S gives them (full-fidelity evaluations), and the blackbox test subset's lcbench task.
CARPS_MF_OFFLINE_TRIALS: dict[str, int] = {
    "yahpo/lcbench/167168": 126,  # multifidelity/dev
    "yahpo/lcbench/167184": 126,  # blackbox/test, here with its epoch fidelity
    "yahpo/rbv2_xgboost/40685": 170,  # multifidelity/test
    "yahpo/rbv2_xgboost/458": 170,  # multifidelity/dev
}
#: CARP-S's own optimizers, run through its ask/tell by hpolab's ``carps`` optimizer (label: CARP-S config).
CARPS_BASELINES: dict[str, Any] = {
    "carps-RandomSearch": {"name": "carps", "optimizer": "randomsearch/config"},
    "carps-Optuna-TPE": {"name": "carps", "optimizer": "optuna/SO_TPE"},
    "carps-SMAC3-HPOFacade": {"name": "carps", "optimizer": "smac20/hpo"},
    "carps-SMAC3-BlackBoxFacade": {"name": "carps", "optimizer": "smac20/blackbox"},
}
_CARPS_DIFFERENCES: tuple[str, ...] = (
    "**YAHPO tasks.** CARP-S builds its YAHPO tasks with yahpo-gym, which pins ConfigSpace <= 0.6.1 and numpy < 2. "
    "Here hpolab's `yahpo/<scenario>/<instance>` objectives evaluate the same surrogate files (yahpo_data 1.0.2) "
    "with onnxruntime and reproduce yahpo-gym's outputs; the value is 1 - val_accuracy / 100 (lcbench) or "
    "1 - acc (rbv2), CARP-S's targets turned into errors; the rbv2 scenarios' `repl` is fixed at 10.",
    "**CARP-S's optimizers.** `carps-RandomSearch`, `carps-Optuna-TPE`, `carps-SMAC3-HPOFacade` (random forest) and "
    "`carps-SMAC3-BlackBoxFacade` (Gaussian process) are CARP-S's "
    "own optimizer classes built from its own Hydra configs and driven through its ask/tell, the calls of its "
    "runner's loop; hpolab's study evaluates the trial in place of the runner. The task they see is built from "
    "the objective's space with the run's seed (RandomSearch samples from it).",
    "**Budgets.** CARP-S's trial budgets of the blackbox test subset per task; ASHA (where a fidelity exists) "
    "spends the same number of full-fidelity evaluations as its fidelity budget, as CARP-S counts a "
    "multi-fidelity run.",
    "**Seeds.** hpolab's seed scheme: each (task, seed) derives one optimizer seed, shared by every method on it, "
    "CARP-S's optimizers included (it is their `${seed}`).",
)
_CARPS_LLM: dict[str, Any] = {"name": "llm-hybrid", "llama_cpp": {"n_threads": 1}}

_CARPS_BB = Suite(
    name="carps-bb-offline",
    description=(
        "CARP-S's blackbox test subset that runs offline (8 BBOB tasks through ioh, YAHPO lcbench 167184, two "
        "rbv2_rpart and four rbv2_xgboost tasks on hpolab's YAHPO surrogates) at CARP-S's own trial budgets: "
        "hpolab's random search, TPE, SMAC (random forest), ASHA where a fidelity exists and llm-hybrid with the "
        "local model, beside CARP-S's RandomSearch, Optuna-TPE and SMAC3 HPO and BlackBox facades run through CARP-S's "
        "ask/tell. Export the results with hpolab.integrations.carps.export_carps_logs for CARP-S's analysis."
    ),
    optimizers={
        "random": "random",
        "tpe": "tpe",
        "smac-rf": "smac-rf",
        "asha": "asha",
        "llm-hybrid": _CARPS_LLM,
        **CARPS_BASELINES,
    },
    objectives=list(CARPS_BB_OFFLINE_TRIALS),
    seeds=10,
    n_trials=100,
    task_trials=CARPS_BB_OFFLINE_TRIALS,
    sections=(),
    differences=_CARPS_DIFFERENCES,
)

_CARPS_MF = Suite(
    name="carps-mf-offline",
    description=(
        "Multi-fidelity on YAHPO lcbench (epochs) and rbv2_xgboost (training-set share) surrogates, the tasks "
        "of CARP-S's multi-fidelity subsets that run offline: ASHA, Hyperband, SMAC's multi-fidelity facade and "
        "ASHA over the local LLM, each spending CARP-S's trials as full-fidelity evaluations."
    ),
    optimizers={
        "asha": "asha",
        "hyperband": "hyperband",
        "smac-mf": "smac-mf",
        # over 1,100 model calls per run: compact answers, and history left out in steps of 8 once the prompt
        # fills the context, so the model's cache of the prompt's start holds (benchmarks/llm_history_step.py)
        "asha-llm": {
            "name": "asha",
            "base": "llm",
            "base_kwargs": {"on_duplicate": "perturb", "answer_format": "compact", "history_step": 8},
        },
    },
    objectives=list(CARPS_MF_OFFLINE_TRIALS),
    seeds=10,
    n_trials=100,
    task_trials=CARPS_MF_OFFLINE_TRIALS,
    sections=(),
    differences=_CARPS_DIFFERENCES[:1] + _CARPS_DIFFERENCES[2:],
)


#: The CARP-S suites, by name.
CARPS_SUITES: dict[str, Suite] = {s.name: s for s in (_CARPS_BB, _CARPS_MF)}
