"""Bounded LLM prompts and storage: the history fits the context, stored bytes per trial stay flat, max_cost resumes."""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

import numpy as np
import pytest

import hpolab
from hpolab.llm import LLMOptimizer
from hpolab.llm._context import CHARS_PER_TOKEN, MESSAGE_OVERHEAD, count_prompt_tokens
from hpolab.llm.clients._llamacpp import _common_prefix
from hpolab.objectives.base import FunctionObjective
from hpolab.space import SearchSpace
from hpolab.testing._scripted import ScriptedClient

SPACE = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 8), "width": (16, 512), "opt": ["adam", "sgd"]})
OBJECTIVE = FunctionObjective(
    lambda c: (np.log10(c["lr"]) + 2.5) ** 2 + abs(c["depth"] - 3) / 10 + (c["opt"] == "sgd") * 0.1,
    SPACE,
    description="A test problem: tune a small network.",
)


def _client() -> ScriptedClient:
    return ScriptedClient.random_configs(SPACE)


def _prompt_text(call: dict) -> str:
    return "\n".join(str(m["content"]) for m in call["messages"])


@pytest.mark.parametrize("mode", ["compressed", "chat"])
def test_the_history_in_a_prompt_fits_the_context(mode):
    client = _client()
    opt = LLMOptimizer(SPACE, client, mode=mode, context_tokens=2048, max_tokens=64, seed=0)
    limit = opt._prompt_limit(client)
    for _ in range(80):
        trial = opt.ask()
        opt.tell(trial, OBJECTIVE.evaluate(trial.config).value)
    last = client.calls[-1]
    tokens, _ = count_prompt_tokens(client, last["messages"])
    assert tokens <= limit
    text = _prompt_text(last)
    assert "earlier configs are not shown here, to fit the model's context" in text
    # the transcript says what was left out
    meta = opt.history[-1].trial.metadata["llm"]["prompt"]["history"]
    assert meta["omitted"] > 0 and meta["shown"] + meta["omitted"] >= 79 and meta["tokens"] <= limit
    assert "not shown" in meta["note"]
    # the best configurations so far are still shown
    from hpolab.llm._prompts import format_config

    best = sorted(opt.history[:-1], key=lambda r: float(r.value))[: LLMOptimizer.KEEP_BEST]  # type: ignore[arg-type]
    shown = [r.trial.metadata["llm"]["answer"] if mode == "chat" else format_config(r.config) for r in best]
    assert all(item and item in text for item in shown)


def test_every_prompt_fits_and_only_as_much_as_needed_is_left_out():
    client = _client()
    opt = LLMOptimizer(SPACE, client, context_tokens=1024, max_tokens=64, seed=1)
    limit = opt._prompt_limit(client)
    first_omitted = None
    for i in range(60):
        trial = opt.ask()
        opt.tell(trial, OBJECTIVE.evaluate(trial.config).value)
        info = trial.metadata["llm"]["prompt"]["history"]
        assert info["tokens"] <= limit
        if info["omitted"] and first_omitted is None:
            first_omitted = i
    assert first_omitted is not None and first_omitted > 5  # short histories are shown whole
    # one entry fewer left out would not have fit: the fewest were left out
    full = opt._prompt_history()
    _, _, info = opt._fit(client, full, False)
    k = info["omitted"]
    dropped = set(opt._drop_order(full)[: k - 1])
    kept = [e for i, e in enumerate(full) if i not in dropped]
    note = opt._omitted_note([full[i] for i in sorted(dropped)])
    n, _ = count_prompt_tokens(client, opt._messages(kept, False, note))
    assert k > 1 and n > limit


class _TokenizerClient(ScriptedClient):
    """A scripted client with a tokenizer (one token per two characters) and a 2,048-token window."""

    context_tokens = 2048

    def count_tokens(self, text: str) -> int:
        return (len(text) + 1) // 2


def test_the_clients_tokenizer_and_window_are_used():
    base = ScriptedClient.random_configs(SPACE)
    client = _TokenizerClient(base._answers)
    opt = LLMOptimizer(SPACE, client, max_tokens=64, seed=0)
    for _ in range(70):
        trial = opt.ask()
        opt.tell(trial, OBJECTIVE.evaluate(trial.config).value)
    info = opt.history[-1].trial.metadata["llm"]["prompt"]["history"]
    assert info["counted_by"] == "tokenizer" and info["limit"] == 2048 - 2 * 64 - LLMOptimizer.REASK_TOKENS
    assert info["omitted"] > 0
    tokens = sum(client.count_tokens(str(m["content"])) + MESSAGE_OVERHEAD for m in client.calls[-1]["messages"])
    assert tokens <= info["limit"]


def test_the_estimate_is_documented_and_conservative():
    messages = [{"role": "user", "content": "x" * 300}]
    assert count_prompt_tokens(object(), messages) == (int(300 / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD, "estimate")


def _bytes_per_trial(tmp_path: Path, n: int) -> float:
    url = f"sqlite:///{tmp_path / f'flat{n}.db'}"
    opt = LLMOptimizer(SPACE, _client(), context_tokens=1024, max_tokens=64, seed=0)
    study = hpolab.create_study(OBJECTIVE, opt, storage=url, study_name=f"s{n}")
    study.optimize(n_trials=n)
    records = hpolab.load_study(
        f"s{n}", url, objective=OBJECTIVE, optimizer=LLMOptimizer(SPACE, _client(), seed=0)
    ).trials
    assert len(records) == n
    return sum(len(json.dumps(r.trial.metadata)) for r in records) / n


def test_stored_bytes_per_trial_stay_flat(tmp_path: Path):
    small, large = _bytes_per_trial(tmp_path, 20), _bytes_per_trial(tmp_path, 80)
    assert large <= 1.25 * small, (small, large)
    assert large < 4000  # no prompt copies: answers, counts and fingerprints


def test_a_reask_records_only_what_it_added():
    client = ScriptedClient(["not json at all", '{"lr": 0.01, "depth": 2, "width": 64, "opt": "adam"}'])
    opt = LLMOptimizer(SPACE, client, seed=0)
    trial = opt.ask()
    exchanges = trial.metadata["llm"]["exchanges"]
    assert [e["kind"] for e in exchanges] == ["ask", "reask"]
    assert "messages" not in exchanges[0]
    assert [m["role"] for m in exchanges[1]["messages"]] == ["assistant", "user"]
    assert exchanges[1]["messages"][0]["content"] == "not json at all"
    # the fingerprint checks a rebuilt prompt
    from hpolab.llm._propose import prompt_fingerprint

    assert prompt_fingerprint(client.calls[0]["messages"]) == exchanges[0]["prompt"]


# ------------------------------------------------------------------------- max_cost across processes
def test_max_cost_counts_what_earlier_processes_spent(tmp_path: Path, caplog):
    from _fake_server import FakeOpenAIServer

    from hpolab.llm import OpenAIClient, Pricing

    caplog.set_level(logging.INFO, logger="hpolab")

    def answer(body: dict) -> str:
        return json.dumps(SPACE.sample(rng=np.random.default_rng(body.get("seed", 0))))

    url = f"journal:///{tmp_path / 'cost.log'}"
    with FakeOpenAIServer(answer) as server:
        server.usage = lambda body, text: (11, 7)  # 0.025 a request at these prices

        def client() -> OpenAIClient:
            return OpenAIClient(
                "fake", base_url=server.base_url, api_key="k", timeout_s=5, pricing=Pricing(1.0, 2.0), max_cost=0.09
            )

        study = hpolab.create_study(OBJECTIVE, LLMOptimizer(SPACE, client(), seed=0), storage=url, study_name="c")
        study.optimize(n_trials=10)
        assert len(server.requests) == 4  # 0.075 < 0.09, so a fourth request; then the limit
        # a later process: the stored 0.1 already reaches max_cost, so nothing more is sent
        again = hpolab.create_study(
            OBJECTIVE, LLMOptimizer(SPACE, client(), seed=0), storage=url, study_name="c", load_if_exists=True
        )
        again.optimize(n_trials=10)
        assert len(server.requests) == 4
        # a second worker joining the study counts the first worker's spending too
        other = hpolab.create_study(
            OBJECTIVE, LLMOptimizer(SPACE, client(), seed=0), storage=url, study_name="c", load_if_exists=True, slot=1
        )
        other.optimize(n_trials=10)
        assert len(server.requests) == 4


def test_history_step_keeps_the_prompts_start_between_steps():
    """With history_step=s the shown window moves every s trials, so consecutive prompts share their history lines."""
    results = {}
    for step in (1, 5):
        client = _client()
        opt = LLMOptimizer(SPACE, client, max_history=10, history_step=step, seed=0)
        shown = []
        for _ in range(30):
            trial = opt.ask()
            shown.append(trial.metadata["llm"]["prompt"]["history"]["shown"])
            opt.tell(trial, OBJECTIVE.evaluate(trial.config).value)
        texts = [_prompt_text(c) for c in client.calls]
        # how much of each prompt is the previous prompt's start: the part a model's cache can reuse
        kept = [_common_prefix(a, b) / len(a) for a, b in itertools.pairwise(texts[10:])]
        results[step] = (shown, kept)
    shown1, kept1 = results[1]
    shown5, kept5 = results[5]
    assert shown1[10:] == [10] * 20  # the plain window: always the last 10
    assert all(6 <= n <= 10 for n in shown5[10:]) and set(shown5[10:]) == {6, 7, 8, 9, 10}  # at most max_history
    # the plain window changes its first line on every ask; the stepped one only on every fifth
    assert sum(k > 0.9 for k in kept5) >= 14 and sum(k > 0.9 for k in kept1) == 0


def test_history_step_leaves_out_whole_steps_to_fit_the_context():
    client = _client()
    opt = LLMOptimizer(SPACE, client, context_tokens=2048, max_tokens=64, history_step=8, seed=1)
    limit = opt._prompt_limit(client)
    omitted = []
    for _ in range(100):
        trial = opt.ask()
        opt.tell(trial, OBJECTIVE.evaluate(trial.config).value)
        info = trial.metadata["llm"]["prompt"]["history"]
        assert info["tokens"] <= limit
        omitted.append(info["omitted"])
    dropped = [k for k in omitted if k]
    assert dropped and all(k % 8 == 0 for k in dropped)  # whole steps
    assert len(set(dropped)) < len(dropped) / 3  # the same set left out over several asks


@pytest.mark.parametrize("bad", [0, -1, True, 11])
def test_history_step_is_checked(bad):
    with pytest.raises(ValueError, match="history_step"):
        LLMOptimizer(SPACE, _client(), max_history=10, history_step=bad)
