"""Captions and findings in plain words, computed from the numbers — never canned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from ..summary import ArmSummary, Difference, Summary
from ..units import format_money, human_duration
from .findings import Finding, interval_text


def ranking_finding(summary: Summary) -> Finding:
    """Who won on total cost, and who lost (the best arm's total cost, and the worst's)."""
    arms, order = summary.arms, summary.ranking
    worst = order[-1] if len(order) > 1 else None
    return Finding(
        "ranking",
        order[0],
        measure="total_cost",
        value=arms[order[0]].total_cost,
        facts={
            "horizon_days": summary.horizon_days,
            "replications": summary.replications,
            "currency": summary.currency,
            "worst": worst,
            "worst_total_cost": arms[worst].total_cost if worst else None,
        },
    )


def ranking_sentence(summary: Summary) -> str:
    """Who won on total cost, and who lost, in words."""
    return ranking_finding(summary).text


def fraud_loss_caption(summary: Summary) -> str:
    currency = summary.currency
    arms = summary.arms
    by_loss = sorted(arms, key=lambda a: arms[a].fraud_loss.mean)
    low, high = by_loss[0], by_loss[-1]
    text = (
        "Each line adds up the money lost to approved fraud (amount plus the fraud fee) day by day; "
        "the shaded band is the 95% interval over replications. A steeper line means fraud is "
        f"getting through faster. Here {low} lost least, {interval_text(arms[low].fraud_loss, currency)}"
    )
    if high != low:
        text += f", and {high} most, {interval_text(arms[high].fraud_loss, currency)}"
    return text + "."


def total_cost_caption(summary: Summary) -> str:
    currency = summary.currency
    arms = summary.arms
    friction_heavy = max(arms, key=lambda a: arms[a].friction.mean)
    return (
        "Total cost is fraud loss plus friction (what declining honest customers costs: lost margin "
        "and churn) plus investigator reviews. It is the figure arms are ranked by, because an arm can "
        f"buy low fraud loss with many false declines. {ranking_sentence(summary)} The arm with the "
        f"most friction was {friction_heavy}, at {format_money(arms[friction_heavy].friction.mean, currency)}."
    )


def fraud_flow_caption(summary: Summary) -> str:
    arms = summary.arms
    shares = {a: arms[a].counts.fraud_approved / max(arms[a].counts.fraud_attempts, 1) for a in arms}
    best = min(shares, key=shares.get)
    worst = max(shares, key=shares.get)
    return (
        "Dotted lines count fraud attempts per day, solid lines the ones approved. The gap between "
        "them is fraud stopped. Attempts differ between arms because crews abandon cards that get "
        f"declined. {best} approved {shares[best]:.0%} of fraud attempts, {worst} {shares[worst]:.0%}."
    )


def cost_split_caption(summary: Summary) -> str:
    currency = summary.currency
    arms = summary.arms
    parts = []
    for arm in summary.ranking:
        entry = arms[arm]
        total = max(entry.total_cost.mean, 1e-9)
        parts.append(
            f"{arm}: {entry.fraud_loss.mean / total:.0%} fraud loss, {entry.friction.mean / total:.0%} friction"
        )
    return (
        "Each bar is an arm's total cost, split into what fraud cost, what false declines cost and "
        f"what reviews cost, best arm at the top ({format_money(0, currency)[0]} means). " + "; ".join(parts) + "."
    )


# --------------------------------------------------------------------------- labels


def median_label_age(coverage: pl.DataFrame) -> tuple[float | None, float]:
    """Age by which half of the fraud that ever gets labelled (within the table's ages) was
    labelled, interpolated on log age; and that eventual share."""
    mean = (
        coverage.filter(pl.col("group") == "fraud")
        .group_by("age_s")
        .agg(pl.col("share_labelled_fraud").mean())
        .sort("age_s")
    )
    ages, shares = mean["age_s"].to_numpy(), mean["share_labelled_fraud"].to_numpy()
    if len(shares) == 0 or not shares[-1] > 0:  # no fraud (nan) or none labelled
        return None, 0.0
    half = shares[-1] / 2
    index = int(np.searchsorted(shares, half))
    if index == 0:
        return float(ages[0]), float(shares[-1])
    a0, a1, s0, s1 = np.log(ages[index - 1]), np.log(ages[index]), shares[index - 1], shares[index]
    return float(np.exp(a0 + (a1 - a0) * (half - s0) / max(s1 - s0, 1e-12))), float(shares[-1])


def coverage_caption(coverage: pl.DataFrame) -> str:
    mean = coverage.filter(pl.col("group") == "fraud").group_by("age").agg(pl.col("share_labelled_fraud").mean())
    share = {row[0]: row[1] for row in mean.iter_rows() if row[1] is not None}
    if not share:
        return (
            "No fraud occurred in this run, so there are no fraud labels to follow; the dashed lines show "
            "what share of honest transactions had any label by a given age (most arrive at maturity)."
        )
    median, eventual = median_label_age(coverage)
    text = (
        "Each line follows the fraud transactions of the horizon and shows what share had been labelled as "
        "fraud by a given age (solid); dashed lines do the same for any label on honest transactions, which "
        "mostly arrives at maturity. "
        f"Here {share.get('1d', 0):.0%} of fraud was labelled within a day, {share.get('7d', 0):.0%} within a "
        f"week and {share.get('30d', 0):.0%} within a month"
    )
    if median is not None:
        text += f"; half of the fraud labels that ever arrive had arrived after {human_duration(median)}"
    text += (
        f". {1 - eventual:.0%} of fraud was never labelled as fraud within 120 days: declined "
        "(censored) or never reported."
    )
    return text


def label_sources_caption(labels_daily: pl.DataFrame) -> str:
    totals = labels_daily.group_by(["arm", "replication", "source"], maintain_order=True).agg(
        pl.col("events").sum(), pl.col("fraud_events").sum()
    )
    mean = (
        totals.group_by("source")
        .agg(pl.col("events").mean(), pl.col("fraud_events").mean())
        .sort(["events", "source"], descending=[True, False])
    )
    parts = [
        f"{row[0].replace('_', ' ')} {row[1]:,.0f} ({row[2]:,.0f} saying fraud)"
        for row in mean.iter_rows()
        if row[1] > 0
    ]
    return (
        "Stacked per day: the label events handed to the learner, by where they came from. Investigators and "
        "cardholder reports are fast and almost all say fraud; chargebacks come weeks later; maturity labels "
        "(legitimate) arrive a whole maturity window after the transaction. Per arm over the horizon, on "
        f"average: {'; '.join(parts)}."
    )


SAME_MIX = (0.9, 1.1)  # a ratio of label to transaction fraud shares within this is "about the same mix"


def class_mix_caption(daily: pl.DataFrame) -> str:
    sums = daily.group_by("arm").agg(
        pl.col("fraud_labels_arrived").sum(),
        pl.col("labels_arrived").sum(),
        pl.col("fraud_attempts").sum(),
        pl.col("transactions").sum(),
    )
    label_share = float(sums["fraud_labels_arrived"].sum() / max(sums["labels_arrived"].sum(), 1))
    tx_share = float(sums["fraud_attempts"].sum() / max(sums["transactions"].sum(), 1))
    if not tx_share:
        return (
            "The share of fraud among the labels that reach a learner each day, against the share of fraud "
            "among transactions. No fraud occurred in this run, so every label was legitimate."
        )
    ratio = label_share / tx_share
    text = (
        "The share of fraud among the labels that reach a learner each day (coloured), against the share of "
        "fraud among transactions (dotted). Fraud labels arrive in days, legitimate ones only at maturity, and "
        "declined fraud is rarely labelled, so the two mixes can differ. Here fraud was "
        f"{label_share:.2%} of arriving labels and {tx_share:.2%} of transactions (a ratio of {ratio:.2f}): "
    )
    if SAME_MIX[0] <= ratio <= SAME_MIX[1]:
        return text + "over the run, the mix the learners saw was about the mix they scored."
    return (
        text + f"the learners saw {'more' if ratio > 1 else 'less'} fraud than they scored. An online learner "
        'can reweight for this (`reweight = "prior"`).'
    )


def investigators_caption(daily: pl.DataFrame) -> str:
    sums = daily.select(
        pl.col("investigator_busy_s").sum(),
        pl.col("investigator_duty_s").sum(),
        pl.col("review_wait_s").sum(),
        pl.col("reviews").sum(),
        pl.col("alerts").sum(),
        pl.col("alerts_dropped").sum(),
    )
    busy, duty, wait, reviews, alerts, dropped = sums.row(0)
    days = daily["day"].n_unique() * daily.select(pl.struct("arm", "replication").n_unique()).item()
    return (
        "Top: the share of on-duty investigator time spent reviewing, credited to the day a review starts (so a "
        "Monday clearing the weekend's queue can pass 100%). Bottom: the mean time an alert waited for a "
        "review, by the day the review started (nights and weekends off make waits long). Across arms, "
        f"{alerts / days:,.1f} alerts a day were raised and {reviews / days:,.1f} reviewed; utilisation was "
        f"{busy / max(duty, 1):.0%}, the mean wait {human_duration(wait / max(reviews, 1))}, and "
        f"{dropped:,.0f} alerts were dropped because the queue was full."
    )


def blocks_caption(arm_totals: pl.DataFrame, summary: Summary) -> str:
    mean = arm_totals.group_by("arm").agg(pl.col("cards_blocked").mean(), pl.col("fraud_approved").mean())
    most = mean.sort("cards_blocked", descending=True).row(0)
    return (
        "The issuer blocks a stolen card when its cardholder notices fraud and calls, when an investigator "
        "confirms fraud, or when a fraud label from a source in `blocking.labels` arrives; a crew holding it "
        "loses it and every attempt it would still have made. Running totals per arm. "
        f"{most[0]} blocked the most stolen cards, {most[1]:,.0f} over the horizon on average."
    )


def noise_caption(arm_totals: pl.DataFrame) -> str:
    means = arm_totals.select(
        pl.col("friendly_fraud_labels").mean(),
        pl.col("fraud_labelled_legit").mean(),
        pl.col("investigator_misses").mean(),
        pl.col("investigator_false_alarms").mean(),
        pl.col("fraud_approved").mean(),
    )
    friendly, matured, misses, false_alarms, approved = means.row(0)
    return (
        "Labels are not the truth. Friendly fraud turns honest transactions into fraud labels; fraud that nobody "
        "reports (or reports after the maturity window) is first labelled legitimate; investigators miss some "
        f"fraud and flag some honest customers. Per arm on average: {friendly:,.0f} friendly-fraud labels, "
        f"{matured:,.0f} of {approved:,.0f} approved frauds labelled legitimate at maturity, {misses:,.0f} "
        f"investigator misses and {false_alarms:,.0f} false alarms."
    )


def defined(value: float | None, spec: str) -> str:
    """``value`` formatted, or "undefined" where a metric has no value (ROC AUC over one class).

    >>> defined(0.5, ".0%"), defined(None, ".3f"), defined(float("nan"), ".3f")
    ('50%', 'undefined', 'undefined')
    """
    return "undefined" if value is None or not np.isfinite(value) else format(value, spec)


def quality_caption(quality: pl.DataFrame, daily: pl.DataFrame | None = None, rules: tuple[str, ...] = ()) -> str:
    """The quality figure's caption; averages leave out the ``rules`` arms (fixed thresholds, not
    a model's ranking) unless there is nothing else."""
    learning = ~pl.col("arm").is_in(rules)
    left_out = quality.filter(~learning).height > 0 and quality.filter(learning).height > 0
    if left_out:
        quality = quality.filter(learning)
        daily = None if daily is None else daily.filter(learning)
    mean = quality.group_by(["arm", "view"]).agg(pl.col("roc_auc").mean(), pl.col("recall").mean())
    ranking = ""
    if daily is not None and "average_precision" in daily.columns:
        ap = daily["average_precision"].fill_nan(None).mean()
        cp = daily["card_precision"].fill_nan(None).mean()
        ranking = (
            f" Over each whole day's transactions, average precision averaged {defined(ap, '.3f')}"
            + (
                f" and card precision@k {defined(cp, '.3f')} (the fraudulent share of the k cards scored "
                "highest each day, k being what the investigators can review in a working day)"
                if cp is not None
                else ""
            )
            + "."
        )

    def average(view: str, column: str) -> float | None:
        value = mean.filter(pl.col("view") == view)[column].mean()
        return value if value is not None and np.isfinite(value) else None

    def value(view: str, column: str, spec: str) -> str:
        return defined(average(view, column), spec)

    truth, seen = average("eventual", "recall"), average("known", "recall")
    if truth is None or seen is None or abs(seen - truth) < 0.005:
        lesson = ""
    elif seen < truth:
        lesson = ": the fraud a model stops is fraud the team rarely hears about, so it looks worse than it is"
    else:
        lesson = (
            ": the team sees more of its fraud stopped than was, because the fraud it let through is labelled "
            "late or never and counts as legitimate meanwhile"
        )
    over = "the arms but the rules" if left_out else "arms"
    return (
        "Each day, the model is measured on the transactions of the trailing window. Solid: against the truth. "
        "Dashed: as the team's dashboard must, with the labels known that day — approved transactions without "
        "a fraud label yet count as legitimate, and declined ones without a confirmation are left out because "
        f"their truth never comes. Averaged over {over} and days, ROC AUC was "
        f"{value('eventual', 'roc_auc', '.3f')} in truth and {value('known', 'roc_auc', '.3f')} as seen; recall "
        f"(share of fraud declined) was {value('eventual', 'recall', '.0%')} in truth and "
        f"{value('known', 'recall', '.0%')} as seen{lesson}." + ranking
    )


def exploration_caption(arm_totals: pl.DataFrame, scenario: dict) -> str:
    sums = arm_totals.select(pl.col("explored").sum(), pl.col("explored_fraud").sum(), pl.col("explored_score").sum())
    explored, fraud, score = sums.row(0)
    share = scenario.get("policy", {}).get("exploration", 0)
    return (
        f"The policy approved a random {share:.0%} of the transactions it would have declined, and logged the "
        "probability of each decision, so the outcome of declines can be estimated at all: a declined "
        "transaction is never charged back or reported, and a learner trained only on what it approved is "
        f"blind to the region it blocks. Over the explored {explored:,.0f} transactions (all arms and "
        f"replications), the models put the fraud probability at {score / max(explored, 1):.0%} on average; "
        f"{fraud / max(explored, 1):.0%} really were fraud. Divide by the logged propensity to estimate the "
        "whole declined region (inverse propensity weighting)."
    )


# --------------------------------------------------------------------------- crews


def tactic_mix_caption(crews: pl.DataFrame) -> str:
    from .figures import tactic_mix

    mix = tactic_mix(crews)
    tactics = [c for c in mix.columns if c.startswith("tactic_") and mix[c].sum() > 0]
    last_day, first_day = int(mix["day"].max()), int(mix["day"].min())
    lines = []
    for arm in mix["arm"].unique(maintain_order=True).to_list():
        frame = mix.filter(pl.col("arm") == arm)
        start = frame.filter(pl.col("day") <= first_day + 6).select([pl.col(t).mean() for t in tactics]).row(0)
        end = frame.filter(pl.col("day") >= last_day - 6).select([pl.col(t).mean() for t in tactics]).row(0)
        moves = sorted(zip(tactics, start, end, strict=True), key=lambda row: -abs(row[2] - row[1]))
        name, before, after = moves[0]
        lines.append(
            f"against {arm}, {name.removeprefix('tactic_').replace('_', ' ')} went from "
            f"{before:.0%} to {after:.0%} of attempts"
        )
    return (
        "Each panel stacks, day by day, the share of all crew attempts that used each tactic: which merchant "
        "category, channel, amounts and hours crews chose. Adaptive crews (bandits, probers, card testers) move "
        "towards whatever the detector lets through, so the mix differs by arm. Between the first and last "
        "week of the horizon, the biggest move: " + "; ".join(lines) + "."
    )


def crews_caption(crews: pl.DataFrame, currency: str) -> str:
    # maintain_order: the means below sum floats in a fixed order, so the caption's cents do not
    # depend on the order a hash-based group_by returns its groups in.
    per_day = crews.group_by(["arm", "replication", "day"], maintain_order=True).agg(
        pl.col("crew").n_unique().alias("crews"), pl.col("profit").sum()
    )
    mean = per_day.group_by("arm").agg(pl.col("crews").mean(), pl.col("profit").mean()).sort(["profit", "arm"])
    low, high = mean.row(0, named=True), mean.row(-1, named=True)
    return (
        "Top: crews active per day; with `dynamics`, crews join while fraud pays and leave after days without "
        "profit. Bottom: their combined daily profit (takings minus the cost of cards and attempts). Fraud volume "
        f"answers the detector: crews made {format_money(high['profit'], currency)} a day on average against "
        f"{high['arm']} ({high['crews']:.1f} crews) and {format_money(low['profit'], currency)} against "
        f"{low['arm']} ({low['crews']:.1f} crews)."
    )


# --------------------------------------------------------------------------- models


def reliability_caption(reliability: pl.DataFrame) -> str:
    sums = reliability.with_columns(gap_w=(pl.col("mean_y") - pl.col("mean_p")).abs() * pl.col("weight"))
    ece = sums.group_by(["arm", "weighting"]).agg((pl.col("gap_w").sum() / pl.col("weight").sum()).alias("ece"))
    by_amount = ece.filter(pl.col("weighting") == "amount").sort(["ece", "arm"])
    best, worst = by_amount.row(0, named=True), by_amount.row(-1, named=True)
    return (
        "Scores are grouped into ten equal-width bins; each point is a bin's mean score against how often its "
        "transactions really were fraud, over the whole horizon (log axes; the dotted diagonal is perfect "
        "calibration, points below it mean the model over-predicts). Left, every transaction counts once; "
        "right, each counts by its amount, which is what the expected-cost rule cares about. Amount-weighted "
        f"calibration error (ECE) was lowest for {best['arm']} ({best['ece']:.4f}) and highest for "
        f"{worst['arm']} ({worst['ece']:.4f})."
    )


def staleness_caption(daily: pl.DataFrame) -> str:
    mean = (
        daily.group_by("arm")
        .agg((pl.col("model_staleness_s").mean() / 86400).alias("days"))
        .drop_nulls()
        .drop_nans()
        .sort(["days", "arm"])  # ties broken by name: the page is byte-identical run to run
    )
    parts = [f"{row[0]} {row[1]:.1f} days" for row in mean.iter_rows()]
    if not parts:
        parts = ["no model learned from a label (a rules detector has no labels to age)"]
    return (
        "How old is what the deployed model knows about fraud? For each day, the time since the newest fraud "
        "transaction it learnt from happened, however late its label came: the age of its information, not "
        "of its last label (a maturity label that arrives today is about a transaction three months old). An "
        "online learner is as fresh as its fastest fraud labels; a batch model ages until its next deploy; a "
        "static one only ages. On average: " + "; ".join(parts) + "."
    )


def timeline_caption(events: pl.DataFrame) -> str:
    counts = events.group_by("kind").len()
    count = {row[0]: row[1] for row in counts.iter_rows()}
    replications = events["replication"].n_unique() if events.height else 1
    text = (
        "For the first replication: each bar marks when a batch model was retrained (|) and deployed (▲), when "
        "a drift detector raised an alarm (×), and the spans when the policy fell back to the rules because "
        f"monitoring said the model was broken. Over all {replications} replication(s): "
        f"{count.get('retrain', 0)} retrains, {count.get('drift', 0)} drift alarms and "
        f"{count.get('fallback', 0)} fallbacks."
    )
    if count.get("skipped"):
        text += (
            f" {count['skipped']} retrain(s) were skipped (■): their window lacked labels of one class, so "
            "the model already serving stayed."
        )
    return text


# --------------------------------------------------------------------------- findings
# Each builds a Finding from the run's numbers; sim.report.findings says it in words.


def difference_finding(summary: Summary, entry: Difference) -> Finding:
    """One paired comparison, by total cost and by fraud loss (relative to the baseline's)."""
    return Finding(
        "difference",
        entry.arm,
        entry.baseline,
        "total_cost",
        entry.total_cost_relative,
        {"horizon_days": summary.horizon_days, "fraud_loss": entry.fraud_loss_relative},
    )


def differences_caption(best: str, entries: Sequence[Difference], horizon_days: float) -> str:
    """What the paired-difference figure shows, and which arms are clearly costlier than the best,
    by total cost and by fraud loss (an interval entirely above zero)."""
    text = (
        f"Each arm's cost minus {best}'s (the best by total cost) over {horizon_days:g} days, replication by "
        "replication (the same seeds, so the same honest traffic and the same first fraud), with the mean's "
        "95% interval and the difference as a share of " + best + "'s cost. An interval across the dashed line "
        "at zero is no clear difference."
    )
    for measure, name in (("total_cost", "total cost"), ("fraud_loss", "fraud loss")):
        clear = [d.arm for d in entries if (getattr(d, measure).ci_low or 0) > 0]
        lower = [d.arm for d in entries if (getattr(d, measure).ci_high or 0) < 0]
        parts = []
        if clear:
            parts.append(f"clearly more than {best}: {', '.join(clear)}")
        if lower:
            parts.append(f"clearly less than {best}: {', '.join(lower)}")
        unclear = [d.arm for d in entries if d.arm not in clear and d.arm not in lower]
        if unclear:
            parts.append(f"no clear difference from {best}: {', '.join(unclear)}")
        text += f" By {name}, " + "; ".join(parts) + "."
    return text


def fresh_labels_finding(summary: Summary) -> Finding:
    """What fresh labels are worth here: the oracle's saving over static, and where each arm falls
    between the two, by total cost and by fraud loss; without those arms, how to add them."""
    fresh = summary.fresh_labels
    if not any(arm.counts.fraud_attempts for arm in summary.arms.values()):
        return Finding("no_fraud")
    if fresh is None:
        return Finding("fresh_labels_unmeasured")
    recovered = fresh.recovered
    return Finding(
        "fresh_labels",
        fresh.oracle,
        fresh.static,
        "total_cost",
        fresh.headroom.total_cost_relative,
        {
            "horizon_days": summary.horizon_days,
            "recovered": {a: e.total_cost for a, e in recovered.items() if e.total_cost.mean is not None},
            "fraud_loss": fresh.headroom.fraud_loss_relative,
            "recovered_fraud_loss": {a: e.fraud_loss for a, e in recovered.items() if e.fraud_loss.mean is not None},
        },
    )


def summary_findings(summary: Summary, differences: int = 3) -> list[Finding]:
    """The findings the summary alone decides, after the ranking: what fresh labels are worth,
    and the best arm against each of the next ``differences``."""
    order = summary.ranking
    entries = [summary.difference(order[0], arm) for arm in order[1 : 1 + differences]]
    return [fresh_labels_finding(summary), *(difference_finding(summary, e) for e in entries if e is not None)]


def findings(
    summary: Summary,
    daily: pl.DataFrame,
    coverage: pl.DataFrame | None,
    crews: pl.DataFrame | None,
    quality: pl.DataFrame | None,
) -> list[Finding]:
    """The report's headline findings, each computed from the run's numbers."""
    if not daily["fraud_attempts"].sum():
        return [ranking_finding(summary), Finding("no_fraud")]
    out = [ranking_finding(summary), *summary_findings(summary)]
    order = summary.ranking
    arms = summary.arms
    least_fraud = min(arms, key=lambda a: arms[a].fraud_loss.mean)
    if least_fraud != order[0]:
        out.append(
            Finding(
                "least_fraud",
                least_fraud,
                order[0],
                "fraud_loss",
                arms[least_fraud].fraud_loss,
                {
                    "currency": summary.currency,
                    "friction": arms[least_fraud].friction.mean,
                    "baseline_friction": arms[order[0]].friction.mean,
                },
            )
        )
    out += [f for f in (idle_detectors_finding(arms), stopped_finding(daily, crews, summary)) if f is not None]
    if coverage is not None:
        median, eventual = median_label_age(coverage)
        if median is not None:
            out.append(Finding("label_age", facts={"median_s": median, "never_labelled": 1 - eventual}))
    if crews is not None and crews.height and crews["attempts"].sum() > 0:
        shift = tactic_shift(crews)
        if shift:
            out.append(shift)
    if quality is not None and quality.height:
        rates = quality.group_by("view").agg(pl.col("fraud_rate").mean())
        rate = {row[0]: row[1] for row in rates.iter_rows()}
        if rate.get("eventual"):
            out.append(Finding("dashboard", facts={"seen_share": rate.get("known", 0) / rate["eventual"]}))
    calibration = daily.group_by("arm").agg(pl.col("predicted_fraud").sum(), pl.col("fraud_amount_approved").sum())
    calibration = calibration.filter(pl.col("fraud_amount_approved") > 0).with_columns(
        ratio=pl.col("predicted_fraud") / pl.col("fraud_amount_approved")
    )
    learned = [a for a in order if arms[a].learner != "rules"]
    calibration = calibration.filter(pl.col("arm").is_in(learned))
    if calibration.height:
        worst = calibration.with_columns(off=(pl.col("ratio").log()).abs()).sort(["off", "arm"]).row(-1, named=True)
        out.append(Finding("calibration", worst["arm"], measure="predicted_fraud", facts={"ratio": worst["ratio"]}))
    return out


IDLE_APPROVAL = 0.95  # models that approve this share of fraud attempts (or more) barely take part


def idle_detectors_finding(arms: Mapping[str, ArmSummary]) -> Finding | None:
    """When every model (rules aside) approved nearly all fraud attempts, say so: the arms'
    fraud losses then differ through what the crews do and how fast cards are blocked, not
    through the models' declines."""
    shares = {
        a: e.counts.fraud_approved / e.counts.fraud_attempts
        for a, e in arms.items()
        if e.learner != "rules" and e.counts.fraud_attempts > 0
    }
    if not shares or min(shares.values()) < IDLE_APPROVAL:
        return None
    approved = dict(sorted(shares.items(), key=lambda kv: kv[1]))
    return Finding("idle_detectors", measure="fraud_approved_share", facts={"approved": approved})


LITTLE_DECLINED = 0.05  # a model whose declines stopped less than this share of the fraud value "did little"


def stopped_finding(daily: pl.DataFrame, crews: pl.DataFrame | None, summary: Summary) -> Finding | None:
    """What stopped fraud, per arm (means over replications): the share of the fraud value
    attempted that the detector's declines stopped, the stolen cards the issuer blocked (each
    taking every attempt a crew would still have made with it) and the crews that gave up
    (made their last attempt before the horizon's last day); and which models did little."""
    sums = daily.group_by(["arm", "replication"]).agg(
        pl.col("fraud_amount_attempted").sum(), pl.col("fraud_amount_approved").sum(), pl.col("cards_blocked").sum()
    )
    if not sums["fraud_amount_attempted"].sum():
        return None
    means = sums.group_by("arm").agg(
        (1 - pl.col("fraud_amount_approved").sum() / pl.col("fraud_amount_attempted").sum()).alias("declined"),
        pl.col("cards_blocked").mean(),
    )
    rows = {arm: (declined, blocked) for arm, declined, blocked in means.iter_rows()}
    gave_up_by_arm: dict[str, float] = {}
    if crews is not None and crews.height:
        last_day = int(daily["day"].max())
        active = crews.filter(pl.col("attempts") > 0).group_by(["arm", "replication", "crew"]).agg(pl.col("day").max())
        gave_up = active.group_by(["arm", "replication"]).agg((pl.col("day") < last_day).sum().alias("left"))
        gave_up_by_arm = dict(gave_up.group_by("arm").agg(pl.col("left").mean()).iter_rows())
    arms = [a for a in summary.ranking if a in rows]
    return Finding(
        "stopped",
        measure="fraud_value_declined",
        facts={
            "arms": {
                arm: {"declined": rows[arm][0], "cards_blocked": rows[arm][1], "crews_gave_up": gave_up_by_arm.get(arm)}
                for arm in arms
            },
            "crews_counted": bool(gave_up_by_arm),
            "little": LITTLE_DECLINED,
            "did_little": [a for a in arms if rows[a][0] < LITTLE_DECLINED and summary.arms[a].learner != "rules"],
        },
    )


def tactic_shift(crews: pl.DataFrame) -> Finding | None:
    """The biggest move in the crews' tactic mix, against which arm, and how fast."""
    from .figures import tactic_mix

    mix = tactic_mix(crews)
    tactics = [c for c in mix.columns if c.startswith("tactic_") and mix[c].sum() > 0]
    if not tactics:
        return None
    first_day, last_day = int(mix["day"].min()), int(mix["day"].max())
    best = None
    for arm in mix["arm"].unique(maintain_order=True).to_list():
        frame = mix.filter(pl.col("arm") == arm).sort("day")
        days = frame["day"].to_numpy()
        for tactic in tactics:
            values = frame[tactic].rolling_mean(7, min_samples=1).to_numpy()
            start, end = float(values[:7].mean()), float(values[-7:].mean())
            if best is None or end - start > best[0]:
                began = days[np.flatnonzero(values >= start + 0.1 * (end - start))]
                halfway = days[np.flatnonzero(values >= start + 0.5 * (end - start))]
                timing = (int(began[0]), int(halfway[0] - began[0])) if len(began) and len(halfway) else (None, None)
                best = (end - start, arm, tactic, start, end, timing)
    gain, arm, tactic, start, end, (began, half) = best
    if gain < 0.05:
        return Finding("tactic_shift", facts={"days": last_day - first_day + 1})
    name = tactic.removeprefix("tactic_").replace("_", " ")
    facts = {"tactic": name, "start": start, "end": end, "began_day": began, "half_days": half}
    return Finding("tactic_shift", arm, measure="tactic_share", facts=facts)
