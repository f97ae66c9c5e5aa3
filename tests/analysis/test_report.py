"""Plots, fANOVA importance, the report and the `hpolab compare` / `hpolab report` commands."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from hpolab import benchmark as B
from hpolab.analysis import plots
from hpolab.analysis.importance import fanova_importance, importance_by_objective
from hpolab.analysis.report import write_report
from hpolab.trial import Trial, TrialRecord, TrialResult


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    db = tmp_path_factory.mktemp("bench") / "results.db"
    df = B.run(["random", "grid"], ["toy/branin", "toy/quad2d"], 3, n_trials=8, storage=db, random_pool=30)
    return df, db


def _png_ok(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_fanova_finds_the_dominant_parameter() -> None:
    rng = np.random.default_rng(0)
    pairs = []
    for _ in range(150):
        x, y = float(rng.uniform()), float(rng.uniform())
        c = str(rng.choice(["a", "b"]))
        pairs.append(({"x": x, "y": y, "c": c}, 10 * x + 0.1 * y + (0.0 if c == "a" else 0.5)))
    imp = fanova_importance(pairs, {"x": (0.0, 1.0), "y": (0.0, 1.0), "c": ["a", "b"]})
    assert next(iter(imp)) == "x" and imp["x"] > 0.9
    assert imp["c"] > imp["y"]
    assert sum(imp.values()) == pytest.approx(1.0)
    # trial records work too; failed ones are skipped
    recs = [TrialRecord(Trial(i, cfg), TrialResult(v)) for i, (cfg, v) in enumerate(pairs[:40])]
    recs.append(TrialRecord(Trial(99, pairs[0][0]), TrialResult.fail("boom")))
    assert next(iter(fanova_importance(recs, {"x": (0.0, 1.0), "y": (0.0, 1.0), "c": ["a", "b"]}))) == "x"
    with pytest.raises(ValueError, match="at least 2"):
        fanova_importance(recs[:1], {"x": (0.0, 1.0), "y": (0.0, 1.0), "c": ["a", "b"]})


def test_importance_by_objective(results: tuple[pd.DataFrame, Path]) -> None:
    df, _ = results
    imp = importance_by_objective(df, optimizers=["random-pool"])
    assert set(imp["objective"]) == {"toy/branin", "toy/quad2d"}
    assert set(imp["param"]) == {"x1", "x2"}
    assert np.allclose(imp.groupby("objective")["normalized"].sum(), 1.0)
    assert (imp.groupby("objective")["importance"].sum() <= 1.0 + 1e-9).all()  # raw shares: at most 1
    assert (imp["n_trials"] == 30).all()


def test_plots_write_pngs(results: tuple[pd.DataFrame, Path], tmp_path: Path) -> None:
    df, _ = results
    for fn, kwargs in [
        (plots.plot_regret, {}),
        (plots.plot_regret_per_task, {}),
        (plots.plot_rank, {}),
        (plots.plot_task_bars, {"n_trials": 5, "random_losses": {"toy/branin": 3.0}}),
        (plots.plot_budget, {}),
    ]:
        out = fn(df, tmp_path / f"{fn.__name__}.png", **kwargs)
        _png_ok(out)
    imp = importance_by_objective(df)
    _png_ok(plots.plot_importance(imp, tmp_path / "imp.png"))
    colors = plots.optimizer_colors(["tpe", "random", "llm"])
    assert colors["random"] != colors["tpe"] and colors["llm"] != colors["tpe"]


def test_report_is_complete_and_self_contained(results: tuple[pd.DataFrame, Path], tmp_path: Path) -> None:
    df, db = results
    rep = write_report(
        df,
        tmp_path / "rep",
        command="hpolab compare --suite test",
        n_trials=5,
        sections=("table1", "importance", "rmse", "budget"),
        contexts=B.study_contexts(db),
    )
    md = rep.markdown.read_text()
    for text in (
        "hpolab compare --suite test",
        "Table 1",
        "beats random",
        "mean rank",
        "python",
        "optuna",
        "seeds: 0, 1, 2",
        "fANOVA",
        "Budget accounting",
        "cpu_count",
    ):
        assert text in md, text
    for img in rep.images:
        assert img.exists() and f"]({img.name})" in md
    html = rep.html.read_text()
    assert html.count("data:image/png;base64,") == len(rep.images) >= 5
    first = html.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(first)[:4] == b"\x89PNG"
    assert "<img" in html and 'src="regret.png"' not in html
    t1 = rep.tables["table1"]
    assert set(t1.index) == {"random", "grid"}
    # RMSE is skipped with a reason: the toy values are not accuracies
    assert "not accuracies" in md


def test_cli_compare_and_report(tmp_path: Path) -> None:
    from hpolab.cli._bench import compare, report

    runner = CliRunner()
    out = tmp_path / "cmp"
    res = runner.invoke(
        compare,
        [
            "--suite",
            "quick",
            "--optimizers",
            "random,grid",
            "--objectives",
            "toy/branin",
            "--objectives",
            "toy/quad2d",
            "--seeds",
            "2",
            "--max-evaluations",
            "5",
            "--random-pool",
            "20",
            "-o",
            str(out),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "beats random" in res.output and "grid" in res.output
    for name in ("results.log", "report.md", "report.html", "regret.png", "rank.png", "tasks.png"):
        assert (out / name).exists(), name
    assert (
        "hpolab compare --suite quick" in (out / "report.md").read_text()
        or "compare" in (out / "report.md").read_text()
    )
    res2 = runner.invoke(
        report,
        [str(out / "results.log"), "-o", str(tmp_path / "rep2"), "--evaluations", "5", "--note", "made in 9 s"],
    )
    assert res2.exit_code == 0, res2.output
    assert (tmp_path / "rep2" / "report.html").exists()
    assert "- made in 9 s\n" in (tmp_path / "rep2" / "report.md").read_text()
    bad = runner.invoke(compare, ["--suite", "nope", "-o", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "quick" in bad.output


def test_cli_old_budget_flags_are_gone(tmp_path: Path, results: tuple[pd.DataFrame, Path]) -> None:
    """The hidden `--budget` of `compare` and `report` is removed; `report --evaluations` is the spelling."""
    from hpolab.cli._bench import compare, report

    _, db = results
    runner = CliRunner()
    old = runner.invoke(compare, ["--suite", "quick", "--budget", "5", "-o", str(tmp_path / "x")])
    assert old.exit_code == 2 and "No such option" in old.output and "--budget" in old.output
    assert not (tmp_path / "x").exists()
    old = runner.invoke(report, [str(db), "-o", str(tmp_path / "rep"), "--budget", "5", "--sections", "table1"])
    assert old.exit_code == 2 and "No such option" in old.output and "--budget" in old.output
    res = runner.invoke(report, [str(db), "-o", str(tmp_path / "rep"), "--evaluations", "5", "--sections", "table1"])
    assert res.exit_code == 0, res.output
    assert "Table 1: 2 tasks, 5 evaluations" in (tmp_path / "rep" / "report.md").read_text()
    bad = runner.invoke(report, [str(db), "-o", str(tmp_path / "rep"), "--sections", "table1,nope"])
    assert bad.exit_code == 2 and "'nope'" in bad.output and "rmse" in bad.output


def test_write_report_sections_are_listed_and_checked(results: tuple[pd.DataFrame, Path], tmp_path: Path) -> None:
    from hpolab.analysis import report as R

    assert {"table1", "rmse", "importance", "budget", "llm"} <= set(R.OPTIONAL_SECTIONS)
    assert all(callable(s) for s in R.SECTIONS)
    with pytest.raises(ValueError, match="nope"):
        R.write_report(results[0], tmp_path / "r", sections=("nope",))


def test_a_new_section_is_one_line(
    results: tuple[pd.DataFrame, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The module docstring's recipe: a function plus its place in SECTIONS."""
    from hpolab.analysis import report as R

    def section_hello(ctx: R.ReportContext) -> None:
        ctx.doc.h(2, "Hello")
        ctx.doc.p(f"{len(ctx.optimizers)} optimizers")

    monkeypatch.setattr(R, "SECTIONS", [*R.SECTIONS[:3], section_hello, *R.SECTIONS[3:]])
    md = R.write_report(results[0], tmp_path / "r", sections=()).markdown.read_text()
    assert "## Hello\n\n2 optimizers" in md
    assert md.index("Machine and versions") < md.index("## Hello") < md.index("Best value per task")


def test_a_section_from_elsewhere_plugs_in_through_extra_sections(
    results: tuple[pd.DataFrame, Path], tmp_path: Path
) -> None:
    """``extra_sections`` run after the built-in ones, in both report.md and report.html, and SECTIONS stays as is."""
    from hpolab.analysis import report as R

    before = list(R.SECTIONS)

    def section_hello(ctx: R.ReportContext) -> None:
        ctx.doc.h(2, "Hello from elsewhere")

    rep = R.write_report(results[0], tmp_path / "r", sections=("table1",), extra_sections=[section_hello])
    md, page = rep.markdown.read_text(), rep.html.read_text()
    assert md.index("Best value per task") < md.index("## Hello from elsewhere")
    assert page.count("Hello from elsewhere") == 1 and page.count("<body>") == 1
    assert before == R.SECTIONS and section_hello not in R.SECTIONS


def test_an_optional_section_from_elsewhere_runs_when_sections_names_it(
    results: tuple[pd.DataFrame, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``@optional_section("x")`` on an extra section: ``sections=("x",)`` switches it on, and only with it."""
    from hpolab.analysis import report as R

    @R.optional_section("hello")
    def section_hello(ctx: R.ReportContext) -> None:
        ctx.doc.h(2, "Hello when asked")

    monkeypatch.setattr(R, "SECTIONS", [R.section_title])  # the built-in sections are not under test here
    df = results[0]
    off = R.write_report(df, tmp_path / "off", sections=(), extra_sections=[section_hello]).markdown.read_text()
    on = R.write_report(df, tmp_path / "on", sections=("hello",), extra_sections=[section_hello]).markdown.read_text()
    assert "Hello when asked" not in off and "## Hello when asked" in on
    with pytest.raises(ValueError, match="'hello'"):
        R.write_report(df, tmp_path / "none", sections=("hello",))


def test_llm_answers_section(results: tuple[pd.DataFrame, Path], tmp_path: Path) -> None:
    df = results[0].copy()
    grid = df["optimizer"] == "grid"
    outcomes = np.where(np.arange(len(df)) % 4 == 0, "repaired", "valid")
    df["llm_outcome"] = np.where(grid, outcomes, None)
    df["llm_calls"] = np.where(grid, 1.0, np.nan)
    md = write_report(df, tmp_path / "r", sections=("llm",)).markdown.read_text()
    section = md[md.index("## LLM answers") :]
    row = next(line for line in section.splitlines() if line.startswith("| `grid`"))
    n = int(grid.sum())
    repaired = int((grid & (outcomes == "repaired")).sum())
    assert f"| {n} | {100 * (n - repaired) / n:.2f}% | {100 * repaired / n:.2f}% | 0.00% | 0.00% | 1 [1, 1] |" in row
    assert "| `random`" not in section.split("##")[1]  # no LLM trials, no row
    # without LLM trials, or without asking for it, there is no such section
    assert "LLM answers" not in write_report(results[0], tmp_path / "r2", sections=("llm",)).markdown.read_text()
    assert "LLM answers" not in write_report(df, tmp_path / "r3", sections=()).markdown.read_text()


def test_budget_and_options_are_per_objective_when_they_differ(tmp_path: Path) -> None:
    """Two objectives, one optimizer label with other options on each: neither is averaged together."""
    db = tmp_path / "results.db"
    spec = {"name": "asha", "min_budget": 1, "max_budget": 4, "eta": 2}
    B.run({"asha": spec}, ["toy/branin-mf"], 1, n_trials=6, storage=db)
    B.run({"asha": {**spec, "max_budget": 8}}, ["toy/branin-mf"], [1], n_trials=6, storage=db)
    df = B.load_results(db)
    contexts = B.study_contexts(db)
    md = write_report(df, tmp_path / "r", sections=("budget",), contexts=contexts).markdown.read_text()
    assert "| objective | optimizer | trials per run |" not in md  # one objective: no objective column
    assert "`asha` options on " not in md or md.count("`asha` options") == 2
    df2 = df.copy()
    df2.loc[df2["seed"] == 1, "objective"] = "toy/branin-mf-b"
    for c in contexts:
        if c.get("seed") == 1 or str(c.get("study", "")).endswith("|1"):
            c["objective"] = "toy/branin-mf-b"
    md2 = write_report(
        df2, tmp_path / "r2", sections=("budget",), contexts=contexts, n_trials=None
    ).markdown.read_text()
    assert "| objective | optimizer | trials per run |" in md2
    assert "| `toy/branin-mf` | `asha` |" in md2 and "| `toy/branin-mf-b` | `asha` |" in md2
    assert "`asha` options on `toy/branin-mf`: " in md2 and "`asha` options on `toy/branin-mf-b`: " in md2
    assert "Table 1 budget" not in md2  # no Table 1 budget given: no line about one


# ------------------------------------------------------------------ intervals in every table
#: An interval cell: "estimate[%] [low, high]" (the estimate's unit is the interval's).
_INTERVAL = re.compile(
    r"^(?P<est>-?[\d.]+(?:e[-+]?\d+)?)%? \[(?P<lo>-?[\d.]+(?:e[-+]?\d+)?), (?P<hi>-?[\d.]+(?:e[-+]?\d+)?)\]"
)
#: A bare interval (the RMSE table's "95% CI" column, whose estimate is the RMSE column).
_BARE = re.compile(r"^\[(?P<lo>-?[\d.]+(?:e[-+]?\d+)?), (?P<hi>-?[\d.]+(?:e[-+]?\d+)?)\]$")
_INF = float("inf")


def _md_tables(md: str) -> list[tuple[list[str], list[list[str]]]]:
    tables, lines = [], md.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("| ") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            header = [c.strip() for c in lines[i].strip("|").split(" | ")]
            rows, i = [], i + 2
            while i < len(lines) and lines[i].startswith("| "):
                rows.append([c.strip() for c in lines[i].strip().strip("|").split(" | ")])
                i += 1
            tables.append((header, rows))
        else:
            i += 1
    return tables


def _range(column: str, first: str, table_rows: int, spans: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """The possible range of a column's metric (a column the test does not know fails it)."""
    c = column.lower()
    if "rank" in c:
        return (1.0, float(table_rows))
    for words, rng in [
        (("beats random",), (0.0, 100.0)),
        (("change",), (-_INF, 100.0)),
        (("p(improvement",), (0.0, 1.0)),
        (("normalized regret",), (0.0, 1.0)),
        (("accuracy",), (0.0, 100.0)),
        (("best error", "rmse", "95% ci"), (0.0, 1.0)),
        (
            (
                "run time",
                "wall time",
                "reported runtime (s)",
                "tokens",
                "latency",
                "llm cost",
                "model calls",
                "trials per run",
                "budget spent",
                "full evaluations",
            ),
            (0.0, _INF),
        ),
    ]:
        if any(w in c for w in words):
            return rng
    objective = first.split("`")[1] if first.count("`") >= 2 else ""
    if objective in spans:  # a value in the objective's own units: within what the objective returned
        return spans[objective]
    raise AssertionError(f"an interval in column {column!r} (row {first!r}) whose range the test does not know")


def _check_intervals(md: str, spans: dict[str, tuple[float, float]]) -> int:
    checked = 0
    for header, rows in _md_tables(md):
        for row in rows:
            for j, cell in enumerate(row):
                m = _INTERVAL.match(cell)
                bare = _BARE.match(cell)
                if m is None and bare is None:
                    continue
                lo, hi = float((m or bare)["lo"]), float((m or bare)["hi"])  # type: ignore[index]
                est = float(m["est"]) if m else float(row[header.index("RMSE")])
                low_ok, high_ok = _range(header[j], row[0], len(rows), spans)
                where = f"{header[j]!r}, row {row[0]!r}: {cell!r} outside [{low_ok}, {high_ok}]"
                tol = 5e-3 * max(1.0, abs(est))  # 3 significant digits
                assert low_ok - tol <= lo <= est + tol and est - tol <= hi <= high_ok + tol, where
                checked += 1
    return checked


def test_no_interval_outside_its_metrics_range_at_two_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 2-seed run: every interval in every table of the report (the quick suite's and the papers') is in range."""
    from hpolab.analysis import report as R
    from hpolab.benchmark import SUITES, write_suite_report

    # the PNGs of section_plots hold no table; leaving them out keeps the test quick
    monkeypatch.setattr(R, "SECTIONS", [s for s in R.SECTIONS if s is not R.section_plots])
    db = tmp_path / "two.db"
    df = B.run(["random", "tpe"], ["toy/branin", "toy/quad2d", "toy/ackley"], 2, n_trials=5, storage=db, random_pool=20)
    toy = df
    # objectives valued in [0, 1] that the RMSE and the papers' sections read: errors made from Branin's values
    # (not in the quick suite's report, whose fANOVA would try to build them)
    unit = df[df["objective"] == "toy/branin"].assign(value=lambda d: d["value"] / (1.0 + d["value"]))
    df = pd.concat(
        [
            df,
            unit.assign(objective="ml/svm/unit"),
            unit.assign(objective="cnn/unit-4block"),
        ],
        ignore_index=True,
    )
    methods = df["optimizer"] != B.POOL_LABEL
    df["llm_outcome"] = np.where(methods & (df["optimizer"] == "tpe"), "valid", None)
    df["llm_calls"] = np.where(methods & (df["optimizer"] == "tpe"), 1.0 + (df["trial"] % 2), np.nan)
    df["llm_cost"] = np.where(methods & (df["optimizer"] == "tpe"), 0.001 * df["trial"], np.nan)
    spans = {str(o): (float(g["value"].min()), float(g["value"].max())) for o, g in df.groupby("objective")}
    contexts = B.study_contexts(db)
    checked = 0
    for name, data, sections in [
        ("quick", toy, SUITES["quick"].sections),
        ("seed003", df, ("table1",)),
        ("seed004", df, ("table1", "rmse", "budget", "llm")),
    ]:
        rep = write_suite_report(
            data, tmp_path / name, suite=SUITES[name], sections=sections, n_trials=5, contexts=contexts
        )
        md = rep.markdown.read_text()
        checked += _check_intervals(md, spans)
    assert checked >= 40
    # the report says what a run this small cannot conclude, from the tests' results
    assert "At 2 seeds on 5 tasks" in md and "Holm" in md


def test_report_has_the_aggregate_view_and_a_critical_difference_diagram(
    results: tuple[pd.DataFrame, Path], tmp_path: Path
) -> None:
    df, _ = results
    rep = write_report(df, tmp_path / "r", n_trials=5, sections=("table1",))
    md = rep.markdown.read_text()
    section = md[md.index("## Aggregate view") :]
    header = next(line for line in section.splitlines() if line.startswith("| method"))
    assert "IQM" in header and "P(improvement over random)" in header and "p (Holm)" in header
    assert "(α = 0.05, Holm)" in header  # noqa: RUF001
    agg = rep.tables["aggregate"]
    assert set(agg.index) == {"random", "grid"}
    # the sentence comes from the tests: it names the number of comparisons and agrees with p (Holm)
    from hpolab.analysis.report import conclusion

    sentence = conclusion(agg, 3, 2)
    assert sentence in md and "Holm-corrected over 1 comparison(s)" in sentence
    if agg.loc["grid", "p_holm"] > 0.05:
        assert "no method differs from random search" in sentence
    cd = tmp_path / "r" / "critical_difference.png"
    _png_ok(cd)
    assert "](critical_difference.png)" in md
    assert "Nemenyi" in md and "critical difference" in md.lower()
    assert rep.html.read_text().count("data:image/png;base64,") == len(rep.images)


def test_conclusion_names_what_differs() -> None:
    from hpolab.analysis.report import conclusion

    agg = pd.DataFrame(
        {"p_holm": [0.01, 0.5, 0.02, np.nan], "p_improve": [0.9, 0.6, 0.2, 0.5], "test_n": [20, 20, 20, 0]},
        index=["a", "b", "c", "random"],
    )
    text = conclusion(agg, 10, 8)
    assert text.startswith("At 10 seeds on 8 tasks") and "`a` better than random search" in text
    assert "`c` worse" in text and "`b` does not differ" in text and "3 comparison(s)" in text
    small = conclusion(agg.assign(p_holm=[1.0, 1.0, 1.0, np.nan], test_n=[3, 3, 3, 0]), 1, 3)
    assert "no method differs from random search at α = 0.05" in small and "too small" in small  # noqa: RUF001


def test_table1_table_marks_a_single_seed_method_and_appends_extra_columns(tmp_path: Path) -> None:
    from hpolab.analysis.report import Document, table1_table

    t1 = pd.DataFrame({"n_tasks": [4, 4, 4], "median_change": [12.0, 5.0, 0.0]}, index=["a", "b", "random"])
    for col, value in {
        "beats_random": [50.0, 10.0, np.nan],
        "mean_change": [12.0, 5.0, 0.0],
        "mean_rank": [1.5, 2.0, 2.5],
    }.items():
        t1[col] = value
        t1[f"{col}_low"] = [1.0, 1.0, np.nan]
        t1[f"{col}_high"] = [2.0, 2.0, np.nan]
    doc = Document()
    table1_table(doc, t1, seeds={"a": 10, "b": 1}, extra={"mean regret": {"a": "0.01"}})
    text = doc.markdown(tmp_path)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    assert "| mean regret |" in text
    assert "[1, 2]" in rows["`a`"] and rows["`a`"].rstrip(" |").endswith("0.01")
    assert "[1 seed]" in rows["`b`"] and "[1, 2]" not in rows["`b`"] and rows["`b`"].rstrip().endswith("| - |")
    assert "[1 seed]" not in rows["`random` (exact)"]


def test_the_report_names_the_machine_the_runs_were_made_on(results: tuple[pd.DataFrame, Path], tmp_path: Path) -> None:
    df, db = results
    contexts = B.study_contexts(db)
    assert all(c["machine"]["cpu_count"] and c["machine"]["hpolab"] for c in contexts)
    md = write_report(df, tmp_path / "r", contexts=contexts).markdown.read_text()
    section = md[md.index("### Machine and versions") :]
    assert "The runs were made on:" in section and f"machine 1 ({len(contexts)} runs)" in section
    assert "This report was written on:" in section and "do not record their machine" not in section
    # runs from before the machine was recorded: the report says its table is the writer's machine
    old = [{k: v for k, v in c.items() if k != "machine"} for c in contexts]
    md = write_report(df, tmp_path / "o", contexts=old).markdown.read_text()
    assert f"{len(old)} run(s) do not record their machine" in md and "The runs were made on:" not in md


def test_each_run_records_which_hpolab_code_made_it(results: tuple[pd.DataFrame, Path], tmp_path: Path) -> None:
    """A run's machine names hpolab's code by a digest of its files; a method pooling two codes is named."""
    df, db = results
    contexts = B.study_contexts(db)
    digests = {c["machine"]["hpolab-source"] for c in contexts}
    assert len(digests) == 1 and all(len(d) == 12 and int(d, 16) >= 0 for d in digests)
    md = write_report(df, tmp_path / "r", contexts=contexts).markdown.read_text()
    assert "made by different hpolab code" not in md and "| hpolab-source |" in md
    label = str(contexts[0]["optimizer"])
    edited = [
        {**c, "machine": {**c["machine"], "hpolab-source": "0" * 12}} if i == 0 else c for i, c in enumerate(contexts)
    ]
    md = write_report(df, tmp_path / "e", contexts=edited).markdown.read_text()
    assert (
        f"made by different hpolab code (`hpolab-source`, a digest of the package's files): `{label}`: 2 sources" in md
    )


def test_runs_record_the_llama_cpp_build_they_ran() -> None:
    """Where llama-cpp-python is installed a run records the CPU features of its llama.cpp build."""
    pytest.importorskip("llama_cpp")
    from hpolab._machine import llama_cpp_build
    from hpolab.benchmark._execute import _this_machine

    build = llama_cpp_build()["llama.cpp build"]
    assert "CPU" in build and "\n" not in build and "  " not in build
    assert _this_machine()["llama.cpp build"] == build


def test_the_source_digest_follows_the_python_files_only(tmp_path: Path) -> None:
    from hpolab._machine import source_digest

    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "sub").mkdir(parents=True)
        (root / "__init__.py").write_text("x = 1\n")
        (root / "sub" / "m.py").write_text("y = 2\n")
    assert source_digest(a) == source_digest(b)
    (b / "notes.txt").write_text("not code")
    assert source_digest(a) == source_digest(b)
    (b / "sub" / "m.py").write_text("y = 3\n")
    assert source_digest(a) != source_digest(b)
    (b / "sub" / "m.py").rename(b / "m.py")  # same contents under another path
    (b / "m.py").write_text("y = 2\n")
    assert source_digest(a) != source_digest(b)


def test_without_table1_the_per_task_table_gets_its_own_critical_difference(
    results: tuple[pd.DataFrame, Path], tmp_path: Path
) -> None:
    """A report without Table 1 (CARP-S's suites) ranks the best-per-task table; partial methods are named."""
    df, _ = results
    methods = df[df["optimizer"] != "random-pool"]
    rep = write_report(methods, tmp_path / "r", n_trials=None, sections=())
    md = rep.markdown.read_text()
    assert "## Best value per task\n" in md and "at the end of each run" in md
    ranks = rep.tables["critical_difference"]["mean_rank"]
    assert set(ranks.index) == {"random", "grid"}
    assert ranks.sum() == pytest.approx(3.0)  # two methods: ranks 1 and 2 on every task, averaged
    _png_ok(tmp_path / "r" / "critical_difference.png")
    # a method that ran on one task only is left out of the ranks, and the report says so
    partial = pd.concat([methods, methods[methods["optimizer"] == "grid"].assign(optimizer="grid-half")])
    partial = partial[~((partial["optimizer"] == "grid-half") & (partial["objective"] == "toy/quad2d"))]
    rep = write_report(partial, tmp_path / "p", n_trials=4, sections=())
    md = rep.markdown.read_text()
    assert set(rep.tables["critical_difference"].index) == {"random", "grid"}
    assert "Left out, as they did not run on every task: `grid-half`." in md and "after 4 evaluations" in md
    assert "random pool: the trials of the `random` runs" in md
    # without random search the set-up names no random pool
    rep = write_report(methods[methods["optimizer"] == "grid"], tmp_path / "g", n_trials=None, sections=())
    assert "random pool" not in rep.markdown.read_text()
    # one task: nothing to rank, no diagram and no message
    rep = write_report(methods[methods["objective"] == "toy/branin"], tmp_path / "one", n_trials=None, sections=())
    assert "critical_difference" not in rep.tables
    assert "critical-difference" not in rep.markdown.read_text().lower()


def test_report_evaluations_accepts_all_and_names_a_bad_value(
    results: tuple[pd.DataFrame, Path], tmp_path: Path
) -> None:
    from hpolab.benchmark import SUITES
    from hpolab.cli._bench import _report_n_trials, report

    _, db = results
    runner = CliRunner()
    res = runner.invoke(report, [str(db), "-o", str(tmp_path / "rep"), "--evaluations", "all", "--sections", ""])
    assert res.exit_code == 0, res.output
    assert "## Best value per task\n" in (tmp_path / "rep" / "report.md").read_text()
    for bad in ("0", "ten"):
        res = runner.invoke(report, [str(db), "-o", str(tmp_path / "rep"), "--evaluations", bad])
        assert res.exit_code == 2 and repr(bad) in res.output and "'all'" in res.output
    # CARP-S's suites have a budget per task: compare's report takes every run at its end
    assert _report_n_trials(SUITES["carps-bb-offline"]) is None
    assert _report_n_trials(SUITES["quick"]) == min(SUITES["quick"].table1_n_trials, SUITES["quick"].n_trials)
