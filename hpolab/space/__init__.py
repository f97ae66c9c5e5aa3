"""Search spaces: the hyperparameters to tune, on top of a ``ConfigSpace.ConfigurationSpace``."""

from __future__ import annotations

from hpolab.space._space import InvalidConfigError, InvalidSpaceError, Param, SearchSpace, format_config

__all__ = ["InvalidConfigError", "InvalidSpaceError", "Param", "SearchSpace", "format_config"]
