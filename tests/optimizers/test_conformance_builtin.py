"""The conformance suite against the built-in random and grid backends."""

from __future__ import annotations

from typing import ClassVar

import pytest

from hpolab.optimizers import GridSearch, RandomSearch
from hpolab.testing import OptimizerTestCase


class TestRandomSearch(OptimizerTestCase):
    registry_name = "random"

    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": RandomSearch(space, seed=seed, direction=direction)


class TestGridSearch(OptimizerTestCase):
    registry_name = "grid"
    registry_kwargs: ClassVar[dict] = {"shuffle": True}

    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": GridSearch(
            space, seed=seed, direction=direction, shuffle=True, resolution=3
        )
