from __future__ import annotations

import json

import pytest
from finetune_helpers import make_records

from hpolab.llm.finetune import DEFAULT_TEMPLATE, PromptTemplate, Record, Records, format_config
from hpolab.trial import Trial, TrialRecord, TrialResult, TrialState


def _trials() -> list[TrialRecord]:
    return [
        TrialRecord(Trial(0, {"lr": 0.1, "batch_size": 32}), TrialResult(0.25, info={"true_value": 0.2})),
        TrialRecord(Trial(1, {"lr": 0.01, "batch_size": 64}, budget=2), TrialResult(0.1)),
        TrialRecord(Trial(2, {"lr": 0.5, "batch_size": 16}), TrialResult(None, TrialState.FAIL)),
        TrialRecord(Trial(3, {"lr": 0.5, "batch_size": 16}), None),
    ]


def test_from_trials_converts_errors_to_accuracy_and_drops_unfinished() -> None:
    recs = Records.from_trials(_trials(), task="hpobench/nn/kc1", description="MLP on kc1", epochs=1, source="tpe")
    assert len(recs) == 2
    assert [r.accuracy for r in recs] == pytest.approx([0.75, 0.9])
    assert [r.epochs for r in recs] == [1.0, 2.0]  # a trial's budget wins over the default
    assert recs[0].model == "hpobench/nn/kc1" and recs[0].source == "tpe"
    true = Records.from_trials(_trials(), task="t", use_true_value=True)
    assert true[0].accuracy == pytest.approx(0.8)
    maxi = Records.from_trials(_trials(), task="t", direction="maximize")
    assert maxi[0].accuracy == pytest.approx(0.25)


def test_from_study_reads_the_objective() -> None:
    class Obj:
        name = "toy/task"
        description = "a toy"
        direction = "minimize"

    class Study:
        objective = Obj()
        trials = _trials()

    recs = Records.from_study(Study())
    assert recs.tasks == ["toy/task"] and recs[0].description == "a toy"


def test_lemur_json_and_csv_import(tmp_path) -> None:
    rows = [
        {
            "task": "img-classification",
            "dataset": "cifar-10",
            "nn": "AlexNet",
            "nn_code": "class Net: ...",
            "epoch": 1,
            "prm": {"lr": 0.01, "momentum": 0.9, "batch": 64},
            "accuracy": 0.55,
        },
        {
            "task": "img-classification",
            "dataset": "cifar-10",
            "nn": "ResNet",
            "nn_code": "class Net: ...",
            "epoch": 2,
            "prm": {"lr": 0.1, "momentum": 0.5, "batch": 32},
            "accuracy": 0.61,
        },
    ]
    path = tmp_path / "lemur.json"
    path.write_text(json.dumps(rows))
    recs = Records.from_json(path)
    assert recs.tasks == ["img-classification/cifar-10/AlexNet", "img-classification/cifar-10/ResNet"]
    assert recs[0].config == {"lr": 0.01, "momentum": 0.9, "batch": 64}
    assert recs[1].epochs == 2.0 and recs[1].model == "ResNet" and recs[1].description == "class Net: ..."
    by_model = Records.from_rows(rows, group_by=["nn"])
    assert by_model.tasks == ["AlexNet", "ResNet"]
    # Flat CSV in the LEMUR stat shape: hyperparameters as columns.
    csv_path = tmp_path / "lemur.csv"
    csv_path.write_text("nn,epoch,accuracy,lr,momentum,batch,transform\nVGG,1,0.5,0.01,0.9,64,norm_256\n")
    flat = Records.from_csv(csv_path)
    assert flat[0].config == {"lr": 0.01, "momentum": 0.9, "batch": 64}
    assert isinstance(flat[0].config["batch"], int)
    # Round trip through hpolab's own JSON and CSV.
    recs.to_json(tmp_path / "out.json")
    assert Records.from_json(tmp_path / "out.json") == recs
    recs.to_csv(tmp_path / "out.csv")
    assert Records.from_csv(tmp_path / "out.csv") == recs
    with pytest.raises(ValueError, match="row 0"):
        Records.from_rows([{"epoch": 1}])


def test_leave_one_task_out_never_splits_a_task() -> None:
    recs = make_records(n_tasks=4, per_task=5)
    folds = list(recs.leave_one_task_out())
    assert [f[0] for f in folds] == recs.tasks
    for task, train, test in folds:
        assert set(test.tasks) == {task}
        assert task not in train.tasks
        assert len(train) + len(test) == len(recs)
    with pytest.raises(ValueError, match="no records"):
        recs.split(["nope"])
    assert recs.hash() == make_records(n_tasks=4, per_task=5).hash()
    assert recs.hash() != make_records(n_tasks=4, per_task=5, seed=1).hash()


def test_examples_kinds_and_template_override() -> None:
    recs = make_records(n_tasks=2, per_task=10)
    ex = recs.examples(best_fraction=0.2, n_sequential=3, seed=1)
    kinds = [e.kind for e in ex]
    assert kinds.count("one-shot") == 20 and kinds.count("best") == 4 and kinds.count("sequential") == 6
    best = [e for e in ex if e.kind == "best"]
    top = {format_config(r.config) for t in recs.tasks for r in recs.best(t, 2)}
    assert {e.response for e in best} == top
    assert all("the best accuracy on this task" in e.prompt for e in best)
    one = next(e for e in ex if e.kind == "one-shot")
    assert "an accuracy of 0." in one.prompt and one.prompt.endswith("### Response:\n")
    seq = [e for e in ex if e.kind == "sequential" and e.metadata["history"] > 0]
    assert seq and all("Already tried" in e.prompt for e in seq)
    assert recs.examples(seed=1) == recs.examples(seed=1)
    custom = PromptTemplate(system="Be brief.", target_best="top accuracy")
    assert all(e.prompt.startswith("### System:\nBe brief.") for e in recs.examples(custom))
    assert PromptTemplate.from_dict(custom.to_dict()) == custom


def test_template_render_matches_prompt() -> None:
    t = DEFAULT_TEMPLATE
    instruction = t.instruction_text(model="MLP", description="d", epochs=1, target=0.9)
    assert t.render([{"role": "system", "content": t.system}, {"role": "user", "content": instruction}]) == t.prompt(
        model="MLP", description="d", epochs=1, target=0.9
    )
    follow = t.render(
        [{"role": "user", "content": "a"}, {"role": "assistant", "content": "{}"}, {"role": "user", "content": "b"}]
    )
    assert follow.endswith("{}\n\n### Instruction:\nb\n\n### Response:\n")
    assert format_config({"lr": 0.000123456, "bs": 32, "x": 1.0}) == '{"lr": 0.0001235, "bs": 32, "x": 1.0}'


def test_record_rejects_bad_rows() -> None:
    with pytest.raises(ValueError, match="accuracy"):
        Record("t", "m", "", {"a": 1}, float("nan"))
    with pytest.raises(ValueError, match="task"):
        Record("", "m", "", {"a": 1}, 0.5)
