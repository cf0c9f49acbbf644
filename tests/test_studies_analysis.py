"""The analysis studies run in quick mode and reproduce their headline numbers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnndyn import cli

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def load(name):
    return cli.load(STUDIES / f"{name}.py")  # as ``rnndyn figures`` imports a study


def test_beer1995_bifurcation(tmp_path):
    res = load("beer1995_bifurcation").run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"beer1995_bifurcation.{ext}").exists()
    assert json.loads((tmp_path / "beer1995_bifurcation.json").read_text()) == res
    # MODELS.md: the centre-crossing oscillator has one equilibrium, an unstable focus
    # (J = W/4 - I: eigenvalues 0.125 +- 0.25i), and a limit cycle of period about 29.
    assert res["reference_n_equilibria"] == 1
    assert res["reference_stability"] == "unstable"
    np.testing.assert_allclose(res["reference_eigenvalues"], [[0.125, 0.25], [0.125, -0.25]],
                               atol=1e-10)
    assert res["reference_kind"] == "periodic"
    assert res["reference_period"] == pytest.approx(29.0, abs=0.5)
    assert len(res["hopf_theta1"]) == 1 and -2.75 < res["hopf_theta1"][0] < -2.25
    # Beer 1995: self-excitation w > 4 gives regions of 3 equilibria (folds); the
    # oscillatory region is where no equilibrium is stable, and simulation agrees
    assert res["max_equilibria"] == 3
    assert 0.0 < res["oscillatory_fraction"] < 0.1
    assert res["simulation_agreement"] > 0.98


def test_sussillo2013_fixed_points(tmp_path):
    res = load("sussillo2013_fixed_points").run(quick=True, out=tmp_path)
    assert (tmp_path / "sussillo2013_fixed_points.png").exists()
    assert res["test_accuracy"] > 0.9  # FORCE learned the 3-bit flip-flop
    # Sussillo & Barak 2013, Fig. 3: one stable fixed point per memory (2^3 = 8), with
    # outputs at the corners of the cube, and saddles (one unstable mode) between them
    assert res["n_stable"] == 8
    assert res["n_corners_stable"] == 8
    assert res["stable_output_min_abs"] > 0.8
    assert res["n_saddle_index1"] >= 1
