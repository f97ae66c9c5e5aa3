"""Worker-slot races: how often a worker starting its loop reads a second claim on its slot.

Each race: one SQLite study, a parent worker on slot 0, then three forked processes of the same run
that register at the same moment (a barrier) and read the other claims at once, as a worker does
when its loop starts (``Study._claim_slot``: it reads again at the moments of
``hpolab.study._optimize._RIVAL_RECHECKS`` before it warns). It prints how many races showed a
second live claim on some worker's slot at the first read and after the re-reads, and how many
ended with two workers on one slot (the fault the claim protocol must never allow).

    python benchmarks/slot_race.py --races 60
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
from typing import Any

from hpolab.storage import get_storage

try:
    from hpolab.study._optimize import _RIVAL_RECHECKS
except ImportError:  # a version before the re-reads (run it there to see the race as it was)
    _RIVAL_RECHECKS = ()


def _claim(url: str, parent: str, barrier: Any, answers: Any) -> None:
    storage = get_storage(url)
    study_id = storage.get_study("race").study_id
    barrier.wait()
    me = storage.register_worker(study_id, parent=parent)

    def rivals() -> int:
        others = storage.workers(study_id)
        return sum(1 for w in others if w.slot == me.slot and w.key != me.key and storage.is_alive(w))

    first = rivals()
    after = first
    for delay in _RIVAL_RECHECKS:
        if not after:
            break
        time.sleep(delay)
        after = rivals()
    time.sleep(0.2)  # stay alive until every sibling has read
    answers.put((me.slot, first, after))


def race(ctx: Any) -> tuple[bool, bool, bool]:
    """One race: (a second claim at the first read, one after the re-reads, two workers on one slot)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'race.db')}"
        storage = get_storage(url)
        study_id = storage.create_study("race", "minimize", {}).study_id
        parent = storage.register_worker(study_id).key
        barrier, answers = ctx.Barrier(3), ctx.Queue()
        procs = [ctx.Process(target=_claim, args=(url, parent, barrier, answers)) for _ in range(3)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        got = [answers.get() for _ in procs]
        storage.close()
    slots = [slot for slot, _, _ in got]
    return any(first for _, first, _ in got), any(after for _, _, after in got), len(set(slots)) < len(slots)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=60)
    args = parser.parse_args()
    ctx = mp.get_context("fork")
    counts = [0, 0, 0]
    start = time.perf_counter()
    for _ in range(args.races):
        for i, seen in enumerate(race(ctx)):
            counts[i] += seen
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"races: {args.races} (3 workers of one run each, SQLite), {time.perf_counter() - start:.0f} s")
    print(f"load average {load} (1/5/15 min) on {os.cpu_count()} CPUs")
    print(f"second live claim on a slot at the first read:  {counts[0]:>3} of {args.races}")
    print(f"second live claim after the re-reads (a warning): {counts[1]:>3} of {args.races}")
    print(f"two workers ended on one slot:                   {counts[2]:>3} of {args.races}")


if __name__ == "__main__":
    main()
