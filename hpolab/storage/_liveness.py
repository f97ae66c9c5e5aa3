"""Worker liveness: which registered worker still runs.

A worker records its host, process id and start time, the machine's boot id and its PID
namespace. Its process is checked directly only where all of these match this process's
(same machine, same boot, same PID namespace): a zombie or a reused pid is dead. Elsewhere
(another machine or container, or a record of an older version without the ids) its
heartbeat decides.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["NO_SLOT", "WorkerInfo", "this_worker", "worker_alive", "worker_record"]

#: The slot of a worker that withdrew a contested claim and is choosing again (it holds no slot).
NO_SLOT = -1

_logger = logging.getLogger("hpolab.storage")

#: Workers of this process that hold their slot (registered and not retired), by key. A worker of
#: this process is alive while its Study object is and has not finished its loop.
_HELD: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

if hasattr(os, "register_at_fork"):
    # A forked child runs none of its parent's workers: it judges them by their process, as any other process does.
    os.register_at_fork(after_in_child=_HELD.clear)


@dataclass(frozen=True)
class WorkerInfo:
    """A worker process registered in a study.

    Attributes:
        key: Unique key; keys sort in the order the workers started.
        slot: The worker's slot: its optimizer seed and the event log it continues; :data:`NO_SLOT`
            while the worker is still choosing one.
        host: Host name.
        pid: Process id on that host.
        pid_start: The process's start time (to tell a reused pid from the worker), when known.
        heartbeat: Last heartbeat (seconds since the epoch).
        boot_id: The kernel's boot id of the worker's machine (Linux), when known: a host name
            shared by two machines or containers, or a reboot, does not match it.
        pid_ns: The worker's PID namespace (``os.readlink("/proc/self/ns/pid")``), when known:
            two containers on one kernel number their processes separately.
        parent: The key of the worker whose parallel run (``optimize(n_jobs=...)`` or a Dask
            executor) started this one, or None. Workers of one run never share a slot.
    """

    key: str
    slot: int
    host: str
    pid: int
    pid_start: float | None
    heartbeat: float
    boot_id: str | None = None
    pid_ns: str | None = None
    parent: str | None = None


def _process_start(pid: int) -> float | None:
    """Start time of process ``pid`` in clock ticks since boot (Linux), or None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return float(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _process_state(pid: int) -> str | None:
    """The state letter of process ``pid`` (``"R"``, ``"S"``, ``"Z"``...; Linux), or None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError, ValueError):
        return None


def _boot_id() -> str | None:
    """This machine's boot id (Linux; a new one after every boot), or None where unknown."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _pid_namespace() -> str | None:
    """This process's PID namespace (e.g. ``"pid:[4026531836]"``; Linux), or None where unknown."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


#: This machine's boot id, read once (it changes only with a reboot).
_BOOT_ID: str | None = _boot_id()


def _pid_alive(pid: int, start: float | None) -> bool:
    """Whether process ``pid`` of this PID namespace runs (a zombie or a reused pid does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    if _process_state(pid) in ("Z", "X"):
        return False  # exited, not yet reaped by its parent
    if start is not None:
        now_start = _process_start(pid)
        if now_start is not None and now_start != start:
            return False  # the pid was reused by another process
    return True


def _worker_of(key: str, record: Mapping[str, Any], heartbeat: Any) -> WorkerInfo | None:
    """A stored worker record as a WorkerInfo (records of older versions lack the boot and namespace ids)."""
    try:
        start = record.get("pid_start")
        boot_id = record.get("boot_id")
        pid_ns = record.get("pid_ns")
        parent = record.get("parent")
        return WorkerInfo(
            key,
            int(record.get("slot", 0)),
            str(record.get("host", "")),
            int(record.get("pid", -1)),
            float(start) if isinstance(start, (int, float)) else None,
            float(heartbeat) if isinstance(heartbeat, (int, float)) else 0.0,
            str(boot_id) if boot_id is not None else None,
            str(pid_ns) if pid_ns is not None else None,
            str(parent) if parent is not None else None,
        )
    except (TypeError, ValueError):
        _logger.warning("worker record %s is unreadable (%r); it is treated as a finished worker", key, dict(record))
        return None


def this_worker(key: str, slot: int, parent: str | None = None) -> WorkerInfo:
    """The record of a worker of this process (its heartbeat is now); ``parent`` as in :class:`WorkerInfo`."""
    pid = os.getpid()
    return WorkerInfo(
        key, slot, socket.gethostname(), pid, _process_start(pid), time.time(), _BOOT_ID, _pid_namespace(), parent
    )


def worker_record(info: WorkerInfo) -> dict[str, Any]:
    """What a storage keeps for a worker (its heartbeat is kept apart)."""
    record: dict[str, Any] = {"slot": info.slot, "host": info.host, "pid": info.pid, "pid_start": info.pid_start}
    if info.boot_id is not None:
        record["boot_id"] = info.boot_id
    if info.pid_ns is not None:
        record["pid_ns"] = info.pid_ns
    if info.parent is not None:
        record["parent"] = info.parent
    return record


def worker_alive(worker: WorkerInfo, *, grace_period: float, check_local_processes: bool = True) -> bool:
    """Whether a worker still runs.

    A worker of this process is alive while its Study holds the slot. A worker whose host,
    boot id and PID namespace all match this process's is judged by its process (at once; a
    zombie is dead). Every other worker (another machine or container, or on Linux a record
    without the boot and namespace ids) is alive while its heartbeat is at most
    ``grace_period`` seconds old.

    Args:
        worker: The worker's record.
        grace_period: Seconds without a heartbeat after which a worker judged by it is dead.
        check_local_processes: Whether a worker of this machine and PID namespace is judged by
            its process rather than its heartbeat.
    """
    if worker.key in _HELD:
        return True  # a worker of this process whose Study object still holds the slot
    # Where this system has no boot id and namespace (not Linux), both sides lack them and the
    # host name decides, as it must; on Linux a record without them goes by its heartbeat.
    same_pids = worker.host == socket.gethostname() and worker.boot_id == _BOOT_ID and worker.pid_ns == _pid_namespace()
    if same_pids and worker.pid == os.getpid():
        return False  # this process, and its Study let the slot go
    if worker.heartbeat == 0.0:
        return False  # retired
    if same_pids and check_local_processes:
        return _pid_alive(worker.pid, worker.pid_start)
    return time.time() - worker.heartbeat <= grace_period
