"""CARP-S both ways: hpolab optimizers inside ``carps.run``, CARP-S tasks in hpolab studies (all offline)."""

from __future__ import annotations

import json
import math
import os
import pickle
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("carps", reason='CARP-S is not installed (pip install "hpolab[carps]")')
ioh = pytest.importorskip("ioh", reason="ioh (CARP-S's BBOB tasks) is not installed")

import ConfigSpace as CS  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from carps.objective_functions.objective_function import ObjectiveFunction  # noqa: E402
from carps.utils.task import (  # noqa: E402
    FidelitySpace,
    InputSpace,
    OptimizationResources,
    OutputSpace,
    Task,
    TaskMetadata,
)
from carps.utils.trials import StatusType, TrialValue  # noqa: E402

import hpolab  # noqa: E402
from hpolab.integrations.carps import SEARCH_PATH, CARPSObjective, HpolabOptimizer  # noqa: E402
from hpolab.registry import UnknownNameError, list_optimizers, make_objective  # noqa: E402
from hpolab.trial import TrialState  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BBOB = "bbob/2/1/0"  # the sphere in 2-D, instance 0


def _start_carps(cwd: Path, outdir: Path, *overrides: str) -> subprocess.Popen[str]:
    """Start ``python -m carps.run`` with hpolab's search path, writing its run into ``outdir``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    cmd = [
        sys.executable,
        "-m",
        "carps.run",
        *overrides,
        f"hydra.searchpath=[{SEARCH_PATH}]",
        f"outdir={outdir}",
    ]
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


#: The ``carps.run`` calls of this module, by name: their overrides.
CARPS_RUNS: dict[str, tuple[str, ...]] = {
    "tpe": ("+optimizer/hpolab=tpe", "+task/BBOB=cfg_2_1_0", "task.optimization_resources.n_trials=10", "seed=3"),
    "asha": ("+optimizer/hpolab=asha", "+task/DUMMY=multifidelity"),
    "randomsearch": (
        "+optimizer/randomsearch=config",
        "+task/BBOB=cfg_2_1_0",
        "task.optimization_resources.n_trials=5",
        "seed=0",
    ),
}


@pytest.fixture(scope="module")
def carps_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The run directories of :data:`CARPS_RUNS`, started together (each is a process of its own)."""
    root = tmp_path_factory.mktemp("carps-runs")
    procs = {
        name: (root / name / "run", _start_carps(root / name, root / name / "run", *o))
        for name, o in CARPS_RUNS.items()
    }
    failed = []
    for name, (_, proc) in procs.items():
        try:
            out, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        if proc.returncode != 0:
            failed.append(f"carps.run {name} exited with {proc.returncode}: {out[-3000:]}{err[-3000:]}")
    assert not failed, "\n".join(failed)
    return {name: outdir for name, (outdir, _) in procs.items()}


def _trial_logs(outdir: Path) -> list[dict]:
    return [json.loads(line) for line in (outdir / "trial_logs.jsonl").read_text().splitlines()]


# ---------------------------------------------------------------------- hpolab inside CARP-S
def test_tpe_runs_inside_carps_run_on_bbob_and_matches_an_hpolab_study(carps_runs: dict[str, Path]) -> None:
    outdir = carps_runs["tpe"]
    logs = _trial_logs(outdir)
    assert len(logs) == 10
    assert [log["trial_info"]["name"] for log in logs] == [str(i) for i in range(10)]  # hpolab's trial ids
    config = yaml.safe_load((outdir / ".hydra" / "config.yaml").read_text())
    assert config["optimizer_id"] == "hpolab-tpe"
    assert config["optimizer"]["optimizer_name"] == "tpe"
    # The same seed in an hpolab study on the same CARP-S task proposes the same ten configurations.
    study = hpolab.create_study(f"carps/{BBOB}", "tpe", seed=3)
    study.optimize(n_trials=10)
    ours = [v for t in study.trials for v in (t.config["x0"], t.config["x1"])]
    theirs = [v for log in logs for v in log["trial_info"]["config"]]
    assert theirs == pytest.approx(ours, abs=1e-9)
    assert [log["trial_value"]["cost"] for log in logs] == pytest.approx([t.value for t in study.trials])


def test_asha_runs_inside_carps_run_with_budgets(carps_runs: dict[str, Path]) -> None:
    budgets = [log["trial_info"]["budget"] for log in _trial_logs(carps_runs["asha"])]
    assert set(budgets) == {1.0, 10.0}  # ASHA's rungs for fidelity 1..10, eta 4
    assert budgets.count(1.0) > budgets.count(10.0)


class _Quadratic(ObjectiveFunction):
    """(x - 0.3)^2 + 1 / budget, recording the budgets it is run at."""

    def __init__(self, fail_above: float | None = None) -> None:
        super().__init__()
        self._cs = CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
        self.budgets: list[float | None] = []
        self.fail_above = fail_above

    @property
    def configspace(self) -> CS.ConfigurationSpace:
        return self._cs

    def _evaluate(self, trial_info):  # type: ignore[no-untyped-def]
        budget = trial_info.budget
        self.budgets.append(budget)
        x = trial_info.config["x"]
        if self.fail_above is not None and x > self.fail_above:
            return TrialValue(cost=math.inf, status=StatusType.CRASHED)
        return TrialValue(cost=(x - 0.3) ** 2 + (1.0 / budget if budget else 0.0), virtual_time=2.5)


def _task(objective_function: ObjectiveFunction, *, multifidelity: bool, n_trials: int) -> Task:
    fidelity = FidelitySpace(True, "epochs", 1, 16) if multifidelity else FidelitySpace()
    return Task(
        name="test/quadratic",
        objective_function=objective_function,
        input_space=InputSpace(objective_function.configspace, fidelity),
        output_space=OutputSpace(),
        optimization_resources=OptimizationResources(n_trials=n_trials),
        metadata=TaskMetadata(domain="synthetic"),
        seed=0,
    )


def test_multi_fidelity_budgets_go_both_ways() -> None:
    fn = _Quadratic()
    optimizer = HpolabOptimizer(_task(fn, multifidelity=True, n_trials=6), optimizer_name="asha", seed=0)
    inc_info, inc_value = optimizer.run()
    assert set(fn.budgets) == {1.0, 4.0, 16.0}  # the rungs of r=1, R=16, eta=4, from the task's fidelity
    history = optimizer.solver.history
    assert [r.budget for r in history] == fn.budgets  # every budget came back with its result
    assert all(r.value == pytest.approx((r.config["x"] - 0.3) ** 2 + 1 / r.budget) for r in history)
    assert inc_info.budget == 16.0  # the incumbent is judged at the highest budget reached
    top = [r.value for r in history if r.budget == 16.0]
    assert inc_value.cost == pytest.approx(min(top))
    assert history[0].result.runtime == 2.5  # the virtual time is the trial's runtime


def test_single_fidelity_optimizer_runs_at_max_fidelity() -> None:
    fn = _Quadratic()
    optimizer = HpolabOptimizer(_task(fn, multifidelity=True, n_trials=3), optimizer_name="random", seed=0)
    optimizer.run()
    assert fn.budgets == [16.0, 16.0, 16.0]


def test_scheduler_on_a_blackbox_task_says_what_to_use() -> None:
    optimizer = HpolabOptimizer(_task(_Quadratic(), multifidelity=False, n_trials=3), optimizer_name="asha", seed=0)
    with pytest.raises(ValueError, match=r"proposed budget .* not multi-fidelity"):
        optimizer.run()
    with pytest.raises(ValueError, match="expects_fidelities"):
        HpolabOptimizer(_task(_Quadratic(), multifidelity=False, n_trials=3), "asha", expects_fidelities=True)


def test_crashed_trials_fail_and_unknown_names_are_refused() -> None:
    fn = _Quadratic(fail_above=0.5)
    optimizer = HpolabOptimizer(_task(fn, multifidelity=False, n_trials=12), optimizer_name="random", seed=1)
    inc_info, inc_value = optimizer.run()
    states = {r.state for r in optimizer.solver.history}
    assert states == {TrialState.COMPLETE, TrialState.FAIL}
    assert inc_info.config["x"] <= 0.5 and math.isfinite(inc_value.cost)
    with pytest.raises(ValueError, match="'nope' is not a registered hpolab optimizer"):
        HpolabOptimizer(_task(_Quadratic(), multifidelity=False, n_trials=3), optimizer_name="nope")


def test_shipped_optimizer_configs_name_registered_optimizers() -> None:
    folder = resources.files("hpolab.integrations.carps.configs") / "optimizer" / "hpolab"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))
    assert {"tpe.yaml", "random.yaml", "smac-rf.yaml", "asha.yaml", "base.yaml"} <= set(names)
    base = yaml.safe_load((folder / "base.yaml").read_text())
    assert base["optimizer"]["_target_"] == "hpolab.integrations.carps.HpolabOptimizer"
    ids = set()
    for name in names:
        if name == "base.yaml":
            continue
        cfg = yaml.safe_load((folder / name).read_text())
        assert cfg["optimizer"]["optimizer_name"] == name[: -len(".yaml")]
        assert cfg["optimizer"]["optimizer_name"] in list_optimizers()
        ids.add(cfg["optimizer_id"])
    assert len(ids) == len(names) - 1  # one optimizer_id per config


# ---------------------------------------------------------------------- CARP-S tasks in hpolab
def test_ten_trials_of_a_carps_bbob_task_in_an_hpolab_study() -> None:
    study = hpolab.create_study(f"carps/{BBOB}", "tpe", seed=0)
    study.optimize(n_trials=10)
    assert len(study.trials) == 10 and all(t.state is TrialState.COMPLETE for t in study.trials)
    problem = ioh.get_problem(1, 0, 2)  # the same BBOB function, straight from ioh
    for t in study.trials:
        assert t.value == pytest.approx(problem([t.config["x0"], t.config["x1"]]))
    objective = study.objective
    assert objective.optimum == pytest.approx(problem.optimum.y)
    assert objective.regret(study.best_value) >= 0
    assert "Sphere" in objective.description and "2 hyperparameters" in objective.description
    assert objective.n_trials == 77  # CARP-S's budget for the task


def test_task_by_config_path_and_unknown_names() -> None:
    by_path = make_objective("carps/BBOB/cfg_2_1_0")
    assert by_path.name == f"carps/{BBOB}"
    subset = make_objective("carps/subselection/blackbox/test/subset_bbob_2_6_1")
    assert subset.name == "carps/bbob/2/6/1"
    with pytest.raises(UnknownNameError, match=r"bbob/2/1/0"):
        make_objective("carps/bbob/2/1/O")
    with pytest.raises(TypeError, match="seed="):
        make_objective(f"carps/{BBOB}", budget=3)
    assert f"carps/{BBOB}" in hpolab.list_objectives(["carps"])


def test_a_task_whose_benchmark_is_missing_says_what_to_install() -> None:
    try:
        import yahpo_gym  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("yahpo-gym is installed here, so the YAHPO task would build")
    with pytest.raises(
        RuntimeError, match=r"(?s)carps/yahpo/lcbench/167184/None: CARP-S cannot build .*yahpo_gym.*yahpo-gym"
    ):
        make_objective("carps/yahpo/lcbench/167184/None")


def test_carps_objective_pickles_for_worker_processes() -> None:
    objective = CARPSObjective(BBOB)
    config = {"x0": 1.5, "x1": -2.0}
    clone = pickle.loads(pickle.dumps(objective))
    assert clone.name == objective.name and clone.search_space == objective.search_space
    assert clone.evaluate(config).value == objective.evaluate(config).value


def test_multi_fidelity_carps_task_in_an_asha_study() -> None:
    objective = make_objective("carps/dummy-mf")
    assert objective.fidelity is not None
    assert (objective.fidelity.name, objective.fidelity.min, objective.fidelity.max) == ("n_bongos", 1, 10)
    study = hpolab.create_study(objective, "asha", seed=0)
    study.optimize(n_trials=12)
    assert {t.budget for t in study.trials} == {1.0, 10.0}
    assert all(t.value == 42.0 and t.info["n_bongos"] == t.budget for t in study.trials)
    with pytest.raises(ValueError, match="outside"):
        objective.evaluate({"x0": 0.0}, budget=11)
    with pytest.raises(ValueError, match="not a multi-fidelity task"):
        CARPSObjective(BBOB).evaluate({"x0": 0.0, "x1": 0.0}, budget=2)


# ---------------------------------------------------------------------- hpolab results in CARP-S's analysis
def test_an_hpolab_comparison_is_gathered_by_carps_beside_its_own_runs(
    tmp_path: Path, carps_runs: dict[str, Path]
) -> None:
    from carps.analysis.gather_data import gather_and_check

    from hpolab.benchmark import run
    from hpolab.integrations.carps import export_carps_logs

    results = run(["random", "tpe"], [f"carps/{BBOB}", "toy/branin"], 2, n_trials=5, storage=tmp_path / "r.db")
    root = tmp_path / "runs"
    written = export_carps_logs(results, root, n_trials=5)
    assert len(written) == 8
    # CARP-S's own random search on the same task (seed 0), into the same folder.
    shutil.copytree(carps_runs["randomsearch"], root / "RandomSearch" / "BBOB" / BBOB / "0")
    gather_and_check(str(root), n_processes=1)
    logs = pd.read_csv(root / "logs.csv")
    assert len(logs) == 45
    bbob = logs[logs["task_id"] == BBOB]
    assert set(bbob["optimizer_id"]) == {"hpolab-random", "hpolab-tpe", "RandomSearch"}
    assert set(logs.loc[logs["task_id"] == "toy/branin", "optimizer_id"]) == {"hpolab-random", "hpolab-tpe"}
    ours = results[results["objective"] == f"carps/{BBOB}"].sort_values(["optimizer", "seed", "trial"])
    theirs = bbob[bbob["optimizer_id"] != "RandomSearch"].sort_values(["optimizer_id", "seed", "n_trials"])
    assert theirs["trial_value__cost"].tolist() == pytest.approx(ours["value"].tolist())
    assert theirs["n_trials"].tolist() == [1, 2, 3, 4, 5] * 4
    assert bbob["trial_value__cost_inc_norm"].between(0, 1).all()  # normalized over all three optimizers
    status = pd.read_csv(root / "runstatus.csv")
    assert set(status["status"]) == {"COMPLETED"}


def test_a_finished_multi_fidelity_run_is_completed_for_carps(tmp_path: Path) -> None:
    """The default budget of an exported run is in CARP-S's unit: full-budget evaluations, not trials."""
    from carps.analysis.gather_data import gather_and_check

    from hpolab.benchmark import run
    from hpolab.integrations.carps import export_carps_logs

    results = run(["asha"], ["toy/branin-mf"], 1, max_budget_spent=3 * 16.0, storage=tmp_path / "r.db")
    assert len(results) > 3  # many trials at low fidelity, about 3 full-budget evaluations in all
    root = tmp_path / "runs"
    export_carps_logs(results, root)
    gather_and_check(str(root), n_processes=1)
    status = pd.read_csv(root / "runstatus.csv")
    assert status["status"].tolist() == ["COMPLETED"]  # it was TRUNCATED: its trial count was taken as the budget


def test_carps_own_optimizers_run_through_hpolab_keep_their_carps_ids_in_the_export(
    tmp_path: Path, carps_runs: dict[str, Path]
) -> None:
    from carps.analysis.gather_data import gather_and_check

    from hpolab.benchmark import run
    from hpolab.integrations.carps import carps_optimizer_ids, export_carps_logs

    optimizers = {"random": "random", "carps-RandomSearch": {"name": "carps", "optimizer": "randomsearch/config"}}
    storage = tmp_path / "r.db"
    results = run(optimizers, [f"carps/{BBOB}"], 2, n_trials=5, storage=storage)
    assert carps_optimizer_ids(storage) == {"carps-RandomSearch": ("RandomSearch", "RandomSearch")}
    root = tmp_path / "runs"
    written = export_carps_logs(results, root, n_trials=5, storage=storage)
    assert sorted(p.relative_to(root).parts[0] for p in written) == ["RandomSearch"] * 2 + ["hpolab-random"] * 2
    # a second export over the first is allowed (its own folders); one over CARP-S's own run is refused
    assert export_carps_logs(storage, root, n_trials=5) == written
    own = tmp_path / "own"
    shutil.copytree(carps_runs["randomsearch"], own / "RandomSearch" / "BBOB" / BBOB / "1")
    with pytest.raises(ValueError, match="already holds a run that hpolab did not export"):
        export_carps_logs(results, own, n_trials=5, storage=storage)
    # seed 1 is refused before seed 0 (and hpolab-random) is written: a refused export writes nothing
    assert not (own / "RandomSearch" / "BBOB" / BBOB / "0").exists() and not (own / "hpolab-random").exists()
    gather_and_check(str(root), n_processes=1)
    logs = pd.read_csv(root / "logs.csv")
    assert set(logs["optimizer_id"]) == {"hpolab-random", "RandomSearch"}
    # without the bookkeeping (a bare table) every label is hpolab's
    bare = export_carps_logs(results, tmp_path / "bare", n_trials=5)
    assert {p.relative_to(tmp_path / "bare").parts[0] for p in bare} == {"hpolab-random", "hpolab-carps-RandomSearch"}


@pytest.mark.slow
def test_carps_critical_difference_diagram_of_an_hpolab_comparison(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from carps.analysis.gather_data import gather_and_check
    from carps.analysis.generate_report import load_results, plot_critical_difference

    from hpolab.benchmark import run
    from hpolab.integrations.carps import export_carps_logs

    # autorank needs five tasks; CARP-S's plot reads autorank's medians, which it reports on these
    tasks = [f"carps/bbob/2/{t}" for t in ("1/0", "2/0", "3/0", "6/1", "12/2")]
    results = run(["random", "tpe"], tasks, 2, n_trials=6, storage=tmp_path / "r.db")
    root = tmp_path / "runs"
    export_carps_logs(results, root, n_trials=6)
    gather_and_check(str(root), n_processes=1)
    logs = load_results(str(root / "logs.parquet"))
    files = plot_critical_difference(logs, output_dir=str(tmp_path), replot=True)
    assert files and all(Path(f"{f['filename']}.png").is_file() for f in files)


def test_export_refuses_a_table_without_hpolab_columns(tmp_path: Path) -> None:
    from hpolab.integrations.carps import export_carps_logs

    with pytest.raises(ValueError, match=r"columns \['budget'"):
        export_carps_logs(
            pd.DataFrame(
                columns=["optimizer", "objective", "seed", "trial", "trial_id", "state", "value", "direction", "config"]
            ),
            tmp_path,
        )


@pytest.mark.slow
def test_carps_task_in_worker_processes(tmp_path: Path) -> None:
    study = hpolab.create_study(f"carps/{BBOB}", "random", seed=0, storage=f"sqlite:///{tmp_path / 'w.db'}")
    study.optimize(n_trials=6, n_jobs=2)
    assert len([t for t in study.trials if t.state is TrialState.COMPLETE]) == 6
