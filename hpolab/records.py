"""Records: cross-task rows of (task, model, description, epochs, hyperparameters, accuracy).

One row is one evaluated configuration of one task. The transfer portfolio, the counting prior and the
fine-tuned LLM optimizer all learn from the records of other tasks. :class:`Records` holds such rows,
builds them from hpolab histories (any storage: a list of TrialRecord is enough) or from JSON / CSV in
the LEMUR NN Dataset's shape, turns them into prompt / response examples for fine-tuning through one
overridable :class:`PromptTemplate`, and splits them by task (leave-one-task-out), never by row.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpolab.space import format_config as _format_config
from hpolab.trial import Direction, TrialRecord, TrialState, to_plain

__all__ = [
    "DEFAULT_TEMPLATE",
    "Example",
    "PromptTemplate",
    "Record",
    "Records",
    "format_config",
]

_logger = logging.getLogger("hpolab.records")

# LEMUR NN Dataset column names -> hpolab's.
_ALIASES: dict[str, tuple[str, ...]] = {
    "model": ("model", "nn", "model_name", "name"),
    "description": ("description", "nn_code", "code", "model_code"),
    "epochs": ("epochs", "epoch"),
    "hyperparameters": ("hyperparameters", "prm", "params", "config"),
    "accuracy": ("accuracy", "acc", "val_acc"),
    "source": ("source", "optimizer", "method"),
}
# Columns that describe a LEMUR row but are not hyperparameters (CSV import of flat rows).
_NON_HP = {
    "task",
    "dataset",
    "metric",
    "metric_code",
    "transform",
    "transform_code",
    "uid",
    "duration",
    "id",
    "time",
    *(alias for aliases in _ALIASES.values() for alias in aliases),
}


#: :func:`hpolab.space.format_config` (hpolab's one config formatter) with the records' default of
#: 4 significant digits for floats: ``format_config(config, order=None)``.
format_config = functools.partial(_format_config, precision=4)


@dataclass(frozen=True)
class PromptTemplate:
    """The fine-tuning prompt format, in one place (system prompt, instruction, response).

    The text is an instruction-tuning layout that needs no chat template, so the same examples
    work for any causal LM (Code Llama, SmolLM2, a tiny test model). Override any field with
    :func:`dataclasses.replace` or build a new template; the template used for fine-tuning is saved
    with the adapter and reused by :class:`~hpolab.llm.finetune.FineTunedLLMOptimizer`.

    Attributes:
        system: Tells the model its role.
        instruction: The request; fields ``{model}``, ``{description}``, ``{epochs}``, ``{target}``,
            ``{history}``.
        layout: Assembles the prompt from ``{system}`` and ``{instruction}``; the response follows it.
        followup: Appended after an answer for a follow-up request (a re-ask); field ``{instruction}``.
        target_accuracy: ``{target}`` for a numeric target; field ``{accuracy}``.
        target_best: ``{target}`` when the best accuracy is asked for.
        history_header: Starts the ``{history}`` block in sequential mode; empty history gives "".
        history_line: One tried configuration; fields ``{config}`` and ``{accuracy}``.
        response: The answer; field ``{config}`` (compact JSON).
        precision: Significant digits of floats in configurations.
    """

    system: str = (
        "You are a hyperparameter tuning assistant. Given a neural network model and the accuracy "
        "to reach, you answer with the training hyperparameters as JSON."
    )
    instruction: str = (
        "Model: {model}\nTask: {description}\nEpochs: {epochs}\n{history}Give the hyperparameters that reach {target}."
    )
    layout: str = "### System:\n{system}\n\n### Instruction:\n{instruction}\n\n### Response:\n"
    followup: str = "\n\n### Instruction:\n{instruction}\n\n### Response:\n"
    target_accuracy: str = "an accuracy of {accuracy:.4f}"
    target_best: str = "the best accuracy on this task"
    history_header: str = "Already tried (configuration -> accuracy):\n"
    history_line: str = "{config} -> {accuracy:.4f}\n"
    response: str = "{config}"
    precision: int = 4

    def target_text(self, target: float | str | None) -> str:
        """The ``{target}`` text for a numeric target or ``"best"`` / ``None``."""
        if target is None or (isinstance(target, str) and target == "best"):
            return self.target_best
        if isinstance(target, str):
            raise ValueError(f"target: {target!r} is not a number or 'best'")
        return self.target_accuracy.format(accuracy=float(target))

    def history_text(
        self, history: Sequence[tuple[Mapping[str, Any], float]], order: Sequence[str] | None = None
    ) -> str:
        """The ``{history}`` block: one line per (config, accuracy) pair, or "" when empty."""
        if not history:
            return ""
        lines = [
            self.history_line.format(config=_format_config(c, order, self.precision), accuracy=a) for c, a in history
        ]
        return self.history_header + "".join(lines)

    def instruction_text(
        self,
        *,
        model: str,
        description: str,
        epochs: float | int | None,
        target: float | str | None = "best",
        history: Sequence[tuple[Mapping[str, Any], float]] = (),
        order: Sequence[str] | None = None,
    ) -> str:
        """The instruction (the user message) for a model, a target and an optional history."""
        return self.instruction.format(
            model=model,
            description=description,
            epochs=_fmt_epochs(epochs),
            target=self.target_text(target),
            history=self.history_text(history, order),
        )

    def prompt(
        self,
        *,
        model: str,
        description: str,
        epochs: float | int | None,
        target: float | str | None = "best",
        history: Sequence[tuple[Mapping[str, Any], float]] = (),
        order: Sequence[str] | None = None,
    ) -> str:
        """The full prompt the response is appended to."""
        instruction = self.instruction_text(
            model=model, description=description, epochs=epochs, target=target, history=history, order=order
        )
        return self.layout.format(system=self.system, instruction=instruction)

    def render(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """A chat (system, user, assistant, user...) rendered in this layout, ending with the response header."""
        system = self.system
        turns: list[tuple[str, str]] = []
        for message in messages:
            role, content = str(message.get("role")), str(message.get("content") or "")
            if role == "system":
                system = content
            else:
                turns.append((role, content))
        if not turns or turns[0][0] != "user":
            raise ValueError("messages: need a user message after the optional system message")
        text = self.layout.format(system=system, instruction=turns[0][1])
        for role, content in turns[1:]:
            text += content if role == "assistant" else self.followup.format(instruction=content)
        return text

    def response_text(self, config: Mapping[str, Any], order: Sequence[str] | None = None) -> str:
        """The expected answer for ``config``."""
        return self.response.format(config=_format_config(config, order, self.precision))

    def to_dict(self) -> dict[str, str]:
        """The template as a JSON-serializable dict (saved next to an adapter)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromptTemplate:
        """Inverse of :meth:`to_dict`; unknown keys are rejected."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"template: unknown fields {sorted(unknown)}; known: {sorted(known)}")
        values: dict[str, Any] = {k: (int(v) if k == "precision" else str(v)) for k, v in data.items()}
        return cls(**values)


DEFAULT_TEMPLATE = PromptTemplate()


def _fmt_epochs(epochs: float | int | None) -> str:
    if epochs is None:
        return "n/a"
    number = float(epochs)
    return str(int(number)) if number.is_integer() else f"{number:g}"


@dataclass(frozen=True)
class Record:
    """One evaluated configuration of one task.

    Attributes:
        task: The split unit: records of one task are never split between train and test.
        model: Model name (``"MLP"``, ``"AlexNet"``).
        description: The model's code or a text description of model, data and metric.
        config: Hyperparameter values.
        accuracy: Achieved accuracy (higher is better).
        epochs: Training epochs (or another budget), if any.
        source: Where the row came from (optimizer name, ``"lemur"``, ``"cycle-1"``).
    """

    task: str
    model: str
    description: str
    config: dict[str, Any]
    accuracy: float
    epochs: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.task, str) or not self.task:
            raise ValueError(f"task: {self.task!r} must be a non-empty string")
        accuracy = float(self.accuracy)
        if not math.isfinite(accuracy):
            raise ValueError(f"accuracy: {self.accuracy!r} is not finite; drop failed trials before building records")
        object.__setattr__(self, "accuracy", accuracy)
        object.__setattr__(self, "config", {str(k): to_plain(v) for k, v in dict(self.config).items()})
        if self.epochs is not None:
            object.__setattr__(self, "epochs", float(self.epochs))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable row (LEMUR-like names: model, description, epochs, hyperparameters, accuracy)."""
        return {
            "task": self.task,
            "model": self.model,
            "description": self.description,
            "epochs": self.epochs,
            "hyperparameters": dict(self.config),
            "accuracy": self.accuracy,
            "source": self.source,
        }


@dataclass(frozen=True)
class Example:
    """One fine-tuning example: the prompt and the response the model learns to write."""

    prompt: str
    response: str
    task: str
    kind: str = "one-shot"
    metadata: dict[str, Any] = field(default_factory=dict)


def _pick(row: Mapping[str, Any], name: str) -> Any:
    for alias in _ALIASES[name]:
        if alias in row and row[alias] is not None and row[alias] != "":
            return row[alias]
    return None


class Records(Sequence[Record]):
    """An immutable list of :class:`Record` rows with task-wise splits and prompt building.

    Args:
        records: The rows.
    """

    def __init__(self, records: Iterable[Record] = ()) -> None:
        rows = list(records)
        for row in rows:
            if not isinstance(row, Record):
                raise TypeError(f"records: {type(row).__name__} is not a Record")
        self._rows: tuple[Record, ...] = tuple(rows)

    # ------------------------------------------------------------------ sequence
    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return Records(self._rows[index])
        return self._rows[index]

    def __iter__(self) -> Iterator[Record]:
        return iter(self._rows)

    def __add__(self, other: Iterable[Record]) -> Records:
        return Records([*self._rows, *other])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Records) and self._rows == other._rows

    def __hash__(self) -> int:
        return hash(self.hash())

    def __repr__(self) -> str:
        return f"Records({len(self)} rows, {len(self.tasks)} tasks)"

    # ------------------------------------------------------------------ building
    @classmethod
    def from_trials(
        cls,
        trials: Iterable[TrialRecord],
        *,
        task: str,
        description: str = "",
        model: str | None = None,
        direction: Direction | str = Direction.MINIMIZE,
        to_accuracy: Callable[[float], float] | None = None,
        epochs: float | None = None,
        source: str = "",
        use_true_value: bool = False,
    ) -> Records:
        """Records from finished trials (a study's ``trials`` or an optimizer's ``history``).

        Failed, pruned and running trials are left out.

        Args:
            trials: TrialRecords from any storage.
            task: The objective's name (the split unit).
            description: The objective's description (model, data set, metric).
            model: Model name; the task's name when ``None``.
            direction: The objective's direction; decides the default ``to_accuracy``.
            to_accuracy: Maps an objective value to an accuracy. Default: ``1 - value`` for a
                minimized error, ``value`` for a maximized accuracy.
            epochs: Epochs for trials without a budget (a trial's budget wins).
            source: Where the trials came from (optimizer name).
            use_true_value: Use ``info["true_value"]`` (noise-free tables) where present.
        """
        direction = Direction.coerce(direction)
        convert = to_accuracy or ((lambda v: 1.0 - v) if direction is Direction.MINIMIZE else (lambda v: v))
        rows = []
        for record in trials:
            if record.state is not TrialState.COMPLETE or record.value is None:
                continue
            value = record.value
            if use_true_value and record.info.get("true_value") is not None:
                value = float(record.info["true_value"])
            rows.append(
                Record(
                    task=task,
                    model=model or task,
                    description=description,
                    config=dict(record.config),
                    accuracy=float(convert(value)),
                    epochs=record.budget if record.budget is not None else epochs,
                    source=source or str(record.metadata.get("optimizer", "")),
                )
            )
        return cls(rows)

    @classmethod
    def from_study(
        cls,
        study: Any,
        *,
        task: str | None = None,
        description: str | None = None,
        model: str | None = None,
        **kwargs: Any,
    ) -> Records:
        """Records from an hpolab Study (any storage): its ``trials`` and its objective's name.

        Args:
            study: An object with ``trials`` (a list of TrialRecord) and optionally ``objective``
                (name, description, direction) and ``study_name``.
            task: Overrides the objective's name.
            description: Overrides the objective's description.
            model: Model name.
            **kwargs: Passed to :meth:`from_trials`.
        """
        objective = getattr(study, "objective", None)
        name = task or getattr(objective, "name", None) or getattr(study, "study_name", None)
        if not name:
            raise ValueError("task: the study has no objective name; pass task='...'")
        if objective is not None and "direction" not in kwargs:
            kwargs["direction"] = getattr(objective, "direction", Direction.MINIMIZE)
        text = description if description is not None else getattr(objective, "description", "")
        return cls.from_trials(study.trials, task=str(name), description=text or "", model=model, **kwargs)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Mapping[str, Any]],
        *,
        group_by: Sequence[str] | None = None,
        source: str = "lemur",
    ) -> Records:
        """Records from dict rows in hpolab's or the LEMUR NN Dataset's shape.

        Accepted names: ``model`` / ``nn``, ``description`` / ``nn_code`` / ``code``,
        ``epochs`` / ``epoch``, ``hyperparameters`` / ``prm`` (a dict or a JSON string; otherwise
        the remaining columns, e.g. ``lr``, ``momentum``, ``batch``), ``accuracy``, ``task``.

        Args:
            rows: The rows.
            group_by: Columns whose values form the task (the split unit). Default: the row's
                ``task`` if it names an hpolab task; for LEMUR rows (``task`` like
                ``img-classification``) ``task/dataset/nn`` so each model is its own task.
            source: Source for rows that do not name one.

        Raises:
            ValueError: If a row lacks a model or an accuracy (the message names the row).
        """
        out = []
        for i, row in enumerate(rows):
            model = _pick(row, "model")
            accuracy = _pick(row, "accuracy")
            if model is None or accuracy is None:
                raise ValueError(f"row {i}: needs a model (model/nn) and an accuracy; got keys {sorted(row)}")
            hps = _pick(row, "hyperparameters")
            if isinstance(hps, str):
                hps = json.loads(hps)
            if hps is None:
                hps = {k: _number(v) for k, v in row.items() if k not in _NON_HP and v not in (None, "")}
            if not isinstance(hps, Mapping) or not hps:
                raise ValueError(f"row {i}: no hyperparameters found (give hyperparameters/prm or columns)")
            if group_by:
                missing = [k for k in group_by if k not in row]
                if missing:
                    raise ValueError(f"row {i}: group_by columns {missing} are missing")
                task = "/".join(str(row[k]) for k in group_by)
            elif "nn" in row or "dataset" in row:
                task = "/".join(str(row[k]) for k in ("task", "dataset", "nn") if row.get(k) not in (None, ""))
            else:
                task = str(row.get("task") or model)
            epochs = _pick(row, "epochs")
            out.append(
                Record(
                    task=task,
                    model=str(model),
                    description=str(_pick(row, "description") or ""),
                    config=dict(hps),
                    accuracy=float(accuracy),
                    epochs=None if epochs in (None, "") else float(epochs),
                    source=str(_pick(row, "source") or source),
                )
            )
        return cls(out)

    @classmethod
    def from_json(cls, path: str | Path, **kwargs: Any) -> Records:
        """Records from a JSON file: a list of rows, or ``{"records": [...]}`` (see :meth:`from_rows`)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, Mapping):
            data = data.get("records", data.get("data"))
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of rows or {{'records': [...]}}")
        return cls.from_rows(data, **kwargs)

    @classmethod
    def from_csv(cls, path: str | Path, **kwargs: Any) -> Records:
        """Records from a CSV file with one row per evaluation (see :meth:`from_rows`)."""
        with Path(path).open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return cls.from_rows(rows, **kwargs)

    def to_json(self, path: str | Path) -> None:
        """Write the rows as JSON (reloadable with :meth:`from_json`)."""
        Path(path).write_text(json.dumps({"records": [r.to_dict() for r in self]}, indent=1), encoding="utf-8")

    def to_csv(self, path: str | Path) -> None:
        """Write the rows as CSV (hyperparameters as a JSON column)."""
        with Path(path).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(
                fh, fieldnames=["task", "model", "description", "epochs", "hyperparameters", "accuracy", "source"]
            )
            writer.writeheader()
            for r in self:
                row = r.to_dict()
                row["hyperparameters"] = json.dumps(row["hyperparameters"])
                writer.writerow(row)

    # ------------------------------------------------------------------ queries
    @property
    def tasks(self) -> list[str]:
        """Task names, in first-seen order."""
        return list(dict.fromkeys(r.task for r in self))

    def by_task(self) -> dict[str, Records]:
        """The rows grouped by task."""
        groups: dict[str, list[Record]] = {}
        for r in self:
            groups.setdefault(r.task, []).append(r)
        return {k: Records(v) for k, v in groups.items()}

    @classmethod
    def of_other_tasks(
        cls, records: Records | str | os.PathLike[str] | None, exclude_tasks: Iterable[str] = (), *, needed_by: str
    ) -> Records:
        """Records (or a records JSON path) without the rows of ``exclude_tasks`` (the task being tuned).

        Args:
            records: A Records or the path of a records JSON file.
            exclude_tasks: Tasks whose rows are left out (leave-one-task-out).
            needed_by: Who needs them, named in the errors.

        Raises:
            ValueError: If no records are given, or none are left.
        """
        if records is None:
            raise ValueError(f"records: {needed_by} needs records of other tasks (a Records or a records JSON path)")
        loaded = records if isinstance(records, Records) else cls.from_json(Path(records))
        excluded = set(exclude_tasks)
        kept = loaded.filter(lambda r: r.task not in excluded)
        if len(kept) == 0:
            raise ValueError(f"records: no records left after excluding {sorted(excluded)}")
        return kept

    def filter(self, predicate: Callable[[Record], bool]) -> Records:
        """The rows for which ``predicate`` is true."""
        return Records(r for r in self if predicate(r))

    def split(self, test_tasks: Iterable[str]) -> tuple[Records, Records]:
        """Split by task: (rows of the other tasks, rows of ``test_tasks``).

        Raises:
            ValueError: If a test task has no rows (the message lists the known tasks).
        """
        test = set(test_tasks)
        unknown = test - set(self.tasks)
        if unknown:
            raise ValueError(f"test_tasks: {sorted(unknown)} have no records; known tasks: {self.tasks}")
        return self.filter(lambda r: r.task not in test), self.filter(lambda r: r.task in test)

    def leave_one_task_out(self) -> Iterator[tuple[str, Records, Records]]:
        """Yield ``(held-out task, train records, test records)`` for every task."""
        for task in self.tasks:
            train, test = self.split([task])
            yield task, train, test

    def hash(self) -> str:
        """SHA-256 of the rows' canonical JSON (recorded in an adapter's provenance)."""
        payload = json.dumps([r.to_dict() for r in self], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def best(self, task: str, k: int = 1) -> list[Record]:
        """The ``k`` most accurate rows of ``task``."""
        rows = sorted((r for r in self if r.task == task), key=lambda r: -r.accuracy)
        return rows[:k]

    # ------------------------------------------------------------------ examples
    def examples(
        self,
        template: PromptTemplate | None = None,
        *,
        order: Sequence[str] | None = None,
        numeric: bool = True,
        best_fraction: float = 0.1,
        best_repeats: int = 1,
        n_sequential: int = 0,
        max_history: int = 10,
        seed: int | None = 0,
    ) -> list[Example]:
        """Turn the rows into fine-tuning examples.

        Three kinds, all from the same rows:

        - ``one-shot``: one per row: the instruction names the model and the
          row's accuracy, the response is the row's hyperparameters (``numeric``).
        - ``best``: the top ``best_fraction`` of each task's rows (at least one), asked with
          "the best accuracy on this task" (what the optimizer asks on an unseen task), each
          ``best_repeats`` times.
        - ``sequential``: ``n_sequential`` per task: a random history of up to ``max_history`` of
          the task's rows in the prompt, the response a best-fraction row better than all of them.

        Args:
            template: The prompt template.
            order: Hyperparameter order in responses (e.g. the search space's names).
            numeric: Include the one-shot examples with numeric targets.
            best_fraction: Fraction of each task's rows used as "best" responses.
            best_repeats: How often each "best" example is repeated.
            n_sequential: Sequential (history) examples per task.
            max_history: Most history lines in a sequential example.
            seed: Seed of the history sampling and of the final shuffle.

        Returns:
            The examples, shuffled with ``seed``.
        """
        if not 0.0 < best_fraction <= 1.0:
            raise ValueError(f"best_fraction: {best_fraction} must be in (0, 1]")
        template = template or DEFAULT_TEMPLATE
        rng = np.random.default_rng(seed)
        out: list[Example] = []
        for task, rows in self.by_task().items():
            ordered = sorted(rows, key=lambda r: -r.accuracy)
            n_best = max(1, math.ceil(best_fraction * len(ordered)))
            best_rows = ordered[:n_best]
            if numeric:
                for r in rows:
                    prompt = template.prompt(
                        model=r.model, description=r.description, epochs=r.epochs, target=r.accuracy, order=order
                    )
                    out.append(Example(prompt, template.response_text(r.config, order), task, "one-shot"))
            for _ in range(best_repeats):
                for r in best_rows:
                    prompt = template.prompt(
                        model=r.model, description=r.description, epochs=r.epochs, target="best", order=order
                    )
                    out.append(Example(prompt, template.response_text(r.config, order), task, "best"))
            for _ in range(n_sequential):
                target = best_rows[int(rng.integers(len(best_rows)))]
                worse = [r for r in rows if r.accuracy < target.accuracy]
                size = int(rng.integers(0, min(max_history, len(worse)) + 1)) if worse else 0
                picks: list[int] = [int(i) for i in rng.choice(len(worse), size=size, replace=False)] if size else []
                history = [(worse[int(i)].config, worse[int(i)].accuracy) for i in picks]
                prompt = template.prompt(
                    model=target.model,
                    description=target.description,
                    epochs=target.epochs,
                    target="best",
                    history=history,
                    order=order,
                )
                out.append(
                    Example(prompt, template.response_text(target.config, order), task, "sequential", {"history": size})
                )
        perm = rng.permutation(len(out))
        return [out[int(i)] for i in perm]


def _number(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    return value
