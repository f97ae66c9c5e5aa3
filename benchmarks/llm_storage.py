"""Bytes an LLM optimizer stores per trial as the study grows, and the prompt's size.

An :class:`~hpolab.llm.LLMOptimizer` answered by a scripted client (random configurations as JSON;
no model, so the numbers are about storage, not search) runs ``N`` trials on a 4-parameter space
into a SQLite file, for N = 20, 40, 80 and 160 and both prompt modes, with a 2,048-token context.
For each run the table shows the mean bytes of stored trial metadata per trial (what the study
keeps of the LLM: answers, counts, tokens, prompt fingerprints), the characters of the last prompt
sent, how many history entries it left out to fit the context, and, for comparison, the bytes per
trial a transcript holding a copy of every prompt would have taken.

Usage::

    python benchmarks/llm_storage.py                 # prints the table
    python benchmarks/llm_storage.py --trials 20 80  # other study sizes
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

import hpolab
from hpolab.llm import LLMOptimizer
from hpolab.objectives.base import FunctionObjective
from hpolab.space import SearchSpace
from hpolab.testing import ScriptedClient

SPACE = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 8), "width": (16, 512), "opt": ["adam", "sgd"]})
OBJECTIVE = FunctionObjective(
    lambda c: (np.log10(c["lr"]) + 2.5) ** 2 + abs(c["depth"] - 3) / 10 + (c["opt"] == "sgd") * 0.1,
    SPACE,
    description="A benchmark problem: tune a small network.",
)


def run(n_trials: int, mode: str, folder: Path, context_tokens: int) -> dict[str, float]:
    """One study; returns its row of the table."""
    url = f"sqlite:///{folder / f'{mode}-{n_trials}.db'}"
    client = ScriptedClient.random_configs(SPACE)
    opt = LLMOptimizer(SPACE, client, mode=mode, context_tokens=context_tokens, max_tokens=64, seed=0)  # type: ignore[arg-type]
    study = hpolab.create_study(OBJECTIVE, opt, storage=url, study_name="s")
    study.optimize(n_trials=n_trials)
    records = hpolab.load_study("s", url, objective=OBJECTIVE, optimizer=LLMOptimizer(SPACE, client, seed=0)).trials
    stored = sum(len(json.dumps(r.trial.metadata)) for r in records) / len(records)
    copied = sum(len(json.dumps(call["messages"])) for call in client.calls) / len(records)
    last = client.calls[-1]["messages"]
    info = records[-1].trial.metadata["llm"]["prompt"]["history"]
    return {
        "stored": stored,
        "copied": copied,
        "prompt_chars": sum(len(str(m["content"])) for m in last),
        "omitted": info["omitted"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[20, 40, 80, 160])
    parser.add_argument("--context-tokens", type=int, default=2048)
    args = parser.parse_args()
    print(f"context: {args.context_tokens} tokens; bytes are JSON characters of stored trial metadata")
    print(
        f"{'mode':<11}{'trials':>7}{'stored B/trial':>16}{'last prompt chars':>19}{'left out':>10}{'copies B/trial':>16}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("compressed", "chat"):
            for n in args.trials:
                row = run(n, mode, Path(tmp), args.context_tokens)
                print(
                    f"{mode:<11}{n:>7}{row['stored']:>16.0f}{row['prompt_chars']:>19.0f}"
                    f"{row['omitted']:>10.0f}{row['copied']:>16.0f}"
                )


if __name__ == "__main__":
    main()
