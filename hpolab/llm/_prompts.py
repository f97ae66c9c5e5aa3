"""Every prompt the LLM optimizers send, in one place.

The templates: the "chat" prompt and the single-message "compressed" prompt; the problem, search
space, budget sentence and request ("Provide a config in JSON format ... Config:"); the transition
messages (losses written ``{loss:.4e}``, chain-of-thought "Analysis: ... / Config: ...", "This is the
last try." before the last attempt); the system prompt ("You are a machine learning expert"); and the
plot sentence of the multimodal optimizer. docs/llm.md says which paper each wording comes from.

Override any template by passing ``PromptTemplates(...)`` (or ``dataclasses.replace(DEFAULT_TEMPLATES,
...)``) as ``templates=`` to an LLM optimizer. Fields are ``str.format`` templates; the names they
may use are listed on each field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpolab.space import format_config

if TYPE_CHECKING:
    from hpolab.optimizers._cmaes import CmaState

__all__ = [
    "DEFAULT_TEMPLATES",
    "ClassicState",
    "KEEP_ANSWER",
    "HistoryEntry",
    "PromptTemplates",
    "chat_messages",
    "classic_state_text",
    "cma_state_text",
    "compact_templates",
    "compressed_messages",
    "example_config",
    "format_config",
    "format_loss",
    "initial_message",
]


@dataclass(frozen=True)
class PromptTemplates:
    """The prompt texts. Each field is a ``str.format`` template.

    Attributes:
        system: The system message (no fields). An empty string sends no system message.
        default_description: Problem description when neither the optimizer nor the objective gives one.
        intro: ``{description}``, ``{search_space}`` (from ``SearchSpace.describe()``).
        budget: ``{budget}``: the number of configurations to try.
        goal: ``{metric}``, ``{verb}`` (``minimizes`` / ``maximizes``).
        request: First request; ``{example}`` (e.g. ``{"C": x, "gamma": y}``).
        cot_request: Chain-of-thought request (no fields).
        first_transition: Chat, after the first answer: ``{metric_short}``, ``{loss}``.
        transition: Chat, later steps without chain of thought: ``{metric_short}``, ``{loss}``.
        cot_transition: Chat, later steps with chain of thought: ``{metric_short}``, ``{loss}``.
        last_try: Prefix of the last request (no fields).
        history_header: Compressed: before the list of tried configs (no fields).
        history_line: Compressed: ``{config}``, ``{metric_short}``, ``{loss}``, ``{index}`` (1-based).
        history_line_image_only: Compressed, losses only in the image: ``{config}``, ``{index}``.
        compressed_request: Compressed, once there is history: ``{example}``.
        history_omitted: Before the shown history when older entries were left out to fit the model's
            context: ``{n}`` (how many), ``{summary}`` (their range of values, or empty).
        pending: Loss text of a config still being evaluated (no fields).
        failed: Loss text of a failed run: ``{error}``.
        fidelity_note: Appended to a loss obtained at a reduced budget: ``{name}``, ``{budget}``.
        image_note: Multimodal: the sentence that says a plot is attached (no fields).
        loss_format: How a loss is written: ``{loss}`` (a float).
        classic_header: Classic state (Centaur): first line; ``{core}`` (the classic optimizer's name).
        classic_incumbent: Classic state: ``{config}``, ``{metric_short}``, ``{loss}``.
        classic_top: Classic state: before the top-k lines; ``{k}``.
        classic_top_line: Classic state: ``{config}``, ``{metric_short}``, ``{loss}``.
        classic_proposal: Classic state: the classic optimizer's own next proposal; ``{core}``, ``{config}``.
        cma_header: CMA-ES state (Centaur): first line; ``{generation}``, ``{population}``.
        cma_mean: CMA-ES state: ``{config}`` (the mean in the parameters' values), ``{scaled}`` (in [0, 1]).
        cma_mean_plain: CMA-ES state without the scaled mean: ``{config}``.
        cma_sigma: CMA-ES state: ``{sigma}``.
        cma_directions: CMA-ES state: before the covariance's leading axes; ``{k}``.
        cma_direction_line: CMA-ES state: ``{spread}``, ``{weights}`` (one component per parameter).
        cma_independent: CMA-ES state: the parameters CMA-ES does not model; ``{names}``.
        keep_option: Classic state: how to decline (keep the classic proposal); ``{keep}`` (the answer to give).
        forbidden: Duplicate re-ask: ``{config}`` (the duplicate), ``{forbidden}`` (evaluated configs, one a line).
        compact_request: First request of the compact answer form: ``{names}`` (comma-separated, in
            the space's order), ``{example}`` (e.g. ``[x, y, z]``).
        compact_next_request: Compressed, once there is history, in the compact answer form:
            ``{names}``, ``{example}``.
    """

    system: str = "You are a machine learning expert"
    default_description: str = "You are helping tune hyperparameters for a machine learning model."
    intro: str = "{description} This is our hyperparameter search space:\n{search_space}\n"
    budget: str = "We have a budget to try {budget} configurations in total. "
    goal: str = (
        "You will get the {metric} before you need to specify the next configuration. The goal is to find the "
        "configuration that {verb} the {metric} with the given budget, so you should explore different parts of "
        "the search space if the loss is not changing. "
    )
    request: str = (
        "Provide a config in JSON format. Do not put new lines or any extra characters in the response. "
        "Example config: {example} Config:"
    )
    cot_request: str = (
        "Write two lines as follows:\n"
        "Analysis: Up to a few sentences describing what worked so far and what to choose next\n"
        "Config: (JSON config)"
    )
    first_transition: str = (
        "{metric_short} = {loss}. Specify the next config, do not add anything else in your response. Config:"
    )
    transition: str = "{metric_short} = {loss}. Specify the next config."
    cot_transition: str = (
        "{metric_short} = {loss} Write two lines as follows:\n"
        "Analysis: Up to a few sentences describing what worked so far and what to choose next\n"
        "Config: (JSON config)"
    )
    last_try: str = "This is the last try. "
    history_header: str = "Here is what we have tried so far:\n"
    history_line: str = "{config} {metric_short} = {loss}\n"
    history_line_image_only: str = "Trial {index}: {config}\n"
    compressed_request: str = "Provide the next config in JSON format. Config:"
    history_omitted: str = "{n} earlier configs are not shown here, to fit the model's context{summary}.\n"
    pending: str = "(still being evaluated)"
    failed: str = "nan (the run failed: {error})"
    fidelity_note: str = " (at {name} = {budget})"
    image_note: str = "The graph of validation loss over previous trials is attached for your reference. "
    loss_format: str = "{loss:.4e}"
    classic_header: str = "A classic optimizer ({core}) runs alongside you. Its view of the search so far:\n"
    classic_incumbent: str = "Best config so far: {config} {metric_short} = {loss}\n"
    classic_top: str = "The {k} best configs so far:\n"
    classic_top_line: str = "{config} {metric_short} = {loss}\n"
    classic_proposal: str = "{core} would try next: {config}\n"
    cma_header: str = (
        "CMA-ES's search distribution after {generation} generations of {population} trials (each parameter "
        "scaled to [0, 1] over its range, log-scaled ranges on a log scale, ordinal values by position):\n"
    )
    cma_mean: str = "mean: {config} (scaled: {scaled})\n"
    cma_mean_plain: str = "mean: {config}\n"
    cma_sigma: str = "step size sigma: {sigma}\n"
    cma_directions: str = "the covariance's {k} widest directions (spread = sigma * sqrt(eigenvalue)):\n"
    cma_direction_line: str = "spread {spread} along {weights}\n"
    cma_independent: str = "Not modelled by CMA-ES (sampled at random): {names}\n"
    keep_option: str = (
        "If you do not expect to do better than that proposal, answer {keep} to run it; otherwise propose your config. "
    )
    forbidden: str = (
        "The config {config} was already evaluated. These configs were all evaluated already and must not be "
        "proposed again:\n{forbidden}\nPropose a different config in the same JSON format. Config:"
    )
    compact_request: str = (
        "Provide a config as a JSON list of the values of {names}, in this order. Do not put new lines or "
        "any extra characters in the response. Example config: {example} Config:"
    )
    compact_next_request: str = (
        "Provide the next config as a JSON list of the values of {names}, in this order. Config:"
    )


#: The answer with which the model declines and keeps the classic optimizer's proposal.
KEEP_ANSWER = '{"keep": true}'


DEFAULT_TEMPLATES = PromptTemplates()

_PLACEHOLDERS = "xyzabcdefghijklmnopqrstuvw"


@dataclass(frozen=True)
class HistoryEntry:
    """One tried configuration as the prompts show it.

    Attributes:
        config: The configuration evaluated.
        loss: Its value (``None`` while pending or if the run failed).
        failed: Whether the run failed.
        error: The failure message, if any.
        budget: The fidelity it was evaluated at (``None`` for full fidelity / single fidelity).
        answer: What the assistant said for it (chat mode shows it back); ``None`` shows the config.
    """

    config: Mapping[str, Any]
    loss: float | None = None
    failed: bool = False
    error: str | None = None
    budget: float | None = None
    answer: str | None = None

    @property
    def pending(self) -> bool:
        """Whether the result is not known yet."""
        return self.loss is None and not self.failed


@dataclass(frozen=True)
class ClassicState:
    """What the classic optimizer knows, shown to the LLM (the Centaur idea, arXiv 2603.24647).

    Attributes:
        core: Name of the classic optimizer (``"tpe"``).
        incumbent: The best configuration so far and its value, if any.
        top: The ``k`` best configurations so far with their values, best first (TPE's "good" group).
        proposal: The classic optimizer's own next proposal, if it was asked.
        allow_keep: Whether the model may decline and keep ``proposal`` (answering :data:`KEEP_ANSWER`).
        core_state: The classic optimizer's own state as text (:func:`cma_state_text` for CMA-ES),
            shown after the top configurations.
    """

    core: str
    incumbent: tuple[Mapping[str, Any], float] | None = None
    top: tuple[tuple[Mapping[str, Any], float], ...] = ()
    proposal: Mapping[str, Any] | None = None
    allow_keep: bool = False
    core_state: str = ""


def format_loss(
    entry: HistoryEntry, templates: PromptTemplates = DEFAULT_TEMPLATES, fidelity_name: str = "budget"
) -> str:
    """The loss text of one entry: ``1.2340e-01``, the pending text or the failed text."""
    if entry.failed:
        text = templates.failed.format(error=(entry.error or "unknown error")[:200])
    elif entry.loss is None:
        text = templates.pending
    else:
        text = templates.loss_format.format(loss=float(entry.loss))
    if entry.budget is not None:
        budget = int(entry.budget) if float(entry.budget).is_integer() else entry.budget
        text += templates.fidelity_note.format(name=fidelity_name, budget=budget)
    return text


def classic_state_text(
    state: ClassicState, *, metric_short: str = "loss", templates: PromptTemplates = DEFAULT_TEMPLATES
) -> str:
    """The classic-state section of a prompt (empty when there is nothing to show)."""
    if state.incumbent is None and not state.top and state.proposal is None and not state.core_state:
        return ""

    def loss(value: float) -> str:
        return templates.loss_format.format(loss=float(value))

    text = templates.classic_header.format(core=state.core)
    if state.incumbent is not None:
        config, value = state.incumbent
        text += templates.classic_incumbent.format(
            config=format_config(config), metric_short=metric_short, loss=loss(value)
        )
    if len(state.top) > 1:
        text += templates.classic_top.format(k=len(state.top))
        for config, value in state.top:
            text += templates.classic_top_line.format(
                config=format_config(config), metric_short=metric_short, loss=loss(value)
            )
    text += state.core_state
    if state.proposal is not None:
        text += templates.classic_proposal.format(core=state.core, config=format_config(state.proposal))
        if state.allow_keep:
            text += templates.keep_option.format(keep=KEEP_ANSWER)
    return text


def cma_state_text(state: CmaState, *, templates: PromptTemplates = DEFAULT_TEMPLATES, scaled_mean: bool = True) -> str:
    """CMA-ES's search distribution as Centaur shows it to the LLM: mean, step size, leading covariance axes.

    Args:
        state: The state (:meth:`hpolab.optimizers.CmaEs.state`).
        templates: The templates (fields ``cma_*``).
        scaled_mean: Show the mean in the scaled coordinates beside its values (``cma_mean``; else
            ``cma_mean_plain``).
    """
    text = templates.cma_header.format(generation=state.generation, population=state.population)
    mean = format_config(state.mean, precision=4)
    if scaled_mean:
        scaled = {name: round(float(v), 3) for name, v in state.mean_scaled.items()}
        text += templates.cma_mean.format(config=mean, scaled=format_config(scaled))
    else:
        text += templates.cma_mean_plain.format(config=mean)
    text += templates.cma_sigma.format(sigma=f"{state.sigma:.3g}")
    if state.directions:
        text += templates.cma_directions.format(k=len(state.directions))
        for direction in state.directions:
            weights = {name: round(float(w), 2) for name, w in direction.weights.items()}
            text += templates.cma_direction_line.format(
                spread=f"{direction.spread:.3g}", weights=format_config(weights)
            )
    if state.independent:
        text += templates.cma_independent.format(names=", ".join(state.independent))
    return text


def _letters(n: int) -> list[str]:
    return [
        _PLACEHOLDERS[i % len(_PLACEHOLDERS)] + ("" if i < len(_PLACEHOLDERS) else str(i // len(_PLACEHOLDERS)))
        for i in range(n)
    ]


def example_config(names: Sequence[str]) -> str:
    """The example config with placeholder letters, e.g. ``{"C": x, "gamma": y}``."""
    letters = _letters(len(names))
    return "{" + ", ".join(f'"{n}": {letter}' for n, letter in zip(names, letters, strict=True)) + "}"


def compact_templates(templates: PromptTemplates, names: Sequence[str]) -> PromptTemplates:
    """``templates`` asking for the compact answer form: the values alone, as a JSON list in ``names``' order.

    The requests become :attr:`PromptTemplates.compact_request` and
    :attr:`PromptTemplates.compact_next_request` filled in with the names and an example list
    (``[x, y, z]``); every other template stays.
    """

    def escaped(text: str) -> str:
        return text.replace("{", "{{").replace("}", "}}")

    listed = ", ".join(names)
    example = "[" + ", ".join(_letters(len(names))) + "]"
    return dataclasses.replace(
        templates,
        request=escaped(templates.compact_request.format(names=listed, example=example)),
        compressed_request=escaped(templates.compact_next_request.format(names=listed, example=example)),
    )


def initial_message(
    *,
    description: str | None,
    search_space: str,
    names: Sequence[str],
    n_trials: int | None,
    maximize: bool = False,
    metric: str = "loss",
    templates: PromptTemplates = DEFAULT_TEMPLATES,
) -> str:
    """Problem description, search space, budget sentence and goal (without the request)."""
    text = templates.intro.format(
        description=(description or templates.default_description).strip(), search_space=search_space
    )
    if n_trials is not None:
        text += templates.budget.format(budget=int(n_trials))
    text += templates.goal.format(metric=metric, verb="maximizes" if maximize else "minimizes")
    return text


def _system(templates: PromptTemplates) -> list[dict[str, Any]]:
    return [{"role": "system", "content": templates.system}] if templates.system else []


def chat_messages(
    *,
    intro: str,
    names: Sequence[str],
    history: Sequence[HistoryEntry],
    last: bool,
    chain_of_thought: bool = False,
    metric_short: str = "loss",
    fidelity_name: str = "budget",
    classic: str = "",
    templates: PromptTemplates = DEFAULT_TEMPLATES,
    omitted: str = "",
) -> list[dict[str, Any]]:
    """The "chat" prompt: the whole dialogue, ending with a user message.

    Args:
        intro: :func:`initial_message`'s text.
        names: Hyperparameter names (for the example config).
        history: The configs tried so far, in the order they were proposed.
        last: Whether the next answer is the last try.
        chain_of_thought: Ask for "Analysis: ... / Config: ..." in later steps.
        metric_short: The word before ``=`` in transition messages.
        fidelity_name: Name of the fidelity shown with reduced-budget losses.
        classic: The classic-state section (:func:`classic_state_text`), put before the last request.
        templates: The templates.
        omitted: The note on history entries left out (:attr:`PromptTemplates.history_omitted`),
            put in the first message after the intro.
    """
    example = example_config(names)
    intro = intro + omitted
    first = intro + templates.request.format(example=example)
    messages = [*_system(templates)]
    if last and not history:
        first = templates.last_try + first
    messages.append({"role": "user", "content": first})
    for i, entry in enumerate(history):
        messages.append({"role": "assistant", "content": entry.answer if entry.answer else format_config(entry.config)})
        loss = format_loss(entry, templates, fidelity_name)
        if chain_of_thought:
            text = templates.cot_transition.format(metric_short=metric_short, loss=loss)
        elif i == 0:
            text = templates.first_transition.format(metric_short=metric_short, loss=loss)
        else:
            text = templates.transition.format(metric_short=metric_short, loss=loss)
        if last and i == len(history) - 1:
            text = templates.last_try + text
        messages.append({"role": "user", "content": text})
    if classic:
        last_message = messages[-1]
        if len(messages) == len(_system(templates)) + 1:  # no history yet: before the first request
            last_message["content"] = intro + classic + templates.request.format(example=example)
            if last:
                last_message["content"] = templates.last_try + last_message["content"]
        else:
            last_message["content"] = classic + last_message["content"]
    return messages


def compressed_messages(
    *,
    intro: str,
    names: Sequence[str],
    history: Sequence[HistoryEntry],
    last: bool,
    chain_of_thought: bool = False,
    metric_short: str = "loss",
    fidelity_name: str = "budget",
    image_only: bool = False,
    image_note: bool = False,
    classic: str = "",
    templates: PromptTemplates = DEFAULT_TEMPLATES,
    omitted: str = "",
) -> list[dict[str, Any]]:
    """The "compressed" prompt: one user message holding the whole history.

    Args:
        intro: :func:`initial_message`'s text.
        names: Hyperparameter names (for the example config).
        history: The configs tried so far.
        last: Whether the next answer is the last try.
        chain_of_thought: End with the "Analysis: ... / Config: ..." request.
        metric_short: The word before ``=`` in history lines.
        fidelity_name: Name of the fidelity shown with reduced-budget losses.
        image_only: Leave the losses out of the text (the "image only" mode).
        image_note: Add the sentence saying a plot is attached.
        classic: The classic-state section (:func:`classic_state_text`), put before the request.
        templates: The templates.
        omitted: The note on history entries left out (:attr:`PromptTemplates.history_omitted`),
            put after the history header.
    """
    example = example_config(names)
    text = intro
    if history:
        text += templates.history_header + omitted
        for i, entry in enumerate(history):
            if image_only:
                text += templates.history_line_image_only.format(config=format_config(entry.config), index=i + 1)
            else:
                text += templates.history_line.format(
                    config=format_config(entry.config),
                    metric_short=metric_short,
                    loss=format_loss(entry, templates, fidelity_name),
                    index=i + 1,
                )
    if image_note:
        text += templates.image_note
    text += classic
    if last:
        text += templates.last_try
    if chain_of_thought:
        text += templates.cot_request
    elif history:
        text += templates.compressed_request.format(example=example)
    else:
        text += templates.request.format(example=example)
    return [*_system(templates), {"role": "user", "content": text}]
