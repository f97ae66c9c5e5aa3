"""Wall time of a 30-trial ASHA study on the YAHPO surrogate ``yahpo/lcbench/167184``, with the machine's load.

Each study runs with ``n_jobs=1`` on an in-memory storage, from the objective's creation (reading the
scenario's files) to the 30th finished trial; the studies run one after another in this process, so the
first one also opens the onnxruntime session (a cold start) and the others reuse it. The import of
hpolab and onnxruntime comes before the clock starts. It prints
the wall time, this process's CPU time, the load average before and after, and the CPU count.

Run: ``HPOLAB_YAHPO_DATA=<yahpo_data folder> python benchmarks/yahpo_speed.py`` (``--trials N``,
``--repeats N``, ``--out FILE`` to also write the numbers as JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import hpolab

OBJECTIVE = "yahpo/lcbench/167184"


def one_study(trials: int, seed: int) -> dict[str, float]:
    """Wall and CPU seconds of one ASHA study of ``trials`` trials on :data:`OBJECTIVE`."""
    wall, cpu = time.perf_counter(), time.process_time()
    study = hpolab.create_study(OBJECTIVE, "asha", seed=seed)
    study.optimize(max_trials=trials)
    done = sum(1 for t in study.trials if t.state.is_finished)
    if done != trials:
        raise RuntimeError(f"the study finished {done} trials, not {trials}")
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30, help="trials per study (default: 30)")
    parser.add_argument("--repeats", type=int, default=3, help="studies, seeds 0..N-1 (default: 3)")
    parser.add_argument("--out", type=Path, default=None, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    import onnxruntime  # noqa: F401  (its import is not part of the study's time)

    load_before = os.getloadavg()
    runs = [one_study(args.trials, seed) for seed in range(args.repeats)]
    load_after = os.getloadavg()
    out = {
        "objective": OBJECTIVE,
        "optimizer": "asha",
        "trials": args.trials,
        "runs": runs,
        "median_wall_s": statistics.median(r["wall_s"] for r in runs),
        "max_wall_s": max(r["wall_s"] for r in runs),
        "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
    }
    print(f"{args.repeats} ASHA studies of {args.trials} trials on {OBJECTIVE}, one after another (the first is cold)")
    for seed, r in enumerate(runs):
        print(f"  seed {seed}: wall {r['wall_s']:.2f} s, CPU {r['cpu_s']:.2f} s")
    print(f"median wall {out['median_wall_s']:.2f} s, max wall {out['max_wall_s']:.2f} s")
    print(f"{out['cpus']} CPUs; load average before {out['load_before']}, after {out['load_after']} (1/5/15 min)")
    if args.out is not None:
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
