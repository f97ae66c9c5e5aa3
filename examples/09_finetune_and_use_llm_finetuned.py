"""Fine-tune a causal LM on past HPO results with LoRA, then use it as the `llm-finetuned` optimizer.

Seed 000's recipe: records of (model description, hyperparameters, accuracy) become prompts whose
answers are the hyperparameters; LoRA fine-tunes a base model on them; the fine-tuned model proposes
configurations for a new task in one shot. To stay small and offline, the base model here is a tiny
randomly initialised Llama (hpolab.testing.save_tiny_llama), so its proposals are not good ones:
swap in a real base model (base_model=, e.g. the default SmolLM2 or Code Llama on a GPU) for that.
slow-example: it fine-tunes a model (needs pip install -c constraints.txt "hpolab[finetune]").

Run: python examples/09_finetune_and_use_llm_finetuned.py [STEPS]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import hpolab
from hpolab.llm.finetune import DEFAULT_TEMPLATE, Record, Records, finetune
from hpolab.testing import save_tiny_llama

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
SPACE = {"lr": (1e-4, 1.0, "log"), "momentum": (0.01, 0.99), "batch_size": [16, 32, 64, 128]}

# 1. Records from earlier tuning runs (synthetic here): three tasks, twelve configurations each.
rng = np.random.default_rng(0)
rows = []
for task in range(3):
    for _ in range(12):
        config = {
            "lr": round(float(10 ** rng.uniform(-4, 0)), 5),
            "momentum": round(float(rng.uniform(0.01, 0.99)), 3),
            "batch_size": int(rng.choice([16, 32, 64, 128])),
        }
        accuracy = 0.9 - 0.05 * abs(np.log10(config["lr"]) + 2) - 0.2 * abs(config["momentum"] - 0.9)
        rows.append(Record(f"task{task}", f"Net{task}", f"A small network number {task} on digits", config, accuracy))
records = Records(rows)

work = Path(tempfile.mkdtemp())
# 2. A base model: the tiny test Llama, its tokenizer trained on the prompts (seconds, offline).
texts = [ex.prompt + ex.response for ex in records.examples(DEFAULT_TEMPLATE, n_sequential=3)]
base = save_tiny_llama(work / "tiny-llama", texts * 2)

# 3. LoRA fine-tuning: the adapter and its provenance (data hash, base model, seed) are saved.
result = finetune(
    records, base, work / "adapter", max_steps=STEPS, lora_r=4, learning_rate=1e-2, show_progress_bar=False
)
print(f"fine-tuned {STEPS} steps in {result.seconds:.1f} s: loss {result.losses[0]:.3f} -> {result.losses[-1]:.3f}")

# 4. The fine-tuned model as an optimizer, by registry name, on a new task.
objective = hpolab.FunctionObjective(
    lambda c: (np.log10(c["lr"]) + 2) ** 2 + abs(c["momentum"] - 0.9),
    SPACE,
    name="new-task",
    description="A small network number 3 on digits",
)
study = hpolab.create_study(
    objective, "llm-finetuned", seed=0, optimizer_kwargs={"adapter": str(work / "adapter"), "device": "cpu"}
)
study.optimize(n_trials=4)
for trial in study.trials:
    print(f"trial {trial.id}: {trial.config} -> {trial.value:.3f} ({trial.metadata.get('outcome')})")
print("(a tiny random model mostly answers no valid JSON: those trials are the documented random fallback)")
