"""Seconds per LLM ask once the prompt fills the model's context: ``history_step`` 1 against larger steps.

A long LLM run (ASHA over the local LLM: about 1,100 new configurations per run at CARP-S's
multi-fidelity budgets) soon holds more history than the model's context. The optimizer then leaves
the oldest configurations out; with ``history_step=1`` it leaves out one more on most asks, so the
prompt's start changes on every ask and llama.cpp reads the whole prompt again. With a step of
``s`` the same set stays left out for about ``s`` asks and only the new lines are read.

Each step runs in its own process (one llama.cpp thread; SmolLM2-135M, ``n_ctx`` 4096), all steps at the
same time (one per core: give as many cores as steps, with nothing else running), for ``--seconds``
wall seconds: ASHA over ``llm`` (``answer_format="compact"``, ``on_duplicate="perturb"``) on
``yahpo/rbv2_xgboost/458`` (14 hyperparameters, so each history line is about 170 tokens), seed 0.
The table gives each run's asks before and after its prompt first left configurations out.

After the timed runs (not beside them) it counts what one run of ASHA asks of its base at the suite's
budgets: one seed of ``asha`` (random base) on each task of ``carps-mf-offline``, its trials and how
many of them started a new configuration (each one a model call for ``asha-llm``).

Run: ``python benchmarks/llm_history_step.py`` (needs ``HPOLAB_YAHPO_DATA``; writes
``benchmarks/results/llm_history_step.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]

OUT = Path(__file__).resolve().parent / "results" / "llm_history_step.md"

_RUN_CODE = """
import json, sys
from hpolab.benchmark import execute, plan_runs
step, objective, store = int(sys.argv[1]), sys.argv[2], sys.argv[3]
spec = {"name": "asha", "base": "llm",
        "base_kwargs": {"on_duplicate": "perturb", "answer_format": "compact", "history_step": step}}
plan = plan_runs("carps-mf-offline", optimizers={f"asha-llm-step{step}": spec}, objectives=[objective], seeds=1,
                 n_trials=100000)
execute(plan.specs, store, n_jobs=1)
"""


def _asks(store: str) -> list[dict[str, Any]]:
    """The LLM asks of the run in ``store``, in order: latency, prompt tokens, entries left out."""
    from hpolab.benchmark._results import _proposer_metadata
    from hpolab.storage import get_storage

    st = get_storage(store)
    out: list[dict[str, Any]] = []
    studies = st.list_studies()
    for rec in st.get_trials(studies[0].study_id) if studies else []:
        llm = _proposer_metadata(rec.trial.metadata).get("llm")  # the base LLM's trial that ASHA keeps
        if llm:
            out.append(
                {
                    "latency": float(llm["latency_s"]),
                    "tokens": int(llm["prompt_tokens"]),
                    "omitted": int(llm["prompt"]["history"]["omitted"]),
                }
            )
    return out


def _new_configurations(tmp: str) -> list[list[str]]:
    """One seed of ``asha`` (random base) on each ``carps-mf-offline`` task: trials and new configurations."""
    from hpolab.benchmark import execute, load_results, plan_runs

    store = str(Path(tmp) / "asha-count.log")
    execute(plan_runs("carps-mf-offline", optimizers=["asha"], seeds=1).specs, store, n_jobs=1)
    st_df = load_results(store)
    from hpolab.storage import get_storage

    st = get_storage(store)
    rows = []
    for info in sorted(st.list_studies(), key=lambda i: i.name):
        recs = st.get_trials(info.study_id)
        new = sum(1 for r in recs if "base_trial" in (r.trial.metadata.get("asha") or {}))
        rows.append([info.name.split("|")[1], str(len(recs)), str(new)])
    assert len(st_df) == sum(int(r[1]) for r in rows)
    return rows


def _row(step: int, asks: list[dict[str, Any]]) -> list[str]:
    before = [a["latency"] for a in asks if not a["omitted"]]
    after = [a["latency"] for a in asks if a["omitted"]]

    def med(xs: list[float]) -> str:
        return f"{statistics.median(xs):.2f}" if xs else "-"

    def mean(xs: list[float]) -> str:
        return f"{statistics.fmean(xs):.2f}" if xs else "-"

    return [str(step), str(len(asks)), str(len(before)), med(before), str(len(after)), med(after), mean(after)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="1,8", help="comma-separated history_step values (default: 1,8)")
    parser.add_argument("--seconds", type=float, default=190.0, help="wall seconds per run (default: 190)")
    parser.add_argument("--objective", default="yahpo/rbv2_xgboost/458", help="a multi-fidelity objective")
    parser.add_argument("-o", "--output", type=Path, default=OUT, help="the Markdown file written")
    args = parser.parse_args(argv)
    steps = [int(s) for s in args.steps.split(",") if s.strip()]
    if any(s < 1 for s in steps):
        parser.error(f"--steps: {args.steps!r} must be positive ints")
    command = "python " + shlex.join(["benchmarks/llm_history_step.py", *(sys.argv[1:] if argv is None else argv)])
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        stores = {s: str(Path(tmp) / f"step{s}.log") for s in steps}
        procs = {
            s: subprocess.Popen(
                [sys.executable, "-c", _RUN_CODE, str(s), args.objective, stores[s]],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for s in steps
        }
        time.sleep(args.seconds)
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            p.wait(timeout=60)
        load_after = os.getloadavg()
        rows = [_row(s, _asks(stores[s])) for s in steps]
        counts = _new_configurations(tmp)
    header = [
        "history_step",
        "LLM asks",
        "asks before the context filled",
        "median s",
        "asks after",
        "median s after",
        "mean s after",
    ]
    text = [
        "# Seconds per LLM ask once the prompt fills the context: `history_step`",
        "",
        f"Command: `{command}`; {len(steps)} runs at the same time, one process and one llama.cpp thread each, on "
        f"{os.cpu_count()} CPUs; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (1 min).",
        "",
        f'ASHA over `llm` (SmolLM2-135M, `answer_format="compact"`) on `{args.objective}`, seed 0, each run stopped '
        f"after {args.seconds:g} s. 'After' counts the asks whose prompt left configurations out to fit the context.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
        "What one run of ASHA asks of its base at `carps-mf-offline`'s budgets (one seed of `asha`, random base; "
        "each new configuration is one model call for `asha-llm`):",
        "",
        "| task | trials | new configurations |",
        "|---|---|---|",
        *("| " + " | ".join(r) + " |" for r in counts),
        "",
    ]
    args.output.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
