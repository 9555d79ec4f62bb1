"""How many CPUs this process may use: one answer for the sweep's and the grader's processes
and the reference's threads.

The machine's count (os.cpu_count) overstates it under taskset or a container's CPU limit;
the affinity mask is what the scheduler will actually give.
"""
from __future__ import annotations

import os

__all__ = ["usable"]


def usable() -> int:
    """The CPUs in this process's affinity mask (the machine's count where there is no mask)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
