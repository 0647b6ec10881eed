"""The names of the model's inputs, in column order (their meaning: docs/concepts.md, "Features").

A leaf of the schema, so that a scenario can be checked against them (a feature fault names one)
without importing the code that computes them (``sim.detect.features``).

>>> FEATURES[:3], len(FEATURES)
(('log_amount', 'hour_sin', 'hour_cos'), 42)
"""

from __future__ import annotations

from .base import CATEGORIES

NUMERIC_FEATURES = (
    "log_amount",
    "hour_sin",
    "hour_cos",
    "night",
    "cnp",
    "cnp_log_amount",
    "attempts_1d",
    "amount_vs_habit",
    "amount_vs_category",
    "merchant_fraud_rate",
)
# Per category, in CATEGORIES order: the one-hot column, then its interactions.
CATEGORY_BLOCKS = ("category", "cnp_x", "night_x", "log_amount_x")
FEATURES = NUMERIC_FEATURES + tuple(f"{block}_{c}" for block in CATEGORY_BLOCKS for c in CATEGORIES)
COLUMN = {name: i for i, name in enumerate(FEATURES)}
