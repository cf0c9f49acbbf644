"""Time-series tasks: the generators satisfy their defining equations."""
import numpy as np
import pytest

from rnndyn.errors import ValidationError
from rnndyn.tasks.timeseries import (lorenz_series, mackey_glass, narma, rossler_series,
                                     sine_to_square, timer_task)


def test_mackey_glass_converges_at_third_order():
    # RK4 with cubic interpolants of the delayed value that never straddle the kink of x at
    # t = 0: halving dt divides the error by ~8 (third order: x'' still jumps at t = tau and
    # a cubic across it is O(h^3)); over 60 time units, before chaos amplifies differences
    ref = mackey_glass(61, dt=0.00625)
    e1 = np.abs(mackey_glass(61, dt=0.1) - ref).max()
    e2 = np.abs(mackey_glass(61, dt=0.05) - ref).max()
    assert e2 < 2e-8 and 6 < e1 / e2 < 12


@pytest.mark.parametrize("tau", [17.0, 30.0])
def test_mackey_glass_obeys_the_delay_equation(tau):
    # dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x(t), by central differences
    dt = 0.1
    x = mackey_glass(3000, tau=tau, dt=dt, sample=dt, transient=200.0)
    d = int(round(tau / dt))
    lhs = (x[d + 2:] - x[d:-2]) / (2 * dt)
    xd = x[1:-d - 1]
    rhs = 0.2 * xd / (1 + xd ** 10) - 0.1 * x[d + 1:-1]
    np.testing.assert_allclose(lhs, rhs, atol=2e-4)
    assert 0.2 < x.min() and x.max() < 1.5  # the known range of the attractor


def test_mackey_glass_history_and_seed():
    a = mackey_glass(100)
    np.testing.assert_array_equal(a, mackey_glass(100))
    np.testing.assert_allclose(a[0], 1.2)  # x(0) = the constant history
    s1, s2 = mackey_glass(100, seed=1), mackey_glass(100, seed=2)
    np.testing.assert_array_equal(s1, mackey_glass(100, seed=1))
    assert not np.allclose(s1, s2)
    with pytest.raises(ValidationError, match="tau"):
        mackey_glass(10, tau=17.05)
    with pytest.raises(ValidationError, match="n_steps"):
        mackey_glass(0)


def test_narma_is_the_recursion():
    for order, (al, be, ga, de) in ((10, (0.3, 0.05, 1.5, 0.1)), (30, (0.2, 0.004, 1.5, 0.001))):
        u, y = narma(400, order, seed=3)
        u, y = u[:, 0], y[:, 0]
        assert np.all((0 <= u) & (u <= 0.5))
        want = np.zeros(400)
        for t in range(order - 1, 399):
            want[t + 1] = al * want[t] + be * want[t] * want[t - order + 1:t + 1].sum() + \
                ga * u[t - order + 1] * u[t] + de
        np.testing.assert_allclose(y, want, rtol=1e-12)
    np.testing.assert_array_equal(narma(50, seed=1)[1], narma(50, seed=1)[1])


def test_chaotic_flows_obey_their_equations():
    dt = 0.01
    x = lorenz_series(2000, dt=dt)
    dx = (x[2:] - x[:-2]) / (2 * dt)
    s, r, b = 10.0, 28.0, 8.0 / 3.0
    f = np.stack([s * (x[:, 1] - x[:, 0]), x[:, 0] * (r - x[:, 2]) - x[:, 1],
                  x[:, 0] * x[:, 1] - b * x[:, 2]], axis=1)[1:-1]
    np.testing.assert_allclose(dx, f, atol=0.05 * np.abs(f).max())
    y = rossler_series(2000, dt=dt)
    dy = (y[2:] - y[:-2]) / (2 * dt)
    g = np.stack([-y[:, 1] - y[:, 2], y[:, 0] + 0.2 * y[:, 1],
                  0.2 + y[:, 2] * (y[:, 0] - 5.7)], axis=1)[1:-1]
    np.testing.assert_allclose(dy, g, atol=1e-3 * np.abs(g).max())


def test_sine_to_square_and_timer():
    u, y = sine_to_square(200, period=20)
    assert np.all(np.sign(u[u != 0]) == y[u != 0])
    u, y = timer_task(3000, max_duration=20, seed=0)
    triggers = np.flatnonzero(u[:, 0])
    assert len(triggers) > 10
    for k, t in enumerate(triggers):
        length = int(round(u[t, 1] * 20))
        assert 1 <= length <= 20
        assert np.all(y[t:t + length, 0] == 1)
        end = triggers[k + 1] if k + 1 < len(triggers) else len(y)
        assert np.all(y[t + length:end, 0] == 0)
    assert y[:triggers[0]].sum() == 0
    with pytest.raises(ValidationError, match="p_trigger"):
        timer_task(10, p_trigger=0.0)
