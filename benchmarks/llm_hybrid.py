"""The hybrid LLM optimizer against its controls on the 8 HPOBench NN tables (issue 13), in one command.

Methods (each a registered optimizer, run by :mod:`hpolab.benchmark`):

* ``random``, ``tpe`` and the leave-one-table-out ``portfolio``;
* ``llm-hybrid``: TPE core and the LLM under the adaptive policy; ``llm-tpe``: seed 002's warm start
  (five LLM proposals, then TPE); ``llm-hybrid+records``: the hybrid with the portfolio as a third
  source;
* controls: ``llm-hybrid-nollm`` (the LLM removed), ``llm-hybrid-placebo`` (random answers inside
  the space), ``default-first`` (the space's default configuration, then TPE), ``counting-prior``
  (the LLM replaced by value counts of the other tables' best configurations, with the portfolio)
  and ``llm-hybrid-nollm+records``;
* ``oracle (simulated)`` / ``adversary (simulated)``: the hybrid whose LLM is a simulation that
  answers from the table's own best / worst 5% (the ceiling and the floor; no model knows this);
* the pure ``llm`` optimizer before and after issue 13 item 5 (duplicates perturbed without a
  re-ask, the old suite setting; duplicates re-asked naming the evaluated configurations);
* with ``--twins``: ``memorizer (simulated)`` (the hybrid whose LLM recalls a table's best 5% when
  the prompt names the table, and guesses otherwise), and every LLM method plus ``tpe`` run again on
  each table's twin (``hpobench/nn/<dataset>/twin``: neutral names, re-labelled values, no data set),
  reported paired with the originals.

Each run makes 30 evaluations; the numbers at 10 evaluations are the first 10 trials of the same
runs (the LLM's prompt says the budget is 30). Records of the other tables: ``--record-configs``
random configurations per table with their true values (mean over the table's seeds).

Full size (the LLM on one llama.cpp thread)::

    python benchmarks/llm_hybrid.py

Any model, one flag::

    python benchmarks/llm_hybrid.py --model-path /path/to/model.gguf
    python benchmarks/llm_hybrid.py --llm-base-url http://127.0.0.1:8000/v1 --llm-model NAME

Memorization check, originals and twins paired (add it to either command)::

    python benchmarks/llm_hybrid.py --twins

Tiny check (minutes)::

    python benchmarks/llm_hybrid.py --tables kc1,credit_g --seeds 1 --n-evals 6 --short-evals 3 \\
        --pure-llm-seeds 1 --storage out/hybrid-tiny.db --out out/hybrid-tiny.md

Runs are stored in ``--storage`` (SQLite) and a rerun continues them.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import hpolab
from hpolab import benchmark as B
from hpolab.analysis import metrics as M
from hpolab.analysis import stats as S
from hpolab.analysis.report import Document, aggregate_view, table1_table
from hpolab.storage import Storage

DATASETS = ("car", "phoneme", "vehicle", "australian", "kc1", "segment", "blood_transfusion", "credit_g")
RESULTS = Path(__file__).parent / "results"
log = logging.getLogger("llm_hybrid")

#: Labels in the order the tables show them.
ORDER = [
    "random",
    "tpe",
    "llm-hybrid",
    "llm-tpe",
    "llm-hybrid-nollm",
    "llm-hybrid-placebo",
    "default-first",
    "portfolio",
    "llm-hybrid+records",
    "llm-hybrid-nollm+records",
    "counting-prior",
    "oracle (simulated)",
    "adversary (simulated)",
    "memorizer (simulated)",
    "llm (before)",
    "llm (after)",
]


def storage_url(storage: str) -> str:
    """A SQLite URL for a path (a URL stays as it is)."""
    return storage if "://" in storage else f"sqlite:///{storage}"


def client_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The LLM client as plain data (built in each worker by :func:`hpolab.llm.make_client`)."""
    if args.llm_base_url:
        if not args.llm_model:
            raise SystemExit("--llm-model: name the model the server at --llm-base-url serves")
        return {"base_url": args.llm_base_url, "model": args.llm_model}
    spec: dict[str, Any] = {"n_threads": args.n_threads}
    if args.model_path:
        spec["model"] = str(args.model_path)
    return spec


def build_records(args: argparse.Namespace, path: Path) -> Path:
    """Records of every table: ``--record-configs`` random configurations with their true values."""
    if path.exists():
        return path
    from hpolab.llm.finetune import Record, Records

    rows = []
    for dataset in DATASETS:
        objective = hpolab.make_objective(f"hpobench/nn/{dataset}")
        table = objective.table
        rng = np.random.default_rng(1000)
        valid = np.flatnonzero(np.isfinite(table.true))
        chosen = rng.choice(valid, size=min(args.record_configs, len(valid)), replace=False)
        for r in chosen:
            # the tables hold an error to minimize: accuracy = 1 - error, as Records.from_trials writes it
            rows.append(
                Record(
                    objective.name,
                    "MLP",
                    "",  # the portfolio and the counting prior read configurations and accuracies only
                    table.config_of(int(r)),
                    1.0 - float(table.true[int(r)]),
                    source="random",
                )
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    Records(rows).to_json(path)
    return path


def methods(args: argparse.Namespace, objective: str, records: Path) -> dict[str, Any]:
    """``{label: spec}`` for one table (the portfolio leaves that table out; the simulations answer from it)."""
    client = client_spec(args)
    # a path relative to the working directory where it can be: study attributes name no machine's folders
    where = records.resolve()
    shown = where.relative_to(Path.cwd()) if where.is_relative_to(Path.cwd()) else where
    loo = {"records": str(shown), "exclude_tasks": [objective]}
    simulated = {"objective": objective, "quantile": args.quantile}
    out: dict[str, Any] = {
        "random": "random",
        "tpe": "tpe",
        "llm-hybrid": {"name": "llm-hybrid", "client": client},
        "llm-tpe": {"name": "llm-tpe", "client": client},
        "llm-hybrid-nollm": "llm-hybrid-nollm",
        "llm-hybrid-placebo": "llm-hybrid-placebo",
        "default-first": "default-first",
        "portfolio": {"name": "portfolio", **loo},
        "llm-hybrid+records": {"name": "llm-hybrid", "client": client, **loo},
        "llm-hybrid-nollm+records": {"name": "llm-hybrid-nollm", **loo},
        "counting-prior": {"name": "counting-prior", **loo},
        "oracle (simulated)": {"name": "llm-hybrid", "simulated": {"kind": "oracle", **simulated}},
        "adversary (simulated)": {"name": "llm-hybrid", "simulated": {"kind": "adversary", **simulated}},
    }
    if args.twins:
        out["memorizer (simulated)"] = {
            "name": "llm-hybrid",
            "simulated": {"kind": "memorizer", "quantile": args.quantile},
        }
    if args.methods:
        wanted = set(args.methods.split(","))
        out = {k: v for k, v in out.items() if k in wanted or k == "random"}
    return out


#: Methods also run on the twins with ``--twins``: those with an LLM (real or simulated) and ``tpe``, which reads
#: no names (its twin rows show the twin is the same problem). Methods with records are left out: the records
#: hold the originals' names.
TWIN_METHODS = ("tpe", "llm-hybrid", "llm-tpe", "oracle (simulated)", "adversary (simulated)", "memorizer (simulated)")


def pure_llm(args: argparse.Namespace) -> dict[str, Any]:
    """The pure ``llm`` optimizer before and after item 5."""
    client = client_spec(args)
    return {
        "llm (before)": {"name": "llm", "client": client, "on_duplicate": "perturb"},
        "llm (after)": {"name": "llm", "client": client, "on_duplicate": "reask"},
    }


def run_all(args: argparse.Namespace, tables: Sequence[str], records: Path) -> list[str]:
    """Run (or continue) the command's runs; their study names."""
    url = storage_url(args.storage)
    context = {"command": " ".join(shlex.quote(a) for a in sys.argv), "suite": "llm_hybrid"}
    specs: list[B.RunSpec] = []
    for dataset in tables:
        name = f"hpobench/nn/{dataset}"
        specs += B.plan(
            methods(args, name, records),
            [name],
            args.seeds,
            n_trials=args.n_evals,
            random_pool=args.random_pool,
            context=context,
            seed_scheme=args.seed_scheme,
        )
        if args.pure_llm_seeds:
            specs += B.plan(
                pure_llm(args),
                [name],
                args.pure_llm_seeds,
                n_trials=args.short_evals,
                context=context,
                seed_scheme=args.seed_scheme,
            )
        if args.twins:
            twin = f"{name}/twin"
            paired_methods = {k: v for k, v in methods(args, twin, records).items() if k in TWIN_METHODS}
            specs += B.plan(
                paired_methods, [twin], args.seeds, n_trials=args.n_evals, context=context, seed_scheme=args.seed_scheme
            )
    # seed by seed over all tables, so that a stopped run leaves whole seeds (a rerun continues it)
    specs.sort(key=lambda spec: (spec.optimizer != B.POOL_LABEL, spec.seed))
    log.info("%d runs (%d tables)", len(specs), len(tables))
    B.execute(specs, url, n_jobs=args.n_jobs, show_progress_bar=args.progress)
    return [s.study_name for s in specs]


# ------------------------------------------------------------------------------------ analysis
def regret_at(df: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per (optimizer, objective, seed): best true regret within the first ``k`` trials."""
    d = df[df["trial"] < k]
    return d.groupby(["optimizer", "objective", "seed"])["regret"].min().reset_index()


def fmt(x: float, digits: int = 4) -> str:
    return "n/a" if x is None or not math.isfinite(float(x)) else f"{float(x):.{digits}g}"


def table1_md(df: pd.DataFrame, k: int, n_bootstrap: int) -> list[str]:
    """Table 1 at ``k`` evaluations with each method's mean regret, then the aggregate view and its tests."""
    methods_df = df[~df["optimizer"].str.startswith("llm (")]
    t1 = M.table1(methods_df, k, n_bootstrap=n_bootstrap, seed=0)
    order = [o for o in ORDER if o in t1.index] + [o for o in t1.index if o not in ORDER]
    reg = regret_at(methods_df, k).groupby("optimizer")["regret"].mean()
    doc = Document()
    doc.h(3, f"Table 1 at {k} evaluations")
    table1_table(doc, t1.loc[order], extra={"mean regret": {str(o): fmt(v) for o, v in reg.items()}})
    agg = M.aggregate_table(methods_df, k, n_bootstrap=max(n_bootstrap, 1000), seed=0)
    doc.p(f"Aggregate view at {k} evaluations (IQM and mean of normalized regret, P(improvement over random), Holm):")
    aggregate_view(
        doc,
        agg.loc[[o for o in order if o in agg.index]],
        int(methods_df["seed"].nunique()),
        int(methods_df["objective"].nunique()),
    )
    return [doc.markdown(RESULTS), ""]


def paired(df: pd.DataFrame, a: str, b: str, k: int) -> dict[str, Any]:
    """Paired comparison over tasks x seeds of regret at ``k``: ``a`` minus ``b`` (negative: ``a`` better)."""
    from scipy.stats import wilcoxon

    reg = regret_at(df, k).pivot_table(index=["objective", "seed"], columns="optimizer", values="regret")
    if a not in reg or b not in reg:
        return {"n": 0}
    pair = reg[[a, b]].dropna()
    diff = (pair[a] - pair[b]).to_numpy(dtype=float)
    ci = S.mean_ci(diff)
    out: dict[str, Any] = {
        "n": len(diff),
        "mean_diff": ci.mean,
        "low": ci.low,
        "high": ci.high,
        "a_better": int((diff < 0).sum()),
        "b_better": int((diff > 0).sum()),
        "ties": int((diff == 0).sum()),
        "p": math.nan,
    }
    if np.count_nonzero(diff) > 0:
        out["p"] = float(wilcoxon(diff, zero_method="zsplit").pvalue)
    return out


def paired_md(df: pd.DataFrame, pairs: Sequence[tuple[str, str, str]], budgets: Sequence[int]) -> list[str]:
    """The paired comparisons as a table, with each p-value and its Holm adjustment over the table's tests."""
    from hpolab.analysis.stats import holm

    rows = [(title, a, b, k, r) for title, a, b in pairs for k in budgets if (r := paired(df, a, b, k))["n"]]
    adjusted = holm([float(r["p"]) for *_, r in rows]) if rows else np.array([])
    lines = [
        "| comparison | evals | pairs | mean regret difference [95% CI] | first better | second better | ties | Wilcoxon p "
        f"| p (Holm over the {len(rows)} tests here) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (title, a, b, k, r), p_holm in zip(rows, adjusted, strict=True):
        lines.append(
            f"| {title}: `{a}` - `{b}` | {k} | {r['n']} | {fmt(r['mean_diff'])} [{fmt(r['low'])}, {fmt(r['high'])}] "
            f"| {r['a_better']} | {r['b_better']} | {r['ties']} | {fmt(r['p'], 3)} | {fmt(p_holm, 3)} |"
        )
    return [*lines, ""]


def sources_md(df: pd.DataFrame) -> list[str]:
    lines = ["| method | source | share of trials | trials that improved the run's best |", "|---|---|---|---|"]
    for opt in ORDER:
        g = df[df["optimizer"] == opt]
        if g.empty or g["source"].isna().all():
            continue
        improved: dict[str, int] = {}
        for _, run in g.sort_values("trial").groupby(["objective", "seed"]):
            best = math.inf
            for source, value in zip(run["source"], run["value"], strict=True):
                if math.isfinite(best) and value < best:
                    improved[str(source)] = improved.get(str(source), 0) + 1
                best = min(best, value)
        for source, n in g["source"].value_counts().items():
            lines.append(f"| `{opt}` | {source} | {100 * n / len(g):.0f}% | {improved.get(str(source), 0)} |")
    return [*lines, ""]


def llm_answers(store: Storage, df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per LLM method: duplicate rate of first answers, how duplicates were handled, seconds per suggestion.

    Only the runs in ``df`` count (its optimizer, objective and seed), whatever else the storage holds.

    Args:
        store: The results storage, open (:func:`hpolab.benchmark.open_results`; left open).
        df: The trial table of the runs to count.
    """
    runs = B.run_keys(df)
    out: dict[str, dict[str, Any]] = {}
    for info in store.list_studies():
        bench = (info.attrs or {}).get("benchmark")
        if not isinstance(bench, Mapping) or B.run_key(bench) not in runs:
            continue
        label = str(bench["optimizer"])
        if str(bench.get("objective", "")).endswith("/twin"):
            continue  # the answers on the originals only
        stats = out.setdefault(label, {"llm_trials": 0, "counters": {}, "latency": [], "calls": 0})
        for rec in store.get_trials(info.study_id):
            llm = rec.metadata.get("llm") if isinstance(rec.metadata, Mapping) else None
            if not isinstance(llm, Mapping):
                continue
            stats["llm_trials"] += 1
            for key, value in (llm.get("counters") or {}).items():
                stats["counters"][key] = stats["counters"].get(key, 0) + int(value)
            stats["latency"].append(float(llm.get("latency_s") or 0.0))
            stats["calls"] += len(llm.get("exchanges") or [])
    return out


def answers_md(answers: Mapping[str, Mapping[str, Any]]) -> list[str]:
    lines = [
        "| method | LLM suggestions | model calls | first answer a duplicate | re-asked and fixed | answered by the core "
        "| perturbed | random | unusable answers | declined (keep) | median s per suggestion |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label in [o for o in ORDER if o in answers]:
        a = answers[label]
        n = a["llm_trials"]
        if not n:
            continue
        c = a["counters"]

        def pct(key: str, c: Mapping[str, int] = c, n: int = n) -> str:
            return f"{100 * c.get(key, 0) / n:.0f}%"

        lines.append(
            f"| `{label}` | {n} | {a['calls']} | {pct('duplicate')} | {pct('duplicate_reasked')} | "
            f"{pct('duplicate_delegated')} | {pct('perturbed')} | {pct('duplicate_random')} | "
            f"{pct('parse_error')} | {pct('declined')} | {fmt(float(np.median(a['latency'])), 3)} |"
        )
    return [*lines, ""]


def twins_md(df: pd.DataFrame, budgets: Sequence[int]) -> list[str]:
    """Each method's regret on the originals and on their twins, paired over tables x seeds (Holm over the table)."""
    from scipy.stats import wilcoxon

    from hpolab.analysis.stats import holm

    rows: list[tuple[str, int, pd.DataFrame, np.ndarray, float]] = []
    for k in budgets:
        reg = regret_at(df, k)
        reg["kind"] = np.where(reg["objective"].str.endswith("/twin"), "twin", "original")
        reg["table"] = reg["objective"].str.removesuffix("/twin")
        wide = reg.pivot_table(index=["optimizer", "table", "seed"], columns="kind", values="regret")
        if "twin" not in wide:
            continue
        for label in [o for o in ORDER if o in wide.index.get_level_values(0)]:
            pair = wide.loc[label].dropna()
            if pair.empty:
                continue
            diff = (pair["original"] - pair["twin"]).to_numpy(dtype=float)
            p = float(wilcoxon(diff, zero_method="zsplit").pvalue) if np.count_nonzero(diff) else math.nan
            rows.append((label, k, pair, diff, p))
    adjusted = holm([p for *_, p in rows]) if rows else np.array([])
    lines = [
        "| method | evals | pairs | mean regret, originals | mean regret, twins | originals - twins [95% CI] "
        "| originals better | twins better | ties | Wilcoxon p | Holm p |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (label, k, pair, diff, p), p_holm in zip(rows, adjusted, strict=True):
        ci = S.mean_ci(diff)
        lines.append(
            f"| `{label}` | {k} | {len(diff)} | {fmt(pair['original'].mean())} | {fmt(pair['twin'].mean())} | "
            f"{fmt(ci.mean)} [{fmt(ci.low)}, {fmt(ci.high)}] | {int((diff < 0).sum())} | {int((diff > 0).sum())} | "
            f"{int((diff == 0).sum())} | {fmt(p, 3)} | {fmt(p_holm, 3)} |"
        )
    return [*lines, ""]


def baseline_lines(args: argparse.Namespace, df: pd.DataFrame, contexts: Sequence[Mapping[str, Any]]) -> list[str]:
    """The set-up lines on random search's baseline and on how the seeds of the runs in ``df`` were derived.

    ``contexts`` is the storage's :func:`hpolab.benchmark.study_contexts`; those of the runs in ``df`` count.
    """
    runs = B.run_keys(df)
    contexts = [c for c in contexts if B.run_key(c) in runs]
    return [
        f"- Random search's loss is the exact expected best of the budget's distinct configurations of {args.random_pool} "
        "random configurations per task (`expected_best_of`, unbiased; seed 002's bootstrap draws with replacement).",
        f"- {B.seed_note(contexts) or 'Seeds: not recorded.'}",
    ]


def provenance(args: argparse.Namespace, seconds: float) -> tuple[str, str]:
    """The report's "Command:" line and its wall-time line; under ``--report-only`` the earlier report's, kept."""
    invoked = " ".join(shlex.quote(a) for a in sys.argv)
    command = f"Command: `{invoked}`"
    wall = (
        f"- Wall time of this command: {seconds / 60:.1f} min on {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}."
    )
    if args.report_only:  # the run's command and wall time stay; the rewrite is said below them
        out = Path(args.out)
        previous = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
        rewrite = f"- Report rewritten from the storage by: `{invoked}`."
        command = next((ln for ln in previous if ln.startswith("Command: ")), command)
        wall = next((ln for ln in previous if ln.startswith("- Wall time of this command: ")), wall) + "\n" + rewrite
    return command, wall


def write(
    args: argparse.Namespace,
    df: pd.DataFrame,
    answers: Mapping[str, Any],
    contexts: Sequence[Mapping[str, Any]],
    seconds: float,
) -> None:
    short, full = args.short_evals, args.n_evals
    with_twins = df
    df = df[~df["objective"].str.endswith("/twin")]
    tables = sorted(df["objective"].unique())
    command, wall = provenance(args, seconds)
    lines = [
        "# The hybrid LLM optimizer and its controls (issue 13)",
        "",
        command,
        "",
        f"- Tables: {len(tables)} HPOBench NN tables; seeds: {args.seeds}; {full} evaluations per run "
        f"(the numbers at {short} evaluations are the first {short} trials of the same runs).",
        f"- LLM: {json.dumps(client_spec(args))} (empty model: the default SmolLM2-135M-Instruct through llama.cpp).",
        f"- Records (portfolio, counting prior): {args.record_configs} random configurations per table with their true "
        "values; each table's runs leave that table's records out.",
        "- `oracle (simulated)` / `adversary (simulated)`: simulations that answer from the table's own best / worst "
        f"{args.quantile:.0%} (no model knows the table): the hybrid's ceiling and floor.",
        *baseline_lines(args, with_twins, contexts),
        wall,
        *(f"- {note}" for note in args.note),
        "",
    ]
    runs = df.groupby("optimizer").apply(lambda g: len(g[["objective", "seed"]].drop_duplicates()))
    trials = df.groupby(["optimizer", "objective", "seed"]).size().groupby("optimizer").min()
    lines += [
        "Runs per method (tables x seeds) and the fewest trials in one run: "
        + ", ".join(f"`{k}` {runs[k]} ({trials[k]})" for k in [o for o in ORDER if o in runs.index]),
        "",
    ]
    if args.report_only:
        lines += [
            "Written with `--report-only` from the storage: runs still going count with the trials they have.",
            "",
        ]
    lines += table1_md(df, short, args.n_bootstrap) + table1_md(df, full, args.n_bootstrap)
    lines += [
        "## What the LLM contributes (paired over tables x seeds, regret on the tables' true values)",
        "",
        "Negative differences mean the first method has the lower regret. Reported whatever the sign.",
        "",
    ]
    lines += paired_md(
        df,
        [
            ("LLM's contribution", "llm-hybrid", "llm-hybrid-nollm"),
            ("hybrid vs TPE", "llm-hybrid", "tpe"),
            ("hybrid vs placebo", "llm-hybrid", "llm-hybrid-placebo"),
            ("hybrid vs default-first", "llm-hybrid", "default-first"),
            ("warm start vs TPE", "llm-tpe", "tpe"),
            ("LLM's contribution with records", "llm-hybrid+records", "llm-hybrid-nollm+records"),
            ("hybrid with records vs portfolio", "llm-hybrid+records", "portfolio"),
            ("hybrid with records vs counting prior", "llm-hybrid+records", "counting-prior"),
            ("ceiling (simulated)", "oracle (simulated)", "tpe"),
            ("floor (simulated)", "adversary (simulated)", "tpe"),
            ("memorized tables (simulated)", "memorizer (simulated)", "tpe"),
        ],
        [short, full],
    )
    reg = regret_at(df, full).groupby("optimizer")["regret"].mean()
    if "llm-hybrid" in reg and "tpe" in reg:
        lines += [
            f"Mean regret at {full} evaluations: `llm-hybrid` {fmt(reg['llm-hybrid'])}, `tpe` {fmt(reg['tpe'])} "
            f"(ratio {reg['llm-hybrid'] / reg['tpe']:.2f}; the goal is at most 1.10).",
            "",
        ]
    if len(with_twins) > len(df):
        lines += [
            "## Originals and twins (memorization)",
            "",
            "Each method on a table and on its twin (the same table behind neutral names, values re-labelled "
            "through monotone maps, the data set withheld), paired by table and seed; negative differences mean "
            "the method did better on the originals. `memorizer (simulated)` recalls a table's best configurations "
            "when its prompt names the table: what a twin removes is what it gains on the originals. "
            "`tpe` reads no names, but it meets the parameters in another order and under other labels, so its runs "
            "differ seed by seed and only their distributions should agree: its gap is the yardstick for the "
            "others'. Holm's adjustment is over this table's tests.",
            "",
            *twins_md(with_twins, [short, full]),
        ]
    lines += ["## Trials and improvements per source", "", *sources_md(df)]
    lines += [
        "## The LLM's answers",
        "",
        "Per LLM suggestion (a trial the LLM source was asked for): how often its first answer repeated an "
        "evaluated configuration, and what happened then; `llm (before)` is the pure LLM optimizer with the old "
        "suite setting (duplicates perturbed without a re-ask), `llm (after)` re-asks naming the evaluated "
        "configurations (then perturbs, counted). Seconds per suggestion: model time over all its calls.",
        "",
    ]
    lines += answers_md(answers)
    if any(label.startswith("llm (") for label in df["optimizer"].unique()):
        pure = regret_at(df[df["optimizer"].str.startswith("llm (")], short).groupby("optimizer")["regret"].mean()
        lines += [
            f"Pure LLM, mean regret at {short} evaluations: " + ", ".join(f"`{k}` {fmt(v)}" for k, v in pure.items()),
            "",
        ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log.info("wrote %s", out)


_THREADS_CODE = """
import json, os, statistics, sys, time
import hpolab
from hpolab.llm import LLMOptimizer, make_client
n_threads, n, model = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] or None
objective = hpolab.make_objective("hpobench/nn/credit_g")
spec = {"n_threads": n_threads, **({"model": model} if model else {})}
client = make_client(spec)
opt = LLMOptimizer(objective.search_space, client, seed=0, on_duplicate="perturb")
opt.set_context(description=objective.description, n_trials=10)
lat = []
for i in range(n):
    t = time.perf_counter(); trial = opt.ask(); lat.append(time.perf_counter() - t)
    opt.tell(trial, objective.evaluate(trial.config, seed=i))
print(json.dumps({"n_threads": n_threads, "seconds": lat, "median_s": statistics.median(lat),
                  "loadavg": os.getloadavg()}))
"""


def threads_check(args: argparse.Namespace) -> None:
    """Seconds per LLM suggestion with 1 and 2 llama.cpp threads, with ``--busy`` busy-looping processes beside it."""
    import multiprocessing
    import subprocess

    def spin() -> None:
        while True:
            pass

    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for proc in spinners:
        proc.start()
    rows = []
    try:
        for n_threads in (1, 2):
            run = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _THREADS_CODE,
                    str(n_threads),
                    str(args.threads_suggestions),
                    args.model_path or "",
                ],
                capture_output=True,
                text=True,
                timeout=args.threads_timeout,
                check=False,
            )
            if run.returncode != 0:
                rows.append({"n_threads": n_threads, "error": run.stderr[-300:]})
            else:
                rows.append(json.loads(run.stdout.strip().splitlines()[-1]))
    except subprocess.TimeoutExpired:
        rows.append({"n_threads": n_threads, "error": f"no result within {args.threads_timeout} s"})
    finally:
        for proc in spinners:
            proc.terminate()
    lines = [
        "# llama.cpp threads: seconds per LLM suggestion (issue 13 item 5)",
        "",
        f"Command: `{' '.join(shlex.quote(a) for a in sys.argv)}`",
        "",
        f"The pure `llm` optimizer on `hpobench/nn/credit_g` (compressed prompt, constrained JSON), "
        f"{args.threads_suggestions} suggestions per thread count, each count in a fresh process; "
        f"{args.busy} busy-looping processes ran beside it; machine: {os.cpu_count()} CPU cores "
        "(load averages are 1, 5, 15 minutes, read at the end of each run).",
        "",
        "| n_threads | median s per suggestion | each suggestion (s) | load average |",
        "|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['n_threads']} | failed: {row['error']} | | |")
            continue
        each = ", ".join(f"{x:.1f}" for x in row["seconds"])
        load = ", ".join(f"{x:.1f}" for x in row["loadavg"])
        lines.append(f"| {row['n_threads']} | {row['median_s']:.2f} | {each} | {load} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log.info("wrote %s", out)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tables", default=",".join(DATASETS), help="comma-separated HPOBench NN data sets")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--n-evals", type=int, default=30, help="evaluations per run")
    p.add_argument("--short-evals", type=int, default=10, help="the smaller budget read from the same runs")
    p.add_argument("--note", action="append", default=[], help="a line for the report's set-up (repeatable)")
    p.add_argument("--pure-llm-seeds", type=int, default=3, help="seeds of the pure llm before/after rows (0: none)")
    p.add_argument("--methods", default=None, help="comma-separated labels to run (default: all)")
    p.add_argument("--model-path", default=None, help="a GGUF model file for the LLM (llama.cpp in process)")
    p.add_argument("--llm-base-url", default=None, help="an OpenAI-compatible server for the LLM")
    p.add_argument("--llm-model", default=None, help="the model name the server serves")
    p.add_argument("--n-threads", type=int, default=1, help="llama.cpp threads per worker")
    p.add_argument("--n-jobs", type=int, default=1, help="worker processes")
    p.add_argument("--quantile", type=float, default=0.05, help="share of the table the simulations answer from")
    p.add_argument("--record-configs", type=int, default=200, help="random configurations per table in the records")
    p.add_argument("--random-pool", type=int, default=500)
    p.add_argument("--n-bootstrap", type=int, default=1000)
    p.add_argument("--storage", default=str(RESULTS / "llm_hybrid.db"))
    p.add_argument("--out", default=str(RESULTS / "llm_hybrid.md"))
    p.add_argument(
        "--seed-scheme",
        type=int,
        choices=sorted(B.SEED_SCHEMES),
        default=B.SEED_SCHEME,
        help="how each run's optimizer seed derives from its seed (hpolab.benchmark.SEED_SCHEMES); the "
        "committed llm_hybrid.db was made with 1, so resuming it needs --seed-scheme 1",
    )
    p.add_argument("--progress", action="store_true")
    p.add_argument(
        "--twins", action="store_true", help="add the memorizer and run the LLM methods and tpe on the twins too"
    )
    p.add_argument("--report-only", action="store_true", help="write the report from the storage without running")
    p.add_argument("--threads-check", action="store_true", help="only measure seconds per suggestion, 1 vs 2 threads")
    p.add_argument("--busy", type=int, default=0, help="busy-looping processes beside --threads-check")
    p.add_argument("--threads-suggestions", type=int, default=5)
    p.add_argument("--threads-timeout", type=int, default=600)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.threads_check:
        threads_check(args)
        return
    tables = [t for t in args.tables.split(",") if t]
    unknown = sorted(set(tables) - set(DATASETS))
    if unknown:
        raise SystemExit(f"--tables: {unknown} are not HPOBench NN tables; choose from {', '.join(DATASETS)}")
    if args.short_evals > args.n_evals:
        raise SystemExit("--short-evals must not exceed --n-evals")
    start = time.perf_counter()
    studies = None
    if not args.report_only:
        records = build_records(args, Path(args.storage).with_suffix(".records.json"))
        studies = run_all(args, tables, records)
    store = B.open_results(storage_url(args.storage))  # one read of the storage for the whole report
    try:
        df = B.load_results(store, studies=studies)
        if args.report_only:  # what the storage holds so far (e.g. of a run still going), finished trials only
            names = [f"hpobench/nn/{t}" for t in tables]
            df = df[df["objective"].isin(names + ([f"{n}/twin" for n in names] if args.twins else []))]
            if args.methods:  # the methods asked for, the pure llm's rows and random search's pool
                every = methods(argparse.Namespace(**{**vars(args), "methods": None}), names[0], Path(args.storage))
                left_out = set(every) - set(args.methods.split(",")) - {"random"}
                df = df[~df["optimizer"].isin(left_out)]
        answers = llm_answers(store, df)
        contexts = B.study_contexts(store)
    finally:
        store.close()
    write(args, df, answers, contexts, time.perf_counter() - start)


if __name__ == "__main__":
    main()
