"""CPU seconds used by a process tree, read from /proc (Linux): where a request's time goes.

``bench/load.py`` reads it before and after each wrk run for the gunicorn tree (the web) and the
PostgreSQL tree (the database: backends, WAL writer, checkpointer, autovacuum), so that each path
gets its CPU milliseconds per request on each side. Throughput on a machine shared with other
jobs moves with their load; the CPU a request costs moves much less, and it is what a capacity
model multiplies.

A process that exits between two readings is not lost: its parent's ``cutime``/``cstime``
(children waited for) take its time, and the root's are counted.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return text[text.rindex(")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def tree_seconds(root: int) -> float:
    """CPU seconds (user + system) of ``root``, its live descendants and its reaped children."""
    children = _children()
    total, pending, first = 0.0, [root], True
    while pending:
        pid = pending.pop()
        fields = _stat(pid)
        if fields is None:
            continue
        # After the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based
        # in proc(5); here the list starts at field 3.
        used = int(fields[11]) + int(fields[12])
        if first:  # the root's waited-for children: processes that exited meanwhile
            used += int(fields[13]) + int(fields[14])
            first = False
        total += used / TICKS
        pending.extend(children.get(pid, []))
    return total


def parent_of(pid: int) -> int:
    fields = _stat(pid)
    if fields is None:
        raise ProcessLookupError(pid)
    return int(fields[1])
