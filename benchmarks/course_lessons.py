"""The course's lessons: for each, the question, the command that answers it, where to look, the
answers it measures (each with the claim the text makes about it, checked on the numbers), and
why. `benchmarks/course.py` runs them and writes scenarios/README.md and docs/when-online-pays.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course_measures import (
    DECLINED_FRAUD,
    FALLBACK,
    FALSE_DECLINES,
    ab_figure,
    coverage,
    difference,
    headroom,
    period_ratio,
    recovered,
    share,
    share_difference,
    sweep_change,
    sweep_difference,
)

from sim.summary import Interval

_CLAIMS: dict[str, Callable[[Interval, float], bool]] = {
    # the whole 95 % interval above / below the threshold, or the interval spanning it
    "above": lambda v, x: v.ci_low > x,
    "below": lambda v, x: v.ci_high < x,
    "spans": lambda v, x: v.ci_low <= x <= v.ci_high,
    "within": lambda v, x: -x < v.ci_low and v.ci_high < x,  # the whole interval inside ±x
}


@dataclass(frozen=True)
class Answer:
    """One number a lesson's answer gives: what it measures (in the outputs of the lesson's
    ``command``-th command), the sentence that says it (``{value}`` is the number with its
    interval), and the claim the lesson's words make about it: "above 0", "below 0", "spans 0"
    (no clear difference) or "within 0.05" (the whole interval inside ±5 %)."""

    measure: Callable[[Path], Interval]
    says: str
    claim: str = "above 0"
    unit: str = "percent"
    command: int = 0

    def holds(self, value: Interval) -> bool:
        relation, threshold = self.claim.split()
        if value.ci_low is None:
            return False
        return _CLAIMS[relation](value, float(threshold))


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    commands: tuple[str, ...]
    question: str
    look: str
    answers: tuple[Answer, ...]
    why: str


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "quickstart",
        "The whole loop, and what a fresh label is worth",
        ("run scenarios/quickstart.toml",),
        "Crews invent a new tactic every few days. How much would knowing the truth at once save over "
        "a model that never retrains, and how much of that saving does each way of retraining recover "
        "with the labels it really gets?",
        "*The value of fresh labels* (its finding and its figure), then the ranking by total cost "
        "and *where the cost comes from*: an arm can buy low fraud loss with false declines.",
        (
            Answer(
                headroom(),
                "The oracle (every true label at once) saves {value} of the total cost of `static`, which never "
                "retrains.",
                unit="share",
            ),
            Answer(recovered("online"), "Online learning recovers {value} of that saving.", unit="share"),
            Answer(recovered("batch-daily"), "Daily batch retraining recovers {value}.", unit="share"),
            Answer(recovered("batch-weekly"), "Weekly batch retraining recovers {value}.", unit="share"),
        ),
        "A tactic lives about twelve days. A model that never retrains knows only the tactics of its "
        "history, all dead within weeks; the others learn each new tactic from its labels, and the "
        "sooner a label reaches the model, the more of the tactic's life is left to stop.",
    ),
    Lesson(
        "labels",
        "Where the truth comes from, and when",
        ("run scenarios/labels.toml",),
        "Investigators, cardholders, chargebacks, SMS confirmations and maturity all label transactions. "
        "How much of the fraud has been labelled as fraud a day, a week and a month after it happened — "
        "and how much of the honest traffic?",
        "*How soon the truth arrives* (the label coverage curve), *the class mix a learner sees*, and "
        "*what the team sees and what is true*.",
        (
            Answer(coverage(1), "After a day: {value} of the fraud.", unit="share"),
            Answer(coverage(7), "After a week: {value} of the fraud.", unit="share"),
            Answer(coverage(30), "After a month: {value} of the fraud.", unit="share"),
            Answer(
                coverage(30, "honest"),
                "After a month: {value} of the honest transactions (they are labelled when they mature, 90 days on).",
                "below 0.01",
                unit="share",
            ),
        ),
        "Investigators answer within hours, but only for the alerts they have time for; cardholders "
        "report within days; chargebacks take about a month; some fraud is never reported. Honest "
        "transactions are labelled only when nobody has disputed them for 90 days. So for three "
        "months a learner hears mostly about fraud — the class mix it sees is far from the world's, "
        "and the dashboard's fraud rate is far from the true one.",
    ),
    Lesson(
        "label_delay",
        "The central question: what a slow label costs",
        ("sweep scenarios/sweeps/label_delay.toml",),
        "Chargebacks are the only fraud label here, and cards are blocked on their own clock, so only "
        "what the models know changes. As chargebacks slow from an hour to three months, what happens "
        "to online learning's edge over the model that never retrains, and over weekly batch?",
        "The heat map (each learner against the frozen model at each delay), the trade-off curves by "
        "fraud loss, and the findings that say up to which delay each edge is clear.",
        (
            Answer(
                sweep_difference("online", "static", "1 hour"),
                "At 1-hour chargebacks, online learning's total cost against `static`'s: {value}.",
                "below 0",
            ),
            Answer(
                sweep_difference("online", "static", "90 days"),
                "At 90-day chargebacks: {value}, no clear difference.",
                "spans 0",
            ),
            Answer(
                sweep_difference("online", "batch-weekly", "1 day"),
                "Against weekly batch at 1-day chargebacks: {value}.",
                "below 0",
            ),
            Answer(
                sweep_difference("online", "batch-weekly", "7 days"),
                "Against weekly batch at 7-day chargebacks: {value}, no clear difference: online learning's edge "
                "over weekly batch is clear up to a day's delay and gone at a week's.",
                "spans 0",
            ),
            Answer(
                sweep_change("online", "1 hour", "90 days"),
                "Online learning's fraud loss at 90-day chargebacks against 1-hour ones: {value}.",
            ),
            Answer(
                sweep_difference("batch-daily", "static", "1 hour"),
                "Daily batch against `static` at 1-hour chargebacks: {value}, not clear at this sweep's four "
                "replications.",
                "spans 0",
            ),
        ),
        "A label teaches a model about a tactic only while the tactic lives (about twelve days). An "
        "hour-old chargeback arrives while the tactic is young; a three-month-old one describes a "
        "tactic long dead. Batch retraining adds its own delay, the wait for the next retrain, on top "
        "of the label's: its edge is smaller at every delay, and its saving at short delays varies "
        "from world to world more than four replications can pin down ([docs/calibration.md]"
        "(../docs/calibration.md) measures it at other seeds, over more).",
    ),
    Lesson(
        "cadence",
        "How often to retrain",
        ("run scenarios/cadence.toml",),
        "Batch models retrained daily, weekly and monthly, an online learner and a model that never "
        "retrains face crews that shift their tactics. How much more of the fraud does each stop than "
        "the monthly model?",
        "*What stopped fraud*, *model staleness* (a monthly model ages by a month before each "
        "redeploy), the timeline of retrains, and how long the new scheme of day 25 pays against each "
        "cadence (the crew tactics figure).",
        (
            Answer(
                share_difference("online", "batch-monthly", DECLINED_FRAUD),
                "The share of the fraud value declined, online learning against monthly batch: {value}.",
                unit="points",
            ),
            Answer(
                share_difference("batch-daily", "batch-monthly", DECLINED_FRAUD),
                "Daily batch against monthly batch: {value}.",
                unit="points",
            ),
            Answer(
                share_difference("static", "batch-monthly", DECLINED_FRAUD),
                "The model that never retrains against monthly batch: {value}.",
                "below 0",
                unit="points",
            ),
        ),
        "Each retrain brings in what the labels have said since the last one. Between retrains a "
        "batch model cannot learn the tactics invented since; the crews that follow what pays find "
        "them and stay on them until the next retrain.",
    ),
    Lesson(
        "crews",
        "Adaptive fraudsters",
        ("run scenarios/crews.toml", "sweep scenarios/sweeps/adaptive.toml"),
        "Card testers, probers and bandit crews that move to whatever pays. Do crews that follow what "
        "pays cost the frozen model more than a fixed routine, and does a learner that keeps learning "
        "take it back?",
        "In `crews.toml`'s report the tactic mix shifting after a detector learns (the crew tactics "
        "figure) and the crews' profit; in the sweep's, the heat map of each detector against each "
        "strategy.",
        (
            Answer(
                sweep_change("static", "static", "bandit", "total_cost"),
                "Bandit crews against a fixed routine: the frozen model's total cost changes by {value}.",
                command=1,
            ),
            Answer(
                sweep_difference("online", "static", "bandit"),
                "Against bandit crews, online learning's total cost against the frozen model's: {value}.",
                "below 0",
                command=1,
            ),
            Answer(
                sweep_difference("online", "static", "static"),
                "Against a fixed routine: {value}.",
                "below 0",
                command=1,
            ),
        ),
        "A bandit crew keeps the tactics that get through and drops the ones that are declined: "
        "against a model that never learns, it settles on the holes for good; against a learner, "
        "each hole closes once its labels arrive, and the crew must search again.",
    ),
    Lesson(
        "investigators",
        "Investigator capacity",
        ("run scenarios/investigators.toml", "sweep scenarios/sweeps/investigators.toml"),
        "Investigators' verdicts are the fastest labels there are, and a confirmed fraud blocks the "
        "card. What does going from no investigators to two save, and does a team of eight find more "
        "to review than a team of four?",
        "In `investigators.toml`'s report the investigators figure (utilisation, queue waits, alerts "
        "dropped) and the label sources; in the sweep's, total cost and fraud loss against the team "
        "size.",
        (
            Answer(
                sweep_change("online", "0", "2"),
                "Two investigators against none: online learning's fraud loss changes by {value}.",
                "below 0",
                command=1,
            ),
            Answer(
                sweep_change("online", "0", "2", "total_cost"),
                "Its total cost, the reviews included: {value}, no clear difference: the reviews cost about "
                "what they save.",
                "spans 0",
                command=1,
            ),
            Answer(
                sweep_change("online", "4", "8", "review_cost"),
                "Eight investigators against four: the review cost changes by {value}: four already review "
                "every alert worth reviewing.",
                "within 0.05",
                command=1,
            ),
        ),
        "A verdict within hours blocks a stolen card before its next use and gives the learners a "
        "label days before the cardholder's; but each review costs money, and the alerts worth "
        "reviewing run out before a large team's time does.",
    ),
    Lesson(
        "censoring",
        "A detector is blind to what it declines",
        ("run scenarios/censoring.toml",),
        "A declined transaction is never charged back or reported, so its truth never arrives. What "
        "does that alone cost a learner that otherwise knows everything at once?",
        "The gap between the censored and the uncensored oracle, *what declines hide* (what the models "
        "believed about the declined region, against the truth), and recall as the team sees it "
        "against the truth.",
        (
            Answer(
                difference("oracle-censored", "oracle"),
                "The censored oracle's total cost against the uncensored one's: {value}.",
            ),
        ),
        "What a model declines, it never learns the truth of: if it was right it is never confirmed, "
        "and if it was wrong it never finds out. A censored learner's picture of the declined region "
        "freezes at what it believed when it began declining there; the 5 % of would-be declines "
        "approved at random (exploration) is what lets the report measure it.",
    ),
    Lesson(
        "holiday",
        "Drift on the honest side",
        ("run scenarios/holiday.toml",),
        "From day 30 to day 45 honest customers buy 80 % more, and a breach sold just before the season "
        "puts a thousand more stolen cards on the market. What happens to the honest customers a "
        "detector declines?",
        "Daily false declines (friction) through the season, the drift detector on the score "
        "distribution and its fallbacks to the rules (the timeline), and which learner handles the "
        "season best.",
        (
            Answer(
                period_ratio("static", FALSE_DECLINES, (15, 30), (30, 45)),
                "The share of honest transactions the frozen model declines, in the season against the "
                "fortnight before: {value}.",
                "above 1",
                unit="times",
            ),
            Answer(
                period_ratio("rules", FALSE_DECLINES, (15, 30), (30, 45)),
                "The rules': {value}.",
                "above 1",
                unit="times",
            ),
        ),
        "A model trained before the season has learnt that many purchases a day on one card, and "
        "baskets larger than the card's habit, are signs of fraud; in the season honest customers do "
        "both. The rules' velocity limit declines them too, and they are what a detector falls back "
        "to when its drift alarm fires. Learners that keep learning see the season's honest labels "
        "only when those mature, months later: honest drift is learnt from late labels.",
    ),
    Lesson(
        "failure",
        "Models break",
        ("run scenarios/failure.toml",),
        "On day 20 the online model returns garbage for three days; on day 35 the batch model's amount "
        "feature goes missing for two. Do the drift detectors notice, and who carries the traffic?",
        "The timeline of alarms, fallbacks and recoveries, the daily cost around each fault, and "
        "whether the detectors stay quiet on the healthy arm.",
        (
            Answer(
                share("online", FALLBACK, days=(20, 23)),
                "While the online model returns garbage (days 20–22), the rules decide {value} of its "
                "arm's transactions.",
                "above 0.5",
                unit="share",
            ),
            Answer(
                share("static", FALLBACK),
                "On the healthy `static` arm, over the whole run: {value}.",
                "below 0.01",
                unit="share",
            ),
        ),
        "A model's scores have a shape — most transactions score low, a few high. Garbage scores "
        "change that shape within hours, so a detector watching the median score raises an alarm, "
        "the policy falls back to the rules, and it returns to the model once the signals have looked "
        "healthy for a day.",
    ),
    Lesson(
        "ab_interference",
        "The A/B test before a launch",
        ("run scenarios/ab_interference.toml",),
        "Online learning against weekly batch at 95/5 for two weeks, in one world. How far is what the "
        "test reads on its last day from the truth?",
        "The A/B estimate against the truth day by day, the bias split by source, the crews' share of "
        "attempts on the challenger's cards, and the days the test would need "
        "([docs/abtests.md](../docs/abtests.md)).",
        (
            Answer(
                ab_figure("total_cost", "estimate"),
                "What the test reads on its last day, online learning's total cost per transaction against "
                "weekly batch's (B − A), over the replications: {value}.",
                "spans 0",
                unit="money",
            ),
            Answer(
                ab_figure("total_cost", "truth"),
                "The truth over the same days, with every label known: {value}.",
                "spans 0",
                unit="money",
            ),
            Answer(
                ab_figure("total_cost", "bias"),
                "The read-out minus the truth: {value}.",
                "spans 0",
                unit="money",
            ),
        ),
        "Over these four worlds the read-out leans further towards online learning than the truth over "
        "the same days, but neither of them, nor the gap between them, is clear at four replications: two "
        "weeks at 95/5 is far shorter than the test's own plan asks for (docs/abtests.md). The test "
        "reads the labels that have arrived: fraud on the challenger's cards that is not yet "
        "reported counts as legitimate, a challenger that learns from its 5 % of cards learns from "
        "few labels, and crews that find the challenger's holes bring their fraud to it.",
    ),
    Lesson(
        "friction",
        "At matched friction",
        ("sweep scenarios/sweeps/friction.toml",),
        "Online learning often declines more than batch. Is it cheaper only because it declines more? "
        "Here every arm declines the same share of transactions.",
        "The trade-off curves by fraud loss against the decline rate, and the heat map: at equal "
        "friction, the arm that picks the fraud better loses less.",
        (
            Answer(
                sweep_difference("online", "static", "0.002", "fraud_loss"),
                "Declining 0.2 % of transactions, online learning's fraud loss against `static`'s: {value}.",
                "below 0",
            ),
            Answer(
                sweep_difference("online", "batch-weekly", "0.002", "fraud_loss"),
                "Against weekly batch's: {value}.",
                "below 0",
            ),
            Answer(
                sweep_change("online", "0.001", "0.005", "total_cost"),
                "Online learning's total cost declining 0.5 % of transactions against 0.1 %: {value}: past a "
                "point, each extra decline falls on an honest customer.",
            ),
        ),
        "Declining more stops more fraud and annoys more honest customers; a ranking by total cost "
        "mixes the two. Fixing the share declined separates them: what remains is which transactions "
        "a model picks.",
    ),
    Lesson(
        "maturity",
        "The delay of legitimate labels",
        ("sweep scenarios/sweeps/maturity.toml",),
        "An approved transaction nobody disputes is labelled legitimate when it matures, 90 days on. "
        "What changes when honest labels come after 14 or 30 days instead?",
        "Friction and fraud loss against the maturity window for each arm; the frozen model, which no "
        "label reaches, is the control.",
        (
            Answer(
                sweep_change("online", "90 days", "14 days", "total_cost"),
                "Online learning's total cost with 14-day maturity against 90-day: {value}.",
                "below 0",
            ),
            Answer(
                sweep_change("batch-weekly", "90 days", "14 days", "total_cost"),
                "Weekly batch's: {value}.",
                "below 0",
            ),
            Answer(
                sweep_change("online", "90 days", "14 days", "fraud_loss"),
                "Online learning's fraud loss, same comparison: {value}: the fraud labelled legitimate before "
                "its chargeback came did not clearly cost.",
                "spans 0",
            ),
        ),
        "Honest customers drift slowly (a few per cent a month change their habits), so a 90-day-old "
        "honest label still says most of what a fresh one would: fresher honest labels buy a few per "
        "cent, where hour-old fraud labels put online learning a fifth below the frozen model (lesson "
        "3), for fraud tactics live about twelve days. Weekly batch gains the most: with 90-day "
        "maturity its 60-day window holds honest transactions three to five months old beside fraud "
        "from the last weeks; with 14-day maturity both come from the same weeks. A shorter window "
        "also labels as legitimate the fraud whose chargeback comes after it (label noise), which costs "
        "little as long as most fraud labels arrive first.",
    ),
)


@dataclass(frozen=True)
class Table:
    """A sweep's arms against ``baseline`` in ``measure`` at every point (paired, relative)."""

    arms: tuple[str, ...]
    baseline: str
    measure: str = "total_cost"
    command: int = 0


@dataclass(frozen=True)
class Section:
    title: str
    text: str
    table: Table | None
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Closing:
    key: str
    title: str
    intro: str
    commands: tuple[str, ...]
    sections: tuple[Section, ...]
    outro: str


_LEARNED = ("online", "batch-daily", "batch-weekly")

CLOSING = Closing(
    "closing",
    "When does online learning pay, and why",
    "The course's sweeps, read together. Every number is a paired difference against the model that "
    "never retrains (`static`) or, where said, another arm: the mean over the sweep's replications "
    "with its 95 % interval, as a share of the other arm's figure; negative is cheaper. Measured by "
    "`make course` on the code this page describes.",
    (
        "sweep scenarios/sweeps/label_delay.toml",
        "sweep scenarios/sweeps/friction.toml",
        "sweep scenarios/sweeps/maturity.toml",
        "sweep scenarios/sweeps/adaptive.toml",
    ),
    (
        Section(
            "It pays when the labels are fresh",
            "Total cost against `static` as chargebacks slow (`fraudsim sweep "
            "scenarios/sweeps/label_delay.toml`). A label is worth something only while the tactic it "
            "describes is alive, about twelve days here: the online learner, which uses each label as "
            "it arrives, gains most from fresh ones, and once labels arrive after the tactics have "
            "died no edge is clear. Batch retraining waits for its next retrain as well, so at short "
            "delays its edge is smaller than online learning's.",
            Table(_LEARNED, "static"),
            (
                Answer(
                    sweep_difference("online", "batch-weekly", "1 hour"),
                    "At 1-hour chargebacks, online learning against weekly batch: {value}.",
                    "below 0",
                ),
                Answer(
                    sweep_difference("online", "batch-weekly", "90 days"),
                    "At 90-day chargebacks: {value}.",
                    "spans 0",
                ),
            ),
        ),
        Section(
            "It pays by picking the fraud, not by declining more",
            "Fraud loss against `static` when every arm declines the same share of transactions "
            "(`fraudsim sweep scenarios/sweeps/friction.toml`). With the friction fixed, what is left is "
            "which transactions a model declines: the online learner, which knows this week's tactics, "
            "spends its declines on them and loses less to fraud at every rate; a week-old model spends "
            "part of its declines on tactics that have moved on.",
            Table(("online", "batch-weekly"), "static", "fraud_loss", 1),
            (),
        ),
        Section(
            "Honest labels matter less than fraud labels",
            "Total cost against `static` as legitimate labels mature sooner (`fraudsim sweep "
            "scenarios/sweeps/maturity.toml`). Online learning's edge hardly moves with the delay of "
            "honest labels, where it moved with the delay of fraud labels in the first table: honest "
            "customers change slowly, so a three-month-old honest label is still mostly true, while a "
            "fraud label is worth something only while its tactic lives. Weekly batch gains a few points "
            "when honest labels come sooner, as its honest training rows then describe the same weeks as "
            "its fraud rows (lesson 12).",
            Table(("online", "batch-weekly"), "static", "total_cost", 2),
            (),
        ),
        Section(
            "It pays against crews that adapt",
            "Total cost against `static` for each crew strategy (`fraudsim sweep "
            "scenarios/sweeps/adaptive.toml`). Against bandit crews, which move to whatever the model "
            "lets through, a learner closes each hole once its labels arrive, while the frozen model "
            "keeps it open for good. Card testers and probers make the worlds vary more than eight "
            "replications can pin down.",
            Table(("online", "batch-weekly", "rules"), "static", "total_cost", 3),
            (),
        ),
    ),
    "Before a launch, an A/B test reads these differences from the labels that have arrived, on a "
    "small share of the cards, in a world the arms share: lesson 10 of the course and "
    "[docs/abtests.md](abtests.md) show how far its answer can fall from the truth.",
)

__all__ = ["CLOSING", "LESSONS", "Answer", "Lesson"]
