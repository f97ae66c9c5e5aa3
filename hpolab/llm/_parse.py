"""Turn an LLM's answer into a configuration: parse -> validate -> repair -> re-ask -> fallback.

Nothing the model writes is ever passed to ``eval`` or ``exec``: answers are read with
``json.loads`` after purely textual fixes (single quotes, Python literals, unquoted keys and
words, trailing commas, a truncated end).

The policy of :func:`propose_config`, in order:

1. Ask the client. Parse the answer: the JSON object after the last ``Config:`` marker, in a
   code block, or anywhere in the text (the object whose keys best match the space wins); failing
   that, ``name: value`` / ``name = value`` pairs for the space's hyperparameters.
2. Validate it against the space. Valid as given: outcome ``"valid"``.
3. Otherwise repair it (:meth:`SearchSpace.repair`: clip, round, snap, fill missing keys with the
   default, drop unknown keys); outcome ``"repaired"``, with one note per change. An answer with no
   JSON object and no known ``name: value`` pair, or with no key of the space, is *unusable*.
4. An unusable answer gets one re-ask that quotes the error (the answer is shown back as the
   assistant's message), sampled at ``reask_temperature``; a request that failed for good (a
   :class:`LLMClientError` after the client's own retries) is sent once more as it was. If that
   gives a usable config the outcome is ``"reasked"``.
5. Still nothing: a random sample from the space; outcome ``"fallback"``.
6. Duplicates: a config equal to one in ``seen`` (already evaluated or already proposed) is
   re-asked once quoting the duplicate (``on_duplicate="reask"``), then perturbed
   (:func:`perturb_config`), then replaced by a random sample; ``on_duplicate="perturb"`` skips the
   re-ask. Only a space with nothing unseen left keeps a duplicate (flag ``duplicate_kept``).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from hpolab.llm._client import LLMClientError
from hpolab.space import InvalidConfigError, SearchSpace

if TYPE_CHECKING:
    from hpolab.llm._client import LLMClient

__all__ = [
    "AnswerCheck",
    "ParsedAnswer",
    "Proposed",
    "check_answer",
    "extract_config",
    "perturb_config",
    "propose_config",
]

_logger = logging.getLogger("hpolab.llm.parse")

#: Answers longer than this are read only up to it (a model cannot be right in 200 KB of text).
MAX_CHARS = 200_000
_MAX_CANDIDATES = 64

REASK_TEMPLATE = (
    "Your answer could not be used: {error}. Reply with only the config in JSON format, "
    "one value for each of: {names}. Config:"
)
DUPLICATE_TEMPLATE = (
    "The config {config} was already evaluated. Propose a different config in the same JSON format. Config:"
)

Outcome = Literal["valid", "repaired", "reasked", "fallback"]
Status = Literal["valid", "repaired", "unusable"]


@dataclass
class ParsedAnswer:
    """What could be read from an answer.

    Attributes:
        config: The dict read (keys mapped onto the space's names where they matched loosely),
            or ``None``.
        how: Where it came from: ``"json"``, ``"config_marker"``, ``"code_block"``, ``"embedded"``,
            ``"truncated"``, ``"key_value"`` or ``"none"``.
        notes: Textual fixes applied (``"single quotes"``, ``"renamed key LR -> lr"``, ...).
        error: Why nothing could be read (``None`` if something was).
    """

    config: dict[str, Any] | None
    how: str
    notes: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class AnswerCheck:
    """An answer parsed, validated and repaired.

    Attributes:
        status: ``"valid"`` (as given), ``"repaired"`` or ``"unusable"``.
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
        outcome: ``"valid"``, ``"repaired"``, ``"reasked"`` or ``"fallback"``.
        counters: Counts of what happened (``valid``, ``repaired``, ``reasked``, ``fallback``,
            ``parse_error``, ``client_error``, ``duplicate``, ``duplicate_reasked``,
            ``perturbed``, ``duplicate_random``, ``duplicate_kept``); zero counts are left out.
        changes: Repair notes of the accepted answer (and perturbation notes).
        errors: Errors met on the way (parse / client / duplicate), in order.
        exchanges: One dict per model call: ``kind`` (``ask`` / ``reask`` / ``duplicate_reask``),
            ``messages``, ``images`` (their byte sizes), ``answer``, ``prompt_tokens``,
            ``completion_tokens``, ``latency_s``, ``temperature``, ``status``, ``error``.
        answer: The text of the accepted answer (``None`` for a fallback); chat mode shows it
            back to the model.
        duplicate_handling: ``None``, ``"reask"``, ``"perturb"``, ``"random"`` or ``"kept"``.
    """

    config: dict[str, Any]
    outcome: Outcome
    counters: dict[str, int]
    changes: list[str]
    errors: list[str]
    exchanges: list[dict[str, Any]]
    answer: str | None
    duplicate_handling: str | None = None

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


# ----------------------------------------------------------------------------- parsing
def _balanced_objects(text: str, limit: int = _MAX_CANDIDATES) -> tuple[list[tuple[int, str]], str | None]:
    """Top-level ``{...}`` substrings (string-aware) and an unclosed tail, if the text ends inside one."""
    found: list[tuple[int, str]] = []
    depth = 0
    start = -1
    quote: str | None = None
    escape = False
    for i, ch in enumerate(text):
        if quote is not None:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == quote or ch == "\n":
                quote = None
            continue
        if ch == '"' and depth > 0:
            quote = ch
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                found.append((start, text[start : i + 1]))
                if len(found) >= limit:
                    return found, None
    tail = text[start:] if depth > 0 and start >= 0 else None
    return found, tail


_SMART_QUOTES = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u00ab": '"', "\u00bb": '"'}
)
_PY_LITERALS = re.compile(r"(?<![\w\"'])(True|False|None)(?![\w\"'])")
_UNQUOTED_KEY = re.compile(r"([{,]\s*)([A-Za-z_][\w\-. ]*?)\s*:(?!//)")
_BARE_WORD = re.compile(r"(:\s*)([A-Za-z_][\w\-.]*)(\s*[,}\]])")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_JSON_WORDS = frozenset({"true", "false", "null", "NaN", "Infinity"})


def _loads_lenient(text: str) -> tuple[Any, list[str]]:
    """``json.loads`` after textual fixes; raises ValueError if nothing works."""
    try:
        return json.loads(text), []
    except (ValueError, RecursionError):
        pass
    notes: list[str] = []
    fixed = text.translate(_SMART_QUOTES)
    if fixed != text:
        notes.append("smart quotes")
    if "'" in fixed and '"' not in fixed:
        fixed = fixed.replace("'", '"')
        notes.append("single quotes")
    elif "'" in fixed:
        swapped = re.sub(r"'([^'\"\n]*)'", r'"\1"', fixed)
        if swapped != fixed:
            fixed = swapped
            notes.append("single quotes")
    new = _PY_LITERALS.sub(lambda m: {"True": "true", "False": "false", "None": "null"}[m.group(1)], fixed)
    if new != fixed:
        notes.append("Python literals")
        fixed = new
    new = _TRAILING_COMMA.sub(r"\1", fixed)
    if new != fixed:
        notes.append("trailing comma")
        fixed = new
    try:
        return json.loads(fixed), notes
    except (ValueError, RecursionError):
        pass
    new = _UNQUOTED_KEY.sub(lambda m: f'{m.group(1)}"{m.group(2).strip()}":', fixed)
    if new != fixed:
        notes.append("unquoted keys")
        fixed = new
    new = _BARE_WORD.sub(
        lambda m: m.group(0) if m.group(2) in _JSON_WORDS else f'{m.group(1)}"{m.group(2)}"{m.group(3)}', fixed
    )
    if new != fixed:
        notes.append("unquoted words")
        fixed = new
    try:
        return json.loads(fixed), notes
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({exc})") from None


def _close_truncated(tail: str) -> str | None:
    """Close a JSON object cut off mid-answer (``{"a": 1, "b": 0.`` -> ``{"a": 1}``-ish)."""
    text = tail.rstrip()
    if text.count('"') % 2 == 1:
        text += '"'
    text = re.sub(r"[,:]\s*$", "", text)
    text = re.sub(r",\s*\"[^\"]*\"$", "", text)  # a dangling key without value
    opens = text.count("{") - text.count("}")
    brackets = text.count("[") - text.count("]")
    if opens <= 0 or opens > 8 or brackets < 0 or brackets > 8:
        return None
    return text + "]" * brackets + "}" * opens


def _normalize(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().strip("'\"").lower())


def _map_keys(obj: Mapping[str, Any], space: SearchSpace) -> tuple[dict[str, Any], list[str], int]:
    """Rename loosely matching keys onto the space's names; returns (config, notes, n_known)."""
    names = space.names
    lookup = {_normalize(n): n for n in names}
    out: dict[str, Any] = {}
    notes: list[str] = []
    known = 0
    for key, value in obj.items():
        k = str(key)
        if k in space.params:
            out[k] = value
            known += 1
            continue
        target = lookup.get(_normalize(k))
        if target is not None and target not in obj and target not in out:
            out[target] = value
            notes.append(f"renamed key {k!r} to {target!r}")
            known += 1
        else:
            out[k] = value
    return out, notes, known


def _unwrap(obj: Any, space: SearchSpace) -> Any:
    """``{"config": {...}}`` (also with an ``"analysis"`` beside it) -> ``{...}``.

    Unwraps only when no outer key is a hyperparameter.
    """
    for _ in range(3):
        if not isinstance(obj, Mapping) or any(str(k) in space.params for k in obj):
            break
        inner = [v for k, v in obj.items() if isinstance(v, Mapping)]
        config = obj.get("config", obj.get("Config"))
        if isinstance(config, Mapping):
            obj = config
        elif len(obj) == 1 and len(inner) == 1:
            obj = inner[0]
        else:
            break
    return obj


_VALUE = r"(\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[A-Za-z_][\w\-.]{0,60})"


def _key_values(text: str, space: SearchSpace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in space.names:
        pattern = re.compile(r"[\"']?" + re.escape(name) + r"[\"']?\s*[:=]\s*" + _VALUE, re.IGNORECASE)
        matches = pattern.findall(text)
        if not matches:
            continue
        raw = matches[-1]
        if raw[:1] in "\"'":
            out[name] = raw[1:-1]
            continue
        try:
            number = float(raw)
        except ValueError:
            out[name] = raw
            continue
        out[name] = int(number) if re.fullmatch(r"[-+]?\d+", raw) and abs(number) < 2**53 else number
    return out


def extract_config(text: str, space: SearchSpace) -> ParsedAnswer:
    """Read a configuration dict out of an LLM answer (no validation yet).

    Args:
        text: The answer.
        space: The search space (its names decide which of several JSON objects is meant).

    Returns:
        What was read, from where, and the textual fixes applied.
    """
    if not isinstance(text, str):
        return ParsedAnswer(None, "none", error=f"the answer is a {type(text).__name__}, not text")
    text = text[:MAX_CHARS]
    if not text.strip():
        return ParsedAnswer(None, "none", error="the answer is empty")
    # Whole answer is JSON.
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        whole = None
    whole = _unwrap(whole, space)
    if isinstance(whole, Mapping):
        config, notes, _ = _map_keys(whole, space)
        return ParsedAnswer(config, "json", notes)
    regions: list[tuple[str, str]] = []
    markers = [m.end() for m in re.finditer(r"config\s*:", text, re.IGNORECASE)]
    if markers:
        regions.append(("config_marker", text[markers[-1] :]))
    regions.extend(("code_block", m.group(1)) for m in re.finditer(r"```[a-zA-Z]*\s*(.*?)```", text, re.DOTALL))
    regions.append(("embedded", text))
    best: tuple[int, int, ParsedAnswer] | None = None
    tried = 0
    last_error = "no JSON object found"
    for rank, (how, region) in enumerate(regions):
        objects, tail = _balanced_objects(region)
        candidates = [(how, s) for _, s in objects]
        if tail is not None:
            closed = _close_truncated(tail)
            if closed is not None:
                candidates.append(("truncated", closed))
        for cand_how, snippet in candidates:
            tried += 1
            if tried > _MAX_CANDIDATES:
                break
            try:
                obj, fixes = _loads_lenient(snippet)
            except ValueError as exc:
                last_error = f"the JSON object {snippet[:80]!r} cannot be read: {exc}"
                continue
            obj = _unwrap(obj, space)
            if not isinstance(obj, Mapping):
                last_error = f"{snippet[:80]!r} is not a JSON object"
                continue
            config, notes, known = _map_keys(obj, space)
            notes = fixes + notes + (["closed a truncated JSON object"] if cand_how == "truncated" else [])
            if best is None or known > best[0] or (known == best[0] and rank < best[1] and known == 0):
                best = (known, rank, ParsedAnswer(config, cand_how, notes))
    if best is not None and best[0] > 0:
        return best[2]
    pairs = _key_values(text, space)
    if pairs:
        return ParsedAnswer(pairs, "key_value", ["read name: value pairs"])
    if best is not None:
        return best[2]
    return ParsedAnswer(None, "none", error=last_error)


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


def check_answer(text: str, space: SearchSpace) -> AnswerCheck:
    """Parse, validate and repair one answer.

    Returns:
        ``valid`` (inside the space as given), ``repaired`` (with notes) or ``unusable`` (with the
        error to quote in a re-ask).
    """
    parsed = extract_config(text, space)
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
    """A random neighbour of ``config``: at least one hyperparameter changed.

    Numeric values move by a normal step of ``scale`` times their range (in log space on a log
    scale), clipped to the bounds; integers move by at least one; a categorical or ordinal value is
    replaced by another choice (an ordinal by a neighbour).

    Returns:
        The valid neighbour and one note per change.
    """
    names = [n for n in sorted(config) if n in space.params and space[n].kind != "constant"]
    if not names:
        return space.validate(config), []
    new = dict(config)
    must = names[int(rng.integers(len(names)))]
    notes: list[str] = []
    for name in names:
        if name != must and rng.random() >= 0.5:
            continue
        p = space[name]
        old = new[name]
        if p.kind in ("float", "int"):
            lo, hi = float(p.lower), float(p.upper)  # type: ignore[arg-type]
            use_log = p.log and lo > 0
            to = (lambda v: math.log(max(v, 1e-300))) if use_log else (lambda v: v)
            back = math.exp if use_log else (lambda v: v)
            a, b = to(lo), to(hi)
            x = to(float(old)) + float(rng.normal(0.0, scale * (b - a)))
            value: Any = min(max(back(min(max(x, a), b)), lo), hi)
            if p.kind == "int":
                value = round(value)
                if value == old:
                    step = 1 if (rng.random() < 0.5 and old < hi) or old <= lo else -1
                    value = int(min(max(old + step, lo), hi))
            else:
                value = float(value)
        else:
            choices = list(p.choices)
            if len(choices) < 2:
                continue
            idx = next((i for i, c in enumerate(choices) if c == old), 0)
            if p.kind == "ordinal":
                moves = [j for j in (idx - 1, idx + 1) if 0 <= j < len(choices)]
                value = choices[moves[int(rng.integers(len(moves)))]]
            else:
                others = [c for i, c in enumerate(choices) if i != idx]
                value = others[int(rng.integers(len(others)))]
        if value != old:
            new[name] = value
            notes.append(f"{name}: perturbed {old!r} to {value!r}")
    repaired, changes = space.repair(new)
    return space.validate(repaired), notes + changes


def _random_unseen(
    space: SearchSpace, rng: np.random.Generator, seen: Collection[Any], tries: int = 200
) -> dict[str, Any] | None:
    for _ in range(tries):
        config = space.validate(space._sample_one(rng))
        if space.key(config) not in seen:
            return config
    return None


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
        "messages": [dict(m) for m in messages],
        "images": [len(b) for b in images],
        "temperature": temperature,
        "seed": seed,
    }
    try:
        completion = client.complete(
            messages, json_schema=json_schema, images=images, temperature=temperature, seed=seed, max_tokens=max_tokens
        )
    except LLMClientError as exc:
        record.update(answer=None, prompt_tokens=0, completion_tokens=0, latency_s=0.0, error=str(exc))
        return record, None, f"the model could not be reached: {exc}"
    record.update(
        answer=completion.text,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        latency_s=completion.latency_s,
        cached=bool(isinstance(completion.raw, dict) and completion.raw.get("cached")),
        error=None,
    )
    return record, completion.text, None


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
    on_duplicate: Literal["reask", "perturb"] = "reask",
    reask_template: str = REASK_TEMPLATE,
    duplicate_template: str = DUPLICATE_TEMPLATE,
    perturb_scale: float = 0.1,
) -> Proposed:
    """Ask ``client`` for one configuration and make sure it is valid and new.

    The policy (parse, validate, repair, one re-ask quoting the error, random fallback, duplicate
    handling) is described in the module docstring. This function never raises for a bad answer
    or a failed request: it always returns a valid configuration and says what happened.

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
        on_duplicate: ``"reask"`` or ``"perturb"``.
        reask_template: Re-ask text with ``{error}`` and ``{names}`` fields.
        duplicate_template: Duplicate re-ask text with a ``{config}`` field.
        perturb_scale: Step of :func:`perturb_config`.

    Returns:
        The configuration and the record of how it was obtained.
    """
    if on_duplicate not in ("reask", "perturb"):
        raise ValueError(f"on_duplicate: {on_duplicate!r} is not 'reask' or 'perturb'")
    _check_messages(messages)
    counters: dict[str, int] = {}

    def count(key: str) -> None:
        counters[key] = counters.get(key, 0) + 1

    exchanges: list[dict[str, Any]] = []
    errors: list[str] = []
    seen_set = set(seen)
    names = ", ".join(space.names)

    def seed_at(k: int) -> int | None:
        return None if seed is None else int(seed) + k

    record, text, client_error = _call(
        client,
        "ask",
        messages,
        images,
        json_schema=json_schema,
        temperature=temperature,
        seed=seed_at(0),
        max_tokens=max_tokens,
    )
    exchanges.append(record)
    check = None if text is None else check_answer(text, space)
    outcome: Outcome
    answer: str | None = text
    if check is not None and check.status != "unusable":
        outcome = check.status  # type: ignore[assignment]
    else:
        error = client_error or (check.error if check is not None else None) or "no configuration found"
        count("client_error" if client_error else "parse_error")
        errors.append(error)
        record["status"] = "unusable"
        record["error"] = record.get("error") or error
        followup = list(messages)
        if text is not None:
            followup.append({"role": "assistant", "content": text[:2000]})
        followup.append({"role": "user", "content": reask_template.format(error=error, names=names)})
        reask_messages = followup if client_error is None else list(messages)
        record, text, client_error = _call(
            client,
            "reask",
            reask_messages,
            images,
            json_schema=json_schema,
            temperature=reask_temperature,
            seed=seed_at(1),
            max_tokens=max_tokens,
        )
        exchanges.append(record)
        check = None if text is None else check_answer(text, space)
        answer = text
        if check is not None and check.status != "unusable":
            outcome = "reasked"
            count("reasked")
        else:
            error = client_error or (check.error if check is not None else None) or "no configuration found"
            count("client_error" if client_error else "parse_error")
            errors.append(error)
            record["status"] = "unusable"
            record["error"] = record.get("error") or error
            outcome = "fallback"
    if outcome == "fallback" or check is None or check.config is None:
        count("fallback")
        config = _random_unseen(space, rng, seen_set) or space.validate(space._sample_one(rng))
        _logger.info("no usable answer (%s); fell back to a random configuration", errors[-1] if errors else "?")
        return Proposed(config, "fallback", counters, [], errors, exchanges, None)
    record["status"] = check.status
    if outcome in ("valid", "repaired"):
        count(outcome)
    config = check.config
    changes = list(check.changes)
    duplicate_handling: str | None = None
    if space.key(config) in seen_set:
        count("duplicate")
        errors.append(f"duplicate of an evaluated config: {json.dumps(config)}")
        if on_duplicate == "reask":
            followup = [*messages, {"role": "assistant", "content": (answer or "")[:2000]}]
            followup.append({"role": "user", "content": duplicate_template.format(config=json.dumps(config))})
            record, text, client_error = _call(
                client,
                "duplicate_reask",
                followup,
                images,
                json_schema=json_schema,
                temperature=max(reask_temperature, 0.1),
                seed=seed_at(2),
                max_tokens=max_tokens,
            )
            exchanges.append(record)
            dup_check = None if text is None else check_answer(text, space)
            if dup_check is not None and dup_check.config is not None and space.key(dup_check.config) not in seen_set:
                record["status"] = dup_check.status
                count("duplicate_reasked")
                return Proposed(
                    dup_check.config, outcome, counters, list(dup_check.changes), errors, exchanges, text, "reask"
                )
            record["status"] = "duplicate" if dup_check is not None and dup_check.config is not None else "unusable"
        for attempt in range(30):
            candidate, notes = perturb_config(space, config, rng, perturb_scale * (1 + attempt // 5))
            if space.key(candidate) not in seen_set:
                count("perturbed")
                return Proposed(candidate, outcome, counters, changes + notes, errors, exchanges, answer, "perturb")
        candidate_random = _random_unseen(space, rng, seen_set)
        if candidate_random is not None:
            count("duplicate_random")
            return Proposed(candidate_random, outcome, counters, changes, errors, exchanges, answer, "random")
        count("duplicate_kept")
        duplicate_handling = "kept"
    return Proposed(config, outcome, counters, changes, errors, exchanges, answer, duplicate_handling)


def _check_messages(messages: Sequence[Mapping[str, Any]]) -> None:
    if not messages or messages[-1].get("role") != "user":
        raise ValueError("messages: the prompt must end with a user message")
