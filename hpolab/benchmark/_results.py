"""Reading runs back: the trial table, each study's bookkeeping and the seed schemes a storage holds."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab._secrets import mask_secrets
from hpolab._table import COLUMNS
from hpolab.benchmark._plan import SEED_SCHEMES
from hpolab.benchmark._transfer import TRANSFER_ATTR
from hpolab.trial import regret

if TYPE_CHECKING:
    import pandas as pd

    from hpolab.storage import Storage

__all__ = [
    "load_results",
    "open_results",
    "results_storage",
    "run_key",
    "run_keys",
    "seed_note",
    "select_runs",
    "storage_seed_schemes",
    "study_contexts",
]

#: Name of the study attribute where the benchmark keeps its bookkeeping.
_ATTR = "benchmark"


def _study_scheme(info: Any) -> int | None:
    """The seed scheme a harness study was run with (1 when its bookkeeping names none); ``None``: no harness study."""
    meta = (info.attrs or {}).get(_ATTR)
    if not isinstance(meta, Mapping) or "objective" not in meta:
        return None
    return int(meta.get("seed_scheme", 1))


def _schemes_in(store: Storage) -> dict[int, int]:
    counts: dict[int, int] = {}
    for info in store.list_studies():
        scheme = _study_scheme(info)
        if scheme is not None:
            counts[scheme] = counts.get(scheme, 0) + 1
    return counts


def storage_seed_schemes(storage: str | os.PathLike[str]) -> dict[int, int]:
    """How many harness runs in a storage used each seed scheme (:data:`SEED_SCHEMES`): ``{scheme: runs}``."""
    from hpolab.storage import get_storage

    store = get_storage(_storage_url(storage))
    try:
        return _schemes_in(store)
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


def _mixed_schemes_message(url: str, found: Mapping[int, int], wanted: int, what: str | None = None) -> str:
    old = ", ".join(f"{n} run(s) with seed scheme {k}" for k, n in sorted(found.items()) if k != wanted)
    where = f"study {what!r} in " if what else ""
    return (
        f"{where}storage {url} holds {old}, and these runs use seed scheme {wanted}: resuming or extending it "
        f"would mix draws made by two rules in one comparison ({SEED_SCHEMES[wanted]}). Write the runs to a new "
        f"storage (`hpolab compare -o NEW_FOLDER`, or another `storage=`), or continue this storage in its own "
        f"scheme with seed_scheme={min(k for k in found if k != wanted)} (`--seed-scheme "
        f"{min(k for k in found if k != wanted)}`)."
    )


def seed_note(contexts: Iterable[Mapping[str, Any]]) -> str | None:
    """One sentence for a report saying how the runs' optimizer seeds were derived (from :func:`study_contexts`).

    Returns:
        ``None`` when no context is a harness run's.
    """
    counts: dict[int, int] = {}
    for c in contexts:
        if "objective" not in c:
            continue
        scheme = int(c.get("seed_scheme", 1))
        counts[scheme] = counts.get(scheme, 0) + 1
    if not counts:
        return None
    parts = [f"{SEED_SCHEMES.get(k, f'seed scheme {k}')} ({n} runs)" for k, n in sorted(counts.items())]
    return "Seeds: " + "; ".join(parts) + "."


#: The fields that name one run of a comparison in a study's bookkeeping (and in the trial table).
_RUN_FIELDS = frozenset({"optimizer", "objective", "seed"})


def run_key(fields: Mapping[str, Any]) -> tuple[str, str, int] | None:
    """The run a study's bookkeeping names, as ``(optimizer, objective, seed)``; ``None`` if it names no run.

    The same key as :func:`run_keys` gives a trial table's rows, so a study can be matched to its rows.

    Args:
        fields: One of :func:`study_contexts`, or a harness study's ``attrs["benchmark"]``.
    """
    if not set(fields) >= _RUN_FIELDS:
        return None
    return str(fields["optimizer"]), str(fields["objective"]), int(fields["seed"])


def run_keys(df: pd.DataFrame) -> set[tuple[str, str, int]]:
    """The runs a trial table holds, as ``(optimizer, objective, seed)`` (the key :func:`run_key` gives a study).

    Args:
        df: The trial table (:func:`load_results`), or any part of it.
    """
    return set(_row_keys(df))


def _row_keys(df: pd.DataFrame) -> list[tuple[str, str, int]]:
    """The run of each row of a trial table, in row order (see :func:`run_keys`)."""
    return list(zip(df["optimizer"].astype(str), df["objective"].astype(str), df["seed"].astype(int), strict=True))


def select_runs(
    df: pd.DataFrame,
    contexts: Sequence[Mapping[str, Any]],
    *,
    optimizers: Sequence[str] | None = None,
    seeds: int | None = None,
) -> tuple[pd.DataFrame, list[dict[str, Any]], list[str]]:
    """The finished runs of a trial table, optionally of some optimizers and the first seeds only.

    A run the harness started but did not finish (its bookkeeping says ``complete: False``: a stopped or
    still running ``hpolab compare``) is left out, as a comparison at each run's end would otherwise
    take its incumbent early; a rerun of the command that made it finishes it.

    Args:
        df: The trial table (:func:`load_results`).
        contexts: The storage's :func:`study_contexts`.
        optimizers: Optimizer labels to keep (``None``: all).
        seeds: Keep seeds ``0 .. seeds - 1`` only (``None``: all).

    Returns:
        The kept rows, the kept contexts and the sentences that say what was left out (for a report's set-up).

    Raises:
        ValueError: If an optimizer is not in ``df`` or ``seeds`` is below 1, naming what ``df`` holds.
    """
    notes: list[str] = []
    held = sorted({str(o) for o in df["optimizer"]})
    if optimizers is not None:
        unknown = [o for o in optimizers if o not in held]
        if unknown:
            raise ValueError(f"optimizers: {', '.join(unknown)} not in these results; they hold {', '.join(held)}")
        df = df[df["optimizer"].isin(list(optimizers))]
        notes.append(f"Optimizers shown: {', '.join(optimizers)} (of {len(held)} in the storage).")
    if seeds is not None:
        if isinstance(seeds, bool) or int(seeds) < 1:
            raise ValueError(f"seeds: {seeds!r} must be a positive int (seeds 0 .. seeds - 1 are kept)")
        df = df[df["seed"].astype(int) < int(seeds)]
        notes.append("Seed 0 only." if int(seeds) == 1 else f"Seeds 0 to {int(seeds) - 1} only.")
    unfinished = {run_key(c) for c in contexts if c.get("complete") is False} - {None}
    keys = _row_keys(df)
    keep = [k not in unfinished for k in keys]
    left_out = Counter(k[0] for k in {k for k, kept in zip(keys, keep, strict=True) if not kept})
    if left_out:
        df = df[keep]
        counts = ", ".join(f"`{o}` {n}" for o, n in sorted(left_out.items()))
        notes.append(
            f"Left out: {left_out.total()} unfinished run(s) ({counts}); rerunning the command that made them "
            "finishes them."
        )
    kept_runs = {k for k, kept in zip(keys, keep, strict=True) if kept}
    kept_contexts = [dict(c) for c in contexts if (key := run_key(c)) is None or key in kept_runs]
    return df, kept_contexts, notes


def results_storage(folder: str | os.PathLike[str]) -> Path:
    """Where a suite's runs go in ``folder``: ``results.log`` (a journal file), or an existing ``results.db``.

    The journal file is the harness's storage (docs/benchmarks.md, "Harness speed", says why); a
    folder that already holds a SQLite ``results.db`` keeps it, so a rerun resumes there.
    """
    folder = Path(folder)
    old = folder / "results.db"
    return old if old.exists() else folder / "results.log"


def _storage_url(storage: str | os.PathLike[str]) -> str:
    """A storage URL from a URL or a path (``.log`` / ``.journal``: a journal file; else SQLite)."""
    text = os.fspath(storage)
    if "://" in text:
        return text
    if text.endswith((".log", ".journal", ".jsonl")):
        return f"journal:///{text}"
    return f"sqlite:///{text}"


def _full_budget(info: Any) -> float | None:
    """The objective's full fidelity that a run recorded with its study (``None``: single-fidelity)."""
    full = ((info.attrs or {}).get(_ATTR) or {}).get("max_budget")
    return float(full) if full is not None else None


def _proposer_metadata(metadata: Any) -> Any:
    """The metadata of whatever proposed the trial: a scheduler's base trial (ASHA's ``base_trial``) where it has one.

    ASHA keeps its base optimizer's trial (an LLM's, with its usage and outcome) inside its own metadata, on the
    trial that started the configuration; a promotion has none, so the base's LLM call is counted once.
    """
    if not isinstance(metadata, Mapping) or "llm" in metadata or "llm_usage" in metadata:
        return metadata
    asha = metadata.get("asha")
    base = asha.get("base_trial") if isinstance(asha, Mapping) else None
    inner = base.get("metadata") if isinstance(base, Mapping) else None
    return inner if isinstance(inner, Mapping) else metadata


def _usage(metadata: Any) -> tuple[int, int, float, int, float | None]:
    """(prompt tokens, completion tokens, latency seconds, model calls, cost) of one trial's LLM use.

    Read from the typed record :meth:`hpolab.llm.LLMUsage.from_metadata` (all zero when the trial made no LLM call).
    """
    from hpolab.llm.clients._usage import LLMUsage

    usage = LLMUsage.from_metadata(metadata) or LLMUsage()
    return (usage.prompt_tokens, usage.completion_tokens, usage.latency_s, usage.calls, usage.cost)


def _llm_outcome(metadata: Mapping[str, Any]) -> str | None:
    """How an LLM proposal was obtained (``valid``, ``repaired``, ``reasked``, ``fallback``), if recorded."""
    llm = metadata.get("llm") if isinstance(metadata, Mapping) else None
    outcome = llm.get("outcome") if isinstance(llm, Mapping) else None
    return str(outcome) if outcome is not None else None


def _source(metadata: Any) -> str | None:
    """Which source of a hybrid optimizer proposed the trial (``metadata["source"]``), if any."""
    source = metadata.get("source") if isinstance(metadata, Mapping) else None
    return str(source) if source is not None else None


def _parse_name(name: str) -> tuple[str, str, int] | None:
    parts = name.split("|")
    if len(parts) != 3:
        return None
    try:
        return parts[0], parts[1], int(parts[2])
    except ValueError:
        return None


def _study_rows(store: Storage, info: Any) -> list[dict[str, Any]]:
    meta = (info.attrs or {}).get(_ATTR) or {}
    parsed = _parse_name(info.name)
    optimizer = meta.get("optimizer") or (parsed[0] if parsed else (info.attrs.get("optimizer") or {}).get("name"))
    objective = meta.get("objective") or (parsed[1] if parsed else info.attrs.get("objective"))
    seed = meta.get("seed", parsed[2] if parsed else (info.attrs.get("optimizer") or {}).get("seed"))
    opt_seed = meta.get("optimizer_seed", (info.attrs.get("optimizer") or {}).get("seed", seed))
    direction = meta.get("direction") or info.direction
    optimum = meta.get("optimum")
    max_budget = meta.get("max_budget")
    rows = []
    position = 0
    for rec in store.get_trials(info.study_id):
        if not rec.state.is_finished:
            continue
        result = rec.result
        value = rec.value if rec.value is not None else math.nan
        info_d = rec.info
        true_value = info_d.get("true_value")
        true_value = float(true_value) if isinstance(true_value, (int, float)) else math.nan
        gap = regret(true_value if math.isfinite(true_value) else value, optimum, direction)
        gap = math.nan if gap is None else gap
        wall = info_d.get("wall_time")
        if not isinstance(wall, (int, float)):
            wall = (
                rec.datetime_complete - rec.datetime_start
                if rec.datetime_complete is not None and rec.datetime_start is not None
                else math.nan
            )
        prompt, completion, latency, calls, llm_cost = _usage(_proposer_metadata(rec.metadata))
        rows.append(
            {
                "optimizer": optimizer,
                "objective": objective,
                "seed": seed,
                "optimizer_seed": opt_seed,
                "trial": position,
                "trial_id": rec.id,
                "state": rec.state.value,
                "value": value,
                "true_value": true_value,
                "regret": gap,
                "direction": direction,
                "budget": rec.budget if rec.budget is not None else math.nan,
                "max_budget": float(max_budget) if max_budget is not None else math.nan,
                "runtime": result.runtime if result is not None and result.runtime is not None else math.nan,
                "wall_time": float(wall),
                "prompt_tokens": prompt if calls else math.nan,
                "completion_tokens": completion if calls else math.nan,
                "llm_latency": latency if calls else math.nan,
                "llm_calls": calls if calls else math.nan,
                "llm_cost": llm_cost if calls and llm_cost is not None else math.nan,
                "llm_outcome": _llm_outcome(_proposer_metadata(rec.metadata)),
                "source": _source(rec.metadata),
                "config": dict(rec.config),
                "error": info_d.get("error"),
            }
        )
        position += 1
    return rows


def open_results(storage: str | os.PathLike[str]) -> Storage:
    """Open a results storage once, for several reads (:func:`load_results`, :func:`study_contexts`).

    A journal file is read through once per open storage, so a report that reads the trials and then the
    bookkeeping of a large journal reads it once instead of twice. The caller closes it (``close()``).

    Args:
        storage: A URL or a path (``.log`` / ``.journal`` / ``.jsonl``: a journal file; else a SQLite file).

    Raises:
        FileNotFoundError: If a SQLite path does not exist.
    """
    from hpolab.storage import get_storage

    url = _storage_url(storage)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path != ":memory:" and not os.path.exists(path):
            raise FileNotFoundError(f"storage: {path!r} does not exist; run `hpolab compare` first or check the path")
    return get_storage(url)


def _reading(storage: str | os.PathLike[str] | Storage) -> tuple[Storage, bool]:
    """The storage to read, and whether this call opened it (and so closes it)."""
    from hpolab.storage import Storage

    if isinstance(storage, Storage):
        return storage, False
    return open_results(storage), True


def load_results(storage: str | os.PathLike[str] | Storage, *, studies: Sequence[str] | None = None) -> pd.DataFrame:
    """Read the trial table back from a storage (a URL or a SQLite file path).

    Args:
        storage: Where :func:`run` wrote its studies, or a storage already open (:func:`open_results`;
            left open).
        studies: Study names to read (default: every study in the storage but the transfer study's final
            trainings, which :func:`hpolab.benchmark.transfer_table` reads).

    Returns:
        One row per finished trial, columns :data:`COLUMNS`, sorted by objective, optimizer, seed, trial.

    Raises:
        FileNotFoundError: If a SQLite path does not exist.
    """
    import pandas as pd

    store, opened = _reading(storage)
    wanted = None if studies is None else set(studies)
    rows: list[dict[str, Any]] = []
    for info in store.list_studies():
        if wanted is not None and info.name not in wanted:
            continue
        if wanted is None and TRANSFER_ATTR in (info.attrs or {}):
            continue  # a final training of the transfer study, not a run of the comparison
        rows.extend(_study_rows(store, info))
    if opened:
        store.close()
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    if df.empty:
        return df
    df["seed"] = df["seed"].astype(int)
    if df["optimizer_seed"].notna().all():
        df["optimizer_seed"] = df["optimizer_seed"].astype(int)
    return df.sort_values(["objective", "optimizer", "seed", "trial"], kind="stable").reset_index(drop=True)


def study_contexts(storage: str | os.PathLike[str] | Storage) -> list[dict[str, Any]]:
    """The benchmark bookkeeping of every study in a storage (optimizer options, limits, command).

    Args:
        storage: A URL or a path, or a storage already open (:func:`open_results`; left open).
    """
    store, opened = _reading(storage)
    out = [
        mask_secrets(
            dict((info.attrs or {}).get(_ATTR) or {}, study=info.name, optimizer_meta=info.attrs.get("optimizer"))
        )
        for info in store.list_studies()
    ]
    if opened:
        store.close()
    return out
