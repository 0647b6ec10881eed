"""``sim.arms``: the arms a Python user compares, bundled models and their own.

Each builds the arm a scenario file's ``[[arms]]`` table describes, with the same keys; ``model``
also takes a user's object: a river classifier for :func:`Online`, a scikit-learn classifier for
:func:`Batch`, :func:`Static` and :func:`Oracle`. fraudsim clones it for every arm and
replication (river's ``clone``, scikit-learn's ``clone``) and sets its ``seed`` or
``random_state`` from the scenario's seed, so replications are independent and reproducible.

:class:`OnlinePlugin` and :class:`BatchPlugin` are the bases of the learners a package registers
under the ``fraudsim.learners`` entry point group, for scenario files to name (docs/own-model.md).

>>> from sklearn.linear_model import LogisticRegression
>>> Batch("my-logit", model=LogisticRegression(C=0.5), every="1d").every
86400.0
"""

from __future__ import annotations

from typing import Any

# From the module, not the package: a registered learner's package imports this module while
# sim.schema is still loading the registry.
from .schema.arms import BatchArm, BatchPlugin, OnlineArm, OnlinePlugin, OracleArm, RulesArm, StaticArm


def Online(name: str, model: Any = "laplace", **options: Any) -> OnlineArm:  # noqa: N802 (reads as a class)
    """An arm that learns each tick's arrived label events: ``model`` a bundled one (``"laplace"``,
    ``"logistic"``, ``"hoeffding_tree"``, ``"forest"``) or any river classifier."""
    return OnlineArm(name=name, model=model, **options)


def Batch(name: str, model: Any = "logistic", every: str = "7d", window: str = "60d", **options: Any) -> BatchArm:  # noqa: N802
    """An arm retrained every ``every`` on the label events that arrived within ``window``:
    ``model`` ``"logistic"``, ``"gbm"`` or any scikit-learn classifier."""
    return BatchArm(name=name, model=model, every=every, window=window, **options)


def Static(name: str = "static", model: Any = "logistic") -> StaticArm:  # noqa: N802
    """An arm trained once on the history and never again."""
    return StaticArm(name=name, model=model)


def Oracle(name: str = "oracle", model: Any = "laplace", **options: Any) -> OracleArm:  # noqa: N802
    """The bound: every transaction's true label the tick after it (``model`` ``"laplace"``, or a
    scikit-learn model refitted on the truth every ``every``)."""
    return OracleArm(name=name, model=model, **options)


def Rules(name: str = "rules") -> RulesArm:  # noqa: N802
    """The scenario's hand-written thresholds; never learns."""
    return RulesArm(name=name)


__all__ = ["Batch", "BatchPlugin", "Online", "OnlinePlugin", "Oracle", "Rules", "Static"]
