from __future__ import annotations

import pytest
from finetune_helpers import SPACE

import hpolab
from hpolab.llm.finetune import FineTunedLLMOptimizer
from hpolab.space import SearchSpace
from hpolab.testing import OptimizerTestCase
from hpolab.testing._scripted import ScriptedClient


class TestFineTunedConformance(OptimizerTestCase):
    """The conformance suite, with a scripted client (a test double) standing in for the model."""

    @pytest.fixture(params=["one-shot", "sequential"])
    def factory(self, request):
        def make(space, seed=None, direction="minimize"):
            client = ScriptedClient.random_configs(SearchSpace.coerce(space))
            return FineTunedLLMOptimizer(space, seed=seed, direction=direction, client=client, mode=request.param)

        return make


BAD_ANSWERS = [
    '{"lr": 5.0, "momentum": 0.5, "batch_size": 0}',  # out of range, batch size 0 (seed 000's common answer)
    "I would use a learning rate of 0.01.",  # no config
    "still nothing",  # the re-ask fails too -> random fallback
    '{"lr": 0.01, "momentum": 0.9, "batch_size": 32}',  # valid
    "```json\n{'lr': 0.001, 'momentum': 2, 'batch_size': 48,}\n```",  # lenient parse + repair
]


def test_one_shot_proposals_always_inside_the_space_and_counted() -> None:
    space = SearchSpace(SPACE)
    client = ScriptedClient(BAD_ANSWERS, cycle=True)
    opt = FineTunedLLMOptimizer(space, seed=0, client=client, description="AlexNet on CIFAR-10", epochs=1)
    outcomes = []
    for _ in range(4):
        trial = opt.ask()
        space.validate(trial.config)
        outcomes.append(trial.metadata["outcome"])
        opt.tell(trial, 0.5)
    assert outcomes == ["repaired", "fallback", "valid", "repaired"]
    assert opt.stats["asks"] == 4
    assert opt.stats["repaired"] == 2 and opt.stats["fallback"] == 1 and opt.stats["valid"] == 1
    assert opt.stats["parse_error"] == 2
    first = opt.history[0]
    assert first.config["batch_size"] == 16 and first.config["lr"] == 1.0
    assert any("batch_size" in c for c in first.metadata["changes"])
    # One-shot: the prompt holds no history, names the model, the epochs and the target.
    prompt = client.calls[-1]["messages"][-1]["content"]
    assert "Already tried" not in prompt
    assert "Model: AlexNet" in prompt and "Epochs: 1" in prompt and "the best accuracy on this task" in prompt
    # First ask greedy, later one-shot asks sampled.
    assert client.calls[0]["temperature"] == 0.0 and client.calls[-1]["temperature"] > 0


def test_sequential_prompt_holds_the_history_as_accuracies() -> None:
    space = SearchSpace(SPACE)
    client = ScriptedClient.random_configs(space)
    opt = FineTunedLLMOptimizer(space, seed=1, client=client, mode="sequential", target=0.8, max_history=2)
    for value in (0.4, 0.3, 0.2):
        opt.tell(opt.ask(), value)
    opt.ask()
    prompt = client.calls[-1]["messages"][-1]["content"]
    assert "an accuracy of 0.8000" in prompt
    assert prompt.count("} -> ") == 2 and "-> 0.7000" in prompt and "-> 0.8000" in prompt and "0.6000" not in prompt


def test_registry_and_bad_arguments() -> None:
    space = SearchSpace(SPACE)
    opt = hpolab.make_optimizer("llm-finetuned", space, seed=0, client=ScriptedClient.random_configs(space))
    assert isinstance(opt, FineTunedLLMOptimizer) and opt.meta["params"]["mode"] == "one-shot"
    with pytest.raises(ValueError, match="mode"):
        FineTunedLLMOptimizer(space, mode="chat")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="target"):
        FineTunedLLMOptimizer(space, target=1.5)


peft = pytest.importorskip("peft", reason="fine-tuning needs peft (pip install 'hpolab[finetune]')")


@pytest.fixture(scope="module")
def adapter(tmp_path_factory, tiny_model_dir, records):
    from hpolab.llm.finetune import finetune

    out = tmp_path_factory.mktemp("opt-adapter")
    finetune(records, tiny_model_dir, out, max_steps=10, lora_r=4, learning_rate=1e-2, seed=0, show_progress_bar=False)
    return out


def _run(opt: FineTunedLLMOptimizer, n: int) -> list[dict]:
    configs = []
    for i in range(n):
        trial = opt.ask()
        configs.append(trial.config)
        opt.tell(trial, 0.1 * (i + 1))
    return configs


def test_tiny_model_proposals_inside_space_and_save_load_same_proposals(adapter, tiny_model_dir) -> None:
    space = SearchSpace(SPACE)
    kw = {
        "adapter": adapter,
        "device": "cpu",
        "description": "A small network number 0 on digits",
        "max_new_tokens": 24,
    }
    a = FineTunedLLMOptimizer(space, seed=5, mode="sequential", **kw)
    configs = _run(a, 3)
    for config in configs:
        space.validate(config)
    counted = sum(a.stats.get(k, 0) for k in ("valid", "repaired", "reasked", "fallback"))
    assert counted == a.stats["asks"] == 3
    assert a.meta["params"]["data_hash"] is not None
    # A second optimizer loading the same saved adapter proposes the same configs with the same seed.
    b = FineTunedLLMOptimizer(space, seed=5, mode="sequential", **kw)
    assert _run(b, 3) == configs
    # Resume from a state dict: the next proposal is the uninterrupted one's.
    c = FineTunedLLMOptimizer(space, seed=5, mode="sequential", **kw)
    c.load_state_dict(a.state_dict())
    assert c.stats["asks"] == 3
    assert c.ask().config == a.ask().config
