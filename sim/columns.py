"""Records as columns: a dataclass of equal-length numpy arrays.

>>> from dataclasses import dataclass
>>> @dataclass
... class Pair(Columns):
...     a: np.ndarray
...     b: np.ndarray
>>> p = Pair.concat([Pair(np.array([1, 2]), np.array([3, 4])), Pair(np.array([5]), np.array([6]))])
>>> len(p), p.take(np.array([2, 0])).a.tolist()
(3, [5, 1])
"""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import Self

import numpy as np


@cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


class Columns:
    """Row selection and concatenation for dataclasses whose fields are arrays of one length."""

    def __len__(self) -> int:
        return len(getattr(self, _names(type(self))[0]))

    def columns(self) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, name) for name in _names(type(self)))

    def take(self, index: np.ndarray | slice) -> Self:
        """The rows at ``index`` (an index array, a boolean mask or a slice)."""
        return type(self)(*(column[index] for column in self.columns()))

    @classmethod
    def concat(cls, parts: list[Self]) -> Self:
        """The rows of every part, in order."""
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate(columns) for columns in zip(*(p.columns() for p in parts), strict=True)))
