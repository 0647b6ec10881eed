"""Findings in words are computed from the numbers: they appear when the numbers say so, and only then."""

from __future__ import annotations

from sim.report.narrative import IDLE_APPROVAL, idle_detectors_finding


def _arms(approved: dict[str, tuple[str, int, int]]) -> dict:
    return {arm: {"learner": learner, "counts": {"fraud_approved": ok, "fraud_attempts": tried}}
            for arm, (learner, ok, tried) in approved.items()}  # fmt: skip


def test_models_that_decline_no_fraud_are_called_idle():
    arms = _arms({"online": ("online", 996, 1000), "static": ("static", 993, 1000), "rules": ("rules", 500, 1000)})
    finding = idle_detectors_finding(arms)
    assert finding is not None and finding.startswith("The models declined almost no fraud: they approved "
                                                      "static 99.3%, online 99.6% of fraud attempts.")  # fmt: skip
    assert "rules" not in finding  # hand-written rules are not a model that learns


def test_one_model_that_declines_is_enough_to_say_nothing():
    below = int(IDLE_APPROVAL * 1000) - 1
    assert idle_detectors_finding(_arms({"online": ("online", 996, 1000), "batch": ("batch", below, 1000)})) is None
    assert idle_detectors_finding(_arms({"rules": ("rules", 1000, 1000)})) is None
    assert idle_detectors_finding(_arms({"online": ("online", 0, 0)})) is None
