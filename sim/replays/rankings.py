"""Honest rankings for a replay: money baselines, and intervals on the gaps between learners.

A replay's learners are scored on one stream, so a gap of 0.002 in ROC AUC may be luck. The
intervals come from a **block bootstrap over days**: a replicate draws the stream's days with
replacement (days, not rows, since fraud comes in bursts within a day) and recomputes every
learner's metric on the drawn days; the 95 % interval of a gap is the 2.5th to 97.5th percentile
of the replicates' gaps. Every learner sees the same draws (a paired comparison).

The baselines price what a model adds: **approve everything** (every fraud is lost, no honest
customer is declined) and **no model** (the policy at a constant score, the counted rows' fraud
share: it declines the large amounts that share would not approve).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import metrics
from ..detect.policy import decide, decline_cost
from ..schema import Policy

REPLICATES = 200
SEED = 0x5A1B  # the bootstrap's own stream: the same draws in every replay of the same days

# metric → whether higher is better
METRICS = {"roc_auc": True, "log_loss": False, "total_cost": False}


def row_costs(y: np.ndarray, p: np.ndarray, amount: np.ndarray, policy: Policy) -> np.ndarray:
    """Each row's cost under the policy: an approved fraud's amount and fee, a declined honest row's
    decline cost, else 0."""
    declined = decide(p, amount, policy)
    return np.where(
        y == 1,
        np.where(declined, 0.0, amount + policy.fraud_fee),
        np.where(declined, decline_cost(amount, policy), 0.0),
    )


def baselines(y: np.ndarray, amount: np.ndarray, policy: Policy) -> dict[str, dict[str, float]]:
    """What approving everything and a constant score (the fraud share) would cost.

    >>> b = baselines(np.array([1, 0, 0, 0]), np.array([50.0, 10.0, 20.0, 1000.0]), Policy())
    >>> b["approve_all"]["fraud_loss"], b["approve_all"]["friction"]  # the fraud's 50 and the default fee, 25
    (75.0, 0.0)
    """
    out = {}
    share = float(y.mean())
    for name, p in (("approve_all", np.zeros(len(y))), ("constant_score", np.full(len(y), share))):
        cost = row_costs(y, p, amount, policy)
        fraud = y == 1
        out[name] = {
            "score": float(p[0]) if len(p) else 0.0,
            "fraud_loss": float(cost[fraud].sum()),
            "friction": float(cost[~fraud].sum()),
            "total_cost": float(cost.sum()),
        }
    return out


class _Sorted:
    """One learner's scores, sorted once, for weighted ROC AUC and log loss under many weightings."""

    def __init__(self, y: np.ndarray, p: np.ndarray, cost: np.ndarray | None):
        self.order, self.starts = metrics.tie_groups(p)
        self.y = y
        self.loss = metrics.row_log_loss(y, p)
        self.cost = cost

    def metrics(self, w: np.ndarray) -> dict[str, float]:
        positive = (w * self.y)[self.order]
        auc = metrics.grouped_auc(positive, w[self.order] - positive, self.starts)
        out = {"roc_auc": auc, "log_loss": float(np.dot(w, self.loss) / w.sum())}
        if self.cost is not None:
            out["total_cost"] = float(np.dot(w, self.cost))
        return out


def rankings(
    scores: Mapping[str, np.ndarray],
    y: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray | None,
    policy: Policy,
    replicates: int = REPLICATES,
) -> dict[str, dict]:
    """For each metric: the best learner, its value, and every other learner's gap to it (other −
    best) with a 95 % block-bootstrap interval over days (None with fewer than two days).

    ``clear`` says whether the interval leaves out zero, i.e. whether the best is clearly best.
    """
    learners = list(scores)
    costs = {name: None if amount is None else row_costs(y, p, amount, policy) for name, p in scores.items()}
    sorted_ = {name: _Sorted(y, scores[name], costs[name]) for name in learners}
    whole = {name: sorted_[name].metrics(np.ones(len(y))) for name in learners}
    days, index = np.unique(day, return_inverse=True)
    draws = None
    if len(days) >= 2:
        rng = np.random.default_rng(SEED)
        counts = np.stack(
            [np.bincount(rng.integers(len(days), size=len(days)), minlength=len(days)) for _ in range(replicates)]
        )
        draws = {
            name: [sorted_[name].metrics(counts[b][index].astype(np.float64)) for b in range(replicates)]
            for name in learners
        }
    out = {}
    for metric, higher in METRICS.items():
        if metric == "total_cost" and amount is None:
            continue
        valid = [name for name in learners if np.isfinite(whole[name][metric])]
        if not valid:
            continue
        best = sorted(valid, key=lambda name: (-whole[name][metric] if higher else whole[name][metric], name))[0]
        others = []
        for name in valid:
            if name == best:
                continue
            gap = whole[name][metric] - whole[best][metric]
            low = high = None
            if draws is not None:
                gaps = np.array([a[metric] - b[metric] for a, b in zip(draws[name], draws[best], strict=True)])
                gaps = gaps[np.isfinite(gaps)]
                if len(gaps):
                    low, high = (float(v) for v in np.percentile(gaps, [2.5, 97.5]))
            clear = low is not None and (high < 0 if higher else low > 0)
            others.append({"learner": name, "gap": gap, "low": low, "high": high, "clear": bool(clear)})
        out[metric] = {
            "best": best,
            "value": whole[best][metric],
            "others": others,
            "clearly_best": bool(others) and all(o["clear"] for o in others),
        }
    return out


def money_warnings(
    scores: Mapping[str, np.ndarray],
    y: np.ndarray,
    amount: np.ndarray,
    policy: Policy,
    approve_all: float,
    history: bool,
) -> list[str]:
    """Learners whose decisions cost more than approving everything; and, without a history,
    learners whose cold start (a constant 0.5 before any model) makes most of their cost."""
    warnings = []
    for name, p in scores.items():
        cost = row_costs(y, p, amount, policy)
        total = float(cost.sum())
        if total > approve_all:
            warnings.append(
                f"{name}: its decisions cost more ({total:,.0f}) than approving everything "
                f"({approve_all:,.0f}): its declines of honest customers outweigh the fraud they stop"
            )
        cold = float(cost[p == 0.5].sum())
        if not history and total > 0 and cold > total / 2:
            warnings.append(
                f"{name}: {cold / total:.0%} of its cost comes from rows it scored 0.5 before it had a "
                "model (the policy at 0.5 declines every payment above a few euros); give --history "
                "so that it starts from a model"
            )
    return warnings
