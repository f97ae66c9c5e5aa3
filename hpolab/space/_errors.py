"""The errors of a search space: a configuration outside it, a specification that is no space."""

from __future__ import annotations

from collections.abc import Sequence

from hpolab._errors import HpolabError

__all__ = ["InvalidConfigError", "InvalidSpaceError"]


class InvalidConfigError(HpolabError, ValueError):
    """A configuration is not inside its search space.

    Attributes:
        problems: One message per offending key, each naming the key, the value and the bound.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class InvalidSpaceError(HpolabError, ValueError):
    """A search-space specification cannot be turned into a SearchSpace."""
