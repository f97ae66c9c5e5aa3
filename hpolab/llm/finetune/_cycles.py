"""Fine-tuning cycles: fine-tune, propose, evaluate, add to the records, fine-tune again.

Every cycle writes its adapter, the records after the cycle, its proposals and its metrics into
``output_dir/cycle-<k>/``, and ``output_dir/state.json`` says which cycles are finished, so an
interrupted run resumes at the first unfinished cycle (a finished fine-tune inside an unfinished
cycle is reused too).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpolab.records import Records
from hpolab.trial import Direction

__all__ = ["CycleResult", "CyclesResult", "run_cycles"]

_logger = logging.getLogger("hpolab.llm.finetune.cycles")
_STATE = "state.json"


@dataclass
class CycleResult:
    """One finished cycle.

    Attributes:
        cycle: 1-based cycle number.
        adapter: The cycle's adapter directory.
        records: The records after the cycle (before + the cycle's evaluated proposals).
        metrics: RMSE of (1 - accuracy) of the cycle's proposals with its interval, per task and
            overall, the one-shot (first proposal) errors, fine-tune time and losses.
    """

    cycle: int
    adapter: Path
    records: Records
    metrics: dict[str, Any]


@dataclass
class CyclesResult:
    """All cycles of :func:`run_cycles`."""

    cycles: list[CycleResult] = field(default_factory=list)
    output_dir: Path | None = None

    @property
    def records(self) -> Records:
        """The records after the last cycle."""
        return self.cycles[-1].records if self.cycles else Records()

    def summary(self) -> dict[str, Any]:
        """A JSON-serializable summary: one dict per cycle (the overall metrics)."""
        return {"cycles": [{"cycle": c.cycle, **c.metrics["overall"]} for c in self.cycles]}


def _load_state(path: Path) -> dict[str, Any]:
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    return {"finished": [], "finetuned": []}


def _save_state(path: Path, state: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def run_cycles(
    objective_tasks: Sequence[Any],
    *,
    records: Records,
    output_dir: str | os.PathLike[str],
    n_cycles: int = 2,
    proposals_per_task: int = 3,
    base_model: str | os.PathLike[str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    model_name: str | None = None,
    epochs: float | None = None,
    target: float | str = "best",
    finetune_options: Mapping[str, Any] | None = None,
    optimizer_options: Mapping[str, Any] | None = None,
    warm_start: bool = False,
    seed: int = 0,
) -> CyclesResult:
    """Run fine-tuning cycles over a set of tasks.

    Cycle ``k``: fine-tune on the current records (cycle 1: ``records``), ask the fine-tuned model
    for ``proposals_per_task`` configurations of every task in one-shot mode (the first greedy,
    the rest sampled), evaluate them, add them to the records (source ``cycle-k``) and save.

    Args:
        objective_tasks: Objectives (or registry names) to propose for and evaluate.
        records: The starting records.
        output_dir: Where each cycle's adapter, records, proposals and metrics go; a rerun with the
            same directory resumes after the last finished cycle.
        n_cycles: Number of cycles.
        proposals_per_task: Proposals evaluated per task and cycle.
        base_model: Base model (see :func:`hpolab.llm.finetune.finetune`).
        descriptions: Task name -> description used in prompts (default: the objective's).
        model_name: Model name in prompts (default: the task's records' model, else the task name).
        epochs: Epochs in prompts (and the budget of the evaluations, if the objective has a fidelity).
        target: The one-shot target (``"best"`` or an accuracy).
        finetune_options: Keyword arguments of :func:`~hpolab.llm.finetune.finetune`.
        optimizer_options: Keyword arguments of :class:`~hpolab.llm.finetune.FineTunedLLMOptimizer`.
        warm_start: Continue training the previous cycle's adapter instead of a fresh one.
        seed: Seed of fine-tuning and proposals (cycle ``k`` uses ``seed + k - 1``).

    Returns:
        The finished cycles (resumed ones read back from disk).
    """
    from hpolab.analysis.stats import rmse_ci
    from hpolab.llm.finetune._lora import finetune, load_finetuned, read_provenance
    from hpolab.llm.finetune._optimizer import FineTunedLLMOptimizer
    from hpolab.registry import make_objective

    if n_cycles < 1 or proposals_per_task < 1:
        raise ValueError(f"n_cycles ({n_cycles}) and proposals_per_task ({proposals_per_task}) must be >= 1")
    tasks = [make_objective(t) if isinstance(t, str) else t for t in objective_tasks]
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise ValueError(f"objective_tasks: task names must be unique, got {names}")
    root = Path(output_dir)
    root.mkdir(parents=True, exist_ok=True)
    state_path = root / _STATE
    state = _load_state(state_path)
    known_models = {r.task: r.model for r in records}
    result = CyclesResult(output_dir=root)
    current = records
    for cycle in range(1, n_cycles + 1):
        cdir = root / f"cycle-{cycle}"
        if cycle in state["finished"]:
            current = Records.from_json(cdir / "records.json")
            metrics = json.loads((cdir / "metrics.json").read_text(encoding="utf-8"))
            result.cycles.append(CycleResult(cycle, cdir / "adapter", current, metrics))
            _logger.info("cycle %d already finished; skipped", cycle)
            continue
        cdir.mkdir(exist_ok=True)
        adapter = cdir / "adapter"
        n_before = len(current)
        if cycle in state["finetuned"] and (adapter / "adapter_config.json").exists():
            provenance = read_provenance(adapter)
            ft_seconds, losses = float(provenance.get("seconds", 0.0)), list(provenance.get("losses", []))
            _logger.info("cycle %d: reusing its finished fine-tune", cycle)
        else:
            options = dict(finetune_options or {})
            if warm_start and cycle > 1:
                options["init_adapter"] = root / f"cycle-{cycle - 1}" / "adapter"
            ft = finetune(current, base_model, adapter, seed=seed + cycle - 1, **options)
            ft_seconds, losses = ft.seconds, ft.losses
            state["finetuned"] = sorted({*state["finetuned"], cycle})
            _save_state(state_path, state)
        device = (finetune_options or {}).get("device")
        model = load_finetuned(adapter, base_model, device=device)
        new_rows = Records()
        proposals: list[dict[str, Any]] = []
        per_task: dict[str, Any] = {}
        errors_all: list[float] = []
        first_errors: list[float] = []
        regrets: list[float] = []
        for task in tasks:
            description = (descriptions or {}).get(task.name, task.description)
            name = model_name or known_models.get(task.name) or task.name
            opt = FineTunedLLMOptimizer(
                task.search_space,
                direction=task.direction,
                seed=seed + cycle - 1,
                client=model,
                description=description,
                model_name=name,
                epochs=epochs,
                target=target,
                mode="one-shot",
                **dict(optimizer_options or {}),
            )
            budget = epochs if getattr(task, "fidelity", None) is not None else None
            for _ in range(proposals_per_task):
                trial = opt.ask()
                opt.tell(trial, task.evaluate(trial.config, budget=budget, seed=trial.seed))
            rows = Records.from_trials(
                opt.history,
                task=task.name,
                description=description,
                model=name,
                direction=task.direction,
                epochs=epochs,
                source=f"cycle-{cycle}",
            )
            new_rows = new_rows + rows
            errors = [1.0 - r.accuracy for r in rows]
            errors_all += errors
            if errors:
                first_errors.append(errors[0])
            entry: dict[str, Any] = {"n": len(errors), "stats": dict(opt.stats)}
            if errors:
                res = rmse_ci(errors)
                entry.update(rmse=res.rmse, std=res.std, ci_low=res.low, ci_high=res.high, best_error=min(errors))
            optimum = getattr(task, "optimum", None)
            if optimum is not None:
                trues = [float(r.info.get("true_value", r.value)) for r in opt.history if r.value is not None]
                if trues:
                    best = min(trues) if task.direction is Direction.MINIMIZE else max(trues)
                    entry["regret"] = task.regret(best)
                    regrets.append(float(entry["regret"]))
            per_task[task.name] = entry
            proposals += [
                {"task": task.name, "config": r.config, "value": r.value, "outcome": r.metadata.get("outcome")}
                for r in opt.history
            ]
        overall: dict[str, Any] = {"n": len(errors_all), "n_records_before": n_before, "finetune_seconds": ft_seconds}
        if errors_all:
            res = rmse_ci(errors_all)
            overall.update(rmse=res.rmse, std=res.std, ci_low=res.low, ci_high=res.high)
        if first_errors:
            one = rmse_ci(first_errors)
            overall.update(one_shot_rmse=one.rmse, one_shot_ci_low=one.low, one_shot_ci_high=one.high)
        if regrets:
            overall["mean_regret"] = float(sum(regrets) / len(regrets))
        metrics = {"overall": overall, "tasks": per_task, "losses": losses}
        current = current + new_rows
        current.to_json(cdir / "records.json")
        (cdir / "proposals.json").write_text(json.dumps(proposals, indent=1), encoding="utf-8")
        (cdir / "metrics.json").write_text(json.dumps(_finite(metrics), indent=1), encoding="utf-8")
        state["finished"] = sorted({*state["finished"], cycle})
        _save_state(state_path, state)
        result.cycles.append(CycleResult(cycle, adapter, current, metrics))
        _logger.info("cycle %d finished: %d new records, RMSE %s", cycle, len(new_rows), overall.get("rmse"))
    return result


def _finite(value: Any) -> Any:
    """NaN / inf -> None, recursively (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
