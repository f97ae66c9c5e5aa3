"""Testing helpers: the optimizer conformance suite, an LLM test double, small spaces and a tiny model.

Importing this package needs no pytest: :class:`OptimizerTestCase` (the pytest-based conformance
suite) is imported on first use, and says how to install pytest when it is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpolab.testing._memorizer import SimulatedMemorizerClient
from hpolab.testing._scripted import ScriptedClient
from hpolab.testing._simulated import (
    SimulatedAdversaryClient,
    SimulatedClient,
    SimulatedLLMClient,
    SimulatedOracleClient,
    simulated_client,
)
from hpolab.testing._spaces import conditional_space, mixed_space, quadratic
from hpolab.testing._tiny_llama import save_tiny_llama

if TYPE_CHECKING:
    from hpolab.testing._conformance import OptimizerTestCase
    from hpolab.testing._faults_storage import StorageFaultTestCase

__all__ = [
    "OptimizerTestCase",
    "ScriptedClient",
    "SimulatedAdversaryClient",
    "SimulatedClient",
    "SimulatedLLMClient",
    "SimulatedMemorizerClient",
    "SimulatedOracleClient",
    "StorageFaultTestCase",
    "conditional_space",
    "mixed_space",
    "quadratic",
    "save_tiny_llama",
    "simulated_client",
]


def __getattr__(name: str) -> Any:
    if name == "StorageFaultTestCase":  # a pytest suite, like OptimizerTestCase
        from hpolab.testing._faults_storage import StorageFaultTestCase

        return StorageFaultTestCase
    if name == "OptimizerTestCase":
        try:
            from hpolab.testing._conformance import OptimizerTestCase
        except ImportError as exc:
            if exc.name != "pytest":
                raise
            raise ImportError(
                'hpolab.testing.OptimizerTestCase is a pytest suite: pip install pytest (or "hpolab[dev]")'
            ) from exc
        return OptimizerTestCase
    raise AttributeError(f"module 'hpolab.testing' has no attribute {name!r}")
