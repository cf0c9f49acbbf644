"""The memristive-network studies (Caravelli, Traversa & Di Ventra 2017, Phys. Rev. E 95,
022140) run in quick mode and reproduce their headline numbers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnndyn import cli

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def load(name):
    return cli.load(STUDIES / f"{name}.py")  # as ``rnndyn figures`` imports a study


def _written(tmp_path, name, res):
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"{name}.{ext}").exists()
    assert json.loads((tmp_path / f"{name}.json").read_text()) == json.loads(json.dumps(res))


def test_caravelli2017_single_memristor(tmp_path):
    name = "caravelli2017_single_memristor"
    res = load(name).run(quick=True, out=tmp_path)
    _written(tmp_path, name, res)
    # MODELS.md: w* = (-1 + sqrt(1 + 4 xi S/(alpha beta)))/(2 xi) separates w -> 0 from
    # w -> 1 (growth); the basin boundary bisected from simulations matches it to 1e-6,
    # and in the decay convention w* attracts every start
    S = np.array(res["S"])
    xi = 9.0
    np.testing.assert_allclose(res["w_star_analytic"],
                               (-1 + np.sqrt(1 + 4 * xi * S / (0.1 * 10))) / (2 * xi), atol=1e-15)
    assert res["max_abs_error"] < 1e-6
    assert res["decay_max_error"] < 1e-6


def test_caravelli2017_ac_response(tmp_path):
    name = "caravelli2017_ac_response"
    res = load(name).run(quick=True, out=tmp_path)
    _written(tmp_path, name, res)
    # memristor fingerprints (Chua): the I-V loop is pinched at the origin, and its lobes
    # shrink as the drive frequency grows -- for one device and for a network
    for who in ("single", "network"):
        assert res[f"{who}_current_at_zero_voltage"] < 1e-12
        area = np.array(res[f"{who}_lobe_area"])
        assert area[0] > 0 and np.all(np.diff(area) < 0), area


def test_caravelli2017_relaxation(tmp_path):
    name = "caravelli2017_relaxation"
    res = load(name).run(quick=True, out=tmp_path)
    _written(tmp_path, name, res)
    # loop density rho = (E - V + 1)/E grows with p
    assert np.all(np.diff(res["loop_density"]) > 0)
    # CTD: slow relaxation -- the mean memory takes longer to fall from 50% to 1% of its
    # deviation than any single exponential (ratio ln 100 / ln 2 = 6.64), and the decay is
    # fitted well by a power law with a positive exponent
    assert res["exponential_ratio"] == np.log(100) / np.log(2)
    assert all(r > res["exponential_ratio"] for r in res["ratio_1_50"])
    assert all(r2 > 0.9 for r2 in res["r2"])
    assert all(0.2 < g < 3.0 for g in res["gamma"])
