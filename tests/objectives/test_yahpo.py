"""YAHPO Gym surrogates on onnxruntime: the outputs of yahpo-gym 1.0.2, the space, the data lookup, studies.

The data is ``yahpo_data`` v1.0.2, found through ``HPOLAB_YAHPO_DATA`` or ``../shared/yahpo_data`` next
to the repository; the tests skip when neither exists.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason='onnxruntime is not installed (pip install "hpolab[yahpo]")')

import optuna
from _yahpo_data import NO_DATA, yahpo_data_dir

import hpolab
from hpolab.objectives import DatasetUnavailableError
from hpolab.objectives.yahpo import DATA_ENV, SCENARIOS, YAHPOObjective, find_yahpo_data, list_yahpo
from hpolab.registry import UnknownNameError, list_objectives, make_objective
from hpolab.space import InvalidConfigError

DATA = yahpo_data_dir()
pytestmark = pytest.mark.skipif(DATA is None, reason=NO_DATA)


@pytest.fixture
def data_env(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data folder, also in HPOLAB_YAHPO_DATA (for registry names and worker processes)."""
    assert DATA is not None
    monkeypatch.setenv(DATA_ENV, str(DATA))
    return DATA


# yahpo-gym 1.0.2's outputs, computed once in a separate virtual environment (yahpo-gym 1.0.2 with
# its pins ConfigSpace 0.6.1, numpy 1.26; onnxruntime 1.32) on the same yahpo_data v1.0.2:
#   bench = BenchmarkSet(scenario, instance=instance)
#   configs = 5 samples of bench.get_opt_space(seed=7) (rbv2: repl set to 10; rbv2_xgboost: every booster)
#   bench.objective_function(configs)
# Each case: the configuration without instance and fidelities, the fidelity value, the outputs.
REFERENCES: dict[str, tuple[str, list[tuple[dict[str, Any], float, dict[str, float]]]]] = {
    "lcbench": (
        "167184",
        [
            (
                {
                    "batch_size": 20,
                    "learning_rate": 0.002066463288698666,
                    "max_dropout": 0.7234651778309412,
                    "max_units": 964,
                    "momentum": 0.579261324665286,
                    "num_layers": 3,
                    "weight_decay": 0.007214392824642557,
                },
                41,
                {
                    "time": 315.7347717285156,
                    "val_accuracy": 61.9472770690918,
                    "val_cross_entropy": 0.5589740872383118,
                    "val_balanced_accuracy": 0.6769733428955078,
                    "test_cross_entropy": 0.6380720138549805,
                    "test_balanced_accuracy": 0.652997612953186,
                },
            ),
            (
                {
                    "batch_size": 40,
                    "learning_rate": 0.010906615135918195,
                    "max_dropout": 0.8037390361043755,
                    "max_units": 183,
                    "momentum": 0.15868334874625556,
                    "num_layers": 2,
                    "weight_decay": 0.09096025683668417,
                },
                26,
                {
                    "time": 29.34817123413086,
                    "val_accuracy": 61.65129852294922,
                    "val_cross_entropy": 0.5816447734832764,
                    "val_balanced_accuracy": 0.6930021643638611,
                    "test_cross_entropy": 0.6383534669876099,
                    "test_balanced_accuracy": 0.6472316980361938,
                },
            ),
            (
                {
                    "batch_size": 33,
                    "learning_rate": 0.06217532428346601,
                    "max_dropout": 0.024899227550348013,
                    "max_units": 337,
                    "momentum": 0.9456152553681446,
                    "num_layers": 2,
                    "weight_decay": 0.05485350702441069,
                },
                24,
                {
                    "time": 43.14506149291992,
                    "val_accuracy": 59.77067565917969,
                    "val_cross_entropy": 0.7143168449401855,
                    "val_balanced_accuracy": 0.6430209875106812,
                    "test_cross_entropy": 0.6475805044174194,
                    "test_balanced_accuracy": 0.5942164659500122,
                },
            ),
            (
                {
                    "batch_size": 373,
                    "learning_rate": 0.0037173867104998252,
                    "max_dropout": 0.7504098591020348,
                    "max_units": 408,
                    "momentum": 0.5163000451730329,
                    "num_layers": 2,
                    "weight_decay": 0.04908168125021614,
                },
                7,
                {
                    "time": 23.738216400146484,
                    "val_accuracy": 53.496498107910156,
                    "val_cross_entropy": 0.6273087859153748,
                    "val_balanced_accuracy": 0.6148037910461426,
                    "test_cross_entropy": 0.6808173656463623,
                    "test_balanced_accuracy": 0.5862449407577515,
                },
            ),
            (
                {
                    "batch_size": 57,
                    "learning_rate": 0.001252192670370911,
                    "max_dropout": 0.8379179943092606,
                    "max_units": 538,
                    "momentum": 0.3794552627192693,
                    "num_layers": 3,
                    "weight_decay": 0.027612144342586204,
                },
                25,
                {
                    "time": 87.32189178466797,
                    "val_accuracy": 55.785125732421875,
                    "val_cross_entropy": 0.6387798190116882,
                    "val_balanced_accuracy": 0.6273316144943237,
                    "test_cross_entropy": 0.6742287874221802,
                    "test_balanced_accuracy": 0.6015822291374207,
                },
            ),
        ],
    ),
    "rbv2_xgboost": (
        "12",
        [
            (
                {
                    "alpha": 0.002654009008507451,
                    "booster": "dart",
                    "colsample_bylevel": 0.2757545903008525,
                    "colsample_bytree": 0.5048836758173043,
                    "eta": 0.1058862338123689,
                    "gamma": 0.7010811981675424,
                    "lambda": 0.42220227302132635,
                    "max_depth": 6,
                    "min_child_weight": 3.5386503154522844,
                    "nrounds": 548,
                    "num.impute.selected.cpo": "impute.hist",
                    "rate_drop": 0.28814559930799355,
                    "skip_drop": 0.9095935277196137,
                    "subsample": 0.5510084172939441,
                },
                0.0998895993589687,
                {
                    "acc": 0.9066579341888428,
                    "bac": 0.9092946648597717,
                    "auc": 0.9758182764053345,
                    "brier": 0.16443143784999847,
                    "f1": 0.00021316892525646836,
                    "logloss": 0.5063871741294861,
                    "timetrain": 36.731990814208984,
                    "timepredict": 0.9199028015136719,
                    "memory": 3.5791757106781006,
                },
            ),
            (
                {
                    "alpha": 0.018086218313492906,
                    "booster": "gbtree",
                    "colsample_bylevel": 0.9100370911378639,
                    "colsample_bytree": 0.14183775130165766,
                    "eta": 0.035575007105131555,
                    "gamma": 0.36969324278274296,
                    "lambda": 418.58679992269117,
                    "max_depth": 11,
                    "min_child_weight": 17.654865991989052,
                    "nrounds": 8,
                    "num.impute.selected.cpo": "impute.median",
                    "subsample": 0.30727259111886834,
                },
                0.5620352216589495,
                {
                    "acc": 0.6593353748321533,
                    "bac": 0.6687794923782349,
                    "auc": 0.9422483444213867,
                    "brier": 0.906466007232666,
                    "f1": 9.096082067117095e-05,
                    "logloss": 2.2664072513580322,
                    "timetrain": 1.481448769569397,
                    "timepredict": 0.09870082139968872,
                    "memory": 466.95611572265625,
                },
            ),
            (
                {
                    "alpha": 3.6558390259714733,
                    "booster": "gblinear",
                    "lambda": 671.5537070674288,
                    "nrounds": 2129,
                    "num.impute.selected.cpo": "impute.hist",
                    "subsample": 0.8573290434085575,
                },
                0.1571773230774765,
                {
                    "acc": 0.8099389672279358,
                    "bac": 0.8500676155090332,
                    "auc": 0.9580418467521667,
                    "brier": 0.4159296154975891,
                    "f1": 0.0005346177495084703,
                    "logloss": 1.0101020336151123,
                    "timetrain": 35.594093322753906,
                    "timepredict": 0.9811598062515259,
                    "memory": 8.367005348205566,
                },
            ),
            (
                {
                    "alpha": 0.00925139994523112,
                    "booster": "gbtree",
                    "colsample_bylevel": 0.8884160623342074,
                    "colsample_bytree": 0.6781695821681198,
                    "eta": 0.2474252761731253,
                    "gamma": 3.5584898121324064,
                    "lambda": 0.4836901346479509,
                    "max_depth": 1,
                    "min_child_weight": 90.25932351118928,
                    "nrounds": 750,
                    "num.impute.selected.cpo": "impute.hist",
                    "subsample": 0.5145672665469492,
                },
                0.7848671934975797,
                {
                    "acc": 0.09847213327884674,
                    "bac": 0.10296644270420074,
                    "auc": 0.5081303715705872,
                    "brier": 0.8775135278701782,
                    "f1": 0.00015361297118943185,
                    "logloss": 2.3111915588378906,
                    "timetrain": 22.89514923095703,
                    "timepredict": 0.32581114768981934,
                    "memory": 221.7205810546875,
                },
            ),
            (
                {
                    "alpha": 63.72987175755197,
                    "booster": "dart",
                    "colsample_bylevel": 0.6038558931680119,
                    "colsample_bytree": 0.7308796703156625,
                    "eta": 0.2861020419235828,
                    "gamma": 0.4173548080869971,
                    "lambda": 0.007155070642790111,
                    "max_depth": 1,
                    "min_child_weight": 14.600084767493483,
                    "nrounds": 368,
                    "num.impute.selected.cpo": "impute.mean",
                    "rate_drop": 0.4631362180381473,
                    "skip_drop": 0.05549950311272267,
                    "subsample": 0.8315465951473356,
                },
                0.444873688036724,
                {
                    "acc": 0.10779214650392532,
                    "bac": 0.10770727694034576,
                    "auc": 0.5061107277870178,
                    "brier": 0.9388022422790527,
                    "f1": 0.00015832246572244912,
                    "logloss": 2.31994891166687,
                    "timetrain": 72.70158386230469,
                    "timepredict": 0.4450504779815674,
                    "memory": 21.740568161010742,
                },
            ),
        ],
    ),
    "rbv2_rpart": (
        "40981",
        [
            (
                {
                    "cp": 0.0015556808642125703,
                    "maxdepth": 24,
                    "minbucket": 44,
                    "minsplit": 73,
                    "num.impute.selected.cpo": "impute.hist",
                },
                0.5160868497501397,
                {
                    "acc": 0.8762724995613098,
                    "bac": 0.8459964394569397,
                    "auc": 0.870656430721283,
                    "brier": 0.09523969888687134,
                    "f1": 0.8933132886886597,
                    "logloss": 0.33314061164855957,
                    "timetrain": 0.7603811621665955,
                    "timepredict": 0.05211964249610901,
                    "memory": 326.4251403808594,
                },
            ),
            (
                {
                    "cp": 0.0015100053781367663,
                    "maxdepth": 9,
                    "minbucket": 50,
                    "minsplit": 68,
                    "num.impute.selected.cpo": "impute.hist",
                },
                0.09395825649872795,
                {
                    "acc": 0.6149011254310608,
                    "bac": 0.5654522776603699,
                    "auc": 0.5382457375526428,
                    "brier": 0.2447732537984848,
                    "f1": 0.7232499122619629,
                    "logloss": 0.5657514929771423,
                    "timetrain": 0.6258836984634399,
                    "timepredict": 0.060809314250946045,
                    "memory": 312.9235534667969,
                },
            ),
            (
                {
                    "cp": 0.006853602826907681,
                    "maxdepth": 28,
                    "minbucket": 22,
                    "minsplit": 46,
                    "num.impute.selected.cpo": "impute.hist",
                },
                0.6125324499401988,
                {
                    "acc": 0.8928620219230652,
                    "bac": 0.8665014505386353,
                    "auc": 0.8898188471794128,
                    "brier": 0.08860737830400467,
                    "f1": 0.8976851105690002,
                    "logloss": 0.3717849552631378,
                    "timetrain": 0.7900908589363098,
                    "timepredict": 0.051566969603300095,
                    "memory": 330.9449462890625,
                },
            ),
            (
                {
                    "cp": 0.7053271811378284,
                    "maxdepth": 7,
                    "minbucket": 55,
                    "minsplit": 91,
                    "num.impute.selected.cpo": "impute.mean",
                },
                0.7578975633289738,
                {
                    "acc": 0.7378095984458923,
                    "bac": 0.6569226980209351,
                    "auc": 0.6161796450614929,
                    "brier": 0.17010143399238586,
                    "f1": 0.7879624962806702,
                    "logloss": 0.4991954565048218,
                    "timetrain": 0.8579549193382263,
                    "timepredict": 0.051246367394924164,
                    "memory": 356.81964111328125,
                },
            ),
            (
                {
                    "cp": 0.09857798542908822,
                    "maxdepth": 15,
                    "minbucket": 21,
                    "minsplit": 50,
                    "num.impute.selected.cpo": "impute.median",
                },
                0.38491367420717515,
                {
                    "acc": 0.864645779132843,
                    "bac": 0.8230672478675842,
                    "auc": 0.8421631455421448,
                    "brier": 0.09737800061702728,
                    "f1": 0.8942574262619019,
                    "logloss": 0.3869765102863312,
                    "timetrain": 0.8038907051086426,
                    "timepredict": 0.05489736795425415,
                    "memory": 354.03509521484375,
                },
            ),
        ],
    ),
    "iaml_glmnet": (
        "40981",
        [
            (
                {"alpha": 0.07630828937395717, "s": 28.80259022108657},
                0.4552569544976667,
                {
                    "mmce": 0.4373771548271179,
                    "f1": 0.7454642653465271,
                    "auc": 0.557422935962677,
                    "logloss": 0.6901500821113586,
                    "ramtrain": 15.333396911621094,
                    "rammodel": 0.13724970817565918,
                    "rampredict": 14.158674240112305,
                    "timetrain": 0.2144084870815277,
                    "timepredict": 0.1736193150281906,
                    "mec": 0.21070627868175507,
                    "ias": 2.6040229000878767e-12,
                    "nf": 1.0,
                },
            ),
            (
                {"alpha": 0.7234651778309412, "s": 701.3367297793941},
                0.5523409942981207,
                {
                    "mmce": 0.4229084253311157,
                    "f1": 0.7206794023513794,
                    "auc": 0.5001042485237122,
                    "logloss": 0.6648471355438232,
                    "ramtrain": 14.495811462402344,
                    "rammodel": 0.13123320043087006,
                    "rampredict": 12.687356948852539,
                    "timetrain": 0.2160913199186325,
                    "timepredict": 0.16105671226978302,
                    "mec": 0.01181020401418209,
                    "ias": 5.603807348708578e-15,
                    "nf": 0.0,
                },
            ),
            (
                {"alpha": 0.5011204636599379, "s": 0.0003194169316702161},
                0.2903858106988151,
                {
                    "mmce": 0.1582937240600586,
                    "f1": 0.8875779509544373,
                    "auc": 0.9018362164497375,
                    "logloss": 0.5376784205436707,
                    "ramtrain": 16.29655647277832,
                    "rammodel": 0.13924923539161682,
                    "rampredict": 16.12804412841797,
                    "timetrain": 0.24067126214504242,
                    "timepredict": 0.1989670991897583,
                    "mec": 1.827620506286621,
                    "ias": 0.0003108154924120754,
                    "nf": 14.0,
                },
            ),
            (
                {"alpha": 0.49988250082555996, "s": 5.68342290018844},
                0.8096268650212443,
                {
                    "mmce": 0.4534645080566406,
                    "f1": 0.6832221150398254,
                    "auc": 0.5017151236534119,
                    "logloss": 0.7193366289138794,
                    "ramtrain": 14.78642463684082,
                    "rammodel": 0.13429130613803864,
                    "rampredict": 10.961618423461914,
                    "timetrain": 0.20270229876041412,
                    "timepredict": 0.14617471396923065,
                    "mec": 0.047804828733205795,
                    "ias": 4.123622016766193e-14,
                    "nf": 0.0,
                },
            ),
            (
                {"alpha": 0.3809411331485384, "s": 0.00028943725341419444},
                0.30950123132875373,
                {
                    "mmce": 0.15511152148246765,
                    "f1": 0.8885483741760254,
                    "auc": 0.9055433869361877,
                    "logloss": 0.5038651823997498,
                    "ramtrain": 16.33561134338379,
                    "rammodel": 0.1394859403371811,
                    "rampredict": 16.047664642333984,
                    "timetrain": 0.23734159767627716,
                    "timepredict": 0.19729672372341156,
                    "mec": 1.7751952409744263,
                    "ias": 0.00021004248992539942,
                    "nf": 14.0,
                },
            ),
        ],
    ),
}


def _cases() -> list[tuple[str, int]]:
    return [(scenario, k) for scenario, (_, cases) in REFERENCES.items() for k in range(len(cases))]


@pytest.mark.parametrize(("scenario", "case"), _cases())
def test_reproduces_yahpo_gym_outputs(scenario: str, case: int) -> None:
    instance, cases = REFERENCES[scenario]
    config, budget, expected = cases[case]
    obj = YAHPOObjective(scenario, instance, data_dir=DATA)
    predicted = obj.predict(config, budget)
    assert list(predicted) == list(expected)  # every target, in yahpo-gym's order
    for target, value in expected.items():
        assert predicted[target] == pytest.approx(value, rel=1e-5, abs=1e-5), target


@pytest.mark.parametrize("scenario", sorted(REFERENCES))
def test_value_cost_and_info_come_from_the_chosen_targets(scenario: str) -> None:
    instance, cases = REFERENCES[scenario]
    obj = YAHPOObjective(scenario, instance, data_dir=DATA)
    spec = SCENARIOS[scenario]
    for config, budget, expected in cases:
        result = obj.evaluate(config, budget=budget, seed=3)
        if scenario == "lcbench":
            want = 1.0 - expected["val_accuracy"] / 100.0
        elif scenario.startswith("rbv2"):
            want = 1.0 - expected["acc"]
        else:
            want = expected["mmce"]
        assert result.value == pytest.approx(want, abs=1e-5)
        assert result.runtime == pytest.approx(expected[spec.runtime_name], rel=1e-5, abs=1e-5)
        assert result.info[spec.fidelity_param] == pytest.approx(budget)
        for target, value in expected.items():
            assert result.info[target] == pytest.approx(value, rel=1e-5, abs=1e-5)
        if scenario.startswith("rbv2"):
            assert result.info["repl"] == 10


def test_full_budget_is_the_fidelity_maximum() -> None:
    obj = YAHPOObjective("lcbench", "167184", data_dir=DATA)
    config = obj.search_space.sample(seed=0)
    assert obj.evaluate(config).value == obj.evaluate(config, budget=52).value
    assert obj.evaluate(config, budget=1).value != obj.evaluate(config, budget=52).value


def test_spaces_and_fidelities() -> None:
    lc = YAHPOObjective("lcbench", "167184", data_dir=DATA)
    assert sorted(lc.search_space.names) == sorted(
        ["batch_size", "learning_rate", "max_dropout", "max_units", "momentum", "num_layers", "weight_decay"]
    )
    assert lc.search_space["learning_rate"].log and lc.search_space["batch_size"].kind == "int"
    assert lc.fidelity == hpolab.Fidelity("epoch", 1.0, 52.0, integer=True)
    xgb = YAHPOObjective("rbv2_xgboost", "12", data_dir=DATA)
    assert "task_id" not in xgb.search_space.names and "repl" not in xgb.search_space.names
    assert xgb.fidelity == hpolab.Fidelity("trainsize", 0.03, 1.0, integer=False)
    assert xgb.search_space.is_conditional
    linear = {"alpha": 1.0, "booster": "gblinear", "lambda": 1.0, "nrounds": 100}
    linear |= {"num.impute.selected.cpo": "impute.mean", "subsample": 0.5}
    assert xgb.search_space.validate(linear) == linear  # eta etc. inactive for gblinear
    with pytest.raises(InvalidConfigError, match="eta"):
        xgb.search_space.validate({**linear, "eta": 0.1})
    for config in xgb.search_space.sample(20, seed=1):  # every sample evaluates
        assert np.isfinite(xgb.evaluate(config, budget=0.5).value)


def test_inactive_parameters_enter_the_network_as_yahpo_gym_codes_them() -> None:
    xgb = YAHPOObjective("rbv2_xgboost", "12", data_dir=DATA)
    config = {"alpha": 1.0, "booster": "gblinear", "lambda": 1.0, "nrounds": 100}
    config |= {"num.impute.selected.cpo": "impute.hist", "subsample": 0.5}
    x_cat, x_cont = xgb.inputs(config, 0.25)
    assert x_cat.dtype == np.int32 and x_cont.dtype == np.float32
    assert x_cat.tolist() == [[11, 2, 1]]  # encoding.json: task 12, gblinear, impute.hist
    cont = dict(zip(SCENARIOS["rbv2_xgboost"].cont_names, x_cont[0].tolist(), strict=True))
    assert cont["eta"] == 0.0 and cont["max_depth"] == 0.0 and cont["rate_drop"] == 0.0
    assert cont["trainsize"] == pytest.approx(0.25) and cont["repl"] == 10.0 and cont["nrounds"] == 100.0


def test_description_names_the_task_and_the_metric() -> None:
    obj = YAHPOObjective("lcbench", "167184", data_dir=DATA)
    assert "OpenML task 167184" in obj.description and "validation error" in obj.description
    assert "epoch" in obj.description
    rpart = YAHPOObjective("rbv2_rpart", "40981", data_dir=DATA)
    assert "OpenML data set 40981" in rpart.description and "rpart" in rpart.description
    assert obj.metric_name == "validation error"
    assert "learning rate" in obj.search_space.describe()


def test_bad_names_budgets_and_configs_are_named() -> None:
    with pytest.raises(UnknownNameError, match="'nb301' is not supported; known: iaml_glmnet"):
        YAHPOObjective("nb301", "CIFAR10", data_dir=DATA)
    with pytest.raises(UnknownNameError, match="yahpo/lcbench/99"):
        YAHPOObjective("lcbench", "99", data_dir=DATA)
    obj = YAHPOObjective("lcbench", "167184", data_dir=DATA)
    config = obj.search_space.sample(seed=0)
    with pytest.raises(ValueError, match=r"budget: 60 is outside \[1.0, 52.0\] epoch"):
        obj.evaluate(config, budget=60)
    with pytest.raises(InvalidConfigError, match="momentum"):
        obj.evaluate({**config, "momentum": 2.0})
    with pytest.raises(UnknownNameError, match="yahpo/<scenario>/<instance>"):
        make_objective("yahpo/lcbench", data_dir=DATA)


def test_data_folder_from_argument_env_or_yahpo_gym_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DATA is not None
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.setenv("YAHPO_LOCAL_CONFIG", str(tmp_path / "absent"))
    with pytest.raises(DatasetUnavailableError, match=f"no folder is set; pass data_dir=<folder>, set {DATA_ENV}"):
        find_yahpo_data()
    with pytest.raises(DatasetUnavailableError, match=f"no folder is set.*{DATA_ENV}"):
        make_objective("yahpo/lcbench/167184")
    assert list_yahpo() == {
        "yahpo/<scenario>/<instance>": f"YAHPO Gym surrogates; set {DATA_ENV} to a copy of yahpo_data"
    }
    assert find_yahpo_data(DATA) == DATA
    with pytest.raises(DatasetUnavailableError, match=r"data_dir is .*nowhere.*not a folder"):
        find_yahpo_data(tmp_path / "nowhere")
    settings = tmp_path / "yahpo_gym"
    settings.write_text(f"data_path: {DATA}\n", encoding="utf-8")
    monkeypatch.setenv("YAHPO_LOCAL_CONFIG", str(settings))
    assert find_yahpo_data() == DATA  # yahpo-gym's own settings file
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert find_yahpo_data() == tmp_path  # the environment variable comes first
    with pytest.raises(DatasetUnavailableError, match=r"config_space\.json of scenario 'lcbench' is missing"):
        YAHPOObjective("lcbench", "167184")


def test_registry_lists_every_instance_and_builds_picklable_objectives(data_env: Path) -> None:
    names = list_objectives(["yahpo"])
    assert "yahpo/lcbench/167184" in names and "yahpo/rbv2_xgboost/12" in names
    assert "yahpo/iaml_glmnet/1489" in names and "yahpo/rbv2_rpart/40981" in names
    assert sum(n.startswith("yahpo/lcbench/") for n in names) == 34
    assert len(names) == 34 + 119 + 117 + 4
    obj = make_objective("yahpo/rbv2_xgboost/12")
    assert isinstance(obj, YAHPOObjective) and obj.name == "yahpo/rbv2_xgboost/12"
    config = obj.search_space.sample(seed=4)
    copy = pickle.loads(pickle.dumps(obj))
    assert copy.evaluate(config, budget=0.3) == obj.evaluate(config, budget=0.3)


def test_asha_study_on_lcbench_finishes(tmp_path: Path, data_env: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    study = hpolab.create_study("yahpo/lcbench/167184", "asha", storage=url, study_name="asha", seed=0)
    study.optimize(n_trials=30)
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(done) == 30
    assert {t.budget for t in done} <= {1.0, 4.0, 16.0, 52.0} and len({t.budget for t in done}) > 1
    assert 0.0 < study.best_value < 1.0
    assert optuna.load_study(study_name="asha", storage=url).metric_names == ["validation error"]


def _evaluate_pickled(data: bytes, config: dict[str, Any], budget: float) -> float | None:
    return pickle.loads(data).evaluate(config, budget=budget).value


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_other_processes_evaluate_the_objective(method: str) -> None:
    import multiprocessing as mp

    if method not in mp.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    obj = YAHPOObjective("iaml_glmnet", "40981", data_dir=DATA)
    config = obj.search_space.sample(seed=2)
    here = obj.evaluate(config, budget=0.5).value  # this process's session exists before the fork
    with mp.get_context(method).Pool(1) as pool:
        there = pool.apply(_evaluate_pickled, (pickle.dumps(obj), config, 0.5))
    assert there == here


def test_study_with_worker_processes(tmp_path: Path, data_env: Path) -> None:
    url = f"journal:///{tmp_path / 'runs.log'}"
    study = hpolab.create_study("yahpo/iaml_glmnet/40981", "random", storage=url, study_name="w", seed=0)
    study.optimize(n_trials=6, n_jobs=2)
    assert sum(t.state.name == "COMPLETE" for t in study.trials) == 6
