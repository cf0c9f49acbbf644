"""pytest configuration shared by every test file."""
import os

import pytest


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown (and unused) without it
def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (the README's test command): one worker per core, at most 8. Each worker
    compiles the kernels its tests use (or loads them from the disk cache) and holds them in
    memory, so more workers than that cost more compile time and memory than they save."""
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1))
