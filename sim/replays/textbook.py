"""A small card stream in the manner of the Fraud Detection Handbook's simulator, and its baseline
experiment, for replay's worked example (docs/replay.md) and its tests.

The stream: customers at random places who buy at terminals near them, at their own rate and
amounts; three kinds of fraud, as in the handbook's chapter 3 — any amount over 220 (a rule a
model learns at once), compromised terminals (every payment there is fraud for 28 days) and
compromised customers (a third of their payments, five times larger, for 14 days). Features as the
handbook's: amount, weekend, night, each customer's count and mean amount over 1, 7 and 30 days,
and each terminal's count and fraud rate over 1, 7 and 30 days ending 7 days before the payment
(the labels a fraud team would know).

The experiment: train a logistic regression on one week, wait a week for its labels, test on the
week after, leaving out of the test the customers already known to be compromised. Labels of a
day's payments arrive at that day's end plus seven days (``label_delay_s``), so the replay's
``--history 14d --score-until 7d --skip-known-cards`` selects exactly the handbook's rows.

>>> stream = generate(customers=50, terminals=100, days=3, seed=1)
>>> stream.columns[:5]
['ts', 'customer_id', 'terminal_id', 'is_fraud', 'label_delay_s']
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from ..units import DAY

START = dt.datetime(2018, 4, 1)  # the handbook's first day
WINDOWS = (1, 7, 30)  # days
DELAY_DAYS = 7  # the fraud team learns a day's labels this long after the day ends
FEATURES = (
    "amount",
    "weekend",
    "night",
    *(f"customer_{what}_{w}d" for w in WINDOWS for what in ("count", "mean_amount")),
    *(f"terminal_{what}_{w}d" for w in WINDOWS for what in ("count", "risk")),
)


def generate(
    customers: int = 5000, terminals: int = 10000, days: int = 21, seed: int = 0, burn_in: int = 30
) -> pl.DataFrame:
    """The stream, in time order: ``ts`` (seconds from ``START``, 00:00), ``customer_id``, ``terminal_id``,
    ``amount``, ``is_fraud``, ``label_delay_s`` and the :data:`FEATURES`. It is the last ``days`` of
    ``burn_in + days`` simulated ones, so that the windows and the compromises are in full swing, as
    in the handbook's experiment (which starts four months into its data)."""
    rng = np.random.default_rng(seed)
    days += burn_in
    where = rng.uniform(0, 100, (customers, 2))
    terminal_at = rng.uniform(0, 100, (terminals, 2))
    mean_amount = rng.uniform(5, 100, customers)
    rate = rng.uniform(0, 4, customers)  # payments a day
    per_day = rng.poisson(np.tile(rate, days))
    customer = np.repeat(np.tile(np.arange(customers), days), per_day)
    day = np.repeat(np.repeat(np.arange(days), customers), per_day)
    n = len(customer)
    # Payments by day, around midday (as the handbook: normal, sd 5 hours, within the day).
    second = np.clip(rng.normal(DAY / 2, 5 * 3600, n), 0, DAY - 1).astype(np.int64)
    amount = np.round(np.abs(rng.normal(mean_amount[customer], mean_amount[customer] / 2)), 2)
    # A terminal within 5 units of the customer (the nearest one when none is).
    near = [np.flatnonzero(((terminal_at - xy) ** 2).sum(axis=1) < 25) for xy in where]
    near = [
        pool if len(pool) else np.array([int(((terminal_at - xy) ** 2).sum(axis=1).argmin())])
        for pool, xy in zip(near, where, strict=True)
    ]
    sizes = np.array([len(pool) for pool in near])
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    pools = np.concatenate(near)
    terminal = pools[offsets[customer] + (rng.random(n) * sizes[customer]).astype(np.int64)]

    fraud = amount > 220
    for d in range(days):  # two terminals compromised a day, for 28 days
        hit = rng.choice(terminals, 2, replace=False)
        fraud |= np.isin(terminal, hit) & (day >= d) & (day < d + 28)
    for d in range(days):  # three customers a day, for 14 days: a third of their payments, five times larger
        hit = rng.choice(customers, 3, replace=False)
        chosen = np.isin(customer, hit) & (day >= d) & (day < d + 14) & (rng.random(n) < 1 / 3)
        amount = np.where(chosen & ~fraud, np.round(amount * 5, 2), amount)
        fraud |= chosen

    ts = day * DAY + second
    frame = pl.DataFrame(
        {
            "ts": ts.astype(np.float64),
            "customer_id": customer,
            "terminal_id": terminal,
            "amount": amount,
            "is_fraud": fraud.astype(np.int8),
        }
    )
    frame = frame.sort("ts", "customer_id", maintain_order=True)
    frame = _features(frame.with_columns(when=pl.lit(START) + pl.duration(seconds=pl.col("ts")))).drop("when")
    return (
        frame.filter(pl.col("ts") >= burn_in * DAY)
        .with_columns(
            pl.col("ts") - burn_in * DAY,
            label_delay_s=(pl.col("ts") // DAY + 1 + DELAY_DAYS) * DAY - pl.col("ts"),
        )
        .select("ts", "customer_id", "terminal_id", "is_fraud", "label_delay_s", *FEATURES)
    )


def _features(frame: pl.DataFrame) -> pl.DataFrame:
    """The handbook's features (its chapter 3, 'baseline feature transformation')."""
    columns = [
        pl.col("when").dt.weekday().ge(6).cast(pl.Int8).alias("weekend"),
        pl.col("when").dt.hour().le(6).cast(pl.Int8).alias("night"),
    ]
    one = pl.col("one")
    for w in WINDOWS:
        count = one.rolling_sum_by("when", window_size=f"{w}d").over("customer_id")
        total = pl.col("amount").rolling_sum_by("when", window_size=f"{w}d").over("customer_id")
        columns += [count.alias(f"customer_count_{w}d"), (total / count).alias(f"customer_mean_amount_{w}d")]
    fraud = pl.col("is_fraud").cast(pl.Float64)
    late_count = one.rolling_sum_by("when", window_size=f"{DELAY_DAYS}d").over("terminal_id")
    late_fraud = fraud.rolling_sum_by("when", window_size=f"{DELAY_DAYS}d").over("terminal_id")
    for w in WINDOWS:
        count = one.rolling_sum_by("when", window_size=f"{DELAY_DAYS + w}d").over("terminal_id") - late_count
        frauds = fraud.rolling_sum_by("when", window_size=f"{DELAY_DAYS + w}d").over("terminal_id") - late_fraud
        risk = pl.when(count > 0).then(frauds / count).otherwise(0.0)
        columns += [count.alias(f"terminal_count_{w}d"), risk.alias(f"terminal_risk_{w}d")]
    return frame.with_columns(one=pl.lit(1.0)).with_columns(columns).drop("one")


def replay_arguments(path: str, out: str, top_k: int = 100) -> list[str]:
    """The ``fraudsim replay`` arguments of the experiment (docs/replay.md's worked example)."""
    return [
        path,
        "--time",
        "ts",
        "--label",
        "is_fraud",
        "--delay-column",
        "label_delay_s",
        "--amount",
        "amount",
        "--card",
        "customer_id",
        "--top-k",
        str(top_k),
        "--learner",
        "static",
        "--history",
        "14d",
        "--score-until",
        "7d",
        "--skip-known-cards",
        "--out",
        out,
    ]


def handbook_protocol(stream: pl.DataFrame, top_k: int = 100) -> dict[str, float]:
    """The handbook's experiment written out on its own (its ``get_train_test_set`` and
    ``card_precision_top_k``, by day numbers; nothing from the replay): train on days 0–6, test on
    days 14–20 without the customers whose fraud is known by then (fraud of day x is known from day
    x + 8). Returns ROC AUC, average precision and card precision@k of scikit-learn's logistic
    regression (standardised, as the replay's static learner)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    stream = stream.with_columns(day=(pl.col("ts") // DAY).cast(pl.Int64))
    train = stream.filter(pl.col("day") < 7)
    known = set(train.filter(pl.col("is_fraud") == 1)["customer_id"].to_list())
    parts = []
    for d in range(7):
        delayed = stream.filter((pl.col("day") == 6 + d) & (pl.col("is_fraud") == 1))
        known |= set(delayed["customer_id"].to_list())
        parts.append(stream.filter((pl.col("day") == 14 + d) & ~pl.col("customer_id").is_in(sorted(known))))
    test = pl.concat(parts)
    features = [name for name in stream.columns if name in FEATURES]  # in the stream's order, as the replay's
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    model.fit(train.select(features).to_numpy(), train["is_fraud"].to_numpy())
    score = model.predict_proba(test.select(features).to_numpy())[:, 1]
    y = test["is_fraud"].to_numpy()
    found: set[int] = set()
    precisions = []
    for d in range(14, 21):  # card precision@k, day by day, found cards leaving later days
        today = test.with_columns(score=score).filter(pl.col("day") == d)
        best: dict[int, tuple[float, int]] = {}
        for card, label, p in zip(
            today["customer_id"].to_list(), today["is_fraud"].to_list(), today["score"].to_list(), strict=True
        ):
            if card not in found:
                old = best.get(card, (-1.0, 0))
                best[card] = (max(old[0], p), max(old[1], label))
        top = sorted(best, key=lambda card: (-best[card][0], card))[:top_k]
        hits = [card for card in top if best[card][1] == 1]
        precisions.append(len(hits) / top_k)
        found |= set(hits)
    return {
        "rows": float(len(y)),
        "frauds": float(y.sum()),
        "roc_auc": float(roc_auc_score(y, score)),
        "average_precision": float(average_precision_score(y, score)),
        "card_precision": float(np.mean(precisions)),
    }
