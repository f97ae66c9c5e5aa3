"""Every ```python block in README.md and docs/*.md runs, and every `hpolab ...` line of a ```bash block parses.

A block runs on its own in a fresh interpreter (cwd a temporary folder, the repository on PYTHONPATH) and passes
when it exits 0. HTML comments on the lines right above a fence steer it:

- ``<!-- snippet: continues -->`` runs the block after the previous python block of the same file (that block's
  code, including what it continued, comes first); ``<!-- snippet: continues NAME -->`` after the block marked
  ``<!-- snippet: name NAME -->`` earlier in this file or in a file collected before it;
- ``<!-- snippet: skip REASON -->`` skips a block that cannot run offline or in test time; the reason is required;
- ``<!-- snippet: slow -->`` marks a heavy block ``slow``.

A block that names ``HPOLAB_YAHPO_DATA`` runs with the YAHPO data folder the YAHPO tests use (:mod:`_yahpo_data`)
in that variable, and is skipped without one.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from _yahpo_data import NO_DATA, yahpo_data_dir

from hpolab.objectives.yahpo import DATA_ENV

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TIMEOUT_S = 120
_FENCE = re.compile(r"^\s*```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*snippet:\s*(\w+)(.*?)-->\s*$")
_KINDS = ("continues", "name", "skip", "slow")
YAHPO_DATA = yahpo_data_dir()


@dataclass
class Block:
    """One fenced code block of a markdown file.

    Attributes:
        id: ``file:line`` of the opening fence, the file relative to the repository root.
        lang: The fence's language tag.
        code: The block's own text.
        markers: Marker kind to its argument (the skip reason), from the comments right above the fence.
        source: The code to run: the blocks it continues, then its own.
        skip: Why it is skipped, or None.
    """

    id: str
    lang: str
    code: str
    markers: dict[str, str] = field(default_factory=dict)
    source: str = ""
    skip: str | None = None


def parse_blocks(path: Path, named: dict[str, Block] | None = None) -> list[Block]:
    """The fenced blocks of a markdown file, with their markers and the code each one runs.

    Args:
        path: The markdown file.
        named: Blocks by their ``name`` marker, from files parsed before; this file's named blocks are added.

    Returns:
        Its blocks in order; a python block's ``source`` includes the blocks it continues.

    Raises:
        ValueError: On an unknown marker, a skip without a reason, a ``continues`` with no python block before
            it or an unknown name, a name given twice, or an unclosed fence.
    """
    lines = path.read_text().splitlines()
    rel = path.relative_to(ROOT).as_posix()
    named = {} if named is None else named
    blocks: list[Block] = []
    previous: Block | None = None
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not lines[end].lstrip().startswith("```"):
            end += 1
        if end == len(lines):
            raise ValueError(f"{rel}:{i + 1}: the code fence is never closed")
        markers: dict[str, str] = {}
        j = i - 1
        while j >= 0 and (marker := _MARKER.match(lines[j].strip())):
            kind, arg = marker.group(1), marker.group(2).strip()
            if kind not in _KINDS:
                raise ValueError(f"{rel}:{j + 1}: unknown snippet marker {kind!r}; use one of {_KINDS}")
            if kind == "skip" and not arg:
                raise ValueError(f"{rel}:{j + 1}: `snippet: skip` needs a reason, e.g. `snippet: skip needs a GPU`")
            markers[kind] = arg
            j -= 1
        block = Block(f"{rel}:{i + 1}", match.group(1), textwrap.dedent("\n".join(lines[i + 1 : end])) + "\n", markers)
        block.source, block.skip = block.code, markers.get("skip")
        if block.lang == "python":
            if "continues" in markers:
                if markers["continues"]:
                    if markers["continues"] not in named:
                        raise ValueError(
                            f"{block.id}: continues {markers['continues']!r}, no block before has that name"
                        )
                    previous = named[markers["continues"]]
                if previous is None:
                    raise ValueError(f"{block.id}: `snippet: continues` but no python block comes before it")
                block.source = previous.source + block.code
                if block.skip is None and previous.skip is not None:
                    block.skip = f"continues {previous.id}, which is skipped: {previous.skip}"
            if "name" in markers:
                if markers["name"] in named:
                    raise ValueError(f"{block.id}: the snippet name {markers['name']!r} is taken")
                named[markers["name"]] = block
            previous = block
        blocks.append(block)
        i = end + 1
    return blocks


_NAMED: dict[str, Block] = {}
BLOCKS = [block for path in DOCS for block in parse_blocks(path, _NAMED)]
PYTHON = [block for block in BLOCKS if block.lang == "python"]


def _param(block: Block):
    marks = [pytest.mark.slow] if "slow" in block.markers else []
    return pytest.param(block, id=block.id, marks=marks)


def test_docs_have_python_blocks():
    assert len(PYTHON) >= 20, [block.id for block in PYTHON]


@pytest.mark.parametrize("block", [_param(block) for block in PYTHON])
def test_python_block_runs(block: Block, tmp_path):
    if block.skip is not None:
        pytest.skip(block.skip)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.setdefault("MPLBACKEND", "Agg")
    if DATA_ENV in block.source:
        if YAHPO_DATA is None:
            pytest.skip(NO_DATA)
        env[DATA_ENV] = str(YAHPO_DATA)
    script = tmp_path / "snippet.py"
    script.write_text(block.source)
    work = tmp_path / "cwd"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert proc.returncode == 0, f"{block.id} failed:\n{block.source}\n--- stderr ---\n{proc.stderr[-3000:]}"


def _hpolab_commands(block: Block) -> list[list[str]]:
    """The argument lists of the ``hpolab ...`` commands in a shell block (continued lines joined)."""
    text = block.code.replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token in ("&&", "||", ";", "|", "&"):
                if words and words[0] == "hpolab":
                    commands.append(words[1:])
                words = []
            else:
                words.append(token)
    return commands


CLI_COMMANDS = [
    pytest.param(args, id=f"{block.id}:{' '.join(args[:1])}")
    for block in BLOCKS
    if block.lang in ("bash", "sh", "shell", "console")
    for args in _hpolab_commands(block)
]


def test_docs_have_cli_commands():
    assert len(CLI_COMMANDS) >= 3


def _check_cli(args: list[str]) -> None:
    """Parses ``hpolab ARGS`` with click (no command runs); fails the test on an unknown command or option."""
    from hpolab.cli import cli

    assert args and not args[0].startswith("-"), f"`hpolab {' '.join(args)}`: name the subcommand first"
    name, *rest = args
    with cli.make_context("hpolab", [], resilient_parsing=True) as group_ctx:
        command = cli.get_command(group_ctx, name)
        assert command is not None, f"`hpolab {name}` is not a command; commands: {cli.list_commands(group_ctx)}"
        try:
            command.make_context(name, list(rest), parent=group_ctx)
        except click.UsageError as exc:
            pytest.fail(f"`hpolab {' '.join(args)}` does not parse: {exc.format_message()}")


@pytest.mark.parametrize("args", CLI_COMMANDS)
def test_cli_command_parses(args: list[str]):
    _check_cli(args)


@pytest.mark.parametrize("args", [["runn"], ["run", "--objective", "toy/branin", "--no-such-option", "3"]])
def test_cli_check_rejects_bad_commands(args: list[str]):
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        _check_cli(args)


INLINE_COMMANDS = sorted(
    {span for path in DOCS for span in re.findall(r"`hpolab ([a-z][^`]*)`", path.read_text())},
)


@pytest.mark.parametrize("span", INLINE_COMMANDS)
def test_inline_cli_names_exist(span: str):
    """An inline `hpolab CMD --opt ...` names a command and options it has (values may be left out)."""
    from hpolab.cli import cli

    name, *words = span.split()
    with cli.make_context("hpolab", [], resilient_parsing=True) as group_ctx:
        command = cli.get_command(group_ctx, name)
        assert command is not None, f"`hpolab {span}`: no command {name!r}; commands: {cli.list_commands(group_ctx)}"
        known = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}
        unknown = [w.split("=")[0] for w in words if w.startswith("-") and w.split("=")[0] not in known]
        assert not unknown, f"`hpolab {span}`: `hpolab {name}` has no option {unknown}; it has {sorted(known)}"


def test_markers_are_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- snippet: skip -->\n```python\npass\n```\n")
    with pytest.raises(ValueError, match="needs a reason"):
        parse_blocks(doc)
    doc.write_text("<!-- snippet: continues -->\n```python\npass\n```\n")
    with pytest.raises(ValueError, match="no python block"):
        parse_blocks(doc)
    doc.write_text(
        "```python\nx = 1\n```\n<!-- snippet: skip needs a GPU -->\n```python\ny = x\n```\n"
        "<!-- snippet: continues -->\n```python\nprint(y)\n```\n"
    )
    first, second, third = parse_blocks(doc)
    assert (first.skip, second.skip) == (None, "needs a GPU")
    assert third.source == "y = x\nprint(y)\n" and third.skip.startswith("continues doc.md:5")
    doc.write_text(
        "<!-- snippet: name base -->\n```python\nx = 1\n```\n```python\ny = 2\n```\n"
        "<!-- snippet: continues base -->\n```python\nprint(x)\n```\n"
    )
    assert parse_blocks(doc)[-1].source == "x = 1\nprint(x)\n"
    doc.write_text("<!-- snippet: continues nowhere -->\n```python\npass\n```\n")
    with pytest.raises(ValueError, match="no block before has that name"):
        parse_blocks(doc)
    doc.write_text("<!-- snippet: slowish -->\n```python\npass\n```\n")
    with pytest.raises(ValueError, match="unknown snippet marker"):
        parse_blocks(doc)
