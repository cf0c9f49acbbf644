"""The Lyapunov studies run in quick mode and reproduce their headline facts.

Sompolinsky, Crisanti & Sommers (1988, PRL 61:259): the largest exponent of a random rate
network crosses zero at g = 1 (N -> inf); below, it is the exponent of the stable fixed point
x = 0, -1 + max Re eig(J), exactly. Engelken, Wolf & Abbott (2023, PRR 5:043044): chaos is
extensive (spectra of different N collapse as functions of i/N), the attractor dimension is
much smaller than N, and the mean exponent is -1 (trace of the Jacobian is -N).
"""
import json
from pathlib import Path

import numpy as np
import pytest

from rnndyn import cli

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def load(name):
    return cli.load(STUDIES / f"{name}.py")  # as ``rnndyn figures`` imports a study


# sompolinsky1988_transition_to_chaos in quick mode: tests/test_studies_dmft.py


def test_engelken2023_quick(tmp_path):
    mod = load("engelken2023_lyapunov_spectra")
    assert mod.__doc__.splitlines()[0].startswith("Reproduces the spectra figures of: Engelken")
    out = mod.run(quick=True, out=tmp_path)
    name = "engelken2023_lyapunov_spectra"
    assert (tmp_path / f"{name}.png").stat().st_size > 0
    assert json.loads((tmp_path / f"{name}.json").read_text()) == out
    assert out["n_realisations"] >= 5  # averages over realisations, not single networks
    # mean exponent -1 exactly for the flow (rk4 tangent map: O(dt^4))
    assert out["mean_exponent_max_error"] < 1e-3
    for n in map(str, out["sizes"]):
        d = np.array(out["d_ky_per_n"][n]["mean"])
        h = np.array(out["h_ks_per_n"][n]["mean"])
        assert np.all((d >= 0) & (d < 0.5))  # attractor dimension much smaller than N
        assert np.all(h >= 0)
        assert np.all(np.array(out["d_ky_per_n"][n]["sem"]) >= 0)
    # per realisation: D_KY = h_KS = 0 without a positive exponent, D_KY >= 1 and h_KS >=
    # lambda_1 with one; the stored means are the means of the stored realisations (small
    # networks at large g often settle on a fixed point: N = 40 at g = 5 did, for all five)
    npz = np.load(tmp_path / f"{name}.npz")
    for n in out["sizes"]:
        lam1, d, h = (npz[f"{q}_N{n}"] for q in ("lambda1", "d_ky_per_n", "h_ks_per_n"))
        chaotic = lam1 > 0
        assert np.all(d[~chaotic] == 0) and np.all(h[~chaotic] == 0)
        assert np.all(d[chaotic] * n >= 1) and np.all(h[chaotic] * n >= lam1[chaotic] - 1e-12)
        np.testing.assert_allclose(d.mean(axis=1), out["d_ky_per_n"][str(n)]["mean"])
        assert out["non_chaotic_realisations"][str(n)] == \
            (lam1 < mod.CHAOS_THRESHOLD).sum(axis=1).tolist()
    # size invariance: mean spectra of N = 20, 40 lie on the N = 60 curve of i/N to within a
    # small fraction of the spectrum's range (~1.5 here)
    for err in out["collapse_error_vs_largest_n"].values():
        assert err < 0.15


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sompolinsky1988_transition_to_chaos",
                                  "engelken2023_lyapunov_spectra"])
def test_full_studies(tmp_path, name):
    out = load(name).run(quick=False, out=tmp_path)
    if name.startswith("sompolinsky"):
        # Finite networks (N = 200, 400; T = 500) leave the fixed point at g ~ 1 but often sit
        # on limit cycles (lambda_1 ~ 0) up to g ~ 1.5 before turning chaotic (at N = 200,
        # g = 1.5 two of the six networks have lambda_1 = 1e-4), so the mean of the six first
        # rises above -0.01 late: 1.35 (N = 200) and 1.14 (N = 400) in the full runs of
        # 2026-11-26 and -27 (six networks, other seeds and gains than the three of 2026-11-21,
        # which gave 1.22 and 1.20). The sharp transition at g = 1 holds for N -> inf: the
        # bound tightens with N.
        for n, g in out["g_cross"].items():
            assert 0.9 < g < (1.45 if n == "200" else 1.25)
    else:
        assert max(out["collapse_error_vs_largest_n"].values()) < 0.05
        assert out["mean_exponent_max_error"] < 1e-3
