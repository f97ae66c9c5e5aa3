"""RandomSearch and GridSearch specifics (the shared contract is in tests/test_optimizer.py)."""

from __future__ import annotations

import json
from collections import Counter

import ConfigSpace as CS
import numpy as np
import pytest

from hpolab import GridSearch, RandomSearch, SearchExhausted, SearchSpace, make_optimizer

SMALL = SearchSpace({"x": (0.0, 1.0), "o": ["a", "b"]})  # grid(3): 3 x 2 = 6 points


def keys(trials: list) -> list[tuple]:
    return [SMALL.key(t.config) for t in trials]


# --------------------------------------------------------------------------- RandomSearch
def test_random_search_covers_the_space_uniformly() -> None:
    opt = RandomSearch({"n": (1, 4), "o": ["a", "b", "c"], "x": (0.0, 1.0)}, seed=0)
    trials = opt.ask(3000)
    n_counts = Counter(t.config["n"] for t in trials)
    o_counts = Counter(t.config["o"] for t in trials)
    assert set(n_counts) == {1, 2, 3, 4} and min(n_counts.values()) > 650
    assert set(o_counts) == {"a", "b", "c"} and min(o_counts.values()) > 900
    xs = np.array([t.config["x"] for t in trials])
    assert xs.min() >= 0.0 and xs.max() <= 1.0 and abs(xs.mean() - 0.5) < 0.02
    assert opt.meta["name"] == "random" and opt.meta["params"] == {}


def test_random_search_conditional_space() -> None:
    cs = CS.ConfigurationSpace()
    opt_hp = CS.CategoricalHyperparameter("opt", ["adam", "sgd"])
    momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.99)
    cs.add([opt_hp, momentum, CS.EqualsCondition(momentum, opt_hp, "sgd")])
    opt = RandomSearch(cs, seed=1)
    for trial in opt.ask(200):
        assert ("momentum" in trial.config) == (trial.config["opt"] == "sgd")


def test_random_search_batch_equals_sequential() -> None:
    a, b = RandomSearch(SMALL, seed=4), RandomSearch(SMALL, seed=4)
    assert [t.config for t in a.ask(5)] == [b.ask().config for _ in range(5)]


# --------------------------------------------------------------------------- GridSearch
def test_grid_visits_every_point_once_then_stops() -> None:
    opt = GridSearch(SMALL, resolution=3)
    assert len(opt.grid) == 6 and opt.remaining == 6
    trials = opt.ask(4)
    assert opt.remaining == 2
    rest = opt.ask(4)  # near the end a batch is shorter
    assert len(rest) == 2 and opt.remaining == 0
    seen = keys(trials + rest)
    assert len(set(seen)) == 6 and sorted(seen) == sorted(SMALL.key(c) for c in SMALL.grid(3))
    # lexicographic order without shuffle
    assert [t.config for t in trials + rest] == SMALL.grid(3)
    with pytest.raises(SearchExhausted, match=r"grid: all 6 points were proposed; raise the resolution"):
        opt.ask()
    with pytest.raises(SearchExhausted):
        opt.ask(3)
    assert len(opt.pending) == 6  # nothing half-asked


def test_grid_cycle_restarts_in_a_new_order() -> None:
    opt = GridSearch(SMALL, resolution=3, when_exhausted="cycle", seed=0)
    first = keys(opt.ask(6))
    batch = opt.ask(8)  # crosses into the second pass and into the third
    assert len(batch) == 8
    second = keys(batch[:6])
    assert sorted(second) == sorted(first) and len(set(second)) == 6
    assert second != first  # a new (seeded) order
    assert len(set(keys(batch[6:]))) == 2


def test_grid_random_continues_with_samples() -> None:
    opt = GridSearch(SMALL, resolution=3, when_exhausted="random", seed=0)
    grid_part = opt.ask(5)
    batch = opt.ask(4)  # one grid point, then three random samples
    assert len(batch) == 4
    assert sorted(keys(grid_part + batch[:1])) == sorted(SMALL.key(c) for c in SMALL.grid(3))
    grid_xs = {0.0, 0.5, 1.0}
    extra = [t.config for t in batch[1:]] + [t.config for t in opt.ask(20)]
    assert all(SMALL.validate(c) == c for c in extra)
    assert sum(c["x"] not in grid_xs for c in extra) == len(extra)  # off-grid: real samples


def test_grid_shuffle_is_seeded() -> None:
    def order(seed: int | None, shuffle: bool = True) -> list:
        return keys(GridSearch(SMALL, resolution=3, shuffle=shuffle, seed=seed).ask(6))

    assert order(1) == order(1)
    assert order(1) != order(2) or order(1) != order(3)
    assert sorted(order(1)) == sorted(order(None, shuffle=False))
    assert order(None, shuffle=False) == [SMALL.key(c) for c in SMALL.grid(3)]


def test_grid_state_round_trip_mid_cycle() -> None:
    for mode in ("cycle", "random"):
        opt = GridSearch(SMALL, resolution=3, when_exhausted=mode, shuffle=True, seed=9)
        for t in opt.ask(4) + opt.ask(5):
            opt.tell(t, t.config["x"])
        opt.ask(2)  # pending at save time
        fresh = GridSearch(SMALL, resolution=3, when_exhausted=mode, shuffle=True, seed=9)
        fresh.load_state_dict(json.loads(json.dumps(opt.state_dict())))
        assert fresh.remaining == opt.remaining
        assert [t.config for t in opt.ask(7)] == [t.config for t in fresh.ask(7)]


def test_grid_conditional_space_without_duplicates() -> None:
    cs = CS.ConfigurationSpace()
    opt_hp = CS.CategoricalHyperparameter("opt", ["adam", "sgd"])
    lr = CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True)
    momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.9)
    cs.add([opt_hp, lr, momentum, CS.EqualsCondition(momentum, opt_hp, "sgd")])
    opt = GridSearch(cs, resolution=4)
    trials = opt.ask(100)
    # adam: 4 lr values; sgd: 4 lr x 4 momentum
    assert len(trials) == 4 + 16 == opt.meta["params"]["grid_size"]
    assert len({opt.space.key(t.config) for t in trials}) == 20


def test_grid_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match=r"when_exhausted: 'again' is not 'stop', 'cycle' or 'random'"):
        GridSearch(SMALL, when_exhausted="again")  # type: ignore[arg-type]
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match=r"resolution: .* must be a positive int"):
            GridSearch(SMALL, resolution=bad)  # type: ignore[arg-type]
    big = {f"x{i}": (0.0, 1.0) for i in range(8)}
    with pytest.raises(ValueError, match=r"resolution: 10 gives a grid of 100000000 points"):
        GridSearch(big, resolution=10)


def test_grid_meta_and_registry() -> None:
    opt = make_optimizer("grid", SMALL, seed=3, resolution=3, shuffle=True, when_exhausted="cycle")
    assert isinstance(opt, GridSearch)
    assert opt.meta["params"] == {"resolution": 3, "shuffle": True, "when_exhausted": "cycle", "grid_size": 6}
    assert opt.meta["seed"] == 3 and opt.meta["name"] == "grid"
    assert isinstance(make_optimizer("random", SMALL, seed=1), RandomSearch)


def test_grid_resumed_after_exhaustion_stays_exhausted() -> None:
    opt = GridSearch(SMALL, resolution=3, shuffle=True, seed=5)
    trials = opt.ask(6)
    for t in trials[:4]:
        opt.tell(t, 1.0)
    with pytest.raises(SearchExhausted):
        opt.ask()
    fresh = GridSearch(SMALL, resolution=3, shuffle=True, seed=5)
    fresh.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    assert fresh.remaining == 0 and [t.id for t in fresh.pending] == [4, 5]
    with pytest.raises(SearchExhausted):
        fresh.ask()


def test_grid_on_a_large_conditional_space_is_not_refused() -> None:
    cs = CS.ConfigurationSpace()
    model = CS.CategoricalHyperparameter("model", ["a", "b", "c"])
    cs.add(model)
    for branch in "abc":
        for j in range(4):
            hp = CS.UniformFloatHyperparameter(f"{branch}{j}", 0.0, 1.0)
            cs.add([hp, CS.EqualsCondition(hp, model, branch)])
    opt = GridSearch(cs, resolution=6)  # full product 3 * 6**12 > 10**9; real grid 3 * 6**4
    assert opt.meta["params"]["grid_size"] == 3 * 6**4 == len(opt.grid)
