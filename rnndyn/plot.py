"""Matplotlib helpers used by the studies and by users.

Every function draws into ``ax`` (default: a new figure's axes) and returns the axes, so
figures compose. Nothing here computes dynamics beyond evaluating the vector field on a
grid; pass results of ``rnndyn.analysis``.
"""
from __future__ import annotations

import numpy as np

from .errors import ValidationError
from .models.base import Model


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def spectrum(f, S, ax=None, *, log: bool = True, label=None, **kw):
    """Power spectrum S(f) (from ``analysis.power_spectrum``), log power by default."""
    ax = _axes(ax)
    f = np.asarray(f)
    S = np.asarray(S)
    (ax.semilogy if log else ax.plot)(f, S, label=label, **kw)
    ax.set_xlabel("frequency (cycles / time unit)")
    ax.set_ylabel("power spectral density")
    return ax


def phase_portrait(model: Model, xlim, ylim, ax=None, *, u=None, t: float = 0.0,
                   n_grid: int = 25, nullclines: bool = True, fixed_points=None,
                   trajectories=None, streamplot: bool = True):
    """Vector field, nullclines and fixed points of a 2-D flow.

    Parameters
    ----------
    model : Model
        A single flow with n = 2.
    xlim, ylim : (float, float)
        Plotted ranges of state components 0 and 1.
    u : array (n_in,), optional
        Constant input.
    n_grid : int
        Grid points per axis for the field (nullclines use 4x as many).
    nullclines : bool
        Draw the curves dy_0/dt = 0 (blue) and dy_1/dt = 0 (orange).
    fixed_points : FixedPoints, optional
        Drawn as filled (stable) or open (unstable/saddle) circles.
    trajectories : list of arrays (T, 2), optional
        Orbits to overlay (e.g. ``simulate(...).y``).
    """
    from .analysis._common import analysis_kernels, check_model, constant_input

    check_model(model, "phase_portrait", single=True, kind="flow")
    if model.n != 2:
        raise ValidationError("phase_portrait.model", f"draws 2-D flows; this one has n = "
                              f"{model.n}", model)
    ax = _axes(ax)
    uu = constant_input(model, u, "phase_portrait")

    def field(m):
        xs = np.linspace(*xlim, m)
        ys = np.linspace(*ylim, m)
        XX, YY = np.meshgrid(xs, ys)
        X = np.column_stack([XX.ravel(), YY.ravel()])
        out = np.empty_like(X)
        K = analysis_kernels(model, population=False)
        K.evaluate(float(t), X, np.zeros(len(X), np.int64),
                   np.array(np.broadcast_to(uu, (len(X), model.n_in))), model.kernel_params,
                   False, out)
        return xs, ys, out[:, 0].reshape(XX.shape), out[:, 1].reshape(XX.shape)

    xs, ys, U, V = field(n_grid)
    if streamplot:
        ax.streamplot(xs, ys, U, V, color="0.6", density=1.0, linewidth=0.7)
    else:
        ax.quiver(xs, ys, U, V, color="0.6")
    if nullclines:
        xs, ys, U, V = field(4 * n_grid)
        ax.contour(xs, ys, U, levels=[0.0], colors="C0", linewidths=1.5)
        ax.contour(xs, ys, V, levels=[0.0], colors="C1", linewidths=1.5)
    for tr in trajectories or ():
        tr = np.asarray(tr)
        ax.plot(tr[:, 0], tr[:, 1], color="k", lw=1)
    if fixed_points is not None and len(fixed_points):
        st = fixed_points.is_stable
        P = fixed_points.points
        ax.plot(P[st, 0], P[st, 1], "o", color="k", ms=7, label="stable")
        ax.plot(P[~st, 0], P[~st, 1], "o", mfc="white", mec="k", ms=7, label="unstable")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$y_1$")
    ax.set_ylabel("$y_2$")
    return ax


def orbit_diagram(diagram, ax=None, *, s: float = 0.2, color="k", **kw):
    """Scatter of an ``analysis.OrbitDiagram`` (parameter vs asymptotic values)."""
    ax = _axes(ax)
    ax.scatter(diagram.param, diagram.points, s=s, c=color, lw=0, **kw)
    ax.set_xlabel("parameter")
    ax.set_ylabel(f"$x_{{{diagram.variable}}}$ ({diagram.mode})")
    return ax


def basin_map(basin, ax=None, *, cmap="tab10", attractors: bool = True):
    """An ``analysis.BasinMap`` as a colour image (grey: unassigned, white: diverged)."""
    import matplotlib.colors as mcolors

    ax = _axes(ax)
    K = len(basin.attractors)
    base = [mcolors.to_rgba("white"), mcolors.to_rgba("0.7")]
    cm = __import__("matplotlib").colormaps[cmap]
    colours = base + [cm(k % cm.N) for k in range(max(K, 1))]
    img = np.asarray(colours)[basin.labels + 2]
    ax.imshow(img, origin="lower", aspect="auto", interpolation="nearest",
              extent=(basin.xs[0], basin.xs[-1], basin.ys[0], basin.ys[-1]))
    if attractors:
        for k, a in enumerate(basin.attractors):
            ax.plot(a[:, basin.dims[0]], a[:, basin.dims[1]], "o" if len(a) == 1 else "-",
                    color="k", mfc=colours[k + 2], ms=6)
    ax.set_xlabel(f"$y_{{{basin.dims[0]}}}(0)$")
    ax.set_ylabel(f"$y_{{{basin.dims[1]}}}(0)$")
    return ax


def eigenvalues(ev, ax=None, *, kind: str = "flow", **kw):
    """Eigenvalues in the complex plane with the stability boundary: the imaginary axis
    (flows) or the unit circle (maps)."""
    if kind not in ("flow", "map"):
        raise ValidationError("eigenvalues.kind", f"must be 'flow' or 'map', got {kind!r}")
    ax = _axes(ax)
    ev = np.asarray(ev).ravel()
    if kind == "flow":
        ax.axvline(0.0, color="0.5", lw=1)
    else:
        th = np.linspace(0, 2 * np.pi, 361)
        ax.plot(np.cos(th), np.sin(th), color="0.5", lw=1)
        ax.set_aspect("equal")
    ax.axhline(0.0, color="0.8", lw=0.5)
    kw.setdefault("marker", "x")
    kw.setdefault("ls", "none")
    ax.plot(ev.real, ev.imag, **kw)
    ax.set_xlabel("Re")
    ax.set_ylabel("Im")
    return ax
