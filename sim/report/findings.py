"""Findings: what a report concludes, as numbers first and words second.

A :class:`Finding` holds what one headline rests on — its kind, the arm it is about and the
baseline it is compared with, the measure, the value with its 95 % interval, and every other
number its sentence quotes (``facts``). Its words come from this module's renderers, one per
kind: the one place where findings' numbers become sentences, for run, sweep, A/B and replay
reports alike. Pages and the Python API show the words (``str(finding)``); tests and notebooks
read the numbers.

>>> from sim.summary import Interval
>>> f = Finding("dashboard", facts={"seen_share": 0.62})
>>> f.clear is None, str(f)[:47]
(True, "The team's dashboard saw a fraud rate 62% of th")
>>> Finding("difference", "a", "b", "total_cost", Interval(0.1, 0.02, 0.2)).clear
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..summary import Interval, _json
from ..units import format_money, human_duration, money_symbol


@dataclass(frozen=True)
class Finding:
    """One finding: ``kind`` names its sentence; ``arm`` is what it is about and ``baseline`` what
    that is compared with; ``value`` is the number it turns on (a mean over replications with its
    95 % interval) in ``measure``; ``facts`` holds every other number the sentence quotes."""

    kind: str
    arm: str | None = None
    baseline: str | None = None
    measure: str | None = None
    value: Interval | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in _SAYS:
            raise ValueError(f"unknown kind of finding {self.kind!r}; known: {', '.join(sorted(_SAYS))}")

    @property
    def text(self) -> str:
        """The finding in words."""
        return _SAYS[self.kind](self)

    def __str__(self) -> str:
        return self.text

    @property
    def clear(self) -> bool | None:
        """Whether the value's interval leaves out zero; None without a value or bounds."""
        value = self.value
        if value is None or value.ci_low is None or value.ci_high is None:
            return None
        return value.ci_low > 0 or value.ci_high < 0

    def to_json(self) -> dict[str, Any]:
        """The finding's numbers and its words, as JSON."""
        return {
            "kind": self.kind,
            "arm": self.arm,
            "baseline": self.baseline,
            "measure": self.measure,
            "value": _json(self.value),
            "clear": self.clear,
            "facts": _json(dict(self.facts)),
            "text": self.text,
        }


_SAYS: dict[str, Callable[[Finding], str]] = {}


def _says(kind: str) -> Callable[[Callable[[Finding], str]], Callable[[Finding], str]]:
    def register(render: Callable[[Finding], str]) -> Callable[[Finding], str]:
        _SAYS[kind] = render
        return render

    return register


# --------------------------------------------------------------------------- numbers in words


def interval_text(entry: Interval, currency: str, money: Callable[[float, str], str] = format_money) -> str:
    """A mean and its interval in words: ``€1,200 (95% CI €900 to €1,500)``; ``money`` formats each."""
    if entry.ci_low is None:
        return money(entry.mean, currency)
    return f"{money(entry.mean, currency)} (95% CI {money(entry.ci_low, currency)} to {money(entry.ci_high, currency)})"


def share_text(entry: Interval) -> str:
    """A share with its interval, in words ("62% (95% CI 40% to 84%)")."""
    text = f"{entry.mean:.0%}"
    if entry.ci_low is not None:
        text += f" (95% CI {entry.ci_low:.0%} to {entry.ci_high:.0%})"
    return text


def per_transaction(value: float, currency: str) -> str:
    """Money per transaction: three decimals below one unit (€0.057), else as usual."""
    if abs(value) >= 1:
        return format_money(value, currency)
    return f"{'-' if value < 0 else ''}{money_symbol(currency)}{abs(value):.3f}"


def signed_per_transaction(value: float, currency: str) -> str:
    """A signed difference per transaction: ``+€0.064``, ``−€0.147``."""
    return f"{'−' if value < 0 else '+'}{per_transaction(abs(value), currency)}"


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless one.

    >>> plural(1, "day"), plural(0, "day"), plural(3, "day")
    ('1 day', '0 days', '3 days')
    """
    return f"{count} {noun}" + ("" if count == 1 else "s")


# --------------------------------------------------------------------------- a run's findings


@_says("ranking")
def _ranking(f: Finding) -> str:
    n = f.facts
    replications = n["replications"]
    text = (
        f"Over {n['horizon_days']:g} days and {replications} replication{'s' if replications != 1 else ''}, "
        f"{f.arm} had the lowest total cost: {interval_text(f.value, n['currency'])}"
    )
    if n.get("worst") is not None:
        text += f"; {n['worst']} had the highest: {interval_text(n['worst_total_cost'], n['currency'])}"
    return text + "."


@_says("no_fraud")
def _no_fraud(f: Finding) -> str:
    return (
        "No fraud occurred in this run, so the arms differ only in friction and reviews: what "
        "declining and reviewing honest customers cost. Fraud loss, the value of fresh labels and every "
        "fraud metric are undefined here; add crews (`[[crews]]`) to compare detectors."
    )


@_says("fresh_labels_unmeasured")
def _fresh_labels_unmeasured(f: Finding) -> str:
    return (
        'This run cannot say what fresh labels are worth: add an arm `{name = "oracle", learner = '
        '"oracle"}` (every true label at once) and an arm `{name = "static", learner = "static"}` (no '
        "label after the history), and the report measures each arm between the two."
    )


@_says("fresh_labels")
def _fresh_labels(f: Finding) -> str:
    """The oracle's saving over static (``value``, relative), and each arm's share of it
    (``facts["recovered"]``), by total cost and by fraud loss."""
    oracle, static, headroom, n = f.arm, f.baseline, f.value, f.facts
    days = f"{n['horizon_days']:g} days"
    if headroom.ci_low is not None and headroom.ci_low <= 0:
        return (
            f"Instant truth ({oracle}) was not clearly cheaper than never learning again ({static}) over "
            f"{days} (it saved {share_text(headroom)} of {static}'s total cost): in this world fresh labels "
            "are worth little, so no way of retraining can be worth much more."
        )
    text = (
        f"Fresh labels are worth up to {share_text(headroom)} of {static}'s total cost over {days}: that is what "
        f"instant truth ({oracle}) saved over never learning again ({static})."
    )
    parts = [f"{arm} recovered {share_text(entry)}" for arm, entry in n["recovered"].items()]
    if parts:
        text += " Of that saving, " + "; ".join(parts) + "."
    fraud_parts = [f"{arm} {share_text(entry)}" for arm, entry in n["recovered_fraud_loss"].items()]
    text += f" By fraud loss the oracle saved {share_text(n['fraud_loss'])}"
    return text + (f"; of that, {', '.join(fraud_parts)}." if fraud_parts else ".")


@_says("difference")
def _difference(f: Finding) -> str:
    """A paired comparison, by total cost (``value``) and by fraud loss (``facts["fraud_loss"]``),
    each the relative difference r = mean(arm − baseline) / mean(baseline); an interval crossing
    zero is no clear difference. It is said as "baseline cost r / (1 + r) less than arm", which is
    what "k% less than" means."""
    arm, baseline = f.arm, f.baseline

    def less(r: float) -> float:
        return r / (1 + r)

    def said(relative: Interval, unclear: str, verb: str) -> str:
        low, high = relative.ci_low, relative.ci_high
        if low is not None and low <= 0 <= high:
            return f"{unclear} (95% CI of the difference {low:+.0%} to {high:+.0%} of {baseline}'s)"
        more = relative.mean < 0  # the baseline is the better-ranked by total cost, not always by fraud loss
        text = f"{baseline} {verb} {abs(less(relative.mean)):.0%} {'more' if more else 'less'} than {arm}"
        if low is not None:
            bounds = sorted(abs(less(x)) for x in (low, high))
            text += f" (95% CI {bounds[0]:.0%} to {bounds[1]:.0%})"
        return text

    cost = said(f.value, f"no clear difference in total cost between {baseline} and {arm}", "cost")
    loss = said(f.facts["fraud_loss"], "no clear difference", "lost")
    return f"Over {f.facts['horizon_days']:g} days, {cost}; by fraud loss, {loss}."


@_says("least_fraud")
def _least_fraud(f: Finding) -> str:
    currency = f.facts["currency"]
    return (
        f"{f.arm} let through the least fraud ({format_money(f.value.mean, currency)}) "
        f"but paid {format_money(f.facts['friction'], currency)} in false declines, against "
        f"{format_money(f.facts['baseline_friction'], currency)} for {f.baseline}."
    )


@_says("idle_detectors")
def _idle_detectors(f: Finding) -> str:
    listed = ", ".join(f"{arm} {share:.1%}" for arm, share in f.facts["approved"].items())
    return (
        f"The models declined almost no fraud: they approved {listed} of fraud attempts. Their scores "
        "rarely reached the decline threshold, so what stopped fraud here was cards being blocked (cardholders "
        "noticing, investigators' verdicts), not the models' declines."
    )


@_says("stopped")
def _stopped(f: Finding) -> str:
    """Per arm: the share of the fraud value declined, stolen cards blocked and (when counted)
    crews that gave up; and the models that did little."""
    arms, counted = f.facts["arms"], f.facts["crews_counted"]
    parts = [
        f"{arm} {row['declined']:.0%}, {row['cards_blocked']:,.0f} cards"
        + (f", {row['crews_gave_up']:,.1f} crews" if row["crews_gave_up"] is not None else "")
        for arm, row in arms.items()
    ]
    what = "share of the fraud value declined, stolen cards blocked" + (", crews that gave up" if counted else "")
    sentence = f"What stopped fraud ({what}; means over replications): " + "; ".join(parts) + "."
    if f.facts["did_little"]:
        sentence += (
            f" The model of {', '.join(f.facts['did_little'])} did little: it declined under "
            f"{f.facts['little']:.0%} of the fraud value, so blocked cards and crews giving up did most of the "
            "stopping there."
        )
    return sentence


@_says("label_age")
def _label_age(f: Finding) -> str:
    return (
        f"Half of the fraud labels that ever arrived had arrived after {human_duration(f.facts['median_s'])}; "
        f"{f.facts['never_labelled']:.0%} of fraud was never labelled as fraud."
    )


@_says("tactic_shift")
def _tactic_shift(f: Finding) -> str:
    """The biggest move in the crews' tactic mix (``facts``: tactic, start and end shares, the day
    it began and the days to half of it), or that the mix stayed put (no tactic)."""
    n = f.facts
    if n.get("tactic") is None:
        return f"Crews' tactic mix stayed about the same over the {plural(n['days'], 'day')}."
    text = f"Against {f.arm}, crews moved from {n['start']:.0%} to {n['end']:.0%} of their attempts onto {n['tactic']}"
    if n.get("began_day") is None:
        return text + "."
    half = plural(n["half_days"], "day")
    return text + f": the move began around day {n['began_day']} and was half done {half} later."


@_says("dashboard")
def _dashboard(f: Finding) -> str:
    return (
        f"The team's dashboard saw a fraud rate {f.facts['seen_share']:.0%} of the true one: fraud not yet "
        "reported counts as legitimate, and blocked fraud is never labelled."
    )


@_says("calibration")
def _calibration(f: Finding) -> str:
    ratio = f.facts["ratio"]
    direction = "over" if ratio > 1 else "under"
    return (
        f"In money, {f.arm} {direction}-estimated the fraud it let through by "
        f"{abs(ratio - 1):.0%} (it expected {ratio:.2f}× what happened)."
    )


# --------------------------------------------------------------------------- an A/B test


@_says("ab")
def _ab(f: Finding) -> str:
    """The A/B read-out (``facts``: estimate and truth, B − A in fraud loss per transaction) and its
    bias (``value``), with the planned duration."""
    n, currency = f.facts, f.facts["currency"]
    return (
        f"A/B test of {f.arm} against {f.baseline} at {1 - n['share_b']:.0%}/{n['share_b']:.0%} for "
        f"{n['read_out_day']} days: it reads {signed_per_transaction(n['estimate'], currency)} in fraud loss per "
        f"transaction, the truth is {signed_per_transaction(n['truth'], currency)}; the bias, "
        f"{interval_text(f.value, currency, signed_per_transaction)}, is "
        f"{'clearly' if f.clear else 'not clearly'} different from zero. "
        f"Planned duration to detect {per_transaction(n['min_effect'], currency)}: "
        f"{n['days_needed']:,.0f} days."
    )


# --------------------------------------------------------------------------- a sweep

# How a measure's comparisons read: (less than, clearly better).
_EDGE_WORDS = {
    "total_cost": ("cost less than", "cheaper"),
    "fraud_loss": ("lost less to fraud than", "lower in fraud loss"),
}


def _at(point: Mapping[str, Any]) -> str:
    value = point["value"]
    return f"{value.mean:+.0%} (95% CI {value.ci_low:+.0%} to {value.ci_high:+.0%}) at {point['at']}"


def _cheaper(point: Mapping[str, Any]) -> bool:
    return point["value"].ci_high < 0


def _dearer(point: Mapping[str, Any]) -> bool:
    return point["value"].ci_low > 0


@_says("sweep_edge")
def _sweep_edge(f: Finding) -> str:
    """How ``arm``'s paired difference to ``baseline`` in ``measure`` (relative, ``facts["points"]``:
    the value at each value of the swept key) moves along the key: how far a clear edge lasts on an
    ordered key, or where it holds on a key without an order."""
    n = f.facts
    text = (_ordered if n["ordered"] else _unordered)(n["points"], f.arm, f.baseline, n["key"], _EDGE_WORDS[f.measure])
    text = f"With {n['panel']}: {text}" if n.get("panel") else text
    return f"By {f.measure.replace('_', ' ')}: {text}"


def _ordered(points: list, reference: str, other: str, key: str, words: tuple[str, str]) -> str:
    less, better = words
    clear = [_cheaper(p) for p in points]
    if all(clear):
        return f"{reference} {less} {other} whatever {key}: {_at(points[0])}, {_at(points[-1])}."
    if not clear[0]:
        clearly = [p["at"] for p, c in zip(points, clear, strict=True) if c]
        worse = [p["at"] for p in points if _dearer(p)]
        text = f"{reference} had no clear edge over {other} at {key} of {points[0]['at']}"
        text += f"; it was clearly {better} only at {', '.join(clearly)}" if clearly else ", nor anywhere else tried"
        if worse:
            text += f"; {other} was clearly {better} at {', '.join(worse)}"
        return f"{text} ({_at(points[0])}; {_at(points[-1])})."
    gone = clear.index(False)
    text = (
        f"{reference}'s edge over {other} disappears once {key} reaches {points[gone]['at']}: "
        f"{_at(points[gone - 1])}, but {_at(points[gone])}"
    )
    later = [p["at"] for p, c in zip(points[gone:], clear[gone:], strict=True) if c]
    if later:
        text += f" (a smaller edge shows again at {', '.join(later)})"
    reversed_ = [p for p in points[gone:] if _dearer(p)]
    if reversed_:
        text += f"; further on, {other} is clearly {better}: {', '.join(_at(p) for p in reversed_)}"
    return text + "."


def _unordered(points: list, reference: str, other: str, key: str, words: tuple[str, str]) -> str:
    """For a key whose values have no order: where ``reference`` was clearly better, clearly
    worse, or neither, value by value."""
    less, _ = words
    cheaper = [_at(p) for p in points if _cheaper(p)]
    dearer = [_at(p) for p in points if _dearer(p)]
    unclear = [p["at"] for p in points if not _cheaper(p) and not _dearer(p)]
    parts = [f"{reference} {less} {other}: " + "; ".join(cheaper)] if cheaper else []
    parts += [f"{other} {less} {reference}: " + "; ".join(dearer)] if dearer else []
    parts += [f"no clear difference between {reference} and {other} at {', '.join(unclear)}"] if unclear else []
    text = "; and ".join(parts)
    return text[0].upper() + text[1:] + "."


@_says("sweep_growth")
def _sweep_growth(f: Finding) -> str:
    """Each arm's ``measure`` at the swept key's last value against its first (``facts["changes"]``,
    relative, paired by replication)."""
    n = f.facts
    changes = n["changes"]
    trend = (
        "rose for every arm"
        if all(c.ci_low > 0 for c in changes.values())
        else "fell for every arm"
        if all(c.ci_high < 0 for c in changes.values())
        else "changed"
    )
    text = f"From {n['from']} to {n['to']} of {n['key']}, {f.measure.replace('_', ' ')} {trend}: " + "; ".join(
        f"{arm} {c.mean:+.0%} (95% CI {c.ci_low:+.0%} to {c.ci_high:+.0%})" for arm, c in changes.items()
    )
    return f"With {n['panel']}: {text}." if n.get("panel") else f"{text}."


# --------------------------------------------------------------------------- a replay


# A replay's ranked metrics: (the metric's name, what the best learner does).
_RANKED = {
    "roc_auc": ("ROC AUC", "ranks fraud best"),
    "log_loss": ("log loss", "has the lowest log loss"),
    "total_cost": ("total cost", "would have cost least"),
}


@_says("replay_ranking")
def _replay_ranking(f: Finding) -> str:
    """The best learner on one metric of a replay (``value``), and whether it is clearly best:
    every other learner's gap (``facts["others"]``) has a block-bootstrap interval without zero."""
    n, best = f.facts, f.arm
    what, verb = _RANKED[f.measure]

    def show(value: float) -> str:
        if f.measure == "total_cost":
            return format_money(value, n["currency"])
        return f"{value:.3f}" if f.measure == "roc_auc" else f"{value:.4f}"

    value, others = f.value.mean, n["others"]
    if not others:
        return f"Over the whole replay {best}'s {what} is {show(value)}."
    if n["clearly_best"]:
        return (
            f"Over the whole replay {best} {verb} ({what} {show(value)}); every other learner's gap to it "
            "has a 95 % interval (block bootstrap over days) that leaves out zero."
        )
    close = [o for o in others if not o["clear"]]
    first = close[0]
    interval = (
        ""
        if first["low"] is None
        else f", 95 % interval {show(first['low'])} to {show(first['high'])} by a block bootstrap over days"
    )
    names = ", ".join(o["learner"] for o in close)
    return (
        f"{best} has the best {what} ({show(value)}), but not clearly: {names} "
        f"{'is' if len(close) == 1 else 'are'} within reach ({first['learner']}'s gap "
        f"{show(first['gap'])}{interval})."
    )
