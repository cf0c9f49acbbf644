"""A dynamical study of your own ODE: the forced Duffing oscillator, written with numba.

Shows how a user-defined vector field joins rnndyn without any Jacobian: one module-level
``@njit`` function ``rhs(t, y, u, p, dy, work)`` wrapped in ``rd.Flow``; every analysis
tool then uses central differences inside its compiled kernel. The study:

1. the unforced double well (gamma = 0): its equilibria with ``find_fixed_points``
   (a saddle at the origin between two stable foci at x = +-sqrt(-alpha / beta));
2. the forced oscillator (Guckenheimer & Holmes 1983, Nonlinear Oscillations, sec. 2.2:
   delta = 0.3, alpha = -1, beta = 1, gamma = 0.5, omega = 1.2), which is chaotic: its
   Lyapunov spectrum with ``lyapunov_spectrum``. The divergence of the field is -delta
   everywhere, so the exponents must sum to -delta: a check of the whole computation;
3. a figure: phase portrait with nullclines and equilibria, the stroboscopic (Poincare)
   section of the strange attractor, the spectrum and its convergence history.

Run ``python examples/user_ode_study.py [OUTPUT_DIR]``; without a folder the figure goes to
a temporary one. ``main(quick=True)`` is the short version the tests run.

Compilation: numba caches the kernels built from ``duffing_rhs`` on disk only when this file
is imported as a module (functions typed into ``__main__`` are compiled afresh in every
process). So the script imports itself before running: the first run compiles for about
30 s, later runs start in about 2 s. Put your own ODE in an importable module likewise.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from numba import njit

import rnndyn as rd

# p = (delta, alpha, beta, gamma, omega)
DUFFING = np.array([0.3, -1.0, 1.0, 0.5, 1.2])


@njit
def duffing_rhs(t, y, u, p, dy, work):
    """x'' + delta x' + alpha x + beta x^3 = gamma cos(omega t), as a first-order system."""
    dy[0] = y[1]
    dy[1] = -p[0] * y[1] - p[1] * y[0] - p[2] * y[0] ** 3 + p[3] * np.cos(p[4] * t)


def main(quick: bool = False, out=None) -> dict:
    """Run the study; returns its numbers and the path of the figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnndyn import plot

    out = Path(tempfile.mkdtemp(prefix="rnndyn_duffing_") if out is None else out)
    out.mkdir(parents=True, exist_ok=True)
    delta, omega = DUFFING[0], DUFFING[4]

    # 1. equilibria of the unforced system (no Jacobian given: central differences)
    unforced = rd.Flow(duffing_rhs, p=np.r_[DUFFING[:3], 0.0, omega], dim=2)
    fps = rd.analysis.find_fixed_points(unforced, 32, bounds=(-2.0, 2.0), seed=0)
    for x, s in zip(fps.points, fps.stability):
        print(f"equilibrium ({x[0]:+.4f}, {x[1]:+.4f}): {s}")

    # 2. the forced oscillator: trajectory and Lyapunov spectrum
    forced = rd.Flow(duffing_rhs, p=DUFFING, dim=2)
    period = 2 * np.pi / omega
    n_periods = 60 if quick else 2000
    dt = period / 200                       # whole steps per forcing period
    t = np.arange(0, n_periods + 1) * period  # stroboscopic samples, once per period
    tr = rd.simulate(forced, [1.0, 0.0], t, dt=dt, method="rk4")
    section = tr.y[10:]                      # drop the transient
    res = rd.analysis.lyapunov_spectrum(forced, [1.0, 0.0], t_total=n_periods * period,
                                        dt=dt, t_transient=10 * period, t_ortho=period,
                                        tol=0.1 if quick else 0.01, seed=0)
    lam = res.exponents
    print(f"Lyapunov exponents {np.round(lam, 4)}, sum {lam.sum():+.6f} "
          f"(divergence -delta = {-delta}); Kaplan-Yorke dimension {res.kaplan_yorke():.3f}")
    print(res.message)

    # 3. figure
    fig, axes = plt.subplots(2, 2, figsize=(10, 8))
    plot.phase_portrait(unforced, (-2.0, 2.0), (-1.5, 1.5), ax=axes[0, 0], fixed_points=fps)
    axes[0, 0].set_title(r"unforced ($\gamma = 0$): equilibria and nullclines")
    axes[0, 1].plot(section[:, 0], section[:, 1], ".", ms=2 if quick else 0.8, color="k")
    axes[0, 1].set(xlabel="$y_{0}$", ylabel="$y_{1}$",
                   title=rf"forced: stroboscopic section ($t = 2\pi k / \omega$)")
    plot.lyapunov_spectrum(res, ax=axes[1])
    axes[1, 0].set_title(f"spectrum: sum {lam.sum():+.4f} = $-\\delta$")
    fig.tight_layout()
    path = out / "duffing_study.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"figure: {path}")
    return {"exponents": lam, "divergence": -delta, "lyapunov": res, "fixed_points": fps,
            "section": section, "figure": path}


if __name__ == "__main__":
    # run the importable copy of this file (its folder is sys.path[0] for a script), so
    # that numba caches the compiled kernels (see the module docstring)
    import user_ode_study

    user_ode_study.main(out=sys.argv[1] if len(sys.argv) > 1 else None)
