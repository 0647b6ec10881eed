"""One visual language: an arm or a tactic keeps its colour in every report; heat maps share one scale."""

from __future__ import annotations

from sim.report.figures import ARM_COLORS, PALETTE, arm_colors, named_colors
from sim.report.sweep import HEAT_LIMIT, heat_map

from .test_sweep_report import _results


def test_an_arm_keeps_its_colour_whatever_else_is_in_the_report():
    quickstart = arm_colors(["online", "batch-daily", "batch-weekly", "static", "oracle", "rules"])
    label_delay = arm_colors(["static", "online", "batch-weekly"])
    new = arm_colors(["rules", "online-forest", "online"])
    for arm in ("online", "static", "batch-weekly"):
        assert quickstart[arm] == label_delay[arm] == ARM_COLORS[arm]
    assert new["online"] == quickstart["online"]
    assert len(set(quickstart.values())) == len(quickstart)  # no two arms alike in one report


def test_other_names_keep_their_colour_and_never_share_one():
    alone = arm_colors(["my-arf"])["my-arf"]
    assert arm_colors(["online", "my-arf", "static"])["my-arf"] == alone  # the hash's colour, while free
    many = [f"arm-{i}" for i in range(len(PALETTE))]
    assert len(set(arm_colors(many).values())) == len(PALETTE)
    assert arm_colors(list(reversed(many))) == arm_colors(many)  # the order of the list does not matter


def test_tactics_keep_their_colour_when_others_come_and_go():
    palette = ["#1", "#2", "#3", "#4", "#5"]
    few = named_colors(["tactic_a", "tactic_c"], palette)
    more = named_colors(["tactic_a", "tactic_b", "tactic_c"], palette)
    assert few["tactic_a"] == more["tactic_a"]  # the first name in sorted order always has its hash's colour
    assert named_colors(["tactic_a"], palette) == {"tactic_a": named_colors(["tactic_a", "x"], palette)["tactic_a"]}


def test_every_heat_map_has_the_same_symmetric_scale():
    """+5 % in one sweep used to be as dark as +27 % in another."""
    limits = []
    for edges in ([-0.05, 0.0, 0.05, 0.02], [-0.3, -0.2, -0.1, 0.27]):
        results, sweep = _results(edges)
        figure = heat_map(results, sweep, "online")
        image = figure.axes[0].get_images()[0]
        limits.append(image.get_clim())
        texts = {t.get_text(): t.get_color() for t in figure.axes[0].texts}
        for text, color in texts.items():
            share = float(text.rstrip("?").rstrip("%")) / 100
            assert color == ("white" if abs(share) > 0.6 * HEAT_LIMIT else "black")
    assert limits[0] == limits[1] == (-HEAT_LIMIT, HEAT_LIMIT)
    by_loss = heat_map(*_results([-0.3, -0.2, -0.1, 0.27]), "online", "fraud_loss").axes[0]
    assert by_loss.get_images()[0].get_clim() == (-HEAT_LIMIT, HEAT_LIMIT) and "Fraud loss" in by_loss.get_title()
