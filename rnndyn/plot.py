"""Matplotlib helpers used by the studies and by users.

Every function draws into ``ax`` (default: a new figure's axes) and returns the axes, so
figures compose. Nothing here computes dynamics beyond evaluating the vector field on a
grid; pass results of ``rnndyn.analysis``.

State components are numbered from 0 on every axis, as arrays are indexed: ``$y_0$`` is
``y[0]`` (``tr.y[:, 0]``). Lyapunov exponents keep their conventional rank
``lambda_1 >= lambda_2 >= ...`` (``exponents[i - 1]``).
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


def power_spectrum(f, S, ax=None, *, log: bool = True, label=None, **kw):
    """Power spectrum S(f) from ``analysis.power_spectrum``, log power by default.

    Parameters
    ----------
    f : array (F,)
        Frequencies (cycles per time unit).
    S : array (F,) or (F, k)
        Power spectral density; a 2-D array draws one line per column.
    log : bool
        Logarithmic power axis.

    Raises
    ------
    ValidationError
        If f is not 1-D or S does not have one row per frequency.
    """
    f = np.asarray(f)
    S = np.asarray(S)
    if f.ndim != 1 or f.dtype.kind not in "iuf":
        raise ValidationError("power_spectrum.f", f"expected a 1-D array of frequencies, got "
                              f"{f.dtype} {f.shape}", f)
    if S.ndim not in (1, 2) or S.shape[0] != f.shape[0] or S.dtype.kind not in "iuf":
        raise ValidationError("power_spectrum.S", f"expected a real array ({f.shape[0]},) or "
                              f"({f.shape[0]}, k) matching f, got {S.dtype} {S.shape}", S)
    ax = _axes(ax)
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
    from .analysis import vector_field
    from .integrate.plumbing import check_model

    check_model(model, "phase_portrait", single=True, kind="flow")
    if model.n != 2:
        raise ValidationError("phase_portrait.model", f"draws 2-D flows; this one has n = "
                              f"{model.n}", model)
    ax = _axes(ax)

    def field(m):
        xs = np.linspace(*xlim, m)
        ys = np.linspace(*ylim, m)
        XX, YY = np.meshgrid(xs, ys)
        out = vector_field(model, np.column_stack([XX.ravel(), YY.ravel()]), u=u, t=t)
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
    ax.set_xlabel("$y_{0}$")
    ax.set_ylabel("$y_{1}$")
    return ax


def orbit_diagram(diagram, ax=None, *, s: float = 0.2, color="k", **kw):
    """Scatter of an ``analysis.OrbitDiagram`` (parameter vs asymptotic values)."""
    ax = _axes(ax)
    ax.scatter(diagram.param, diagram.points, s=s, c=color, lw=0, **kw)
    ax.set_xlabel("parameter")
    ax.set_ylabel(f"$y_{{{diagram.variable}}}$ ({diagram.mode})")
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


#: colours of the stability classes in ``eigenvalues`` (FixedPoints) and ``branch``
STABILITY_COLOURS = {"stable": "C0", "saddle": "C1", "unstable": "C3", "marginal": "C7",
                     "slow point": "C4"}


def _complex_array(ev, name):
    a = np.asarray(ev)
    if a.dtype.kind not in "biufc":
        raise ValidationError(name, f"expected numeric eigenvalues, got {a.dtype} {a.shape}", ev)
    a = a.astype(complex).ravel()
    if not np.all(np.isfinite(a)):
        bad = int(np.flatnonzero(~np.isfinite(a))[0])
        raise ValidationError(name, f"must be finite, got {a[bad]} at flat index {bad}", ev)
    return a


def eigenvalues(ev, ax=None, *, kind: str | None = None, **kw):
    """Eigenvalues in the complex plane with the stability boundary: the imaginary axis
    (flows) or the unit circle (maps).

    Parameters
    ----------
    ev : array of complex, or FixedPoints
        Eigenvalues (any shape, e.g. ``FixedPoints.eigenvalues`` (K, n)), drawn as one set;
        or a ``find_fixed_points`` result, whose points' eigenvalues are drawn coloured by
        the point's stability (``STABILITY_COLOURS``: stable, saddle, unstable, marginal;
        slow points apart), one line per class labelled with its number of points.
    kind : {"flow", "map"}, optional
        Which boundary to draw; default: the FixedPoints' own kind, else "flow".
    **kw
        Passed to ``ax.plot`` (default marker "x", no line).

    Raises
    ------
    ValidationError
        For an unknown kind, a kind that contradicts the FixedPoints', or non-numeric or
        non-finite eigenvalues.
    """
    from .analysis.fixed_points import FixedPoints

    if kind not in (None, "flow", "map"):
        raise ValidationError("eigenvalues.kind", f"must be 'flow' or 'map', got {kind!r}",
                              kind)
    fps = ev if isinstance(ev, FixedPoints) else None
    if fps is not None:
        if kind is not None and kind != fps.kind:
            raise ValidationError("eigenvalues.kind", f"got {kind!r} but the fixed points are "
                                  f"of a {fps.kind}; leave kind out", kind)
        kind = fps.kind
        _complex_array(fps.eigenvalues, "eigenvalues.ev.eigenvalues")
    else:
        kind = kind or "flow"
        ev = _complex_array(ev, "eigenvalues.ev")
    ax = _axes(ax)
    if kind == "flow":
        ax.axvline(0.0, color="0.5", lw=1)
    else:
        th = np.linspace(0, 2 * np.pi, 361)
        ax.plot(np.cos(th), np.sin(th), color="0.5", lw=1)
        ax.set_aspect("equal")
    ax.axhline(0.0, color="0.8", lw=0.5)
    kw.setdefault("marker", "x")
    kw.setdefault("ls", "none")
    if fps is None:
        ax.plot(ev.real, ev.imag, **kw)
    else:
        cls = np.where(fps.is_fixed, fps.stability.astype(str), "slow point")
        for name, colour in STABILITY_COLOURS.items():
            rows = cls == name
            if rows.any():
                e = np.asarray(fps.eigenvalues)[rows].ravel()
                ax.plot(e.real, e.imag, **({"color": colour,
                                            "label": f"{name} ({int(rows.sum())})"} | kw))
    ax.set_xlabel("Re")
    ax.set_ylabel("Im")
    return ax


def _two_axes(ax, where):
    """(spectrum axes, history axes) from None (a new 1 x 2 figure) or a pair of axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        return tuple(axes)
    try:
        pair = tuple(np.ravel(np.asarray(ax, dtype=object)))
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(hasattr(a, "plot") for a in pair):
        raise ValidationError(f"{where}.ax", "with history=True pass two axes (spectrum, "
                              "history), e.g. plt.subplots(1, 2)[1], or history=False for "
                              "one", ax)
    return pair


def lyapunov_spectrum(result, ax=None, history: bool = True, *, normalized: bool = False,
                      member: int | None = None, **kw):
    """A Lyapunov spectrum (exponent vs rank) and the convergence of its running estimates.

    Parameters
    ----------
    result : LyapunovResult or array (k,) / (P, k)
        From ``analysis.lyapunov_spectrum``; a plain array of exponents (sorted here) only
        with ``history=False``. A population draws one spectrum per member.
    ax : Axes, pair of Axes, optional
        One axes for the spectrum alone; two (spectrum, history) with ``history=True``.
        Default: a new figure with the panels needed.
    history : bool
        Add a second panel with the running estimate of every exponent against the
        measuring time (``result.history`` vs ``result.times``): settled lines mean a
        converged spectrum.
    normalized : bool
        Plot against i/N (N: the state dimension, ``result.n``) instead of the rank i, to
        compare networks of different size (Engelken et al. 2023).
    member : int, optional
        Draw only this member of a population (needed for the history of a population).
    **kw
        Passed to the spectrum's ``ax.plot``.

    Returns
    -------
    Axes, or (Axes, Axes) with ``history=True``
        The spectrum panel draws one line per spectrum plus a grey zero line; the history
        panel one line per exponent plus a grey zero line.

    Raises
    ------
    ValidationError
        For an input that is neither a LyapunovResult nor an array of exponents, NaN
        exponents, a history asked of an array or of a whole population, a bad ``member``,
        or ``ax`` not matching the panels.
    """
    from .analysis.lyapunov import LyapunovResult

    where = "lyapunov_spectrum"
    if isinstance(result, LyapunovResult):
        lam, hist, times, n = np.asarray(result.exponents), result.history, result.times, \
            result.n
    else:
        try:
            lam = np.asarray(result, dtype=float)
        except (TypeError, ValueError):
            raise ValidationError(f"{where}.result", f"expected a LyapunovResult or an array of"
                                  f" exponents, got {type(result).__name__}", result) from None
        if lam.ndim not in (1, 2) or lam.shape[-1] < 1:
            raise ValidationError(f"{where}.result", f"expected exponents of shape (k,) or "
                                  f"(P, k), got {lam.shape}", result)
        if history:
            raise ValidationError(f"{where}.history", "an array of exponents has no "
                                  "convergence history; pass the LyapunovResult, or "
                                  "history=False", result)
        lam = -np.sort(-lam, axis=-1)
        hist = times = None
        n = lam.shape[-1]
    if np.isnan(lam).any():
        raise ValidationError(f"{where}.result", "contains NaN exponents (a diverged run); "
                              "nothing to plot", result)
    if member is not None:
        if lam.ndim != 2:
            raise ValidationError(f"{where}.member", "selects a population member, but this "
                                  "is a single spectrum; leave member out", member)
        if not isinstance(member, (int, np.integer)) or isinstance(member, bool) or \
                not 0 <= member < lam.shape[0]:
            raise ValidationError(f"{where}.member", f"must be an int in [0, {lam.shape[0]}),"
                                  f" got {member!r}", member)
        lam = lam[member]
        hist = None if hist is None else hist[member]
    if history and lam.ndim == 2:
        raise ValidationError(f"{where}.member", f"the history of a population of "
                              f"{lam.shape[0]} needs one member: pass member=k, or "
                              "history=False", member)
    if history:
        ax_s, ax_h = _two_axes(ax, where)
    else:
        if ax is not None and not hasattr(ax, "plot"):
            raise ValidationError(f"{where}.ax", "with history=False pass one axes", ax)
        ax_s, ax_h = _axes(ax), None
    k = lam.shape[-1]
    i = np.arange(1, k + 1)
    x = i / n if normalized else i
    kw.setdefault("marker", "o" if k <= 30 else None)
    kw.setdefault("ms", 4)
    ax_s.plot(x, lam.T, **kw)
    ax_s.axhline(0.0, color="0.6", lw=0.8, zorder=0)
    ax_s.set_xlabel("$i / N$" if normalized else "index $i$")
    ax_s.set_ylabel(r"Lyapunov exponent $\lambda_i$")
    if ax_h is None:
        return ax_s
    ax_h.plot(times, hist, lw=1)
    ax_h.axhline(0.0, color="0.6", lw=0.8, zorder=0)
    ax_h.set_xlabel("measuring time")
    ax_h.set_ylabel(r"running estimate of $\lambda_i$")
    return ax_s, ax_h


_BIFURCATION_NAMES = {"fold": "fold", "hopf": "Hopf", "flip": "flip",
                      "neimark-sacker": "Neimark-Sacker"}
_BIFURCATION_STYLE = {"fold": ("s", "C3"), "hopf": ("D", "C2"), "flip": ("^", "C4"),
                      "neimark-sacker": ("v", "C1")}


def branch(branch, variable: int = 0, ax=None, *, param_label: str = "parameter",
           color="k", labels: bool = True):
    """A continuation branch (``analysis.continuation``) in the (parameter, y[variable])
    plane: stable stretches solid, the others (unstable, saddle, marginal) dashed, the
    bifurcations marked and labelled by kind.

    Parameters
    ----------
    branch : Branch
    variable : int
        The state component on the vertical axis (0-based, as ``branch.states[:, variable]``).
    param_label : str
        Horizontal axis label (e.g. ``"bias of unit 0"``).
    color : colour of the branch.
    labels : bool
        Write each bifurcation's kind next to its marker.

    Returns
    -------
    Axes
        One line per stretch of equal stability (each shares its end point with the next,
        so the branch is unbroken), one marker line per bifurcation kind, one text per
        bifurcation (with ``labels``).

    Raises
    ------
    ValidationError
        If ``branch`` is not a Branch or ``variable`` is not a state index.
    """
    from .analysis.bifurcation import Branch

    where = "branch"
    if not isinstance(branch, Branch):
        raise ValidationError(f"{where}.branch", f"expected an analysis.continuation result "
                              f"(Branch), got {type(branch).__name__}", branch)
    states = np.asarray(branch.states)
    n = states.shape[1]
    if not isinstance(variable, (int, np.integer)) or isinstance(variable, bool) or \
            not 0 <= variable < n:
        raise ValidationError(f"{where}.variable", f"must be a state index in [0, {n}), got "
                              f"{variable!r}", variable)
    ax = _axes(ax)
    lam, y = np.asarray(branch.params), states[:, variable]
    stable = np.asarray(branch.stability) == "stable"
    cuts = np.flatnonzero(stable[1:] != stable[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(lam) - 1]])
    seen = set()
    for a, b in zip(starts, ends):
        st = bool(stable[a])
        name = "stable" if st else "unstable"
        ax.plot(lam[a:b + 1], y[a:b + 1], "-" if st else "--", color=color, lw=1.5,
                label=name if name not in seen else "_nolegend_")
        seen.add(name)
    kinds = {}
    for b in branch.bifurcations:
        kinds.setdefault(b.kind, []).append(b)
    for kind, bs in kinds.items():
        marker, colour = _BIFURCATION_STYLE.get(kind, ("o", "C5"))
        name = _BIFURCATION_NAMES.get(kind, kind)
        ax.plot([b.param for b in bs], [b.state[variable] for b in bs], marker, color=colour,
                ms=7, ls="none", label=name, zorder=3)
        if labels:
            for b in bs:
                ax.annotate(name, (b.param, b.state[variable]), xytext=(5, 5),
                            textcoords="offset points", color=colour, fontsize=9)
    ax.set_xlabel(param_label)
    ax.set_ylabel(f"$y_{{{int(variable)}}}$")
    return ax
