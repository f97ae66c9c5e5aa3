"""Docstrings and comments under hpolab/ say what a thing is and promises: no issues, history or measurements.

An issue number, a session's history ("stop 18", "used to be", "no longer") or a measured figure ("took 3 s
on 2 cores", a load average) dates the code it sits in. Those belong in docs/ (the figure with its source in
benchmarks/results); a docstring keeps what the thing is, what it promises and, in the present tense, why it
is built so. The scan reads every module, class and function docstring (with :mod:`ast`) and every ``#``
comment (with :mod:`tokenize`) and fails on any line that matches :data:`PATTERNS`.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What a docstring or comment must not say, by kind (case-insensitive).
PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "issue number": r"\bissues?\s*#?\d+|(?<![\w&/])#\d{2,}\b|\bPR\s*#?\d+\b|\bgh-\d+\b",
        "session history": r"\bstop \d+\b|\bused to be\b|\bno longer\b|\bpreviously\b|\bformerly\b"
        r"|\b(?:before|after|since) (?:this|the) (?:fix|change|refactor|rewrite)\b|\bthis session\b",
        "measurement": r"\bmeasured\b|\bby measurement\b|\bload averages?\b|\btook \d|\btook (?:seconds|minutes|hours)\b"
        r"|\b\d+(?:\.\d+)?\s*(?:ms|s|min|seconds?|minutes?)\s+(?:on|per|for|at|with)\b"
        r"|\b(?:\d+(?:\.\d+)?\s*(?:x|\u00d7)|several times|twice as) (?:faster|slower|cheaper)\b"
        r"|\bhalf the (?:wall )?time\b|\btok(?:en)?s?/s\b|\btokens per second\b|\b\d+(?:\.\d+)?\s*% of (?:the )?runs\b"
        r"|\b(?:two|four|\d+)-core machine\b",
    }.items()
}

#: Modules the scan skips, with the reason (none today; an entry that names no file fails a test).
SKIPPED: dict[str, str] = {}


def _skipped(rel: str) -> bool:
    return any(rel == entry or (entry.endswith("/") and rel.startswith(entry)) for entry in SKIPPED)


def text_lines(source: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line of the module's docstrings and ``#`` comments."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = node.body[0] if node.body else None
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
                for offset, line in enumerate(doc.value.value.splitlines()):
                    yield doc.lineno + offset, line
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string.lstrip("#:").strip()


def offending_lines(root: Path) -> list[str]:
    """``path:line: [kind] text`` for every docstring or comment line under ``root/hpolab`` that matches."""
    out = []
    for path in sorted((root / "hpolab").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if _skipped(rel):
            continue
        for number, line in text_lines(path.read_text(encoding="utf-8")):
            for kind, pattern in PATTERNS.items():
                if pattern.search(line):
                    out.append(f"{rel}:{number}: [{kind}] {line.strip()}")
    return out


def test_docstrings_and_comments_say_what_things_are() -> None:
    hits = offending_lines(ROOT)
    assert not hits, (
        "docstrings and comments say what a thing is and promises; move issue numbers, history and "
        "measurements to docs/ (figures with their source in benchmarks/results):\n" + "\n".join(hits)
    )


def test_skipped_modules_exist() -> None:
    """Each skipped entry still names a module or folder (a stale entry hides nothing and should go)."""
    for entry in SKIPPED:
        assert (ROOT / entry).exists(), f"{entry} no longer exists: drop it from SKIPPED"


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("issue number", "The slot race of issue 19 is handled here."),
        ("issue number", "see #123 for the background"),
        ("session history", "This was seen to break a study in stop 18."),
        ("session history", "The default used to be two threads."),
        ("session history", "It no longer retries."),
        ("session history", "Before the fix, trials were lost."),
        ("measurement", "The journal is faster by measurement."),
        ("measurement", "We measured 1.3 s at 50 trials."),
        ("measurement", "two threads took minutes per proposal"),
        ("measurement", "It answers at 40 tok/s."),
        ("measurement", "3x faster than SQLite"),
        ("measurement", "(load average 1.07)"),
        ("measurement", "half the wall time at 40 trials on 2 cores"),
        ("measurement", "threads on a busy two-core machine"),
    ],
)
def test_patterns_catch_narration(kind: str, text: str) -> None:
    assert PATTERNS[kind].search(text), text


@pytest.mark.parametrize(
    "text",
    [
        "timeout_s: Seconds before one attempt times out.",
        "heartbeat_interval: Seconds between heartbeats; the grace period (60 s) must exceed twice this.",
        'What the value measures (``"validation error"``...), for Optuna\'s tools.',
        "Random search, microseconds per ask + tell (5-parameter mixed space).",
        "The four models: SVM, logistic regression, random forest, neural net.",
        "The price of 1,000 prompt tokens.",
        "Stop once the study holds N finished trials.",
        "Atomic: ``False`` if the trial has left RUNNING.",
        "Configurations already evaluated (the issue is a duplicate).",
        "``P(best >= x) = (#{pool >= x} / n)^b``",
    ],
)
def test_patterns_pass_plain_descriptions(text: str) -> None:
    assert not [kind for kind, pattern in PATTERNS.items() if pattern.search(text)], text
