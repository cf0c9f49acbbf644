"""Shared helpers for the benchmark scripts: best-of-k timing and a markdown table."""
from __future__ import annotations

import platform
import time
from pathlib import Path

import numba


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


def cpu_note() -> str:
    """One line naming the processor (model name, family and model, L1 data cache per core):
    the same kind of machine has come with different processors (an AMD EPYC Zen 5 with a 48
    kB L1d, a Zen 4 with 32 kB), and the B = 1 rows depend on whether the weights fit L1
    (the float32 LSTM forward at (64, 1): 3.0x PyTorch on the one, 2.5-2.6x on the other)."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    try:
        l1d = Path("/sys/devices/system/cpu/cpu0/cache/index0/size").read_text().strip()
    except OSError:
        l1d = "?"
    return (f"CPU: {fields.get('model name', platform.processor() or '?')} (family "
            f"{fields.get('cpu family', '?')}, model {fields.get('model', '?')}), L1d {l1d}")


def torch_like_numba():
    """PyTorch (None if it is not installed) on as many threads as numba, after printing the
    processor and BLAS lines of a comparison's header."""
    try:
        import torch
        torch.set_num_threads(numba.get_num_threads())
    except ImportError:
        torch = None
    print(cpu_note(), flush=True)
    print(blas_note(), flush=True)
    return torch


def blas_note() -> str:
    """One line naming the OpenBLAS kernels loaded here (numpy's and scipy's; numba's
    ``np.dot`` calls scipy's), for a benchmark's header, with a warning when the environment
    pins them (``OPENBLAS_CORETYPE``): some machine images pin an older kernel (Haswell's AVX2
    on an AVX-512 processor) because older OpenBLAS builds failed on their processor, and a
    current numpy then runs its products at up to half speed, while a peer with its own
    kernels (PyTorch's MKL and oneDNN) does not. Benchmark what users run:
    ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/...``."""
    import os

    import scipy.linalg.cython_blas  # noqa: F401  (loaded before looking)
    from threadpoolctl import threadpool_info
    libs = [f"{Path(i['filepath']).name.split('-')[0]} {i.get('version')} "
            f"({i.get('architecture')})"
            for i in threadpool_info() if i.get("internal_api") == "openblas"]
    line = "OpenBLAS: " + (", ".join(libs) or "none loaded")
    pinned = os.environ.get("OPENBLAS_CORETYPE")
    if pinned:
        line += (f"; pinned by OPENBLAS_CORETYPE={pinned}, not what users run: unset it and "
                 "OPENBLAS_L2_SIZE for this command")
    return line
