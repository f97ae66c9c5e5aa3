from __future__ import annotations

import pickle
import sys

import ConfigSpace as CS
import pytest

import hpolab.registry as registry
from hpolab.objectives.hpobench import HPOBenchObjective
from hpolab.space import InvalidConfigError


class FakeHPOBenchSVM:
    """A FAKE, for tests only: a tiny stand-in with the interface of an HPOBench benchmark.

    It mimics ``hpobench.benchmarks.ml.SVMBenchmark`` (configuration space C / gamma, a fidelity
    space with ``subsample``, ``objective_function(configuration, fidelity, rng)`` returning
    ``function_value`` / ``cost`` / ``info``) but computes a closed-form value instead of training.
    """

    def __init__(self, task_id: int = 31):
        self.task_id = task_id
        self.calls: list[tuple[dict, dict | None, int | None]] = []

    @staticmethod
    def get_configuration_space(seed=None):
        cs = CS.ConfigurationSpace(seed=seed)
        cs.add(
            [
                CS.UniformFloatHyperparameter("C", 2**-10, 2**10, log=True, default_value=1.0),
                CS.UniformFloatHyperparameter("gamma", 2**-10, 2**10, log=True, default_value=0.1),
            ]
        )
        return cs

    @staticmethod
    def get_fidelity_space(seed=None):
        fs = CS.ConfigurationSpace(seed=seed)
        fs.add(CS.UniformFloatHyperparameter("subsample", 0.1, 1.0, default_value=1.0))
        return fs

    def get_meta_information(self):
        return {"name": f"Fake SVM on OpenML task {self.task_id}"}

    def objective_function(self, configuration, fidelity=None, rng=None, **kwargs):
        import math

        config = dict(configuration)
        fidelity = dict(fidelity) if fidelity is not None else {"subsample": 1.0}
        self.calls.append((config, fidelity, rng))
        loss = (math.log2(config["C"]) - 3) ** 2 / 100 + (math.log2(config["gamma"]) + 5) ** 2 / 100
        loss += 0.1 * (1.0 - fidelity["subsample"])
        return {
            "function_value": loss,
            "cost": 0.5 * fidelity["subsample"],
            "info": {"fidelity": fidelity, "seed": rng},
        }


def test_adapter_space_fidelity_and_evaluate():
    fake = FakeHPOBenchSVM()
    obj = HPOBenchObjective(fake, name="hpobench/fake", seed=5)
    assert obj.name == "hpobench/fake"
    assert set(obj.search_space.names) == {"C", "gamma"}
    assert obj.search_space["C"].log
    assert obj.fidelity is not None and obj.fidelity.name == "subsample"
    assert (obj.fidelity.min, obj.fidelity.max, obj.fidelity.integer) == (0.1, 1.0, False)
    assert "Fake SVM on OpenML task 31" in obj.description
    full = obj.evaluate({"C": 8.0, "gamma": 2**-5})
    assert full.value == pytest.approx(0.0)
    assert full.runtime == pytest.approx(0.5)
    assert fake.calls[-1] == ({"C": 8.0, "gamma": 2**-5}, {"subsample": 1.0}, 5)
    low = obj.evaluate({"C": 8.0, "gamma": 2**-5}, budget=0.5, seed=9)
    assert low.value == pytest.approx(0.05)
    assert fake.calls[-1][1:] == ({"subsample": 0.5}, 9)
    assert low.info["fidelity"] == {"subsample": 0.5}
    with pytest.raises(InvalidConfigError):
        obj.evaluate({"C": 1e9, "gamma": 1.0})
    with pytest.raises(ValueError, match="budget"):
        obj.evaluate({"C": 1.0, "gamma": 1.0}, budget=2.0)


def test_registry_with_benchmark_object_and_pickle():
    obj = registry.make_objective("hpobench/my_svm", benchmark=FakeHPOBenchSVM(task_id=3917))
    assert obj.name == "hpobench/my_svm"
    clone = pickle.loads(pickle.dumps(obj))
    assert clone.evaluate({"C": 1.0, "gamma": 1.0}).value == obj.evaluate({"C": 1.0, "gamma": 1.0}).value
    with pytest.raises(ValueError, match="fidelity_name"):
        HPOBenchObjective(FakeHPOBenchSVM(), fidelity_name="iter")
    with pytest.raises(TypeError, match="HPOBench"):
        HPOBenchObjective(object())


def test_dotted_class_path_without_hpobench_says_how_to_install():
    with pytest.raises(ImportError, match="pass benchmark="):
        registry.make_objective("hpobench/ml.svm_benchmark.SVMBenchmark", task_id=31)


def test_dotted_class_path_loads_a_module_class(monkeypatch):
    # a module under hpobench.benchmarks (this fake stands in for one); other modules are never imported
    import types

    fake = types.ModuleType("hpobench.benchmarks.fakebench")
    fake.FakeHPOBenchSVM = FakeHPOBenchSVM  # type: ignore[attr-defined]
    for name in ("hpobench", "hpobench.benchmarks"):
        monkeypatch.setitem(sys.modules, name, sys.modules.get(name) or types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "hpobench.benchmarks.fakebench", fake)
    obj = registry.make_objective("hpobench/fakebench.FakeHPOBenchSVM", task_id=146822)
    assert obj.benchmark.task_id == 146822
    assert obj.name == "hpobench/fakebench.FakeHPOBenchSVM"
    with pytest.raises(ImportError, match="cannot import the benchmark class"):
        registry.make_objective(f"hpobench/{__name__}.FakeHPOBenchSVM", task_id=146822)
