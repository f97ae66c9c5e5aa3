"""Any registered hpolab optimizer as a CARP-S optimizer (a ``carps.optimizers.optimizer.Optimizer``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hpolab.integrations.carps._common import (
    describe_task,
    fidelity_of,
    import_carps,
    result_from_trial_value,
    to_plain_dict,
)
from hpolab.trial import Direction, TrialRecord

import_carps()

from carps.optimizers.optimizer import Optimizer as _CARPSOptimizer  # noqa: E402
from carps.utils.trials import TrialInfo  # noqa: E402

if TYPE_CHECKING:
    import ConfigSpace as CS

    from hpolab.optimizers._base import Optimizer
    from hpolab.space import SearchSpace

__all__ = ["HpolabOptimizer"]


class HpolabOptimizer(_CARPSOptimizer):  # type: ignore[misc]
    """A registered hpolab optimizer (``"tpe"``, ``"random"``, ``"asha"``...) run by CARP-S.

    CARP-S minimizes a single cost; the hpolab optimizer is built on the task's ConfigSpace with
    ``direction="minimize"``. On a multi-fidelity task the optimizer learns the task's fidelity
    (its ``min_fidelity`` / ``max_fidelity``), so schedulers such as ASHA and Hyperband propose
    budgets, which travel to CARP-S in ``TrialInfo.budget`` and come back with the result; a
    single-fidelity optimizer's trials run at ``max_fidelity``, as CARP-S's random search does.
    Each ``TrialInfo`` carries the hpolab trial id in ``name``; a ``TrialInfo`` this optimizer did
    not ask (no such name) is added as an outside result (``observe``).

    Args:
        task: The CARP-S task.
        optimizer_name: A registered hpolab optimizer name (``hpolab list`` shows them).
        optimizer_kwargs: Options of that optimizer.
        seed: Seed of the hpolab optimizer; ``None`` takes the task's seed.
        loggers: CARP-S loggers.
        expects_multiple_objectives: CARP-S metadata; hpolab optimizers are single-objective.
        expects_fidelities: CARP-S metadata: refuse single-fidelity tasks when true.

    Raises:
        ValueError: If the task has more than one objective, or ``optimizer_name`` is not registered.
    """

    def __init__(
        self,
        task: Any,
        optimizer_name: str = "random",
        optimizer_kwargs: Mapping[str, Any] | None = None,
        seed: int | None = None,
        loggers: list[Any] | None = None,
        expects_multiple_objectives: bool = False,
        expects_fidelities: bool = False,
    ) -> None:
        super().__init__(
            task,
            loggers,
            expects_multiple_objectives=expects_multiple_objectives,
            expects_fidelities=expects_fidelities,
        )
        from hpolab.registry import list_optimizers

        n_objectives = task.output_space.n_objectives
        if n_objectives != 1 or expects_multiple_objectives:
            raise ValueError(
                f"task {task.name!r}: it has {n_objectives} objectives; hpolab optimizers minimize one cost, "
                "use a single-objective CARP-S task"
            )
        if expects_fidelities and not task.input_space.fidelity_space.is_multifidelity:
            raise ValueError(
                f"task {task.name!r}: expects_fidelities is true but the task is not multi-fidelity; "
                "pick a multi-fidelity task or set expects_fidelities=false"
            )
        known = list_optimizers()
        if optimizer_name not in known:
            raise ValueError(
                f"optimizer_name: {optimizer_name!r} is not a registered hpolab optimizer; known: {', '.join(known)}"
            )
        self.optimizer_name = optimizer_name
        self.optimizer_kwargs = to_plain_dict(optimizer_kwargs)
        self.seed = task.seed if seed is None else int(seed)
        self.configspace: CS.ConfigurationSpace = task.objective_function.configspace
        self.fidelity = fidelity_of(task.input_space.fidelity_space)
        self.fidelity_enabled = self.fidelity is not None
        self._told: dict[int, tuple[Any, Any]] = {}  # hpolab trial id -> (TrialInfo, TrialValue)

    # ------------------------------------------------------------------ CARP-S's interface
    def convert_configspace(self, configspace: CS.ConfigurationSpace) -> SearchSpace:
        """The task's ConfigSpace as an hpolab SearchSpace."""
        from hpolab.space import SearchSpace

        return SearchSpace(configspace)

    def _setup_optimizer(self) -> Optimizer:
        from hpolab.registry import make_optimizer

        space = self.convert_configspace(self.configspace)
        optimizer = make_optimizer(
            self.optimizer_name, space, direction=Direction.MINIMIZE, seed=self.seed, **self.optimizer_kwargs
        )
        n_trials = self.task.optimization_resources.n_trials
        optimizer.set_context(
            description=describe_task(self.task),
            # On a multi-fidelity task CARP-S counts full-budget equivalents, not trials.
            n_trials=int(n_trials) if n_trials is not None and self.fidelity is None else None,
            fidelity=self.fidelity,
        )
        return optimizer

    def convert_to_trial(self, trial: Any) -> Any:  # type: ignore[override]
        """An hpolab Trial as a CARP-S ``TrialInfo`` (config, seed, budget; the trial id as ``name``).

        Raises:
            ValueError: If the optimizer proposes a budget on a single-fidelity task.
        """
        from ConfigSpace import Configuration

        budget: float | None = trial.budget
        if self.fidelity is None:
            if budget is not None:
                raise ValueError(
                    f"optimizer {self.optimizer_name!r} proposed budget {budget}, but task {self.task.name!r} "
                    "is not multi-fidelity; use a single-fidelity optimizer (tpe, random, smac-rf...) on it"
                )
        elif budget is None:
            budget = self.fidelity.max
        else:
            budget = self.fidelity.check(budget)
        config = Configuration(self.configspace, values=trial.config)
        return TrialInfo(config=config, seed=trial.seed, budget=budget, name=str(trial.id))

    def ask(self) -> Any:
        """The next trial of the hpolab optimizer, as a ``TrialInfo``."""
        if self.solver is None:
            self.setup_optimizer()
        return self.convert_to_trial(self.solver.ask())

    def tell(self, trial_info: Any, trial_value: Any) -> None:
        """Give the hpolab optimizer the result of a trial (failed runs become FAIL trials)."""
        if self.solver is None:
            self.setup_optimizer()
        result = result_from_trial_value(trial_value)
        trial = self._pending_trial(trial_info)
        if trial is not None:
            record = self.solver.tell(trial, result)
        else:
            config = {k: v for k, v in dict(trial_info.config).items() if v is not None}
            budget = trial_info.budget if self.fidelity is not None else None
            record = self.solver.observe(config, result, budget=budget)
        self._told[record.id] = (trial_info, trial_value)

    def get_current_incumbent(self) -> Any:
        """The best successful trial as ``(TrialInfo, TrialValue)``, ``None`` before the first one.

        On a multi-fidelity task only trials at the highest budget reached so far compete, so a
        cheap low-budget value never stands for the configuration's full-budget cost.
        """
        if self.solver is None:
            return None
        records = [r for r in self.solver.history if r.is_complete and r.id in self._told]
        if self.fidelity is not None and records:
            top = max(_budget(r) for r in records)
            records = [r for r in records if math.isclose(_budget(r), top)]
        if not records:
            return None
        best = min(records, key=lambda r: r.value)
        return self._told[best.id]

    # ------------------------------------------------------------------ helpers
    def _pending_trial(self, trial_info: Any) -> Any:
        name = trial_info.name
        if name is None:
            return None
        try:
            trial_id = int(name)
        except (TypeError, ValueError):
            return None
        return self.solver.pending_trial(trial_id)


def _budget(record: TrialRecord) -> float:
    return float(record.budget) if record.budget is not None else math.inf
