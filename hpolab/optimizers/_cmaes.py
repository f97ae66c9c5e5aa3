"""Optuna's CMA-ES sampler (the ``cmaes`` package) behind hpolab's ask/tell interface, and its state."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hpolab.optimizers._optuna import OptunaSamplerOptimizer, optuna_distributions
from hpolab.trial import Direction, Trial, TrialResult, TrialState

if TYPE_CHECKING:
    import optuna

__all__ = ["CmaEs", "CmaState", "CmaDirection"]

_logger = logging.getLogger("hpolab.optimizers.cmaes")


@dataclass(frozen=True)
class CmaDirection:
    """One principal axis of CMA-ES's covariance.

    Attributes:
        spread: Standard deviation of the search distribution along the axis
            (``sigma * sqrt(eigenvalue)``), in the scaled coordinates of :class:`CmaState`.
        weights: The unit eigenvector, one component per parameter name.
    """

    spread: float
    weights: Mapping[str, float]


@dataclass(frozen=True)
class CmaState:
    """CMA-ES's search distribution, in the space's parameter names.

    CMA-ES works in scaled coordinates: each parameter it models is mapped to ``[0, 1]`` over its
    range (over the logarithm of the range for log-scaled parameters, over the positions of the
    values for ordinals). The distribution is ``N(mean, sigma^2 C)`` in those coordinates.

    Attributes:
        names: The parameters CMA-ES models, in its coordinate order.
        mean: The mean, in the parameters' own values (an ordinal's nearest value).
        mean_scaled: The mean in the scaled coordinates.
        sigma: The step size (scaled coordinates).
        directions: The covariance's leading axes, widest first.
        generation: Generations told so far (0: the initial distribution).
        population: Trials per generation.
        independent: Parameters sampled outside CMA-ES (categorical, conditional).
    """

    names: tuple[str, ...]
    mean: Mapping[str, Any]
    mean_scaled: Mapping[str, float]
    sigma: float
    directions: tuple[CmaDirection, ...]
    generation: int
    population: int
    independent: tuple[str, ...] = field(default=())


class CmaEs(OptunaSamplerOptimizer):
    """CMA-ES through Optuna's ``CmaEsSampler`` (the ``cmaes`` package), driven by ask/tell.

    The numeric parameters every trial has are modelled by CMA-ES, a multivariate normal search
    distribution whose mean, step size and covariance are updated after each generation
    (``popsize`` trials). Ordinal parameters (an HPOBench table's grid) are modelled by the
    position of their value among their ordered values (``ordinal_as_index=True``); ``False``
    leaves them categorical, as Optuna does.

    Categorical and conditional parameters are not modelled: Optuna's ``CmaEsSampler`` samples a
    categorical parameter, and a parameter that not every trial has (one whose condition can
    fail), with its independent sampler, Optuna's ``RandomSampler`` with the same seed. A space
    with such parameters gets one logged warning naming them when the optimizer is built, instead
    of Optuna's warning at every trial. Until the first trial is complete every parameter is
    sampled at random (Optuna's ``n_startup_trials=1``).

    Trials the optimizer did not ask (:meth:`observe`: other workers' trials, or the LLM's in
    ``llm-hybrid``) join the generation CMA-ES is filling when ``learn_observed`` is set: CMA-ES
    then updates from their configurations and values as from its own samples (Centaur's "CMA-ES
    learns from every trial"). With ``learn_observed=False`` they are added to the Optuna study
    only, and Optuna's ``CmaEsSampler`` ignores them. Budgets are ignored (single-fidelity).

    :meth:`state` reads the current search distribution from the pickled CMA-ES object that
    Optuna keeps in its trials' system attributes.

    Args:
        space: The search space.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the sampler (CMA-ES's and the independent sampler's draws).
        popsize: Trials per generation; ``None`` for CMA-ES's ``4 + floor(3 ln d)``.
        n_startup_trials: Complete trials before CMA-ES starts (random samples until then).
        ordinal_as_index: Model ordinals without a step by their positions (see above).
        learn_observed: Let observed trials join CMA-ES's generations (see above).
        use_separable_cma: Optuna's separable CMA-ES (a diagonal covariance).
        with_margin: Optuna's CMA-ES with margin for integer and stepped parameters.
        lr_adapt: Optuna's learning-rate adaptation (for noisy or multimodal objectives).
    """

    name: ClassVar[str] = "cmaes"

    def __init__(
        self,
        space: Any,
        *,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
        popsize: int | None = None,
        n_startup_trials: int = 1,
        ordinal_as_index: bool = True,
        learn_observed: bool = True,
        use_separable_cma: bool = False,
        with_margin: bool = False,
        lr_adapt: bool = False,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        if popsize is not None and (isinstance(popsize, bool) or not isinstance(popsize, int) or popsize < 2):
            raise ValueError(f"popsize: {popsize!r} must be an int >= 2 or None (CMA-ES's default)")
        if isinstance(n_startup_trials, bool) or not isinstance(n_startup_trials, int) or n_startup_trials < 0:
            raise ValueError(f"n_startup_trials: {n_startup_trials!r} must be an int >= 0")
        if use_separable_cma and with_margin:
            raise ValueError("use_separable_cma and with_margin: Optuna supports one of them at a time, not both")
        if lr_adapt and (use_separable_cma or with_margin):
            raise ValueError(
                "lr_adapt: Optuna supports it with plain CMA-ES only; drop use_separable_cma / with_margin"
            )
        self.popsize = popsize
        self.n_startup_trials = n_startup_trials
        self.ordinal_as_index = bool(ordinal_as_index)
        self.learn_observed = bool(learn_observed)
        self.use_separable_cma = bool(use_separable_cma)
        self.with_margin = bool(with_margin)
        self.lr_adapt = bool(lr_adapt)
        self._prefix = "sepcma:" if self.use_separable_cma else ("cmawm:" if self.with_margin else "cma:")
        independent = self.independent_names()
        if independent:
            _logger.warning(
                "cmaes: CMA-ES models numeric parameters only; %s sampled independently by Optuna's RandomSampler "
                "(categorical or conditional): %s",
                "this one is" if len(independent) == 1 else "these are",
                ", ".join(independent),
            )

    def _meta_params(self) -> dict[str, Any]:
        return {
            "popsize": self.popsize,
            "n_startup_trials": self.n_startup_trials,
            "ordinal_as_index": self.ordinal_as_index,
            "learn_observed": self.learn_observed,
            "use_separable_cma": self.use_separable_cma,
            "with_margin": self.with_margin,
            "lr_adapt": self.lr_adapt,
        }

    def independent_names(self) -> list[str]:
        """Parameters CMA-ES does not model: categorical ones, and those behind a condition."""
        from optuna.distributions import CategoricalDistribution

        distributions = optuna_distributions(self.space, ordinal_as_index=self.ordinal_as_index)
        # a parameter behind a condition is inactive when no parent value is known
        conditional = set(self.space.names) - set(self.space.active_names({}))
        return [
            name
            for name, dist in distributions.items()
            if isinstance(dist, CategoricalDistribution) or name in conditional
        ]

    def _make_sampler(self, seed: int | None) -> optuna.samplers.BaseSampler:
        import warnings

        import optuna

        with warnings.catch_warnings():
            # separable CMA-ES, margin and lr adaptation are flagged experimental; the user asked for them
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.CmaEsSampler(
                n_startup_trials=self.n_startup_trials,
                independent_sampler=optuna.samplers.RandomSampler(seed=seed),
                warn_independent_sampling=False,  # warned once, at construction
                seed=seed,
                popsize=self.popsize,
                use_separable_cma=self.use_separable_cma,
                with_margin=self.with_margin,
                lr_adapt=self.lr_adapt,
            )

    # ---------------------------------------------------------------- observed trials join a generation
    def _observed_system_attrs(self, trial: Trial, result: TrialResult) -> dict[str, Any]:
        """The generation CMA-ES is filling, for an observed complete trial that sets every modelled parameter."""
        if not self.learn_observed or self.with_margin or result.state is not TrialState.COMPLETE:
            return {}  # with margin, CMA-ES needs its own encoded sample ("x_for_tell"), which an observed trial lacks
        restored = self._restore()
        if restored is None:  # no generation told yet: the first one is being filled
            generation, names = 0, self._modelled()
        else:
            generation, names = int(restored[0].generation), restored[1]
        if not names or any(name not in trial.config for name in names):
            return {}
        return {self._prefix + "generation": generation}

    # ---------------------------------------------------------------- state
    def _restore(self) -> tuple[Any, list[str]] | None:
        """The newest CMA-ES object Optuna stored (or ``None`` before the first update) and its parameter names.

        Optuna stores the object, pickled and split over several system attributes, on the trial
        whose ask updated it; the newest one is the distribution the next ask samples from.
        """
        if self._study is None:
            return None
        key = self._prefix + "optimizer:"
        for frozen in reversed(self._study.get_trials(deepcopy=False)):
            parts = {k: v for k, v in frozen.system_attrs.items() if k.startswith(key)}
            if parts:
                text = "".join(parts[f"{key}{i}"] for i in range(len(parts)))
                optimizer = pickle.loads(bytes.fromhex(text))  # written by this process's own sampler
                return optimizer, self._modelled(frozen)
        return None

    def _modelled(self, frozen: optuna.trial.FrozenTrial | None = None) -> list[str]:
        """The parameters CMA-ES models now: its sampler's relative search space (in coordinate order)."""
        study = self.study
        if frozen is None:
            trials = study.get_trials(deepcopy=False)
            if not trials:
                return []
            frozen = trials[-1]
        return list(study.sampler.infer_relative_search_space(study, frozen))

    def state(self, k: int = 3) -> CmaState | None:
        """CMA-ES's current search distribution in the space's names, or ``None`` before it starts.

        Before the first generation is told, the initial distribution: the centre of the scaled
        box, ``sigma = 1/6`` and an identity covariance (Optuna's defaults).

        Args:
            k: Leading covariance axes to give.
        """
        from optuna._transform import _SearchSpaceTransform

        if self._study is None or not self._study.get_trials(deepcopy=False):
            return None
        restored = self._restore()
        if restored is None:
            names = self._modelled()
            if not names:
                return None
            dim = len(names)
            mean = np.full(dim, 0.5)
            sigma = 1.0 / 6.0
            cov = np.eye(dim)
            generation = 0
            population = self.popsize or 4 + int(3 * np.log(dim))
        else:
            optimizer, names = restored
            inner = getattr(optimizer, "_cma", optimizer)  # CMA-ES with margin wraps a plain CMA
            mean = np.asarray(inner.mean, dtype=float)
            sigma = float(inner._sigma)
            cov = np.asarray(inner._C, dtype=float)
            if cov.ndim == 1:  # separable CMA-ES: the diagonal
                cov = np.diag(cov)
            generation = int(optimizer.generation)
            population = int(optimizer.population_size)
        if len(names) != len(mean):
            return None  # the modelled parameters changed (a conditional space): Optuna samples at random
        distributions = optuna_distributions(self.space, ordinal_as_index=self.ordinal_as_index)
        trans = _SearchSpaceTransform(
            {name: distributions[name] for name in names}, transform_step=not self.with_margin, transform_0_1=True
        )
        external = trans.untransform(np.clip(mean, 0.0, 1.0))
        values: dict[str, Any] = {}
        for name in names:
            param = self.space[name]
            value = external[name]
            if self.ordinal_as_index and param.kind == "ordinal" and param.step is None:
                value = param.choices[int(value)]
            values[name] = value
        eigenvalues, eigenvectors = np.linalg.eigh((cov + cov.T) / 2.0)
        order = np.argsort(eigenvalues)[::-1][: max(int(k), 0)]
        directions = tuple(
            CmaDirection(
                spread=float(sigma * np.sqrt(max(float(eigenvalues[i]), 0.0))),
                weights=dict(zip(names, (float(w) for w in _signed_unit(eigenvectors[:, i])), strict=True)),
            )
            for i in order
        )
        return CmaState(
            names=tuple(names),
            mean=values,
            mean_scaled={name: float(m) for name, m in zip(names, mean, strict=True)},
            sigma=sigma,
            directions=directions,
            generation=generation,
            population=population,
            independent=tuple(n for n in self.independent_names() if n not in names),
        )


def _signed_unit(vector: np.ndarray) -> np.ndarray:
    """An eigenvector with its largest component positive (eigenvectors have no sign of their own)."""
    v = np.asarray(vector, dtype=float)
    return -v if v[int(np.argmax(np.abs(v)))] < 0 else v
