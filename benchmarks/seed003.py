"""Seed 003 end to end: the LLM optimizer's three modes (text, text + plot, plot only) on SVM and XGBoost.

Offline the LLM is hpolab's SimulatedLLMClient (marked as a simulation in the report). With a vision
model behind any OpenAI-compatible server, ``--base-url URL --model NAME`` runs the three modes on it
instead (the key comes from ``OPENAI_API_KEY``). ``--smoke`` runs one SVM and one XGBoost task with
1 seed.

Usage::

    python benchmarks/seed003.py                        # full scale: 8 tasks x 5 methods x 3 seeds
    python benchmarks/seed003.py --smoke -o out/seed003-smoke
    python benchmarks/seed003.py --base-url http://localhost:8000/v1 --model Qwen2-VL-7B-Instruct -o results/s3
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from paper_suite import main

from hpolab.benchmark import Suite


def smoke(suite: Suite) -> Suite:
    """One SVM and one XGBoost task, 1 seed."""
    parts = tuple(replace(p, objectives=["ml/xgboost/twin_credit_g"]) for p in suite.parts)
    return replace(
        suite,
        objectives=["ml/svm/twin_kc1"],
        seeds=1,
        parts=parts,
        differences=(
            "**Smoke size (this run).** One SVM and one XGBoost task, 1 seed. The lines below describe the full-scale suite.",
            *suite.differences,
        ),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible server of a vision model")
    parser.add_argument("--model", default=None, help="the model name that server serves (with --base-url)")


def use_model(suite: Suite, args: argparse.Namespace) -> Suite:
    """The three LLM modes on the model at --base-url instead of the simulated stand-in."""
    if args.base_url is None:
        return suite
    if not args.model:
        raise SystemExit("--model: give the model name the server at --base-url serves")

    def swap(optimizers: object) -> dict[str, object]:
        out: dict[str, object] = {}
        for label, spec in dict(optimizers).items():  # type: ignore[call-overload]
            if isinstance(spec, dict) and "simulated_llm" in spec:
                spec = {k: v for k, v in spec.items() if k != "simulated_llm"}
                images = spec["name"] == "llm-multimodal"
                spec["client"] = {"base_url": args.base_url, "model": args.model, "supports_images": images}
            out[label] = spec
        return out

    model_line = f"**Model.** `{args.model}` (served at the URL in the command) instead of GPT-4 Turbo / Vision."
    others = tuple(d for d in suite.differences if not d.startswith("**Model.**"))
    return replace(
        suite,
        optimizers=swap(suite.optimizers),
        parts=tuple(replace(p, optimizers=swap(p.optimizers)) for p in suite.parts),
        simulated=None,
        differences=(model_line, *others),
    )


if __name__ == "__main__":
    sys.exit(main("seed003", smoke=smoke, add_arguments=add_arguments, customize=use_model))
