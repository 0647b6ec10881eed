"""Validation messages name the key and say what is allowed: kinds of tables, list syntax in --set,
durations, missing list entries, names."""

from __future__ import annotations

import pytest

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario, parse_override, validate
from sim.schema import Scenario

from .conftest import ROOT

QUICKSTART = ROOT / "scenarios" / "quickstart.toml"
LEARNERS = ("online", "batch", "hybrid", "split", "static", "oracle", "rules")
STRATEGIES = ("static", "card_testing", "prober", "bandit", "mimic")


def _error(*overrides: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(QUICKSTART, list(overrides))
    return caught.value


def test_an_arm_without_learner_names_the_key_and_the_learners():
    error = _error('arms.online={name = "online"}')
    assert error.key == "arms.online"
    assert "`learner` key is missing" in error.message and "discriminator" not in error.message
    assert all(repr(learner) in error.message for learner in LEARNERS)
    error = _error("arms.online.learner=onlin")
    assert error.key == "arms.online" and "learner = 'onlin' is not allowed" in error.message
    assert "did you mean 'online'?" in error.message


def test_a_crew_with_a_wrong_strategy_lists_the_strategies():
    error = _error("crews.static.strategy=probe")
    assert error.key == "crews.static"
    assert "strategy = 'probe'" in error.message and "did you mean 'prober'?" in error.message
    assert all(repr(strategy) in error.message for strategy in STRATEGIES)
    assert "Input tag" not in error.message


def test_a_crew_without_strategy_is_static_and_its_keys_are_named_plainly():
    scenario = validate({"name": "x", "crews": [{"name": "gang"}]}, "f.toml")
    assert scenario.crews[0].strategy == "static"
    with pytest.raises(ScenarioError) as caught:
        validate({"name": "x", "crews": [{"name": "gang", "count": "many"}]}, "f.toml")
    assert caught.value.key == "crews.gang.count"  # not crews.gang.static.count
    with pytest.raises(ScenarioError) as caught:
        validate({"name": "x", "crews": [{"name": "gang", "cont": 1}]}, "f.toml")
    assert caught.value.key == "crews.gang.cont"
    assert "did you mean 'count'?" in caught.value.message and "allowed keys here" in caught.value.message


def test_a_delay_without_dist_lists_the_distributions():
    error = _error('labels.chargeback.delay={ median = "1d" }')
    assert error.key == "labels.chargeback.delay"
    assert "`dist` key is missing" in error.message and "'lognormal'" in error.message
    error = _error('labels.chargeback.delay={ dist = "mixture", components = [{ mean = "1d" }], weights = [1] }')
    assert error.key == "labels.chargeback.delay.components.0" and "'mixture'" not in error.message


def test_a_list_without_quotes_in_set_says_how_to_write_it(capsys):
    with pytest.raises(ValueError, match="not valid TOML") as caught:
        parse_override("labels.investigators.days=[mon,tue]")
    assert """--set 'labels.investigators.days=["mon","tue"]'""" in str(caught.value)
    assert main(["validate", str(QUICKSTART), "--set", "labels.investigators.days=[mon,tue]"]) == 2
    output = capsys.readouterr().err
    assert "--set labels.investigators.days" in output and '["mon","tue"]' in output
    assert "valid list" not in output and "Traceback" not in output
    scenario = load_scenario(QUICKSTART, ['labels.investigators.days=["mon","tue"]'])
    assert scenario.labels.investigators.days == ["mon", "tue"]
    assert parse_override("arms.online.learner=online") == (["arms", "online", "learner"], "online")


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_an_infinite_duration_asks_for_a_finite_one(value):
    error = _error(f"horizon={value}")
    assert error.key == "horizon" and "finite duration" in error.message
    assert "infd" not in error.message and "nand" not in error.message


def test_a_negative_bare_duration_is_not_told_to_add_a_unit():
    error = _error("horizon=-3")
    assert "cannot be negative" in error.message and '"-3d"' not in error.message


def test_an_override_of_a_missing_list_entry_names_it():
    error = _error("faults.x.end=1d")
    assert error.key == "--set faults.x.end"
    assert "no entry 'x' in faults" in error.message and "valid list" not in error.message
    error = _error("crews.static.breaches.first.at=1d")
    assert "no entry 'first' in crews.static.breaches" in error.message
    assert "entries are: oracle, online, batch-daily, batch-weekly" in _error("arms.onlin.lr=0.1").message


def test_replacing_an_entry_with_a_value_names_the_entry():
    error = _error("arms.online=1")
    assert error.key == "--set arms.online" and "arms.0" not in str(error)
    assert "table" in error.message
    scenario = load_scenario(QUICKSTART, ['arms.online={ learner = "batch" }'])
    assert scenario.arm("online").learner == "batch"  # the entry keeps the name it was addressed by


@pytest.mark.parametrize("name", ["my.scen", ".hidden", "two words", "tab\n"])
def test_a_name_with_a_dot_is_refused_with_a_message_that_matches_the_rule(name):
    with pytest.raises(ScenarioError) as caught:
        validate({"name": name}, "f.toml")
    message = caught.value.message
    assert caught.value.key == "name" and "no '.'" in message and "and '.'" not in message


def test_names_the_message_allows_are_accepted():
    for name in ("quickstart", "label_delay-2", "A1"):
        assert Scenario.model_validate({"name": name}).name == name
