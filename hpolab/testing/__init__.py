"""Testing helpers: the optimizer conformance suite, the study fault suite, LLM test doubles, small spaces.

Importing this package needs no pytest: :class:`OptimizerTestCase` (the conformance suite) and
:class:`StudyFaultTestCase` (the fault suite) are pytest-based and imported on first use; each says
how to install pytest when it is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpolab.llm.clients._memorizer import SimulatedMemorizerClient
from hpolab.llm.clients._simulated import (
    SimulatedAdversaryClient,
    SimulatedClient,
    SimulatedLLMClient,
    SimulatedOracleClient,
    simulated_client,
)
from hpolab.testing._scripted import ScriptedClient
from hpolab.testing._spaces import conditional_space, mixed_space, quadratic
from hpolab.testing._tiny_llama import save_tiny_llama

if TYPE_CHECKING:
    from hpolab.testing._conformance import OptimizerTestCase
    from hpolab.testing._faults_storage import StorageFaultTestCase
    from hpolab.testing._faults_study import StudyFaultTestCase

__all__ = [
    "OptimizerTestCase",
    "ScriptedClient",
    "SimulatedAdversaryClient",
    "SimulatedClient",
    "SimulatedLLMClient",
    "SimulatedMemorizerClient",
    "SimulatedOracleClient",
    "StorageFaultTestCase",
    "StudyFaultTestCase",
    "conditional_space",
    "mixed_space",
    "quadratic",
    "save_tiny_llama",
    "simulated_client",
]


def __getattr__(name: str) -> Any:
    suites = {
        "OptimizerTestCase": "hpolab.testing._conformance",
        "StorageFaultTestCase": "hpolab.testing._faults_storage",
        "StudyFaultTestCase": "hpolab.testing._faults_study",
    }
    if name in suites:
        import importlib

        try:
            module = importlib.import_module(suites[name])
        except ImportError as exc:
            if exc.name != "pytest":
                raise
            raise ImportError(
                f'hpolab.testing.{name} is a pytest suite: pip install pytest (or "hpolab[dev]")'
            ) from exc
        return getattr(module, name)
    raise AttributeError(f"module 'hpolab.testing' has no attribute {name!r}")
