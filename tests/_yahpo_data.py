"""Where the tests find ``yahpo_data`` (v1.0.2): ``HPOLAB_YAHPO_DATA``, else ``../shared/yahpo_data`` next to the repository.

The tests directory is on ``sys.path`` (pytest puts the root ``conftest.py``'s folder there), so any
test module imports it as ``from _yahpo_data import ...``.
"""

from __future__ import annotations

import os
from pathlib import Path

from hpolab.objectives.yahpo import DATA_ENV

__all__ = ["NO_DATA", "yahpo_data_dir"]

#: The skip reason of a test that needs the data.
NO_DATA = f"no YAHPO data: set {DATA_ENV} or put yahpo_data at ../shared/yahpo_data"


def yahpo_data_dir() -> Path | None:
    """The data folder: ``$HPOLAB_YAHPO_DATA``, else ``../shared/yahpo_data`` if it exists, else ``None``."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "yahpo_data"
    return shared if shared.is_dir() else None
