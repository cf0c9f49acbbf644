"""The README's Python examples run as written (those that need a Dask scheduler or compile
user functions in ``__main__`` are covered by tests/test_examples.py and the executor
tests)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
          if "Client(" not in b and "from numba import njit" not in b]


def test_readme_has_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_readme_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # they write net.json, run.pkl
    namespace: dict = {}
    exec("import numpy as np\nimport rnndyn as rd\n", namespace)
    for block in BLOCKS:  # in order: later blocks may use earlier names
        exec(compile(block, str(README), "exec"), namespace)
