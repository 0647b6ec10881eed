"""The history every arm starts from at t = 0, and the first models fitted on it once."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..detect.laplace import LaplaceLogistic
from ..detect.models import SklearnModel
from ..feedback.labels import LabelEvents
from ..schema.features import FEATURES


@dataclass(frozen=True)
class History:
    """What every arm starts from at t = 0.

    ``X``/``y``: the history's transactions with their eventual labels; the
    first model of each kind is fitted on them once and shared by every arm.
    ``weight``: None when every row is kept; above the scenario's ``history_rows`` the
    legitimate rows are a sample, each weighing the rows it stands for.
    ``labels``/``card``/``merchant``: those rows' label events (each transaction's last, which
    may arrive after t = 0), cards and merchants, for the arms' streams (:mod:`sim.export`).
    ``arrived``/``arrived_X``: the label events that arrived before t = 0
    within the longest batch window, as a batch learner's starting buffer (the fraud labels
    and the share of the others that the thickest window keeps).
    ``truth``/``truth_X``/``truth_declined``: the true label of every transaction of
    the longest oracle window (legitimate ones thinned as the windows thin them), as
    an oracle's starting buffer.
    """

    X: np.ndarray
    y: np.ndarray
    arrived: LabelEvents
    arrived_X: np.ndarray
    truth: LabelEvents = field(default_factory=LabelEvents.empty)  # every transaction's truth, for oracles
    truth_X: np.ndarray = field(default_factory=lambda: np.zeros((0, len(FEATURES)), np.float32))
    truth_declined: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    labels: LabelEvents = field(default_factory=LabelEvents.empty)
    card: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    merchant: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    weight: np.ndarray | None = None
    _models: dict[str, SklearnModel] = field(default_factory=dict, compare=False, repr=False)
    _beliefs: dict[float, LaplaceLogistic] = field(default_factory=dict, compare=False, repr=False)

    def first_model(self, kind: object = "logistic", seed: int = 0) -> SklearnModel:
        """The model of ``kind`` fitted on the history: a bundled kind's is fitted once and
        shared; a user's model (a scikit-learn object) is fitted for each arm, with its seed."""
        if not isinstance(kind, str):
            return SklearnModel(kind, seed=seed).fit(self.X, self.y, self.weight)
        if kind not in self._models:
            self._models[kind] = SklearnModel(kind).fit(self.X, self.y, self.weight)
        return self._models[kind]

    @property
    def events(self) -> float:
        """How many labelled transactions the history stands for (its rows, weighted)."""
        return float(len(self.y)) if self.weight is None else float(self.weight.sum())

    @property
    def frauds(self) -> float:
        """How many of them are fraud (fraud rows are never subsampled)."""
        return float(self.y.sum())

    def newest_fraud_at(self) -> float:
        """When the newest fraud transaction the first models learnt happened (t = 0 when the
        history does not record its transactions' times; -inf when it holds no fraud)."""
        return self.labels.newest_fraud() if len(self.labels) == len(self.y) else 0.0

    def first_belief(self, prior_precision: float) -> LaplaceLogistic:
        """The first logistic model as a Laplace belief: its weights, and the precision the
        history gives them (computed once, shared by every arm; copy before learning)."""
        if prior_precision not in self._beliefs:
            belief = LaplaceLogistic(self.X.shape[1], prior_precision=prior_precision)
            coef, intercept = self.first_model("logistic").raw_coefficients()
            belief.warm_start(self.X, self.y, coef, intercept, self.weight)
            self._beliefs[prior_precision] = belief
        return self._beliefs[prior_precision]
