"""Parse -> validate -> repair of LLM answers: unit cases and a 1,000-answer property test."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpolab.llm import LLMOptimizer, check_answer, extract_config, perturb_config, propose_config
from hpolab.space import SearchSpace
from hpolab.testing import conditional_space, mixed_space
from hpolab.testing._scripted import ScriptedClient

SPACE = SearchSpace({"lr": (1e-5, 1.0, "log"), "depth": (1, 3), "opt": ["adam", "sgd"], "width": (16, 1024, "log")})
MSG = [{"role": "user", "content": "Provide a config in JSON format. Config:"}]


@pytest.mark.parametrize(
    ("text", "status", "expected", "how"),
    [
        ('{"lr": 0.01, "depth": 2, "opt": "adam", "width": 64}', "valid", {"lr": 0.01, "depth": 2}, "json"),
        (
            'Analysis: deeper is better.\nConfig: {"lr": 0.001, "depth": 3, "opt": "sgd", "width": 128}',
            "valid",
            {"depth": 3, "opt": "sgd"},
            "config_marker",
        ),
        (
            'Sure! Here it is:\n```json\n{"lr": 0.1, "depth": 1, "opt": "adam", "width": 32}\n```\nGood luck.',
            "valid",
            {"lr": 0.1},
            "code_block",
        ),
        ("{'lr': 0.1, 'depth': 1, 'opt': 'adam', 'width': 32}", "repaired", {"lr": 0.1}, "embedded"),
        ("{lr: 1e-3, depth: 2, opt: sgd, width: 100,}", "repaired", {"opt": "sgd", "width": 100}, "embedded"),
        (
            '{"lr": 5.0, "depth": 0, "opt": "Adam", "width": 16.0}',
            "repaired",
            {"lr": 1.0, "depth": 1, "opt": "adam"},
            "json",
        ),
        ('{"LR": 0.01, "Depth": 2, "OPT": "sgd", "Width": 64}', "repaired", {"lr": 0.01, "opt": "sgd"}, "json"),
        ('{"lr": 0.01, "depth": 2, "opt": "sg', "repaired", {"opt": "sgd", "width": 128}, "truncated"),
        ("lr = 0.003, depth=2, opt: sgd, width: 256", "repaired", {"lr": 0.003, "opt": "sgd"}, "key_value"),
        ('{"config": {"lr": 0.2, "depth": 2, "opt": "adam", "width": 20}}', "valid", {"lr": 0.2}, "json"),
        (
            '{"analysis": "try small lr", "config": {"lr": 0.2, "depth": 2, "opt": "adam", "width": 20}}',
            "valid",
            {"lr": 0.2},
            "json",
        ),
        ('{"lr": NaN, "depth": 2, "opt": "adam", "width": 64}', "repaired", {"depth": 2}, "json"),
        ('{"lr": 0.01, "depth": true, "opt": "adam", "width": 64, "momentum": 0.9}', "repaired", {"lr": 0.01}, "json"),
    ],
)
def test_check_answer_cases(text, status, expected, how):
    check = check_answer(text, SPACE)
    assert check.status == status, check
    assert check.parsed.how == how
    SPACE.validate(check.config)
    for key, value in expected.items():
        assert check.config[key] == pytest.approx(value)
    if status == "repaired":
        assert check.changes


@pytest.mark.parametrize(
    "text",
    ["", "   ", "I'm sorry, I can't help with that.", '{"foo": 1, "bar": 2}', "[1, 2, 3]", "{" * 5000, "null"],
)
def test_unusable_answers_say_why(text):
    check = check_answer(text, SPACE)
    assert check.status == "unusable" and check.config is None and check.error


def test_no_eval_ever():
    text = '{"lr": __import__("os").system("echo pwned"), "depth": 2, "opt": "adam", "width": 64}'
    check = check_answer(text, SPACE)
    assert check.config is None or check.config["lr"] != 0


def test_reask_quotes_the_error_then_fallback():
    client = ScriptedClient(["no idea", "still no idea"])
    out = propose_config(client, MSG, SPACE, np.random.default_rng(0), seed=3)
    assert out.outcome == "fallback"
    assert out.counters == {"parse_error": 2, "fallback": 1}
    SPACE.validate(out.config)
    reask = client.calls[1]
    assert "could not be used: no JSON object found" in reask["messages"][-1]["content"]
    assert reask["messages"][-2] == {"role": "assistant", "content": "no idea"}
    assert reask["temperature"] == 0.7 and reask["seed"] == 4


def test_reask_success():
    client = ScriptedClient(["nothing", '{"lr": 0.01, "depth": 2, "opt": "adam", "width": 64}'])
    out = propose_config(client, MSG, SPACE, np.random.default_rng(0))
    assert out.outcome == "reasked" and out.counters == {"parse_error": 1, "reasked": 1}
    assert [e["kind"] for e in out.exchanges] == ["ask", "reask"]


def test_duplicate_reask_then_perturb():
    answer = '{"lr": 0.01, "depth": 2, "opt": "adam", "width": 64}'
    seen = {SPACE.key(SPACE.validate(json.loads(answer)))}
    client = ScriptedClient([answer, answer])
    out = propose_config(client, MSG, SPACE, np.random.default_rng(0), seen)
    assert out.duplicate_handling == "perturb"
    assert out.counters == {"valid": 1, "duplicate": 1, "perturbed": 1}
    assert SPACE.key(out.config) not in seen
    assert "already evaluated" in client.calls[1]["messages"][-1]["content"]
    client = ScriptedClient([answer, '{"lr": 0.02, "depth": 2, "opt": "adam", "width": 64}'])
    out = propose_config(client, MSG, SPACE, np.random.default_rng(0), seen)
    assert out.duplicate_handling == "reask" and out.config["lr"] == 0.02
    client = ScriptedClient([answer])
    out = propose_config(client, MSG, SPACE, np.random.default_rng(0), seen, on_duplicate="perturb")
    assert out.duplicate_handling == "perturb" and len(client.calls) == 1


def test_duplicate_in_exhausted_space_is_kept():
    space = SearchSpace({"a": ["x", "y"]})
    seen = {space.key({"a": "x"}), space.key({"a": "y"})}
    out = propose_config(ScriptedClient(['{"a": "x"}'], cycle=True), MSG, space, np.random.default_rng(0), seen)
    assert out.duplicate_handling == "kept" and out.counters["duplicate_kept"] == 1


def test_perturb_changes_something_and_stays_inside():
    rng = np.random.default_rng(0)
    for space in (SPACE, mixed_space(), conditional_space()):
        for _ in range(50):
            config = space.sample(rng=rng)
            new, notes = perturb_config(space, config, rng)
            space.validate(new)
            assert new != config and notes


def test_extract_prefers_the_object_matching_the_space():
    text = 'Example {"a": 1}. My answer: {"lr": 0.5, "depth": 1, "opt": "sgd", "width": 99} {"b": 2}'
    parsed = extract_config(text, SPACE)
    assert parsed.config == {"lr": 0.5, "depth": 1, "opt": "sgd", "width": 99}


# --------------------------------------------------------------------------- property test
_KEYS = ["lr", "depth", "opt", "width", "momentum", "LR", "Depth", "x", "x1", "n", "width ", "épsilon", ""]
_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 2, 3, 16, 1024, 1e-5, 1.0, 0.5, -1, 1e308, "adam", "sgd", "rmsprop", "SGD", "sg"]),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
_configs = st.dictionaries(st.sampled_from(_KEYS), _values, max_size=7)
_BIG = "The validation loss is what matters here. " * 2400  # ~100 KB


def _dump(config: dict, style: str) -> str:
    try:
        text = json.dumps(config, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(config)
    if style == "single":
        return str(config)
    if style == "block":
        return f"Here is my suggestion:\n```json\n{text}\n```\nLet me know the loss."
    if style == "cot":
        return f"Analysis: the loss went down, so I keep going.\nConfig: {text}"
    if style == "prose":
        return f"I would try {text} because it looks promising ✨ 日本語."
    if style == "trailing":
        return text + " and then some trailing text } ] {"
    return text


@st.composite
def answers(draw):
    kind = draw(st.sampled_from(["config", "config", "config", "truncated", "text", "big", "big_config", "numbers"]))
    if kind == "text":
        return draw(st.text(max_size=300))
    if kind == "big":
        return _BIG + draw(st.text(max_size=50))
    if kind == "numbers":
        return ", ".join(f"{k}={v}" for k, v in draw(_configs).items())
    config = draw(_configs)
    style = draw(st.sampled_from(["json", "single", "block", "cot", "prose", "trailing"]))
    text = _dump(config, style)
    if kind == "truncated" and text:
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
    if kind == "big_config":
        text = _BIG + text
    return text


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(first=answers(), second=answers(), which=st.integers(min_value=0, max_value=1))
def test_property_every_told_config_is_inside_the_space(first, second, which):
    space = SPACE if which == 0 else conditional_space()
    check = check_answer(first, space)  # never raises
    assert check.status in ("valid", "repaired", "unusable")
    if check.config is not None:
        space.validate(check.config)
    optimizer = LLMOptimizer(space, ScriptedClient([first, second], cycle=True), seed=0, n_trials=3)
    trial = optimizer.ask()
    config = space.validate(trial.config)
    assert all(not isinstance(v, float) or math.isfinite(v) for v in config.values())
    optimizer.tell(trial, 1.0)
    meta = trial.metadata["llm"]
    assert meta["outcome"] in ("valid", "repaired", "reasked", "fallback")
    json.dumps(meta)  # the transcript is storable
