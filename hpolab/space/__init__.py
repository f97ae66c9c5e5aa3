"""Search spaces: the hyperparameters to tune, on top of a ``ConfigSpace.ConfigurationSpace``.

:class:`SearchSpace` samples, validates and repairs configurations and maps itself to ConfigSpace
(SMAC) and Optuna distributions (TPE); :class:`Param` is one hyperparameter in plain form;
:func:`format_config` writes a configuration as the one JSON line prompts and records use.

The modules, each importing only those before it: ``_values`` (plain
values and their text), ``_params`` (:class:`Param`), ``_spec`` (dict entries and ConfigSpace
hyperparameters read into Params), ``_optuna`` (Optuna's distributions both ways), ``_space``
(:class:`SearchSpace`: conditions, sampling, validation, repair).
"""

from __future__ import annotations

from hpolab.exceptions import InvalidConfigError, InvalidSpaceError
from hpolab.space._params import Param
from hpolab.space._space import SearchSpace
from hpolab.space._values import format_config

__all__ = ["InvalidConfigError", "InvalidSpaceError", "Param", "SearchSpace", "format_config"]
