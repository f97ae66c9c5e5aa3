from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install 'hpolab[ml]')")

import hpolab.registry as registry
from hpolab.objectives import datasets
from hpolab.objectives.ml import ML_MODELS, MLObjective
from hpolab.space import InvalidConfigError


def test_svm_breast_cancer_offline():
    obj = registry.make_objective("ml/svm/breast_cancer", seed=0)
    assert obj.name == "ml/svm/breast_cancer"
    assert obj.fidelity is None
    assert obj.metric == "error"
    assert "support vector machine" in obj.description and "breast cancer" in obj.description
    assert "1 - accuracy" in obj.description
    # seed 002 Appendix B text as the parameter description
    assert "inversely proportional to C" in obj.search_space.describe()
    good = obj.evaluate({"C": 1.0, "gamma": 0.01}, seed=0)
    bad = obj.evaluate({"C": 2.0**-10, "gamma": 2.0**10}, seed=0)
    assert 0.0 <= good.value < 0.1  # a sensible SVM is > 90% accurate on breast cancer
    assert bad.value > good.value  # a huge gamma and tiny C memorize nothing useful
    assert good.runtime > 0 and good.info["accuracy"] == pytest.approx(1 - good.value)
    assert obj.evaluate({"C": 1.0, "gamma": 0.01}, seed=0).value == good.value


def test_xgboost_digits_offline_with_rounds_fidelity():
    pytest.importorskip("xgboost")
    obj = registry.make_objective("ml/xgboost/digits", n_jobs=1)
    assert obj.fidelity is not None and obj.fidelity.name == "n_estimators"
    assert (obj.fidelity.min, obj.fidelity.max) == (50, 2000)
    assert set(obj.search_space.names) == {"colsample_bytree", "eta", "max_depth", "reg_lambda"}
    cfg = {"colsample_bytree": 0.5, "eta": 0.3, "max_depth": 4, "reg_lambda": 1.0}
    r = obj.evaluate(cfg, budget=50, seed=1)
    assert r.info["budget"] == 50
    assert r.value < 0.15
    slow = obj.evaluate(dict(cfg, eta=2.0**-10), budget=50, seed=1)
    assert slow.value > r.value  # a tiny learning rate has not learned much after 50 rounds
    with pytest.raises(ValueError, match="budget"):
        obj.evaluate(cfg, budget=10)


def test_every_model_runs_and_fidelity_changes_training():
    for model, (_, _, _, _, fid) in ML_MODELS.items():
        if model == "xgboost":
            continue
        obj = MLObjective(model, "wine", seed=0)
        budget = None if fid is None else fid.min
        r = obj.evaluate(obj.search_space.default(), budget=budget, seed=0)
        assert 0.0 <= r.value <= 1.0, model
    mlp = MLObjective("mlp", "iris")
    cfg = mlp.search_space.default()
    short = mlp.evaluate(cfg, budget=3, seed=0)
    assert short.info["epochs_run"] == 3 and len(short.info["train_loss"]) == 3
    rf = MLObjective("rf", "digits")
    r16 = rf.evaluate(rf.search_space.default(), budget=16, seed=0)
    assert r16.info["budget"] == 16


def test_invalid_config_raises():
    obj = MLObjective("svm", "iris")
    with pytest.raises(InvalidConfigError, match="C: 5000"):
        obj.evaluate({"C": 5000.0, "gamma": 0.1})


def test_balanced_error_for_skewed_classes(monkeypatch, tmp_path):
    # an OpenML-shaped frame served by a fake fetch_openml (no network): 10% positives
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y"], n)})
    frame.loc[::17, "a"] = np.nan
    target = pd.Series(np.where(rng.random(n) < 0.1, "bad", "good"))

    class Bunch:
        def __init__(self):
            self.data = frame
            self.target = target
            self.details = {"name": "fake-skewed", "id": 999999}

    calls = []

    def fake_fetch_openml(**kwargs):
        calls.append(kwargs)
        return Bunch()

    import sklearn.datasets

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_fetch_openml)
    ds = datasets.load_tabular("999999", data_home=tmp_path)
    assert calls and calls[0]["data_id"] == 999999
    assert ds.X.shape == (n, 4) and not np.isnan(ds.X).any()  # 2 numeric + 2 one-hot columns, imputed
    assert ds.source == "openml:999999"
    # cached: works with download=False (and without calling fetch_openml again)
    again = datasets.load_tabular("openml_999999", data_home=tmp_path, download=False)
    assert len(calls) == 1 and np.array_equal(again.X, ds.X)
    obj = MLObjective("lr", "999999", data_home=str(tmp_path), download=False)
    assert obj.metric == "balanced_error"
    assert "balanced" in obj.description
    r = obj.evaluate(obj.search_space.default(), budget=10, seed=0)
    assert r.value == pytest.approx(1 - r.info["balanced_accuracy"])


def test_offline_openml_error_says_how_to_get_the_data(tmp_path):
    with pytest.raises(datasets.DatasetUnavailableError, match="On a machine with internet") as err:
        datasets.load_tabular("kc1", data_home=tmp_path, download=False)
    assert "1067" in str(err.value)
    with pytest.raises(datasets.DatasetUnavailableError):
        registry.make_objective("ml/svm/kc1", data_home=str(tmp_path), download=False)


def test_registry_names_and_pickle():
    names = registry.list_objectives(["ml"])
    for model in ML_MODELS:
        for ds in ("breast_cancer", "digits", "wine", "iris", "credit_g", "kc1"):
            assert f"ml/{model}/{ds}" in names
    with pytest.raises(registry.UnknownNameError):
        registry.make_objective("ml/knn/iris")
    obj = registry.make_objective("ml/rf/wine", seed=3)
    clone = pickle.loads(pickle.dumps(obj))
    cfg = obj.search_space.default()
    assert clone.name == "ml/rf/wine"
    assert clone.evaluate(cfg, budget=16, seed=2).value == obj.evaluate(cfg, budget=16, seed=2).value
