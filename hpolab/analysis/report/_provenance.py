"""The report's opening sections: what produced it (title, commands, set-up) and where (machine, versions)."""

from __future__ import annotations

import datetime as _dt

from hpolab._machine import machine_info, package_versions, source_info
from hpolab._table import POOL_LABEL
from hpolab.analysis.report._section import ReportContext

__all__ = ["machine_info", "package_versions", "section_machine", "section_setup", "section_title"]


def section_title(ctx: ReportContext) -> None:
    """Title, description, date and the commands that produced the report and the runs."""
    doc = ctx.doc
    doc.h(1, ctx.title)
    if ctx.description:
        doc.p(ctx.description)
    doc.p(
        f"Written {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by `hpolab` "
        f"{package_versions(('hpolab',)).get('hpolab', '?')}."
    )
    if ctx.command:
        doc.p("Produced by:")
        doc.code(ctx.command)
    run_commands = sorted(
        {str(c.get("context", {}).get("command")) for c in ctx.contexts if c.get("context", {}).get("command")}
    )
    if run_commands and run_commands != [ctx.command]:
        doc.p("The runs were made by:")
        doc.code("\n".join(run_commands))


def section_setup(ctx: ReportContext) -> None:
    """Set-up: optimizers, objectives, seeds, trials per run, the random baseline, options, LLM models."""
    df, contexts = ctx.df, ctx.contexts
    per_run = ctx.methods_df.groupby(["optimizer", "objective", "seed"]).size()
    setup = [
        f"optimizers: {', '.join(f'`{o}`' for o in ctx.optimizers)}",
        f"objectives ({len(ctx.objectives)}): {', '.join(f'`{o}`' for o in ctx.objectives)}",
        f"seeds: {', '.join(map(str, ctx.seeds))} ({len(ctx.seeds)} per optimizer and objective)",
        f"trials per run: {int(per_run.min())}-{int(per_run.max())}" if len(per_run) else "trials per run: -",
    ]
    if ctx.n_trials is not None:
        setup.append(
            f"Table 1 budget: {ctx.n_trials} evaluations; random search's loss at that budget is the exact expected "
            f"best of {ctx.n_trials} distinct configurations of its pool of random configurations (`expected_best_of`, "
            "unbiased; a bootstrap with replacement makes random search look worse on a small pool)"
        )
    setup.append(
        f"intervals: 95% percentile bootstrap over seeds stratified by task ({ctx.n_bootstrap} replicates for "
        f"Table 1, seed {ctx.seed}); each lies inside its metric's range"
    )
    pool_sizes = df[df["optimizer"] == POOL_LABEL].groupby("objective").size()
    if len(pool_sizes):
        lo, hi = int(pool_sizes.min()), int(pool_sizes.max())
        sizes = str(hi) if lo == hi else f"{lo}-{hi} (by objective)"
        setup.append(f"random pool: {sizes} random configurations per objective (run `{POOL_LABEL}`)")
    elif "random" in set(df["optimizer"]):
        setup.append("random pool: the trials of the `random` runs, pooled over seeds")
    # one line per label and distinct options; a label run with other options on some objectives (a suite's
    # part) names the objectives of each
    opt_kwargs: dict[str, dict[str, set[str]]] = {}
    for c in contexts:
        if c.get("optimizer_kwargs"):
            kws = opt_kwargs.setdefault(str(c.get("optimizer")), {})
            kws.setdefault(str(c.get("optimizer_kwargs")), set()).add(str(c.get("objective")))
    for label, kws in sorted(opt_kwargs.items()):
        for kw, objectives in sorted(kws.items()):
            where = "" if len(kws) == 1 else " on " + ", ".join(f"`{o}`" for o in sorted(objectives))
            setup.append(f"`{label}` options{where}: `{kw}`")
    llm_models = sorted(
        {
            str((c.get("optimizer_meta") or {}).get("params", {}).get("model"))
            for c in contexts
            if (c.get("optimizer_meta") or {}).get("params", {}).get("model")
        }
    )
    if llm_models:
        setup.append(f"LLM model(s): {', '.join(f'`{m}`' for m in llm_models)}")
    setup += list(ctx.notes)
    ctx.doc.h(2, "Set-up")
    ctx.doc.bullets(setup)


def section_machine(ctx: ReportContext) -> None:
    """The machines the runs were made on (from their bookkeeping), then the machine and versions of the report."""
    doc = ctx.doc
    doc.h(3, "Machine and versions")
    recorded: dict[tuple[tuple[str, str], ...], int] = {}
    unrecorded = 0
    for c in ctx.contexts:
        machine = c.get("machine")
        if isinstance(machine, dict) and machine:
            key = tuple(sorted((str(k), str(v)) for k, v in machine.items()))
            recorded[key] = recorded.get(key, 0) + 1
        elif c.get("optimizer"):
            unrecorded += 1
    if recorded:
        keys = sorted({k for m in recorded for k, _ in m})
        machines = sorted(recorded.items(), key=lambda kv: -kv[1])
        doc.p("The runs were made on:")
        doc.table(
            ["", *(f"machine {i + 1} ({n} run{'s' if n != 1 else ''})" for i, (_, n) in enumerate(machines))],
            [[k, *(dict(m).get(k, "-") for m, _ in machines)] for k in keys],
        )
    sources: dict[str, set[str]] = {}
    for c in ctx.contexts:
        machine = c.get("machine")
        if isinstance(machine, dict) and machine.get("hpolab-source") and c.get("optimizer"):
            sources.setdefault(str(c["optimizer"]), set()).add(str(machine["hpolab-source"]))
    mixed = {label: found for label, found in sorted(sources.items()) if len(found) > 1}
    if mixed:
        doc.p(
            "Runs of one method made by different hpolab code (`hpolab-source`, a digest of the package's "
            "files): "
            + "; ".join(f"`{label}`: {len(found)} sources" for label, found in mixed.items())
            + ". Their rows pool runs of code that may behave differently; the runs name which code made each."
        )
    if unrecorded:
        doc.p(
            f"{unrecorded} run(s) do not record their machine (made before hpolab recorded it); the tables "
            "below are the machine and versions that wrote this report, not necessarily those of the runs."
        )
    elif recorded:
        doc.p("This report was written on:")
    doc.table(["machine", ""], [[k, v] for k, v in machine_info().items()])
    doc.table(["package", "version"], [[k, v] for k, v in {**package_versions(), **source_info()}.items()])
