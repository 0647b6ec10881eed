"""summary.json as typed records: read back and written again byte for byte, older files of the
same schema read, damaged ones refused in one line."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.experiment.summaries import relative_interval
from sim.metrics import interval
from sim.outputs import write_json
from sim.summary import ABSummary, BiasSources, Interval, Summary


def _interval(mean, low=None, high=None) -> dict:
    return {"mean": mean, "ci_low": low, "ci_high": high}


# Every optional part, in the order fraudsim writes it: a recovered share without headroom (null
# mean), a bias split without `own_labels`, a plan that never settled in one replication, warnings.
FULL = {
    "schema_version": 1,
    "scenario": "full",
    "seed": 7,
    "replications": 2,
    "horizon_days": 4.0,
    "warmup_days": 60.5,
    "currency": "EUR",
    "ranking": ["online", "static", "oracle"],
    "arms": {
        name: {
            "learner": name,
            "fraud_loss": _interval(10.5, 1.25, 19.75),
            "friction": _interval(0.0, 0.0, 0.0),
            "review_cost": _interval(3.0, -1.0, 7.0),
            "total_cost": _interval(13.5 + rank, 4.0, 23.0),
            "counts": {
                "transactions": 1000.5,
                "fraud_attempts": 12.0,
                "fraud_approved": 4.5,
                "declines": 3.0,
                "legit_declined": 0.0,
            },
            "rank": rank,
        }
        for rank, name in enumerate(["online", "static", "oracle"], start=1)
    },
    "differences": [
        {
            "arm": "static",
            "baseline": "online",
            "total_cost": _interval(1.0, -2.0, 4.0),
            "total_cost_relative": _interval(0.05, -0.1, 0.2),
            "fraud_loss": _interval(0.0, 0.0, 0.0),
            "fraud_loss_relative": _interval(0.0, 0.0, 0.0),
        }
    ],
    "fresh_labels": {
        "static": "static",
        "oracle": "oracle",
        "headroom": {
            "total_cost": _interval(-1.0, -3.0, 1.0),
            "total_cost_relative": _interval(-0.1, -0.3, 0.1),
            "fraud_loss": _interval(0.0, 0.0, 0.0),
            "fraud_loss_relative": _interval(0.0, 0.0, 0.0),
        },
        "recovered": {"online": {"total_cost": _interval(2.0, -1.5, 5.5), "fraud_loss": _interval(None)}},
    },
    "ab": {
        "a": "online",
        "b": "static",
        "share_b": 0.1,
        "labels": "pooled",
        "min_effect": 0.05,
        "read_out_day": 4,
        "replications": 2,
        **{
            figure: {
                "estimand": f"B − A per transaction: the {figure}",
                "truth": _interval(0.01, -0.02, 0.04),
                "estimate": _interval(0.02, -0.01, 0.05),
                "eventual": _interval(0.015, -0.015, 0.045),
                "bias": _interval(0.01, -0.01, 0.03),
                "interval_half_width": 0.03,
                "covers_truth": 1.0,
                "bias_sources": {
                    "label_delay": _interval(0.005, 0.0, 0.01),
                    "crews": _interval(0.004, -0.01, 0.02),
                    "other": _interval(0.001, -0.01, 0.01),
                },
            }
            for figure in ("fraud_loss", "total_cost")
        },
        "crews": {"static": _interval(0.1, 0.09, 0.11), "test": _interval(0.12, 0.1, 0.14)},
        "plan": {
            "min_effect": 0.05,
            "per_transaction_sd": 1.234567,
            "label_coverage": 0.5,
            "transactions_needed": 123456,
            "days_needed": 12.5,
            "transactions_per_day": 10000,
            "planned_half_width": 0.02,
            "observed_half_width": 0.03,
            "settled_on_day": [None, 3],
        },
    },
    "warnings": ["batch: 2 retrain(s) skipped over all replications for want of labels of a class"],
}


def _text(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def test_every_part_reads_back_and_writes_the_same_text():
    summary = Summary.from_json(FULL)
    assert isinstance(summary.ab, ABSummary) and summary.ab.fraud_loss.bias_sources.own_labels is None
    assert list(summary.ab.fraud_loss.bias_sources.parts()) == ["label_delay", "crews", "other"]
    assert summary.fresh_labels.recovered["online"].fraud_loss == Interval(None, None, None)
    assert summary.difference("online", "static").total_cost == Interval(1.0, -2.0, 4.0)
    assert summary.difference("static", "online") is None
    assert _text(summary.to_json()) == _text(FULL)  # the same keys, in the same order, with the same numbers


def test_optional_parts_are_left_out_not_written_as_null():
    bare = {key: value for key, value in FULL.items() if key not in ("fresh_labels", "ab", "warnings")}
    summary = Summary.from_json(bare)
    assert (summary.fresh_labels, summary.ab, summary.warnings) == (None, None, ())
    assert _text(summary.to_json()) == _text(bare)
    assert BiasSources(Interval(1.0, None, None)).to_json() == {"label_delay": _interval(1.0)}


def test_records_are_frozen():
    summary = Summary.from_json(FULL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.arms["online"].rank = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.arms["online"].total_cost.mean = 0.0  # type: ignore[misc]


def test_a_number_keeps_its_json_form():
    """60.0 stays 60.0 and 4 stays 4; NaN (an undefined share) stays NaN."""
    data = json.loads(_text(FULL))
    data["arms"]["online"]["fraud_loss"]["mean"] = math.nan
    assert _text(Summary.from_json(data).to_json()) == _text(data)
    assert '"warmup_days": 60.5' in _text(Summary.from_json(FULL).to_json())
    assert '"read_out_day": 4,' in _text(Summary.from_json(FULL).to_json())


def test_a_runs_summary_json_is_written_again_byte_for_byte(tiny_run, tmp_path):
    original = (tiny_run / "summary.json").read_bytes()
    write_json(tmp_path / "summary.json", Summary.from_json(json.loads(original)).to_json())
    assert (tmp_path / "summary.json").read_bytes() == original


def test_another_schema_version_is_refused():
    with pytest.raises(ValueError, match="schema_version 2; this fraudsim reads 1"):
        Summary.from_json({**FULL, "schema_version": 2})


def test_report_rebuilds_from_a_summary_written_before_differences_existed(tiny_run, tmp_path, capsys):
    """The first summary.json of schema 1 had no `differences` (and no fresh_labels or warnings):
    its report still builds, without the paired findings."""
    folder = shutil.copytree(tiny_run, tmp_path / "old")
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    old = {key: value for key, value in data.items() if key not in ("differences", "fresh_labels")}
    (folder / "summary.json").write_text(_text(old) + "\n", encoding="utf-8")
    assert main(["report", str(folder)]) == 0
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "less than" not in page and "No clear difference" not in page  # no paired comparison to state
    assert "This run cannot say what fresh labels are worth" in page
    current = (tiny_run / "index.html").read_text(encoding="utf-8")
    assert "less than" in current or "No clear difference" in current


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda d: d["arms"]["online"].pop("counts"), "no 'counts'"),
        (lambda d: d.update(arms=[]), "summary.json is not the file fraudsim wrote"),
        (lambda d: d.update(schema_version=9), "schema_version 9"),
    ],
)
def test_a_damaged_summary_is_one_line_and_exit_2(tiny_run, tmp_path, capsys, damage, reason):
    folder = shutil.copytree(tiny_run, tmp_path / "damaged")
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    damage(data)
    (folder / "summary.json").write_text(_text(data), encoding="utf-8")
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and reason in err, err


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.floats(1e3, 1e6), st.floats(-0.5, 0.5)),
        min_size=2,
        max_size=12,
    )
)
def test_a_relative_interval_never_disagrees_in_sign_with_the_moneys(pairs):
    """The inconsistency once seen: money [−€11,141, +€62] beside relative [−4.97 %, −0.09 %]."""
    base = np.array([b for b, _ in pairs])
    difference = np.array([b * r for b, r in pairs])
    money, share = Interval.from_json(interval(difference)), relative_interval(difference, base)
    for a, b in ((money.mean, share.mean), (money.ci_low, share.ci_low), (money.ci_high, share.ci_high)):
        assert a * b >= 0  # the same sign, or one of them rounded to 0


def test_relative_differences_in_a_run_are_the_money_over_the_baselines_mean(tiny_run):
    import polars as pl

    summary = Summary.from_json(json.loads((tiny_run / "summary.json").read_text()))
    arms = pl.read_parquet(tiny_run / "arms.parquet")
    for entry in summary.differences:
        base = arms.filter(arm=entry.baseline).sort("replication")["total_cost"].mean()
        for name in ("mean", "ci_low", "ci_high"):
            money, share = getattr(entry.total_cost, name), getattr(entry.total_cost_relative, name)
            assert share == pytest.approx(money / base, rel=1e-4, abs=1e-6)
