"""Shared helpers for the benchmark scripts: best-of-k timing and a markdown table."""
from __future__ import annotations

import time


def best_time(fn, repeat: int = 5, warmup: int = 1) -> float:
    """Best wall time of ``fn()`` in seconds over ``repeat`` runs after ``warmup`` runs (the
    machine is noisy; the minimum is the least disturbed estimate)."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def best_times(fns, repeat: int = 10, block: int = 3, settle: float = 0.3) -> list[float]:
    """Best wall time of each function, measured interleaved (round-robin) so that a
    disturbance on the machine hits every contender alike: ``repeat`` rounds, each running
    every function ``block`` times in a row after ``settle`` seconds of sleep. The pause
    lets the worker threads a contender leaves spinning (OpenMP's, OpenBLAS's: Intel's
    OpenMP spins 200 ms after a parallel region) go to sleep before the next one is timed,
    so that no contender is timed against another's spinning threads."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            if settle:
                time.sleep(settle)
            for _ in range(block):
                start = time.perf_counter()
                fn()
                best[i] = min(best[i], time.perf_counter() - start)
    return best


def table(rows: list[dict], columns: list[str]) -> str:
    """Markdown table of ``rows`` restricted to ``columns``."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)
