"""Orbit classification, orbit diagrams, continuation and basins: known truth."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import rnndyn as rd
from rnndyn.analysis import basins, classify_orbit, continuation, orbit_diagram
from rnndyn.errors import ValidationError

OSC = dict(W=[[4.5, 1], [-1, 4.5]], bias=[-2.75, -1.75])
HAS_LYAPUNOV = importlib.util.find_spec("rnndyn.analysis.lyapunov") is not None


def folds(w):
    """MODELS.md: one neuron with self-weight w > 4 is bistable for theta (+ I) between
    -2 ln((sqrt(w)+sqrt(w-4))/2) - (w - sqrt(w(w-4)))/2 and the + counterpart."""
    a, c = 2 * np.log((np.sqrt(w) + np.sqrt(w - 4)) / 2), np.sqrt(w * (w - 4))
    return a - (w + c) / 2, -a - (w - c) / 2


def test_continuation_finds_both_folds_of_the_bistable_neuron():
    br = continuation(rd.CTRNN(W=[[8.0]], bias=[-8.0]), ("bias", 0), -8.0, 0.0)
    got = sorted(b.param for b in br.of("fold"))
    np.testing.assert_allclose(got, folds(8.0), atol=1e-7)
    assert not br.of("hopf")
    # the middle branch (between the folds) is unstable, the outer ones stable
    mid = (br.params > folds(8.0)[0] + 0.1) & (br.params < folds(8.0)[1] - 0.1)
    assert set(br.stability[mid]) == {"stable", "unstable"}
    assert br.message.startswith("left the interval")
    # every branch point is an equilibrium of its own model
    for lam, y in zip(br.params[::10], br.states[::10, 0]):
        assert 8.0 / (1 + np.exp(-(y + lam))) - y == pytest.approx(0, abs=1e-8)


def test_continuation_with_input_parameter_matches_folds():
    # the fold condition is in theta + I: continuing in a constant input via a callable
    base = rd.CTRNN(W=[[8.0]], bias=[-1.0], W_in=[[1.0]])
    br = continuation(base, lambda I: rd.CTRNN(W=[[8.0]], bias=[-1.0 + I], W_in=[[1.0]]),
                      -7.0, 1.0, u=[0.0])
    np.testing.assert_allclose(sorted(b.param - 1.0 for b in br.of("fold")), folds(8.0),
                               atol=1e-7)


def test_hopf_of_two_neuron_oscillator():
    br = continuation(rd.CTRNN(**OSC), ("bias", 0), -2.75, 0.0)
    hopf = br.of("hopf")
    assert len(hopf) == 1
    h = hopf[0]
    assert -2.75 < h.param < -2.25
    # defining condition: a complex pair on the imaginary axis, i.e. trace J = 0 in 2-D
    assert np.abs(h.eigenvalues.real).max() < 1e-8 and np.abs(h.eigenvalues.imag).min() > 0.1
    J = rd.CTRNN(W=OSC["W"], bias=[h.param, -1.75]).jacobian(0.0, h.state)
    assert np.trace(J) == pytest.approx(0.0, abs=1e-8)
    # stability changes across it: unstable focus before, stable focus after
    before = br.stability[br.params < h.param - 0.05]
    after = br.stability[br.params > h.param + 0.05]
    assert set(before) == {"unstable"} and set(after) == {"stable"}


def test_classify_orbit_flows():
    osc = classify_orbit(rd.CTRNN(**OSC), [0.5, 0.5], 200.0, 120.0, 0.01)
    assert osc.kind == "periodic"
    assert osc.period == pytest.approx(29.0, abs=0.5)  # MODELS.md: period about 29
    fixed = classify_orbit(rd.CTRNN(W=OSC["W"], bias=[-1.0, -1.75]), [0.5, 0.5], 200.0,
                           50.0, 0.01)
    assert fixed.kind == "fixed point" and fixed.period == 0.0
    pop = rd.CTRNN(W=np.array([OSC["W"]] * 2), bias=[[-2.75, -1.75], [-1.0, -1.75]])
    both = classify_orbit(pop, [0.5, 0.5], 200.0, 120.0, 0.01)
    assert list(both.kind) == ["periodic", "fixed point"]


@pytest.mark.parametrize("r, period", [(2.8, 0.0), (3.2, 2.0), (3.5, 4.0), (3.55, 8.0)])
def test_classify_orbit_logistic_cycles(r, period):
    # period-doubling cascade: 2 at r in (3, 1+sqrt 6), 4 up to 3.5441, 8 up to 3.5644
    res = classify_orbit(rd.logistic_map(r), [0.3], 3000, 256)
    assert res.kind == ("fixed point" if period == 0 else "periodic")
    assert res.period == period


@pytest.mark.skipif(not HAS_LYAPUNOV, reason="rnndyn.analysis.lyapunov not available yet")
def test_classify_orbit_chaotic_logistic():
    pop = rd.Map.stack([rd.logistic_map(3.2), rd.logistic_map(4.0)])
    res = classify_orbit(pop, [0.3], 500, 256, lyapunov_time=20000, seed=0)
    assert list(res.kind) == ["periodic", "chaotic"]
    assert np.isnan(res.lyapunov[0])  # only the aperiodic member gets an exponent
    assert res.lyapunov[1] == pytest.approx(np.log(2), abs=0.02)  # lambda = ln 2 at r = 4


def test_orbit_diagram_logistic_two_cycle():
    values = np.linspace(2.9, 3.4, 26)
    d = orbit_diagram(rd.logistic_map(3.0), ("p", 0), values, [0.3], 3000, 50)
    assert d.mode == "iterates" and len(d.points) == 26 * 50
    r = 3.2
    x = (r + 1 + np.array([-1, 1]) * np.sqrt((r + 1) * (r - 3))) / (2 * r)  # the 2-cycle
    np.testing.assert_allclose(np.unique(np.round(d.at(r), 8)), x, atol=1e-7)
    assert np.ptp(d.at(2.9)) < 1e-6  # one fixed point before the flip at r = 3


def test_orbit_diagram_ctrnn_maxima_and_section():
    values = np.array([-4.0, -2.75])
    net = rd.CTRNN(**OSC)
    d = orbit_diagram(net, ("bias", 0), values, [0.5, 0.5], 200.0, 60.0, 0.01)
    assert len(d.at(-4.0)) == 0  # stable equilibrium: no maxima
    tr = rd.simulate(net, [0.5, 0.5], np.arange(0, 260, 0.01), dt=0.01)
    top = tr.y[-6000:, 0].max()
    np.testing.assert_allclose(d.at(-2.75), top, atol=1e-4)
    s = orbit_diagram(net, ("bias", 0), values, [0.5, 0.5], 200.0, 60.0, 0.01, variable=1,
                      section=(0, 2.75))
    assert s.mode == "section" and len(s.at(-2.75)) == 2  # two returns in 60 time units


def test_basins_of_two_bistable_neurons_are_quadrants():
    # W = diag(8, 8), theta = -4: each unit bistable with its separatrix exactly at y = 4
    net = rd.CTRNN(W=[[8.0, 0.0], [0.0, 8.0]], bias=[-4.0, -4.0])
    xs = np.linspace(0.05, 7.95, 24)
    ys = np.linspace(0.1, 7.9, 16)  # no grid state on the separatrix y = 4
    b = basins(net, xs, ys, 40.0, 0.05)
    assert len(b.attractors) == 4
    quadrant = np.array([(a[0, 0] > 4) + 2 * (a[0, 1] > 4) for a in b.attractors])
    truth = (xs[None, :] > 4).astype(int) + 2 * (ys[:, None] > 4)
    np.testing.assert_array_equal(quadrant[b.labels], truth)
    # with the attractors given, labels follow their order
    att = np.array([[0.17, 0.17], [7.83, 7.83]])
    b2 = basins(net, xs, ys, 40.0, 0.05, attractors=att, tol=1e-2)
    want = np.where((xs[None] < 4) & (ys[:, None] < 4), 0,
                    np.where((xs[None] > 4) & (ys[:, None] > 4), 1, -1))
    np.testing.assert_array_equal(b2.labels, want)
    np.testing.assert_allclose(b.fractions().sum(), 1.0)


def test_bad_input_raises():
    net = rd.CTRNN(**OSC)
    with pytest.raises(ValidationError, match="xs"):
        basins(net, np.zeros((3, 3)), np.linspace(0, 1, 3), 1.0, 0.1)
    with pytest.raises(ValidationError, match="dims"):
        basins(net, [0, 1], [0, 1], 1.0, 0.1, dims=(0, 0))
    with pytest.raises(ValidationError, match="dt"):
        basins(net, [0, 1], [0, 1], 1.0)
    with pytest.raises(ValidationError, match="param"):
        continuation(net, ("weights", 0), 0.0, 1.0)
    with pytest.raises(ValidationError, match="param"):
        orbit_diagram(net, "bias", [0.0], [0, 0], 1.0, 1.0, 0.1)
    with pytest.raises(ValidationError, match="values"):
        orbit_diagram(net, ("bias", 0), [[0.0]], [0, 0], 1.0, 1.0, 0.1)
    with pytest.raises(ValidationError, match="max_period"):
        classify_orbit(net, [0, 0], 1.0, 1.0, 0.1, max_period=0)
    with pytest.raises(ValidationError, match="population"):
        continuation(rd.CTRNN.stack([net, net]), ("bias", 0), 0.0, 1.0)
