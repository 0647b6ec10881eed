"""The ``fraudsim replay`` command: a recorded stream through the learners (docs/replay.md).

It parses arguments and calls :func:`sim.replays.replay`; bad input exits with status 2
and one message naming the file, the column and the first offending row. ``main(argv)`` runs
it in-process and returns the exit status.
"""

from __future__ import annotations

import math
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..console import UserError, err, out, out_option, printable, quiet_option, run_command
from ..outputs import REPLAY_MARKERS, check_output_dir
from ..scenario import ScenarioError
from ..schema import CURRENCIES, Policy
from .options import DEFAULT_TICK, prepare
from .stream import REPLAY_LEARNERS, ReplayError

EXAMPLES = """
\b
Examples:
  fraudsim replay reports/quickstart/streams/static-r0.parquet
  fraudsim replay export.csv --time ts --label is_fraud --delay 30d
  fraudsim replay export.parquet --time ts --label is_fraud --delay-column label_delay_s --amount amount
  fraudsim replay export.csv --time ts --label is_fraud --delay delays.toml --arms arms.toml
  fraudsim replay export.csv --time ts --label is_fraud --delay 7d --learner online --no-scaling --batch

\b
A stream fraudsim wrote (run --ledger: streams/ in the run directory) names its own time,
label, label delay, amount, card and feature columns.

\b
Without --learner or --arms, an online learner (river's logistic regression) and a weekly
batch retrain (scikit-learn, on the labels of the last 60 days) are compared.
"""


# Command-line options that fill an arm's keys (as in a scenario's [[arms]]).
ARM_OPTIONS = {
    "model": ("NAME", "logistic, hoeffding_tree, forest (online); logistic, gbm (batch, hybrid, split, static)"),
    "optimizer": ("NAME", "online: sgd or adam"),
    "lr": ("NUMBER", "online: learning rate per label [default: river's, 0.01; with --history 0.002]"),
    "intercept_lr": ("NUMBER", "online: learning rate of the intercept [default: river's, 0.01; with --history 0.002]"),
    "trees": ("N", "online forest: number of trees"),
    "negative_share": ("SHARE", "online trees: share of legitimate labels learned"),
    "reweight": ("NAME", "online: none or prior (weight labels by long-run over recent fraud share)"),
    "reweight_window": ("DURATION", "online: half-life of the recent share for --reweight prior"),
    "every": ("DURATION", "batch: time between retrains, e.g. 7d"),
    "window": ("DURATION", "batch: train on the labels that arrived within this window, e.g. 60d"),
    "deploy_lag": ("DURATION", "batch: time from a retrain to its model scoring, e.g. 1d"),
    "halflife": (
        "DURATION|none",
        "batch: half-life of a training row's weight by its age [default: none: equal]; "
        "online laplace: half-life of the evidence",
    ),
    "max_rows": ("N", "batch: cap on training rows (negatives subsampled and reweighted above it)"),
    "class_weight": ("NUMBER|balanced", "batch: weight of fraud labels when fitting"),
    "recalibration_lr": ("NUMBER", "hybrid: learning rate of the online recalibration"),
    "feedback_window": ("DURATION", "split: window of the feedback model"),
    "feedback_weight": ("SHARE", "split: weight of the feedback model"),
}


def _arm_options(command):
    for key, (metavar, text) in reversed(ARM_OPTIONS.items()):
        command = click.option("--" + key.replace("_", "-"), key, metavar=metavar, default=None, help=text)(command)
    return click.option(
        "--scaling/--no-scaling",
        "scaling",
        default=None,
        help="online logistic: standardise features online first [default: on]",
    )(command)


class FiniteRange(click.FloatRange):
    """A float range that also refuses ``nan`` (which every comparison lets through) and ``inf``."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def _print_metrics(summary: dict) -> None:
    from ..units import short_money

    window, scored = summary["evaluation"], summary["stream"]["scored_rows"]
    counted = f", metrics on {window['counted_rows']:,}" if window["counted_rows"] < scored else ""
    table = Table(title=f"{scored:,} rows replayed ({summary['mode']}{counted})", header_style="bold")
    money = summary["stream"]["amount_column"] is not None
    k = summary["top_k"]
    columns = (
        ["learner", "log loss", "ROC AUC", "AP"]
        + ([f"CP@{k}"] if k else [])
        + ["recall", "ECE"]
        + (["total cost"] if money else [])
    )

    def number(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    for column in columns:
        table.add_column(column, justify="left" if column == "learner" else "right")
    for name, entry in summary["metrics"].items():
        cells = [name, f"{entry['log_loss']:.4f}", number(entry["roc_auc"]), number(entry["average_precision"])]
        cells += [number(entry["card_precision"])] if k else []
        cells += [number(entry["recall"]), f"{entry['ece']:.4f}"]
        if money:
            cells.append(short_money(entry["total_cost"], summary["currency"]))
        table.add_row(*cells)
    for key, name in (("approve_all", "(approve all)"), ("constant_score", "(no model)")):
        if summary.get("baselines"):
            cost = short_money(summary["baselines"][key]["total_cost"], summary["currency"])
            table.add_row(name, *["–"] * (len(columns) - 2), cost, style="dim")
    out.print(table)


@click.command(
    "replay", epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.argument("stream", type=click.Path(dir_okay=True))
@click.option(
    "--time",
    "time_column",
    metavar="COL",
    help="Time column: seconds, or ISO 8601 timestamps [default: the column a stream fraudsim wrote names].",
)
@click.option(
    "--label",
    "label_column",
    metavar="COL",
    help="Label column: 0/1 or true/false (1: fraud) [default: the column a stream fraudsim wrote names].",
)
@click.option("--features", metavar="COL,...", help="Feature columns, in order [default: every other numeric column].")
@click.option("--amount", "amount_column", metavar="COL", help="Amount column: adds money metrics (counterfactual).")
@click.option(
    "--card",
    "card_column",
    metavar="COL",
    help="Card column (numbers or text): adds card precision@k, the fraudulent share of the k cards with "
    "the highest score each day.",
)
@click.option(
    "--top-k",
    type=click.IntRange(1, 1_000_000),
    default=100,
    show_default=True,
    help="k of card precision@k: the cards investigators check a day (with --card).",
)
@click.option(
    "--score-from",
    default="0s",
    show_default=True,
    metavar="DURATION",
    help="Metrics count rows from this long after the history's end (every row still flows through the learners).",
)
@click.option(
    "--score-until",
    default=None,
    metavar="DURATION",
    help="Metrics count rows until this long after the history's end [default: the stream's end].",
)
@click.option(
    "--skip-known-cards",
    is_flag=True,
    help="Metrics leave out rows of cards already known to be compromised (a fraud label of theirs has "
    "arrived), as the Fraud Detection Handbook does (with --card).",
)
@click.option(
    "--delay",
    metavar="DURATION|FILE",
    help="Label delay: a constant (7d, 0s) or a TOML file with a `delay` distribution.",
)
@click.option("--delay-column", metavar="COL", help="Label delay per row, in seconds (inf: never arrives).")
@click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Seed of seeded models (trees, forests, gradient boosting); drawn delays use their file's seed.",
)
@click.option("--learner", type=click.Choice(REPLAY_LEARNERS), help="One learner, configured by the options below.")
@click.option("--name", metavar="NAME", help="The learner's name [default: the learner].")
@_arm_options
@click.option("--arms", "arms_file", metavar="FILE", help="A TOML file of [[arms]] to compare (as in a scenario).")
@click.option(
    "--history",
    metavar="DURATION",
    help="Learners start from a model of the stream's first DURATION, which is not scored "
    "[default: a stream fraudsim wrote: its history; else 0s].",
)
@click.option(
    "--batch", is_flag=True, help="Micro-batch mode: labels and scores per --tick (fast; see docs/replay.md)."
)
@click.option(
    "--tick", default=None, metavar="DURATION", help=f"Micro-batch length; only with --batch [default: {DEFAULT_TICK}]."
)
@click.option(
    "--threshold",
    type=FiniteRange(0, 1),
    default=0.5,
    show_default=True,
    help="Score at which recall and specificity flag a row.",
)
@click.option(
    "--fraud-fee",
    type=FiniteRange(0),
    default=Policy().fraud_fee,
    show_default=True,
    help="Money: cost of a fraud on top of its amount.",
)
@click.option(
    "--decline-fixed",
    type=FiniteRange(0),
    default=Policy().decline_fixed,
    show_default=True,
    help="Money: fixed cost of declining a legitimate transaction.",
)
@click.option(
    "--decline-rate",
    type=FiniteRange(0, 1),
    default=Policy().decline_rate,
    show_default=True,
    help="Money: cost of a false decline per unit of amount.",
)
@click.option(
    "--currency",
    type=click.Choice(CURRENCIES),
    default="EUR",
    show_default=True,
    help="Currency of the amounts (as in a scenario's `currency`).",
)
@out_option("reports/replay-<stream>")
@click.option("--no-report", is_flag=True, help="Write the tables but not index.html.")
@quiet_option
def replay_command(
    stream,
    time_column,
    label_column,
    features,
    amount_column,
    card_column,
    top_k,
    score_from,
    score_until,
    skip_known_cards,
    delay,
    delay_column,
    seed,
    learner,
    name,
    scaling,
    arms_file,
    history,
    batch,
    tick,
    threshold,
    fraud_fee,
    decline_fixed,
    decline_rate,
    currency,
    out_dir,
    no_report,
    quiet,
    **arm_options,
) -> None:
    """Replay a recorded transaction STREAM (CSV or Parquet) through the learners with its label delays."""
    from ..api.replays import replay_prepared

    context = click.get_current_context()

    def given(name: str, value):
        """The value when the command line gave it, else None (the default applies)."""
        return value if context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE else None

    try:
        prepared = prepare(
            stream=stream,
            time=time_column,
            label=label_column,
            delay=delay,
            delay_column=delay_column,
            amount=amount_column,
            card=card_column,
            features=features,
            top_k=given("top_k", top_k),
            score_from=score_from,
            score_until=score_until,
            skip_known_cards=skip_known_cards,
            seed=seed,
            learner=learner,
            name=name,
            arms=arms_file,
            history=given("history", history),
            batch=batch,
            tick=tick,
            threshold=threshold,
            fraud_fee=given("fraud_fee", fraud_fee),
            decline_fixed=given("decline_fixed", decline_fixed),
            decline_rate=given("decline_rate", decline_rate),
            currency=given("currency", currency),
            learner_options={**arm_options, "scaling": scaling},
        )
        target = Path(out_dir) if out_dir else Path("reports") / f"replay-{Path(stream).stem}"
        check_output_dir(target, REPLAY_MARKERS)  # before the replay, not after it
        announce = None if quiet else lambda line: err.print(escape(printable(line)), soft_wrap=True)
        result = replay_prepared(stream, prepared, progress=not quiet, announce=announce)
        result.save(target, report=not no_report)
    except (ReplayError, ScenarioError) as error:
        raise UserError(str(error)) from None
    summary = result.summary
    for warning in summary["warnings"]:
        err.print(f"[bold yellow]warning:[/] {warning}", soft_wrap=True)
    if not quiet:
        _print_metrics(summary)
        out.print(f"Wrote [bold]{target / ('index.html' if not no_report else '')}[/]", soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Run ``fraudsim replay`` with ``argv`` in-process; return the exit status."""
    return run_command(replay_command, list(argv or []), "fraudsim replay")
