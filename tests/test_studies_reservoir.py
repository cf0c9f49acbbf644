"""The reservoir-computing studies run in quick mode and reproduce their headline numbers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnndyn import cli

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def load(name):
    return cli.load(STUDIES / f"{name}.py")  # as ``rnndyn figures`` imports a study


def _files(tmp_path, name, res):
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"{name}.{ext}").exists()
    assert json.loads((tmp_path / f"{name}.json").read_text()) == res


def test_jaeger2001_mackey_glass(tmp_path):
    res = load("jaeger2001_mackey_glass").run(quick=True, out=tmp_path)
    _files(tmp_path, "jaeger2001_mackey_glass", res)
    # Jaeger & Haas 2004 reach NRMSE84 = 10^-4.2 with N = 1000 and training noise; a plain
    # 400-unit reservoir with a ridge readout predicts 84 steps ahead to ~10^-2.6
    assert res["nrmse84"] < 10 ** -2
    assert res["free_run_nrmse_first_84"] < 10 ** -2


@pytest.mark.slow  # 15-25 s: 20 memory-capacity measurements and three panels
def test_jaeger2002_memory_capacity(tmp_path):
    res = load("jaeger2002_memory_capacity").run(quick=True, out=tmp_path)
    _files(tmp_path, "jaeger2002_memory_capacity", res)
    # Jaeger 2002: MC <= N; linear reservoirs approach N, tanh ones stay below
    mc = res["mc_n50"]
    assert abs(mc["orthogonal"] - 50) < 5 and 40 < mc["linear"] <= 51
    assert mc["tanh"] < mc["linear"]
    for k, values in res["mc_vs_n"].items():
        assert np.all(np.diff(values) > 0), k  # memory grows with the reservoir
        assert np.all(np.array(values) <= np.array(res["sizes"]) + 1), k
    rho = np.array(res["mc_vs_rho"])
    assert np.argmax(rho) == len(rho) - 2  # peaks just below rho = 1, collapses past it
    assert np.all(np.diff(res["mc_vs_input_scaling"]) < 0)  # saturation erodes memory


def test_jaeger_timer(tmp_path):
    res = load("jaeger_timer").run(quick=True, out=tmp_path)
    _files(tmp_path, "jaeger_timer", res)
    assert res["nrmse"] < 0.4
    assert res["length_correlation"] > 0.95 and res["mean_abs_length_error"] < 1.0
