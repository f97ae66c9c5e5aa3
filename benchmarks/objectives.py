"""Time per evaluation of every objective family, and time per epoch of cnn/digits on CPU (and GPU).

Run: ``python benchmarks/objectives.py`` (``--quick`` for fewer repetitions, ``--out FILE`` to also
write the table as JSON). Families whose optional dependency is missing are reported as skipped.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import hpolab
from hpolab.registry import make_objective


def _time_calls(name: str, n: int, budget: float | None = None, **kwargs: Any) -> dict[str, Any]:
    obj = make_objective(name, **kwargs)
    configs = obj.search_space.sample(n, seed=0)
    obj.evaluate(configs[0], budget=budget, seed=0)  # warm-up: loads the table / data set
    times = []
    for i, config in enumerate(configs):
        start = time.perf_counter()
        obj.evaluate(config, budget=budget, seed=i)
        times.append(time.perf_counter() - start)
    return {
        "objective": name,
        "budget": budget,
        "calls": n,
        "median_s": statistics.median(times),
        "mean_s": statistics.fmean(times),
    }


def _guard(fn: Callable[[], dict[str, Any]], name: str) -> dict[str, Any]:
    try:
        return fn()
    except ImportError as exc:
        return {"objective": name, "skipped": str(exc)}


def _cnn_epoch_time(device: str, epochs: int) -> dict[str, Any]:
    obj = make_objective("cnn/digits", device=device)
    config = {"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "weight_decay": 1e-4, "label_smoothing": 0.0}
    obj.evaluate(config, budget=1, seed=0)  # warm-up (CUDA context, kernels)
    result = obj.evaluate(config, budget=epochs, seed=0)
    return {
        "objective": f"cnn/digits epoch on {device}",
        "budget": epochs,
        "calls": 1,
        "median_s": result.info["seconds_per_epoch"],
        "mean_s": result.info["seconds_per_epoch"],
    }


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.1f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:9.1f} ms"
    return f"{seconds:9.2f} s "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--out", help="also write the rows as JSON to this file")
    args = parser.parse_args()
    n_table = 2000 if not args.quick else 200
    n_live = 5 if not args.quick else 2
    rows: list[dict[str, Any]] = []
    for name in ("toy/branin", "hpobench/nn/credit_g", "hpolib/naval_propulsion", "nb201/cifar10"):
        rows.append(_guard(lambda name=name: _time_calls(name, n_table), name))
    live: list[tuple[str, float | None, dict[str, Any]]] = [
        ("ml/svm/breast_cancer", None, {}),
        ("ml/lr/breast_cancer", 100, {}),
        ("ml/rf/digits", 64, {}),
        ("ml/mlp/digits", 20, {}),
        ("ml/xgboost/digits", 50, {}),
        ("cnn/digits", 2, {"device": "cpu"}),
    ]
    for name, budget, kwargs in live:
        rows.append(
            _guard(lambda name=name, budget=budget, kwargs=kwargs: _time_calls(name, n_live, budget, **kwargs), name)
        )
    rows.append(_guard(lambda: _cnn_epoch_time("cpu", 5), "cnn/digits epoch on cpu"))
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        cuda = False
    if cuda:
        rows.append(_cnn_epoch_time("cuda", 5))
    else:
        rows.append(
            {"objective": "cnn/digits epoch on cuda", "skipped": "no CUDA GPU (torch.cuda.is_available() is False)"}
        )

    print(f"hpolab {hpolab.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print(f"{'objective':34s} {'budget':>7s} {'calls':>6s} {'median / call':>14s} {'mean / call':>13s}")
    for row in rows:
        if "skipped" in row:
            print(f"{row['objective']:34s} skipped: {row['skipped']}")
            continue
        budget = "-" if row["budget"] is None else f"{row['budget']:g}"
        print(
            f"{row['objective']:34s} {budget:>7s} {row['calls']:6d} {_fmt(row['median_s']):>14s} {_fmt(row['mean_s']):>13s}"
        )
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
