"""LLMOptimizer and WarmStartedBO driven by the ScriptedClient test double (no model)."""

from __future__ import annotations

import json

import pytest

import hpolab
from hpolab.llm import (
    DecodingOptions,
    DuplicateOptions,
    LLMClientError,
    LLMOptimizer,
    PromptOptions,
    WarmStartedBO,
)
from hpolab.llm._prompts import format_config
from hpolab.llm.clients._simulated import Reply, Request, SimulatedClient, SimulatedLLMClient
from hpolab.llm.finetune import format_config as records_format_config
from hpolab.objectives.base import FunctionObjective
from hpolab.optimizers._random import RandomSearch
from hpolab.registry import list_optimizers, make_optimizer
from hpolab.space import SearchSpace
from hpolab.testing import OptimizerTestCase, mixed_space, quadratic
from hpolab.testing._scripted import ScriptedClient

SPACE = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 3), "opt": ["adam", "sgd"]})


class TestLLMConformance(OptimizerTestCase):
    """The shared conformance suite, with a double that answers random configs drawn from the request seed."""

    @pytest.fixture
    def factory(self):
        def make(space, seed=None, direction="minimize"):
            return LLMOptimizer(space, ScriptedClient.random_configs(space), seed=seed, direction=direction)

        return make


class TestLLMConformanceChatDuplicates(OptimizerTestCase):
    """Chat mode with a double that always repeats itself: every later proposal is a handled duplicate."""

    @pytest.fixture
    def factory(self):
        def make(space, seed=None, direction="minimize"):
            answer = json.dumps(space.default())
            return LLMOptimizer(
                space, ScriptedClient([answer], cycle=True), mode="chat", seed=seed, direction=direction
            )

        return make


def test_ask_n_gives_distinct_configs():
    opt = LLMOptimizer(SPACE, ScriptedClient(['{"lr": 0.01, "depth": 2, "opt": "adam"}'], cycle=True), seed=0)
    trials = opt.ask(6)
    keys = {SPACE.key(t.config) for t in trials}
    assert len(keys) == 6
    assert opt.stats["duplicate"] == 5 and opt.stats["proposals"] == 6
    for t in trials:
        opt.tell(t, 1.0)
    assert SPACE.key(opt.ask().config) not in keys


def test_stats_and_transcript():
    client = ScriptedClient(
        ['{"lr": 0.01, "depth": 2, "opt": "adam"}', "garbage", '{"lr": 0.02, "depth": 9, "opt": "sgd"}']
    )
    opt = LLMOptimizer(SPACE, client, seed=0)
    t1 = opt.ask()
    opt.tell(t1, 0.5)
    t2 = opt.ask()
    assert t1.metadata["llm"]["outcome"] == "valid"
    assert t2.metadata["llm"]["outcome"] == "reasked"
    assert t2.metadata["llm"]["changes"] == ["depth: clipped 9 to 3"]
    stats = opt.stats
    assert stats["valid"] == 1 and stats["reasked"] == 1 and stats["parse_error"] == 1 and stats["calls"] == 3
    assert stats["prompt_tokens"] > 0 and stats["completion_tokens"] > 0
    transcript = opt.transcript
    assert [c["kind"] for c in transcript] == ["ask", "ask", "reask"]
    assert [c["trial"] for c in transcript] == [0, 1, 1]
    assert all({"prompt", "answer", "prompt_tokens", "completion_tokens", "latency_s"} <= set(c) for c in transcript)
    # the prompt is recorded by its fingerprint; a re-ask records the messages it added
    assert "messages" not in transcript[0] and [m["role"] for m in transcript[2]["messages"]] == ["assistant", "user"]


def test_resume_restores_the_dialogue_without_calling_the_model(tmp_path):
    url = f"sqlite:///{tmp_path / 'llm.db'}"
    objective = FunctionObjective(lambda c: c["lr"] * c["depth"], SPACE, description="Toy.")
    first = ScriptedClient.random_configs(SPACE)
    study = hpolab.create_study(objective, LLMOptimizer(SPACE, first, seed=4, mode="chat"), storage=url, study_name="s")
    study.optimize(n_trials=4)
    assert len(first.calls) == 4
    second = ScriptedClient.random_configs(SPACE)
    resumed = LLMOptimizer(SPACE, second, seed=4, mode="chat")
    study2 = hpolab.create_study(objective, resumed, storage=url, study_name="s", load_if_exists=True)
    assert second.calls == []  # replay used the stored transcripts
    assert resumed.stats["proposals"] == 4
    study2.optimize(n_trials=1)
    messages = second.calls[0]["messages"]
    assert [m["role"] for m in messages].count("assistant") == 4  # the whole dialogue came back
    # an uninterrupted run asks the same 5th config
    ref_client = ScriptedClient.random_configs(SPACE)
    ref = LLMOptimizer(SPACE, ref_client, seed=4, mode="chat")
    hpolab.create_study(objective, ref).optimize(n_trials=5)
    assert ref_client.calls[4]["messages"] == messages
    assert [r.config for r in study2.trials] == [r.config for r in ref.history]


def test_budget_and_description_from_a_study():
    client = ScriptedClient.random_configs(SPACE)
    objective = FunctionObjective(lambda c: c["lr"], SPACE, description="Minimize the learning rate.")
    study = hpolab.create_study(objective, LLMOptimizer(SPACE, client, seed=0))
    study.optimize(n_trials=3)
    first = client.calls[0]["messages"][1]["content"]
    assert first.startswith("Minimize the learning rate.")
    assert "We have a budget to try 3 configurations in total." in first
    assert [t.trial.metadata["llm"]["last_try"] for t in study.trials] == [False, False, True]


def test_registry_names():
    names = list_optimizers()
    assert {"llm", "llm-multimodal", "llm-tpe", "llm-smac"} <= set(names)
    opt = make_optimizer("llm", SPACE, seed=0, client=ScriptedClient.random_configs(SPACE), mode="chat")
    assert isinstance(opt, LLMOptimizer) and opt.meta["params"]["mode"] == "chat"
    json.dumps(opt.meta)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        LLMOptimizer(SPACE, ScriptedClient(["x"]), mode="dialogue")
    with pytest.raises(ValueError, match="on_duplicate"):
        LLMOptimizer(SPACE, ScriptedClient(["x"]), on_duplicate="ignore")
    with pytest.raises(TypeError, match="complete"):
        LLMOptimizer(SPACE, object())
    with pytest.raises(ValueError, match="model"):
        LLMOptimizer(SPACE, base_url="http://127.0.0.1:1/v1")


def test_option_groups_and_their_keywords_agree():
    client = ScriptedClient.random_configs(SPACE)
    grouped = LLMOptimizer(
        SPACE,
        client,
        seed=0,
        prompt=PromptOptions(mode="chat", chain_of_thought=True, n_trials=5, max_history=3),
        decoding=DecodingOptions(temperature=0.3, structured_output=False),
        duplicates=DuplicateOptions(on_duplicate="perturb"),
    )
    flat = LLMOptimizer(
        SPACE,
        client,
        seed=0,
        mode="chat",
        chain_of_thought=True,
        n_trials=5,
        max_history=3,
        temperature=0.3,
        structured_output=False,
        on_duplicate="perturb",
    )
    assert grouped.meta == flat.meta and grouped.prompt == flat.prompt and grouped.decoding == flat.decoding
    assert grouped.max_tokens == 512 and grouped.on_duplicate == "perturb" and grouped.mode == "chat"
    as_dicts = LLMOptimizer(
        SPACE,
        client,
        seed=0,
        prompt={"mode": "chat", "chain_of_thought": True, "n_trials": 5, "max_history": 3},
        decoding={"temperature": 0.3, "structured_output": False},
        duplicates={"on_duplicate": "perturb"},
    )
    assert as_dicts.meta == flat.meta
    mixed = LLMOptimizer(SPACE, client, prompt=PromptOptions(mode="chat", n_trials=5), n_trials=7)  # a keyword wins
    assert mixed.prompt == PromptOptions(mode="chat", n_trials=7) and mixed.n_trials == 7
    assert (
        LLMOptimizer(SPACE, client).meta["params"] == LLMOptimizer(SPACE, client, prompt=PromptOptions()).meta["params"]
    )
    with pytest.raises(ValueError, match="mode"):
        PromptOptions(mode="dialogue")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reask_temperature"):
        DecodingOptions(reask_temperature=9.0)
    with pytest.raises(ValueError, match="on_duplicate"):
        LLMOptimizer(SPACE, client, duplicates={"on_duplicate": "ignore"})
    with pytest.raises(TypeError, match="mood"):
        LLMOptimizer(SPACE, client, prompt={"mood": "chat"})
    with pytest.raises(AttributeError):
        grouped.prompt.mode = "compressed"  # type: ignore[misc]


def test_scripted_client_runs_out():
    client = ScriptedClient(["a"])
    client.complete([{"role": "user", "content": "x"}])
    with pytest.raises(LLMClientError, match="only 1 answers"):
        client.complete([{"role": "user", "content": "x"}])


def test_a_stand_in_implements_only_its_answer():
    class Echo(SimulatedClient):
        name = "echo"

        def _answer(self, request: Request) -> Reply:
            return Reply('{"lr": 0.01, "depth": 2, "opt": "adam"}', {"seed": request.seed})

    client = Echo()
    out = client.complete([{"role": "user", "content": "three words here"}], seed=5)
    assert (out.prompt_tokens, out.completion_tokens, out.raw) == (3, 6, {"seed": 5}) and out.latency_s >= 0
    with pytest.raises(LLMClientError, match="supports_images=False"):
        client.complete([{"role": "user", "content": "x"}], images=[b"png"])
    opt = LLMOptimizer(SPACE, client, seed=0)
    assert opt.ask().config == {"lr": 0.01, "depth": 2, "opt": "adam"}
    assert isinstance(ScriptedClient(["x"]), SimulatedClient) and isinstance(SimulatedLLMClient(), SimulatedClient)


def test_one_config_formatter_for_prompts_and_records():
    config = {"lr": 0.000123456, "bs": 32, "x": float("nan")}
    assert format_config(config) == '{"lr": 0.000123456, "bs": 32, "x": "nan"}'
    assert records_format_config(config, ["bs"]) == '{"bs": 32, "lr": 0.0001235, "x": "nan"}'
    assert records_format_config.func is format_config  # the records' is the prompts' with 4 digits
    json.loads(records_format_config(config))


def test_warm_started_bo_routes_results():
    llm = LLMOptimizer(SPACE, ScriptedClient.random_configs(SPACE), seed=0)
    bo = RandomSearch(SPACE, seed=0)
    opt = WarmStartedBO(llm, bo, n_initial=3)
    for _ in range(6):
        trial = opt.ask()
        opt.tell(trial, quadratic({"x": trial.config["lr"]}) if "x" in trial.config else trial.config["lr"])
    sources = [r.trial.metadata["source"] for r in opt.history]
    assert sources == ["llm"] * 3 + ["bo"] * 3
    assert "llm" in opt.history[0].trial.metadata
    assert llm.n_told == 6 and bo.n_told == 6  # each saw everything (told or observed)
    assert [r.config for r in bo.history][:3] == [r.config for r in opt.history][:3]
    # resume
    fresh = WarmStartedBO(
        LLMOptimizer(SPACE, ScriptedClient(["unused"]), seed=0), RandomSearch(SPACE, seed=0), n_initial=3
    )
    fresh.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    assert fresh.ask().config == opt.ask().config


@pytest.mark.skipif(
    "tpe" not in list_optimizers(), reason="the TPE backend (hpolab/optimizers/_optuna.py) is not in this tree yet"
)
def test_llm_tpe_from_registry():
    opt = make_optimizer("llm-tpe", SPACE, seed=0, n_initial=2, client=ScriptedClient.random_configs(SPACE))
    for _ in range(5):
        t = opt.ask()
        opt.tell(t, t.config["lr"])
    assert [r.trial.metadata["source"] for r in opt.history] == ["llm", "llm", "bo", "bo", "bo"]


@pytest.mark.skipif("asha" not in list_optimizers(), reason="ASHA (hpolab/optimizers/_asha.py) is not in this tree yet")
def test_llm_as_asha_searcher():
    from hpolab.objectives.toy import ToyObjective

    objective = ToyObjective("branin", multi_fidelity=True)
    searcher = LLMOptimizer(objective.search_space, ScriptedClient.random_configs(objective.search_space), seed=0)
    asha = make_optimizer("asha", objective.search_space, seed=0, base=searcher)
    study = hpolab.create_study(objective, asha)
    study.optimize(n_trials=12)
    assert len(study.trials) == 12
    for record in study.trials:
        objective.search_space.validate(record.config)
    assert searcher.stats["proposals"] >= 1


def test_mixed_space_defaults_are_not_numpy():
    opt = LLMOptimizer(mixed_space(), ScriptedClient.random_configs(mixed_space()), seed=0)
    t = opt.ask()
    assert all(type(v) in (int, float, str) for v in t.config.values())


def test_caching_client_reuses_greedy_answers_only():
    from hpolab.llm import CachingClient

    inner = ScriptedClient(["a", "b", "c"], cycle=True)
    client = CachingClient(inner)
    msgs = [{"role": "user", "content": "x"}]
    first = client.complete(msgs, seed=1)
    again = client.complete(msgs, seed=2)
    assert again.text == first.text == "a" and again.latency_s == 0.0 and again.raw["cached"]
    assert client.complete(msgs, temperature=0.7).text == "b"  # sampled: never cached
    assert client.complete([{"role": "user", "content": "y"}]).text == "c"
    assert client.stats == {"hits": 1, "misses": 2} and len(inner.calls) == 3
    opt = LLMOptimizer(SPACE, client, seed=0)
    trial = opt.ask()
    assert "cached" in trial.metadata["llm"]["exchanges"][0]
