"""Freed memory goes back to the operating system."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from sim import heap


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(heap._TRIM is None, reason="glibc's malloc_trim is not available here")
def test_freed_heap_pages_are_returned():
    """Small arrays freed amid live ones leave holes the heap keeps; a release returns them."""
    arrays = [np.ones(4_000) for _ in range(40_000)]  # 32 KB each, from the heap: 1.3 GB
    keep = arrays[::50]  # one in fifty stays, so the heap cannot shrink from its top
    del arrays
    before = _rss()
    heap.release()
    assert before - _rss() > 500e6, "the freed arrays' pages stayed with the process"
    assert len(keep) == 800
