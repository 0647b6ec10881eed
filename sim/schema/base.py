"""Shared field types of the schema: durations, money, shares, names, and the strict base model."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from ..units import DAY, format_duration, parse_duration

Category = Literal[
    "groceries",
    "fuel",
    "restaurants",
    "retail",
    "electronics",
    "digital_goods",
    "gift_cards",
    "travel",
]
CATEGORIES: tuple[str, ...] = get_args(Category)  # in this order everywhere (feature columns)

MAX_CUSTOMERS = 10_000_000
MAX_MERCHANTS = 1_000_000
MAX_TRANSACTIONS_PER_RUN = 2_000_000_000
MAX_HISTORY = 365 * DAY
MAX_HORIZON = 5 * 365 * DAY
MAX_WARMUP = 3 * 365 * DAY


def _duration(text: Any) -> float:
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(f'{text!r} is not a duration; write a string such as "30d"')
    if isinstance(text, int | float):
        if text == 0:
            return 0.0
        if not math.isfinite(text):
            raise ValueError(f'{text!r} is not a finite duration; write a number and a unit, e.g. "60d"')
        if text < 0:
            raise ValueError(f'{text!r}: a duration cannot be negative; write a number and a unit, e.g. "30d"')
        raise ValueError(f'{text!r} has no unit; write it as a string such as "{text}d"')
    return parse_duration(text)


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    Field(json_schema_extra={"unit": "duration"}),
]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Finite = Annotated[float, AfterValidator(_finite)]
Share = Annotated[float, Field(ge=0.0, le=1.0), AfterValidator(_finite)]


def _duration_or(word: str) -> Any:
    """A duration, or ``word`` in its place (``"auto"``, ``"none"``): validated, and written back
    as a duration string or the word."""
    return Annotated[
        float | Literal[word],
        BeforeValidator(lambda v: v if v == word else _duration(v)),
        PlainSerializer(lambda v: v if v == word else format_duration(v), return_type=str),
        Field(json_schema_extra={"unit": f'duration or "{word}"'}),
    ]


Warmup = _duration_or("auto")
Halflife = _duration_or("none")

# Every number has a finite range the model can run with (issue: features overflowed at 1e308).
MAX_MONEY = 1e9
MAX_FACTOR = 1e6
Money = Annotated[
    float, Field(ge=0.0, le=MAX_MONEY), AfterValidator(_finite), Field(json_schema_extra={"unit": "money"})
]
Currency = Literal["EUR", "USD", "GBP"]
CURRENCIES = get_args(Currency)
PositiveFloat = Annotated[float, Field(gt=0.0, le=MAX_FACTOR), AfterValidator(_finite)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, le=MAX_FACTOR), AfterValidator(_finite)]
LearningRate = Annotated[float, Field(gt=0.0, le=10.0), AfterValidator(_finite)]
LogSpread = Annotated[float, Field(gt=0.0, le=4.0), AfterValidator(_finite)]  # sd of a log; e^4 ≈ 55×

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a usable name; use letters, digits, '-' and '_' (no '.' or spaces), "
            "starting with a letter or digit"
        )
    return value


Name = Annotated[str, AfterValidator(_name), Field(json_schema_extra={"unit": "name"})]


class Strict(BaseModel):
    """A frozen model that refuses unknown keys, `true`/`false` where a number belongs (pydantic
    would read `customers = true` as 1), and `nan` or `inf` for any number."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_numbers(cls, data):
        if isinstance(data, dict):
            for name, value in data.items():
                field = cls.model_fields.get(name)
                if isinstance(value, bool) and field is not None and _numeric(field.annotation):
                    raise ValueError(f"`{name}` must be a number, not {str(value).lower()}")
        return data


def _numeric(annotation) -> bool:
    """True for an int or float annotation: bare, constrained (``Annotated[int, ...]``) or optional."""
    import types
    import typing

    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_numeric(arg) for arg in typing.get_args(annotation))
    return annotation in (int, float)
