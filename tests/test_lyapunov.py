"""Lyapunov exponents (rnndyn.analysis.lyapunov) against known truth.

Truth used here: published exponents of the Lorenz system and the logistic map, exact
exponents of linear systems (real parts of eigenvalues / log-moduli for maps), exact
phase-space contraction identities (sum of exponents = time-averaged trace or log-determinant
of the Jacobian), a plain-numpy Benettin loop, and a two-trajectory estimate that needs no
Jacobian.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import rnndyn as rd
from rnndyn.analysis.lyapunov import (ConvergenceWarning, LyapunovResult, kaplan_yorke_dimension,
                                      ks_entropy, largest_lyapunov, lyapunov_spectrum)
from rnndyn.errors import ValidationError

pytestmark = pytest.mark.filterwarnings("ignore::rnndyn.analysis.lyapunov.ConvergenceWarning")

# Lorenz (10, 28, 8/3): Sprott, Chaos and Time-Series Analysis (OUP 2003), table of exponents;
# the sum is -(sigma + 1 + beta) exactly (constant divergence of the vector field).
LORENZ = np.array([0.9056, 0.0, -14.5723])


# -- user models: linear flow dy/dt = A y + B u and linear map h <- M h ----------------------
@njit(cache=True)
def _lin_rhs(t, y, u, p, dy, work):
    n = y.shape[0]
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += p[i * n + j] * y[j]
        for k in range(u.shape[0]):
            s += p[n * n + i * u.shape[0] + k] * u[k]
        dy[i] = s


@njit(cache=True)
def _lin_jac(t, y, u, p, J, work):
    n = y.shape[0]
    for i in range(n):
        for j in range(n):
            J[i, j] = p[i * n + j]


@njit(cache=True)
def _lin_step(h, x, p, h_new, work):
    n = h.shape[0]
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += p[i * n + j] * h[j]
        h_new[i] = s


@njit(cache=True)
def _lin_map_jac(h, x, p, J, work):
    n = h.shape[0]
    for i in range(n):
        for j in range(n):
            J[i, j] = p[i * n + j]


def linear_flow(A, B=None):
    A = np.asarray(A, float)
    n_in = 0 if B is None else np.asarray(B).shape[1]
    p = A.ravel() if B is None else np.concatenate([A.ravel(), np.asarray(B, float).ravel()])
    return rd.Flow(_lin_rhs, _lin_jac, p=p, dim=A.shape[0], n_in=n_in, name="linear")


def normal_matrix(seed=0):
    """O diag-block(rotation-scaling, reals) O^T: a normal matrix whose eigenvalues are
    -0.3 +- 2i, 0.2, -1.1 (and whose exponents are exactly their real parts)."""
    B = np.zeros((4, 4))
    B[:2, :2] = [[-0.3, 2.0], [-2.0, -0.3]]
    B[2, 2], B[3, 3] = 0.2, -1.1
    O, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((4, 4)))
    return O @ B @ O.T


def rate_net(n, g, seed=1, **kw):
    return rd.CTRNN.from_graph(rd.graphs.random_network(n, g=g, seed=seed, **kw))


def numpy_benettin(model, y0, Q0, t_total, dt, t_ortho):
    """Plain-numpy QR method for a flow: rk4 on the state and the tangent basis, using the
    model's pure (allocating) rhs/jacobian methods; QR every t_ortho."""
    y, Y = np.array(y0, float), Q0.copy()
    n_steps, every = int(round(t_total / dt)), int(round(t_ortho / dt))
    sums = np.zeros(Y.shape[1])
    for s in range(n_steps):
        t = s * dt
        k1, A1 = model.rhs(t, y), model.jacobian(t, y) @ Y
        y2, Y2 = y + dt / 2 * k1, Y + dt / 2 * A1
        k2, A2 = model.rhs(t + dt / 2, y2), model.jacobian(t + dt / 2, y2) @ Y2
        y3, Y3 = y + dt / 2 * k2, Y + dt / 2 * A2
        k3, A3 = model.rhs(t + dt / 2, y3), model.jacobian(t + dt / 2, y3) @ Y3
        y4, Y4 = y + dt * k3, Y + dt * A3
        k4, A4 = model.rhs(t + dt, y4), model.jacobian(t + dt, y4) @ Y4
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        Y = Y + dt / 6 * (A1 + 2 * A2 + 2 * A3 + A4)
        if (s + 1) % every == 0 or s == n_steps - 1:
            Y, R = np.linalg.qr(Y)
            sums += np.log(np.abs(np.diag(R)))
    return np.sort(sums / (n_steps * dt))[::-1]


# -- published values -----------------------------------------------------------------------
def test_lorenz_spectrum_and_sum():
    res = lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], t_total=1000, dt=0.01,
                            t_transient=10, seed=0)
    assert isinstance(res, LyapunovResult)
    assert res.exponents.shape == (3,) and res.complete
    assert np.all(np.diff(res.exponents) <= 0)
    np.testing.assert_allclose(res.exponents, LORENZ, atol=0.02)
    assert abs(res.exponents.sum() - (-(10 + 1 + 8 / 3))) < 1e-3
    # Kaplan-Yorke dimension 2 + 0.9056/14.5723 = 2.062 (Sprott 2003)
    assert res.kaplan_yorke() == pytest.approx(2.062, abs=2e-3)
    assert res.ks_entropy() == pytest.approx(res.exponents[0])


def test_lorenz_two_trajectory_cross_check():
    res = lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], t_total=1000, dt=0.01,
                            t_transient=10, k=1, seed=0)
    two = largest_lyapunov(rd.lorenz(), [1.0, 1.0, 20.0], t_total=1000, dt=0.01,
                           t_transient=10, seed=0)
    assert two.method == "two-trajectory" and two.exponents.shape == (1,)
    assert two.largest == pytest.approx(LORENZ[0], abs=0.03)
    assert two.largest == pytest.approx(res.largest, abs=0.03)


def test_two_trajectory_needs_no_jacobian():
    no_jac = rd.Flow(rd.models.user._lorenz_rhs, None, p=[10.0, 28.0, 8 / 3], dim=3)
    two = largest_lyapunov(no_jac, [1.0, 1.0, 20.0], t_total=500, dt=0.01, t_transient=10,
                           seed=1)
    assert two.largest == pytest.approx(LORENZ[0], abs=0.05)


@pytest.mark.parametrize("fn", [lyapunov_spectrum, largest_lyapunov])
def test_logistic_map_ln2(fn):
    res = fn(rd.logistic_map(4.0), [0.3], t_total=100_000, t_transient=100, seed=0)
    assert res.largest == pytest.approx(np.log(2), abs=5e-3)
    assert res.converged


def test_map_dt_scales_to_time_units():
    per_step = lyapunov_spectrum(rd.logistic_map(4.0), [0.3], t_total=10_000, seed=0)
    per_time = lyapunov_spectrum(rd.logistic_map(4.0), [0.3], t_total=10_000, dt=0.5, seed=0)
    np.testing.assert_allclose(per_time.exponents, per_step.exponents / 0.5, rtol=1e-12)


# -- linear systems: exact ------------------------------------------------------------------
def test_linear_flow_normal_matrix_exact():
    """For a normal A the tangent flow exp(At) is conformal on each invariant block, so after
    the basis has aligned (transient) every QR growth factor is exactly exp(Re(lambda) t_ortho)
    (rk4 changes it by O(dt^4)): the exponents equal the real parts to ~1e-8."""
    A = normal_matrix()
    res = lyapunov_spectrum(linear_flow(A), np.ones(4), t_total=50, dt=0.01, t_transient=50,
                            seed=3)
    want = np.sort(np.linalg.eigvals(A).real)[::-1]
    np.testing.assert_allclose(res.exponents, want, atol=1e-7)


def test_linear_flow_non_normal_matrix():
    """Non-normal A (triangular): exponents -> real parts of the eigenvalues, with an O(1/T)
    bias from the non-orthogonal eigenvectors."""
    A = np.array([[0.1, 3.0, -1.0], [0.0, -0.4, 2.0], [0.0, 0.0, -1.5]])
    res = lyapunov_spectrum(linear_flow(A), np.ones(3), t_total=1000, dt=0.02, t_transient=50,
                            seed=0)
    np.testing.assert_allclose(res.exponents, [0.1, -0.4, -1.5], atol=5e-3)


def test_linear_map_exact():
    M = normal_matrix(1) * 0.5 + 0.1 * np.eye(4)
    lin = rd.Map(_lin_step, _lin_map_jac, p=M.ravel(), dim=4)
    res = lyapunov_spectrum(lin, np.ones(4), t_total=200, t_transient=50, seed=0)
    want = np.sort(np.log(np.abs(np.linalg.eigvals(M))))[::-1]
    np.testing.assert_allclose(res.exponents, want, atol=1e-9)


def test_driven_linear_flow_exponents_ignore_input():
    """dy/dt = A y + B u(t): the tangent dynamics do not see u, so the conditional exponents
    are still the real parts of A's eigenvalues."""
    A = normal_matrix()
    m = linear_flow(A, B=np.ones((4, 1)))
    res = lyapunov_spectrum(m, np.ones(4), t_total=50, dt=0.01, t_transient=50, seed=3,
                            inputs=lambda t: [np.sin(3 * t)])
    np.testing.assert_allclose(res.exponents, np.sort(np.linalg.eigvals(A).real)[::-1],
                               atol=1e-7)


@pytest.mark.parametrize("form", ["array", "callable"])
def test_driven_neuron_conditional_exponent(form):
    """One tanh unit dy/dt = -y + w tanh(y) + u(t): the exponent of a 1-D flow is the time
    average of f'(y(t)) = -1 + w sech^2(y(t)) along the driven trajectory (exact; rk4 changes
    it by O(dt^4)). Reference: rd.simulate on the same grid and the trapezoid rule."""
    dt, T = 0.01, 200.0
    net = rd.CTRNN(W=[[2.5]], W_in=[[1.5]], activation="tanh")
    t = dt * np.arange(int(T / dt) + 1)
    u = np.sin(0.7 * t)[:, None]
    inputs = u if form == "array" else (lambda s: [np.sin(0.7 * s)])
    res = lyapunov_spectrum(net, [0.1], t_total=T, dt=dt, inputs=inputs, seed=0)
    tr = rd.simulate(net, [0.1], t, dt=dt, inputs=u)
    fprime = -1.0 + 2.5 / np.cosh(tr.y[:, 0]) ** 2
    want = np.sum((fprime[1:] + fprime[:-1]) / 2) * dt / T
    assert res.largest == pytest.approx(want, abs=1e-3)
    # the undriven unit sits at a stable fixed point: a different, negative exponent
    free = lyapunov_spectrum(rd.CTRNN(W=[[2.5]], activation="tanh"), [0.1], t_total=T, dt=dt)
    assert free.largest < 0 and abs(free.largest - res.largest) > 0.05


# -- recurrent networks ---------------------------------------------------------------------
def test_ctrnn_oscillator_has_zero_and_negative_exponent():
    """The 2-neuron CTRNN oscillator of MODELS.md (Beer 1995) has a stable limit cycle: one
    zero exponent (along the orbit) and one negative (transverse)."""
    net = rd.CTRNN(W=[[4.5, 1.0], [-1.0, 4.5]], bias=[-2.75, -1.75])
    res = lyapunov_spectrum(net, [0.1, 0.2], t_total=2000, dt=0.05, t_transient=100, seed=0)
    assert abs(res.exponents[0]) < 5e-3
    assert res.exponents[1] < -0.05


def test_matches_plain_numpy_benettin():
    net = rate_net(12, g=3.0)
    y0 = np.random.default_rng(5).normal(size=12)
    Q0, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((12, 12)))
    res = lyapunov_spectrum(net, y0, t_total=20, dt=0.05, t_ortho=0.5, seed=7)
    ref = numpy_benettin(net, y0, Q0, 20, 0.05, 0.5)
    np.testing.assert_allclose(res.exponents, ref, atol=1e-8)


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
@pytest.mark.parametrize("n", [7, 130])  # loops; BLAS (ctrnn.BLAS_FROM = 128)
def test_ctrnn_matrix_free_tangent_is_jacobian_product(act, n):
    """The CTRNN's jvp (what the tangent dynamics use) equals its Jacobian times Y, masked
    (zero) weights and inputs included."""
    rng = np.random.default_rng(n)
    W = rng.normal(size=(n, n)) * (rng.random((n, n)) > 0.3)
    net = rd.CTRNN(W=W, W_in=rng.normal(size=(n, 2)), tau=rng.uniform(0.5, 2.0, n),
                   bias=rng.normal(size=n), gain=rng.uniform(0.5, 2.0, n), activation=act)
    f, p = net.functions, net.kernel_params
    y, u, Y = rng.normal(size=n), rng.normal(size=2), rng.normal(size=(n, 3))
    A = np.empty((n, 3))
    assert f.jvp(0.0, y, u, p, Y, A, np.empty((n, n)), np.empty(f.work_size(p)))
    np.testing.assert_allclose(A, net.jacobian(0.0, y, u) @ Y, rtol=1e-12, atol=1e-12)


def test_large_network_matches_plain_numpy_benettin():
    """Above BLAS_FROM units, one leading exponent (the matrix-free tangent path)."""
    net = rate_net(150, g=2.0)
    y0 = np.random.default_rng(5).normal(size=150)
    Q0, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((150, 1)))
    res = lyapunov_spectrum(net, y0, t_total=10, dt=0.1, k=1, t_ortho=1.0, seed=7)
    np.testing.assert_allclose(res.exponents, numpy_benettin(net, y0, Q0, 10, 0.1, 1.0),
                               atol=1e-8)


def test_rate_network_flow_sum_is_minus_n():
    """dx/dt = -x + J tanh(x) with J_ii = 0: trace of the Jacobian is -N at every state, so the
    exponents of the flow sum to -N (rk4's tangent map changes this by O(dt^4))."""
    net = rate_net(30, g=3.0)
    res = lyapunov_spectrum(net, np.full(30, 0.5), t_total=100, dt=0.05, seed=0)
    assert res.exponents.sum() == pytest.approx(-30.0, abs=1e-4)
    assert res.largest > 0  # chaotic at g=3


class TestEulerRateNetwork:
    """The Euler-discretised random rate network x <- x + dt(-x + J tanh x) is the map with
    Jacobian M(x) = (1-dt) I + dt J D(x), D = diag(sech^2 x). Its exponents (per unit time)
    sum to lim (1/(n dt)) sum_k ln|det M(x_k)| -- exactly, for any trajectory: the QR method's
    sum of ln|R_ii| equals ln|det| of the product of the M's. Writing
    det M = (1-dt)^N det(I + a J D), a = dt/(1-dt), gives

        sum = N ln(1-dt)/dt + (1/dt) < ln det(I + a J D) >,

    and since tr(J D) = sum_i J_ii D_i = 0 (no self-coupling) the correction starts at second
    order: -(a^2 / 2dt) < tr((JD)^2) > = O(dt) per unit. So MODELS.md's "sum = N ln(1-dt)/dt
    exactly" holds exactly for feedforward J (det(I + aJD) = 1) and otherwise to O(dt) per
    unit: at N=100, g=4 the correction measures ~1.5e-3 N at dt=0.1 (the dynamics correlate
    J_ij J_ji with D_i D_j, so it grows with N) and ~3e-4 N at dt=0.02.
    """

    def test_sum_equals_mean_log_det_of_euler_jacobian(self):
        N, dt, T = 40, 0.1, 30.0
        net = rate_net(N, g=3.0)
        x0 = np.random.default_rng(2).normal(size=N)
        res = lyapunov_spectrum(net, x0, t_total=T, dt=dt, method="euler", t_ortho=0.5,
                                seed=0)
        steps = int(round(T / dt))
        tr = rd.simulate(net, x0, dt * np.arange(steps + 1), dt=dt, method="euler")
        D = 1.0 / np.cosh(tr.y[:-1]) ** 2
        M = (1 - dt) * np.eye(N) + dt * np.asarray(net.W)[None] * D[:, None, :]
        logdet = np.linalg.slogdet(M)[1]
        assert res.exponents.sum() == pytest.approx(logdet.sum() / T, rel=1e-9)

    def test_feedforward_network_sum_is_exact(self):
        N, dt = 40, 0.1
        W = np.tril(np.random.default_rng(0).normal(0, 3 / np.sqrt(N), (N, N)), -1)
        net = rd.CTRNN(W=W, activation="tanh")
        res = lyapunov_spectrum(net, np.ones(N), t_total=20, dt=dt, method="euler", seed=0)
        assert res.exponents.sum() == pytest.approx(N * np.log(1 - dt) / dt, rel=1e-12)

    def test_sum_close_to_n_log_one_minus_dt_over_dt(self):
        N, dt = 100, 0.02
        net = rate_net(N, g=4.0)
        x0 = np.random.default_rng(2).normal(size=N)
        res = lyapunov_spectrum(net, x0, t_total=40, dt=dt, method="euler", t_transient=10,
                                seed=0)
        assert abs(res.exponents.sum() - N * np.log(1 - dt) / dt) < 1e-3 * N


def test_stable_fixed_point_spectrum_is_jacobian_real_parts():
    """Below the transition (g < 1) the rate network decays to x = 0; its exponents are the
    real parts of the eigenvalues of the Jacobian -I + J there. The sum (trace) and the
    isolated leading exponent are exact; nearly equal real parts (complex pairs, clusters)
    separate only at a rate set by their gap, so individually they get a looser tolerance."""
    net = rate_net(20, g=0.6)
    res = lyapunov_spectrum(net, np.full(20, 0.3), t_total=500, dt=0.05, t_transient=100,
                            seed=0)
    want = np.sort(np.linalg.eigvals(-np.eye(20) + np.asarray(net.W)).real)[::-1]
    assert res.exponents.sum() == pytest.approx(want.sum(), abs=1e-5)  # rk4: O(dt^4)
    assert res.exponents[0] == pytest.approx(want[0], abs=1e-5)
    np.testing.assert_allclose(res.exponents, want, atol=1e-2)


def test_partial_spectrum_equals_leading_part_of_full():
    net = rate_net(20, g=2.5)
    y0 = np.full(20, 0.5)
    full = lyapunov_spectrum(net, y0, t_total=400, dt=0.05, t_transient=50, seed=0)
    part = lyapunov_spectrum(net, y0, t_total=400, dt=0.05, t_transient=50, k=3, seed=0)
    assert part.exponents.shape == (3,) and not part.complete
    np.testing.assert_allclose(part.exponents, full.exponents[:3], atol=0.02)


def test_population_equals_singles_and_sweeps_gain():
    gains = [0.5, 1.5, 3.0]
    nets = [rate_net(15, g=g) for g in gains]
    pop = rd.CTRNN.stack(nets)
    y0 = np.full(15, 0.4)
    res = lyapunov_spectrum(pop, y0, t_total=20, dt=0.05, k=2, seed=0)
    assert res.exponents.shape == (3, 2)
    assert res.history.shape == (3, len(res.times), 2)
    assert np.shape(res.converged) == (3,)
    for j, net in enumerate(nets):
        one = lyapunov_spectrum(net, y0, t_total=20, dt=0.05, k=2, seed=0)
        np.testing.assert_allclose(res.exponents[j], one.exponents, rtol=1e-8, atol=1e-10)
    two = largest_lyapunov(pop, y0, t_total=20, dt=0.05, seed=0)
    assert two.exponents.shape == (3, 1)
    for j, net in enumerate(nets):
        one = largest_lyapunov(net, y0, t_total=20, dt=0.05, seed=0)
        np.testing.assert_allclose(two.exponents[j], one.exponents, rtol=1e-8, atol=1e-10)
    assert np.shape(res.kaplan_yorke()) == (3,) and np.shape(res.ks_entropy()) == (3,)


def test_map_population():
    pop = rd.Map.stack([rd.logistic_map(r) for r in (4.0, 3.2)])
    res = lyapunov_spectrum(pop, [0.3], t_total=20_000, t_transient=1000, seed=0)
    assert res.exponents[0, 0] == pytest.approx(np.log(2), abs=5e-3)
    assert res.exponents[1, 0] < 0  # r = 3.2: stable period-2 orbit


# -- history, convergence, warnings ---------------------------------------------------------
def test_history_and_times():
    res = lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], t_total=50, dt=0.01, t_ortho=0.5,
                            seed=0)
    assert res.times.shape == (100,) and res.history.shape == (100, 3)
    np.testing.assert_allclose(res.times, 0.5 * np.arange(1, 101))
    np.testing.assert_allclose(res.history[-1], res.exponents)


def test_long_run_history_is_thinned():
    res = lyapunov_spectrum(rd.logistic_map(4.0), [0.3], t_total=5000, seed=0)
    assert len(res.times) <= 1000 and res.times[-1] == 5000
    np.testing.assert_allclose(res.history[-1], res.exponents)


def test_not_converged_warns_and_says_so():
    with pytest.warns(ConvergenceWarning, match="not converged"):
        res = lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], t_total=3, dt=0.01, seed=0)
    assert res.converged is False and "not converged" in res.message


def test_converged_run_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = lyapunov_spectrum(rd.logistic_map(4.0), [0.3], t_total=50_000, seed=0)
    assert res.converged is True and res.message.startswith("converged")


def test_too_long_orthonormalisation_interval_warns():
    with pytest.warns(ConvergenceWarning, match="lower t_ortho"):
        lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], t_total=100, dt=0.01, t_ortho=5.0,
                          seed=0)


def test_seed_reproducible():
    a = lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], t_total=20, dt=0.01, seed=4)
    b = lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], t_total=20, dt=0.01, seed=4)
    np.testing.assert_array_equal(a.exponents, b.exponents)


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, attr", [
    (dict(k=4), "k"), (dict(k=0), "k"), (dict(k=1.5), "k"),
    (dict(t_total=0), "t_total"), (dict(t_total=-1), "t_total"),
    (dict(dt=0), "dt"), (dict(dt=-0.1), "dt"), (dict(dt=None), "dt"),
    (dict(t_ortho=0), "t_ortho"), (dict(t_ortho=-1), "t_ortho"),  # t_ortho > t_total: clamped
    (dict(t_transient=-1), "t_transient"), (dict(method="rk45"), "method"),
    (dict(tol=0), "tol"), (dict(y0=[1.0, 2.0]), "y0"), (dict(inputs=np.zeros((10, 1))), "inputs"),
])
def test_bad_input_raises(kw, attr):
    args = dict(y0=[1.0, 1.0, 20.0], t_total=10, dt=0.01)
    args.update(kw)
    with pytest.raises(ValidationError) as exc:
        lyapunov_spectrum(rd.lorenz(), **args)
    assert exc.value.attr == f"lyapunov_spectrum.{attr}"
    assert str(exc.value).startswith(f"lyapunov_spectrum.{attr}: ")  # names the parameter, then what to do


def test_divergence_raises():
    with pytest.raises(rd.DivergenceError, match="non-finite"):
        lyapunov_spectrum(linear_flow([[50.0]]), [1.0], t_total=100, dt=0.1, seed=0)
    with pytest.raises(rd.DivergenceError, match="runaway growth"):  # d0 below ulp(y)
        largest_lyapunov(linear_flow([[50.0]]), [1.0], t_total=100, dt=0.1, seed=0)


def test_two_trajectories_that_merge_say_so():
    # a constant map (zero Jacobian): the perturbed orbit lands on the reference in one step;
    # this once read "non-finite ... runaway growth"
    zero = rd.Map(_lin_step, _lin_map_jac, p=np.zeros(4), dim=2)
    with pytest.raises(rd.DivergenceError, match="merged with the reference by step 1"):
        largest_lyapunov(zero, [1.0, 2.0], t_total=10, seed=0)
    assert lyapunov_spectrum(zero, [1.0, 2.0], t_total=10, seed=0).exponents[0] == -np.inf
    with pytest.raises(rd.DivergenceError, match="merged with the reference by t=1"):
        largest_lyapunov(linear_flow([[-1000.0]]), [1.0], t_total=10, dt=0.001, t_renorm=1,
                         seed=0)


def test_bad_input_two_trajectory_and_maps():
    with pytest.raises(ValidationError, match="d0"):
        largest_lyapunov(rd.lorenz(), [1.0, 1.0, 20.0], t_total=10, dt=0.01, d0=0)
    with pytest.raises(ValidationError, match="t_renorm"):
        largest_lyapunov(rd.lorenz(), [1.0, 1.0, 20.0], t_total=10, dt=0.01, t_renorm=-1)
    with pytest.raises(ValidationError, match="whole number"):
        lyapunov_spectrum(rd.logistic_map(), [0.3], t_total=10.5)
    with pytest.raises(ValidationError, match="model"):
        lyapunov_spectrum("lorenz", [1.0], t_total=10, dt=0.1)


# -- Kaplan-Yorke dimension and KS entropy --------------------------------------------------
def test_kaplan_yorke_and_entropy_known_values():
    assert kaplan_yorke_dimension(LORENZ) == pytest.approx(2 + 0.9056 / 14.5723)
    assert kaplan_yorke_dimension([-0.1, -1.0]) == 0.0
    assert kaplan_yorke_dimension([0.5, 0.2]) == 2.0  # never turns negative: k
    assert kaplan_yorke_dimension([1.0, -0.5, -2.0]) == pytest.approx(2 + 0.5 / 2.0)
    assert kaplan_yorke_dimension([-14.5723, 0.9056, 0.0]) == pytest.approx(2.0621, abs=1e-4)
    assert ks_entropy(LORENZ) == pytest.approx(0.9056)
    assert ks_entropy([0.3, 0.1, -2.0]) == pytest.approx(0.4)
    np.testing.assert_allclose(kaplan_yorke_dimension([LORENZ, [-0.1, -0.2, -0.3]]), [2.0621, 0],
                               atol=1e-4)
    with pytest.raises(ValidationError):
        kaplan_yorke_dimension([])
    with pytest.raises(ValidationError):
        ks_entropy([np.nan, 1.0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=12))
def test_kaplan_yorke_properties(lams):
    s = np.sort(np.array(lams))[::-1]
    D = kaplan_yorke_dimension(lams)
    assert 0.0 <= D <= len(lams)
    j = int(np.floor(D))
    if 0 < D < len(lams):
        assert s[:j].sum() >= -1e-9  # the first j exponents still have a non-negative sum
        assert s[:j + 1].sum() < 1e-9 or j == len(lams)
    assert kaplan_yorke_dimension(np.random.default_rng(0).permutation(lams)) == D
    h = ks_entropy(lams)
    assert h >= 0 and h >= max(s[0], 0.0) - 1e-12


def test_driven_map_without_inputs_means_zero_input():
    # a map with input weights and inputs=None runs on zero input, as simulate/run do; it
    # used to read one input row for every step and return -0 exponents with a NaN history
    cell = rd.Elman.random(3, 4, seed=7)
    y0 = np.full(4, 0.1)
    kw = dict(t_total=200, t_transient=20, seed=0)
    none = lyapunov_spectrum(cell, y0, **kw)
    zero = lyapunov_spectrum(cell, y0, inputs=np.zeros((220, 3)), **kw)
    assert np.all(np.isfinite(none.history))
    np.testing.assert_array_equal(none.exponents, zero.exponents)
    assert np.all(none.exponents < -0.5)
