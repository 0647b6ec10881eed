"""The sweep report's curves, heat map and crossover findings, on results with a known answer."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from sim.report.sweep import build_sweep_report, crossover, growth, paired, sweep_findings

DELAYS = [("1h", 3600.0), ("1d", 86400.0), ("7d", 604800.0), ("30d", 2592000.0)]


def _synthetic(points: list[dict], edges: list[float], seed: int) -> pl.DataFrame:
    """online costs (1 + edge) × batch at each point (``points``: its grid columns), with small
    replication noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for point, (values, edge) in enumerate(zip(points, edges, strict=True)):
        for replication in range(5):
            base = 100_000 + 5_000 * replication
            for arm, learner, factor in (("online", "online", 1 + edge), ("batch-weekly", "batch", 1.0)):
                cost = base * factor * (1 + 0.005 * rng.standard_normal())
                rows.append(
                    {
                        "point": point,
                        "point_key": f"k{point}",
                        **values,
                        "arm": arm,
                        "learner": learner,
                        "replication": replication,
                        "fraud_loss": 0.7 * cost,
                        "total_cost": cost,
                    }
                )
    return pl.DataFrame(rows)


def _results(edge_by_point: list[float]) -> tuple[pl.DataFrame, dict]:
    """A sweep of the chargeback delay; online costs (1 + edge) × batch at each point."""
    points = [
        {"labels.chargeback.delay.median": text, "labels.chargeback.delay.median_s": seconds}
        for text, seconds in DELAYS
    ]
    sweep = {
        "sweep": "synthetic",
        "description": "a <test>",
        "points": [{"point": i} for i in range(4)],
        "grid": [
            {
                "key": "labels.chargeback.delay.median",
                "column": "labels.chargeback.delay.median",
                "seconds_column": "labels.chargeback.delay.median_s",
                "in": "grid",
            }
        ],
    }
    return _synthetic(points, edge_by_point, seed=0), sweep


def test_paired_differences_are_relative_and_paired():
    results, sweep = _results([-0.3, -0.2, -0.1, 0.0])
    table = paired(results, sweep, "online", "batch-weekly")
    assert table["mean"].to_list() == pytest.approx([-0.3, -0.2, -0.1, 0.0], abs=0.01)
    # Pairing removes the spread of the replications' levels (base 100k–120k: unpaired, the
    # interval would be about 0.2 wide); left is the edge times that spread, |edge| × 0.06 × 2.8
    # × 2 / √5 ≈ 0.05 at the largest edge (the difference in money, over batch's mean).
    assert (table["high"] - table["low"] < 0.06).all()
    assert (table["high"] - table["low"]).to_list()[-1] < 0.01  # no edge, no spread


def test_crossover_names_where_the_edge_disappears():
    results, sweep = _results([-0.3, -0.2, 0.0, 0.0])
    (finding,) = crossover(results, sweep, "online")
    assert (finding.kind, finding.arm, finding.baseline, finding.measure) == (
        "sweep_edge",
        "online",
        "batch-weekly",
        "total_cost",
    )
    points = finding.facts["points"]
    assert [p["at"] for p in points] == ["1 hour", "1 day", "7 days", "30 days"]
    assert [p["value"].mean for p in points] == pytest.approx([-0.3, -0.2, 0.0, 0.0], abs=0.01)
    assert [p["value"].ci_high < 0 for p in points[:3]] == [True, True, False]  # what the words rest on
    assert "edge over batch-weekly disappears once the median chargeback delay reaches 7 days" in finding.text
    results, sweep = _results([-0.3, -0.2, -0.1, -0.05])
    (finding,) = crossover(results, sweep, "online")
    assert finding.text.startswith("By total cost: online cost less than batch-weekly whatever")
    results, sweep = _results([-0.3, 0.0, 0.1, 0.2])
    (finding,) = crossover(results, sweep, "online")
    text = finding.text
    assert "disappears once the median chargeback delay reaches 1 day" in text
    assert "; further on, batch-weekly is clearly cheaper: +10% (95% CI" in text and text.endswith("at 30 days.")


def test_findings_by_fraud_loss_say_so_in_their_own_words():
    """The same comparisons by fraud loss: the fraud-loss words, and a "By ..." label on each finding."""
    results, sweep = _results([-0.3, -0.2, 0.0, 0.0])
    (finding,) = crossover(results, sweep, "online", "fraud_loss")
    assert finding.measure == "fraud_loss"
    assert "edge over batch-weekly disappears once the median chargeback delay reaches 7 days" in finding.text
    results, sweep = _results([-0.3, -0.2, -0.1, -0.05])
    (finding,) = crossover(results, sweep, "online", "fraud_loss")
    assert finding.text.startswith("By fraud loss: online lost less to fraud than batch-weekly whatever")
    findings = sweep_findings(results, sweep, "online")
    assert [f.measure for f in findings[:2]] == ["total_cost", "fraud_loss"]
    assert [f.text.split(":")[0] for f in findings[:2]] == ["By total cost", "By fraud loss"]


def _with_frozen(edges: list[float], rise: float) -> tuple[pl.DataFrame, dict]:
    """``_results`` plus a frozen arm that batch-weekly beats by ``edges`` at each point; every
    arm's fraud loss is (1 + rise) times higher at the last point than at the first."""
    results, sweep = _results([-0.1] * len(DELAYS))
    batch = results.filter(pl.col("arm") == "batch-weekly")
    frozen = batch.with_columns(
        arm=pl.lit("static"),
        learner=pl.lit("static"),
        total_cost=pl.col("total_cost") / (1 + pl.Series([edges[p] for p in batch["point"]])),
    ).with_columns(fraud_loss=0.7 * pl.col("total_cost"))
    results = pl.concat([results, frozen]).with_columns(
        fraud_loss=pl.when(pl.col("point") == len(DELAYS) - 1)
        .then(pl.col("fraud_loss") * (1 + rise))
        .otherwise(pl.col("fraud_loss"))
    )
    return results, sweep


def test_each_learner_s_edge_over_the_frozen_model_is_a_finding():
    results, sweep = _with_frozen([-0.2, -0.1, 0.0, 0.0], rise=0.5)
    findings = sweep_findings(results, sweep, "online")
    (edge,) = [f for f in findings if f.measure == "total_cost" and f.arm == "batch-weekly"]
    assert edge.baseline == "static"
    assert [p["value"].mean for p in edge.facts["points"]] == pytest.approx([-0.2, -0.1, 0.0, 0.0], abs=0.01)
    assert "batch-weekly's edge over static disappears once the median chargeback delay reaches 7 days" in edge.text
    assert not [f for f in findings if f.arm == "static"]  # the frozen arm is the baseline


def test_growth_says_whether_fraud_loss_rose_for_every_arm():
    results, sweep = _with_frozen([-0.2] * 4, rise=0.5)
    (finding,) = growth(results, sweep)
    changes = finding.facts["changes"]
    assert list(changes) == ["online", "batch-weekly", "static"]
    assert [c.mean for c in changes.values()] == pytest.approx([0.5] * 3, abs=0.02)  # the rise, paired
    assert all(c.ci_low > 0 for c in changes.values())
    text = finding.text
    assert text.startswith("From 1 hour to 30 days of the median chargeback delay, fraud loss rose for every arm:")
    assert text.count("+50% (95% CI +4") + text.count("+50% (95% CI +5") == 3
    results, sweep = _with_frozen([-0.2] * 4, rise=0.0)
    (finding,) = growth(results, sweep)
    assert "fraud loss changed:" in finding.text


def test_sweep_report_builds(tmp_path):
    results, sweep = _results([-0.3, -0.2, 0.0, 0.0])
    results.write_parquet(tmp_path / "results.parquet")
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    page = build_sweep_report(tmp_path).read_text()
    assert page.count("data:image/png;base64,") == 4 and "a &lt;test&gt;" in page
    assert (tmp_path / "heat_map.png").exists() and (tmp_path / "heat_map_fraud_loss.png").exists()


def test_the_sweep_page_escapes_exactly_once(tmp_path):
    """The sweep's name and description read back exactly as written, markup and all; the
    findings' own apostrophes are not escaped twice."""
    from .pages import MARKUP, assert_escaped_once

    results, sweep = _results([-0.3, -0.2, 0.0, 0.0])
    results.write_parquet(tmp_path / "results.parquet")
    (tmp_path / "sweep.json").write_text(json.dumps(sweep | {"sweep": "a&b <i>", "description": MARKUP}))
    findings = [f.text for f in sweep_findings(results, sweep, "online")]
    assert any("'" in finding for finding in findings)  # so that escaping them twice would show
    parsed = assert_escaped_once(build_sweep_report(tmp_path).read_text(), MARKUP, *findings)
    assert parsed.by_tag["h1"] == ["fraudsim sweep: a&b <i>"] and parsed.by_tag["title"] == parsed.by_tag["h1"]
    assert parsed.by_tag["p"][0] == MARKUP and parsed.by_tag["li"] == findings


STRATEGIES = ["static", "card_testing", "prober", "bandit"]


def _grid_results(edges: dict[tuple[str, int], float]) -> tuple[pl.DataFrame, dict]:
    """A two-key sweep: the crews' strategy (words, the x axis) × the number of investigators
    (a second key, so one panel per value); online costs (1 + edge) × batch at each point."""
    points = [
        {"crews.crew.strategy": strategy, "labels.investigators.count": investigators}
        for strategy, investigators in edges
    ]
    sweep = {
        "sweep": "grid",
        "description": "two keys",
        "points": [{"point": i} for i in range(len(points))],
        "grid": [
            {"key": "crews.crew.strategy", "column": "crews.crew.strategy", "seconds_column": None, "in": "grid"},
            {
                "key": "labels.investigators.count",
                "column": "labels.investigators.count",
                "seconds_column": None,
                "in": "grid",
            },
        ],
    }
    return _synthetic(points, list(edges.values()), seed=1), sweep


def test_words_on_the_x_axis_and_a_second_key_as_panels():
    edges = {
        (s, n): (-0.2 if s == "bandit" else 0.0) if n == 0 else (0.1 if s == "static" else 0.0)
        for n in (0, 4)
        for s in STRATEGIES
    }
    results, sweep = _grid_results(edges)
    table = paired(results, sweep, "online", "batch-weekly")
    assert len(table) == 8 and table["_panel"].n_unique() == 2
    assert table.filter(pl.col("_label") == "card_testing")["_x"].unique().to_list() == [1.0]  # the file's order
    findings = crossover(results, sweep, "online")
    assert len(findings) == 2  # one per number of investigators
    none, four = (f.text for f in findings)
    assert [f.facts["panel"] for f in findings] == [
        "the number of investigators = 0",
        "the number of investigators = 4",
    ]
    assert not findings[0].facts["ordered"]  # strategies are words: no edge that "disappears"
    assert none.startswith("By total cost: With the number of investigators = 0: Online cost less than batch-weekly")
    assert (
        "at bandit" in none
        and "no clear difference between online and batch-weekly at static, card_testing, prober" in none
    )
    assert four.startswith(
        "By total cost: With the number of investigators = 4: Batch-weekly cost less than online: +10%"
    )
    assert four.endswith(
        "at static; and no clear difference between online and batch-weekly at card_testing, prober, bandit."
    )


def test_table_values_and_a_pdf(tmp_path):
    results, sweep = _grid_results({(s, 0): 0.0 for s in STRATEGIES})
    results = results.with_columns(
        pl.col("crews.crew.strategy").map_elements(
            lambda s: json.dumps({"strategy": s, "count": 4}, sort_keys=True), return_dtype=pl.String
        )
    )
    results.write_parquet(tmp_path / "results.parquet")
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    page = build_sweep_report(tmp_path, pdf=True).read_text()
    assert page.count("data:image/png;base64,") == 4  # two trade-off curves, two heat maps
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind
