from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the data sets come from scikit-learn")

from hpolab.objectives.datasets import OFFLINE_SUBSTITUTES, OPENML_IDS, TWINS, class_counts, load_tabular


@pytest.mark.parametrize("name", sorted(TWINS))
def test_twins_have_the_openml_shape_and_are_fixed(name):
    rows, features, weights = TWINS[name]
    ds = load_tabular(f"twin_{name}", download=False)
    assert ds.X.shape == (rows, features)
    assert ds.n_classes == len(weights)
    share = class_counts(ds.y, ds.n_classes) / rows
    assert np.abs(np.sort(share) - np.sort(weights)).max() < 0.06  # flip_y moves a few labels
    assert name in ds.text and "synthetic" in ds.text and ds.source == "synthetic"
    again = load_tabular(f"twin_{name}", download=False)
    assert np.array_equal(ds.X, again.X) and np.array_equal(ds.y, again.y)


def test_every_hpobench_data_set_has_an_offline_substitute():
    assert set(OFFLINE_SUBSTITUTES) == set(OPENML_IDS)
    for sub in OFFLINE_SUBSTITUTES.values():
        assert load_tabular(sub, download=False).X.shape[0] > 100
