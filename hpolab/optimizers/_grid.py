"""Grid search."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from hpolab.optimizers._base import Optimizer, SearchExhausted
from hpolab.trial import Trial, TrialResult

__all__ = ["GridSearch"]


class GridSearch(Optimizer):
    """Every point of the space's grid, once.

    Categorical and ordinal parameters take all their values; int parameters all values when
    there are at most ``resolution`` of them; float parameters ``resolution`` points (log-spaced
    on a log scale). Conditional parameters vary only where active.

    When the grid is used up, ``when_exhausted`` decides: ``"stop"`` (default) raises
    :class:`SearchExhausted`, which ends a Study cleanly; ``"cycle"`` starts the grid again in a
    new order; ``"random"`` continues with random samples.

    Args:
        space: The search space.
        resolution: Points per continuous parameter.
        shuffle: Visit the grid in a random (seeded) order instead of lexicographic order.
        when_exhausted: ``"stop"``, ``"cycle"`` or ``"random"``.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed for the order (``shuffle``, ``cycle``) and for ``"random"``.
    """

    name: ClassVar[str] = "grid"

    def __init__(
        self,
        space: Any,
        *,
        resolution: int = 5,
        shuffle: bool = False,
        when_exhausted: Literal["stop", "cycle", "random"] = "stop",
        direction: Any = "minimize",
        seed: int | None = None,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        if when_exhausted not in ("stop", "cycle", "random"):
            raise ValueError(f"when_exhausted: {when_exhausted!r} is not 'stop', 'cycle' or 'random'")
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1:
            raise ValueError(f"resolution: {resolution!r} must be a positive int")
        size = self.space.grid_size(resolution)
        if size > 10_000_000:
            raise ValueError(
                f"resolution: {resolution} gives a grid of {size} points; lower the resolution or use random search"
            )
        self.resolution = resolution
        self.shuffle = shuffle
        self.when_exhausted = when_exhausted
        self._grid = self.space.grid(resolution)
        self._order = self._new_order()
        self._position = 0
        self._cycles = 0
        self._taken: set[Any] = set()

    def _meta_params(self) -> dict[str, Any]:
        return {
            "resolution": self.resolution,
            "shuffle": self.shuffle,
            "when_exhausted": self.when_exhausted,
            "grid_size": len(self._grid),
        }

    @property
    def grid(self) -> list[dict[str, Any]]:
        """All grid points, in visiting order."""
        return [self._grid[i] for i in self._order]

    @property
    def remaining(self) -> int:
        """Grid points not yet proposed in the current pass."""
        return len(self._grid) - self._position

    def _new_order(self) -> list[int]:
        if self.shuffle or self._events_cycles():
            return [int(i) for i in self._rng.permutation(len(self._grid))]
        return list(range(len(self._grid)))

    def _events_cycles(self) -> bool:
        return getattr(self, "_cycles", 0) > 0

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        """A point another worker evaluated is not proposed again."""
        self._taken.add(self.space.key(trial.config))

    def _ask(self, n: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        taken = self._taken | {self.space.key(t.config) for t in self.running_elsewhere}
        while len(out) < n:
            if self._position >= len(self._grid):
                if self.when_exhausted == "stop":
                    if out:
                        break
                    raise SearchExhausted(
                        f"grid: all {len(self._grid)} points were proposed; raise the resolution, "
                        "or use when_exhausted='cycle' or 'random'"
                    )
                if self.when_exhausted == "random":
                    out.append(self.space.sample(rng=self._rng))
                    continue
                self._cycles += 1
                self._order = self._new_order()
                self._position = 0
            point = self._grid[self._order[self._position]]
            self._position += 1
            if taken and self._cycles == 0 and self.space.key(point) in taken:
                continue
            out.append(dict(point))
        return out
