"""The LLM optimizer's options in three small groups: what the prompt says, how to decode, what to do with duplicates.

:class:`~hpolab.llm.LLMOptimizer` takes them as ``prompt=``, ``decoding=`` and ``duplicates=``, or
field by field as keywords of the same names (``mode=``, ``temperature=``, ``on_duplicate=``, ...),
which is how the registry, the CLI and the benchmark harness pass them. A keyword given beside its
group replaces that one field. A group may also be given as a plain dict (JSON options of a study)::

    LLMOptimizer(space, client, prompt=PromptOptions(mode="chat", chain_of_thought=True),
                 decoding=DecodingOptions(temperature=0.3))
    LLMOptimizer(space, client, mode="chat", chain_of_thought=True, temperature=0.3)  # the same
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from hpolab._deprecation import renamed_fields, renamed_keyword
from hpolab.llm._prompts import PromptTemplates

__all__ = ["DecodingOptions", "DuplicateOptions", "PromptOptions", "resolve_options"]


@renamed_fields(budget="n_trials")
@dataclass(frozen=True)
class PromptOptions:
    """What the prompt says and how much of the history it shows.

    Attributes:
        mode: ``"compressed"`` (one user message holding the whole history) or ``"chat"`` (the whole
            dialogue, one assistant message per proposal and one user message per result).
        chain_of_thought: Ask for "Analysis: ... / Config: ..." before the config.
        description: Problem description; ``None`` takes the objective's (set by the Study).
        n_trials: Number of configurations the prompt's budget sentence announces (the
            template's ``{budget}``); ``None`` takes the Study's ``n_trials``; with neither, there is
            no budget sentence and no "last try". ``budget=`` (or a dict's ``"budget"``) is its
            deprecated old name.
        system_prompt: The system message (overrides ``templates.system``).
        templates: Prompt templates to override the default wording; ``None`` for
            :data:`~hpolab.llm.DEFAULT_TEMPLATES`.
        metric: The word for the objective value in the prompt; ``None`` for ``"loss"``
            (``"score"`` when maximizing).
        max_history: Show only the last ``max_history`` tried configurations (``None``: all).
        history_step: Leave configurations out in steps of this many, so that the prompt's start stays
            the same over that many asks and a local model's cache of it holds: the window of
            ``max_history`` moves on every ``history_step`` trials (it then shows between
            ``max_history - history_step + 1`` and ``max_history``), and a prompt over the context leaves
            out a multiple of ``history_step`` entries. 1 (the default) moves it on every trial.
        context_tokens: The model's context window in tokens, which every prompt fits with room
            for the answer and a re-ask: older configurations (never the best ones) are left out
            and the prompt says how many. ``None`` takes the client's window (llama.cpp's
            ``n_ctx``, a transformers model's maximum length), else
            :data:`~hpolab.llm._context.DEFAULT_CONTEXT_TOKENS`.
    """

    mode: Literal["compressed", "chat"] = "compressed"
    chain_of_thought: bool = False
    description: str | None = None
    n_trials: int | None = None
    system_prompt: str | None = None
    templates: PromptTemplates | None = None
    metric: str | None = None
    max_history: int | None = None
    history_step: int = 1
    context_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("compressed", "chat"):
            raise ValueError(f"mode: {self.mode!r} is not 'compressed' or 'chat'")
        if self.n_trials is not None and (isinstance(self.n_trials, bool) or int(self.n_trials) < 1):
            raise ValueError(f"n_trials: {self.n_trials!r} must be a positive int")
        if self.max_history is not None and int(self.max_history) < 1:
            raise ValueError(f"max_history: {self.max_history!r} must be a positive int")
        if isinstance(self.history_step, bool) or int(self.history_step) < 1:
            raise ValueError(f"history_step: {self.history_step!r} must be a positive int (entries left out at a time)")
        if self.max_history is not None and int(self.history_step) > int(self.max_history):
            raise ValueError(
                f"history_step: {self.history_step!r} is above max_history={self.max_history!r}; the window would "
                "show no configuration after a step: give a step of at most max_history"
            )
        if self.context_tokens is not None and (
            isinstance(self.context_tokens, bool) or int(self.context_tokens) < 256
        ):
            raise ValueError(f"context_tokens: {self.context_tokens!r} must be an int of at least 256")
        if self.templates is not None and not isinstance(self.templates, PromptTemplates):
            raise TypeError(f"templates: {type(self.templates).__name__} is not a PromptTemplates")


@dataclass(frozen=True)
class DecodingOptions:
    """How each answer is sampled.

    Attributes:
        temperature: Temperature of first asks, in [0, 5].
        reask_temperature: Temperature of re-asks (above 0 so that a re-ask can differ), in [0, 5].
        max_tokens: Most tokens per answer; ``None`` for 256 (512 with chain of thought).
        structured_output: Send the space's JSON schema for constrained decoding where the
            backend supports it.
        answer_format: ``"json"`` (the paper's answer: a JSON object of name-value pairs) or
            ``"compact"`` (the values alone as a JSON list in the space's key order, e.g.
            ``[0.001, 64, "relu"]``: fewer tokens to generate; the requests say which order, and
            constrained decoding uses a list schema).
    """

    temperature: float = 0.0
    reask_temperature: float = 0.7
    max_tokens: int | None = None
    structured_output: bool = True
    answer_format: Literal["json", "compact"] = "json"

    def __post_init__(self) -> None:
        if self.answer_format not in ("json", "compact"):
            raise ValueError(f"answer_format: {self.answer_format!r} is not 'json' or 'compact'")
        for label, t in (("temperature", self.temperature), ("reask_temperature", self.reask_temperature)):
            if not (0.0 <= float(t) <= 5.0):
                raise ValueError(f"{label}: {t!r} must be in [0, 5]")
        if self.max_tokens is not None and (isinstance(self.max_tokens, bool) or int(self.max_tokens) < 1):
            raise ValueError(f"max_tokens: {self.max_tokens!r} must be a positive int")


@dataclass(frozen=True)
class DuplicateOptions:
    """What happens to a proposal equal to a configuration already evaluated, pending or running elsewhere.

    Attributes:
        on_duplicate: ``"perturb"`` (perturb the duplicate at once: one model call per trial; the
            default), ``"reask"`` (name the evaluated configurations as forbidden and ask once
            more; then perturb) or ``"delegate"`` (inside ``llm-hybrid`` only: its core answers at
            once, no re-ask). ``llm-hybrid`` re-asks unless told otherwise (its lean prompt
            delegates). Every path is counted in the trial's metadata (see
            :func:`~hpolab.llm.propose_config`).
    """

    on_duplicate: Literal["reask", "perturb", "delegate"] = "perturb"

    def __post_init__(self) -> None:
        if self.on_duplicate not in ("reask", "perturb", "delegate"):
            raise ValueError(f"on_duplicate: {self.on_duplicate!r} is not 'reask', 'perturb' or 'delegate'")


_Group = TypeVar("_Group", PromptOptions, DecodingOptions, DuplicateOptions)


def resolve_options(group: _Group | Mapping[str, Any] | None, cls: type[_Group], **given: Any) -> _Group:
    """One option group from the group given (or the defaults) and the keywords given beside it.

    Args:
        group: The group, a dict of its fields, or ``None`` for the defaults.
        cls: The group's class.
        **given: Keywords of the group's fields; ``None`` means not given (the group's value stays).

    Returns:
        The group with every given keyword in place.

    Raises:
        TypeError: If ``group`` is neither a ``cls``, a dict nor ``None``, a dict names an
            unknown field, or a dict gives a renamed field under both its names.
    """
    if group is None:
        base = cls()
    elif isinstance(group, cls):
        base = group
    elif isinstance(group, Mapping):
        group = dict(group)
        for old, new in getattr(cls, "_renamed_fields", {}).items():
            if old in group:
                group[new] = renamed_keyword(cls.__name__, old, new, group.pop(old), group.get(new), stacklevel=4)
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(map(str, group)) - fields)
        if unknown:
            raise TypeError(f"{cls.__name__}: {unknown} are not fields; known: {sorted(fields)}")
        base = cls(**dict(group))
    else:
        raise TypeError(f"{cls.__name__}: {type(group).__name__} is not a {cls.__name__} or a dict of its fields")
    changes = {name: value for name, value in given.items() if value is not None}
    return dataclasses.replace(base, **changes) if changes else base
