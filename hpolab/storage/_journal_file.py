"""Optuna's journal file backend with a torn last line cut under its lock (imports Optuna)."""

from __future__ import annotations

from pathlib import Path

from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

from hpolab.storage._journal import cut_torn_tail

__all__ = ["TailCuttingLock", "journal_backend", "journal_lock"]


class TailCuttingLock(JournalFileSymlinkLock):
    """Optuna's lock on a journal file (the same lock file); once held, a torn last line is cut.

    Every append takes this lock, so an append never lands after the torn end of a write that
    was cut short, where it would make a complete record unreadable.
    """

    def __init__(self, filepath: str) -> None:
        super().__init__(filepath)
        self._journal = Path(filepath)

    def acquire(self) -> bool:
        """Take the lock, then cut a last line without its line end."""
        super().acquire()
        try:
            cut_torn_tail(self._journal, check_last_record=False)
        except BaseException:
            self.release()
            raise
        return True


def journal_lock(path: Path) -> JournalFileSymlinkLock:
    """Optuna's lock on the journal file at ``path`` (what every writer of the file takes)."""
    return JournalFileSymlinkLock(str(path))


class _Backend(JournalFileBackend):
    """Optuna's file backend on a journal, appending under a :class:`TailCuttingLock`."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path), lock_obj=TailCuttingLock(str(path)))
        self._journal = path

    def cut_torn_tail(self) -> int:
        """Cut a torn or unreadable last line under the file's lock; return the bytes cut."""
        lock = journal_lock(self._journal)
        lock.acquire()
        try:
            return cut_torn_tail(self._journal, check_last_record=True)
        finally:
            lock.release()


def journal_backend(path: Path) -> _Backend:
    """The file backend hpolab opens a journal with."""
    return _Backend(path)
