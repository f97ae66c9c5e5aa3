"""Read a configuration dict out of an LLM's answer: text in, a dict (not yet validated) out.

Nothing the model writes is ever passed to ``eval`` or ``exec``: answers are read with
``json.loads`` after purely textual fixes (single quotes, Python literals, unquoted keys and
words, trailing commas, a truncated end).

:func:`extract_config` takes, in order: the whole answer as JSON; a compact answer (a list of
values in the space's key order, when asked for); the JSON object after the last ``Config:``
marker, in a code block, or anywhere in the text (the object whose keys best match the space wins);
failing that, ``name: value`` / ``name = value`` pairs for the space's hyperparameters. Keys that
match a hyperparameter loosely (case, spaces, dashes) are renamed onto it. :func:`is_keep` tells an
answer that declines to propose. Validating, repairing and re-asking are :mod:`hpolab.llm._propose`'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hpolab.space import SearchSpace

__all__ = ["MAX_CHARS", "ParsedAnswer", "compact_schema", "extract_config", "is_keep"]

#: Answers longer than this are read only up to it (a model cannot be right in 200 KB of text).
MAX_CHARS = 200_000
_MAX_CANDIDATES = 64


@dataclass
class ParsedAnswer:
    """What could be read from an answer.

    Attributes:
        config: The dict read (keys mapped onto the space's names where they matched loosely),
            or ``None``.
        how: Where it came from: ``"json"``, ``"config_marker"``, ``"code_block"``, ``"embedded"``,
            ``"truncated"``, ``"compact"`` (a list of values in the space's key order),
            ``"key_value"`` or ``"none"``.
        notes: Textual fixes applied (``"single quotes"``, ``"renamed key LR -> lr"``, ...).
        error: Why nothing could be read (``None`` if something was).
    """

    config: dict[str, Any] | None
    how: str
    notes: list[str] = field(default_factory=list)
    error: str | None = None


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


def compact_schema(space: SearchSpace) -> dict[str, Any]:
    """The JSON schema of a compact answer: a list of the values alone, in the space's key order.

    A conditional hyperparameter's place may hold ``null`` (not active).
    """
    schema = space.json_schema()
    required = set(schema.get("required", []))
    items = []
    for name in space.names:
        item = schema["properties"][name]
        items.append(item if name in required else {"anyOf": [item, {"type": "null"}]})
    return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}


def _compact_values(text: str, space: SearchSpace) -> ParsedAnswer | None:
    """A compact answer (a list of values in the space's key order) as a config, or ``None`` if there is no list.

    The list read is the whole answer, else the last ``[...]`` after a ``Config:`` marker, else the
    last one in the text. ``null`` values (inactive conditional hyperparameters) are left out; a
    shorter list fills the first names (the repair step fills the rest), a longer one is unusable.
    """
    names = space.names
    found = None
    stripped = text.strip()
    if stripped.startswith("["):
        found = stripped
    else:
        markers = [m.end() for m in re.finditer(r"config\s*:", text, re.IGNORECASE)]
        region = text[markers[-1] :] if markers else text
        lists = re.findall(r"\[[^\[\]{}]*\]", region)
        if lists:
            found = lists[-1]
    if found is None:
        return None
    try:
        values, fixes = _loads_lenient(found)
    except ValueError as exc:
        if found.rstrip().endswith("]"):
            return ParsedAnswer(None, "none", error=f"the list {found[:80]!r} cannot be read: {exc}")
        try:  # a list cut off by the token limit
            values, fixes = _loads_lenient(found.rstrip().rstrip(",") + "]")
        except ValueError:
            return ParsedAnswer(None, "none", error=f"the list {found[:80]!r} cannot be read: {exc}")
        fixes = [*fixes, "closed a truncated list"]
    if not isinstance(values, list) or not values:
        return None
    if len(values) > len(names):
        return ParsedAnswer(
            None,
            "none",
            error=f"the list has {len(values)} values but the space has {len(names)} hyperparameters ({', '.join(names)})",
        )
    notes = list(fixes)
    if len(values) < len(names):
        notes.append(f"the list gave {len(values)} of {len(names)} values")
    config = {name: value for name, value in zip(names, values, strict=False) if value is not None}
    return ParsedAnswer(config, "compact", notes)


def extract_config(text: str, space: SearchSpace, *, compact: bool = False) -> ParsedAnswer:
    """Read a configuration dict out of an LLM answer (no validation yet).

    Args:
        text: The answer.
        space: The search space (its names decide which of several JSON objects is meant).
        compact: Also read a compact answer: a list of values in the space's key order (see
            :func:`compact_schema`), taken when the answer holds no JSON object.

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
    if compact and (isinstance(whole, list) or "{" not in text):
        listed = _compact_values(text, space)
        if listed is not None and (listed.config is not None or text.lstrip().startswith("[")):
            return listed
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


def is_keep(text: str | None) -> bool:
    """Whether an answer declines to propose: ``{"keep": true}``, ``keep`` or ``"keep"``."""
    if not isinstance(text, str):
        return False
    stripped = text.strip().strip("`").strip()
    if stripped.lower().strip("\"'.! ") == "keep":
        return True
    try:
        obj = json.loads(stripped)
    except (ValueError, RecursionError):
        match = re.search(r"\{\s*[\"']?keep[\"']?\s*:\s*(true|True|1|\"yes\")\s*\}", stripped)
        return match is not None
    return isinstance(obj, Mapping) and len(obj) == 1 and bool(obj.get("keep")) is True
