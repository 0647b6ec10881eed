"""Recorded transaction streams: read, check and put in time order (docs/replay.md).

This is the only module that reads replay streams. A stream is a CSV or Parquet file with one
row per transaction: a time (seconds, or ISO 8601 timestamps), a 0/1 label, numeric features
and, optionally, an amount and a column of label delays in seconds. Every problem becomes a
:class:`ReplayError` that names the file, the column and the first offending row, counted from
0 as in ``predictions.parquet`` (and, for CSV, its line in the file).

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
>>> _ = path.write_text("ts,x,fraud\\n20,0.5,0\\n10,1.5,1\\n10,0.2,0\\n")
>>> stream = read_stream(path, StreamSpec(time="ts", label="fraud", delay=LabelDelay(constant_s=60.0)))
>>> stream.row.tolist(), stream.time.tolist(), stream.features, stream.label_at.tolist()
([1, 2, 0], [10.0, 10.0, 20.0], ('x',), [70.0, 70.0, 80.0])
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from ..export import ROLES_KEY
from ..feedback.delays import DelayDistribution, build_delay
from ..scenario import ScenarioError, read_toml, validate_model
from ..schema import Arm, BatchArm, Delay, OnlineArm, OracleArm, Strict
from ..units import YEAR, format_duration

__all__ = [
    "LabelDelay",
    "ReplayError",
    "Stream",
    "StreamSpec",
    "arm_from_options",
    "load_arms",
    "load_delay_file",
    "read_stream",
    "stream_roles",
]

MAX_FEATURE = 1e15  # squares and sums of squares stay far from float64's limit
MAX_SPAN = 100 * YEAR  # retrain schedules and daily tables grow with the span
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
TIMESTAMP_FORMATS = (
    "%+",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
TIMESTAMP_HELP = "write seconds, or ISO 8601 timestamps such as 2024-03-01T12:00:00 or 2024-03-01T12:00:00+01:00"


class ReplayError(Exception):
    """A problem with a replay stream or its options, for people to read."""

    def __init__(
        self,
        file: str | Path | None,
        message: str,
        column: str | None = None,
        row: int | None = None,
        csv: bool = False,
    ):
        self.file = None if file is None else str(file)
        self.column, self.row, self.message = column, row, message
        where = self.file or ""
        if column is not None:
            where += f": column {column!r}"
        if row is not None:
            where += f", row {row}" + (f" (line {row + 2})" if csv else "")
        super().__init__(f"{where}: {message}" if where else message)  # no file: the options are at fault


@dataclass(frozen=True)
class LabelDelay:
    """When each row's label arrives: a constant, a column of seconds, or a distribution drawn per
    row (in file order, from ``seed``). A delay of ``inf`` means the label never arrives.

    >>> LabelDelay(constant_s=604800.0).description
    'constant 7d'
    """

    constant_s: float | None = None
    column: str | None = None
    distribution: DelayDistribution | None = None
    seed: int = 0
    source: str = ""

    def __post_init__(self) -> None:
        given = sum(x is not None for x in (self.constant_s, self.column, self.distribution))
        if given != 1:
            raise ValueError("give exactly one of a constant delay, a delay column and a delay distribution")
        if self.constant_s is not None and not self.constant_s >= 0:
            raise ValueError(f"a label delay must be 0s or longer, got {self.constant_s!r}")

    @property
    def description(self) -> str:
        if self.constant_s is not None:
            return f"constant {format_duration(self.constant_s)}"
        if self.column is not None:
            return f"per row, column {self.column!r} (seconds)"
        return f"drawn per row from {self.source or 'a distribution'} (seed {self.seed})"


@dataclass(frozen=True)
class StreamSpec:
    """Which columns play which part; ``features=None`` takes every other numeric column."""

    time: str
    label: str
    delay: LabelDelay
    features: tuple[str, ...] | None = None
    amount: str | None = None
    card: str | None = None


@dataclass(frozen=True, eq=False)
class Stream:
    """A checked stream in time order (ties in file order); ``row`` is each row's position in the file."""

    path: str
    spec: StreamSpec
    row: np.ndarray  # int64
    time: np.ndarray  # float64 seconds (since 1970-01-01 UTC for timestamps), ascending
    label: np.ndarray  # int8, 0 or 1
    delay: np.ndarray  # float64 seconds, >= 0, inf = never
    X: np.ndarray  # float64 (rows, features), C order
    features: tuple[str, ...]
    excluded: dict[str, str]  # columns left out of the default features, with the reason
    amount: np.ndarray | None
    timestamps: bool  # the time column held timestamps, not seconds
    card: np.ndarray | None = None  # int64 codes of the card column (equal cards, equal codes)

    def __len__(self) -> int:
        return len(self.time)

    @property
    def label_at(self) -> np.ndarray:
        """When each row's label arrives, in the same seconds as ``time``."""
        return self.time + self.delay


class _DelayFile(Strict):
    """A label-delay file: a scenario-style `delay` table and the seed its draws come from."""

    delay: Delay
    seed: int = 0


def load_delay_file(path: str | Path) -> LabelDelay:
    """A :class:`LabelDelay` drawn from the distribution in a TOML file such as::

        seed = 7
        delay = { dist = "lognormal", median = "30d", sigma = 0.67 }

    Raises :class:`~sim.scenario.ScenarioError` naming the file and the key.
    """
    spec = validate_model(_DelayFile, read_toml(path), path)
    return LabelDelay(
        distribution=build_delay(spec.delay), seed=spec.seed, source=f"{spec.delay.dist} in {Path(path).name}"
    )


# --------------------------------------------------------------------------- learners

REPLAY_LEARNERS = ("online", "batch", "hybrid", "split", "static", "oracle")
# Replays keep river's logistic model (their exact mode is river's own delayed progressive validation).
# A cold replay starts as river does, with river's own learning rates. A replay with a --history
# warm-starts it from the history's fit, whose weights are already good: river's 0.01 then only adds
# noise (on a stationary stream it ended below the static model, log loss 0.0248 against 0.0236),
# so it takes the simulator's 0.002 for warm-started learners (docs/replay.md).
RIVER_DEFAULTS = {"model": "logistic", "lr": 0.01, "intercept_lr": 0.01}
WARM_DEFAULTS = {"model": "logistic", "lr": 0.002, "intercept_lr": 0.002}


def default_arms(warm: bool = False) -> tuple[Arm, ...]:
    """The learners of a replay without --learner or --arms: online learning and weekly retraining."""
    return (
        OnlineArm(name="online", **(WARM_DEFAULTS if warm else RIVER_DEFAULTS)),
        BatchArm(name="batch-weekly", every="7d", window="60d"),
    )


class _ArmsFile(Strict):
    """An arms file: `[[arms]]` tables as in a scenario, and optionally a name and a description."""

    name: str | None = None
    description: str = ""
    arms: list[Arm] = Field(min_length=1)


def _river_defaults(entry: object, warm: bool = False) -> object:
    if isinstance(entry, dict) and entry.get("learner") == "online":
        return {**(WARM_DEFAULTS if warm else RIVER_DEFAULTS), **entry}
    return entry


def _check_arms(arms: list[Arm], file: str | Path) -> list[Arm]:
    seen: set[str] = set()
    for arm in arms:
        if arm.name in seen:
            raise ScenarioError(file, f"arms.{arm.name}", "two arms have this name; names must be unique")
        seen.add(arm.name)
        if arm.learner not in REPLAY_LEARNERS:
            raise ScenarioError(
                file,
                f"arms.{arm.name}.learner",
                f"{arm.learner!r} cannot replay a recorded "
                f"stream (it needs the simulator's features); use one of: {', '.join(REPLAY_LEARNERS)}",
            )
        if isinstance(arm, OracleArm) and arm.censored:
            raise ScenarioError(file, f"arms.{arm.name}.censored", "a replay has no decisions to censor; remove it")
    return arms


def load_arms(path: str | Path, warm: bool = False) -> list[Arm]:
    """The arms of an arms file (`[[arms]]` tables, as in a scenario); online logistic arms take
    river's default learning rates unless the file sets them (``warm``, with a history: 0.002)."""
    raw = read_toml(path)
    if isinstance(raw.get("arms"), list):
        raw = {**raw, "arms": [_river_defaults(entry, warm) for entry in raw["arms"]]}
    return _check_arms(validate_model(_ArmsFile, raw, path).arms, path)


def arm_from_options(learner: str, name: str | None = None, warm: bool = False, **options: object) -> Arm:
    """One arm from command-line options (``None`` values left out), checked like an arms file entry.

    >>> arm = arm_from_options("online", scaling=False, lr=None)
    >>> arm.name, arm.lr, arm.intercept_lr, arm.scaling  # river's LogisticRegression() defaults
    ('online', 0.01, 0.01, False)
    >>> arm_from_options("online", every="7d")
    Traceback (most recent call last):
    ...
    sim.scenario.ScenarioError: command line: --every: does not apply to --learner online
    """
    raw = _river_defaults(
        {
            "learner": learner,
            "name": name or learner,
            **{key: value for key, value in options.items() if value is not None},
        },
        warm,
    )
    try:
        arm = validate_model(_ArmsFile, {"arms": [raw]}, "command line").arms[0]
    except ScenarioError as error:
        option = "--" + error.key.rsplit(".", 1)[-1].replace("_", "-")
        if error.message.startswith("unknown key"):
            unknown = error.message.split("'")[1]
            raise ScenarioError(
                "command line", "--" + unknown.replace("_", "-"), f"does not apply to --learner {learner}"
            ) from None
        raise ScenarioError("command line", option, error.message) from None
    return _check_arms([arm], "command line")[0]


# --------------------------------------------------------------------------- reading

ROLE_NAMES = ("time", "label", "delay_column", "amount", "card", "features")


def stream_roles(path: str | Path) -> dict[str, object] | None:
    """The columns a stream fraudsim wrote (``--ledger``: ``streams/``) names for each part of a
    replay, and the seconds of its history (``history_s``), from its Parquet metadata; None for
    any other file (its roles must be given)."""
    path = Path(path)
    if FORMATS.get(path.suffix.lower()) != "parquet" or not path.is_file():
        return None
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError):
        return None  # reading the stream says what is wrong with it
    if ROLES_KEY not in metadata:
        return None
    try:
        roles = json.loads(metadata[ROLES_KEY])
    except ValueError:
        roles = None
    if not isinstance(roles, dict):
        roles = {}
    features, history = roles.get("features"), roles.get("history_s", 0.0)
    if (
        not all(isinstance(roles.get(key), str) for key in ROLE_NAMES[:-1])
        or not isinstance(features, list)
        or not all(isinstance(f, str) for f in features)
        or isinstance(history, bool)
        or not isinstance(history, int | float)
        or not 0 <= history < MAX_SPAN
    ):
        raise ReplayError(
            path,
            f"its metadata {ROLES_KEY.decode()!r} is damaged: it must name the "
            f"{', '.join(ROLE_NAMES[:-1])} columns, list the features and give history_s, the "
            "history's seconds; give the columns as options instead",
        )
    return {**{key: roles[key] for key in ROLE_NAMES[:-1]}, "features": tuple(features), "history_s": float(history)}


def _read(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise ReplayError(path, "no such file")
    if path.is_dir():
        raise ReplayError(path, "is a directory; give a .csv or .parquet file")
    if not path.is_file():
        raise ReplayError(path, "is not a regular file (a pipe, device or socket); give a .csv or .parquet file")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ReplayError(path, f"unknown file type {path.suffix!r}; give a .csv or .parquet file")
    if path.stat().st_size == 0:
        raise ReplayError(path, "is empty; a stream needs a header and at least one row")
    try:
        if kind == "csv":
            return pl.read_csv(path, infer_schema_length=None)
        return pl.read_parquet(path)
    except pl.exceptions.NoDataError:
        raise ReplayError(path, "is empty; a stream needs a header and at least one row") from None
    except (pl.exceptions.PolarsError, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ReplayError(path, f"cannot be read as {kind.upper()}: {first}") from None


class _Checker:
    """Column checks that report the first offending row."""

    def __init__(self, path: Path, frame: pl.DataFrame):
        self.path, self.frame, self.csv = path, frame, FORMATS[path.suffix.lower()] == "csv"

    def fail(self, column: str | None, message: str, mask: np.ndarray | None = None) -> None:
        row = None if mask is None else int(np.flatnonzero(mask)[0])
        if row is not None and column is not None:
            message = f"{self.frame[column][row]!r} {message}" if self.frame[column][row] is not None else message
        raise ReplayError(self.path, message, column, row, self.csv)

    def column(self, name: str, role: str) -> pl.Series:
        if name not in self.frame.columns:
            close = difflib.get_close_matches(name, self.frame.columns, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ReplayError(
                self.path, f"no {role} column {name!r}{hint}; columns are: {', '.join(self.frame.columns)}"
            )
        return self.frame[name]

    def numbers(self, name: str, role: str, what: str) -> np.ndarray:
        """A numeric column as float64; text that does not read as a number is an error."""
        series = self.column(name, role)
        if series.dtype == pl.String:
            parsed = series.str.strip_chars().cast(pl.Float64, strict=False)
            bad = (parsed.is_null() & series.is_not_null()).to_numpy()
            if bad.any():
                self.fail(name, f"is not a number; {what}", bad)
            series = parsed
        elif not (series.dtype.is_numeric() or series.dtype == pl.Boolean):
            raise ReplayError(self.path, f"has type {series.dtype}, not numbers; {what}", name, csv=self.csv)
        values = series.cast(pl.Float64).to_numpy().astype(np.float64)
        missing = np.isnan(values)
        if missing.any():
            self.fail(name, f"is missing (empty, null or NaN); {what}", missing)
        return values

    def cards(self, name: str) -> np.ndarray:
        """A card column (numbers or text) as int64 codes, in the order of its values."""
        series = self.column(name, "card")
        missing = series.is_null().to_numpy()
        if series.dtype.is_float():
            missing |= series.is_nan().to_numpy()
        if missing.any():
            self.fail(name, "is missing (empty or null); every row needs its card", missing)
        return series.rank("dense").cast(pl.Int64).to_numpy()

    def times(self, name: str) -> tuple[np.ndarray, bool]:
        values, temporal = self._times(name)
        span = float(values.max() - values.min()) if len(values) else 0.0
        if span > MAX_SPAN:
            unit = "" if temporal else " (numeric times are seconds)"
            raise ReplayError(
                self.path,
                f"spans {span / YEAR:.3g} years{unit}; a stream may span at most {MAX_SPAN / YEAR:.0f} years",
                name,
                csv=self.csv,
            )
        return values, temporal

    def _times(self, name: str) -> tuple[np.ndarray, bool]:
        series = self.column(name, "time")
        if series.dtype.is_temporal():
            if series.dtype == pl.Date:
                seconds = series.cast(pl.Datetime("us")).dt.epoch("us")
            elif series.dtype == pl.Time or series.dtype == pl.Duration:
                raise ReplayError(self.path, f"has type {series.dtype}; {TIMESTAMP_HELP}", name, csv=self.csv)
            else:
                seconds = series.dt.epoch("us")
            values = seconds.cast(pl.Float64).to_numpy() / 1e6
            missing = np.isnan(values)
            if missing.any():
                self.fail(name, f"is missing; every row needs a time ({TIMESTAMP_HELP})", missing)
            return values, True
        if series.dtype == pl.String and series.str.strip_chars().cast(pl.Float64, strict=False).is_null().any():
            missing = series.is_null().to_numpy()
            if missing.any():
                self.fail(name, f"is missing; every row needs a time ({TIMESTAMP_HELP})", missing)
            text = series.str.strip_chars()
            parsed = pl.select(
                pl.coalesce([text.str.to_datetime(format=f, strict=False, time_zone="UTC") for f in TIMESTAMP_FORMATS])
            ).to_series()
            bad = parsed.is_null().to_numpy()
            if bad.any():
                self.fail(name, f"is not a time; {TIMESTAMP_HELP}", bad)
            return parsed.dt.epoch("us").cast(pl.Float64).to_numpy() / 1e6, True
        values = self.numbers(name, "time", TIMESTAMP_HELP)
        infinite = ~np.isfinite(values)
        if infinite.any():
            self.fail(name, "is not a finite time", infinite)
        return values, False

    def labels(self, name: str) -> np.ndarray:
        series = self.column(name, "label")
        allowed = "labels must be 0 or 1 (or true/false)"
        if series.dtype == pl.String:
            text = series.str.strip_chars().str.to_lowercase()
            mapping = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0, "false": 0.0, "true": 1.0}
            values = text.replace_strict(mapping, default=None, return_dtype=pl.Float64).to_numpy()
            bad = np.isnan(values) & text.is_not_null().to_numpy()
            if bad.any():
                self.fail(name, f"is not a label; {allowed}", bad)
        elif series.dtype.is_numeric() or series.dtype == pl.Boolean:
            values = series.cast(pl.Float64).to_numpy().astype(np.float64)
        else:
            raise ReplayError(self.path, f"has type {series.dtype}; {allowed}", name, csv=self.csv)
        missing = np.isnan(values)
        if missing.any():
            self.fail(name, f"is missing (empty, null or NaN); every row needs a label: {allowed}", missing)
        bad = (values != 0) & (values != 1)
        if bad.any():
            self.fail(name, f"is not a label; {allowed}", bad)
        return values.astype(np.int8)


_ID_NAME = re.compile(r"(?i)(?:^|[_\W])(?:id|ids|uuid|guid|key)$|^(?:id|uuid)[_\W]")
_CAMEL_ID = re.compile(r"[a-z](?:Id|ID)$")  # customerId: case matters (amount_paid is not an id)
_INDEX_NAMES = ("", "index", "level_0")


def _default_features(frame: pl.DataFrame, taken: set[str], time: np.ndarray) -> tuple[tuple[str, ...], dict[str, str]]:
    """Every numeric or boolean column not taken, except those that look like a row index, an
    identifier or a time code (each returned with the reason it was left out): as features they
    leak or mean nothing. A text column whose values are mostly numbers counts too, so that a
    stray value is reported with its row rather than the column dropped."""

    def numeric(name: str, dtype: pl.DataType) -> bool:
        if dtype.is_numeric() or dtype == pl.Boolean:
            return True
        if dtype != pl.String:
            return False
        values = frame[name].drop_nulls()
        parsed = values.str.strip_chars().cast(pl.Float64, strict=False).is_not_null().sum()
        return len(values) > 0 and parsed >= len(values) / 2

    order = np.argsort(time, kind="stable")
    chosen, excluded = [], {}
    for name, dtype in frame.schema.items():
        if name in taken or not numeric(name, dtype):
            continue
        reason = _not_a_feature(name, frame[name], order)
        if reason:
            excluded[name] = reason
        else:
            chosen.append(name)
    return tuple(chosen), excluded


def _not_a_feature(name: str, column: pl.Series, order: np.ndarray) -> str | None:
    """Why a column is left out of the default features, or None.

    >>> _not_a_feature("TRANSACTION_ID", pl.Series([5, 9, 2]), np.arange(3))
    'an identifier (by its name)'
    >>> _not_a_feature("customerId", pl.Series([5, 9, 2]), np.arange(3))
    'an identifier (by its name)'
    >>> _not_a_feature("amount_paid", pl.Series([5.0, 9.0, 5.0]), np.arange(3))
    """
    if name.strip().lower() in _INDEX_NAMES or name.startswith("Unnamed:"):
        return "a row index (by its name)"
    if _ID_NAME.search(name.strip()) or _CAMEL_ID.search(name.strip()):
        return "an identifier (by its name)"
    if not column.dtype.is_numeric() or column.null_count() or len(column) < 20:
        return None
    values = column.to_numpy()
    if column.dtype.is_integer():
        steps = np.arange(len(values))
        if np.array_equal(values, steps) or np.array_equal(values, steps + 1):
            return "a row index (0, 1, 2, … in file order)"
        if column.n_unique() == len(values):
            return "an identifier (a different integer on every row)"
    if column.n_unique() > 1 and bool(np.all(np.diff(values[order]) >= 0)):
        return "a time code (it only grows with the time column)"
    return None


def read_stream(path: str | Path, spec: StreamSpec) -> Stream:
    """Read a CSV or Parquet stream, check every column it uses, and sort it by time (stable)."""
    path = Path(path)
    frame = _read(path)
    check = _Checker(path, frame)
    if frame.height == 0:
        raise ReplayError(path, "has a header but no rows")
    roles = {"time": spec.time, "label": spec.label}
    if spec.delay.column is not None:
        roles["delay"] = spec.delay.column
    if spec.amount is not None:
        roles["amount"] = spec.amount
    if spec.card is not None:
        roles["card"] = spec.card
    for role, name in roles.items():
        check.column(name, role)
    if len(set(roles.values())) < len(roles):
        parts = ", ".join(f"{role} {name!r}" for role, name in roles.items())
        raise ReplayError(
            path, f"the time, label, delay, amount and card columns must be different columns (got {parts})"
        )
    taken = {spec.time, spec.label} | {name for name in (spec.delay.column, spec.card) if name}
    time, timestamps = check.times(spec.time)
    if spec.features is not None:
        features, excluded = spec.features, {}
    else:
        features, excluded = _default_features(frame, taken, time)
    if not features:
        raise ReplayError(path, "has no numeric column left to use as a feature; name them with --features")
    if len(set(features)) != len(features):
        twice = sorted({name for name in features if features.count(name) > 1})
        raise ReplayError(path, f"features are named twice: {', '.join(twice)}")
    for name in features:
        if name in taken:
            raise ReplayError(path, f"{name!r} is the time, label, delay or card column and cannot also be a feature")
        check.column(name, "feature")

    label = check.labels(spec.label)
    delay = _delays(check, spec.delay, frame.height)
    amount = None
    if spec.amount is not None:
        amount = check.numbers(spec.amount, "amount", "amounts must be numbers")
        bad = ~np.isfinite(amount) | (amount < 0)
        if bad.any():
            check.fail(spec.amount, "is not an amount; amounts must be finite and 0 or more", bad)
    X = np.empty((frame.height, len(features)), np.float64)
    for k, name in enumerate(features):
        X[:, k] = check.numbers(name, "feature", "features must be numbers (fill missing values before a replay)")
        infinite = ~np.isfinite(X[:, k])
        if infinite.any():
            check.fail(name, "is infinite; features must be finite numbers", infinite)
        huge = np.abs(X[:, k]) > MAX_FEATURE
        if huge.any():
            check.fail(
                name,
                f"is beyond ±{MAX_FEATURE:.0e}; larger features overflow the learners' scaling "
                "(rescale the column, e.g. to thousands)",
                huge,
            )
    card = None if spec.card is None else check.cards(spec.card)
    order = np.argsort(time, kind="stable")
    return Stream(
        path=str(path),
        spec=spec,
        row=order.astype(np.int64),
        time=time[order],
        label=label[order],
        delay=delay[order],
        X=np.ascontiguousarray(X[order]),
        features=tuple(features),
        excluded=excluded,
        amount=None if amount is None else amount[order],
        timestamps=timestamps,
        card=None if card is None else card[order],
    )


def _delays(check: _Checker, delay: LabelDelay, rows: int) -> np.ndarray:
    if delay.constant_s is not None:
        return np.full(rows, float(delay.constant_s))
    if delay.column is not None:
        values = check.numbers(delay.column, "delay", "delays are seconds, 0 or more (inf: never arrives)")
        bad = values < 0
        if bad.any():
            check.fail(delay.column, "is a negative delay; delays are seconds, 0 or more (inf: never arrives)", bad)
        return values
    rng = np.random.default_rng(np.random.SeedSequence([delay.seed, 0x5E1A7]))
    values = np.asarray(delay.distribution.sample(rng, rows), np.float64)
    return np.maximum(values, 0.0)
