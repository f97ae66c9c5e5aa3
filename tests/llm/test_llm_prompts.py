"""The chat, compressed and chain-of-thought prompts for a known history, against seed 002's wording."""

from __future__ import annotations

import dataclasses

import pytest

from hpolab.llm import LLMOptimizer, PromptTemplates
from hpolab.space import SearchSpace
from hpolab.testing._scripted import ScriptedClient

# Seed 002, Appendix B.1: the SVM search space and its "end" text.
SVM = SearchSpace(
    {"C": (0.0009765625, 1024.0, "log"), "gamma": (0.0009765625, 1024.0, "log")},
    descriptions={"C": "regularization parameter", "gamma": "Kernel coefficient for rbf"},
)
DESCRIPTION = "You are helping tune hyperparameters for a SVM. Training is done with Sklearn."
ANSWERS = ['{"C": 1.0, "gamma": 0.1}', '{"C": 10.0, "gamma": 0.01}', '{"C": 100.0, "gamma": 0.001}']
LOSSES = [0.25, 0.125, 0.0625]

END = (
    "We have a budget to try 4 configurations in total. You will get the loss before you need to specify the "
    "next configuration. The goal is to find the configuration that minimizes the loss with the given budget, "
    "so you should explore different parts of the search space if the loss is not changing. Provide a config in "
    "JSON format. Do not put new lines or any extra characters in the response. "
    'Example config: {"C": x, "gamma": y} Config:'
)


def _run(**kwargs) -> tuple[LLMOptimizer, ScriptedClient]:
    client = ScriptedClient([*ANSWERS, '{"C": 2.0, "gamma": 2.0}'])
    opt = LLMOptimizer(SVM, client, description=DESCRIPTION, n_trials=4, seed=0, **kwargs)
    for loss in LOSSES:
        trial = opt.ask()
        opt.tell(trial, loss)
    opt.ask()  # the 4th and last ask
    return opt, client


def test_search_space_lines_and_system_prompt():
    _opt, client = _run()
    messages = client.calls[0]["messages"]
    assert messages[0] == {"role": "system", "content": "You are a machine learning expert"}
    text = messages[1]["content"]
    assert text.startswith(DESCRIPTION + " This is our hyperparameter search space:\n")
    assert (
        "C, regularization parameter, Type: UniformFloat, Range: [0.0009765625, 1024.0], Default: 1.0, on log-scale"
        in text
    )
    assert "gamma, Kernel coefficient for rbf, Type: UniformFloat, Range: [0.0009765625, 1024.0]" in text
    assert text.endswith(END)


def test_compressed_prompt_figure_2():
    _opt, client = _run(mode="compressed")
    assert len(client.calls) == 4
    last = client.calls[3]["messages"]
    assert [m["role"] for m in last] == ["system", "user"]
    text = last[1]["content"]
    assert (
        "Here is what we have tried so far:\n"
        '{"C": 1.0, "gamma": 0.1} loss = 2.5000e-01\n'
        '{"C": 10.0, "gamma": 0.01} loss = 1.2500e-01\n'
        '{"C": 100.0, "gamma": 0.001} loss = 6.2500e-02\n'
        "This is the last try. Provide the next config in JSON format. Config:"
    ) in text
    assert text.endswith("Config:")
    # only the last ask says so
    for call in client.calls[:3]:
        assert "This is the last try." not in call["messages"][-1]["content"]
    second = client.calls[1]["messages"][1]["content"]
    assert second.endswith(
        '{"C": 1.0, "gamma": 0.1} loss = 2.5000e-01\nProvide the next config in JSON format. Config:'
    )


def test_chat_prompt_figure_2_and_b2():
    _opt, client = _run(mode="chat")
    last = client.calls[3]["messages"]
    assert [m["role"] for m in last] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert last[1]["content"].endswith(END)
    assert [m["content"] for m in last if m["role"] == "assistant"] == ANSWERS
    assert last[3]["content"] == (
        "loss = 2.5000e-01. Specify the next config, do not add anything else in your response. Config:"
    )
    assert last[5]["content"] == "loss = 1.2500e-01. Specify the next config."
    assert last[7]["content"] == "This is the last try. loss = 6.2500e-02. Specify the next config."
    # the earlier calls were prefixes of the same dialogue
    assert client.calls[2]["messages"] == last[:6]


def test_chain_of_thought_prompts():
    _opt, client = _run(mode="chat", chain_of_thought=True)
    last = client.calls[3]["messages"]
    cot = (
        "loss = {} Write two lines as follows:\n"
        "Analysis: Up to a few sentences describing what worked so far and what to choose next\n"
        "Config: (JSON config)"
    )
    assert last[3]["content"] == cot.format("2.5000e-01")
    assert last[5]["content"] == cot.format("1.2500e-01")
    assert last[7]["content"] == "This is the last try. " + cot.format("6.2500e-02")
    schema = client.calls[0]["json_schema"]
    assert schema["required"] == ["analysis", "config"]
    _opt, client = _run(mode="compressed", chain_of_thought=True)
    text = client.calls[3]["messages"][1]["content"]
    assert text.endswith(
        "This is the last try. Write two lines as follows:\n"
        "Analysis: Up to a few sentences describing what worked so far and what to choose next\n"
        "Config: (JSON config)"
    )


def test_failed_and_pending_trials_are_shown():
    client = ScriptedClient(ANSWERS, cycle=True)
    opt = LLMOptimizer(SVM, client, seed=0)
    a, _b = opt.ask(2)
    text = client.calls[1]["messages"][1]["content"]
    assert '{"C": 1.0, "gamma": 0.1} loss = (still being evaluated)' in text
    opt.tell(a, float("nan"))
    opt.ask()
    assert "loss = nan (the run failed" in client.calls[-1]["messages"][1]["content"]
    assert "We have a budget" not in text  # no budget known: no budget sentence


def test_budget_and_description_from_context():
    client = ScriptedClient(ANSWERS, cycle=True)
    opt = LLMOptimizer(SVM, client, seed=0)
    opt.set_context(description="Tune an SVM on kc1.", n_trials=1)
    opt.ask()
    text = client.calls[0]["messages"][1]["content"]
    assert text.startswith("Tune an SVM on kc1. This is our")
    assert "We have a budget to try 1 configurations in total." in text
    assert text.startswith("Tune") and "This is the last try." in text


def test_templates_are_overridable():
    templates = dataclasses.replace(PromptTemplates(), loss_format="{loss:.2f}", history_header="Tried:\n")
    client = ScriptedClient(ANSWERS, cycle=True)
    opt = LLMOptimizer(SVM, client, seed=0, templates=templates, system_prompt="Be brief.")
    opt.tell(opt.ask(), 0.5)
    opt.ask()
    messages = client.calls[-1]["messages"]
    assert messages[0]["content"] == "Be brief."
    assert 'Tried:\n{"C": 1.0, "gamma": 0.1} loss = 0.50' in messages[1]["content"]


def test_maximize_wording():
    client = ScriptedClient(ANSWERS, cycle=True)
    opt = LLMOptimizer(SVM, client, seed=0, direction="maximize")
    opt.tell(opt.ask(), 0.9)
    opt.ask()
    text = client.calls[-1]["messages"][1]["content"]
    assert "maximizes the score" in text and "score = 9.0000e-01" in text


@pytest.mark.parametrize("mode", ["compressed", "chat"])
def test_build_messages_matches_what_is_sent(mode):
    client = ScriptedClient(ANSWERS, cycle=True)
    opt = LLMOptimizer(SVM, client, seed=0, mode=mode, n_trials=5)
    opt.tell(opt.ask(), 0.3)
    expected = opt.build_messages()
    opt.ask()
    assert client.calls[-1]["messages"] == expected
