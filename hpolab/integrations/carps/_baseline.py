"""A CARP-S optimizer as an hpolab optimizer: CARP-S's baselines beside hpolab's in one comparison.

:class:`CARPSBaseline` (registered as ``carps``) builds one of CARP-S's optimizers from its own Hydra
config (``optimizer="optuna/SO_TPE"``: the file ``carps/configs/optimizer/optuna/SO_TPE.yaml``
with its ``defaults``) and drives it through CARP-S's ask/tell interface, the calls
``python -m carps.run`` makes in its own loop (``Optimizer._run``: ask, evaluate, tell). Only the
evaluation differs: the hpolab study evaluates the trial, and the CARP-S optimizer gets the cost as
a ``TrialValue``. The CARP-S ``Task`` it is built on carries the study's space, fidelity and trial
budget; its objective function only holds the space, and calling it is an error.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hpolab.integrations.carps._common import import_carps
from hpolab.optimizers._base import Optimizer, OptimizerError, Proposal
from hpolab.trial import Trial, TrialResult

import_carps()

from carps.objective_functions.objective_function import ObjectiveFunction as _CARPSObjectiveFunction  # noqa: E402
from carps.utils.trials import StatusType, TrialInfo, TrialValue  # noqa: E402

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

__all__ = ["CARPSBaseline", "carps_optimizer_config"]

_logger = logging.getLogger("hpolab.integrations.carps")


def _optimizer_root() -> Path:
    return Path(import_carps().__file__).parent / "configs" / "optimizer"


def carps_optimizer_config(ref: str) -> Any:
    """CARP-S's optimizer config ``ref`` (a path under ``configs/optimizer`` without ``.yaml``), defaults merged.

    The ``defaults`` list of the YAML (Hydra's, e.g. ``- base``) is resolved in the YAML's own
    folder, as Hydra composes it; the YAML's own keys win.

    Raises:
        ValueError: If no CARP-S optimizer config has that path (the message lists those of its folder).
    """
    from omegaconf import OmegaConf

    root = _optimizer_root()
    path = root / f"{ref}.yaml"
    if not path.is_file():
        folder = (root / ref).parent
        known = sorted(p.relative_to(root).with_suffix("").as_posix() for p in folder.glob("*.yaml"))
        if not known:
            known = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise ValueError(
            f"optimizer: {ref!r} is not a CARP-S optimizer config; give its path under carps/configs/optimizer "
            f"without .yaml (e.g. 'optuna/SO_TPE', 'randomsearch/config', 'smac20/blackbox'); near it: {known}"
        )
    cfg: Any = OmegaConf.load(path)
    merged: Any = OmegaConf.create({})
    for entry in cfg.pop("defaults", []) or []:
        if entry == "_self_":
            continue
        merged = OmegaConf.merge(merged, carps_optimizer_config(f"{Path(ref).parent.as_posix()}/{entry}"))
    return OmegaConf.merge(merged, cfg)


class _SpaceOnly(_CARPSObjectiveFunction):  # type: ignore[misc]
    """The objective function of the CARP-S task a :class:`CARPSBaseline` is built on: the space, no evaluation."""

    def __init__(self, configspace: ConfigurationSpace) -> None:
        super().__init__(loggers=[])
        self._configspace = configspace

    @property
    def configspace(self) -> ConfigurationSpace:
        return self._configspace

    def _evaluate(self, trial_info: TrialInfo) -> TrialValue:
        raise RuntimeError(
            "a CARP-S optimizer inside hpolab never evaluates: the hpolab study evaluates each trial and tells it"
        )


class CARPSBaseline(Optimizer):
    """One of CARP-S's optimizers (RandomSearch, Optuna-TPE, SMAC3 facades...) as an hpolab optimizer.

    Args:
        space: The search space.
        direction: ``"minimize"`` or ``"maximize"`` (CARP-S minimizes; a maximized value is negated).
        seed: The run seed CARP-S's config reads as ``${seed}``; the task's ConfigSpace is seeded
            with it too (CARP-S's RandomSearch samples from it).
        optimizer: CARP-S's optimizer config, its path under ``carps/configs/optimizer`` without
            ``.yaml``: ``"randomsearch/config"``, ``"optuna/SO_TPE"``, ``"smac20/blackbox"``,
            ``"smac20/multifidelity"``...
        n_trials: CARP-S's trial budget (``task.optimization_resources.n_trials``, which SMAC's
            scenario reads); default: the study's number of trials, else 100.

    Raises:
        ValueError: If ``optimizer`` names no CARP-S optimizer config.
    """

    name: ClassVar[str] = "carps"

    def __init__(
        self,
        space: Any,
        *,
        direction: str = "minimize",
        seed: int | None = None,
        optimizer: str = "optuna/SO_TPE",
        n_trials: int | None = None,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        self.config = carps_optimizer_config(optimizer)
        self.optimizer = optimizer
        self.optimizer_id = str(self.config.get("optimizer_id", optimizer))
        if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1):
            raise ValueError(f"n_trials: {n_trials!r} must be a positive int (CARP-S's trial budget)")
        self.n_trials = n_trials
        self._carps: Any = None
        self._outdir: str | None = None

    def _meta_params(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer, "optimizer_id": self.optimizer_id, "n_trials": self.n_trials}

    # ------------------------------------------------------------------ building
    def _run_seed(self) -> int:
        if self.seed is not None:
            return self.seed
        return int(np.random.default_rng().integers(2**31 - 1))

    def _task(self, seed: int, n_trials: int) -> Any:
        from carps.utils.task import FidelitySpace, InputSpace, OptimizationResources, OutputSpace, Task, TaskMetadata

        configspace = self.space.to_configspace()
        configspace.seed(seed)
        fidelity = self.context.get("fidelity")
        if fidelity is None:
            fidelity_space = FidelitySpace(is_multifidelity=False)
        else:
            fidelity_space = FidelitySpace(
                is_multifidelity=True,
                fidelity_type=str(fidelity.name),
                min_fidelity=fidelity.min,
                max_fidelity=fidelity.max,
            )
        return Task(
            name="hpolab",
            objective_function=_SpaceOnly(configspace),
            input_space=InputSpace(configuration_space=configspace, fidelity_space=fidelity_space),
            output_space=OutputSpace(n_objectives=1, objectives=("quality",)),
            optimization_resources=OptimizationResources(n_trials=n_trials, n_workers=1),
            metadata=TaskMetadata(),
            seed=seed,
        )

    def _build(self) -> Any:
        from hydra.utils import instantiate
        from omegaconf import OmegaConf

        seed = self._run_seed()
        n_trials = int(self.n_trials or self.context.get("n_trials") or 100)
        task = self._task(seed, n_trials)
        self._outdir = tempfile.mkdtemp(prefix="hpolab-carps-")
        weakref.finalize(self, _remove, self._outdir)
        fs = task.input_space.fidelity_space
        root = OmegaConf.merge(
            OmegaConf.create(
                {
                    "seed": seed,
                    "outdir": self._outdir,
                    "task": {
                        "optimization_resources": {"n_trials": n_trials},
                        "output_space": {"objectives": ["quality"]},
                        "input_space": {
                            "fidelity_space": {"min_fidelity": fs.min_fidelity, "max_fidelity": fs.max_fidelity}
                        },
                    },
                }
            ),
            self.config,
        )
        make = instantiate(root.optimizer)
        carps_optimizer = make(task=task, loggers=[])
        with contextlib.redirect_stdout(io.StringIO()) as printed:  # CARP-S prints the solver it built
            carps_optimizer.setup_optimizer()
        if printed.getvalue().strip():
            _logger.debug("CARP-S %s: %s", self.optimizer, printed.getvalue().strip())
        return carps_optimizer

    # ------------------------------------------------------------------ hpolab's backend API
    def _ask(self, n: int) -> Sequence[Proposal]:
        if self._carps is None:
            self._carps = self._build()
        out = []
        for _ in range(n):
            info = self._carps.ask()
            values = {k: _plain(v) for k, v in dict(info.config).items() if v is not None}
            active = set(self.space.active_names(values))  # CARP-S's Optuna samples inactive parameters too
            config = {k: v for k, v in values.items() if k in active}
            budget = None if info.budget is None or self.context.get("fidelity") is None else float(info.budget)
            out.append(Proposal(config=config, budget=budget, handle=info))
        return out

    def _tell(self, trial: Trial, result: TrialResult) -> None:
        info = trial.handle
        if info is None or self._carps is None:
            raise OptimizerError(f"carps: trial {trial.id} was not asked by this optimizer; it cannot be told")
        seconds = float(result.runtime or 0.0)
        if result.value is None:
            value = TrialValue(cost=float("inf"), virtual_time=seconds, status=StatusType.CRASHED)
        else:
            value = TrialValue(cost=self._signed(float(result.value)), virtual_time=seconds)
        self._carps.tell(trial_info=info, trial_value=value)

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        """A trial this optimizer did not ask is not given to CARP-S (its optimizers learn only their own asks)."""


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _remove(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
