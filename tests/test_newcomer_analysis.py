"""Regressions from a new user's first session with rnndyn.analysis: fixed points of a
``Stacked`` cell, the start box of discrete cells, slow points labelled as such, and
Lyapunov convergence judged per exponent (README's Lorenz example)."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from numba import njit

import rnndyn as rd
from rnndyn.analysis import find_fixed_points, jacobian_eigenvalues, random_starts
from rnndyn.analysis.lyapunov import ConvergenceWarning, largest_lyapunov, lyapunov_spectrum


def _check_map_fixed_points(model, fp, u):
    """Every row is a true fixed point of the map with the model's own Jacobian spectrum."""
    assert len(fp) >= 1 and fp.is_fixed.all()
    for x, ev in zip(fp.points, fp.eigenvalues):
        np.testing.assert_allclose(model.step(x, u), x, atol=1e-9)
        want = np.linalg.eigvals(model.jacobian(x, u))
        np.testing.assert_allclose(np.sort_complex(ev), np.sort_complex(want), atol=1e-9)


# -- 1. Stacked models -----------------------------------------------------------------------
def test_fixed_points_of_a_stacked_gru():
    # its parameters are a tuple of per-layer tuples, which numba's parallel (prange)
    # kernels cannot take as an argument: this used to end in a raw numba error
    m = rd.Stacked((rd.GRU.random(2, 4, seed=0), rd.GRU.random(4, 3, seed=1)))
    for u in (None, [0.5, -1.0]):
        fp = find_fixed_points(m, 16, u=u, seed=0)
        uu = np.zeros(2) if u is None else np.asarray(u)
        _check_map_fixed_points(m, fp, uu)
        assert fp.n_failed == 0
    ev = jacobian_eigenvalues(m, fp.points, u=[0.5, -1.0])
    np.testing.assert_array_equal(ev, fp.eigenvalues)


@pytest.mark.slow
def test_stacked_minimize_and_basins_run():
    m = rd.Stacked((rd.GRU.random(2, 4, seed=0), rd.GRU.random(4, 3, seed=1)))
    fp = find_fixed_points(m, 8, method="minimize", seed=0)
    _check_map_fixed_points(m, fp, np.zeros(2))


# -- 2. start box of discrete cells ----------------------------------------------------------
def test_gru_default_starts_converge_inside_the_unit_box():
    # every GRU fixed point satisfies h = n in (-1, 1); from the old box (-10, 10) the gates
    # saturate (z -> 1 makes F(h) - h ~ 1e-11 far out): spurious "fixed points" at |h| ~ 100
    # and starts that never converge
    for m in (rd.GRU.random(2, 4, seed=0), rd.GRU.random(1, 32, seed=0)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a good default run warns about nothing
            fp = find_fixed_points(m, 64, seed=0)
        _check_map_fixed_points(m, fp, np.zeros(m.n_in))
        assert np.all(np.abs(fp.points) < 1)
        assert fp.n_failed <= 16, fp.n_failed
        assert len(fp) == 1 and fp.hits[0] >= 48


@pytest.mark.slow  # compile-heavy; the GRU box test covers the default-box path
def test_lstm_default_box_covers_the_cell_state():
    # a strong forget gate (f ~ 0.95) puts the cell state c* = i g / (1 - f) far above 1,
    # while h = o tanh(c) stays in (-1, 1): the default box must reach it
    H = 2
    b = np.concatenate([np.full(H, 3.0), np.full(H, 3.0), np.full(H, 1.0), np.zeros(H)])
    W_hh = 0.1 * np.random.default_rng(0).standard_normal((4 * H, H))
    m = rd.LSTM(W_ih=np.zeros((4 * H, 1)), W_hh=W_hh, b_ih=b, b_hh=np.zeros(4 * H))
    X = random_starts(m, 64, seed=0)
    assert X[:, :H].min() >= -1 and X[:, :H].max() <= 1  # h
    assert X[:, H:].max() > 5  # c
    fp = find_fixed_points(m, 64, seed=0)
    _check_map_fixed_points(m, fp, np.zeros(1))
    assert np.all(fp.points[:, H:] > 5)
    assert fp.n_failed == 0


def test_flows_keep_the_generic_box():
    net = rd.CTRNN(W=[[8.0]], bias=[-4.0])
    a = find_fixed_points(net, 32, seed=0)
    b = find_fixed_points(net, 32, bounds=(-10.0, 10.0), seed=0)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(random_starts(net, 8, seed=3),
                                  random_starts(net, 8, bounds=(-10.0, 10.0), seed=3))


def test_mostly_failed_starts_warn_with_counts_and_advice():
    m = rd.GRU.random(1, 32, seed=0)
    with pytest.warns(RuntimeWarning, match=r"(\d+) of 64 starts") as rec:
        fp = find_fixed_points(m, 64, bounds=(-10.0, 10.0), seed=0)
    msg = str(rec[0].message)
    assert int(re.search(r"(\d+) of 64 starts", msg).group(1)) == fp.n_failed > 48
    assert "bounds" in msg and "starts" in msg  # what to try


# -- 3. slow points are not "stable" ---------------------------------------------------------
def test_slow_points_are_labelled_slow_not_stable():
    w = 8.0
    a, c = 2 * np.log((np.sqrt(w) + np.sqrt(w - 4)) / 2), np.sqrt(w * (w - 4))
    net = rd.CTRNN(W=[[w]], bias=[a - (w + c) / 2 - 0.01])  # just past the fold: a ghost
    fp = find_fixed_points(net, 64, bounds=(-2, 10), slow_speed=0.05, seed=0)
    slow = ~fp.is_fixed
    assert slow.sum() == 1
    assert list(fp.stability[slow]) == ["slow point"]
    assert list(fp.stability[~slow]) == ["stable"]
    assert fp.is_stable.tolist() == (~slow).tolist()
    assert fp.n_unstable[slow][0] == 0  # the linearisation is still reported


# -- 4. Lyapunov convergence -----------------------------------------------------------------
@njit(cache=True)
def _lorenz_rhs(t, y, u, p, dy, work):
    dy[0] = p[0] * (y[1] - y[0]); dy[1] = y[0] * (p[1] - y[2]) - y[1]; dy[2] = y[0] * y[1] - p[2] * y[2]  # noqa: E702,E501


@njit(cache=True)
def _lorenz_jac(t, y, u, p, J, work):
    J[0, 0], J[0, 1], J[0, 2] = -p[0], p[0], 0.0
    J[1, 0], J[1, 1], J[1, 2] = p[1] - y[2], -1.0, -y[0]
    J[2, 0], J[2, 1], J[2, 2] = y[1], y[0], -p[2]


@njit(cache=True)
def _rossler_rhs(t, y, u, p, dy, work):
    dy[0] = -y[1] - y[2]
    dy[1] = y[0] + p[0] * y[1]
    dy[2] = p[1] + y[2] * (y[0] - p[2])


@njit(cache=True)
def _rossler_jac(t, y, u, p, J, work):
    J[0, 0], J[0, 1], J[0, 2] = 0.0, -1.0, -1.0
    J[1, 0], J[1, 1], J[1, 2] = 1.0, p[0], 0.0
    J[2, 0], J[2, 1], J[2, 2] = y[2], 0.0, y[0] - p[2]


LORENZ = np.array([0.9056, 0.0, -14.5723])  # Sprott, Chaos and Time-Series Analysis (2003)


def test_readme_lorenz_example_converges():
    # README.md, "a user-defined @njit ODE": the analytic-Jacobian Flow and the README's own
    # call (read from README.md), which used to warn and give 0.894: no transient was
    # discarded and 1000 time units leave lambda_1 uncertain by ~0.01
    readme = Path(__file__).resolve().parent.parent / "README.md"
    if not readme.is_file():
        pytest.skip("README.md is not beside tests/")
    line = next(ln for ln in readme.read_text(encoding="utf-8").splitlines()
                if ln.startswith("res = rd.analysis.lyapunov_spectrum(flow,"))
    ns = {"rd": rd, "flow": rd.Flow(_lorenz_rhs, _lorenz_jac, p=[10, 28, 8 / 3], dim=3)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        exec(line, ns)
    res = ns["res"]
    assert res.converged is True and res.message.startswith("converged")
    assert res.exponents[0] == pytest.approx(0.906, abs=0.01)
    np.testing.assert_allclose(res.exponents, LORENZ, atol=0.01)
    assert res.kaplan_yorke() == pytest.approx(2.06, abs=0.01)


def test_tolerance_scales_with_each_exponent():
    # Roessler (a, b, c) = (0.2, 0.2, 5.7): exponents (0.0714, 0, -5.3943) (Sprott, Chaos and
    # Time-Series Analysis, 2003). The divergence a + x - c swings with x, so the running
    # estimate of lambda_3 fluctuates by ~0.02 while lambda_1, lambda_2 settle to 0.005: one
    # absolute tol = 0.01 called this run unconverged although lambda_3 is settled to 0.3%.
    ross = rd.Flow(_rossler_rhs, _rossler_jac, p=[0.2, 0.2, 5.7], dim=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = lyapunov_spectrum(ross, [1, 1, 0], t_total=2000, dt=0.01, t_transient=50, seed=0)
    assert res.converged is True
    np.testing.assert_allclose(res.exponents, [0.0714, 0.0, -5.3943], atol=0.01)


def test_unconverged_message_names_the_exponent():
    with pytest.warns(ConvergenceWarning, match=r"exponent \d") as rec:
        res = lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], t_total=20, dt=0.01, seed=0)
    assert res.converged is False
    msg = str(rec[0].message)
    # which exponent, its value, how much it still varies and its own tolerance
    m = re.search(r"exponent (\d) \(([-\d.e+]+)\)", msg)
    assert m, msg
    j = int(m.group(1)) - 1
    assert float(m.group(2)) == pytest.approx(res.exponents[j], abs=1e-3)
    assert "tol" in msg and "t_total" in msg


def test_orthonormalisation_interval_longer_than_the_run_is_clamped():
    args = dict(y0=[1.0, 1.0, 20.0], t_total=10, dt=0.01, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 1 checkpoint: too few to judge
        long = lyapunov_spectrum(rd.lorenz(), t_ortho=20, **args)
        exact = lyapunov_spectrum(rd.lorenz(), t_ortho=10, **args)
        two = largest_lyapunov(rd.lorenz(), t_renorm=50, **args)
        two_exact = largest_lyapunov(rd.lorenz(), t_renorm=10, **args)
    np.testing.assert_array_equal(long.exponents, exact.exponents)
    np.testing.assert_array_equal(two.exponents, two_exact.exponents)
    np.testing.assert_array_equal(long.times, [10.0])


def test_stacked_runs_large_batches_in_the_serial_kernels():
    # numba's parallel kernels cannot take a Stacked model's nested parameter tuples
    deep = rd.Stacked((rd.GRU.random(3, 16, seed=0), rd.GRU.random(16, 16, seed=1)))
    x = np.random.default_rng(0).normal(size=(20, 256, 3))
    res = rd.run(deep, x)
    one = rd.run(deep, x[:, 7])
    np.testing.assert_allclose(res.states[:, 7], one.states, rtol=1e-12, atol=1e-13)
    tr = rd.simulate(deep, np.zeros(deep.n), np.arange(6), inputs=np.ones((6, 3)))
    assert tr.y.shape == (6, deep.n)
