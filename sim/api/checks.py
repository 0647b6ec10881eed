"""``sim.check_learner``: the contract the bundled learners pass, run on a user's model.

A river classifier is checked as an online arm's model, a scikit-learn classifier as a batch
arm's (retrained a day after the history), and an object with the learner protocol's verbs
(``start``, ``predict_proba``, ``learn``, ``at_boundary``, ``feed``) as it is. The data are
made up, with the simulator's documented features (docs/concepts.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..learn.checks import contract_failures, toy_batch, toy_history
from ..learn.learners import from_arm
from ..learn.protocol import Learner, clone
from ..schema import BatchArm, OnlineArm, Rules
from ..schema.own import PREFIX, describe

LABELS_PER_DAY = 1000.0  # the toy history's scale: the batch window keeps every label


@dataclass(frozen=True)
class LearnerCheck:
    """The outcome of :func:`check_learner`: one line per broken rule (``failures``; none when
    ``ok``), and how long the model took per 1,000 rows to score and to learn."""

    model: str
    failures: list[str] = field(default_factory=list)
    score_ms_per_1000: float | None = None
    learn_ms_per_1000: float | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"{self.model}: " + ("keeps the learner contract" if self.ok else "breaks the learner contract")]
        lines += [f"  - {failure}" for failure in self.failures]
        if self.score_ms_per_1000 is not None:
            lines.append(
                f"  per 1,000 rows: scoring {self.score_ms_per_1000:.1f} ms, learning and retraining "
                f"{self.learn_ms_per_1000:.1f} ms"
            )
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def check_learner(model: Any, *, seed: int = 1) -> LearnerCheck:
    """Run the learner contract on ``model`` (a river classifier, a scikit-learn classifier, or
    an object with the learner protocol's verbs) and say, one line per broken rule, what is
    wrong: scores that are not one probability in [0, 1] per row, an empty batch that scores or
    teaches something, inputs changed, runs with one seed that differ, state lost in pickling, a
    clone that keeps or shares learnt state, or an exception from any verb.

    >>> from sklearn.linear_model import LogisticRegression
    >>> check_learner(LogisticRegression()).ok
    True
    """
    name = _name(model)
    try:
        build = _builder(model, seed, name)
    except ValidationError as error:  # e.g. a model that cannot be cloned
        problem = error.errors(include_url=False)[-1]["msg"].removeprefix("Value error, ")
        return LearnerCheck(name, [f"cannot be built: {problem}"])
    history, batch = toy_history(), toy_batch()
    failures = contract_failures(build, history, batch)
    check = LearnerCheck(name, failures)
    if failures:
        return check
    learner = build()
    learner.start(history)
    started = time.perf_counter()
    learner.predict_proba(batch)
    scored = time.perf_counter()
    learner.learn(batch)
    learner.at_boundary(86400.0)
    learned = time.perf_counter()
    per = 1000.0 / len(batch) * 1000.0
    return LearnerCheck(name, failures, (scored - started) * per, (learned - scored) * per)


def _builder(model: Any, seed: int, name: str):
    """How to build learners of ``model``, each new."""
    if all(hasattr(model, verb) for verb in ("start", "predict_proba", "learn", "at_boundary", "feed")):
        learner: Learner = model
        return lambda: clone(learner)
    if all(hasattr(model, verb) for verb in ("learn_one", "predict_proba_one")):
        arm = OnlineArm(name="yours", model=model)
    elif all(hasattr(model, verb) for verb in ("fit", "predict_proba", "get_params")):
        arm = BatchArm(name="yours", model=model, every="1d")
    else:
        raise TypeError(
            f"{name} is not a model fraudsim can run: give a river classifier (learn_one, predict_proba_one), "
            "a scikit-learn classifier (fit, predict_proba, get_params) or a learner (docs/own-model.md)"
        )
    return lambda: from_arm(arm, Rules(), LABELS_PER_DAY, seed)


def _name(model: Any) -> str:
    text, kind = describe(model).removeprefix(PREFIX), type(model).__name__
    return text if text.startswith(kind) and len(text) <= 80 else kind
