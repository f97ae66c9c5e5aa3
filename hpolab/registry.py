"""Names -> factories for optimizers and objectives. The CLI and the benchmarks only use names.

Built-in entries point at ``"module:attribute"`` strings so that nothing heavy is imported until a
name is used. Users add their own with :func:`register_optimizer` / :func:`register_objective`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpolab.exceptions import UnknownNameError

if TYPE_CHECKING:
    from hpolab.objectives.base import Objective
    from hpolab.optimizers._base import Optimizer
    from hpolab.space import SearchSpace

_logger = logging.getLogger("hpolab.registry")

__all__ = [
    "UnknownNameError",
    "list_objectives",
    "list_optimizers",
    "make_objective",
    "make_optimizer",
    "register_objective",
    "register_optimizer",
]


@dataclass(frozen=True)
class _Entry:
    target: str | Callable[..., Any]
    description: str
    extra: str | None = None

    def load(self) -> Callable[..., Any]:
        if callable(self.target):
            return self.target
        module, _, attr = self.target.partition(":")
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            if self.extra:
                raise ImportError(
                    f'{exc}. This needs an optional dependency: pip install "hpolab[{self.extra}]"'
                ) from exc
            raise
        obj: Callable[..., Any] = getattr(mod, attr)
        return obj


# name -> entry. Factories are called as factory(space, direction=..., seed=..., **kwargs).
_OPTIMIZERS: dict[str, _Entry] = {
    "random": _Entry("hpolab.optimizers._random:RandomSearch", "Random search (uniform / log-uniform samples)"),
    "grid": _Entry("hpolab.optimizers._grid:GridSearch", "Grid search at a resolution per continuous parameter"),
    "tpe": _Entry(
        "hpolab.optimizers._optuna:TPE", "Optuna's TPE sampler (n_startup_trials=, multivariate=, constant_liar=)"
    ),
    "cmaes": _Entry(
        "hpolab.optimizers._cmaes:CmaEs",
        "Optuna's CMA-ES sampler (popsize=); categorical / conditional parameters sampled at random",
        extra="cmaes",
    ),
    "smac-rf": _Entry(
        "hpolab.optimizers._smac:SMACRF", "SMAC Bayesian optimization, random forest (HPO facade)", extra="smac"
    ),
    "smac-gp": _Entry(
        "hpolab.optimizers._smac:SMACGP", "SMAC Bayesian optimization, Gaussian process (BlackBox facade)", extra="smac"
    ),
    "smac-mf": _Entry(
        "hpolab.optimizers._smac:SMACMF", "SMAC multi-fidelity (random forest + Hyperband, BOHB-like)", extra="smac"
    ),
    "asha": _Entry(
        "hpolab.optimizers._asha:ASHA",
        "ASHA scheduler over a searcher (base='random', min_budget=, max_budget=, eta=4)",
    ),
    "hyperband": _Entry(
        "hpolab.optimizers._asha:Hyperband", "Asynchronous Hyperband over a searcher (base='random', eta=4)"
    ),
    "portfolio": _Entry(
        "hpolab.optimizers._portfolio:Portfolio", "Transfer baseline: best mean-rank configs of other tasks (records=)"
    ),
    "llm": _Entry(
        "hpolab.llm._optimizer:LLMOptimizer",
        "LLM proposes configs, chat / compressed prompts; local SmolLM2 by default, base_url= / model= for a server",
        extra="local",
    ),
    "llm-multimodal": _Entry(
        "hpolab.llm._multimodal:MultimodalLLMOptimizer",
        "Vision LLM also sees a plot of the validation loss; needs a vision-capable server",
        extra="llm",
    ),
    "llm-tpe": _Entry(
        "hpolab.llm._warmstart:make_llm_tpe",
        "TPE warm-started with LLM proposals (n_initial=)",
        extra="local",
    ),
    "llm-smac": _Entry(
        "hpolab.llm._warmstart:make_llm_smac",
        "SMAC (random forest) warm-started with LLM proposals (n_initial=)",
        extra="smac",
    ),
    "llm-hybrid": _Entry(
        "hpolab.llm._hybrid:make_llm_hybrid",
        "Hybrid: core (TPE; core=), LLM and portfolio (records=) sources, adaptive bandit or fixed policy (policy=, share=)",
        extra="local",
    ),
    "llm-hybrid-nollm": _Entry(
        "hpolab.llm._controls:HybridNoLLM", "Control: llm-hybrid with the LLM removed (core and portfolio only)"
    ),
    "llm-hybrid-placebo": _Entry(
        "hpolab.llm._controls:HybridPlacebo",
        "Control: llm-hybrid whose LLM answers at random in the space (placebo='random' / 'permute')",
    ),
    "default-first": _Entry(
        "hpolab.llm._controls:DefaultFirst", "Control: the space's default config first, then the core (core=)"
    ),
    "counting-prior": _Entry(
        "hpolab.llm._controls:CountingPriorHybrid",
        "Control: llm-hybrid with the LLM replaced by value counts of other tasks' best configs (records=)",
    ),
    "carps": _Entry(
        "hpolab.integrations.carps._baseline:CARPSBaseline",
        "A CARP-S optimizer run through its ask/tell (optimizer='optuna/SO_TPE', 'randomsearch/config', 'smac20/blackbox')",
        extra="carps",
    ),
    "llm-finetuned": _Entry(
        "hpolab.llm.finetune._optimizer:FineTunedLLMOptimizer",
        "LoRA fine-tuned causal LM, one-shot or sequential (adapter=)",
        extra="finetune",
    ),
}

# family prefix -> (factory(rest_of_name, **kwargs) -> Objective, lister() -> {name: description})
_FAMILIES: dict[str, tuple[_Entry, _Entry]] = {
    "toy": (
        _Entry("hpolab.objectives.toy:make_toy", "2-D test functions and their shifted versions"),
        _Entry("hpolab.objectives.toy:list_toy", ""),
    ),
    "hpobench": (
        _Entry(
            "hpolab.objectives.hpobench:make_hpobench",
            "HPOBench NN tables (hpobench/nn/<dataset>) and an adapter for hpobench benchmarks",
            "tabular",
        ),
        _Entry("hpolab.objectives.hpobench:list_hpobench", "", "tabular"),
    ),
    "hpolib": (
        _Entry("hpolab.objectives.tabular:make_hpolib", "HPOLib FCNet tables", "tabular"),
        _Entry("hpolab.objectives.tabular:list_hpolib", "", "tabular"),
    ),
    "nb201": (
        _Entry("hpolab.objectives.tabular:make_nb201", "NAS-Bench-201 tables", "tabular"),
        _Entry("hpolab.objectives.tabular:list_nb201", "", "tabular"),
    ),
    "ml": (
        _Entry("hpolab.objectives.ml:make_ml", "scikit-learn / XGBoost models on data sets (live training)", "ml"),
        _Entry("hpolab.objectives.ml:list_ml", "", "ml"),
    ),
    "cnn": (
        _Entry("hpolab.objectives.cnn:make_cnn", "small torch CNNs on image data sets (live training)", "torch"),
        _Entry("hpolab.objectives.cnn:list_cnn", "", "torch"),
    ),
    "yahpo": (
        _Entry("hpolab.objectives.yahpo:make_yahpo", "YAHPO Gym surrogates (yahpo/<scenario>/<instance>)", "yahpo"),
        _Entry("hpolab.objectives.yahpo:list_yahpo", "", "yahpo"),
    ),
    "carps": (
        _Entry("hpolab.integrations.carps._tasks:make_carps", "CARP-S benchmark tasks (carps/<task id>)", "carps"),
        _Entry("hpolab.integrations.carps._tasks:list_carps", "", "carps"),
    ),
}


def register_optimizer(
    name: str, factory: str | Callable[..., Optimizer], description: str = "", *, extra: str | None = None
) -> None:
    """Register an optimizer factory under ``name``.

    Args:
        name: Registry name, e.g. ``"my-bo"``.
        factory: A callable ``factory(space, *, direction, seed, **kwargs)`` or a ``"module:attr"`` string.
        description: One line for ``hpolab list``.
        extra: The pip extra that provides its dependencies, named in the error when missing.
    """
    _OPTIMIZERS[name] = _Entry(factory, description, extra)


def register_objective(
    family: str,
    factory: str | Callable[..., Objective],
    lister: str | Callable[[], dict[str, str]],
    description: str = "",
    *,
    extra: str | None = None,
) -> None:
    """Register an objective family: names ``family/<rest>``.

    Args:
        family: Prefix, e.g. ``"mytasks"``.
        factory: ``factory(rest, **kwargs) -> Objective`` (``rest`` is the name after ``family/``).
        lister: ``lister() -> {full name: description}`` of the family's known names.
        description: One line for the family.
        extra: The pip extra that provides its dependencies.
    """
    _FAMILIES[family] = (_Entry(factory, description, extra), _Entry(lister, "", extra))


def _suggest(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=3)
    return f" Did you mean {', '.join(close)}?" if close else ""


def make_optimizer(
    name: str,
    space: SearchSpace | Any,
    *,
    direction: Any = "minimize",
    seed: int | None = None,
    **kwargs: Any,
) -> Optimizer:
    """Build a registered optimizer by name.

    Args:
        name: Registry name (see :func:`list_optimizers`).
        space: The search space.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the optimizer.
        **kwargs: Backend options.

    Raises:
        UnknownNameError: If ``name`` is not registered (the message lists the known names).
    """
    entry = _OPTIMIZERS.get(name)
    if entry is None:
        known = sorted(_OPTIMIZERS)
        raise UnknownNameError(
            f"optimizer: {name!r} is not registered; known: {', '.join(known)}.{_suggest(name, known)}"
        )
    factory = entry.load()
    optimizer: Optimizer = factory(space, direction=direction, seed=seed, **kwargs)
    return optimizer


#: The twin of a table objective: ``<table name>/twin``.
_TWIN = _Entry("hpolab.objectives.twin:make_twin", "the twin of a table objective")


def list_optimizers() -> dict[str, str]:
    """Registered optimizer names and their one-line descriptions."""
    return {name: entry.description for name, entry in sorted(_OPTIMIZERS.items())}


def make_objective(name: str, **kwargs: Any) -> Objective:
    """Build a registered objective by name, e.g. ``"toy/branin"`` or ``"hpobench/nn/kc1"``.

    ``<table name>/twin`` (e.g. ``"hpobench/nn/kc1/twin"``) builds the table's
    :class:`~hpolab.objectives.TwinObjective`.

    Raises:
        UnknownNameError: If the family or the name is unknown (the message lists the known ones).
    """
    base, _, last = name.rpartition("/")
    if last == "twin" and base:  # the twin of a table objective
        twin: Objective = _TWIN.load()(base, **kwargs)
        return twin
    family, _, rest = name.partition("/")
    pair = _FAMILIES.get(family)
    if pair is None or not rest:
        known = sorted(_FAMILIES)
        raise UnknownNameError(
            f"objective: {name!r} is not a registered name; names look like FAMILY/NAME with FAMILY in "
            f"{', '.join(known)} (`hpolab list` shows them all).{_suggest(family, known)}"
        )
    objective: Objective = pair[0].load()(rest, **kwargs)
    return objective


def list_objectives(families: Iterable[str] | None = None) -> dict[str, str]:
    """Registered objective names and their descriptions.

    Families whose optional dependency is missing are listed by their family description only;
    a family whose lister fails otherwise is listed with the error (and a logged warning), so one
    broken family does not hide the others.
    """
    out: dict[str, str] = {}
    for family, (factory, lister) in sorted(_FAMILIES.items()):
        if families is not None and family not in families:
            continue
        try:
            out.update(lister.load()())
        except ImportError:
            hint = f' (needs pip install "hpolab[{factory.extra}]")' if factory.extra else ""
            out[f"{family}/..."] = factory.description + hint
        except Exception as exc:  # a broken lister must not hide the other families
            _logger.warning("listing objective family %r failed: %s: %s", family, type(exc).__name__, exc)
            out[f"{family}/..."] = f"{factory.description} (listing failed: {type(exc).__name__}: {exc})"
    return out


def unknown_objective(family: str, rest: str, known: Iterable[str]) -> UnknownNameError:
    """The error a family factory raises for a name it does not know."""
    names = sorted(known)
    return UnknownNameError(
        f"objective: {family + '/' + rest!r} is not known; known: {', '.join(names)}.{_suggest(rest, names)}"
    )
