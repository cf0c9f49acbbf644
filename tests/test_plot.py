"""rnndyn.plot draws what it is given (smoke tests on the Agg backend)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnndyn as rd  # noqa: E402
from rnndyn import plot  # noqa: E402
from rnndyn.analysis import (Bifurcation, Branch, FixedPoints, LyapunovResult,  # noqa: E402
                             basins, find_fixed_points, orbit_diagram, power_spectrum)
from rnndyn.errors import ValidationError  # noqa: E402

OSC = rd.CTRNN(W=[[4.5, 1], [-1, 4.5]], bias=[-2.75, -1.75])


def test_phase_portrait_nullclines_pass_through_the_fixed_point():
    fp = find_fixed_points(OSC, 16, seed=0)
    ax = plot.phase_portrait(OSC, (-1, 6), (-1.5, 5), fixed_points=fp,
                             trajectories=[np.array([[0, 0], [1, 1]])])
    segs = [p for c in ax.collections if hasattr(c, "get_paths") for p in c.get_paths()]
    assert ax.get_xlim() == (-1, 6)
    # each nullcline (contour level 0) passes within a grid step of the equilibrium
    verts = [p.vertices for p in segs if len(p.vertices) > 10]
    d = min(np.min(np.linalg.norm(v - fp.points[0], axis=1)) for v in verts)
    assert d < 0.1
    plt.close("all")
    with pytest.raises(ValidationError, match="2-D"):
        plot.phase_portrait(rd.CTRNN(W=np.eye(3)), (0, 1), (0, 1))


def test_other_plots_return_axes():
    f, S = power_spectrum(np.sin(np.arange(1000) * 0.1), 0.1)
    ax = plot.power_spectrum(f, S)
    assert len(ax.lines) == 1
    d = orbit_diagram(rd.logistic_map(3.0), ("p", 0), np.linspace(2.8, 4, 20), [0.3], 200, 20)
    assert len(plot.orbit_diagram(d).collections) == 1
    b = basins(rd.CTRNN(W=[[8.0, 0.0], [0.0, 8.0]], bias=[-4.0, -4.0]),
               np.linspace(0.1, 7.9, 8), np.linspace(0.1, 7.9, 8), 20.0, 0.1)
    ax = plot.basin_map(b)
    assert len(ax.images) == 1
    fp = find_fixed_points(OSC, 8, seed=0)
    ax = plot.eigenvalues(fp.eigenvalues, kind="flow")
    assert len(ax.lines) >= 2
    ax = plot.eigenvalues([0.5 + 0.5j], kind="map")
    with pytest.raises(ValidationError):
        plot.eigenvalues([1.0], kind="torus")
    plt.close("all")


# -- power spectrum (renamed from spectrum) ----------------------------------------------------
def test_power_spectrum_columns_and_bad_shapes():
    f, S = power_spectrum(np.column_stack([np.sin(np.arange(500) * 0.1),
                                           np.cos(np.arange(500) * 0.3)]), 0.1)
    ax = plot.power_spectrum(f, S, log=False)
    assert len(ax.lines) == 2
    with pytest.raises(ValidationError, match="power_spectrum.S"):
        plot.power_spectrum(f, S[:-1])
    with pytest.raises(ValidationError, match="power_spectrum.f"):
        plot.power_spectrum(np.c_[f, f], S)
    plt.close("all")



def test_state_components_are_numbered_from_zero_on_every_axis():
    ax = plot.phase_portrait(OSC, (-1, 6), (-1.5, 5), nullclines=False, streamplot=False)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$y_{0}$", "$y_{1}$")
    d = orbit_diagram(rd.logistic_map(3.0), ("p", 0), np.linspace(2.8, 4, 5), [0.3], 50, 10)
    assert plot.orbit_diagram(d).get_ylabel().startswith("$y_{0}$")
    plt.close("all")


# -- Lyapunov spectrum -----------------------------------------------------------------------
def _lyap(exponents, n=None):
    """A LyapunovResult with a known history: estimates relaxing towards the exponents."""
    lam = np.asarray(exponents, float)
    times = np.arange(1.0, 11.0)
    relax = (1.0 + 1.0 / times)[:, None]
    hist = lam[..., None, :] * relax if lam.ndim == 1 else lam[:, None, :] * relax[None]
    return LyapunovResult(lam, hist, times, True, "converged", "qr",
                          lam.shape[-1] if n is None else n)


def test_lyapunov_spectrum_draws_spectrum_and_history():
    res = _lyap([0.9, 0.0, -14.6])
    ax_s, ax_h = plot.lyapunov_spectrum(res)
    assert ax_s.figure is ax_h.figure
    assert len(ax_s.lines) == 2  # the spectrum and the zero line
    np.testing.assert_array_equal(ax_s.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(ax_s.lines[0].get_ydata(), [0.9, 0.0, -14.6])
    assert len(ax_h.lines) == 3 + 1  # one running estimate per exponent, the zero line
    np.testing.assert_allclose(ax_h.lines[0].get_ydata()[-1], 0.9 * 1.1)
    ax = plot.lyapunov_spectrum(_lyap([0.5, -0.2], n=10), history=False, normalized=True)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.1, 0.2])  # i / N, N = n = 10
    # given axes are used; a plain (unsorted) array is sorted, without history
    fig, axes = plt.subplots(1, 2)
    assert plot.lyapunov_spectrum(res, axes) == tuple(axes)
    ax = plot.lyapunov_spectrum([-1.0, 2.0], history=False)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [2.0, -1.0])
    plt.close("all")


def test_lyapunov_spectrum_population():
    res = _lyap([[0.3, -1.0, -2.0], [0.1, -0.5, -3.0]])
    ax = plot.lyapunov_spectrum(res, history=False)
    assert len(ax.lines) == 2 + 1  # one spectrum per member
    ax_s, ax_h = plot.lyapunov_spectrum(res, member=1)
    np.testing.assert_array_equal(ax_s.lines[0].get_ydata(), [0.1, -0.5, -3.0])
    assert len(ax_h.lines) == 3 + 1
    plt.close("all")


@pytest.mark.parametrize("args, kw, match", [
    (("not a result",), {"history": False}, "result"),
    (([[[1.0]]],), {"history": False}, "result"),
    (([0.1, np.nan],), {"history": False}, "NaN"),
    (([0.1, -1.0],), {}, "history"),                       # an array has no history
    ((_lyap([[0.1, -1.0], [0.2, -1.0]]),), {}, "member"),  # population history: whose?
    ((_lyap([[0.1, -1.0], [0.2, -1.0]]),), {"member": 2}, "member"),
    ((_lyap([0.1, -1.0]),), {"member": 0}, "member"),
])
def test_lyapunov_spectrum_rejects_bad_input(args, kw, match):
    with pytest.raises(ValidationError, match=match):
        plot.lyapunov_spectrum(*args, **kw)
    plt.close("all")


def test_lyapunov_spectrum_history_needs_two_axes():
    _, ax = plt.subplots()
    with pytest.raises(ValidationError, match="two axes"):
        plot.lyapunov_spectrum(_lyap([0.1, -1.0]), ax)
    plt.close("all")


# -- continuation branch ---------------------------------------------------------------------
def _branch():
    """An S-shaped branch: stable, unstable between two folds, stable again."""
    y = np.linspace(-1.0, 1.0, 21)
    lam = y ** 3 - 0.5 * y  # lam(y): folds where 3 y^2 = 0.5
    stab = np.where(np.abs(y) < np.sqrt(1 / 6), "unstable", "stable").astype(object)
    yf = np.sqrt(1 / 6)
    bifs = [Bifurcation("fold", float(s * yf ** 3 - 0.5 * s * yf), np.array([s * yf, -s * yf]),
                        np.array([0.0, -1.0]), 0) for s in (-1.0, 1.0)]
    bifs.append(Bifurcation("hopf", 0.0, np.array([0.0, 0.0]), np.array([1j, -1j]), 10))
    return Branch(lam, np.column_stack([y, -y]), np.zeros((21, 2), complex), stab, bifs,
                  "done")


def test_branch_draws_stable_solid_unstable_dashed_and_labels_bifurcations():
    br = _branch()
    ax = plot.branch(br)
    # 3 stretches (stable, unstable, stable) + one marker line per kind (fold, hopf)
    assert len(ax.lines) == 3 + 2
    styles = [ln.get_linestyle() for ln in ax.lines[:3]]
    assert styles == ["-", "--", "-"]
    # stretches share their end points: together they cover every point once more per cut
    assert sum(len(ln.get_xdata()) for ln in ax.lines[:3]) == 21 + 2
    folds = ax.lines[3]
    np.testing.assert_allclose(folds.get_ydata(), [-np.sqrt(1 / 6), np.sqrt(1 / 6)])
    assert sorted(t.get_text() for t in ax.texts) == ["Hopf", "fold", "fold"]
    assert ax.get_ylabel() == "$y_{0}$"
    ax = plot.branch(br, variable=1, labels=False, param_label="I")
    np.testing.assert_allclose(ax.lines[3].get_ydata(), [np.sqrt(1 / 6), -np.sqrt(1 / 6)])
    assert (ax.get_xlabel(), ax.get_ylabel(), len(ax.texts)) == ("I", "$y_{1}$", 0)
    plt.close("all")


def test_branch_of_a_real_continuation():
    br = rd.analysis.continuation(rd.CTRNN(W=[[8.0]], bias=[-8.0]), ("bias", 0), -8.0, 0.0)
    ax = plot.branch(br)
    assert len(ax.lines) == 3 + 1 and len(ax.texts) == 2  # Beer's two folds
    plt.close("all")


@pytest.mark.parametrize("bad, kw", [("branch", {}), (None, {}), ("br", {"variable": 2}),
                                     ("br", {"variable": -1}), ("br", {"variable": 0.0}),
                                     ("br", {"variable": True})])
def test_branch_rejects_bad_input(bad, kw):
    arg = _branch() if bad == "br" else bad
    with pytest.raises(ValidationError, match="branch"):
        plot.branch(arg, **kw)


# -- eigenvalues of fixed points -------------------------------------------------------------
def _fixed_points(kind="flow"):
    ev = np.array([[-1.0 + 0j, -2.0], [-0.5 + 1j, -0.5 - 1j], [1.0, -1.0], [0.3, 0.2]])
    stab = np.array(["stable", "stable", "saddle", "unstable"], dtype=object)
    return FixedPoints(np.zeros((4, 2)), np.array([0, 0, 0, 1e-3]),
                       np.array([True, True, True, False]), ev, stab,
                       np.array([0, 0, 1, 2]), np.ones(4, int), np.zeros(4, int), kind,
                       np.zeros(0), 0)


def test_eigenvalues_of_fixed_points_coloured_by_stability():
    fps = _fixed_points()
    ax = plot.eigenvalues(fps)
    # zero lines (2) + stable, saddle, slow point (the last row is not fixed)
    assert len(ax.lines) == 2 + 3
    stable, saddle, slow = ax.lines[2:]
    assert len(stable.get_xdata()) == 4 and len(saddle.get_xdata()) == 2
    assert stable.get_label() == "stable (2)" and slow.get_label() == "slow point (1)"
    assert stable.get_color() != saddle.get_color() != slow.get_color()
    np.testing.assert_allclose(sorted(saddle.get_xdata()), [-1.0, 1.0])
    ax = plot.eigenvalues(_fixed_points("map"))  # the map boundary: the unit circle
    assert ax.lines[0].get_xdata().size == 361
    # a real result, and the plain-array form still works
    fp = find_fixed_points(OSC, 8, seed=0)
    ax = plot.eigenvalues(fp)
    assert [ln.get_label() for ln in ax.lines[2:]] == ["unstable (1)"]
    assert len(plot.eigenvalues(fp.eigenvalues).lines) == 3
    plt.close("all")


@pytest.mark.parametrize("ev, kw", [(["a", "b"], {}), ([np.nan], {}), ([1.0], {"kind": 1}),
                                    ("fps", {"kind": "map"})])
def test_eigenvalues_rejects_bad_input(ev, kw):
    with pytest.raises(ValidationError, match="eigenvalues"):
        plot.eigenvalues(_fixed_points() if ev == "fps" else ev, **kw)
    plt.close("all")
