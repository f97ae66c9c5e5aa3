"""Turn an LLM's answer into a valid configuration: parse -> validate -> repair -> re-ask -> fallback.

Reading the answer's text is :mod:`hpolab.llm._extract`'s (:func:`~hpolab.llm._extract.extract_config`);
this module is the policy around it.

The policy of :func:`propose_config`, in order:

1. Ask the client. Read a configuration out of the answer (:func:`~hpolab.llm._extract.extract_config`).
2. Validate it against the space. Valid as given: outcome ``"valid"``.
3. Otherwise repair it (:meth:`SearchSpace.repair`: clip, round, snap, fill missing keys with the
   default, drop unknown keys); outcome ``"repaired"``, with one note per change. An answer with no
   JSON object and no known ``name: value`` pair, or with no key of the space, is *unusable*.
4. An unusable answer gets one re-ask that quotes the error (the answer is shown back as the
   assistant's message), sampled at ``reask_temperature``; a request that failed for good (a
   :class:`LLMClientError` after the client's own retries) is sent once more as it was. If that
   gives a usable config the outcome is ``"reasked"``.
5. Still nothing: the ``delegate`` answers (in the hybrid optimizer, its classic core; counted
   ``fallback_delegated``), or without one a random sample from the space; outcome ``"fallback"``.
6. Duplicates: a config equal to one in ``seen`` (already evaluated or already proposed) is
   re-asked once (``on_duplicate="reask"``), naming the evaluated configurations as forbidden;
   if the answer is still a duplicate, the ``delegate`` answers (``duplicate_delegated``; its proposal
   stands even when it repeats a config, as the core alone would run it), or
   without one the duplicate is perturbed (:func:`perturb_config`, ``perturbed``), then replaced by
   a random sample (``duplicate_random``). ``on_duplicate="delegate"`` hands a duplicate to the
   delegate without a re-ask, ``on_duplicate="perturb"`` perturbs it without a re-ask. Only a space
   with nothing unseen left keeps a duplicate (``duplicate_kept``). Every path is counted and
   named in ``Proposed.duplicate_handling``: a duplicate is never replaced silently.
7. Declining: with ``keep_config`` given, the model may answer ``{"keep": true}`` (or ``keep``) to
   keep the classic optimizer's proposal; outcome ``"declined"`` and the config is ``keep_config``.
   Without it, such an answer is unusable and re-asked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

from hpolab._secrets import redact_url
from hpolab.llm._extract import ParsedAnswer, extract_config, is_keep
from hpolab.llm.clients._base import LLMClientError
from hpolab.space import InvalidConfigError, SearchSpace

if TYPE_CHECKING:
    from hpolab.llm.clients._base import LLMClient

__all__ = [
    "AnswerCheck",
    "Proposed",
    "check_answer",
    "perturb_config",
    "prompt_fingerprint",
    "propose_config",
]

_logger = logging.getLogger("hpolab.llm.propose")

REASK_TEMPLATE = (
    "Your answer could not be used: {error}. Reply with only the config in JSON format, "
    "one value for each of: {names}. Config:"
)
DUPLICATE_TEMPLATE = (
    "The config {config} was already evaluated. Propose a different config in the same JSON format. Config:"
)
FORBIDDEN_TEMPLATE = (
    "The config {config} was already evaluated. These configs were all evaluated already and must not be "
    "proposed again:\n{forbidden}\nPropose a different config in the same JSON format. Config:"
)
#: Most evaluated configurations named in a duplicate re-ask (the most recent ones).
MAX_FORBIDDEN = 30

Outcome = Literal["valid", "repaired", "reasked", "fallback", "declined"]
Status = Literal["valid", "repaired", "unusable", "keep"]


@dataclass
class AnswerCheck:
    """An answer parsed, validated and repaired.

    Attributes:
        status: ``"valid"`` (as given), ``"repaired"``, ``"unusable"``, or ``"keep"`` (the model
            declined, see :func:`propose_config`).
        config: The valid configuration (``None`` if unusable).
        parsed: The parse step's result.
        changes: What the repair changed (and textual fixes of the parse step).
        error: Why it is unusable (quoted in the re-ask), ``None`` otherwise.
    """

    status: Status
    config: dict[str, Any] | None
    parsed: ParsedAnswer
    changes: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class Proposed:
    """The result of :func:`propose_config`.

    Attributes:
        config: A configuration that passes ``space.validate``.
        outcome: ``"valid"``, ``"repaired"``, ``"reasked"``, ``"fallback"`` or ``"declined"``.
        counters: Counts of what happened (``valid``, ``repaired``, ``reasked``, ``fallback``,
            ``fallback_delegated``, ``declined``, ``parse_error``, ``client_error``, ``duplicate``,
            ``duplicate_reasked``, ``duplicate_delegated``, ``perturbed``, ``duplicate_random``,
            ``duplicate_kept``); zero counts are left out.
        changes: Repair notes of the accepted answer (and perturbation notes).
        errors: Errors met on the way (parse / client / duplicate), in order.
        exchanges: One dict per model call: ``kind`` (``ask`` / ``reask`` / ``duplicate_reask``),
            ``prompt`` (:func:`prompt_fingerprint` of what was sent), ``messages`` (only those a
            re-ask added after the proposal's prompt: the answer quoted back and the instruction;
            the prompt itself is not copied), ``images`` (their byte sizes), ``answer``,
            ``prompt_tokens``, ``completion_tokens``, ``latency_s``, ``temperature``, ``status``, ``error``.
        answer: The text of the accepted answer (``None`` for a fallback); chat mode shows it
            back to the model.
        duplicate_handling: ``None``, ``"reask"``, ``"delegate"``, ``"perturb"``, ``"random"`` or ``"kept"``.
        delegated: Whether the config came from the ``delegate`` (declined, duplicate or fallback).
    """

    config: dict[str, Any]
    outcome: Outcome
    counters: dict[str, int]
    changes: list[str]
    errors: list[str]
    exchanges: list[dict[str, Any]]
    answer: str | None
    duplicate_handling: str | None = None
    delegated: bool = False

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens over all calls."""
        return sum(int(e.get("prompt_tokens", 0)) for e in self.exchanges)

    @property
    def completion_tokens(self) -> int:
        """Completion tokens over all calls."""
        return sum(int(e.get("completion_tokens", 0)) for e in self.exchanges)

    @property
    def latency_s(self) -> float:
        """Seconds spent in the model over all calls."""
        return float(sum(float(e.get("latency_s", 0.0)) for e in self.exchanges))


# ----------------------------------------------------------------------------- checking
def _complete_choices(raw: dict[str, Any], space: SearchSpace) -> tuple[dict[str, Any], list[str]]:
    """A string that is the start of exactly one choice becomes that choice (``"sg"`` -> ``"sgd"``)."""
    out = dict(raw)
    notes: list[str] = []
    for name, value in raw.items():
        param = space.params.get(name)
        if param is None or param.kind not in ("categorical", "ordinal") or not isinstance(value, str):
            continue
        text = value.strip().lower()
        if not text or any(str(c).lower() == text for c in param.choices):
            continue
        matches = [c for c in param.choices if str(c).lower().startswith(text)]
        if len(matches) == 1:
            out[name] = matches[0]
            notes.append(f"{name}: completed {value!r} to {matches[0]!r}")
    return out, notes


def check_answer(text: str, space: SearchSpace, *, compact: bool = False) -> AnswerCheck:
    """Parse, validate and repair one answer.

    Returns:
        ``valid`` (inside the space as given), ``repaired`` (with notes) or ``unusable`` (with the
        error to quote in a re-ask).
    """
    parsed = extract_config(text, space, compact=compact)
    if parsed.config is None:
        return AnswerCheck("unusable", None, parsed, error=parsed.error or "no configuration found")
    raw = parsed.config
    known = [k for k in raw if k in space.params]
    if not known:
        keys = ", ".join(repr(k) for k in list(raw)[:10]) or "none"
        return AnswerCheck(
            "unusable",
            None,
            parsed,
            error=f"none of its keys ({keys}) is a hyperparameter of the search space ({', '.join(space.names)})",
        )
    raw, prefix_notes = _complete_choices(raw, space)
    parsed.notes.extend(prefix_notes)
    try:
        config = space.validate(raw)
    except InvalidConfigError:
        pass
    else:
        status: Status = "repaired" if parsed.notes else "valid"
        return AnswerCheck(status, config, parsed, changes=list(parsed.notes))
    try:
        repaired, changes = space.repair(raw)
        config = space.validate(repaired)
    except (InvalidConfigError, TypeError, ValueError, OverflowError) as exc:
        return AnswerCheck("unusable", None, parsed, error=f"the configuration cannot be repaired: {exc}")
    return AnswerCheck("repaired", config, parsed, changes=list(parsed.notes) + changes)


# ----------------------------------------------------------------------------- duplicates
def perturb_config(
    space: SearchSpace, config: Mapping[str, Any], rng: np.random.Generator, scale: float = 0.1
) -> tuple[dict[str, Any], list[str]]:
    """A random neighbour of ``config``: at least one hyperparameter changed (:meth:`SearchSpace.neighbour`).

    Numeric values move by a normal step of ``scale`` times their range (in log space on a log
    scale), clipped to the bounds; integers move by at least one; a categorical or ordinal value is
    replaced by another choice (an ordinal by a neighbour).

    Returns:
        The valid neighbour and one note per change.
    """
    return space.neighbour(config, rng, scale)


# ----------------------------------------------------------------------------- the loop
def _call(
    client: LLMClient,
    kind: str,
    messages: Sequence[Mapping[str, Any]],
    images: Sequence[bytes],
    *,
    json_schema: Mapping[str, Any] | None,
    temperature: float,
    seed: int | None,
    max_tokens: int,
) -> tuple[dict[str, Any], str | None, str | None]:
    """One model call; returns (exchange record, text or None, client error or None)."""
    record: dict[str, Any] = {
        "kind": kind,
        "prompt": prompt_fingerprint(messages),
        "images": [len(b) for b in images],
        "temperature": temperature,
        "seed": seed,
    }
    try:
        completion = client.complete(
            messages, json_schema=json_schema, images=images, temperature=temperature, seed=seed, max_tokens=max_tokens
        )
    except LLMClientError as exc:
        error = redact_url(str(exc))  # stored with the trial: no URL credentials in it
        record.update(answer=None, prompt_tokens=0, completion_tokens=0, latency_s=0.0, error=error)
        return record, None, f"the model could not be reached: {error}"
    record.update(
        answer=completion.text,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        latency_s=completion.latency_s,
        cached=bool(isinstance(completion.raw, dict) and completion.raw.get("cached")),
        error=None,
    )
    cost = getattr(completion, "cost", None)  # set by clients that price their calls
    if isinstance(cost, (int, float)):
        record["cost"] = float(cost)
    return record, completion.text, None


def prompt_fingerprint(messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a transcript records of a prompt instead of a copy: its SHA-256, characters and messages.

    The hash is over the messages as canonical JSON, so a prompt rebuilt later
    (:meth:`LLMOptimizer.build_messages <hpolab.llm.LLMOptimizer.build_messages>`) can be checked
    against it.
    """
    import hashlib

    text = json.dumps([dict(m) for m in messages], sort_keys=True, default=str)
    chars = sum(len(str(m.get("content", ""))) for m in messages)
    return {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "chars": chars, "messages": len(messages)}


def _forbidden_text(configs: Sequence[Mapping[str, Any]]) -> str:
    shown = list(configs)[-MAX_FORBIDDEN:]
    return "\n".join(json.dumps(dict(c)) for c in shown)


def propose_config(
    client: LLMClient,
    messages: Sequence[Mapping[str, Any]],
    space: SearchSpace,
    rng: np.random.Generator,
    seen: Collection[Any] = (),
    *,
    json_schema: Mapping[str, Any] | None = None,
    images: Sequence[bytes] = (),
    temperature: float = 0.0,
    reask_temperature: float = 0.7,
    seed: int | None = None,
    max_tokens: int = 256,
    on_duplicate: Literal["reask", "perturb", "delegate"] = "reask",
    reask_template: str = REASK_TEMPLATE,
    duplicate_template: str = FORBIDDEN_TEMPLATE,
    perturb_scale: float = 0.1,
    evaluated: Sequence[Mapping[str, Any]] = (),
    delegate: Callable[[str], Mapping[str, Any]] | None = None,
    keep_config: Mapping[str, Any] | None = None,
    compact: bool = False,
) -> Proposed:
    """Ask ``client`` for one configuration and make sure it is valid and new.

    The policy (parse, validate, repair, one re-ask quoting the error, fallback, duplicate
    handling, declining) is described in the module docstring. This function never raises for a
    bad answer or a failed request: it always returns a valid configuration and says what happened.

    Args:
        client: The model.
        messages: The prompt (OpenAI chat format), ending with a user message.
        space: The search space.
        rng: Generator for fallbacks and perturbations.
        seen: Keys (``space.key(config)``) of configurations already evaluated or proposed.
        json_schema: Schema for constrained decoding (``space.json_schema()``), if wanted.
        images: PNG images for the last user message.
        temperature: Temperature of the first ask.
        reask_temperature: Temperature of re-asks (above 0 so a re-ask can differ).
        seed: Sampling seed of the first ask (re-asks use ``seed + 1``, ``seed + 2``).
        max_tokens: Most tokens per answer.
        on_duplicate: ``"reask"``, ``"perturb"`` or ``"delegate"`` (needs ``delegate``).
        reask_template: Re-ask text with ``{error}`` and ``{names}`` fields.
        duplicate_template: Duplicate re-ask text with ``{config}`` and ``{forbidden}`` fields.
        perturb_scale: Step of :func:`perturb_config`.
        evaluated: The configurations named as forbidden in a duplicate re-ask (the last
            :data:`MAX_FORBIDDEN`); empty names only the duplicate.
        delegate: ``delegate(reason) -> config``: who answers when the model cannot (a duplicate
            after the re-ask, no usable answer, or a declined proposal); ``None`` for the
            perturbation and random fallbacks.
        keep_config: The classic optimizer's proposal the model may keep by answering
            ``{"keep": true}``; ``None`` when declining is not allowed.
        compact: Read compact answers too (a list of values in the space's key order).

    Returns:
        The configuration and the record of how it was obtained.
    """
    if on_duplicate not in ("reask", "perturb", "delegate"):
        raise ValueError(f"on_duplicate: {on_duplicate!r} is not 'reask', 'perturb' or 'delegate'")
    if on_duplicate == "delegate" and delegate is None:
        raise ValueError("on_duplicate: 'delegate' needs a delegate (the hybrid optimizer gives its core)")
    _check_messages(messages)
    run = _Run(client, messages, space, images, json_schema, max_tokens, seed, set(seen))

    # 1-4: parse, validate, repair; one re-ask quoting the error when the answer is unusable.
    text, error = run.ask("ask", messages, temperature, 0)
    check, error = _check(text, error, space, keep_config, compact)
    outcome: Outcome
    if check is not None:
        outcome = "declined" if check.status == "keep" else cast(Outcome, check.status)
        run.mark(check.status)
    else:
        run.fail(error)
        instruction = reask_template.format(error=error, names=", ".join(space.names))
        text, error = run.reask("reask", text, instruction, reask_temperature, 1)
        check, error = _check(text, error, space, keep_config, compact)
        if check is None:
            run.fail(error)
            return run.fallback(rng, delegate)  # 5
        outcome = "declined" if check.status == "keep" else "reasked"
        run.count("reasked")
        run.mark(check.status)
    if outcome in ("valid", "repaired"):
        run.count(outcome)
    # 7: declined.
    if check.status == "keep" and keep_config is not None:  # _check reports "keep" only with a keep_config
        run.count("declined")
        return run.result(space.validate(keep_config), "declined", [], text, delegated=True)
    config = cast(dict[str, Any], check.config)  # a usable, non-keep check always holds a config
    if not run.is_seen(config):
        return run.result(config, outcome, list(check.changes), text)

    # 6: a duplicate; the first way that gives an unseen config wins.
    run.count("duplicate")
    run.errors.append(f"duplicate of an evaluated config: {json.dumps(config)}")
    changes = list(check.changes)

    def reask() -> Proposed | None:
        forbidden = _forbidden_text(evaluated or [config])
        instruction = duplicate_template.format(config=json.dumps(config), forbidden=forbidden)
        dup_text, dup_error = run.reask("duplicate_reask", text or "", instruction, max(reask_temperature, 0.1), 2)
        dup, _ = _check(dup_text, dup_error, space, None, compact)
        if dup is not None and dup.config is not None and not run.is_seen(dup.config):
            run.count("duplicate_reasked")
            run.mark(dup.status)
            return run.result(dup.config, outcome, list(dup.changes), dup_text, "reask")
        run.mark("duplicate" if dup is not None else "unusable")
        return None

    def delegated() -> Proposed | None:
        # the core's proposal stands even if it repeats a config: it is what the core alone would run
        candidate = space.validate(cast(Callable[[str], Mapping[str, Any]], delegate)("duplicate"))
        run.count("duplicate_delegated")
        return run.result(candidate, outcome, [], text, "delegate", delegated=True)

    def perturbed() -> Proposed | None:
        for attempt in range(30):
            candidate, notes = space.neighbour(config, rng, perturb_scale * (1 + attempt // 5))
            if not run.is_seen(candidate):
                run.count("perturbed")
                return run.result(candidate, outcome, changes + notes, text, "perturb")
        return None

    def random() -> Proposed | None:
        candidate = space.sample_unseen(run.seen, rng)
        if candidate is None:
            return None
        run.count("duplicate_random")
        return run.result(candidate, outcome, changes, text, "random")

    ways: list[Callable[[], Proposed | None]] = [reask] if on_duplicate == "reask" else []
    if delegate is not None and on_duplicate in ("reask", "delegate"):
        ways.append(delegated)
    for way in (*ways, perturbed, random):
        proposed = way()
        if proposed is not None:
            return proposed
    run.count("duplicate_kept")  # nothing unseen is left in the space
    return run.result(config, outcome, changes, text, "kept")


def _check(
    text: str | None,
    client_error: str | None,
    space: SearchSpace,
    keep_config: Mapping[str, Any] | None,
    compact: bool = False,
) -> tuple[AnswerCheck | None, str]:
    """A usable check of ``text`` (status ``valid`` / ``repaired`` / ``keep``) or ``None`` and the error."""
    if text is None:
        return None, client_error or "no answer"
    if is_keep(text):
        if keep_config is not None:
            return AnswerCheck("keep", None, ParsedAnswer(None, "keep")), ""
        return None, "declining (keep) is not allowed for this trial; propose a config"
    check = check_answer(text, space, compact=compact)
    if check.status == "unusable":
        return None, check.error or "no configuration found"
    return check, ""


class _Run:
    """The model calls, counters and errors of one :func:`propose_config`."""

    def __init__(
        self,
        client: LLMClient,
        messages: Sequence[Mapping[str, Any]],
        space: SearchSpace,
        images: Sequence[bytes],
        json_schema: Mapping[str, Any] | None,
        max_tokens: int,
        seed: int | None,
        seen: set[Any],
    ) -> None:
        self.client = client
        self.messages = messages
        self.space = space
        self.images = images
        self.json_schema = json_schema
        self.max_tokens = max_tokens
        self.seed = seed
        self.seen = seen
        self.counters: dict[str, int] = {}
        self.errors: list[str] = []
        self.exchanges: list[dict[str, Any]] = []
        self._client_failed = False

    def count(self, key: str) -> None:
        self.counters[key] = self.counters.get(key, 0) + 1

    def is_seen(self, config: Mapping[str, Any]) -> bool:
        return self.space.key(config) in self.seen

    def ask(
        self, kind: str, messages: Sequence[Mapping[str, Any]], temperature: float, offset: int
    ) -> tuple[str | None, str | None]:
        """One call at ``seed + offset``; returns (text or None, client error or None)."""
        seed = None if self.seed is None else int(self.seed) + offset
        record, text, client_error = _call(
            self.client,
            kind,
            messages,
            self.images,
            json_schema=self.json_schema,
            temperature=temperature,
            seed=seed,
            max_tokens=self.max_tokens,
        )
        added = list(messages)[len(self.messages) :]
        if added:
            record["messages"] = [dict(m) for m in added]
        self.exchanges.append(record)
        self._client_failed = client_error is not None
        return text, client_error

    def reask(
        self, kind: str, answer: str | None, instruction: str, temperature: float, offset: int
    ) -> tuple[str | None, str | None]:
        """Ask again: the answer shown back as the assistant's message, then ``instruction``.

        Without an answer (the request failed for good) the prompt is sent once more as it was.
        """
        if answer is None:
            return self.ask(kind, self.messages, temperature, offset)
        followup = [
            *self.messages,
            {"role": "assistant", "content": answer[:2000]},
            {"role": "user", "content": instruction},
        ]
        return self.ask(kind, followup, temperature, offset)

    def mark(self, status: str) -> None:
        if self.exchanges:
            self.exchanges[-1]["status"] = status

    def fail(self, error: str) -> None:
        self.count("client_error" if self._client_failed else "parse_error")
        self.errors.append(error)
        if self.exchanges:
            record = self.exchanges[-1]
            record["status"] = "unusable"
            record["error"] = record.get("error") or error

    def fallback(self, rng: np.random.Generator, delegate: Callable[[str], Mapping[str, Any]] | None) -> Proposed:
        """No usable answer: the delegate answers, or a random (unseen if possible) sample."""
        self.count("fallback")
        if delegate is not None:
            self.count("fallback_delegated")
            return self.result(self.space.validate(delegate("fallback")), "fallback", [], None, delegated=True)
        config = self.space.sample_unseen(self.seen, rng) or self.space.validate(self.space.sample(rng=rng))
        _logger.info(
            "no usable answer (%s); fell back to a random configuration", self.errors[-1] if self.errors else "?"
        )
        return self.result(config, "fallback", [], None)

    def result(
        self,
        config: dict[str, Any],
        outcome: Outcome,
        changes: list[str],
        answer: str | None,
        duplicate_handling: str | None = None,
        *,
        delegated: bool = False,
    ) -> Proposed:
        return Proposed(
            config,
            outcome,
            dict(self.counters),
            changes,
            list(self.errors),
            self.exchanges,
            answer,
            duplicate_handling,
            delegated,
        )


def _check_messages(messages: Sequence[Mapping[str, Any]]) -> None:
    if not messages or messages[-1].get("role") != "user":
        raise ValueError("messages: the prompt must end with a user message")
