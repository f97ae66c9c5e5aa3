"""Where seed 003's suites have always imported their LLM stand-in from.

:class:`SimulatedLLMClient` lives in :mod:`hpolab.testing._simulated`, beside the other simulated
clients and their shared :class:`~hpolab.testing.SimulatedClient` base; this module keeps the old
import path (``from hpolab._simulated import SimulatedLLMClient``) working.
"""

from __future__ import annotations

from hpolab.testing._simulated import SimulatedLLMClient

__all__ = ["SimulatedLLMClient"]
