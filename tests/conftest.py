"""Settings shared by the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _llm_prefix_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the local model's prompt-prefix states (on by default) out of the user's cache directory.

    Set in the environment, so worker and CLI subprocesses started by tests inherit it too.
    """
    old = os.environ.get("HPOLAB_LLM_CACHE")
    os.environ["HPOLAB_LLM_CACHE"] = str(tmp_path_factory.mktemp("llm-prefix-cache"))
    yield
    if old is None:
        os.environ.pop("HPOLAB_LLM_CACHE", None)
    else:
        os.environ["HPOLAB_LLM_CACHE"] = old
