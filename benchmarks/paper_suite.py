"""Run one of the papers' suites end to end and write benchmarks/results/<suite>/ (shared by seed00X.py).

What it does, in order: plans the suite's runs with :func:`hpolab.benchmark.plan_runs` (what cannot
run on this install is skipped with one line saying how to enable it), runs them over worker
processes into ``<out>/results.log`` (a journal file; resumable: a rerun skips finished runs), and writes
``report.md``, ``report.html`` and the plots with the paper's tables beside this run's and the
section "Where this run differs from the paper, and why". It also writes ``commands.txt`` (the exact
command) and ``wall_time.json`` (seconds for the runs and the report, workers, runs).

Usage (through the per-paper scripts)::

    python benchmarks/seed004.py                 # full scale (see docs/benchmarks.md for the time)
    python benchmarks/seed004.py --smoke         # smallest size that runs every part end to end
    python benchmarks/seed004.py --seeds 1 -j 2 -o out/s4
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from hpolab.benchmark import (
    SEED_SCHEME,
    SEED_SCHEMES,
    Suite,
    execute,
    get_suite,
    load_results,
    plan_runs,
    results_storage,
    seed_note,
    study_contexts,
    write_suite_report,
)

RESULTS = Path(__file__).resolve().parent / "results"


def main(
    suite_name: str,
    argv: Sequence[str] | None = None,
    *,
    smoke: Callable[[Suite], Suite] | None = None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    customize: Callable[[Suite, argparse.Namespace], Suite] | None = None,
) -> int:
    """Run the suite ``suite_name`` with the command-line options ``argv``; return the exit status.

    ``smoke`` shrinks the suite for ``--smoke``; ``add_arguments`` adds a script's own options and
    ``customize`` applies them to the suite.
    """
    parser = argparse.ArgumentParser(
        prog=f"benchmarks/{suite_name}.py", description=f"Run hpolab's {suite_name} suite."
    )
    parser.add_argument(
        "-o", "--output", type=Path, default=None, help=f"folder (default: benchmarks/results/{suite_name})"
    )
    parser.add_argument("-j", "--jobs", type=int, default=2, help="worker processes (default: 2)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per method (default: the suite's)")
    parser.add_argument(
        "--parts",
        default=None,
        help="comma-separated parts to run besides the comparison (default: the suite's default parts; 'none': none)",
    )
    parser.add_argument(
        "--random-pool",
        type=int,
        default=None,
        help="random configurations per task for random search's bootstrap (default: the suite's)",
    )
    parser.add_argument(
        "--seed-scheme",
        type=int,
        choices=sorted(SEED_SCHEMES),
        default=SEED_SCHEME,
        help=f"how each run's optimizer seed derives from its seed (default {SEED_SCHEME}: per task); 1 only "
        "to extend a storage made with it",
    )
    parser.add_argument("--smoke", action="store_true", help="the smallest size that runs every part end to end")
    parser.add_argument("--report-only", action="store_true", help="write the report from the results already there")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)

    suite = get_suite(suite_name)
    if customize is not None:
        suite = customize(suite, args)
    if args.smoke:
        if smoke is None:
            parser.error("--smoke: this suite has no smoke size")
        suite = smoke(suite)
    if args.random_pool is not None:
        if args.random_pool < 0:
            parser.error(f"--random-pool: {args.random_pool} is negative; give 0 (no pool) or more configurations")
        if args.random_pool != suite.random_pool:
            pool = (
                f"**Random pool (this run).** {args.random_pool} random configurations per task for random search's "
                f"bootstrap instead of the suite's {suite.random_pool} (`--random-pool {args.random_pool}`); pools "
                "already in the storage keep their size (the report's set-up gives the range)."
            )
            suite = replace(suite, random_pool=args.random_pool, differences=(pool, *suite.differences))
    out: Path = args.output or (RESULTS / suite_name)
    out.mkdir(parents=True, exist_ok=True)
    storage = results_storage(out)
    argv_list = list(sys.argv[1:] if argv is None else argv)
    command = "python " + shlex.join([f"benchmarks/{suite_name}.py", *argv_list])
    parts: bool | list[str] = True
    if args.parts is not None:
        parts = [] if args.parts == "none" else [p.strip() for p in args.parts.split(",") if p.strip()]
    try:
        plan = plan_runs(
            suite, seeds=args.seeds, parts=parts, context={"command": command}, seed_scheme=args.seed_scheme
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in plan.skipped:
        print(line, file=sys.stderr)
    print(f"suite {suite.name}: {len(plan.specs)} runs -> {storage}", file=sys.stderr)
    t0 = time.perf_counter()
    if not args.report_only:
        try:
            execute(plan.specs, str(storage), n_jobs=args.jobs, show_progress_bar=sys.stderr.isatty())
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    run_s = time.perf_counter() - t0
    run_jobs, run_count = args.jobs, len(plan.specs)
    timing_file = out / "wall_time.json"
    if args.report_only and timing_file.exists():  # keep the seconds, workers and runs of the run that made the results
        recorded = json.loads(timing_file.read_text(encoding="utf-8"))
        run_s = float(recorded.get("run_seconds", run_s))
        run_jobs = int(recorded.get("jobs", run_jobs))
        run_count = int(recorded.get("runs", run_count))
    names = sorted({s.study_name for s in plan.specs})
    df = load_results(storage, studies=names)
    if df.empty:
        print("error: no finished trials to report", file=sys.stderr)
        return 1
    t1 = time.perf_counter()
    contexts = [c for c in study_contexts(storage) if c.get("study") in set(names)]
    notes = [f"wall time of the runs: {run_s:.0f} s with {run_jobs} worker process(es) ({run_count} runs)"]
    seeds_line = seed_note(contexts)
    if seeds_line:
        notes.append(seeds_line)
    notes += [line.replace("skipped", "Skipped", 1) for line in plan.skipped]
    if args.smoke:
        notes.append("**Smoke size**: every part at its smallest; the numbers show that it runs, not what it finds.")
    if suite.simulated is None and get_suite(suite_name).simulated is not None:
        notes.append("The LLM rows come from the model named in the command, not from the simulated stand-in.")
    rep = write_suite_report(
        df,
        out,
        suite=suite,
        title=f"hpolab suite {suite.name}" + (" (smoke size)" if args.smoke else ""),
        description=suite.description,
        command=command,
        n_trials=suite.table1_n_trials if suite.n_trials else None,
        sections=suite.sections,
        contexts=contexts,
        notes=notes,
        storage=storage,
    )
    report_s = time.perf_counter() - t1
    commands = out / "commands.txt"
    if args.report_only and commands.exists():  # the runs' command stays; the report's is added
        lines = [ln for ln in commands.read_text(encoding="utf-8").splitlines() if "--report-only" not in ln]
        commands.write_text("\n".join([*lines, command]) + "\n", encoding="utf-8")
    else:
        commands.write_text(command + "\n", encoding="utf-8")
    timing = {
        "suite": suite.name,
        "smoke": bool(args.smoke),
        "runs": run_count,
        "jobs": run_jobs,
        "run_seconds": round(run_s, 1),
        "report_seconds": round(report_s, 1),
        "skipped": plan.skipped,
    }
    timing_file.write_text(json.dumps(timing, indent=1) + "\n", encoding="utf-8")
    print(f"runs {run_s:.0f} s, report {report_s:.0f} s -> {rep.markdown}", file=sys.stderr)
    return 0
