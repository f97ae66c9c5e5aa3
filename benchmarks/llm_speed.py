"""Seconds per suggestion of the pure ``llm`` optimizer, step by step of the local model's latency work.

Each step runs in fresh Python processes (the local model SmolLM2-135M through llama.cpp, one
thread) on ``hpobench/nn/credit_g``; a measured run asks ``--suggestions`` configurations in a row
(``on_duplicate="perturb"``, so that every suggestion is one model call) and the table gives the
first suggestion's seconds and the median of the later ones:

* ``baseline (cold)``: one run in a new process, no prefix state on disk.
* ``shared model``: a second run in the process of a first one (another seed): the process's one
  loaded model still holds the prompt's fixed start from the first run.
* ``disk prefix state (warm)``: a run in a new process after an earlier process stored the prompt's
  fixed start on disk.
* ``compact answer``: as the row before, with ``answer_format="compact"``.

``--hybrid`` instead measures ``llm-hybrid``'s model calls under Centaur's policy (CMA-ES core,
``policy="fixed"``, ``--share`` of the trials after a warm-up of 10, the last 20 trials shown) on
``hpobench/nn/kc1``, one fresh process per step, each step adding one of the lean prompt's changes
to the one before (:data:`HYBRID_STEPS`; the fourth is ``prompt="lean"``, the fifth adds the compact
answer to it): seconds per LLM suggestion, model calls, prompt tokens read afresh (not reused from
the model's cache), answer tokens and the suggestions the model declined (kept the core's
proposal); ``--jobs 2`` runs two steps at a time, one per core (writes
``benchmarks/results/llm_hybrid_speed.md``).

``--duplicates`` instead compares the duplicate policies (``on_duplicate="reask"`` against
``"perturb"``): seconds per suggestion and regret over ``--seeds`` runs of ``--n-evals``
evaluations (writes ``benchmarks/results/llm_duplicates.md``).

Run: ``python benchmarks/llm_speed.py`` (writes ``benchmarks/results/llm_speed.md``).
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

__all__ = ["HYBRID_STEPS", "STEPS", "main"]

_RUN_CODE = """
import json, sys, time
import hpolab
from hpolab.llm import LLMOptimizer, LlamaCppClient
cfg = json.loads(sys.argv[1])
objective = hpolab.make_objective("hpobench/nn/credit_g")
out = []
for run, seed in enumerate(cfg["seeds"]):
    client = LlamaCppClient(n_threads=1, prefix_cache=cfg["cache"] or False)
    opt = LLMOptimizer(objective.search_space, client, seed=seed, on_duplicate="perturb",
                       answer_format=cfg["answer_format"])
    opt.set_context(description=objective.description, n_trials=cfg["n"])
    seconds, tokens = [], []
    for i in range(cfg["n"]):
        t = time.perf_counter(); trial = opt.ask(); seconds.append(time.perf_counter() - t)
        tokens.append(trial.metadata["llm"]["completion_tokens"])
        opt.tell(trial, objective.evaluate(trial.config, seed=i))
    out.append({"seconds": seconds, "completion_tokens": tokens, "prefix": dict(client.prefix_stats)})
print(json.dumps(out))
"""

_DUPLICATES_CODE = """
import json, sys, time
import hpolab
from hpolab.llm import LLMOptimizer, LlamaCppClient
policy, n, seeds = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
objective = hpolab.make_objective("hpobench/nn/credit_g")
out = []
for seed in seeds:
    client = LlamaCppClient(n_threads=1, prefix_cache=False)
    opt = LLMOptimizer(objective.search_space, client, seed=seed, on_duplicate=policy)
    opt.set_context(description=objective.description, n_trials=n)
    seconds, regrets, calls = [], [], 0
    for i in range(n):
        t = time.perf_counter(); trial = opt.ask(); seconds.append(time.perf_counter() - t)
        calls += len(trial.metadata["llm"]["exchanges"])
        result = objective.evaluate(trial.config, seed=i)
        regrets.append(objective.regret(result.info.get("true_value", result.value)))
        opt.tell(trial, result)
    out.append({"seed": seed, "seconds": seconds, "regret": min(regrets), "calls": calls,
                "duplicates": opt.stats.get("duplicate", 0)})
print(json.dumps(out))
"""

_HYBRID_CODE = """
import json, sys, time
import hpolab
from hpolab.llm import LlamaCppClient
cfg = json.loads(sys.argv[1])
objective = hpolab.make_objective("hpobench/nn/kc1")
client = LlamaCppClient(n_threads=1, prefix_cache=False)
calls = []
class Timed:
    def __getattr__(self, name):
        return getattr(client, name)
    def complete(self, messages, **kwargs):
        reused = client.prefix_stats["prefix_reused"]
        t = time.perf_counter(); c = client.complete(messages, **kwargs); s = time.perf_counter() - t
        fresh = c.usage.prompt_tokens - (client.prefix_stats["prefix_reused"] - reused)
        calls.append({"s": s, "prompt": c.usage.prompt_tokens, "fresh": fresh, "answer": c.usage.completion_tokens})
        return c
opt = hpolab.make_optimizer("llm-hybrid", objective.search_space, seed=cfg["seed"], client=Timed(), core="cmaes",
                            policy="fixed", share=cfg["share"], **cfg["kwargs"])
opt.set_context(description=objective.description, n_trials=cfg["n"])
seconds, declined, regret = [], 0, 1.0
for i in range(cfg["n"]):
    n_calls = len(calls)
    t = time.perf_counter(); trial = opt.ask(); s = time.perf_counter() - t
    if len(calls) > n_calls:  # an LLM-allocated trial (the core may have answered it after the model)
        seconds.append(s)
        declined += (trial.metadata.get("llm") or {}).get("outcome") == "declined"
    result = objective.evaluate(trial.config, seed=i)
    regret = min(regret, objective.regret(result.info.get("true_value", result.value)))
    opt.tell(trial, result)
print(json.dumps({"seconds": seconds, "calls": calls, "declined": declined, "regret": regret}))
"""

#: Step label -> llm-hybrid keywords; each step adds one change of ``prompt="lean"`` to the one before,
#: and the last adds the compact answer to the lean prompt.
HYBRID_STEPS: dict[str, dict[str, Any]] = {
    "full (Centaur's state, re-ask)": {},
    "+ duplicates to the core": {"on_duplicate": "delegate"},
    "+ window in steps of 10": {"on_duplicate": "delegate", "history_step": 10},
    '+ shorter classic state = prompt="lean"': {"prompt": "lean"},
    "lean + compact answer": {"prompt": "lean", "answer_format": "compact"},
}

#: Step label -> (processes, each a list of seeds; the measured run is the last run of the last process).
STEPS: dict[str, dict[str, Any]] = {
    "baseline (cold)": {"processes": [[0]], "cache": False, "answer_format": "json"},
    "shared model": {"processes": [[1, 0]], "cache": False, "answer_format": "json"},
    "disk prefix state (warm)": {"processes": [[1], [0]], "cache": True, "answer_format": "json"},
    "compact answer": {"processes": [[1], [0]], "cache": True, "answer_format": "compact"},
}


def _run(seeds: list[int], n: int, cache: str | None, answer_format: str, timeout: float) -> list[dict[str, Any]]:
    cfg = {"seeds": seeds, "n": n, "cache": cache, "answer_format": answer_format}
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_CODE, json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the run failed: {proc.stderr[-800:]}")
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


def hybrid(args: argparse.Namespace, argv: list[str]) -> None:
    """Seconds per LLM suggestion of ``llm-hybrid``, step by step towards ``prompt="lean"``; writes ``--out``."""
    from concurrent.futures import ThreadPoolExecutor

    before = _uptime()
    start = time.perf_counter()
    labels = list(HYBRID_STEPS)

    def one(label: str) -> dict[str, Any]:
        cfg = {"seed": args.seed, "share": args.share, "n": args.n_evals, "kwargs": HYBRID_STEPS[label]}
        proc = subprocess.run(
            [sys.executable, "-c", _HYBRID_CODE, json.dumps(cfg)],
            capture_output=True,
            text=True,
            timeout=args.timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{label}: the run failed: {proc.stderr[-800:]}")
        out = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
        out["load"] = _uptime()
        print(f"{label}: {out['seconds']}", flush=True)
        return out

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = dict(zip(labels, pool.map(one, labels), strict=True))
    wall = time.perf_counter() - start
    command = " ".join(shlex.quote(a) for a in ["python", "benchmarks/llm_speed.py", *argv])
    lines = [
        "# `llm-hybrid`'s model calls under Centaur's policy, step by step to the lean prompt (local SmolLM2-135M)",
        "",
        f"Command: `{command}` ({wall:.0f} s wall, {args.jobs} step(s) at a time, one process each, one llama.cpp "
        f"thread), at nice 0. `uptime` before: `{before}`.",
        "",
        f"`hpobench/nn/kc1`, seed {args.seed}, {args.n_evals} evaluations, CMA-ES core, "
        f'`policy="fixed"`, `share={args.share:g}` after 10 warm-up trials, the last 20 trials shown. '
        'Each step adds one change to the step above it; the fourth is `prompt="lean"` itself, the fifth adds '
        "the compact answer to it. A suggestion is "
        "one LLM-allocated `ask()` (its model calls, a re-ask included); the first model call of each process "
        "reads the whole prompt cold (no prefix state on disk). Fresh prompt tokens: those not reused from the "
        'model\'s cache of the previous call. Declined: suggestions where the model answered `{"keep": true}` '
        "(the core's proposal ran; the hybrid allows it in at most 30% of all trials). Regret: the run's best "
        "true regret (one seed: a smoke check that the run is sane, not a comparison; that is centaur_local.md's).",
        "",
        "| step | LLM suggestions | median s per suggestion (after the first) | model calls | median prompt tokens "
        "| median fresh prompt tokens | median answer tokens | declined | regret | `uptime` after the step |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        later = r["seconds"][1:] or r["seconds"]
        calls = r["calls"]

        def med(key: str, calls: list[dict[str, Any]] = calls) -> str:
            return f"{statistics.median(c[key] for c in calls):.0f}" if calls else "-"

        lines.append(
            f"| {label} | {len(r['seconds'])} | {statistics.median(later):.2f} | {len(calls)} | {med('prompt')} "
            f"| {med('fresh')} | {med('answer')} | {r['declined']} | {r['regret']:.4f} | {r['load']} |"
        )
    _write(Path(args.out), lines)


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def duplicates(args: argparse.Namespace, argv: list[str]) -> None:
    """Seconds per suggestion and regret of ``on_duplicate="reask"`` against ``"perturb"``; writes ``--out``."""
    seeds = list(range(args.seeds))
    rows = []
    start = time.perf_counter()
    before = _uptime()
    runs: dict[str, list[dict[str, Any]]] = {"reask": [], "perturb": []}
    for seed in seeds:  # the policies alternate, so that a cut-short measurement stays paired
        for policy in runs:
            try:
                proc = subprocess.run(
                    [sys.executable, "-c", _DUPLICATES_CODE, policy, str(args.n_evals), json.dumps([seed])],
                    capture_output=True,
                    text=True,
                    timeout=args.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                print(f"{policy}, seed {seed}: no result within {args.timeout:.0f} s", flush=True)
                continue
            if proc.returncode != 0:
                raise RuntimeError(f"the {policy} run failed: {proc.stderr[-800:]}")
            runs[policy] += json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{policy}, seed {seed}: {runs[policy][-1]}", flush=True)
    for policy, done in runs.items():
        if not done:
            continue
        seconds = [x for run in done for x in run["seconds"]]
        rows.append(
            {
                "policy": policy,
                "runs": len(done),
                "median_s": statistics.median(seconds),
                "mean_s": statistics.fmean(seconds),
                "regret": statistics.fmean(run["regret"] for run in done),
                "each_regret": [run["regret"] for run in done],
                "calls": sum(run["calls"] for run in done),
                "duplicates": sum(run["duplicates"] for run in done),
                "load": _uptime(),
            }
        )
    wall = time.perf_counter() - start
    command = " ".join(shlex.quote(a) for a in ["python", "benchmarks/llm_speed.py", *argv])
    lines = [
        "# The pure `llm`'s duplicate policy: re-ask or perturb (local SmolLM2-135M, llama.cpp, one thread)",
        "",
        f"Command: `{command}` ({wall:.0f} s wall), at nice 0. `uptime` before: `{before}`.",
        "",
        f"`hpobench/nn/credit_g`, seeds {seeds}, {args.n_evals} evaluations each, one process per run (the "
        f"policies alternate; a run with no result within {args.timeout:.0f} s is left out), the paper's JSON answer, "
        "no prefix state on disk. Regret: the best true regret of the run's evaluations (the table's mean "
        "over seeds), averaged over runs.",
        "",
        "| on_duplicate | runs | median s per suggestion | mean s per suggestion | model calls | duplicates proposed "
        "| mean regret | regret per run | `uptime` at the end |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        each = ", ".join(f"{x:.4f}" for x in row["each_regret"])
        lines.append(
            f"| {row['policy']} | {row['runs']} | {row['median_s']:.2f} | {row['mean_s']:.2f} | {row['calls']} | {row['duplicates']} "
            f"| {row['regret']:.4f} | {each} | {row['load']} |"
        )
    _write(Path(args.out), lines)


def _write(out: Path, lines: list[str]) -> None:
    """Write a results file (its folder made if missing) and say where."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    """Measure every step and write the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suggestions", type=int, default=8, help="suggestions per measured run")
    p.add_argument("--steps", default=",".join(STEPS), help="comma-separated step labels")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per process")
    p.add_argument(
        "--out",
        default=None,
        help="result file (default benchmarks/results/llm_speed.md, or llm_duplicates.md with --duplicates)",
    )
    p.add_argument("--hybrid", action="store_true", help="measure llm-hybrid's steps to prompt='lean' instead")
    p.add_argument("--share", type=float, default=0.8, help="the LLM's share with --hybrid")
    p.add_argument("--seed", type=int, default=0, help="the run's seed with --hybrid")
    p.add_argument("--jobs", type=int, default=1, help="steps at a time with --hybrid (one per free core)")
    p.add_argument("--duplicates", action="store_true", help="compare on_duplicate='reask' and 'perturb' instead")
    p.add_argument("--seeds", type=int, default=3, help="seeds per policy with --duplicates")
    p.add_argument("--n-evals", type=int, default=None, help="evaluations per run (--duplicates: 10, --hybrid: 30)")
    args = p.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    if args.hybrid:
        args.n_evals = args.n_evals or 30
        args.out = args.out or "benchmarks/results/llm_hybrid_speed.md"
        hybrid(args, argv)
        return
    args.n_evals = args.n_evals or 10
    if args.duplicates:
        args.out = args.out or "benchmarks/results/llm_duplicates.md"
        duplicates(args, argv)
        return
    args.out = args.out or "benchmarks/results/llm_speed.md"
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise SystemExit(f"--steps: {unknown} are not steps; known: {list(STEPS)}")
    before = _uptime()
    rows = []
    start = time.perf_counter()
    for label in steps:
        step = STEPS[label]
        with tempfile.TemporaryDirectory() as tmp:
            cache = str(Path(tmp) / "prefix") if step["cache"] else None
            runs: list[dict[str, Any]] = []
            for seeds in step["processes"]:
                runs = _run(seeds, args.suggestions, cache, step["answer_format"], args.timeout)
        last = runs[-1]
        seconds = last["seconds"]
        rows.append(
            {
                "step": label,
                "first_s": seconds[0],
                "later_median_s": statistics.median(seconds[1:]),
                "seconds": seconds,
                "completion_tokens": statistics.median(last["completion_tokens"]),
                "prefix": last["prefix"],
                "load": _uptime(),
            }
        )
        print(f"{label}: first {seconds[0]:.2f} s, later median {rows[-1]['later_median_s']:.2f} s", flush=True)
    wall = time.perf_counter() - start
    lines = [
        "# Seconds per suggestion of the pure `llm` (local SmolLM2-135M, llama.cpp, one thread)",
        "",
        f"Command: `{' '.join(shlex.quote(a) for a in ['python', 'benchmarks/llm_speed.py', *argv])}`",
        f"({wall:.0f} s wall), at nice 0. `uptime` before: `{before}`.",
        "",
        f'`hpobench/nn/credit_g`, {args.suggestions} suggestions per measured run, `on_duplicate="perturb"` '
        "(one model call per suggestion), each step in fresh processes (see the script's docstring for what each "
        "step does). Later = the median of suggestions 2 and on. Prompt tokens from cache: read from a stored "
        "prefix state on disk / reused from the model's cache of the last prompt, summed over the run.",
        "",
        "| step | first suggestion (s) | later, median (s) | each suggestion (s) | answer tokens (median) "
        "| prompt tokens from disk / reused | `uptime` after the step |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        each = ", ".join(f"{x:.2f}" for x in row["seconds"])
        prefix = f"{row['prefix']['prefix_loaded']} / {row['prefix']['prefix_reused']}"
        lines.append(
            f"| {row['step']} | {row['first_s']:.2f} | {row['later_median_s']:.2f} | {each} | "
            f"{row['completion_tokens']:g} | {prefix} | {row['load']} |"
        )
    _write(Path(args.out), lines)


if __name__ == "__main__":
    main()
