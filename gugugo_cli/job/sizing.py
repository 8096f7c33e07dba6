"""The default number of worker processes (job/host.py): the CPUs this process may use, as many as the
available memory holds."""

from __future__ import annotations

import os
from typing import Optional

WORKER_BYTES = 512 << 20  # memory a worker may need: its own Korean splitter (Kiwi: ~500 MB) where not shared


def usable_cpus() -> int:
    """The CPUs this process may run on (os.process_cpu_count, else its affinity, else all CPUs)."""
    count = getattr(os, "process_cpu_count", None)
    n = count() if count is not None else None
    if n is None:
        try:
            n = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            n = os.cpu_count()
    return max(1, n or 1)


def available_memory() -> Optional[int]:
    """Bytes of memory available (MemAvailable, less where a cgroup limit leaves less); None where unknown."""
    found = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current") as f:
            used_now = int(f.read())
        if limit != "max" and found is not None:
            found = min(found, max(0, int(limit) - used_now))
    except (OSError, ValueError):
        pass
    return found


def default_workers() -> int:
    """The CPUs this process may run on, but no more workers than the available memory holds at WORKER_BYTES
    each (at least 1)."""
    n = usable_cpus()
    memory = available_memory()
    if memory is not None:
        n = min(n, memory // WORKER_BYTES)
    return max(1, n)
