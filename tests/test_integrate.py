"""simulate(): accuracy against scipy and analytic solutions, populations, inputs, errors."""
import numpy as np
import pytest
from numba import njit
from scipy.integrate import solve_ivp
from scipy.linalg import expm

import rnndyn as rd
from rnndyn._config import JIT
from reference import ctrnn_rhs, fixed_step


def random_ctrnn(n=6, seed=0, n_in=0, activation="sigmoid"):
    rng = np.random.default_rng(seed)
    return rd.CTRNN(W=rng.normal(0, 2, (n, n)), tau=rng.uniform(0.5, 2, n),
                    bias=rng.normal(0, 1, n), gain=rng.uniform(0.5, 1.5, n),
                    W_in=rng.normal(0, 1, (n, n_in)), activation=activation)


@njit(**JIT)
def _linear_rhs(t, y, u, p, dy, work):
    n = y.shape[0]
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += p[i * n + j] * y[j]
        dy[i] = s


@njit(**JIT)
def _linear_jac(t, y, u, p, J, work):
    n = y.shape[0]
    for i in range(n):
        for j in range(n):
            J[i, j] = p[i * n + j]


def linear_flow(A):
    A = np.asarray(A, float)
    return rd.Flow(_linear_rhs, _linear_jac, p=A.ravel(), dim=A.shape[0], name="linear")


A_OSC = np.array([[-0.1, 2.0], [-2.0, -0.1]])  # damped rotation: y(t) = expm(A t) y0


@pytest.mark.parametrize("method", ["rk4", "rk45"])
def test_agrees_with_solve_ivp(method):
    net = random_ctrnn(6, seed=1)
    t = np.linspace(0, 20, 81)
    y0 = np.random.default_rng(2).normal(0, 1, 6)
    ref = solve_ivp(lambda s, y: ctrnn_rhs(y, net.W, net.tau, net.bias, net.gain), (0, 20), y0,
                    t_eval=t, method="DOP853", rtol=1e-12, atol=1e-12).y.T
    tr = rd.simulate(net, y0, t, dt=2e-3, method=method, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.y, ref, rtol=1e-8, atol=1e-8)


def test_matches_numpy_reference_euler_and_rk4_with_inputs():
    net = random_ctrnn(4, seed=3, n_in=2, activation="tanh")
    t = np.linspace(0, 3, 31)
    u = lambda s: np.array([np.sin(s), np.cos(3 * s)])  # noqa: E731
    for method in ("euler", "rk4"):
        ref = fixed_step(lambda s, y: ctrnn_rhs(y, net.W, net.tau, net.bias, net.gain, net.W_in,
                                                u(s), "tanh"), np.ones(4), t, 0.01, method)
        tr = rd.simulate(net, np.ones(4), t, dt=0.01, method=method, inputs=u)
        np.testing.assert_allclose(tr.y, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method,order", [("euler", 1), ("rk4", 4)])
def test_convergence_order(method, order):
    """Global error at t=2 of y' = A y against expm(A t) y0 falls as dt**order."""
    flow = linear_flow(A_OSC)
    y0 = np.array([1.0, 0.5])
    exact = expm(A_OSC * 2.0) @ y0
    dts = np.array([0.02, 0.01, 0.005]) if method == "euler" else np.array([0.2, 0.1, 0.05])
    errs = [np.abs(rd.simulate(flow, y0, [0.0, 2.0], dt=h, method=method).y[-1] - exact).max()
            for h in dts]
    slopes = np.diff(np.log(errs)) / np.diff(np.log(dts))
    assert np.all(np.abs(slopes - order) < 0.15), slopes


def test_rk45_dense_output_on_linear_system():
    flow = linear_flow(A_OSC)
    t = np.linspace(0, 10, 137)  # output times unrelated to the adaptive steps
    y0 = np.array([1.0, -1.0])
    exact = np.array([expm(A_OSC * s) @ y0 for s in t])
    tr = rd.simulate(flow, y0, t, method="rk45", rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tr.y, exact, atol=1e-8)


@pytest.mark.parametrize("method", ["euler", "rk4", "rk45"])
def test_population_equals_loop_over_members(method):
    nets = [random_ctrnn(5, seed=s, n_in=1) for s in range(4)]
    pop = rd.CTRNN.stack(nets)
    t = np.linspace(0, 5, 21)
    rng = np.random.default_rng(0)
    y0 = rng.normal(0, 1, (4, 5))
    u = rng.normal(0, 1, (21, 4, 1))
    tr = rd.simulate(pop, y0, t, dt=0.01, method=method, inputs=u)
    assert tr.y.shape == (21, 4, 5) and tr.outputs.shape == (21, 4, 5)
    for k, net in enumerate(nets):
        one = rd.simulate(net, y0[k], t, dt=0.01, method=method, inputs=u[:, k])
        np.testing.assert_array_equal(tr.y[:, k], one.y)
        np.testing.assert_array_equal(tr.outputs[:, k], one.outputs)


def test_outputs_are_rates_of_output_units():
    net = rd.CTRNN(W=[[0.0, 1.0], [1.0, 0.0]], bias=[0.5, -0.5], gain=[2.0, 1.0], outputs=[1])
    tr = rd.simulate(net, [0.1, 0.2], np.linspace(0, 1, 5), dt=0.01)
    np.testing.assert_allclose(tr.outputs[:, 0], 1 / (1 + np.exp(-1.0 * (tr.y[:, 1] - 0.5))))


def test_hold_previous_versus_linear_inputs():
    net = rd.CTRNN(W=[[0.0]], W_in=[[1.0]], activation="tanh")  # dy/dt = -y + u
    t = np.array([0.0, 1.0, 2.0])
    u = np.array([[0.0], [1.0], [1.0]])
    held = rd.simulate(net, [0.0], t, dt=1e-3, inputs=u, hold="previous").y[1, 0]
    ramp = rd.simulate(net, [0.0], t, dt=1e-3, inputs=u).y[1, 0]
    assert held == pytest.approx(0.0, abs=1e-12)  # u = 0 held over [0, 1)
    assert ramp == pytest.approx(np.exp(-1.0), abs=1e-9)  # y' = -y + s: y(1) = e^-1


def test_divergence_raises_with_time_and_unit_or_returns():
    # tau dy/dt = -y + u with u = 1e308 and tau = 1e-3: dy/dt overflows once u switches on
    net = rd.CTRNN(W=[[0.0, 0.0], [0.0, 0.0]], tau=[1.0, 1e-3], W_in=[[0.0], [1.0]],
                   nodes=("a", "b"))
    t = np.linspace(0, 1, 11)
    u = np.zeros((11, 1))
    u[3:] = 1e308
    with pytest.raises(rd.DivergenceError, match=r"\('b'\)") as err:
        rd.simulate(net, [0.0, 0.0], t, dt=0.01, inputs=u, hold="previous")
    assert err.value.unit == 1 and 0.3 < err.value.t <= 0.4  # detected by the next sample
    tr = rd.simulate(net, [0.0, 0.0], t, dt=0.01, inputs=u, hold="previous",
                     on_divergence="return")
    assert tr.status == 1 and not tr.success and "diverged" in tr.message
    assert np.all(np.isfinite(tr.y)) and len(tr.t) == len(tr.y) < len(t)


def test_population_divergence_marks_member():
    nets = [rd.CTRNN(W=[[0.0]], W_in=[[w]], tau=1e-3) for w in (1.0, 1e308)]
    tr = rd.simulate(rd.CTRNN.stack(nets), [0.0], [0.0, 1.0], dt=0.1, inputs=np.ones((2, 1)),
                     on_divergence="return")
    assert list(tr.status) == [0, 1] and "individual 1" in tr.message
    assert np.isfinite(tr.y[:, 0]).all() and np.isnan(tr.y[1, 1]).all()


def test_map_iteration_logistic():
    tr = rd.simulate(rd.logistic_map(3.7), [0.3], np.arange(6))
    x = [0.3]
    for _ in range(5):
        x.append(3.7 * x[-1] * (1 - x[-1]))
    np.testing.assert_allclose(tr.y[:, 0], x, rtol=1e-14)


@pytest.mark.parametrize("kwargs,attr", [
    (dict(t=[0.0, 1.0, 0.5], dt=0.1), "t"),
    (dict(t=[0.0, 1.0], dt=0.0), "dt"),
    (dict(t=[0.0, 1.0], dt=0.1, method="leapfrog"), "method"),
    (dict(t=[0.0, 1.0], dt=0.1, y0=[0.0, 0.0, 0.0]), "y0"),
    (dict(t=[0.0, 1.0], dt=0.1, inputs=np.ones((2, 1))), "inputs"),
    (dict(t=[0.0, 1.0], method="rk45", rtol=-1.0), "rtol"),
    (dict(t=[0.0, np.nan], dt=0.1), "t"),
])
def test_bad_arguments_raise_validation_error(kwargs, attr):
    net = random_ctrnn(2)
    kwargs = {"y0": [0.0, 0.0], **kwargs}
    with pytest.raises(rd.ValidationError) as err:
        rd.simulate(net, **kwargs)
    assert err.value.attr == f"simulate.{attr}"


def test_no_inputs_for_a_driven_model_means_zero_input():
    net = random_ctrnn(2, n_in=1)
    t = np.arange(0.0, 1.0, 0.1)
    none = rd.simulate(net, [0.1, 0.2], t, dt=0.01)
    zero = rd.simulate(net, [0.1, 0.2], t, dt=0.01, inputs=np.zeros((len(t), 1)))
    np.testing.assert_array_equal(none.y, zero.y)
    np.testing.assert_array_equal(net.rhs(0.0, [0.1, 0.2]), net.rhs(0.0, [0.1, 0.2], [0.0]))
    ctl = rd.Stepper(net, dt=0.1)
    np.testing.assert_allclose(ctl.step(), rd.Stepper(net, dt=0.1).step([0.0]))
    with pytest.raises(rd.ValidationError, match="no inputs"):
        rd.Stepper(random_ctrnn(2), dt=0.1).step([1.0])  # an input an autonomous model ignores
    with pytest.raises(rd.ValidationError, match="no inputs"):
        random_ctrnn(2).rhs(0.0, [0.0, 0.0], [1.0])
