"""Shared helpers of the fine-tuning tests (synthetic records)."""

from __future__ import annotations

import numpy as np

from hpolab.llm.finetune import Record, Records

SPACE = {
    "lr": (1e-4, 1.0, "log"),
    "momentum": (0.01, 0.99),
    "batch_size": [16, 32, 64, 128],
}


def make_records(n_tasks: int = 3, per_task: int = 12, seed: int = 0) -> Records:
    """Synthetic records: accuracy peaks near lr=0.01, momentum=0.9, batch 32 (task-dependent scale)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_tasks):
        for _ in range(per_task):
            lr = float(10 ** rng.uniform(-4, 0))
            mom = float(rng.uniform(0.01, 0.99))
            bs = int(rng.choice([16, 32, 64, 128]))
            acc = 0.9 - 0.1 * t - 0.05 * abs(np.log10(lr) + 2) - 0.2 * abs(mom - 0.9) - 0.01 * abs(np.log2(bs) - 5)
            rows.append(
                Record(
                    task=f"task{t}",
                    model=f"Net{t}",
                    description=f"A small network number {t} on digits",
                    config={"lr": round(lr, 5), "momentum": round(mom, 3), "batch_size": bs},
                    accuracy=float(acc),
                    epochs=1,
                    source="random",
                )
            )
    return Records(rows)
