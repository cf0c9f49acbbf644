"""Fixed points, slow points and stability (rnndyn.analysis.fixed_points): known truth."""
from __future__ import annotations

import numpy as np
import pytest
from numba import njit

import rnndyn as rd
from rnndyn.analysis import find_fixed_points
from rnndyn.errors import ValidationError


# an affine flow dx/dt = A x + b, p = (A row-major, b)
@njit(cache=True)
def _affine_rhs(t, y, u, p, dy, work):
    n = y.shape[0]
    for i in range(n):
        s = p[n * n + i]
        for j in range(n):
            s += p[i * n + j] * y[j]
        dy[i] = s


@njit(cache=True)
def _affine_jac(t, y, u, p, J, work):
    n = y.shape[0]
    for i in range(n):
        for j in range(n):
            J[i, j] = p[i * n + j]


def affine(A, b):
    A = np.asarray(A, float)
    return rd.Flow(_affine_rhs, _affine_jac, p=np.concatenate([A.ravel(), b]), dim=len(b))


def test_two_neuron_oscillator_has_unstable_focus():
    # MODELS.md: W = [[4.5, 1], [-1, 4.5]], theta = (-2.75, -1.75): centre-crossing, so the
    # only equilibrium is y* = -theta (every output 1/2) with J = W/4 - I.
    net = rd.CTRNN(W=[[4.5, 1], [-1, 4.5]], bias=[-2.75, -1.75])
    fp = find_fixed_points(net, 32, bounds=(-2, 7), seed=0)
    assert len(fp) == 1 and fp.is_fixed.all()
    np.testing.assert_allclose(fp.points[0], [2.75, 1.75], atol=1e-10)
    ev = fp.eigenvalues[0]
    assert np.all(ev.real > 0) and np.all(np.abs(ev.imag) > 0)
    np.testing.assert_allclose(sorted(ev, key=lambda z: z.imag), [0.125 - 0.25j, 0.125 + 0.25j],
                               atol=1e-12)
    assert fp.stability[0] == "unstable" and fp.n_unstable[0] == 2


@pytest.mark.parametrize("A, stability, n_up", [
    ([[-1.0, 2.0, 0.0], [-2.0, -1.0, 0.0], [0.0, 0.0, -0.5]], "stable", 0),
    ([[0.5, 0.0, 0.0], [1.0, -2.0, 0.0], [0.0, 3.0, -1.0]], "saddle", 1),
])
def test_affine_flow_fixed_point_is_exact(A, stability, n_up):
    b = np.array([1.0, -2.0, 0.5])
    model = affine(A, b)
    for method in ("newton", "minimize"):
        fp = find_fixed_points(model, 8, method=method, seed=1)
        assert len(fp) == 1, method
        np.testing.assert_allclose(fp.points[0], -np.linalg.solve(A, b), atol=1e-9)
        want = np.linalg.eigvals(A)
        np.testing.assert_allclose(np.sort_complex(fp.eigenvalues[0]), np.sort_complex(want),
                                   atol=1e-12)
        assert fp.stability[0] == stability and fp.n_unstable[0] == n_up
        assert fp.hits[0] == 8


@pytest.mark.parametrize("r", [2.5, 3.2])
def test_logistic_map_fixed_points(r):
    # x* = 0 (multiplier r) and x* = 1 - 1/r (multiplier 2 - r)
    fp = find_fixed_points(rd.logistic_map(r), 16, bounds=(0.0, 1.0), seed=0)
    order = np.argsort(fp.points[:, 0])
    np.testing.assert_allclose(fp.points[order, 0], [0.0, 1 - 1 / r], atol=1e-12)
    np.testing.assert_allclose(fp.eigenvalues[order, 0].real, [r, 2 - r], atol=1e-12)
    assert list(fp.stability[order]) == ["unstable", "stable" if r < 3 else "unstable"]


def test_bistable_neuron_and_population():
    # one neuron, w = 8: bistable for theta in (-5.0657, -2.9343) (MODELS.md); at the
    # centre-crossing theta = -4 the middle equilibrium is y = 4 with eigenvalue w/4 - 1 = 1.
    fp = find_fixed_points(rd.CTRNN(W=[[8.0]], bias=[-4.0]), 32, bounds=(-2, 10), seed=0)
    assert list(fp.stability) == ["stable", "stable", "unstable"]
    mid = fp.points[fp.stability == "unstable"][0, 0]
    assert mid == pytest.approx(4.0, abs=1e-12)
    assert fp.eigenvalues[2, 0].real == pytest.approx(1.0, abs=1e-12)
    w = 8.0
    a, c = 2 * np.log((np.sqrt(w) + np.sqrt(w - 4)) / 2), np.sqrt(w * (w - 4))
    lo, hi = a - (w + c) / 2, -a - (w - c) / 2
    theta = np.array([-7.0, -5.2, -4.9, -4.0, -3.1, -2.8, -1.0])
    pop = rd.CTRNN(W=np.full((len(theta), 1, 1), w), bias=theta[:, None])
    fp = find_fixed_points(pop, 32, bounds=(-2, 10), seed=0)
    expect = np.where((theta > lo) & (theta < hi), 3, 1)
    np.testing.assert_array_equal(fp.count(len(theta)), expect)
    np.testing.assert_array_equal(fp.count(len(theta), stable_only=True),
                                  np.where(expect == 3, 2, 1))
    for k in range(len(theta)):  # every point solves the member's own equation
        for y in fp.for_member(k).points[:, 0]:
            assert w / (1 + np.exp(-(y + theta[k]))) - y == pytest.approx(0, abs=1e-9)


def test_constant_input_shifts_the_equilibrium():
    # w = 0: tau dy/dt = -y + W_in u, so y* = W_in u exactly
    net = rd.CTRNN(W=[[0.0, 0.0], [0.0, 0.0]], W_in=[[1.0], [-2.0]])
    fp = find_fixed_points(net, 4, u=[0.7], seed=0)
    np.testing.assert_allclose(fp.points[0], [0.7, -1.4], atol=1e-12)
    np.testing.assert_allclose(fp.u, [0.7])


def test_slow_point_of_a_ghost():
    # just past the fold (theta slightly beyond the bistable range) a ghost of the lost
    # equilibria remains: a local minimum of q with small but nonzero speed.
    w = 8.0
    a, c = 2 * np.log((np.sqrt(w) + np.sqrt(w - 4)) / 2), np.sqrt(w * (w - 4))
    lo = a - (w + c) / 2
    net = rd.CTRNN(W=[[w]], bias=[lo - 0.01])
    fp = find_fixed_points(net, 64, bounds=(-2, 10), slow_speed=0.05, seed=0)
    assert fp.is_fixed.sum() == 1
    slow = fp.select(~fp.is_fixed)
    assert len(slow) == 1 and 0 < slow.speed[0] < 0.05
    y = slow.points[0, 0]  # the ghost sits where w sigma'(y + theta) = 1 (the old fold)
    s = 1 / (1 + np.exp(-(y + lo - 0.01)))
    assert w * s * (1 - s) == pytest.approx(1.0, abs=1e-6)


def test_bad_input_raises():
    net = rd.CTRNN(W=[[4.5, 1], [-1, 4.5]], bias=[-2.75, -1.75])
    with pytest.raises(ValidationError, match="n_starts"):
        find_fixed_points(net, 0)
    with pytest.raises(ValidationError, match="starts"):
        find_fixed_points(net, starts=np.zeros((5, 3)))
    with pytest.raises(ValidationError, match="method"):
        find_fixed_points(net, method="bisect")
    with pytest.raises(ValidationError, match="bounds"):
        find_fixed_points(net, bounds=(1.0, -1.0))
    with pytest.raises(ValidationError, match="u"):
        find_fixed_points(net, u=[1.0])


@pytest.mark.slow
def test_lorenz_equilibria():
    s, r, b = 10.0, 28.0, 8 / 3
    fp = find_fixed_points(rd.lorenz(s, r, b), 64, bounds=(-30, 30), seed=0)
    c = np.sqrt(b * (r - 1))
    got = fp.points[np.lexsort(fp.points.T[::-1])]
    np.testing.assert_allclose(got, [[-c, -c, r - 1], [0, 0, 0], [c, c, r - 1]], atol=1e-9)
    origin = fp.eigenvalues[np.argmin(np.abs(fp.points).sum(1))]
    disc = np.sqrt((s + 1) ** 2 + 4 * s * (r - 1))
    np.testing.assert_allclose(np.sort(origin.real), np.sort([-b, (-(s + 1) + disc) / 2,
                                                             (-(s + 1) - disc) / 2]), atol=1e-9)
