"""Captions and findings in plain words, computed from the numbers — never canned."""

from __future__ import annotations

from ..units import format_money


def _interval(entry: dict, currency: str) -> str:
    if entry.get("ci_low") is None:
        return format_money(entry["mean"], currency)
    return (
        f"{format_money(entry['mean'], currency)} "
        f"(95% CI {format_money(entry['ci_low'], currency)} to {format_money(entry['ci_high'], currency)})"
    )


def ranking_sentence(summary: dict) -> str:
    """Who won on total cost, and by how much over the next arm."""
    currency = summary["currency"]
    arms = summary["arms"]
    ranking = summary["ranking"]
    best = ranking[0]
    text = (
        f"Over {summary['horizon_days']:g} days and {summary['replications']} "
        f"replication{'s' if summary['replications'] != 1 else ''}, {best} had the lowest total cost: "
        f"{_interval(arms[best]['total_cost'], currency)}"
    )
    if len(ranking) > 1:
        worst = ranking[-1]
        text += f"; {worst} had the highest: {_interval(arms[worst]['total_cost'], currency)}"
    return text + "."


def fraud_loss_caption(summary: dict) -> str:
    currency = summary["currency"]
    arms = summary["arms"]
    by_loss = sorted(arms, key=lambda a: arms[a]["fraud_loss"]["mean"])
    low, high = by_loss[0], by_loss[-1]
    text = (
        "Each line adds up the money lost to approved fraud (amount plus the fraud fee) day by day; "
        "the shaded band is the 95% interval over replications. A steeper line means fraud is "
        f"getting through faster. Here {low} lost least, {_interval(arms[low]['fraud_loss'], currency)}"
    )
    if high != low:
        text += f", and {high} most, {_interval(arms[high]['fraud_loss'], currency)}"
    return text + "."


def total_cost_caption(summary: dict) -> str:
    currency = summary["currency"]
    arms = summary["arms"]
    friction_heavy = max(arms, key=lambda a: arms[a]["friction"]["mean"])
    return (
        "Total cost is fraud loss plus friction (what declining honest customers costs: lost margin "
        "and churn) plus investigator reviews. It is the figure arms are ranked by, because an arm can "
        f"buy low fraud loss with many false declines. {ranking_sentence(summary)} The arm with the "
        f"most friction was {friction_heavy}, at {format_money(arms[friction_heavy]['friction']['mean'], currency)}."
    )


def fraud_flow_caption(summary: dict) -> str:
    arms = summary["arms"]
    shares = {a: arms[a]["counts"]["fraud_approved"] / max(arms[a]["counts"]["fraud_attempts"], 1) for a in arms}
    best = min(shares, key=shares.get)
    worst = max(shares, key=shares.get)
    return (
        "Dotted lines count fraud attempts per day, solid lines the ones approved. The gap between "
        "them is fraud stopped. Attempts differ between arms because crews abandon cards that get "
        f"declined. {best} approved {shares[best]:.0%} of fraud attempts, {worst} {shares[worst]:.0%}."
    )


def cost_split_caption(summary: dict) -> str:
    currency = summary["currency"]
    arms = summary["arms"]
    parts = []
    for arm in summary["ranking"]:
        entry = arms[arm]
        total = max(entry["total_cost"]["mean"], 1e-9)
        parts.append(f"{arm}: {entry['fraud_loss']['mean'] / total:.0%} fraud loss, "
                     f"{entry['friction']['mean'] / total:.0%} friction")  # fmt: skip
    return (
        "Each bar is an arm's total cost, split into what fraud cost, what false declines cost and "
        f"what reviews cost, best arm at the top ({format_money(0, currency)[0]} means). "
        + "; ".join(parts)
        + "."
    )
