from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'hpolab[torch]')")
pytest.importorskip("sklearn", reason="the digits data come from scikit-learn")

import hpolab.registry as registry  # noqa: E402
from hpolab.objectives.cnn import CNNObjective, class_weights_seed004  # noqa: E402

CFG = {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "weight_decay": 1e-4, "label_smoothing": 0.05}


def test_cnn_digits_two_epochs_offline_and_deterministic_on_cpu():
    obj = registry.make_objective("cnn/digits", device="cpu")
    assert obj.name == "cnn/digits"
    assert obj.fidelity is not None and obj.fidelity.name == "epochs"
    assert "convolutional" in obj.description and "digits" in obj.description
    a = obj.evaluate(CFG, budget=2, seed=7)
    b = obj.evaluate(CFG, budget=2, seed=7)
    assert a.value == b.value
    assert a.info["train_loss"] == b.info["train_loss"] and a.info["val_loss"] == b.info["val_loss"]
    assert len(a.info["train_loss"]) == 2 and len(a.info["val_loss"]) == 2
    assert a.info["train_loss"][1] < a.info["train_loss"][0]  # it learns
    assert a.value < 0.9  # better than chance (10 classes)
    assert a.info["device"] == "cpu" and a.cost > 0
    c = obj.evaluate(CFG, budget=2, seed=8)
    assert c.info["train_loss"] != a.info["train_loss"]  # the seed matters
    # a pickled copy (as in a worker process) gives the same value
    clone = pickle.loads(pickle.dumps(obj))
    assert clone.evaluate(CFG, budget=2, seed=7).value == a.value


def test_second_space_seed000_momentum():
    obj = registry.make_objective("cnn/digits-momentum", device="cpu")
    assert obj.name == "cnn/digits-momentum"
    space = obj.search_space
    assert set(space.names) == {"lr", "momentum", "batch_size"}
    assert (space["lr"].lower, space["lr"].upper) == (1e-4, 1.0)
    assert (space["momentum"].lower, space["momentum"].upper) == (0.01, 0.99)
    assert space["batch_size"].kind == "ordinal"
    r = obj.evaluate({"lr": 0.05, "momentum": 0.9, "batch_size": 128}, budget=1, seed=0)
    assert 0.0 <= r.value <= 1.0 and len(r.info["val_loss"]) == 1


def test_subset_and_balance_on_imbalanced_digits():
    common = {"imbalance": 0.1, "subset_fraction": 0.5, "device": "cpu"}
    none = CNNObjective("digits", balance="none", **common).training_set()
    counts = np.array(none["class_counts"])
    # long-tailed: the last class has about a tenth of the first
    assert counts[-1] < 0.25 * counts[0]
    assert none["class_weights"] is None

    pool = np.array(CNNObjective("digits", imbalance=0.1, device="cpu").training_set()["class_counts"])
    assert counts.sum() == round(0.5 * pool.sum())  # subset_fraction of the long-tailed pool
    balanced = CNNObjective("digits", balance="balanced_subset", **common).training_set()
    bc = np.array(balanced["class_counts"])
    per_class = round(0.5 * pool.sum()) // 10  # the subset size / K, capped by what a class has
    assert bc.tolist() == np.minimum(per_class, pool).tolist()
    assert bc.std() < counts.std()

    weighted = CNNObjective("digits", balance="class_weights", **common).training_set()
    assert weighted["class_counts"] == none["class_counts"]  # same images
    w = np.array(weighted["class_weights"])
    assert w[np.argmax(counts)] == 1.0
    assert (w >= 1.0).all()
    n = counts.sum()
    rare = int(np.argmin(counts))
    assert w[rare] == pytest.approx(math.log(n / counts[rare]))  # seed 004: w_k = ln(n / n_k)
    assert w[rare] > 2.0

    augmented = CNNObjective("digits", balance="augmentation", **common).training_set()
    assert augmented["class_counts"] == [4 * c for c in none["class_counts"]]  # 3 altered copies each

    # the weights reach the loss: training differs, the images do not
    obj_w = CNNObjective("digits", balance="class_weights", **common)
    obj_n = CNNObjective("digits", balance="none", **common)
    rw = obj_w.evaluate(CFG, budget=1, seed=0)
    rn = obj_n.evaluate(CFG, budget=1, seed=0)
    assert rw.info["class_weights"] == weighted["class_weights"]
    assert rw.info["train_loss"] != rn.info["train_loss"]


def test_class_weight_formula():
    w = class_weights_seed004(np.array([600, 300, 100]))
    assert w[0] == 1.0
    assert w[1] == pytest.approx(max(math.log(1000 / 300), 1.0))
    assert w[2] == pytest.approx(math.log(10.0))


def test_options_are_checked():
    with pytest.raises(ValueError, match="balance"):
        CNNObjective("digits", balance="oversample")
    with pytest.raises(ValueError, match="subset_fraction"):
        CNNObjective("digits", subset_fraction=0.0)
    with pytest.raises(registry.UnknownNameError):
        registry.make_objective("cnn/svhn")


def test_vision_data_sets_need_torchvision_or_files(tmp_path):
    from hpolab.objectives.datasets import DatasetUnavailableError

    try:
        import torchvision  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="hpolab\\[vision\\]"):
            CNNObjective("cifar10", root=str(tmp_path))
    else:
        with pytest.raises(DatasetUnavailableError, match="download=True"):
            CNNObjective("cifar10", root=str(tmp_path))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here (torch.cuda.is_available() is False)")
def test_cnn_digits_trains_on_cuda():
    obj = registry.make_objective("cnn/digits")  # device="auto"
    r = obj.evaluate(CFG, budget=2, seed=0)
    assert r.info["device"] == "cuda"
    assert len(r.info["val_loss"]) == 2 and r.value < 0.9
