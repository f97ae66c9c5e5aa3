"""Testing helpers: the optimizer conformance suite and small objectives for tests."""

from __future__ import annotations

from hpolab.testing._conformance import OptimizerTestCase, conditional_space, mixed_space, quadratic

__all__ = ["OptimizerTestCase", "conditional_space", "mixed_space", "quadratic"]
