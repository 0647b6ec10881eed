"""A user's own model in the arena (docs/own-model.md): river and scikit-learn models as arms beside
the bundled ones, reproducible under the scenario's seed; learners a package registers, named by
scenario files; the learner contract run on a user's model, one line per broken rule; a model
that breaks during a run stops its arm only."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from river import forest, linear_model, preprocessing, tree
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import sim
from sim.cli import main
from sim.learn.learners import from_arm
from sim.learn.protocol import NOTHING
from sim.schema import Rules, StaticArm

from .conftest import TINY, write_scenario

SMALL = {**TINY, "horizon": "3d", "replications": 2}


def _arms():
    return [
        sim.arms.Online("my-river", model=preprocessing.StandardScaler() | linear_model.LogisticRegression()),
        sim.arms.Batch("my-tree", model=DecisionTreeClassifier(max_depth=4), every="1d", window="7d"),
        sim.arms.Static(),
    ]


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    return write_scenario(tmp_path_factory.mktemp("own") / "small.toml", SMALL)


@pytest.fixture(scope="module")
def own_result(small_file):
    return sim.run(small_file, arms=_arms(), workers=1, progress=False)


def test_users_models_are_ranked_beside_the_bundled_arms_with_intervals(own_result):
    ranking = own_result.ranking
    assert sorted(ranking["arm"]) == ["my-river", "my-tree", "static"]
    assert ranking["total_cost_low"].is_not_null().all() and ranking["total_cost_high"].is_not_null().all()
    assert own_result.failures == []


def test_a_run_with_users_models_is_byte_identical_under_its_seed(own_result, small_file, tmp_path):
    again = sim.run(small_file, arms=_arms(), workers=1, progress=False)
    own_result.save(tmp_path / "a")
    again.save(tmp_path / "b")
    for name in ("daily.parquet", "arms.parquet", "summary.json", "scenario.resolved.toml", "index.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    report = (tmp_path / "a" / "index.html").read_text()
    assert "my-river" in report and "my-tree" in report  # in the same report as the bundled arms


def test_an_unhashable_model_runs(small_file):
    """river's forests are lists: nothing may put a user's model in a set or a dict key."""
    arms = [sim.arms.Online("my-forest", model=forest.ARFClassifier(n_models=2)), sim.arms.Static()]
    result = sim.run(
        sim.with_overrides(sim.load(small_file), {"horizon": "1d", "replications": 1}),
        arms=arms,
        workers=1,
        progress=False,
    )
    assert result.failures == [] and sorted(result.ranking["arm"]) == ["my-forest", "static"]


def test_the_users_object_is_cloned_never_fitted(own_result):
    """The arm's model object is a template: fraudsim fits clones of it."""
    model = next(arm.model for arm in own_result.scenario.arms if arm.name == "my-tree")
    assert not hasattr(model, "tree_")


def test_a_seeded_model_gets_its_seed_from_the_scenario():
    """Two replications of one arm get different seeds; the same replication the same one."""
    arm = sim.arms.Online("trees", model=tree.HoeffdingTreeClassifier())
    seeds = [from_arm(arm, Rules(), 1000.0, seed)._model.model for seed in (4, 4, 5)]
    sklearn_arm = StaticArm(name="s", model=DecisionTreeClassifier())
    fitted = from_arm(sklearn_arm, Rules(), 1000.0, 7)._model.estimator
    assert fitted.random_state == 7 and sklearn_arm.model.random_state is None
    assert [type(m) for m in seeds] == [tree.HoeffdingTreeClassifier] * 3
    assert seeds[0] is not seeds[1]


def test_the_resolved_scenario_records_a_users_model_and_will_not_pretend_to_run_it(own_result, tmp_path):
    from sim.scenario import resolved_toml

    text = resolved_toml(own_result.scenario, "test")
    assert 'model = "python: DecisionTreeClassifier(max_depth=4)"' in text
    assert "cannot hold them" in text
    path = tmp_path / "resolved.toml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2


def test_overrides_keep_a_users_model(own_result):
    changed = sim.with_overrides(own_result.scenario, {"horizon": "2d"})
    assert changed.horizon == 2 * 86400.0
    assert [type(arm.model).__name__ for arm in changed.arms] == ["Pipeline", "DecisionTreeClassifier", "str"]


def test_a_model_object_in_the_wrong_kind_of_arm_is_refused():
    with pytest.raises(ValueError, match="river classifier"):
        sim.arms.Online("x", model=LogisticRegression())
    with pytest.raises(ValueError, match="scikit-learn classifier"):
        sim.arms.Batch("x", model=linear_model.LogisticRegression())


# --------------------------------------------------------------------------- the contract on users' models


class NaNScores(ClassifierMixin, BaseEstimator):
    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), np.nan)


class FlatScores(NaNScores):
    def predict_proba(self, X):
        return np.full(len(X), 0.5)  # one column, not two


class Forgetful(ClassifierMixin, BaseEstimator):
    """Does not keep its constructor's parameter: scikit-learn cannot clone it."""

    def __init__(self, depth=3):
        self.levels = depth

    def fit(self, X, y, sample_weight=None):
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


class Exploding(linear_model.LogisticRegression):
    def learn_one(self, x, y, w=1.0):
        raise RuntimeError("out of coffee")


class Unseeded(linear_model.LogisticRegression):
    """Scores with noise from a generator it never seeds."""

    def predict_proba_one(self, x):
        p = float(np.random.default_rng().random())
        return {False: 1 - p, True: p}


class Mutating:
    """A learner (the protocol's verbs) that writes into the features it scores."""

    feed = NOTHING
    name = "mutating"
    newest_fraud_at = 0.0

    def __init__(self):
        pass

    def start(self, history):
        pass

    def predict_proba(self, batch):
        batch.X[:, 0] = 0.0
        return np.full(len(batch), 0.5)

    def learn(self, batch):
        pass

    def at_boundary(self, now):
        return []


@pytest.mark.parametrize(
    ("model", "rule", "words"),
    [
        (NaNScores(), "scores", "not a probability in [0, 1] (nan)"),
        (FlatScores(), "scores", "raised IndexError"),
        (Forgetful(), "cannot be built", "Forgetful cannot be cloned (AttributeError"),
        (Exploding(), "scores", "raised RuntimeError: out of coffee"),
        (Unseeded(), "determinism", "not deterministic under a seed"),
        (Mutating(), "inputs", "the batch's features were modified"),
    ],
    ids=["nan", "shape", "no-clone", "exception", "unseeded", "mutating"],
)
def test_check_learner_says_in_one_line_what_is_broken(model, rule, words):
    check = sim.check_learner(model)
    assert not check.ok
    lines = [line for line in check.failures if line.startswith(f"{rule}:")]
    assert lines and words in lines[0], check.failures
    assert all("\n" not in line for line in check.failures)
    assert str(check).splitlines()[0].endswith("breaks the learner contract")


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(),
        DecisionTreeClassifier(max_depth=3),
        preprocessing.StandardScaler() | linear_model.LogisticRegression(),
    ],
    ids=["sklearn-logistic", "sklearn-tree", "river-pipeline"],
)
def test_check_learner_passes_well_behaved_models_and_times_them(model):
    check = sim.check_learner(model)
    assert check.ok, check.failures
    assert check.score_ms_per_1000 > 0 and check.learn_ms_per_1000 > 0


def test_check_learner_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="not a model fraudsim can run"):
        sim.check_learner(object())


# --------------------------------------------------------------------------- a model that breaks in a run


class NaNLater(linear_model.LogisticRegression):
    """Scores NaN from its 501st score on: a model that breaks in the middle of a run."""

    def predict_proba_one(self, x):
        self.scored_ = getattr(self, "scored_", 0) + 1
        return {False: 0.5, True: float("nan")} if self.scored_ > 500 else super().predict_proba_one(x)


def test_a_model_that_breaks_mid_run_stops_its_arm_and_the_others_are_written(small_file, tmp_path):
    arms = [
        sim.arms.Online("my-nan", model=NaNLater()),
        sim.arms.Online("my-exploding", model=Exploding()),
        sim.arms.Static(),
    ]
    result = sim.run(small_file, arms=arms, workers=1, progress=False)
    assert [arm.name for arm in result.scenario.arms] == ["static"]
    assert result.ranking["arm"].to_list() == ["static"]
    assert len(result.failures) == 2 * SMALL["replications"]
    nan = r"replication 0: arm 'my-nan' stopped on day \d at (\d\d):\d\d: \d+ of \d+ scores are not a probability"
    assert re.search(nan, result.failures[0]) and result.failures[0].endswith("(nan)")
    assert "on day 0 at 00:00" not in result.failures[0]  # it broke later, not at the start
    exploding = "arm 'my-exploding' stopped on day 0 at 00:00: start (training on the history) raised RuntimeError"
    assert exploding in result.failures[1]
    result.save(tmp_path / "out", report=False)
    info = json.loads((tmp_path / "out" / "run_info.json").read_text())
    assert info["failures"] == result.failures


# --------------------------------------------------------------------------- learners registered by a package

PLUGINS = Path(__file__).parent / "plugins"  # a package with its .dist-info, as an install leaves it


def _fraudsim(args: list[str], with_plugin: bool) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if with_plugin:
        env["PYTHONPATH"] = str(PLUGINS)
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def plugin_file(tmp_path_factory):
    arms = [
        {"name": "tree", "learner": "shallow_tree", "every": "1d", "depth": 4},
        {"name": "logit", "learner": "scaled_logit"},
        {"name": "static", "learner": "static"},
    ]
    return write_scenario(tmp_path_factory.mktemp("plugin") / "plugin.toml", {**SMALL, "arms": arms})


def test_the_bundled_learners_register_themselves_as_a_package_would():
    from importlib.metadata import entry_points

    from sim.schema.arms import BUNDLED, LEARNERS

    mine = {point.name: point.value for point in entry_points(group="fraudsim.learners")}
    assert {name: mine.get(name) for name in BUNDLED} == {
        name: f"sim.schema.arms:{cls.__name__}" for name, cls in BUNDLED.items()
    }
    assert {name: LEARNERS[name] for name in BUNDLED} == BUNDLED


def test_a_scenario_runs_a_learner_a_package_registers(plugin_file, tmp_path):
    out = tmp_path / "run"
    done = _fraudsim(["run", str(plugin_file), "--out", str(out), "--workers", "1", "--quiet"], with_plugin=True)
    assert done.returncode == 0, done.stderr
    arms = pl.read_parquet(out / "arms.parquet")
    assert sorted(arms["arm"].unique()) == ["logit", "static", "tree"]
    assert 'learner = "shallow_tree"' in (out / "scenario.resolved.toml").read_text()
    assert (out / "index.html").exists()


def test_a_learner_no_package_registers_is_one_line_and_exit_2(plugin_file):
    done = _fraudsim(["validate", str(plugin_file)], with_plugin=False)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    line = done.stderr.strip()
    assert "arms.tree: learner = 'shallow_tree' is not allowed; allowed learners: 'online', 'batch'" in line
    assert "'rules'" in line and str(plugin_file.name) in line


def test_a_broken_registration_is_named_when_a_scenario_asks_for_it(tmp_path):
    path = write_scenario(tmp_path / "broken.toml", {**SMALL, "arms": [{"name": "b", "learner": "broken"}]})
    done = _fraudsim(["validate", str(path)], with_plugin=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "a package registers 'broken' but fraudsim_testplugin:NoSuchClass could not be loaded" in done.stderr
    assert "'shallow_tree'" in done.stderr  # the package's working learners are listed
