"""The processes below a process, and which are alive: for the fault tests (Linux)."""

from pathlib import Path

import pytest

PROC = Path("/proc")


def descendants(pid):
    """Return the pids of every process below ``pid``, from /proc."""
    if not PROC.is_dir():
        pytest.skip("needs /proc (Linux) to list processes")
    parents = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    below, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        below |= frontier
    return below


def alive(pids):
    """Return those of ``pids`` still running: a zombie has ended."""
    running = set()
    for pid in pids:
        try:
            stat = (PROC / str(pid) / "stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            running.add(pid)
    return running


def runs_python(pid):
    """Tell whether process ``pid`` runs Python."""
    try:
        return b"python" in (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False
