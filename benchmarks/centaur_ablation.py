"""Centaur's ablation of the LLM's share (arXiv 2603.24647) on the 8 HPOBench NN tables, in one command.

``--objectives lcbench`` runs it on 8 YAHPO lcbench surrogates instead (``HPOLAB_YAHPO_DATA`` set), or
``--objectives`` names any objectives; one without a known optimum (YAHPO) measures regret against the
best value any run the report reads (the command's methods and seeds, the random pools included) reached on it.

Every method is ``llm-hybrid`` under the fixed-share policy (``policy="fixed"``, ``share=r``):
the core (TPE or CMA-ES) runs the first ``--warmup`` trials, then the LLM proposes a fixed share
``r`` of the trials; the LLM's prompt holds the core's top 5 configurations, the last 20 trials
and, with the CMA-ES core, CMA-ES's mean, step size and leading covariance directions.

Methods, per core (``tpe``, ``cmaes``):

* ``<core> r=<share> <client>`` for each share (``--shares``, default 0.1, 0.3, 0.5, 0.8) and each
  client (``--clients``): ``local`` (the local model, or ``--model-path`` / ``--llm-base-url``),
  ``local-lean`` (the same model with ``prompt="lean"``: duplicates to the core without a re-ask,
  the history window moved in steps of 10, a shorter classic state),
  ``oracle`` / ``adversary`` (simulations answering from the table's own best / worst
  ``--quantile``: the ceiling and the floor; no model knows the table);
* controls, paired with the runs above: ``<core> no-LLM`` (``llm-hybrid-nollm``: the core alone),
  ``<core> r=<share> placebo`` (``llm-hybrid-placebo``: answers at random inside the space, at each
  share) and ``<core> default-first`` (the space's default configuration, then the core);
* ``random``, for Table 1.

Full size (2,968 runs with the random pools, 320 with the local model per core)::

    python benchmarks/centaur_ablation.py

Tiny check (simulated clients only, one table, one seed; a minute)::

    python benchmarks/centaur_ablation.py --tables kc1 --seeds 1 --n-evals 14 --short-evals 12 --warmup 4 \\
        --shares 0.3,0.8 --clients oracle,adversary --storage out/centaur-tiny.db --out out/centaur-tiny.md

The simulated clients on the 8 lcbench surrogates, 10 seeds::

    python benchmarks/centaur_ablation.py --objectives lcbench --clients oracle,adversary --n-jobs 2 \\
        --storage benchmarks/results/centaur_lcbench.db --out benchmarks/results/centaur_lcbench.md

Runs are stored in ``--storage`` (SQLite) and a rerun continues them.
"""

from __future__ import annotations

import argparse
import logging
import math
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import llm_hybrid
import pandas as pd
from llm_hybrid import (
    DATASETS,
    answers_md,
    baseline_lines,
    client_spec,
    fmt,
    llm_answers,
    paired_md,
    provenance,
    regret_at,
    storage_url,
    table1_md,
)

from hpolab import benchmark as B
from hpolab.analysis.metrics import losses

RESULTS = Path(__file__).parent / "results"
CORES = ("tpe", "cmaes")
SHARES = (0.1, 0.3, 0.5, 0.8)
CLIENTS = ("local", "oracle", "adversary")
#: Clients the script knows: :data:`CLIENTS` (the default) and the local model with the lean prompt.
KNOWN_CLIENTS = (*CLIENTS, "local-lean")
#: ``--objectives lcbench``: YAHPO lcbench's two instances in CARP-S's subsets (167168, 167184) and six drawn
#: from its other 32 by ``numpy.random.default_rng(0).choice(others, 6, replace=False)``.
LCBENCH = tuple(
    f"yahpo/lcbench/{i}" for i in ("7593", "167149", "167152", "167168", "167184", "167200", "168330", "168910")
)
#: Shorthands of ``--objectives``.
OBJECTIVE_SETS = {"lcbench": LCBENCH, "nn": tuple(f"hpobench/nn/{d}" for d in DATASETS)}
log = logging.getLogger("centaur_ablation")


def label(core: str, what: str, share: float | None = None) -> str:
    """A method's label: ``cmaes r=0.3 oracle``, ``cmaes no-LLM``."""
    return f"{core} {what}" if share is None else f"{core} r={share:g} {what}"


def methods(args: argparse.Namespace, objective: str) -> dict[str, Any]:
    """``{label: spec}`` for one table (the simulations answer from that table)."""
    out: dict[str, Any] = {"random": "random"}
    for core in args.cores:
        fixed = {"core": core, "policy": "fixed", "warmup": args.warmup}
        out[label(core, "no-LLM")] = {"name": "llm-hybrid-nollm", **fixed, "share": 0.0}
        out[label(core, "default-first")] = {"name": "default-first", "core": core}
        for share in args.shares:
            centaur = {**fixed, "share": share}
            out[label(core, "placebo", share)] = {"name": "llm-hybrid-placebo", **centaur}
            for client in args.clients:
                if client.startswith("local"):
                    lean = {"prompt": "lean"} if client == "local-lean" else {}
                    out[label(core, client, share)] = {
                        "name": "llm-hybrid",
                        **centaur,
                        "client": client_spec(args),
                        **lean,
                    }
                else:
                    simulated = {"kind": client, "objective": objective, "quantile": args.quantile}
                    out[label(core, client, share)] = {"name": "llm-hybrid", **centaur, "simulated": simulated}
    return out


def objectives_of(args: argparse.Namespace) -> list[str]:
    """The objectives to run: ``--objectives`` (names or a shorthand of :data:`OBJECTIVE_SETS`) or ``--tables``."""
    if not args.objectives:
        tables = [t for t in args.tables.split(",") if t]
        unknown = sorted(set(tables) - set(DATASETS))
        if unknown:
            raise SystemExit(f"--tables: {unknown} are not HPOBench NN tables; choose from {', '.join(DATASETS)}")
        return [f"hpobench/nn/{t}" for t in tables]
    names: list[str] = []
    for item in (x for x in args.objectives.split(",") if x):
        names += OBJECTIVE_SETS.get(item, (item,))
    from hpolab.registry import make_objective

    for name in names:  # fail before any run, naming the objective
        try:
            make_objective(name)
        except Exception as exc:
            raise SystemExit(f"--objectives: {name!r} cannot be made ({exc})") from exc
    return list(dict.fromkeys(names))


def with_regret(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``df`` with a regret on objectives that have none, and those objectives' names.

    Such an objective's regret is the gap to the best value any run in ``df`` reached on it; objectives
    with a known optimum (the tables) keep theirs. Paired differences of regret do not depend on the
    reference; means of regret do, and they grow if a later run finds a better value.
    """
    out = df.copy()
    filled: list[str] = []
    for objective, g in out.groupby("objective", sort=True):
        if g["regret"].notna().any():
            continue
        loss = losses(g)
        out.loc[g.index, "regret"] = loss - loss.min()
        filled.append(str(objective))
    return out, filled


def planned(args: argparse.Namespace, objectives: Sequence[str]) -> list[B.RunSpec]:
    """The runs of the command: every method of :func:`methods` on every objective, seeds ``0 .. --seeds - 1``."""
    context = {"command": " ".join(shlex.quote(a) for a in sys.argv), "suite": "centaur_ablation"}
    specs: list[B.RunSpec] = []
    for name in objectives:
        specs += B.plan(
            methods(args, name),
            [name],
            args.seeds,
            n_trials=args.n_evals,
            random_pool=args.random_pool,
            context=context,
        )
    # seed by seed over all tables, so that a stopped run leaves whole seeds (a rerun continues it)
    specs.sort(key=lambda spec: (spec.optimizer != B.POOL_LABEL, spec.seed))
    return specs


def run_all(args: argparse.Namespace, objectives: Sequence[str]) -> list[str]:
    """Run (or continue) the command's runs; their study names."""
    specs = planned(args, objectives)
    log.info("%d runs (%d objectives)", len(specs), len(objectives))
    B.execute(specs, storage_url(args.storage), n_jobs=args.n_jobs, show_progress_bar=args.progress)
    return [s.study_name for s in specs]


# ------------------------------------------------------------------------------------ analysis
def pairs(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """The paired comparisons: each LLM method against its core alone, its placebo and default-first."""
    out: list[tuple[str, str, str]] = []
    for core in args.cores:
        alone = label(core, "no-LLM")
        for share in args.shares:
            for client in args.clients:
                method = label(core, client, share)
                out.append((f"{client} vs no LLM", method, alone))
                if client.startswith("local"):
                    out.append((f"{client} vs placebo", method, label(core, "placebo", share)))
                    out.append((f"{client} vs default-first", method, label(core, "default-first")))
            if {"local", "local-lean"} <= set(args.clients):
                out.append(("lean vs full prompt", label(core, "local-lean", share), label(core, "local", share)))
            out.append(("placebo vs no LLM", label(core, "placebo", share), alone))
        out.append(("default-first vs no LLM", label(core, "default-first"), alone))
    if set(CORES) <= set(args.cores):
        out.append(("CMA-ES vs TPE", label("cmaes", "no-LLM"), label("tpe", "no-LLM")))
    return out


def share_md(df: pd.DataFrame, args: argparse.Namespace) -> list[str]:
    """Per LLM method: the share of trials after the warm-up that the LLM's own proposals ran."""
    lines = [
        "| method | share asked | trials after the warm-up | LLM's proposals among them |",
        "|---|---|---|---|",
    ]
    after = df[df["trial"] >= args.warmup]
    for core in args.cores:
        for share in args.shares:
            for client in (*args.clients, "placebo"):
                g = after[after["optimizer"] == label(core, client, share)]
                if g.empty:
                    continue
                n_llm = int((g["source"] == "llm").sum())
                lines.append(f"| `{label(core, client, share)}` | {share:g} | {len(g)} | {n_llm / len(g):.2f} |")
    return [*lines, ""]


def centaur_findings(df: pd.DataFrame, args: argparse.Namespace, k: int) -> list[str]:
    """Mean regret per core x share x client beside the core alone, and the issue's two checks."""
    reg = regret_at(df, k).groupby("optimizer")["regret"].mean()
    lines = [
        f"Mean regret at {k} evaluations (lower is better; the core alone in the last column):",
        "",
        "| core | client | " + " | ".join(f"r={s:g}" for s in args.shares) + " | core alone |",
        "|---|---|" + "---|" * (len(args.shares) + 1),
    ]
    for core in args.cores:
        alone = reg.get(label(core, "no-LLM"), math.nan)
        for client in (*args.clients, "placebo"):
            cells = [fmt(reg.get(label(core, client, s), math.nan)) for s in args.shares]
            lines.append(f"| {core} | {client} | " + " | ".join(cells) + f" | {fmt(alone)} |")
    lines.append("")
    if "cmaes" in args.cores and 0.3 in args.shares:
        alone = reg.get(label("cmaes", "no-LLM"), math.nan)
        oracle = reg.get(label("cmaes", "oracle", 0.3), math.nan)
        adversary = reg.get(label("cmaes", "adversary", 0.3), math.nan)
        checks = []
        if math.isfinite(alone) and alone > 0 and math.isfinite(oracle):
            checks.append(
                f"- Oracle at r=0.3 against CMA-ES alone: {fmt(oracle)} vs {fmt(alone)} "
                f"({'below' if oracle < alone else 'not below'}; the expectation is below)."
            )
        if math.isfinite(alone) and alone > 0 and math.isfinite(adversary):
            checks.append(
                f"- Adversary at r=0.3 against CMA-ES alone: {fmt(adversary)} vs {fmt(alone)}, "
                f"{100 * (adversary / alone - 1):+.0f}% (the expectation is within +10%)."
            )
        lines += [*checks, ""] if checks else []
    return lines


def tasks_line(objectives: Sequence[str], no_optimum: Sequence[str]) -> str:
    """The report's line on the tasks: how many of each kind, and how those without an optimum are scored."""
    with_optimum = [o for o in objectives if o not in no_optimum]
    nn = all(o.startswith("hpobench/nn/") for o in with_optimum)
    kind = "HPOBench NN tables" if nn else "objectives with a known optimum"
    parts = [f"{len(with_optimum)} {kind}"] if with_optimum or not no_optimum else []
    if no_optimum:
        surrogates = (
            " (YAHPO's surrogates at their full fidelity)" if all(o.startswith("yahpo/") for o in no_optimum) else ""
        )
        parts.append(
            f"{len(no_optimum)} objectives without a known optimum{surrogates}: "
            f"{', '.join(f'`{o}`' for o in no_optimum)}; their regret is the gap to the best value any run this "
            "report reads (its methods and seeds, the random pools included) reached on them, so paired differences "
            "are exact and mean regrets are against that reference"
        )
    return "Tasks: " + "; ".join(parts)


def write(
    args: argparse.Namespace,
    df: pd.DataFrame,
    answers: dict[str, Any],
    contexts: Sequence[Mapping[str, Any]],
    seconds: float,
    no_optimum: Sequence[str] = (),
) -> None:
    short, full = args.short_evals, args.n_evals
    tables = sorted(df["objective"].unique())
    # llm_hybrid's tables list the labels of its ORDER (in that order): add this ablation's
    llm_hybrid.ORDER.extend(sorted(set(df["optimizer"]) - set(llm_hybrid.ORDER)))
    command, wall = provenance(args, seconds)
    lines = [
        "# Centaur's LLM share, with a TPE and a CMA-ES core (issue 23)",
        "",
        command,
        "",
        f"- {tasks_line(tables, no_optimum)}; seeds: {args.seeds}; {full} evaluations per run "
        f"(the numbers at {short} evaluations are the first {short} trials of the same runs).",
        f'- Policy: `llm-hybrid` with `policy="fixed"`, `share=r`: the core runs the first {args.warmup} trials, '
        "then the LLM proposes the share r of the trials; the LLM's prompt shows the top 5 configurations, the last "
        "20 trials and, with CMA-ES, its mean, step size and leading covariance directions.",
        f"- Clients: {', '.join(args.clients)}; `local` is {client_spec(args)} (empty model: the default "
        f"SmolLM2-135M-Instruct through llama.cpp); `oracle` / `adversary` answer from the table's own best / worst "
        f"{args.quantile:.0%} (of 2,000 random configurations on an objective without a table; no model knows "
        "the task)."
        + (
            ' `local-lean` is the same model with `prompt="lean"` (duplicates to the core without a re-ask, the '
            "history window moved in steps of 10, the top 3 and CMA-ES's mean, step size and widest direction "
            "only; the paper's JSON answer)."
            if "local-lean" in args.clients
            else ""
        ),
        "- Controls, paired over tasks x seeds: the core alone (`no-LLM`, `llm-hybrid-nollm`), a placebo at each "
        "share (`llm-hybrid-placebo`, random answers inside the space) and `default-first`.",
        *baseline_lines(args, df, contexts),
        wall,
        *(f"- {note}" for note in args.note),
        "",
    ]
    if args.report_only:
        lines += [
            "Written with `--report-only` from the storage, from the runs of this command's methods and seeds only "
            "(the storage may hold more): methods and clients not run yet are missing, and runs still going count "
            "with the trials they have.",
            "",
        ]
    lines += table1_md(df, short, args.n_bootstrap) + table1_md(df, full, args.n_bootstrap)
    lines += [
        "## Regret by share and client",
        "",
        *centaur_findings(df, args, short),
        *centaur_findings(df, args, full),
    ]
    lines += [
        "## Paired tests (tasks x seeds, regret on the tasks' true values)",
        "",
        "Negative differences mean the first method has the lower regret. Reported whatever the sign.",
        "",
        *paired_md(df, pairs(args), [short, full]),
    ]
    lines += ["## The LLM's share of the trials after the warm-up", "", *share_md(df, args)]
    if answers:
        lines += ["## The LLM's answers", "", *answers_md(answers)]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log.info("wrote %s", out)


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tables", default=",".join(DATASETS), help="comma-separated HPOBench NN data sets")
    p.add_argument(
        "--objectives",
        default=None,
        help="comma-separated objective names or shorthands (lcbench: 8 YAHPO lcbench instances; nn: the 8 "
        "tables), instead of --tables",
    )
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--n-evals", type=int, default=30, help="evaluations per run")
    p.add_argument("--short-evals", type=int, default=20, help="the smaller budget read from the same runs")
    p.add_argument("--warmup", type=int, default=10, help="core trials before the LLM's first")
    p.add_argument("--shares", type=_floats, default=SHARES, help="comma-separated LLM shares")
    p.add_argument("--cores", default=",".join(CORES), help="comma-separated cores (tpe, cmaes)")
    p.add_argument(
        "--clients", default=",".join(CLIENTS), help="comma-separated clients (local, local-lean, oracle, adversary)"
    )
    p.add_argument("--model-path", default=None, help="a GGUF model file for the local client (llama.cpp)")
    p.add_argument("--llm-base-url", default=None, help="an OpenAI-compatible server instead of the local model")
    p.add_argument("--llm-model", default=None, help="the model name the server serves")
    p.add_argument("--n-threads", type=int, default=1, help="llama.cpp threads per worker")
    p.add_argument("--n-jobs", type=int, default=1, help="worker processes")
    p.add_argument("--quantile", type=float, default=0.05, help="share of the table the simulations answer from")
    p.add_argument("--random-pool", type=int, default=500)
    p.add_argument("--n-bootstrap", type=int, default=1000)
    p.add_argument("--storage", default=str(RESULTS / "centaur_ablation.db"))
    p.add_argument("--out", default=str(RESULTS / "centaur_ablation.md"))
    p.add_argument("--progress", action="store_true")
    p.add_argument("--report-only", action="store_true", help="write the report from the storage without running")
    p.add_argument("--note", action="append", default=[], help="a line for the report's set-up (repeatable)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    objectives = objectives_of(args)
    args.cores = [c for c in args.cores.split(",") if c]
    args.clients = [c for c in args.clients.split(",") if c]
    for name, given, known in (("--cores", args.cores, CORES), ("--clients", args.clients, KNOWN_CLIENTS)):
        if not given or set(given) - set(known):
            raise SystemExit(f"{name}: {given} must be some of {', '.join(known)}")
    if not args.shares or any(not 0.0 < s <= 1.0 for s in args.shares):
        raise SystemExit(f"--shares: {args.shares} must be shares in (0, 1], e.g. 0.1,0.3")
    if not args.warmup < args.short_evals <= args.n_evals:
        raise SystemExit("--warmup < --short-evals <= --n-evals: the LLM needs trials after the warm-up")
    start = time.perf_counter()
    # this command's methods and seeds only, whatever else the storage holds
    studies = [s.study_name for s in planned(args, objectives)] if args.report_only else run_all(args, objectives)
    store = B.open_results(storage_url(args.storage))  # one read of the storage for the whole report
    try:
        df = B.load_results(store, studies=studies)
        df, no_optimum = with_regret(df)
        answers = llm_answers(store, df) if any(c.startswith("local") for c in args.clients) else {}
        contexts = B.study_contexts(store)
    finally:
        store.close()
    write(args, df, answers, contexts, time.perf_counter() - start, no_optimum)


if __name__ == "__main__":
    main()
