from __future__ import annotations

import json
import math

import pytest

pytest.importorskip("peft", reason="fine-tuning needs peft (pip install 'hpolab[finetune]')")

import torch
from safetensors.torch import load_file

from hpolab.llm.finetune import DEFAULT_TEMPLATE, PROVENANCE_FILE, finetune, load_finetuned


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, tiny_model_dir, records):
    out = tmp_path_factory.mktemp("adapter")
    result = finetune(
        records,
        base_model=tiny_model_dir,
        output_dir=out,
        max_steps=40,
        batch_size=8,
        learning_rate=3e-2,
        lora_r=8,
        lora_alpha=16,
        example_options={"best_fraction": 0.2, "n_sequential": 2},
        seed=3,
        device="cpu",
        show_progress_bar=False,
    )
    return result


def test_adapter_weights_change_and_loss_falls(tuned, tiny_model_dir) -> None:
    weights = load_file(str(tuned.output_dir / "adapter_model.safetensors"))
    lora_b = [v for k, v in weights.items() if "lora_B" in k]
    assert lora_b, sorted(weights)[:5]
    # LoRA's B matrices start at zero: training must have moved them.
    assert all(float(v.abs().max()) > 0 for v in lora_b)
    assert len(tuned.losses) == 40
    assert tuned.loss_drop(window=5) > 0.1, tuned.losses


def test_provenance_records_base_data_parameters_seed(tuned, records, tiny_model_dir) -> None:
    prov = json.loads((tuned.output_dir / PROVENANCE_FILE).read_text())
    assert prov["base_model"] == str(tiny_model_dir)
    assert prov["data_hash"] == records.hash()
    assert prov["seed"] == 3
    assert prov["params"]["lora_r"] == 8 and prov["params"]["lora_alpha"] == 16
    assert prov["params"]["lora_dropout"] == 0.05
    assert prov["params"]["target_modules"] == ["k_proj", "o_proj", "q_proj", "v_proj"]
    assert prov["n_records"] == len(records) and prov["example_kinds"]["sequential"] == 6
    assert prov["losses"] == tuned.losses


def test_same_seed_same_adapter(tmp_path, tiny_model_dir, records) -> None:
    """Two runs with one seed give the same losses and adapter, past the end of the first epoch."""
    n_examples = len(records.examples(DEFAULT_TEMPLATE, seed=3, best_fraction=0.2, n_sequential=2))
    assert 1 < math.ceil(n_examples / 8) < 9  # 9 steps of 8 examples reach the second, reshuffled epoch

    def run(out):
        return finetune(
            records,
            base_model=tiny_model_dir,
            output_dir=out,
            max_steps=9,
            batch_size=8,
            learning_rate=3e-2,
            lora_r=8,
            lora_alpha=16,
            example_options={"best_fraction": 0.2, "n_sequential": 2},
            seed=3,
            device="cpu",
            show_progress_bar=False,
        )

    before = torch.get_rng_state()
    first = run(tmp_path / "first")
    assert torch.equal(before, torch.get_rng_state())  # the global torch generator is left alone
    again = run(tmp_path / "again")
    assert len(again.losses) == 9 and again.losses == first.losses
    a = load_file(str(tmp_path / "again" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "first" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_loaded_model_generates_deterministically(tuned) -> None:
    ft = load_finetuned(tuned.output_dir, device="cpu")
    assert ft.provenance["seed"] == 3
    prompt = ft.template.prompt(model="Net0", description="A small network number 0 on digits", epochs=1)
    out = ft.generate(prompt, max_new_tokens=20)
    assert 0 < out.completion_tokens <= 20 and out.prompt_tokens > 50
    assert ft.generate(prompt, max_new_tokens=20).text == out.text
    a = ft.generate(prompt, max_new_tokens=20, temperature=1.0, seed=5).text
    assert ft.generate(prompt, max_new_tokens=20, temperature=1.0, seed=5).text == a
    merged = load_finetuned(tuned.output_dir, device="cpu", merge=True)
    assert "Peft" not in type(merged.model).__name__
    assert merged.generate(prompt, max_new_tokens=20).text == out.text


def test_bad_parameters_are_rejected(records, tiny_model_dir, tmp_path) -> None:
    with pytest.raises(ValueError, match="LoRA parameters"):
        finetune(records, tiny_model_dir, tmp_path, lora_r=0)
    with pytest.raises(ValueError, match="no examples"):
        finetune([], tiny_model_dir, tmp_path)
