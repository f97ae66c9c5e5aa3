"""A paper's data file: its suites, its tables and its named values, read from ``<paper>.toml`` beside the module.

A data file has three top-level tables, each optional:

- ``[values]``: named values (numbers, strings, lists, tables) that the suites refer to and the paper
  module exposes (a fidelity budget, a shared set of optimizers).
- ``[[suites]]``: one table per :class:`~hpolab.benchmark.Suite`, with the dataclass's fields under
  their own names (``parts`` an array of :class:`~hpolab.benchmark.SuitePart` tables). ``paper`` is the
  file's name. Two keys belong to the file only: ``like = "<suite>"`` starts from an earlier suite's
  table (the keys given replace its keys, ``vars`` merges), and ``vars``, values for this suite alone.
- ``[tables]``: the paper's own tables, which the paper module reads with :meth:`PaperData.table`.

In a suite's strings, ``${name}`` stands for a value: a string that is exactly ``${name}`` becomes the
value itself (a number, a list or a table), and ``${name}`` inside a longer string becomes its text.
Names resolve in the suite's ``vars``, then the values the module passes to :func:`load_paper`, then
``[values]``; values may refer to each other the same way. Anything malformed raises
:class:`PaperDataError` with the file and the key.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from hpolab.benchmark._suite import Suite, SuitePart
from hpolab.exceptions import PaperDataError

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, released on its own for Python 3.10
    import tomli as tomllib

__all__ = ["PaperData", "PaperDataError", "load_paper"]

_T = TypeVar("_T")

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

#: A suite table's keys: the type each must have (``float`` takes integers too) and whether it is required.
_SUITE_KEYS: dict[str, tuple[str, bool]] = {
    "name": ("str", True),
    "description": ("str", True),
    "optimizers": ("optimizers", True),
    "objectives": ("str list", True),
    "seeds": ("int", True),
    "n_trials": ("int", False),
    "max_budget_spent": ("float", False),
    "random_pool": ("int", False),
    "table1_n_trials": ("int", False),
    "sections": ("str list", False),
    "objective_kwargs": ("table", False),
    "parts": ("part list", False),
    "differences": ("str list", False),
    "simulated": ("str", False),
    "task_trials": ("int table", False),
}
_PART_KEYS: dict[str, tuple[str, bool]] = {
    "name": ("str", True),
    "description": ("str", True),
    "optimizers": ("optimizers", True),
    "objectives": ("str list", True),
    "seeds": ("int", False),
    "n_trials": ("int", False),
    "max_budget_spent": ("float", False),
    "objective_kwargs": ("table", False),
    "default": ("bool", False),
}
#: Fields the dataclasses hold as tuples (TOML arrays arrive as lists).
_TUPLES = frozenset({"sections", "differences"})
_FILE_ONLY = ("like", "vars")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check(kind: str, value: Any) -> bool:
    """Whether ``value`` has the type a key of ``kind`` needs."""
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return _is_int(value)
    if kind == "float":
        return _is_int(value) or isinstance(value, float)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "table":
        return isinstance(value, dict)
    if kind == "int table":
        return isinstance(value, dict) and all(_is_int(v) for v in value.values())
    if kind == "str list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "part list":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    # optimizers: registry names, or {label: registry name or {name = ..., options}}
    if isinstance(value, list):
        return all(isinstance(v, str) for v in value)
    return isinstance(value, dict) and all(isinstance(v, (str, dict)) for v in value.values())


_WANTED = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "table": "a table",
    "int table": "a table of integers",
    "str list": "an array of strings",
    "part list": "an array of tables ([[suites.parts]])",
    "optimizers": "an array of registry names or a table {label = name or {name = ..., options}}",
}


@dataclass(frozen=True)
class PaperData:
    """One paper's data file, read: its suites, its tables and its values.

    Attributes:
        paper: The paper's module name (``"seed002"``), the file's name without ``.toml``.
        source: Where the file was read from (for error messages).
        suites: The suites, in the file's order.
        values: The ``[values]`` table, references resolved.
        tables: The ``[tables]`` table as read.
    """

    paper: str
    source: str
    suites: tuple[Suite, ...]
    values: Mapping[str, Any]
    tables: Mapping[str, Any]

    def _error(self, key: str, what: str) -> PaperDataError:
        return PaperDataError(f"{self.source}: {key}: {what}")

    def value(self, name: str, kind: type[_T]) -> _T:
        """The value called ``name`` in ``[values]``, checked to be a ``kind``.

        Raises:
            PaperDataError: If there is no such value or it is not a ``kind``.
        """
        if name not in self.values:
            raise self._error(f"values.{name}", f"missing; the file's values: {', '.join(self.values) or 'none'}")
        v = self.values[name]
        ok = isinstance(v, kind) and not (isinstance(v, bool) and kind is not bool)
        if kind is float and _is_int(v):
            v, ok = float(v), True
        if not ok:
            raise self._error(f"values.{name}", f"expected a {kind.__name__}, got {v!r}")
        return v  # type: ignore[no-any-return]

    def table(self, name: str) -> dict[str, Any]:
        """The paper's table called ``name`` (``[tables.<name>]``), as read.

        Raises:
            PaperDataError: If there is no such table.
        """
        t = self.tables.get(name)
        if not isinstance(t, dict):
            known = ", ".join(self.tables) or "none"
            raise self._error(f"tables.{name}", f"missing or not a table; the file's tables: {known}")
        return t

    def numbers(self, name: str) -> dict[str, Any]:
        """The paper's table ``name`` whose cells are all numbers (tables of them allowed), as floats.

        Raises:
            PaperDataError: If there is no such table or a cell is not a number.
        """

        def walk(node: Any, where: str) -> Any:
            if isinstance(node, dict):
                return {k: walk(v, f"{where}.{k}") for k, v in node.items()}
            if _is_int(node) or isinstance(node, float):
                return float(node)
            raise self._error(where, f"expected a number, got {node!r}")

        return walk(self.table(name), f"tables.{name}")  # type: ignore[no-any-return]

    def rows(self, name: str, width: int, *, depth: int = 1) -> dict[Any, tuple[Any, ...]]:
        """The table ``name`` as ``{key: row}``, each row an array of ``width`` cells.

        Args:
            name: The table's name under ``[tables]``.
            width: The number of cells every row has.
            depth: Levels of keys above the rows; with 2, ``[tables.t.A] B = [...]`` is the row ``("A", "B")``.

        Raises:
            PaperDataError: If a row is not an array of ``width`` cells, or a level is not a table.
        """
        out: dict[Any, tuple[Any, ...]] = {}

        def walk(node: Any, keys: tuple[str, ...]) -> None:
            where = ".".join(("tables", name, *keys))
            if len(keys) < depth:
                if not isinstance(node, dict):
                    raise self._error(where, f"expected a table, got {node!r}")
                for k, v in node.items():
                    walk(v, (*keys, k))
            elif not (isinstance(node, list) and len(node) == width):
                raise self._error(where, f"expected a row of {width} cells, got {node!r}")
            else:
                out[keys if depth > 1 else keys[0]] = tuple(node)

        walk(self.table(name), ())
        return out


class _Resolver:
    """Replaces ``${name}`` references in a file's strings, naming the key where one fails."""

    def __init__(self, source: str, scopes: Sequence[Mapping[str, Any]]) -> None:
        self.source = source
        self.scopes = scopes
        self.stack: list[str] = []

    def lookup(self, name: str, where: str) -> Any:
        for scope in self.scopes:
            if name in scope:
                if name in self.stack:
                    raise PaperDataError(f"{self.source}: {where}: ${{{name}}} refers to itself")
                self.stack.append(name)
                try:
                    return self.resolve(copy.deepcopy(scope[name]), name)
                finally:
                    self.stack.pop()
        known = sorted({k for s in self.scopes for k in s})
        raise PaperDataError(f"{self.source}: {where}: unknown ${{{name}}}; known: {', '.join(known)}")

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            whole = _REF.fullmatch(value)
            if whole:
                return self.lookup(whole.group(1), where)
            return _REF.sub(lambda m: self._text(m.group(1), where), value)
        if isinstance(value, list):
            return [self.resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        return value

    def _text(self, name: str, where: str) -> str:
        v = self.lookup(name, where)
        if isinstance(v, (dict, list)):
            raise PaperDataError(f"{self.source}: {where}: ${{{name}}} is a table or array, not text")
        return str(v)


def _fields(table: dict[str, Any], keys: dict[str, tuple[str, bool]], where: str, source: str) -> dict[str, Any]:
    """The dataclass fields of a suite or part table, checked: missing, unknown and mistyped keys fail."""
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise PaperDataError(f"{source}: {where}.{unknown[0]}: unknown key; a table here takes {', '.join(keys)}")
    out: dict[str, Any] = {}
    for key, (kind, required) in keys.items():
        if key not in table:
            if required:
                raise PaperDataError(f"{source}: {where}.{key}: missing (it is required)")
            continue
        v = table[key]
        if not _check(kind, v):
            raise PaperDataError(f"{source}: {where}.{key}: expected {_WANTED[kind]}, got {v!r}")
        out[key] = float(v) if kind == "float" else tuple(v) if key in _TUPLES else v
    return out


def _suite(table: dict[str, Any], where: str, source: str, paper: str) -> Suite:
    fields = _fields(table, _SUITE_KEYS, where, source)
    parts = tuple(
        SuitePart(**_fields(p, _PART_KEYS, f"{where}.parts[{i}]", source))
        for i, p in enumerate(fields.pop("parts", []))
    )
    fields.setdefault("n_trials", None)
    return Suite(**fields, parts=parts, paper=paper)


def load_paper(
    paper: str, *, values: Mapping[str, Any] | None = None, folder: str | os.PathLike[str] | None = None
) -> PaperData:
    """Read ``<paper>.toml`` (beside this module unless ``folder`` is given): its suites built, its values resolved.

    Args:
        paper: The paper's module name (``"seed002"``).
        values: Values from the library the file may refer to by name (they hide ``[values]`` of the same name).
        folder: The folder that holds the file (``None``: this package's).

    Raises:
        PaperDataError: If the file is missing, is not TOML, or a suite in it is malformed.
    """
    resource = (resources.files(__package__) if folder is None else Path(folder)) / f"{paper}.toml"
    source = str(resource)
    try:
        raw = tomllib.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PaperDataError(f"{source}: no such data file for the paper {paper!r}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PaperDataError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - {"values", "suites", "tables"})
    if unknown:
        raise PaperDataError(f"{source}: {unknown[0]}: unknown key; a data file takes values, suites and tables")
    for key, kind in (("values", dict), ("tables", dict), ("suites", list)):
        if not isinstance(raw.get(key, kind()), kind):
            raise PaperDataError(f"{source}: {key}: expected {'[[suites]] tables' if kind is list else 'a table'}")
    file_values: dict[str, Any] = raw.get("values", {})
    scopes = [dict(values or {}), file_values]
    resolved = _Resolver(source, scopes).resolve(file_values, "values")

    seen: dict[str, dict[str, Any]] = {}
    suites = []
    for i, table in enumerate(raw.get("suites", [])):
        where = f"suites[{i}]"
        if not isinstance(table, dict):
            raise PaperDataError(f"{source}: {where}: expected a table")
        if not isinstance(table.get("vars", {}), dict):
            raise PaperDataError(f"{source}: {where}.vars: expected a table")
        like = table.get("like")
        if like is not None:
            if like not in seen:
                raise PaperDataError(f"{source}: {where}.like: {like!r} is not an earlier suite of this file")
            base = copy.deepcopy(seen[like])
            table = {**base, **table, "vars": {**base.get("vars", {}), **table.get("vars", {})}}
            table.pop("like")
        own_vars = table.get("vars", {})
        name = table.get("name")
        if name in seen:
            raise PaperDataError(f"{source}: {where}.name: {name!r} is already a suite of this file")
        if isinstance(name, str):
            seen[name] = table
        body = {k: v for k, v in table.items() if k not in _FILE_ONLY}
        expanded = _Resolver(source, [own_vars, *scopes]).resolve(body, where)
        suites.append(_suite(expanded, where, source, paper))
    return PaperData(paper, source, tuple(suites), resolved, raw.get("tables", {}))
