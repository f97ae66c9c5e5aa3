"""The papers' data files (hpolab/benchmark/papers/*.toml): they load, their suites are the registry's, every
name in them is registered, their tables have the shape the report sections read, and a malformed file fails
with its name and the key."""

from __future__ import annotations

import fnmatch
import math
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from hpolab.benchmark import SUITES
from hpolab.benchmark._plan import expand_objectives
from hpolab.benchmark._suite import LOCAL_LLM, _optimizer_names
from hpolab.benchmark.papers import PAPER_SUITES, PAPERS, seed000, seed002, seed003, seed004
from hpolab.benchmark.papers._data import PaperDataError, load_paper
from hpolab.objectives.cnn import DATASET_VARIANTS
from hpolab.objectives.datasets import OFFLINE_SUBSTITUTES
from hpolab.registry import list_objectives, list_optimizers

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PAPERS_DIR = ROOT / "hpolab" / "benchmark" / "papers"
MODULES = {"seed000": seed000, "seed002": seed002, "seed003": seed003, "seed004": seed004}


def _runs(suite):
    """(optimizers, objectives, objective options) of the comparison and of each part."""
    yield suite.optimizers, suite.objectives, suite.objective_kwargs
    for p in suite.parts:
        kwargs = suite.objective_kwargs if p.objective_kwargs is None else p.objective_kwargs
        yield p.optimizers, p.objectives, kwargs


def test_every_paper_has_a_data_file_whose_suites_are_in_the_registry() -> None:
    assert sorted(p.stem for p in PAPERS_DIR.glob("*.toml")) == sorted(PAPERS) == sorted(MODULES)
    names = []
    for paper, module in MODULES.items():
        data = load_paper(paper, values={"local_llm": LOCAL_LLM})
        assert data.suites, paper
        assert data.suites == module.SUITES
        for suite in data.suites:
            assert suite.paper == paper
            assert SUITES[suite.name] is PAPER_SUITES[suite.name]
            assert SUITES[suite.name] == suite
            names.append(suite.name)
    assert sorted(names) == sorted(PAPER_SUITES)


def test_the_data_files_are_package_data() -> None:
    """A built wheel carries each data file: pyproject's package-data matches it."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["hpolab"]
    for path in PAPERS_DIR.glob("*.toml"):
        rel = path.relative_to(ROOT / "hpolab").as_posix()
        assert any(fnmatch.fnmatchcase(rel, g) for g in globs), rel


def test_every_optimizer_and_objective_a_paper_names_is_registered() -> None:
    optimizers = set(list_optimizers())
    listed = set(list_objectives())
    twins = {
        f"ml/{model}/{sub}" for model in ("svm", "lr", "rf", "mlp", "xgboost") for sub in OFFLINE_SUBSTITUTES.values()
    }
    for suite in PAPER_SUITES.values():
        for opts, objectives, _ in _runs(suite):
            for label, name, _spec in _optimizer_names(opts):
                assert name in optimizers, (suite.name, label, name)
            for obj in expand_objectives(objectives):
                # the offline stand-ins of OpenML data sets are built on demand, not listed
                assert obj in listed or obj in twins, (suite.name, obj)


@pytest.mark.slow
def test_every_objective_a_paper_names_builds() -> None:
    from hpolab.registry import make_objective

    for suite in PAPER_SUITES.values():
        for _, objectives, kwargs in _runs(suite):
            for obj in expand_objectives(objectives):
                assert make_objective(obj, **dict(kwargs)).search_space.names, obj
    wide = make_objective("cnn/digits-small-4block-wide")
    assert set(seed004.PAPER_TABLE4) <= set(wide.search_space.names)  # Table 4's rows are the space's parameters


def test_seed000_table_has_a_row_for_each_of_the_sections_rows() -> None:
    empty = pd.DataFrame(columns=["optimizer", "trial", "n", "rmse", "std", "ci_low", "ci_high"])
    rows = seed000.seed000_rows(empty, llm=None, optuna=None)
    assert [tuple(r[:2]) for r in rows] == list(seed000.PAPER_TABLE1_SEED000)
    assert all(len(v) == 4 and v[2] <= v[0] <= v[3] for v in seed000.PAPER_TABLE1_SEED000.values())


def test_seed002_and_seed004_tables_have_the_sections_shape() -> None:
    assert len(seed002.PAPER_TABLE1) == 5
    assert all(len(v) == 4 and all(isinstance(x, float) for x in v) for v in seed002.PAPER_TABLE1.values())
    assert all(set(v) == {"grid", "random", "asha", "bayesian"} for v in seed004.PAPER_TABLE6.values())
    assert math.isclose(sum(seed004.PAPER_TABLE4.values()), 0.587)
    transfer = next(p for p in seed004.SUITES[0].parts if p.name == "transfer")
    assert list(seed004.PAPER_TABLE7) == [o.rpartition("/")[2] for o in transfer.objectives]
    for lr, dropout, optimizer, layers, accuracy in seed004.PAPER_TABLE7.values():
        assert 0 < lr < 1 and 0 < dropout < 1 and isinstance(optimizer, str) and layers > 0 and 0 < accuracy < 1


def test_seed004_budgets_agree() -> None:
    main, digits = seed004.SUITES
    parts = {p.name: p for p in main.parts}
    assert main.max_budget_spent == seed004.S004_BUDGET == seed004.S004_SETS * seed004.S004_EPOCHS
    assert parts["transfer"].max_budget_spent == seed004.S004_BUDGET / 2
    assert parts["mnist"].max_budget_spent == seed004.S004_SETS * seed004.S004_MNIST_EPOCHS
    assert parts["mnist"].optimizers == {**seed004.S004_OPTIMIZERS, "asha": {**seed004.S004_ASHA, "max_budget": 4}}
    assert parts["fanova"].n_trials == seed004.S004_FANOVA_TRIALS
    assert digits.objectives == ["cnn/digits-4block"] and main.objectives == ["cnn/digits-small-4block"]
    assert [p.name for p in digits.parts] == [p.name for p in main.parts]
    assert seed003.SUITES[0].parts[0].objective_kwargs == {"max_budget": seed003.S003_XGB_ROUNDS}


def test_the_differences_name_the_stand_ins_the_library_uses() -> None:
    """The data sets and sizes the texts name are the library's (the texts are data, the mapping is code)."""
    for suite in PAPER_SUITES.values():
        text = " ".join((suite.description, *suite.differences))
        for name, stand_in in re.findall(r"(\w+) -> `(\w+)`", text):
            assert OFFLINE_SUBSTITUTES[name] == stand_in, (suite.name, name)
    images = DATASET_VARIANTS["digits-small"][1]["train_images"]
    assert f"cut to a stratified {images} images" in " ".join(seed004.SUITES[0].differences)
    assert f"cut to {images} images" in seed004.SUITES[0].description
    assert "${" not in repr(list(PAPER_SUITES.values()))


# ---------------------------------------------------------------- the loader on small files

_SUITE = """
[values]
epochs = 4
optimizers = { random = "random", asha = { name = "asha", max_budget = "${epochs}" } }

[[suites]]
name = "s"
description = "${epochs} epochs on ${base}"
optimizers = "${optimizers}"
objectives = ["${base}"]
seeds = 2
max_budget_spent = 8
sections = ["budget"]
vars = { base = "toy/branin" }

[[suites.parts]]
name = "p"
description = "a part"
optimizers = ["random"]
objectives = ["toy/branin"]
default = false

[[suites]]
name = "t"
like = "s"
vars = { base = "toy/shifted_ackley" }

[tables.t1]
a = [1.0, 2]
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "paper.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_load_paper_builds_suites_from_values_vars_and_like(tmp_path: Path) -> None:
    data = load_paper("paper", folder=_write(tmp_path, _SUITE))
    s, t = data.suites
    assert s.description == "4 epochs on toy/branin" and s.objectives == ["toy/branin"]
    assert s.optimizers == {"random": "random", "asha": {"name": "asha", "max_budget": 4}}
    assert s.max_budget_spent == 8.0 and isinstance(s.max_budget_spent, float)
    assert s.sections == ("budget",) and s.n_trials is None and s.paper == "paper"
    assert s.parts[0].default is False and s.parts[0].optimizers == ["random"]
    assert t.name == "t" and t.objectives == ["toy/shifted_ackley"] and t.parts == s.parts
    assert data.rows("t1", 2) == {"a": (1.0, 2)}
    assert data.value("epochs", int) == 4 and data.value("epochs", float) == 4.0


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("seeds = 2", 'seeds = "two"'), "suites[0].seeds"),
        (("seeds = 2", "seeds = 2\nbogus = 1"), "suites[0].bogus"),
        (('description = "a part"\n', ""), "suites[0].parts[0].description"),
        (('objectives = ["${base}"]', 'objectives = ["${nothing}"]'), "suites[0].objectives[0]"),
        (('like = "s"', 'like = "u"'), "suites[1].like"),
        (('name = "t"', 'name = "s"'), "suites[1].name"),
        (('vars = { base = "toy/branin" }', 'vars = "toy/branin"'), "suites[0].vars"),
        (("[tables.t1]", "[table.t1]"), "table"),
        (("seeds = 2", "seeds = "), "not valid TOML"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    folder = _write(tmp_path, _SUITE.replace(*change, 1))
    with pytest.raises(PaperDataError, match=re.escape(str(folder / "paper.toml"))) as info:
        load_paper("paper", folder=folder)
    assert key in str(info.value)


def test_a_missing_file_or_table_or_a_bad_row_is_named(tmp_path: Path) -> None:
    with pytest.raises(PaperDataError, match="no such data file"):
        load_paper("absent", folder=tmp_path)
    data = load_paper("paper", folder=_write(tmp_path, _SUITE))
    with pytest.raises(PaperDataError, match=r"tables\.t2: missing"):
        data.table("t2")
    with pytest.raises(PaperDataError, match=r"tables\.t1\.a: expected a row of 3 cells"):
        data.rows("t1", 3)
    with pytest.raises(PaperDataError, match=r"values\.epochs: expected a str"):
        data.value("epochs", str)
