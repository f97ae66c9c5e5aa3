"""The transfer study's final trainings: studies in the results' storage, trained once, resumable."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import hpolab.registry
from hpolab import benchmark
from hpolab.analysis._transfer import best_configs, transfer_summary
from hpolab.benchmark import load_results, transfer_study_name, transfer_table
from hpolab.objectives.base import Fidelity, FunctionObjective
from hpolab.storage import get_storage
from hpolab.trial import TrialState

BASE = "cnn/stub-4block"
CONDITIONS = ("balanced", "imbalanced")
SPACE = {"lr": (1e-4, 1e-1, "log"), "dropout": (0.0, 0.5), "optimizer": ["adam", "sgd"], "finetune_layers": [1, 2, 4]}
EPOCHS = 4


def _errors(config: dict[str, Any], budget: float | None, seed: int | None) -> tuple[float, float]:
    """(validation error, test error) of a stub training: a function of the config, the epochs and the seed."""
    base = abs(math.log10(config["lr"]) + 2.5) / 10 + (0.05 if config["optimizer"] == "sgd" else 0.0)
    valid = base + 0.1 / float(budget or EPOCHS) + 0.001 * (seed or 0)
    return valid, valid + 0.02


class Stubs:
    """Stand-ins for the four-block CNN objectives; counts the trainings on the whole set."""

    def __init__(self, log: Path | None = None, kill_at: int | None = None) -> None:
        self.whole = 0
        self.log = log
        self.kill_at = kill_at

    def make(self, name: str, **kwargs: Any) -> FunctionObjective:
        assert name.startswith(f"{BASE}/"), name

        def train(config: dict[str, Any], budget: float | None = None, seed: int | None = None) -> dict[str, Any]:
            valid, test = _errors(config, budget, seed)
            if name.endswith("/whole"):
                self.whole += 1
                if self.log is not None:
                    with self.log.open("a") as fh:
                        fh.write(f"{seed}\n")
                if self.kill_at is not None and self.whole == self.kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)  # a process killed in the middle of a training
            return {"value": valid, "info": {"test_error": test}}

        return FunctionObjective(
            train, SPACE, name=name, fidelity=Fidelity("epochs", 1, EPOCHS), metric_name="validation error"
        )


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Stubs:
    stub = Stubs()
    monkeypatch.setattr(hpolab.registry, "make_objective", stub.make)
    return stub


@pytest.fixture
def subset_runs(tmp_path: Path, stubs: Stubs) -> tuple[pd.DataFrame, Path]:
    """Random search on two training subsets, two seeds each, in a journal file (what the harness writes)."""
    storage = tmp_path / "results.log"
    df = benchmark.run(["random"], [f"{BASE}/{c}" for c in CONDITIONS], 2, n_trials=5, storage=storage)
    assert stubs.whole == 0 and len(df) == 2 * 2 * 5
    return df, storage


def test_each_training_is_a_study_with_the_chosen_config_enqueued_once(subset_runs, stubs) -> None:
    df, storage = subset_runs
    table = transfer_table(df, storage)
    assert stubs.whole == 4 and len(table) == 4
    store = get_storage(f"journal:///{storage}")
    for row in table.itertuples():
        name = transfer_study_name(BASE, row.condition, "random", row.seed)
        assert row.study == name
        info = store.get_study(name)
        assert info is not None and info.attrs["transfer"]["tuned_on"] == f"{BASE}/{row.condition}"
        (record,) = store.get_trials(info.study_id)
        assert record.state is TrialState.COMPLETE and record.config == row.config
        assert record.budget == EPOCHS and record.trial.seed == row.seed
        source = record.metadata["transfer"]
        chosen = df[(df["objective"] == f"{BASE}/{row.condition}") & (df["seed"] == row.seed)]
        picked = chosen[chosen["trial_id"] == source["trial_id"]]
        assert len(picked) == 1 and picked["config"].iloc[0] == row.config and record.metadata["enqueued"]
        assert source["subset_error"] == pytest.approx(float(picked["value"].iloc[0]))
        assert source["study"] == f"random|{BASE}/{row.condition}|{row.seed}"
        assert row.test_error == pytest.approx(record.info["test_error"])
    # the trainings are not runs of the comparison: the trial table of the whole storage leaves them out
    assert len(load_results(storage)) == len(df)


def test_a_second_table_reads_the_studies_and_trains_nothing(subset_runs, stubs) -> None:
    df, storage = subset_runs
    first = transfer_table(df, storage)
    assert stubs.whole == 4
    again = transfer_table(df, f"journal:///{storage}")
    assert stubs.whole == 4
    pd.testing.assert_frame_equal(first, again)


def test_the_table_is_the_one_the_json_cache_made_for_the_same_configs(subset_runs, stubs) -> None:
    """The old path trained ``evaluate(config, budget=epochs, seed=seed)`` per chosen config; same numbers here."""
    df, storage = subset_runs
    table = transfer_table(df, storage)
    best = best_configs(df)
    pd.testing.assert_frame_equal(table[list(best.columns)], best)
    whole = stubs.make(f"{BASE}/whole")
    for row in table.itertuples():
        result = whole.evaluate(row.config, budget=EPOCHS, seed=row.seed)
        assert row.valid_error == result.value and row.test_error == result.info["test_error"]
        assert row.epochs == EPOCHS and row.test_accuracy == 1.0 - row.test_error
    summary = transfer_summary(table, params=("lr",))
    assert list(summary["condition"]) == list(CONDITIONS) and (summary["n"] == 2).all()


def _old_json_cache(best: pd.DataFrame, whole: FunctionObjective) -> dict[str, dict[str, float]]:
    """What the JSON-cache path of older versions wrote for these chosen configs (its key and entry format)."""
    out = {}
    for row in best.itertuples():
        result = whole.evaluate(row.config, budget=EPOCHS, seed=row.seed)
        key = json.dumps([row.base, row.condition, row.seed, dict(sorted(row.config.items())), EPOCHS])
        out[key] = {"test_error": result.info["test_error"], "valid_error": result.value, "epochs": float(EPOCHS)}
    return out


def test_an_old_json_cache_is_read_once_into_the_studies(subset_runs, stubs, tmp_path, caplog) -> None:
    df, storage = subset_runs
    best = best_configs(df)
    cache = _old_json_cache(best, stubs.make(f"{BASE}/whole"))
    stubs.whole = 0
    first = next(iter(cache))
    (tmp_path / "transfer.json").write_text(json.dumps({k: cache[k] for k in list(cache)[1:]}), encoding="utf-8")
    with caplog.at_level("WARNING", logger="hpolab.benchmark.transfer"):
        table = transfer_table(df, storage, old_cache=tmp_path)
    assert stubs.whole == 1  # the one training the file lacks; the other three are read from it
    assert "3 training(s) read from" in caplog.text
    for row in table.itertuples():
        key = json.dumps([row.base, row.condition, row.seed, dict(sorted(row.config.items())), EPOCHS])
        assert row.test_error == cache[key]["test_error"] and row.valid_error == cache[key]["valid_error"]
        store = get_storage(f"journal:///{storage}")
        (record,) = store.get_trials(store.get_study(row.study).study_id)  # type: ignore[union-attr]
        assert ("imported_from" in record.metadata) == (key != first)
        assert record.metadata["transfer"]["tuned_on"] == f"{BASE}/{row.condition}"
    (tmp_path / "transfer.json").unlink()  # from now on the studies are read, not the file
    pd.testing.assert_frame_equal(transfer_table(df, storage), table)
    assert stubs.whole == 1


def _killed_run(df: pd.DataFrame, storage: Path, log: Path) -> None:
    stub = Stubs(log=log, kill_at=2)
    hpolab.registry.make_objective = stub.make  # type: ignore[assignment]
    transfer_table(df, storage)


def test_a_run_killed_in_a_training_continues_where_it_stopped(subset_runs, stubs, tmp_path) -> None:
    df, storage = subset_runs
    log = tmp_path / "trainings.txt"
    child = multiprocessing.get_context("fork").Process(target=_killed_run, args=(df, storage, log))
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    assert len(log.read_text().split()) == 2  # one training finished, one killed in the middle
    table = transfer_table(df, storage)
    assert stubs.whole == 3  # the killed training again, and the two not started; not the finished one
    store = get_storage(f"journal:///{storage}")
    states = []
    for name in table["study"]:
        info = store.get_study(name)
        assert info is not None
        states.append(sorted(r.state.name for r in store.get_trials(info.study_id)))
    assert sorted(states) == [["COMPLETE"]] * 3 + [["COMPLETE", "FAIL"]]
    assert transfer_table(df, storage)["test_error"].tolist() == table["test_error"].tolist() and stubs.whole == 3


def test_a_transfer_table_without_transfer_runs_is_empty(tmp_path) -> None:
    df = benchmark.run(["random"], ["toy/branin"], 1, n_trials=2, storage=tmp_path / "r.log")
    table = transfer_table(df, tmp_path / "r.log")
    assert table.empty and {"test_accuracy", "study"} <= set(table.columns)


def test_the_old_analysis_name_says_where_the_training_went() -> None:
    import hpolab.analysis

    with pytest.raises(AttributeError, match=r"hpolab\.benchmark\.transfer_table"):
        hpolab.analysis.transfer_table  # noqa: B018


def test_the_papers_report_trains_once_and_writes_the_table_again_from_the_studies(
    subset_runs, stubs, tmp_path
) -> None:
    pytest.importorskip("matplotlib")
    from hpolab.benchmark import get_suite, write_suite_report

    df, storage = subset_runs
    suite = get_suite("seed004")
    for _ in range(2):
        rep = write_suite_report(df, tmp_path / "out", suite=suite, sections=(), storage=storage)
        assert len(rep.tables["seed004_transfer"]) == 4 and stubs.whole == 4
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    table7 = md.split("Table 7", 1)[1]
    assert f"`{BASE}`" in table7 and "imbalanced" in table7
    rep = write_suite_report(df, tmp_path / "plain", suite=suite, sections=())
    assert "seed004_transfer" not in rep.tables and stubs.whole == 4
    assert "written without it" in (tmp_path / "plain" / "report.md").read_text(encoding="utf-8")
