"""Testing helpers: the optimizer conformance suite and small objectives for tests."""

from __future__ import annotations

from hpolab.testing._conformance import OptimizerTestCase, conditional_space, mixed_space, quadratic
from hpolab.testing._scripted import ScriptedClient
from hpolab.testing._tiny_llama import save_tiny_llama

__all__ = ["OptimizerTestCase", "ScriptedClient", "conditional_space", "mixed_space", "quadratic", "save_tiny_llama"]
