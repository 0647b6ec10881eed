"""A package that registers two learners under ``fraudsim.learners`` (and one broken entry point),
as a user's package would (docs/own-model.md). tests/test_own_model.py puts this folder on the
path of a ``fraudsim`` it runs; the ``.dist-info`` beside it is what an install would write."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.arms import BatchPlugin, OnlinePlugin


class ShallowTree(BatchPlugin):
    """A scikit-learn decision tree, retrained on the batch schedule."""

    learner: Literal["shallow_tree"] = "shallow_tree"
    depth: int = Field(3, ge=1, le=20, description="the tree's maximum depth")

    def make(self):
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(max_depth=self.depth)


class ScaledLogit(OnlinePlugin):
    """river's standardised logistic regression, learning row by row."""

    learner: Literal["scaled_logit"] = "scaled_logit"
    lr: float = Field(0.01, gt=0, le=1, description="the SGD learning rate")

    def make(self):
        from river import linear_model, optim, preprocessing

        return preprocessing.StandardScaler() | linear_model.LogisticRegression(optimizer=optim.SGD(self.lr))
