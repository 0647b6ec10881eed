"""Give the memory a process has freed back to the operating system.

numpy's arrays of a tick (tens of kilobytes each at a large issuer's traffic) come from the C
library's heap, and freeing them amid live ones leaves holes the heap keeps, so a long run's
resident memory grows past what it holds (docs/performance.md, "Scale"). On glibc :func:`release`
asks ``malloc_trim`` to return every free page; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys


def _trim_function():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


_TRIM = _trim_function()


def release() -> None:
    """Return the heap's free pages to the operating system (glibc; a no-op elsewhere)."""
    if _TRIM is not None:
        _TRIM(0)
