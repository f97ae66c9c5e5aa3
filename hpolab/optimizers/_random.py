"""Random search."""

from __future__ import annotations

from typing import Any, ClassVar

from hpolab.optimizers._base import Optimizer

__all__ = ["RandomSearch"]


class RandomSearch(Optimizer):
    """Independent uniform samples (log-uniform on log scales) from the search space.

    A batch ask returns independent samples. Conditional parameters are sampled only where active.
    """

    name: ClassVar[str] = "random"

    def _ask(self, n: int) -> list[dict[str, Any]]:
        return self.space.sample(n, rng=self._rng)
