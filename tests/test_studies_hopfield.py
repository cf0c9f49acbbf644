"""The associative-memory studies run in quick mode and reproduce their headline numbers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnndyn import cli

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def load(name):
    return cli.load(STUDIES / f"{name}.py")  # as ``rnndyn figures`` imports a study


def run(name, tmp_path):
    res = load(name).run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"{name}.{ext}").exists()
    assert json.loads((tmp_path / f"{name}.json").read_text()) == json.loads(json.dumps(res))
    return res


def test_amit1985_hopfield_capacity(tmp_path):
    res = run("amit1985_hopfield_capacity", tmp_path)
    a = np.array(res["alphas"])
    heb = np.array(res["overlap"]["hebbian_N500"])
    # Amit, Gutfreund & Sompolinsky 1985: retrieval up to alpha_c ~ 0.138, none beyond
    assert heb[a == 0.05][0] > 0.99 and heb[a == 0.2][0] < 0.9
    assert 0.12 < res["hebbian_alpha_at_m09"] < 0.17
    # Storkey (1997) stores more than Hebbian; the projection rule (Kanter & Sompolinsky
    # 1987) recalls perfectly to alpha = 0.5 from 5% noise, here still at m > 0.9 from 10%
    assert res["storkey_alpha_at_m09"] > 1.5 * res["hebbian_alpha_at_m09"]
    assert res["pseudo_inverse_alpha_at_m09"] > 0.45


def test_hopfield1984_energy(tmp_path):
    res = run("hopfield1984_energy", tmp_path)
    assert res["max_energy_rise"] <= 0.0  # Hopfield 1984: dE/dt <= 0 on every trajectory
    assert res["energy_drop_min"] > 0.0
    # high gain: every stored pattern (and its negative) is a stable equilibrium, and every
    # stable equilibrium is a fixed point of the two-state network; low gain: the origin only
    assert res["memories_found"][-1] == 2 * res["p"]
    assert all(res["stable_are_discrete_fixed_points"][-2:])
    assert res["n_stable"][0] == 1 and res["memories_found"][0] == 0


def test_ramsauer2020_modern_hopfield(tmp_path):
    res = run("ramsauer2020_modern_hopfield", tmp_path)
    err = np.array(res["error_rate"])
    betas, Ns = res["betas"], res["N"]
    # Ramsauer et al. 2020: exponential capacity -- at large beta 5000 patterns in d = 64
    # (~570 x 0.138 d) are retrieved in one step; at small beta queries fall to averages
    assert Ns[-1] >= 5000 and err[betas.index(2.0), -1] == 0.0
    assert err[betas.index(0.02)].min() == 1.0
    # the three kinds of fixed point (their Sec. 2 / Fig. 2)
    kinds = res["fixed_point_kinds"]
    assert kinds["0.2"] == {"single": 0, "metastable": 0, "global": 1}
    assert kinds["5.0"] == {"single": 2, "metastable": 1, "global": 0}
    assert kinds["300.0"] == {"single": 4, "metastable": 0, "global": 0}


def test_kosko1988_bam(tmp_path):
    res = run("kosko1988_bam", tmp_path)
    acc = res["accuracy"]
    K = res["K"]
    # a few pairs are always recalled; crosstalk destroys recall by K = 20 (n = 100, m = 60)
    assert acc["0.1"][K.index(3)] == 1.0 and acc["0.0"][K.index(4)] == 1.0
    assert max(a[K.index(20)] for a in acc.values()) < 0.2


def test_yamashita2008_mtrnn(tmp_path):
    res = run("yamashita2008_mtrnn", tmp_path)
    assert res["tau"]["slow"] == 10 * res["tau"]["fast"]
    # the slow group's power sits at several times lower frequencies than the fast group's
    assert res["centroid_ratio_fast_over_slow"] > 3.0
    assert res["centroid"]["io"] > res["centroid"]["fast"] > res["centroid"]["slow"]
