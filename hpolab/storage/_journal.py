"""Journal files: opening one, cutting a torn last line, and repairing a torn line inside.

Optuna's journal file is one JSON record per line, appended under a lock file. A write cut short
(the process killed, the disk full) leaves a last line without its end. Such a line holds no
complete record, so cutting it loses nothing: it is cut when the file is opened and before every
append, under the file's lock. A torn line followed by more records (a file written without this
cut, or damaged otherwise) is not cut silently: opening the file raises a
:class:`StorageError` naming the line, and :func:`repair_journal` removes such lines (keeping a
complete record that follows a torn one on the same line).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab.storage._storage import StorageError

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

__all__ = ["cut_torn_tail", "open_journal", "repair_journal"]

_logger = logging.getLogger("hpolab.storage")

_CHUNK = 1 << 16
_RECORD_START = b'{"op_code":'  # how Optuna writes every record (json.dumps, compact separators)


def _is_record(line: bytes) -> bool:
    """Whether ``line`` (with its line end) is one complete journal record."""
    if not line.endswith(b"\n"):
        return False
    try:
        record = json.loads(line)
    except ValueError:  # json.JSONDecodeError, UnicodeDecodeError
        return False
    return isinstance(record, dict) and "op_code" in record


def _salvage(line: bytes) -> bytes:
    """The complete record that follows a torn one on ``line`` (with its line end), or ``b""``."""
    if not line.endswith(b"\n"):
        line += b"\n"
    position = line.find(_RECORD_START, 1)
    while position > 0 and not _is_record(line[position:]):
        position = line.find(_RECORD_START, position + 1)
    return line[position:] if position > 0 else b""


def _last_line_start(fh: Any, size: int) -> int:
    """Offset of the last line of an open binary file of ``size`` bytes (its last line end is not searched)."""
    end = size - 1  # a last line end belongs to the last line
    while end > 0:
        start = max(0, end - _CHUNK)
        fh.seek(start)
        chunk = fh.read(end - start)
        found = chunk.rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0


def cut_torn_tail(path: Path, *, check_last_record: bool) -> int:
    """Cut a torn last line of the journal at ``path``; return the bytes cut (0 if none).

    The caller holds the journal's lock. A last line without a line end is torn; with
    ``check_last_record`` a last line that ends but does not parse as a record is too.
    """
    try:
        fh = open(path, "r+b")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        return 0
    with fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        fh.seek(size - 1)
        ends = fh.read(1) == b"\n"
        if ends and not check_last_record:
            return 0
        start = _last_line_start(fh, size)
        fh.seek(start)
        last = fh.read()
        if ends and _is_record(last):
            return 0
        # A complete record appended after the torn one (on its line) is kept.
        kept = _salvage(last) if ends else b""
        fh.truncate(start)
        if kept:
            fh.seek(start)
            fh.write(kept)
        fh.flush()
        os.fsync(fh.fileno())
    cut = size - start - len(kept)
    _logger.warning(
        "journal %s: its last line was torn by an interrupted write; cut %d bytes back to the last complete "
        "record (nothing complete was lost)",
        path,
        cut,
    )
    return cut


def _first_bad_line(path: Path) -> tuple[int, int] | None:
    """``(line number from 1, total lines)`` of the first line of ``path`` that is not a record."""
    bad = None
    count = 0
    with open(path, "rb") as fh:
        for count, line in enumerate(fh, start=1):
            if bad is None and not _is_record(line):
                bad = count
    return None if bad is None else (bad, count)


def _repair_command(path: Path) -> str:
    return f"python -m hpolab.storage repair {path}"


def open_journal(path: Path) -> BaseStorage:
    """Optuna's ``JournalStorage`` on the file at ``path``, its torn last line cut first.

    Raises:
        StorageError: If a line other than the last is not a complete record (the message names
            the line and the command that repairs the file).
    """
    from optuna.storages import JournalStorage

    from hpolab.storage._journal_file import journal_backend

    backend = journal_backend(path)
    backend.cut_torn_tail()
    try:
        return JournalStorage(backend)
    except (ValueError, UnicodeDecodeError):  # json.JSONDecodeError is a ValueError
        found = _first_bad_line(path)
        if found is None:
            raise
        line, total = found
        raise StorageError(
            f"journal {path}: line {line} of {total} is not a complete record (a write was interrupted there, "
            f"and later records follow it); stop every worker of this file, then repair it with "
            f"`{_repair_command(path)}` (or hpolab.storage.repair_journal(path)): it drops that line, keeps "
            "every complete record and leaves the original beside it as a .bak file"
        ) from None


def repair_journal(path: str | os.PathLike[str]) -> list[int]:
    """Remove the lines of a journal file that are not complete records; return their line numbers.

    A complete record that follows a torn one on the same line (the next append after an
    interrupted write) is kept. The original file stays beside the repaired one as ``PATH.bak``
    (a hard link where the file system allows, so it takes no space); the repaired file replaces
    it in one rename, under the journal's lock. Run it while no worker uses the file.

    Args:
        path: The journal file (a path, or a ``journal:///`` URL).

    Raises:
        StorageError: If the file does not exist.
    """
    text = os.fspath(path)
    if text.startswith("journal:///"):
        text = text[len("journal:///") :]
    file = Path(text).expanduser()
    if not file.is_file():
        raise StorageError(f"journal {file}: no such file; give the path of a journal file (e.g. runs.log)")
    from hpolab.storage._journal_file import journal_lock

    lock = journal_lock(file)
    lock.acquire()
    try:
        dropped: list[int] = []
        temp = file.with_name(file.name + ".repair")
        with open(file, "rb") as source, open(temp, "wb") as target:
            for number, line in enumerate(source, start=1):
                if _is_record(line):
                    target.write(line)
                    continue
                dropped.append(number)
                target.write(_salvage(line))
            target.flush()
            os.fsync(target.fileno())
        if not dropped:
            temp.unlink()
            return []
        backup = file.with_name(file.name + ".bak")
        backup.unlink(missing_ok=True)
        kept: Path | None = backup
        try:
            os.link(file, backup)
        except OSError:  # a file system without hard links: no copy is kept (the disk may be full)
            kept = None
        os.replace(temp, file)
    finally:
        lock.release()
    _logger.warning(
        "journal %s: removed %d line(s) that were not complete records (lines %s)%s",
        file,
        len(dropped),
        ", ".join(map(str, dropped[:20])),
        f"; the original is {kept}" if kept is not None else "",
    )
    return dropped
