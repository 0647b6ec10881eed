"""Users' own models as arm models: a river classifier for an online arm, a scikit-learn
classifier for a batch or static arm. Given from Python only (a scenario file names bundled
models or registered learners, never code); written to files as a description that does not
read back as a model."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

PREFIX = "python: "


def describe(model: Any) -> str:
    """A user's model in one line, as a resolved scenario records it."""
    try:
        text = " ".join(repr(model).split())
    except Exception:  # a model whose repr breaks is still a model
        text = f"{type(model).__name__}(...)"
    return PREFIX + text


def _river(value: Any) -> Any:
    if isinstance(value, str) or not all(hasattr(value, verb) for verb in ("learn_one", "predict_proba_one", "clone")):
        raise ValueError("a river classifier object (with learn_one, predict_proba_one and clone), given from Python")
    _clonable(value, value.clone)
    return value


def _sklearn(value: Any) -> Any:
    if isinstance(value, str) or not all(hasattr(value, verb) for verb in ("fit", "predict_proba", "get_params")):
        raise ValueError("a scikit-learn classifier object (with fit, predict_proba and get_params), given from Python")
    from sklearn.base import clone

    _clonable(value, lambda: clone(value))
    return value


def _clonable(value: Any, clone) -> None:
    """Every arm and replication learns with a clone: a model that cannot be cloned cannot run."""
    try:
        clone()
    except Exception as error:
        words = " ".join(str(error).split())[:200]
        raise ValueError(f"{type(value).__name__} cannot be cloned ({type(error).__name__}: {words})") from None


def _own(check, what: str):
    return Annotated[
        Any,
        PlainValidator(check),
        PlainSerializer(describe, return_type=str),
        WithJsonSchema({"type": "string", "description": what}),
    ]


RiverClassifier = _own(_river, "a river classifier, from Python")
SklearnClassifier = _own(_sklearn, "a scikit-learn classifier, from Python")


def is_own(model: Any) -> bool:
    """Whether an arm's ``model`` is a user's object rather than a bundled model's name."""
    return not isinstance(model, str)
