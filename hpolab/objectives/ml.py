"""Live scikit-learn / XGBoost objectives ``ml/<model>/<dataset>`` (HPOBench-style).

The models and search spaces are those of HPOBench's ML benchmarks (SVM, logistic regression,
random forest, neural net) plus XGBoost's four hyperparameters, with scikit-learn's documentation
texts as the parameter descriptions an LLM sees:

============  ===============================================  ===========================================
model         search space                                     fidelity (``budget``)
============  ===============================================  ===========================================
``svm``       C, gamma in [2^-10, 2^10] (log); SVC, RBF kernel  none
``lr``        alpha, eta0 in [1e-5, 1] (log); SGDClassifier,   ``epochs`` in [10, 1000] (``max_iter``)
              log loss, adaptive learning rate
``rf``        max_depth [1, 50] (log), max_features [0, 1]      ``n_estimators`` (trees) in [16, 512]
              (``n_features ** max_features`` features),
              min_samples_leaf [1, 20], min_samples_split
              [2, 128] (log)
``mlp``       alpha [1e-8, 1] (log), batch_size [4, 256]        ``epochs`` in [3, 243] (``max_iter``)
              (log), depth [1, 3], learning_rate_init
              [1e-5, 1] (log), width [16, 1024] (log);
              MLPClassifier, ReLU, Adam
``xgboost``   colsample_bytree [0.1, 1], eta [2^-10, 1]         ``n_estimators`` (boosting rounds) in
              (log), max_depth [1, 50] (log), reg_lambda        [50, 2000]
              [2^-10, 2^10] (log)
============  ===============================================  ===========================================

The value is the validation error on a seeded stratified hold-out split (33% by default):
``1 - accuracy``, or ``1 - balanced accuracy`` where the classes are skewed (``metric="auto"``
picks the balanced error when the smallest class has under a quarter of the largest class's
samples); the description says which. The runtime is the wall time of the fit. Inputs are
standardized with the training split's mean and standard deviation.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from hpolab.objectives.base import Fidelity, Objective
from hpolab.objectives.datasets import BUILTIN_TABULAR, OPENML_IDS, Dataset, load_tabular, stratified_split
from hpolab.space import SearchSpace
from hpolab.trial import TrialResult

__all__ = ["METRIC_NAMES", "ML_MODELS", "MLObjective", "list_ml", "make_ml"]

logger = logging.getLogger("hpolab.objectives.ml")

_INSTALL = 'pip install "hpolab[ml]"'

#: Ratio (smallest / largest class count) under which ``metric="auto"`` uses the balanced error.
IMBALANCE_THRESHOLD = 0.25

#: Each ``metric``'s name in Optuna's tools (:attr:`Objective.metric_name`).
METRIC_NAMES: dict[str, str] = {"error": "validation error", "balanced_error": "validation balanced error"}

_TWO10 = 2.0**-10


def _cs(params: list[Any]) -> Any:
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace()
    cs.add(params)
    return cs


def _svm_space() -> Any:
    import ConfigSpace as CS

    return _cs(
        [
            CS.UniformFloatHyperparameter("C", _TWO10, 2.0**10, default_value=1.0, log=True),
            CS.UniformFloatHyperparameter("gamma", _TWO10, 2.0**10, default_value=0.1, log=True),
        ]
    )


def _lr_space() -> Any:
    import ConfigSpace as CS

    return _cs(
        [
            CS.UniformFloatHyperparameter("alpha", 1e-5, 1.0, default_value=1e-3, log=True),
            CS.UniformFloatHyperparameter("eta0", 1e-5, 1.0, default_value=1e-2, log=True),
        ]
    )


def _rf_space() -> Any:
    import ConfigSpace as CS

    return _cs(
        [
            CS.UniformIntegerHyperparameter("max_depth", 1, 50, default_value=10, log=True),
            CS.UniformFloatHyperparameter("max_features", 0.0, 1.0, default_value=0.5),
            CS.UniformIntegerHyperparameter("min_samples_leaf", 1, 20, default_value=1),
            CS.UniformIntegerHyperparameter("min_samples_split", 2, 128, default_value=32, log=True),
        ]
    )


def _mlp_space() -> Any:
    import ConfigSpace as CS

    return _cs(
        [
            CS.UniformFloatHyperparameter("alpha", 1e-8, 1.0, default_value=1e-3, log=True),
            CS.UniformIntegerHyperparameter("batch_size", 4, 256, default_value=32, log=True),
            CS.UniformIntegerHyperparameter("depth", 1, 3, default_value=3),
            CS.UniformFloatHyperparameter("learning_rate_init", 1e-5, 1.0, default_value=1e-3, log=True),
            CS.UniformIntegerHyperparameter("width", 16, 1024, default_value=64, log=True),
        ]
    )


def _xgb_space() -> Any:
    import ConfigSpace as CS

    return _cs(
        [
            CS.UniformFloatHyperparameter("colsample_bytree", 0.1, 1.0, default_value=1.0),
            CS.UniformFloatHyperparameter("eta", _TWO10, 1.0, default_value=0.3, log=True),
            CS.UniformIntegerHyperparameter("max_depth", 1, 50, default_value=10, log=True),
            CS.UniformFloatHyperparameter("reg_lambda", _TWO10, 2.0**10, default_value=1.0, log=True),
        ]
    )


#: model -> (prompt name, estimator text, space builder, per-parameter texts, fidelity or None)
ML_MODELS: dict[str, tuple[str, str, Any, dict[str, str], Fidelity | None]] = {
    "svm": (
        "support vector machine",
        "scikit-learn SVC with an RBF kernel",
        _svm_space,
        {
            # HPOBench's spaces (scikit-learn documentation)
            "C": "regularization parameter. The strength of the regularization is inversely proportional to C. "
            "Must be strictly positive. The penalty is a squared l2 penalty",
            "gamma": "Kernel coefficient for rbf",
        },
        None,
    ),
    "lr": (
        "logistic regression",
        "scikit-learn SGDClassifier with the log loss and an adaptive learning rate",
        _lr_space,
        {
            "alpha": "constant that multiplies the regularization term. The higher the value, the stronger the regularization",
            "eta0": "The initial learning rate for the adaptive schedule",
        },
        Fidelity("epochs", 10, 1000),
    ),
    "rf": (
        "random forest",
        "scikit-learn RandomForestClassifier (max_features is used as n_features ** max_features)",
        _rf_space,
        {
            "max_depth": "the maximum depth of the tree",
            "max_features": "the number of features to consider when looking for the best split",
            "min_samples_leaf": "the minimum number of samples required to be at a leaf node",
            "min_samples_split": "the minimum number of samples required to split an internal node",
        },
        Fidelity("n_estimators", 16, 512),
    ),
    "mlp": (
        "neural net",
        "scikit-learn MLPClassifier with depth hidden layers of width units, ReLU and Adam",
        _mlp_space,
        {"alpha": "l2 regularization"},
        Fidelity("epochs", 3, 243),
    ),
    "xgboost": (
        "XGBoost model",
        "XGBoost XGBClassifier, gbtree booster",
        _xgb_space,
        {
            # XGBoost parameter documentation
            "colsample_bytree": "the subsample ratio of columns when constructing each tree",
            "eta": "step size shrinkage used in each boosting step to prevent overfitting (learning rate)",
            "max_depth": "maximum depth of a tree",
            "reg_lambda": "L2 regularization term on weights",
        },
        Fidelity("n_estimators", 50, 2000),
    ),
}


class MLObjective(Objective):
    """Train a scikit-learn / XGBoost classifier and return its validation error.

    Args:
        model: One of :data:`ML_MODELS` (``svm``, ``lr``, ``rf``, ``mlp``, ``xgboost``).
        dataset: A data set name for :func:`~hpolab.objectives.datasets.load_tabular`.
        metric: ``"error"`` (1 - accuracy), ``"balanced_error"`` (1 - balanced accuracy) or
            ``"auto"`` (balanced error when the smallest class has under a quarter of the largest
            class's samples).
        valid_fraction: Fraction of each class held out for validation.
        split_seed: Seed of the stratified split (the same split for every trial).
        max_budget: Full budget of the fidelity (default: HPOBench's maximum).
        data_home: Cache directory of OpenML data.
        download: Whether an OpenML data set missing from the cache may be downloaded.
        n_jobs: Threads for random forests and XGBoost.
        seed: Seed of the generator that draws a model seed when ``evaluate`` gets ``seed=None``.
        name: Registry name (default ``ml/<model>/<dataset>``).

    Raises:
        ValueError: If the model or the metric is unknown.
        DatasetUnavailableError: If the data set cannot be loaded.
    """

    def __init__(
        self,
        model: str,
        dataset: str,
        *,
        metric: str = "auto",
        valid_fraction: float = 0.33,
        split_seed: int = 0,
        max_budget: float | None = None,
        data_home: str | None = None,
        download: bool = True,
        n_jobs: int = 1,
        seed: int | None = None,
        name: str | None = None,
    ) -> None:
        if model not in ML_MODELS:
            raise ValueError(f"model: {model!r} is unknown; known: {', '.join(ML_MODELS)}")
        if metric not in ("auto", "error", "balanced_error"):
            raise ValueError(f"metric: {metric!r} is not 'auto', 'error' or 'balanced_error'")
        _require_sklearn(model)
        self.model = model
        self.dataset = dataset
        self.valid_fraction = float(valid_fraction)
        self.split_seed = int(split_seed)
        self.data_home = data_home
        self.download = download
        self.n_jobs = int(n_jobs)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.name = name or f"ml/{model}/{dataset}"
        prompt_name, estimator, builder, texts, fidelity = ML_MODELS[model]
        if fidelity is not None and max_budget is not None:
            fidelity = Fidelity(
                fidelity.name, min(fidelity.min, float(max_budget)), float(max_budget), fidelity.integer
            )
        elif max_budget is not None:
            raise ValueError(f"max_budget: {model} has no fidelity")
        self.fidelity = fidelity
        self._space = SearchSpace(builder(), descriptions=texts)
        self._data: dict[str, Any] | None = None
        data = self._load()
        ds: Dataset = data["dataset"]
        if metric == "auto":
            metric = "balanced_error" if ds.imbalance_ratio < IMBALANCE_THRESHOLD else "error"
        self.metric = metric
        self.metric_name = METRIC_NAMES[metric]
        self.optimum = None
        metric_text = (
            "the validation error rate (1 - accuracy)"
            if metric == "error"
            else "the balanced validation error rate (1 - balanced accuracy, the mean recall over classes; "
            "the classes are imbalanced)"
        )
        self.prompt_model = prompt_name
        self.description = (
            f"You are tuning {_article(prompt_name)} {prompt_name} ({estimator}) on {ds.text}. The objective is {metric_text} on a "
            f"stratified {round(100 * self.valid_fraction)}% hold-out split, to minimize."
        )

    # ---------------------------------------------------------------- data
    def _load(self) -> dict[str, Any]:
        if self._data is None:
            ds = load_tabular(self.dataset, data_home=self.data_home, download=self.download)
            train, valid = stratified_split(ds.y, self.valid_fraction, self.split_seed)
            X_train, X_valid = ds.X[train], ds.X[valid]
            mean = X_train.mean(axis=0)
            std = X_train.std(axis=0)
            std[std == 0] = 1.0
            self._data = {
                "dataset": ds,
                "X_train": (X_train - mean) / std,
                "X_valid": (X_valid - mean) / std,
                "y_train": ds.y[train],
                "y_valid": ds.y[valid],
            }
        return self._data

    @property
    def search_space(self) -> SearchSpace:
        return self._space

    # ------------------------------------------------------------ evaluate
    def _estimator(self, cfg: Mapping[str, Any], budget: int | None, seed: int, n_features: int, n_classes: int) -> Any:
        if self.model == "svm":
            from sklearn.svm import SVC

            return SVC(C=cfg["C"], gamma=cfg["gamma"], kernel="rbf", cache_size=200, random_state=seed)
        if self.model == "lr":
            from sklearn.linear_model import SGDClassifier

            return SGDClassifier(
                loss="log_loss",
                alpha=cfg["alpha"],
                eta0=cfg["eta0"],
                learning_rate="adaptive",
                max_iter=int(budget or 1000),
                tol=None,
                random_state=seed,
            )
        if self.model == "rf":
            from sklearn.ensemble import RandomForestClassifier

            return RandomForestClassifier(
                n_estimators=int(budget or 512),
                max_depth=cfg["max_depth"],
                max_features=max(1, int(np.rint(np.power(n_features, cfg["max_features"])))),
                min_samples_leaf=cfg["min_samples_leaf"],
                min_samples_split=cfg["min_samples_split"],
                bootstrap=True,
                random_state=seed,
                n_jobs=self.n_jobs,
            )
        if self.model == "mlp":
            from sklearn.neural_network import MLPClassifier

            return MLPClassifier(
                hidden_layer_sizes=[cfg["width"]] * cfg["depth"],
                activation="relu",
                solver="adam",
                alpha=cfg["alpha"],
                batch_size=cfg["batch_size"],
                learning_rate_init=cfg["learning_rate_init"],
                max_iter=int(budget or 243),
                random_state=seed,
            )
        from xgboost import XGBClassifier

        return XGBClassifier(
            n_estimators=int(budget or 2000),
            learning_rate=cfg["eta"],
            max_depth=cfg["max_depth"],
            colsample_bytree=cfg["colsample_bytree"],
            reg_lambda=cfg["reg_lambda"],
            subsample=1.0,
            booster="gbtree",
            tree_method="hist",
            random_state=seed,
            n_jobs=self.n_jobs,
        )

    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        """Fit on the training split and score on the validation split.

        Args:
            config: A configuration of :attr:`search_space` (validated; out-of-range values raise).
            budget: The fidelity (epochs / trees / rounds); ``None`` is the full budget.
            seed: The model's ``random_state``; ``None`` draws one from the objective's generator.

        Returns:
            Value = validation error (see :attr:`metric`); runtime = fit wall time in seconds; info:
            ``accuracy``, ``balanced_accuracy``, ``train_error``, ``metric``, ``budget``, ``model_seed``
            and, for ``mlp``, the per-epoch training loss in ``train_loss``.
        """
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.metrics import accuracy_score, balanced_accuracy_score

        cfg = self._space.validate(config)
        b: int | None = None
        if self.fidelity is not None:
            b = int(self.fidelity.check(budget))
        model_seed = int(self._rng.integers(2**31 - 1)) if seed is None else int(seed) % (2**31 - 1)
        data = self._load()
        X_train, y_train = data["X_train"], data["y_train"]
        ds: Dataset = data["dataset"]
        est = self._estimator(cfg, b, model_seed, X_train.shape[1], ds.n_classes)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", UserWarning)
                est.fit(X_train, y_train)
        except (ValueError, ArithmeticError, MemoryError) as exc:
            return TrialResult.fail(f"{self.name}: fit failed for {cfg}: {type(exc).__name__}: {exc}")
        fit_time = time.perf_counter() - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pred_valid = np.asarray(est.predict(data["X_valid"]))
            pred_train = np.asarray(est.predict(X_train))
        acc = float(accuracy_score(data["y_valid"], pred_valid))
        bacc = float(balanced_accuracy_score(data["y_valid"], pred_valid))
        train_acc = (
            float(accuracy_score(y_train, pred_train))
            if self.metric == "error"
            else float(balanced_accuracy_score(y_train, pred_train))
        )
        value = 1.0 - acc if self.metric == "error" else 1.0 - bacc
        info: dict[str, Any] = {
            "accuracy": acc,
            "balanced_accuracy": bacc,
            "train_error": 1.0 - train_acc,
            "metric": self.metric,
            "budget": b,
            "model_seed": model_seed,
        }
        curve = getattr(est, "loss_curve_", None)
        if curve is not None:
            info["train_loss"] = [float(x) for x in curve if math.isfinite(x)]
            info["epochs_run"] = int(getattr(est, "n_iter_", len(curve)))
        return TrialResult(value, runtime=fit_time, info=info)

    # ------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        ds = self._data["dataset"] if self._data is not None else None
        # built-ins are reloaded in the worker; OpenML data travel with the objective (the worker may lack the cache)
        if ds is not None and ds.source == "sklearn":
            state["_data"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" or noun.startswith("XGB") else "a"


def _require_sklearn(model: str) -> None:
    try:
        import sklearn  # noqa: F401

        if model == "xgboost":
            import xgboost  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"{exc}. The ml objectives need scikit-learn and XGBoost: {_INSTALL}") from exc


def make_ml(rest: str, **kwargs: Any) -> MLObjective:
    """Registry factory of ``ml/<model>/<dataset>``."""
    from hpolab.registry import unknown_objective

    model, _, dataset = rest.partition("/")
    if model not in ML_MODELS or not dataset:
        raise unknown_objective("ml", rest, [n.partition("/")[2] for n in list_ml()])
    return MLObjective(model, dataset, **kwargs)


def list_ml() -> dict[str, str]:
    """Registry lister of the ``ml`` family: every model on the built-in and HPOBench data sets."""
    out: dict[str, str] = {}
    for model, (prompt_name, estimator, _, _, fidelity) in ML_MODELS.items():
        fid = f", fidelity {fidelity.name} in [{fidelity.min:g}, {fidelity.max:g}]" if fidelity else ""
        for ds in BUILTIN_TABULAR:
            out[f"ml/{model}/{ds}"] = f"{prompt_name} ({estimator}) on the scikit-learn {ds} data (offline){fid}"
        for ds in OPENML_IDS:
            out[f"ml/{model}/{ds}"] = (
                f"{prompt_name} ({estimator}) on the OpenML data set {ds} (id {OPENML_IDS[ds]}; downloaded once, cached){fid}"
            )
        out[f"ml/{model}/<openml name or id>"] = f"{prompt_name} on any OpenML data set{fid}"
    return out
