from __future__ import annotations

import json

import pytest
from finetune_helpers import SPACE, make_records

pytest.importorskip("peft", reason="fine-tuning needs peft (pip install 'hpolab[finetune]')")

import hpolab.llm.finetune._lora as lora
from hpolab.llm.finetune import run_cycles
from hpolab.objectives.base import FunctionObjective


def _error(config: dict) -> float:
    return min(1.0, 0.1 + abs(config["momentum"] - 0.9) + 0.01 * config["batch_size"] / 16)


class Flaky:
    """Raises on the n-th evaluation (an interruption), then behaves."""

    def __init__(self, fail_at: int | None) -> None:
        self.calls = 0
        self.fail_at = fail_at

    def __call__(self, config: dict) -> float:
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise KeyboardInterrupt("simulated interruption")
        return _error(config)


def _tasks(fn) -> list[FunctionObjective]:
    return [
        FunctionObjective(fn, SPACE, name=f"task{i}", description=f"A small network number {i} on digits")
        for i in range(2)
    ]


def test_cycles_save_everything_and_resume_without_redoing(tmp_path, tiny_model_dir, monkeypatch) -> None:
    calls: list[str] = []
    real = lora.finetune

    def counting(records, base_model, output_dir, **kw):
        calls.append(str(output_dir))
        return real(records, base_model, output_dir, **kw)

    monkeypatch.setattr(lora, "finetune", counting)
    options = {"max_steps": 3, "lora_r": 4, "show_progress_bar": False, "device": "cpu"}
    opt_options = {"max_new_tokens": 16}
    records = make_records(n_tasks=2, per_task=6)
    # Interrupted during cycle 2's evaluations (2 tasks x 2 proposals per cycle: call 6 is in cycle 2).
    flaky = Flaky(fail_at=6)
    with pytest.raises(KeyboardInterrupt):
        run_cycles(
            _tasks(flaky),
            records=records,
            output_dir=tmp_path,
            n_cycles=2,
            proposals_per_task=2,
            base_model=tiny_model_dir,
            finetune_options=options,
            optimizer_options=opt_options,
        )
    assert len(calls) == 2  # cycle 1 and cycle 2 fine-tuned
    state = json.loads((tmp_path / "state.json").read_text())
    assert state == {"finished": [1], "finetuned": [1, 2]}
    cycle1 = json.loads((tmp_path / "cycle-1" / "metrics.json").read_text())
    assert cycle1["overall"]["n"] == 4 and cycle1["overall"]["n_records_before"] == 12

    # Resume: cycle 1 is read back, cycle 2's finished fine-tune is reused, only its evaluations rerun.
    good = Flaky(fail_at=None)
    res = run_cycles(
        _tasks(good),
        records=records,
        output_dir=tmp_path,
        n_cycles=2,
        proposals_per_task=2,
        base_model=tiny_model_dir,
        finetune_options=options,
        optimizer_options=opt_options,
    )
    assert len(calls) == 2 and good.calls == 4
    assert [c.cycle for c in res.cycles] == [1, 2]
    assert len(res.records) == 12 + 4 + 4
    assert {r.source for r in res.records} == {"random", "cycle-1", "cycle-2"}
    for c in (1, 2):
        d = tmp_path / f"cycle-{c}"
        assert (d / "adapter" / "adapter_config.json").exists() and (d / "adapter" / "hpolab_finetune.json").exists()
        assert (d / "records.json").exists() and (d / "proposals.json").exists() and (d / "metrics.json").exists()
    # Cycle 2 was fine-tuned on cycle 1's records.
    prov = json.loads((tmp_path / "cycle-2" / "adapter" / "hpolab_finetune.json").read_text())
    assert prov["n_records"] == 16
    summary = res.summary()["cycles"]
    assert all(0 <= s["rmse"] <= 1 and s["ci_low"] <= s["rmse"] <= s["ci_high"] for s in summary)

    # A third run with one more cycle does only the new cycle.
    again = Flaky(fail_at=None)
    res3 = run_cycles(
        _tasks(again),
        records=records,
        output_dir=tmp_path,
        n_cycles=3,
        proposals_per_task=2,
        base_model=tiny_model_dir,
        finetune_options=options,
        optimizer_options=opt_options,
    )
    assert len(calls) == 3 and again.calls == 4 and len(res3.cycles) == 3
