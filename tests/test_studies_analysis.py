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


def _check_flip_flop(res):
    """Sussillo & Barak 2013, Fig. 3: one stable fixed point per memory (2^3 = 8) with its
    output at a corner of the cube, and saddles with one unstable mode (a positive real
    eigenvalue) whose unstable manifold joins two memories one bit apart. (An index-1
    saddle may also send both branches to the same memory: the full run has one such, with
    lambda_u = 0.066; none joins memories more than one bit apart.)"""
    assert res["test_accuracy"] > 0.95  # FORCE learned the 3-bit flip-flop
    assert res["n_stable"] == 8
    assert res["n_corners_stable"] == 8
    assert res["stable_output_min_abs"] > 0.8
    assert res["stable_max_real_eigenvalue"] < 0
    assert res["n_saddle_index1_between_neighbours"] >= 1
    lam = np.array(res["saddle_unstable_eigenvalues"])
    assert len(lam) == res["n_saddle_index1"] and np.all(lam > 0)
    assert len(res["saddle_links"]) == res["n_saddle_index1"]
    for a, b in res["saddle_links"]:
        assert sum(x != y for x, y in zip(a, b)) <= 1
    assert res["manifold_arrival_max_distance"] < 0.5  # each branch ended at a memory


def test_sussillo2013_fixed_points(tmp_path):
    res = load("sussillo2013_fixed_points").run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"sussillo2013_fixed_points.{ext}").exists()
    assert json.loads((tmp_path / "sussillo2013_fixed_points.json").read_text()) == res
    _check_flip_flop(res)


@pytest.mark.slow
def test_sussillo2013_fixed_points_full(tmp_path):
    res = load("sussillo2013_fixed_points").run(quick=False, out=tmp_path)
    assert res["N"] == 1000
    _check_flip_flop(res)
    # full run of 2026-11-26 (15 min on a loaded 2-core machine): 8 memories, 6 index-1
    # saddles, 5 of them between neighbouring memories
    assert res["n_saddle_index1_between_neighbours"] >= 4


def test_sussillo2013_rate_form_is_conjugate_to_the_papers_form():
    """The study analyses dr/dt = -r + tanh(W r + c); Sussillo & Barak's network is
    dx/dt = -x + W tanh(x) + c. At a fixed point r*, x* = W r* + c is a fixed point of the
    paper's form with the same Jacobian eigenvalues (plain numpy)."""
    from rnndyn.analysis import find_fixed_points
    from rnndyn.models.reservoir import ESNFlow

    rng = np.random.default_rng(3)
    n = 5  # strong self-excitation: many fixed points, stable ones and saddles of all indices
    W = 2.0 * np.eye(n) + 0.5 * rng.standard_normal((n, n)) / np.sqrt(n)
    c = 0.1 * rng.standard_normal(n)
    fp = find_fixed_points(ESNFlow(W=W, bias=c), n_starts=200, bounds=(-1, 1), seed=0,
                           method="newton")
    assert {0, 1, 2} <= set(fp.n_unstable[fp.is_fixed].tolist())
    for r, ev in zip(fp.points[fp.is_fixed], fp.eigenvalues[fp.is_fixed]):
        x = W @ r + c
        np.testing.assert_allclose(-x + W @ np.tanh(x) + c, 0.0, atol=1e-7)
        jac_x = -np.eye(n) + W * (1.0 - np.tanh(x) ** 2)[None, :]
        ev_x = np.linalg.eigvals(jac_x)
        np.testing.assert_allclose(np.sort_complex(ev_x), np.sort_complex(ev), atol=1e-7)
