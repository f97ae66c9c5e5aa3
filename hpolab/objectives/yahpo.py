"""YAHPO Gym's surrogate benchmarks as objectives: ``yahpo/<scenario>/<instance>``, on onnxruntime alone.

YAHPO Gym (Pfisterer et al., 2022, arXiv 2109.03670) fits one neural network per *scenario* (an ML
algorithm tuned on many OpenML data sets) to the results of real training runs; a prediction for a
configuration, a data set (the *instance*) and a fidelity replaces training. hpolab reads the files of
``yahpo_data`` (version 1.0.2: ``<scenario>/model.onnx``, ``config_space.json``, ``encoding.json``) and
runs the network with onnxruntime, feeding it exactly what yahpo-gym 1.0.2's
``BenchmarkSet.objective_function`` feeds it, so the outputs are yahpo-gym's without its pins
(``ConfigSpace<=0.6.1``, ``numpy<2``):

* ``x_cat`` (int32): the scenario's categorical parameters in yahpo-gym's order, each replaced by its
  code in ``encoding.json``; an inactive one is coded as ``"#na#"``.
* ``x_cont`` (float32): the numeric parameters and fidelities in yahpo-gym's order, an inactive one as 0.
* The output row holds the targets in yahpo-gym's order, on their own scale; yahpo-gym changes
  nothing in it.

The scenarios hpolab supports:

=============== ============================= ========================== ===================
scenario        value (minimized)             fidelity (budget)          runtime
=============== ============================= ========================== ===================
lcbench         1 - val_accuracy / 100        ``epoch`` 1..52            ``time``
rbv2_xgboost    1 - acc                       ``trainsize`` 0.03..1      ``timetrain``
rbv2_rpart      1 - acc                       ``trainsize`` 0.03..1      ``timetrain``
iaml_glmnet     mmce                          ``trainsize`` 0.03..1      ``timetrain``
=============== ============================= ========================== ===================

The rbv2 scenarios' second fidelity ``repl`` is fixed at 10, as YAHPO Gym's documentation fixes it.
Every target of the surrogate is in ``info`` under its own name; the value is computed from the
surrogate's prediction as it is, never clipped. The surrogates are deterministic, so ``seed`` is
ignored.

The data folder is, in this order: the ``data_dir`` argument, the ``HPOLAB_YAHPO_DATA`` environment
variable, or the ``data_path`` of yahpo-gym's own settings file (``$YAHPO_LOCAL_CONFIG``, else
``~/.config/yahpo_gym``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpolab.objectives.base import Fidelity, Objective
from hpolab.objectives.datasets import DatasetUnavailableError
from hpolab.registry import UnknownNameError, unknown_objective
from hpolab.space import SearchSpace
from hpolab.trial import TrialResult

__all__ = [
    "DATA_ENV",
    "SCENARIOS",
    "YAHPOObjective",
    "YAHPOScenario",
    "find_yahpo_data",
    "list_yahpo",
    "make_yahpo",
]

#: Environment variable naming the folder of ``yahpo_data``.
DATA_ENV = "HPOLAB_YAHPO_DATA"

_INSTALL = 'pip install "hpolab[yahpo]"'
_GET_DATA = (
    f"pass data_dir=<folder>, set {DATA_ENV}=<folder>, or set data_path in yahpo-gym's settings file "
    "(~/.config/yahpo_gym); the folder is a copy of https://github.com/slds-lmu/yahpo_data (v1.0.2) "
    "with one sub-folder per scenario"
)


@dataclass(frozen=True)
class YAHPOScenario:
    """What hpolab needs to know about one YAHPO Gym scenario (yahpo-gym 1.0.2's settings).

    Attributes:
        name: Scenario name, also its folder in ``yahpo_data``.
        instance_param: The categorical parameter that selects the data set.
        cat_names: Categorical inputs of the network, in its order (the instance first).
        cont_names: Numeric inputs of the network, in its order (fidelities included).
        y_names: The network's outputs, in order.
        fidelity_param: The fidelity the ``budget`` sets.
        fixed: Other fidelities, fixed at these values.
        target: The output the value is computed from: ``offset + scale * target``.
        scale: See ``target``.
        offset: See ``target``.
        runtime_name: The output that is the evaluation's runtime (seconds of training).
        metric_text: How the value is described to an LLM.
        model_text: The model tuned, for the description.
        instance_kind: What an instance id names on OpenML (``"task"`` or ``"data set"``).
        param_text: Per-hyperparameter descriptions shown to LLMs.
    """

    name: str
    instance_param: str
    cat_names: tuple[str, ...]
    cont_names: tuple[str, ...]
    y_names: tuple[str, ...]
    fidelity_param: str
    target: str
    scale: float
    offset: float
    runtime_name: str
    metric_text: str
    model_text: str
    instance_kind: str
    fixed: Mapping[str, float] = field(default_factory=dict)
    param_text: Mapping[str, str] = field(default_factory=dict)


_RBV2_Y = ("acc", "bac", "auc", "brier", "f1", "logloss", "timetrain", "timepredict", "memory")
_RBV2_METRIC = "the misclassification rate (1 - accuracy) on held-out data, to minimize"
_IMPUTE = "how missing values of numeric features are imputed (mean, median or a histogram draw)"

#: The scenarios hpolab knows, by name.
SCENARIOS: dict[str, YAHPOScenario] = {
    "lcbench": YAHPOScenario(
        name="lcbench",
        instance_param="OpenML_task_id",
        cat_names=("OpenML_task_id",),
        cont_names=(
            "epoch",
            "batch_size",
            "learning_rate",
            "momentum",
            "weight_decay",
            "num_layers",
            "max_units",
            "max_dropout",
        ),
        y_names=(
            "time",
            "val_accuracy",
            "val_cross_entropy",
            "val_balanced_accuracy",
            "test_cross_entropy",
            "test_balanced_accuracy",
        ),
        fidelity_param="epoch",
        target="val_accuracy",
        scale=-0.01,
        offset=1.0,
        runtime_name="time",
        metric_text="the validation error rate (1 - validation accuracy) after the given number of epochs, to minimize",
        model_text="a funnel-shaped multilayer perceptron of Auto-PyTorch trained with SGD (LCBench)",
        instance_kind="task",
        param_text={
            "batch_size": "minibatch size",
            "learning_rate": "initial learning rate of SGD",
            "momentum": "SGD momentum",
            "weight_decay": "L2 weight decay",
            "num_layers": "number of hidden layers",
            "max_units": "units of the widest (first) hidden layer; later layers shrink",
            "max_dropout": "largest dropout rate of the layers",
        },
    ),
    "rbv2_xgboost": YAHPOScenario(
        name="rbv2_xgboost",
        instance_param="task_id",
        cat_names=("task_id", "booster", "num.impute.selected.cpo"),
        cont_names=(
            "nrounds",
            "eta",
            "gamma",
            "lambda",
            "alpha",
            "subsample",
            "max_depth",
            "min_child_weight",
            "colsample_bytree",
            "colsample_bylevel",
            "rate_drop",
            "skip_drop",
            "trainsize",
            "repl",
        ),
        y_names=_RBV2_Y,
        fidelity_param="trainsize",
        fixed={"repl": 10},
        target="acc",
        scale=-1.0,
        offset=1.0,
        runtime_name="timetrain",
        metric_text=_RBV2_METRIC,
        model_text="XGBoost (the rbv2 random-bot experiments in R / mlr)",
        instance_kind="data set",
        param_text={
            "booster": "gblinear (linear model), gbtree (trees) or dart (trees with dropout)",
            "nrounds": "number of boosting rounds",
            "eta": "learning rate (shrinkage)",
            "gamma": "minimum loss reduction to split a node",
            "lambda": "L2 regularization of the weights",
            "alpha": "L1 regularization of the weights",
            "subsample": "fraction of rows sampled per round",
            "max_depth": "maximum tree depth",
            "min_child_weight": "minimum sum of instance weights in a child",
            "colsample_bytree": "fraction of columns sampled per tree",
            "colsample_bylevel": "fraction of columns sampled per tree level",
            "rate_drop": "dart: fraction of trees dropped per round",
            "skip_drop": "dart: probability of skipping the dropout in a round",
            "num.impute.selected.cpo": _IMPUTE,
        },
    ),
    "rbv2_rpart": YAHPOScenario(
        name="rbv2_rpart",
        instance_param="task_id",
        cat_names=("task_id", "num.impute.selected.cpo"),
        cont_names=("cp", "maxdepth", "minbucket", "minsplit", "trainsize", "repl"),
        y_names=_RBV2_Y,
        fidelity_param="trainsize",
        fixed={"repl": 10},
        target="acc",
        scale=-1.0,
        offset=1.0,
        runtime_name="timetrain",
        metric_text=_RBV2_METRIC,
        model_text="a decision tree (R's rpart; the rbv2 random-bot experiments in R / mlr)",
        instance_kind="data set",
        param_text={
            "cp": "complexity parameter: a split must improve the fit by this fraction",
            "maxdepth": "maximum depth of the tree",
            "minbucket": "minimum number of observations in a leaf",
            "minsplit": "minimum number of observations in a node to try a split",
            "num.impute.selected.cpo": _IMPUTE,
        },
    ),
    "iaml_glmnet": YAHPOScenario(
        name="iaml_glmnet",
        instance_param="task_id",
        cat_names=("task_id",),
        cont_names=("alpha", "s", "trainsize"),
        y_names=(
            "mmce",
            "f1",
            "auc",
            "logloss",
            "ramtrain",
            "rammodel",
            "rampredict",
            "timetrain",
            "timepredict",
            "mec",
            "ias",
            "nf",
        ),
        fidelity_param="trainsize",
        target="mmce",
        scale=1.0,
        offset=0.0,
        runtime_name="timetrain",
        metric_text="the mean misclassification error (mmce) on held-out data, to minimize",
        model_text="an elastic-net logistic regression (R's glmnet; the iaml experiments)",
        instance_kind="data set",
        param_text={
            "alpha": "elastic-net mixing: 0 is ridge, 1 is lasso",
            "s": "regularization strength (glmnet's lambda) at which the model is used",
        },
    ),
}


def _settings_data_path() -> Path | None:
    """``data_path`` from yahpo-gym's settings file, or ``None`` when there is none."""
    settings = Path(os.environ.get("YAHPO_LOCAL_CONFIG") or "~/.config/yahpo_gym").expanduser()
    if not settings.is_file():
        return None
    import yaml

    try:
        data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    path = data.get("data_path") if isinstance(data, Mapping) else None
    return Path(str(path)).expanduser() if path else None


def find_yahpo_data(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder of ``yahpo_data``: ``data_dir``, else ``$HPOLAB_YAHPO_DATA``, else yahpo-gym's settings.

    Args:
        data_dir: The folder, if the caller knows it.

    Raises:
        DatasetUnavailableError: If no folder is given anywhere, or the one given does not exist;
            the message says what to set.
    """
    candidates: list[tuple[str, Path | None]] = [
        ("data_dir", Path(data_dir).expanduser() if data_dir is not None else None),
        (DATA_ENV, Path(os.environ[DATA_ENV]).expanduser() if os.environ.get(DATA_ENV) else None),
        ("data_path of yahpo-gym's settings file", _settings_data_path()),
    ]
    for source, path in candidates:
        if path is None:
            continue
        if not path.is_dir():
            raise DatasetUnavailableError(f"YAHPO data: {source} is {str(path)!r}, which is not a folder; {_GET_DATA}")
        return path
    raise DatasetUnavailableError(f"YAHPO data: no folder is set; {_GET_DATA}")


def _scenario(name: str) -> YAHPOScenario:
    spec = SCENARIOS.get(name)
    if spec is None:
        raise UnknownNameError(f"yahpo: scenario {name!r} is not supported; known: {', '.join(sorted(SCENARIOS))}")
    return spec


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetUnavailableError(
            f"YAHPO data: {path.name} of scenario {path.parent.name!r} is missing in {str(path.parent.parent)!r}; "
            f"{_GET_DATA}"
        ) from None


def _instances(config_space: Mapping[str, Any], spec: YAHPOScenario) -> list[str]:
    for hp in config_space["hyperparameters"]:
        if hp["name"] == spec.instance_param:
            return [str(c) for c in hp["choices"]]
    raise DatasetUnavailableError(
        f"YAHPO data: config_space.json of {spec.name!r} has no parameter {spec.instance_param!r}; "
        "is it yahpo_data v1.0.2?"
    )


def _names_in(entry: Any) -> set[str]:
    """The parameter names a serialized condition or forbidden clause refers to (nested ones too)."""
    if isinstance(entry, Mapping):
        own = {str(entry[k]) for k in ("name", "child", "parent", "left", "right") if isinstance(entry.get(k), str)}
        return own.union(*(_names_in(v) for v in entry.values() if isinstance(v, (Mapping, list))))
    if isinstance(entry, list):
        return set().union(*(_names_in(v) for v in entry))
    return set()


def _search_space(config_space: Mapping[str, Any], spec: YAHPOScenario) -> SearchSpace:
    """The scenario's space without the instance and the fidelities (conditions and forbiddens kept)."""
    from ConfigSpace import ConfigurationSpace

    dropped = {spec.instance_param, spec.fidelity_param, *spec.fixed}
    data = dict(config_space)
    data["hyperparameters"] = [  # ConfigSpace >= 1 names the JSON field "default" "default_value"
        {("default_value" if k == "default" else k): v for k, v in hp.items()}
        for hp in config_space["hyperparameters"]
        if hp["name"] not in dropped
    ]
    for key in ("conditions", "forbiddens"):
        data[key] = [c for c in config_space.get(key) or [] if not _names_in(c) & dropped]
    cs = ConfigurationSpace.from_serialized_dict(data)
    texts = {k: v for k, v in spec.param_text.items() if k in cs}
    return SearchSpace(cs, descriptions=texts)


_SESSIONS: dict[str, Any] = {}
_SESSIONS_LOCK = threading.Lock()


def _session(model: Path) -> Any:
    """One onnxruntime session per model file and process (single-threaded; sessions are thread-safe).

    The process id is part of the key, so a forked worker opens its own session.
    """
    path = str(model.resolve())
    key = f"{os.getpid()}:{path}"
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
            _SESSIONS[key] = session
        return session


class YAHPOObjective(Objective):
    """One YAHPO Gym surrogate benchmark: a scenario on one instance (an OpenML task / data set).

    Args:
        scenario: ``"lcbench"``, ``"rbv2_xgboost"``, ``"rbv2_rpart"`` or ``"iaml_glmnet"``.
        instance: The instance id, e.g. ``"167184"`` (see :meth:`instances`).
        data_dir: Folder of ``yahpo_data``; ``None`` looks it up (:func:`find_yahpo_data`).

    Raises:
        ImportError: If onnxruntime is not installed.
        DatasetUnavailableError: If the data folder or the scenario's files are missing.
        UnknownNameError: If the scenario or the instance is unknown.
    """

    metric_name = "validation error"

    def __init__(self, scenario: str, instance: str | int, *, data_dir: str | os.PathLike[str] | None = None) -> None:
        if importlib.util.find_spec("onnxruntime") is None:
            raise ImportError(f"yahpo/{scenario}/{instance}: onnxruntime is not installed; {_INSTALL}")
        self.spec = _scenario(scenario)
        self.data_dir = find_yahpo_data(data_dir)
        folder = self.data_dir / scenario
        self._model = folder / "model.onnx"
        config_space = _read_json(folder / "config_space.json")
        self._encoding: dict[str, dict[str, int]] = _read_json(folder / "encoding.json")
        if not self._model.is_file():
            raise DatasetUnavailableError(
                f"YAHPO data: model.onnx of scenario {scenario!r} is missing in {str(self.data_dir)!r}; {_GET_DATA}"
            )
        known = _instances(config_space, self.spec)
        self.instance = str(instance)
        if self.instance not in known:
            raise unknown_objective("yahpo", f"{scenario}/{self.instance}", [f"{scenario}/{i}" for i in known])
        self.name = f"yahpo/{scenario}/{self.instance}"
        self._space = _search_space(config_space, self.spec)
        fid = next(hp for hp in config_space["hyperparameters"] if hp["name"] == self.spec.fidelity_param)
        integer = fid["type"] == "uniform_int"
        self.fidelity = Fidelity(self.spec.fidelity_param, float(fid["lower"]), float(fid["upper"]), integer=integer)
        self.description = (
            f"You are tuning {self.spec.model_text} on the OpenML {self.spec.instance_kind} {self.instance}. "
            f"The objective is {self.spec.metric_text}. Its values are predictions of YAHPO Gym's surrogate "
            f"model (scenario {scenario}) of real training runs. The budget is the fidelity {self.fidelity.name} "
            f"({_fidelity_text(self.fidelity)})."
        )

    @property
    def search_space(self) -> SearchSpace:
        return self._space

    @staticmethod
    def instances(scenario: str, data_dir: str | os.PathLike[str] | None = None) -> list[str]:
        """The instance ids of ``scenario`` in the data folder."""
        spec = _scenario(scenario)
        return _instances(_read_json(find_yahpo_data(data_dir) / scenario / "config_space.json"), spec)

    def inputs(self, config: Mapping[str, Any], budget: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The network's inputs ``(x_cat, x_cont)`` for ``config`` at ``budget``, as yahpo-gym builds them.

        Raises:
            InvalidConfigError: If ``config`` is not in the space.
            ValueError: If ``budget`` is outside the fidelity's range.
        """
        assert self.fidelity is not None
        values: dict[str, Any] = dict(self._space.validate(config))
        values[self.spec.instance_param] = self.instance
        values[self.spec.fidelity_param] = self.fidelity.check(budget)
        values.update(self.spec.fixed)
        codes = [self._encoding[n][str(values[n]) if n in values else "#na#"] for n in self.spec.cat_names]
        numbers = [float(values.get(n, 0)) for n in self.spec.cont_names]
        return np.array([codes], dtype=np.int32), np.array([numbers], dtype=np.float32)

    def predict(self, config: Mapping[str, Any], budget: float | None = None) -> dict[str, float]:
        """Every target of the surrogate for ``config`` at ``budget`` (``None``: the full budget)."""
        x_cat, x_cont = self.inputs(config, budget)
        session = _session(self._model)
        first, second = (i.name for i in session.get_inputs())
        out = session.run([session.get_outputs()[0].name], {first: x_cat, second: x_cont})[0][0]
        return {name: float(y) for name, y in zip(self.spec.y_names, out, strict=True)}

    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        """Predict ``config`` at ``budget``; ``seed`` is ignored (the surrogate is deterministic).

        Returns:
            The value (see the module docstring), the predicted training time as the runtime (a
            negative prediction counts as 0), and every target plus the fidelities in ``info``.
        """
        assert self.fidelity is not None
        used = self.fidelity.check(budget)
        targets = self.predict(config, used)
        value = self.spec.offset + self.spec.scale * targets[self.spec.target]
        info: dict[str, Any] = dict(targets)
        info[self.spec.fidelity_param] = used
        info.update(self.spec.fixed)
        return TrialResult(value, runtime=max(targets[self.spec.runtime_name], 0.0), info=info)


def _fidelity_text(fidelity: Fidelity) -> str:
    if fidelity.integer:
        return f"{fidelity.min:g} to {fidelity.max:g} epochs"
    return f"fraction of the training data used, {fidelity.min:g} to {fidelity.max:g}"


def make_yahpo(rest: str, **kwargs: Any) -> Objective:
    """Registry factory of the ``yahpo`` family: ``rest`` is ``<scenario>/<instance>``."""
    scenario, sep, instance = rest.partition("/")
    if not sep or not instance or "/" in instance:
        raise UnknownNameError(
            f"objective: 'yahpo/{rest}' is not a YAHPO name; use yahpo/<scenario>/<instance> with scenario in "
            f"{', '.join(sorted(SCENARIOS))}, e.g. yahpo/lcbench/167184"
        )
    return YAHPOObjective(scenario, instance, **kwargs)


def list_yahpo() -> dict[str, str]:
    """Registry lister of the ``yahpo`` family: every instance of every scenario in the data folder.

    Without a data folder, one line says how to set it.
    """
    try:
        root = find_yahpo_data()
    except DatasetUnavailableError:
        return {"yahpo/<scenario>/<instance>": f"YAHPO Gym surrogates; set {DATA_ENV} to a copy of yahpo_data"}
    out: dict[str, str] = {}
    for name, spec in SCENARIOS.items():
        path = root / name / "config_space.json"
        if not path.is_file():
            continue
        for instance in _instances(_read_json(path), spec):
            out[f"yahpo/{name}/{instance}"] = (
                f"YAHPO {name} surrogate: {spec.model_text} on the OpenML {spec.instance_kind} {instance}"
            )
    return out
