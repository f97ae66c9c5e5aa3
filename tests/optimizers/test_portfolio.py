from __future__ import annotations

import pytest

import hpolab
from hpolab.llm.finetune import Record, Records
from hpolab.optimizers._portfolio import Portfolio, rank_configs
from hpolab.space import SearchSpace
from hpolab.testing import OptimizerTestCase, mixed_space


def _rows(task: str, scored: dict[str, float]) -> list[Record]:
    configs = {
        "a": {"lr": 0.01, "opt": "adam"},
        "b": {"lr": 0.1, "opt": "sgd"},
        "c": {"lr": 0.001, "opt": "adam"},
        "d": {"lr": 0.5, "opt": "sgd"},  # outside the target space below: lr is clipped to 0.2
    }
    return [Record(task, "m", "", configs[k], acc) for k, acc in scored.items()]


RECORDS = Records(
    _rows("t1", {"a": 0.9, "b": 0.8, "c": 0.7})  # ranks a=0, b=0.5, c=1
    + _rows("t2", {"a": 0.6, "b": 0.7, "c": 0.5})  # ranks b=0, a=0.5, c=1
    + _rows("t3", {"d": 0.99})  # a single config: rank 0.5
)


def test_rank_configs_by_mean_rank_with_shrinkage() -> None:
    ranked = rank_configs(RECORDS, prior_weight=1.0)
    # a: (0 + 0.5 + 0.5) / 3 = 1/3 ; b: (0.5 + 0 + 0.5) / 3 = 1/3 ; d: (0.5 + 0.5) / 2 = 0.5 ; c: 2.5 / 3
    assert [c["lr"] for c, _, _ in ranked] == [0.01, 0.1, 0.5, 0.001]
    assert round(ranked[0][1], 6) == round(1 / 3, 6) and round(ranked[-1][1], 6) == round(2.5 / 3, 6)
    no_prior = rank_configs(RECORDS, prior_weight=0.0)
    assert [round(s, 3) for _, s, _ in no_prior] == [0.25, 0.25, 0.5, 1.0]


def test_portfolio_proposes_in_order_snapped_into_the_space() -> None:
    space = SearchSpace({"lr": (1e-4, 0.2, "log"), "opt": ["adam", "sgd"]})
    opt = Portfolio(space, records=RECORDS, seed=0)
    trials = [opt.ask() for _ in range(5)]
    assert [t.config["lr"] for t in trials[:4]] == [0.01, 0.1, 0.2, 0.001]
    assert trials[2].metadata["outcome"] == "repaired" and "clipped" in trials[2].metadata["changes"][0]
    assert trials[4].metadata["outcome"] == "fallback"  # the list is used up: random samples follow
    assert opt.stats == {"valid": 3, "repaired": 1, "fallback": 1}
    for t in trials:
        space.validate(t.config)


def test_exclude_tasks_and_registry(tmp_path) -> None:
    space = SearchSpace({"lr": (1e-4, 0.2, "log"), "opt": ["adam", "sgd"]})
    opt = Portfolio(space, records=RECORDS, exclude_tasks=["t1", "t3"])
    assert opt.ask().config["lr"] == 0.1  # only t2 counts now
    path = tmp_path / "records.json"
    RECORDS.to_json(path)
    reg = hpolab.make_optimizer("portfolio", space, seed=0, records=str(path))
    assert isinstance(reg, Portfolio) and reg.ask().config["lr"] == 0.01
    assert reg.meta["params"]["n_tasks"] == 3
    with pytest.raises(ValueError, match="records"):
        Portfolio(space)
    with pytest.raises(ValueError, match="no records left"):
        Portfolio(space, records=RECORDS, exclude_tasks=["t1", "t2", "t3"])


def _mixed_records() -> Records:
    space = mixed_space()
    rows = []
    for t in range(3):
        for i, config in enumerate(space.sample(6, seed=t)):
            rows.append(Record(f"t{t}", "m", "", config, 0.5 + 0.05 * ((i * (t + 1)) % 6)))
    return Records(rows)


class TestPortfolioConformance(OptimizerTestCase):
    stochastic = False  # the order is fixed by the records
    supports_conditional = True

    @pytest.fixture
    def factory(self):
        records = _mixed_records()
        return lambda space, seed=None, direction="minimize": Portfolio(
            space, seed=seed, direction=direction, records=records
        )
