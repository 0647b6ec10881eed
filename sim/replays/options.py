"""A replay's options, checked together: the stream's columns, the learners and the settings,
from the values ``fraudsim replay`` and :func:`sim.replay` take (the same names, the same
defaults, the same messages). A bad combination raises :class:`ReplayError` without a file."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..schema import CURRENCIES, Policy
from ..units import format_duration, parse_duration
from .stream import (
    REPLAY_LEARNERS,
    LabelDelay,
    ReplayError,
    StreamSpec,
    arm_from_options,
    default_arms,
    load_arms,
    load_delay_file,
    stream_roles,
)

DEFAULT_TICK = "15m"  # tick, in batch mode only
MONEY_OPTIONS = ("fraud_fee", "decline_fixed", "decline_rate", "currency")  # only with an amount column
DEFAULTS: dict[str, Any] = {
    "top_k": 100,
    "score_from": "0s",
    "seed": 0,
    "history": "0s",
    "threshold": 0.5,
    "fraud_fee": Policy().fraud_fee,
    "decline_fixed": Policy().decline_fixed,
    "decline_rate": Policy().decline_rate,
    "currency": "EUR",
}


# The numbers' ranges (the command line's option types check the same).
RANGES = {
    "top_k": (1, 1_000_000),
    "seed": (0, 2**32 - 1),
    "threshold": (0.0, 1.0),
    "fraud_fee": (0.0, math.inf),
    "decline_fixed": (0.0, math.inf),
    "decline_rate": (0.0, 1.0),
}


@dataclass(frozen=True)
class Prepared:
    """What a replay runs: the stream's columns, the learners and the settings."""

    spec: StreamSpec
    arms: list
    settings: Any  # sim.replays.run.ReplaySettings


def _fail(message: str) -> ReplayError:
    return ReplayError(None, message)


def duration(option: str, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise _fail(f"{option}: {error}") from None


def label_delay(delay: str | None, column: str | None) -> LabelDelay:
    if delay is not None and column is not None:
        raise _fail("give the label delay once: --delay or --delay-column, not both")
    if column is not None:
        return LabelDelay(column=column)
    if delay is None:
        raise _fail(
            "give the label delay: --delay-column COL (seconds per row), a constant such as "
            "--delay 7d (or --delay 0s), or a distribution file: --delay delays.toml"
        )
    if delay.lower().endswith(".toml") or _is_file(delay):
        return load_delay_file(delay)
    try:
        seconds = parse_duration(delay)
    except ValueError as error:
        raise _fail(f"--delay: {error}; or give a delay distribution file (.toml)") from None
    return LabelDelay(constant_s=seconds)


def file_roles(stream: str | Path | None, time: str | None, label: str | None) -> dict | None:
    """The column roles ``stream`` names itself (a stream fraudsim wrote), to fill the options
    not given; None when ``time`` and ``label`` are given, or the file names none."""
    if time is not None and label is not None:
        return None
    roles = None if stream is None else stream_roles(stream)
    if roles is None:
        missing = " and ".join(f"--{role} COL" for role, given in (("time", time), ("label", label)) if given is None)
        raise _fail(
            f"give {missing} (the stream's time and label columns); only a stream fraudsim wrote "
            "(--ledger: streams/ in the run directory) names its own columns"
        )
    return roles


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:  # a name too long to be a file's
        return False


def learners(arms_file: str | None, learner: str | None, name: str | None, options: dict, warm: bool) -> list:
    given = {key: value for key, value in options.items() if value is not None}
    if arms_file is not None:
        if learner is not None or given:
            raise _fail("--arms FILE describes every learner; leave out --learner and its options")
        return load_arms(arms_file, warm)
    if learner is None:
        if name is not None:
            raise _fail("--name names the learner of --learner; give --learner too")
        if given:
            option = "--" + next(iter(given)).replace("_", "-")
            raise _fail(f"{option} needs --learner (one of: {', '.join(REPLAY_LEARNERS)})")
        return list(default_arms(warm))
    return [arm_from_options(learner, name, warm, **given)]


def prepare(
    *,
    stream: str | Path | None = None,
    time: str | None = None,
    label: str | None = None,
    delay: str | None = None,
    delay_column: str | None = None,
    amount: str | None = None,
    card: str | None = None,
    features: str | list[str] | None = None,
    top_k: int | None = None,
    score_from: str | None = None,
    score_until: str | None = None,
    skip_known_cards: bool = False,
    seed: int | None = None,
    learner: str | None = None,
    name: str | None = None,
    arms: str | None = None,
    history: str | None = None,
    batch: bool = False,
    tick: str | None = None,
    threshold: float | None = None,
    fraud_fee: float | None = None,
    decline_fixed: float | None = None,
    decline_rate: float | None = None,
    currency: str | None = None,
    learner_options: dict | None = None,
) -> Prepared:
    """Check the options together and build what the replay runs. None means "not given": the
    default in :data:`DEFAULTS` applies, and options that need another (money without
    ``amount``, ``top_k`` without ``card``) are refused only when given. Without ``time`` or
    ``label``, the columns ``stream`` (a file) names itself, and its history, fill the
    column options and ``history`` not given (:func:`file_roles`)."""
    args = dict(locals())  # the signature's values, before any other name is bound
    roles = file_roles(stream, time, label)
    if roles is not None:
        time, label = time or roles["time"], label or roles["label"]
        if delay is None and delay_column is None:
            delay_column = roles["delay_column"]
        amount, card = amount or roles["amount"], card or roles["card"]
        features = roles["features"] if features is None else features
        if history is None and roles["history_s"]:
            args["history"] = format_duration(roles["history_s"])
    from .run import ReplaySettings

    given = {key for key in DEFAULTS if args[key] is not None}
    value = DEFAULTS | {key: args[key] for key in given}
    for key, (low, high) in RANGES.items():
        number, whole = value[key], key in ("top_k", "seed")
        kind = int if whole else int | float
        if (
            isinstance(number, bool)
            or not isinstance(number, kind)
            or not math.isfinite(number)
            or not low <= number <= high
        ):
            allowed = f"{'a whole' if whole else 'a finite'} number " + (
                f"from {low:g} to {high:g}" if math.isfinite(high) else f"of at least {low:g}"
            )
            raise _fail(f"--{key.replace('_', '-')}: {number!r} is not {allowed}")
    if value["currency"] not in CURRENCIES:
        raise _fail(f"--currency: {value['currency']!r} is not one of {', '.join(CURRENCIES)}")
    money = [f"--{key.replace('_', '-')}" for key in MONEY_OPTIONS if key in given]
    if money and amount is None:
        raise _fail(
            f"{', '.join(money)} only apply with --amount COL (the column of amounts that money "
            "metrics are computed from); add --amount or leave them out"
        )
    if "top_k" in given and card is None:
        raise _fail(
            "--top-k only applies with --card COL (card precision@k ranks cards, not rows); add --card "
            "or leave out --top-k"
        )
    if skip_known_cards and card is None:
        raise _fail("--skip-known-cards needs --card COL (the column that says whose card a row is)")
    window = (
        duration("--score-from", value["score_from"]),
        float("inf") if score_until is None else duration("--score-until", score_until),
    )
    if window[1] <= window[0]:
        raise _fail("--score-until must come after --score-from (both count from the history's end)")
    if tick is not None and not batch:
        raise _fail(
            "--tick only applies with --batch (the exact mode replays row by row, without ticks); "
            "add --batch or leave out --tick"
        )
    history_s = duration("--history", value["history"])
    tick_s = duration("--tick", DEFAULT_TICK if tick is None else tick)
    if tick_s <= 0:
        raise _fail("--tick must be longer than 0s")
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",")]
    spec = StreamSpec(
        time=time,
        label=label,
        delay=label_delay(delay, delay_column),
        amount=amount,
        card=card,
        features=None if features is None else tuple(f for f in features if f),
    )
    chosen = learners(arms, learner, name, dict(learner_options or {}), warm=history_s > 0)
    settings = ReplaySettings(
        mode="batch" if batch else "exact",
        tick=tick_s,
        history=history_s,
        threshold=value["threshold"],
        currency=value["currency"],
        seed=value["seed"],
        top_k=value["top_k"],
        score_from=window[0],
        score_until=window[1],
        skip_known_cards=skip_known_cards,
        policy=Policy(
            fraud_fee=value["fraud_fee"], decline_fixed=value["decline_fixed"], decline_rate=value["decline_rate"]
        ),
    )
    return Prepared(spec, chosen, settings)
