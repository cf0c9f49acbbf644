"""The dynamic mean-field theory (DMFT) of Sompolinsky, Crisanti & Sommers (1988, PRL 61:259)
solved in the transition-to-chaos study, and the study's quick run against it.

Known truth: lambda_1 = g - 1 for g <= 1 (x = 0 stable, Delta = 0); lambda_1 = 0 at g = 1;
lambda_1 ~ (g - 1)^2 / 2 as g -> 1+ (near the transition Delta ~ Delta_0 sech(sqrt(a) tau),
a Poeschl-Teller well with E_0 = -3a, a ~ (g - 1)^2 / 3: SCS 1988 give lambda_1 ~ (g - 1)^2);
the zero mode Delta'(tau) has energy 0 (time-translation invariance); for large g the unit
is saturated, tanh -> sign, so Delta_0 -> 2 (1 - 2/pi) g^2 (energy condition with
ln cosh y -> |y|), and the ground state lies above the bottom of the well,
E_0 >= 1 - g^2 <tanh'(y)^2>.
"""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

STUDIES = Path(__file__).resolve().parents[1] / "studies"
NAME = "sompolinsky1988_transition_to_chaos"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location(NAME, STUDIES / f"{NAME}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gauss_pair_plain_numpy(study):
    # <tanh(y1) tanh(y2)> against Monte Carlo of correlated Gaussians; the ends: Delta = 0
    # gives <tanh>^2 = 0, Delta = Delta_0 gives <tanh^2>
    rng = np.random.default_rng(0)
    d0, d = 2.0, 1.2
    z = rng.normal(size=(2, 400_000))
    y1 = np.sqrt(d0) * z[0]
    y2 = (d / d0) * y1 + np.sqrt(d0 - d * d / d0) * z[1]
    mc = np.mean(np.tanh(y1) * np.tanh(y2))
    got = study.gauss_pair(np.tanh, [0.0, d, d0], d0)
    assert got[0] == pytest.approx(0.0, abs=1e-14)
    assert got[1] == pytest.approx(mc, abs=4e-3)
    assert got[2] == pytest.approx(np.mean(np.tanh(np.sqrt(d0) * z[0]) ** 2), abs=3e-3)


def test_below_and_at_transition(study):
    for g in (0.3, 0.8, 1.0):
        assert study.dmft_lyapunov(g)["lambda"] == pytest.approx(g - 1.0, abs=1e-15)
    # continuity from above: lambda_1 -> 0 as g -> 1+
    assert 0.0 < study.dmft_lyapunov(1.01)["lambda"] < 1e-4


def test_near_transition_asymptotics(study):
    # lambda_1 / (g - 1)^2 -> 1/2; the correction is O(g - 1)
    g = np.array([1.01, 1.02, 1.04])
    ratio = np.array([study.dmft_lyapunov(x)["lambda"] for x in g]) / (g - 1) ** 2
    assert np.all(np.diff(ratio) < 0)
    slope = np.diff(ratio) / np.diff(g)
    assert ratio[0] - slope[0] * 0.01 == pytest.approx(0.5, abs=0.01)  # extrapolated to g = 1
    # Delta_0 ~ g - 1 at the transition
    assert study.dmft_delta0(1.01) / 0.01 == pytest.approx(1.0, abs=0.02)


def test_zero_mode_and_energy_condition(study):
    for g in (1.5, 2.0, 3.0):
        odd = study.dmft_lyapunov(g, parity=1)
        assert abs(odd["E"]) < 1e-5  # Delta' is an eigenfunction with E = 0
        even = study.dmft_lyapunov(g)
        assert even["E"] < -0.05  # the ground state lies below it: chaos
        # the orbit reaches Delta = 0 with zero velocity, so the tail decays as exp(-sqrt(a) t)
        assert even["delta"][0] == pytest.approx(even["delta0"], rel=1e-4)
        assert even["delta"][-1] == 0.0


def test_value_at_g2_is_grid_converged(study):
    # lambda_1(g = 2) = 0.1125 (N -> inf); finite-difference grid and quadrature converged
    coarse, fine = (study.dmft_lyapunov(2.0, n_grid=n)["lambda"] for n in (4000, 16000))
    assert fine == pytest.approx(coarse, abs=2e-5)
    assert fine == pytest.approx(0.11246, abs=1e-4)


def test_large_g(study):
    # saturated units: Delta_0 / g^2 -> 2 (1 - 2/pi) = 0.7268 (from below, slowly)
    ratios = [study.dmft_delta0(g) / g ** 2 for g in (5.0, 10.0, 20.0)]
    assert np.all(np.diff(ratios) > 0)
    assert ratios[-1] == pytest.approx(2 * (1 - 2 / np.pi), rel=0.02)
    lam = [study.dmft_lyapunov(g)["lambda"] for g in (1.5, 2.0, 3.0, 5.0, 10.0)]
    assert np.all(np.diff(lam) > 0)  # more chaotic with gain
    for g in (3.0, 10.0):  # E_0 >= min of the well, 1 - g^2 <tanh'^2>
        d0 = study.dmft_delta0(g)
        bound = -1.0 + g * np.sqrt(study.gauss_pair(study._dtanh, [d0], d0)[0])
        assert study.dmft_lyapunov(g)["lambda"] < bound


def test_extrapolate_exact_line(study):
    sizes = np.array([200, 400, 1000, 2000])
    lam = 0.11 - 14.0 / sizes[:, None] + np.array([[-1e-3, 1e-3]])  # two networks per N
    inf, se, c = study.extrapolate(sizes, lam)
    assert inf == pytest.approx(0.11, abs=1e-12)
    assert c == pytest.approx(-14.0, abs=1e-9)
    assert 0 < se < 2e-3


def test_quick_study_numbers(study, tmp_path):
    assert study.__doc__.splitlines()[0].startswith(
        "Largest-Lyapunov-exponent figure of: Sompolinsky")
    out = study.run(quick=True, out=tmp_path)
    assert json.loads((tmp_path / f"{NAME}.json").read_text()) == out
    data = np.load(tmp_path / f"{NAME}.npz")
    assert (tmp_path / f"{NAME}.png").stat().st_size > 0
    assert data["lambda_max"].shape == (1, 1, len(data["gains"]))
    # transition near g = 1 (finite N = 200 shifts it by O(N^-1/2) via the edge of the
    # circular law, max Re eig(J) ~ g (1 + O(N^-1/2))); below it the exponent is exactly the
    # fixed point's
    assert 0.85 < out["g_cross"]["200"] < 1.2
    assert out["fixed_point_max_error"] < 5e-3
    # the theory curve is computed: g - 1 below 1, positive above, 0.1125 at g = 2
    g, lam = np.array(out["dmft"]["g"]), np.array(out["dmft"]["lambda"])
    np.testing.assert_allclose(lam[g <= 1], g[g <= 1] - 1, atol=1e-15)
    assert np.all(lam[g > 1] > 0)
    assert out["lambda_dmft_at_g2"] == pytest.approx(0.11246, abs=1e-4)
    # below the transition simulation and theory agree (finite-N shift O(N^-1/2) of the edge
    # of the circular law: ~0.03 at N = 200)
    sim = data["lambda_max"][0, 0]
    gains = data["gains"]
    assert np.all(np.abs(sim[gains < 0.9] - (gains[gains < 0.9] - 1)) < 0.05)
    # finite size at g = 2: two networks each of N = 200, 400; the larger N is closer to the
    # theory, and the 1/N extrapolation lies within 3 standard errors of it
    fs = out["finite_size_at_g2"]
    assert fs["200"] < fs["400"] < out["lambda_dmft_at_g2"] + 0.02
    err = abs(out["lambda_extrapolated_at_g2"] - out["lambda_dmft_at_g2"])
    assert err < 3 * out["lambda_extrapolated_at_g2_se"]
    assert out["extrapolated"]["2"]["lambda_inf"] == out["lambda_extrapolated_at_g2"]
    # the figure and summary again from the saved arrays: the same summary
    with np.load(tmp_path / f"{NAME}.npz") as saved:
        assert study.report(dict(saved), True, tmp_path / "again") == out
