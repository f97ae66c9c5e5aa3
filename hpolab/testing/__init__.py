"""Testing helpers: the optimizer conformance suite and small objectives for tests."""

from __future__ import annotations

from hpolab.testing._conformance import OptimizerTestCase, conditional_space, mixed_space, quadratic
from hpolab.testing._scripted import ScriptedClient

__all__ = ["OptimizerTestCase", "ScriptedClient", "conditional_space", "mixed_space", "quadratic"]
