"""Pilot for seed 004's task size: how far below 100% random configurations land on digits with fewer images.

Trains the same random configurations of seed 004's space (``cnn/digits-4block``, 16 epochs) with the
training split cut to a few sizes (``train_images``) and writes the spread of their validation accuracy
to benchmarks/results/seed004_pilot.md. The size where random configurations spread well below 100% is
the one ``cnn/digits-small-4block`` uses.

Usage::

    python benchmarks/seed004_pilot.py --configs 12 --sizes 100 200 400 0
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from hpolab.registry import make_objective

OUT = Path(__file__).resolve().parent / "results" / "seed004_pilot.md"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", type=int, default=12, help="random configurations per size")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400, 0], help="training images (0: all)")
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    base = make_objective("cnn/digits-4block", max_epochs=args.epochs, threads=1, device="cpu")
    configs = base.search_space.sample(args.configs, seed=args.seed)
    rows = []
    start = time.perf_counter()
    for size in args.sizes:
        obj = make_objective(
            "cnn/digits-4block", max_epochs=args.epochs, threads=1, device="cpu", train_images=size or None
        )
        n_train = obj.training_set()["n_train"]
        accs, secs = [], []
        for k, cfg in enumerate(configs):
            res = obj.evaluate(cfg, seed=k)
            accs.append(100.0 * (1.0 - float(res.value)))
            secs.append(float(res.runtime))
        a = np.asarray(accs)
        rows.append((n_train, a, float(np.mean(secs))))
    total = time.perf_counter() - start
    lines = [
        "# Seed 004 pilot: validation accuracy of random configurations by training-set size",
        "",
        f"`python benchmarks/seed004_pilot.py --configs {args.configs} --sizes {' '.join(map(str, args.sizes))}"
        f" --epochs {args.epochs}`: the same {args.configs} random configurations of seed 004's space "
        f"(`cnn/digits-4block`, {args.epochs} epochs, training seed k for configuration k) trained with the "
        "training split cut to each size; validation on the same 287 images. Ran in "
        f"{total:.0f} s on {platform.machine()} (1 torch thread, shared machine).",
        "",
        "| training images | best | 2nd best | median | worst | configs at >= 99% | s per training |",
        "|---|---|---|---|---|---|---|",
    ]
    for n_train, a, sec in rows:
        s = np.sort(a)[::-1]
        lines.append(
            f"| {n_train} | {s[0]:.1f}% | {s[1]:.1f}% | {np.median(a):.1f}% | {s[-1]:.1f}% | "
            f"{int((a >= 99.0).sum())} of {len(a)} | {sec:.2f} |"
        )
    lines += ["", "Per configuration (validation accuracy, %):", ""]
    lines.append("| config | " + " | ".join(str(r[0]) for r in rows) + " |")
    lines.append("|---|" + "---|" * len(rows))
    for k, cfg in enumerate(configs):
        text = ", ".join(f"{key}={v:.3g}" if isinstance(v, float) else f"{key}={v}" for key, v in cfg.items())
        lines.append(f"| {text} | " + " | ".join(f"{r[1][k]:.1f}" for r in rows) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
