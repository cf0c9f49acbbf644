"""Largest-Lyapunov-exponent figure of: Sompolinsky, Crisanti & Sommers, Chaos in random neural networks, Phys. Rev. Lett. 61, 259, 1988, DOI 10.1103/PhysRevLett.61.259

Random rate networks ``dx/dt = -x + J tanh(x)``, ``J_ij ~ N(0, g^2/N)``, ``J_ii = 0``: the
fixed point x = 0 is stable for g < 1 and the network is chaotic for g > 1 (N -> inf). The
figure plots the largest Lyapunov exponent (QR method, all gains of one size in one
population call) against g for N = 200 and 400, with the exact value below the transition,
``-1 + max Re eig(J)`` (the exponent of the stable fixed point, ~ g - 1 by the circular law).
Headline: the gain at which the largest exponent crosses zero (near 1 for finite N).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.analysis.lyapunov import ConvergenceWarning, lyapunov_spectrum


def zero_crossing(g: np.ndarray, lam: np.ndarray, tol: float = 0.01) -> float:
    """Gain at which lam first reaches zero from below, by linear interpolation between the
    last clearly negative sample (< -tol) and the next one (NaN if it never does). Past the
    transition a finite network may sit on a limit cycle (lam = 0 up to sampling error), so
    "reaches zero" means "rises above -tol"."""
    k = np.flatnonzero((lam[:-1] < -tol) & (lam[1:] >= -tol))
    if not k.size:
        return float("nan")
    i = k[0]
    return float(g[i] - lam[i] * (g[i + 1] - g[i]) / (lam[i + 1] - lam[i]))


def sweep(n: int, gains, seed: int, t_total: float, t_transient: float, dt: float = 0.1):
    """Largest exponent of one random network per gain (one population run), and the exact
    fixed-point value -1 + max Re eig(J) of each network."""
    nets = [rd.CTRNN.from_graph(rd.graphs.random_network(n, g=g, seed=seed)) for g in gains]
    pop = rd.CTRNN.stack(nets)
    x0 = np.random.default_rng(seed + 1000).normal(0.0, 1.0, n)
    with warnings.catch_warnings():  # near g = 1 convergence is slow (critical slowing down)
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = lyapunov_spectrum(pop, x0, t_total=t_total, dt=dt, k=1, t_transient=t_transient,
                                seed=seed)
    fixed = np.array([-1.0 + np.linalg.eigvals(np.asarray(m.W)).real.max() for m in nets])
    return res.exponents[:, 0], fixed


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if quick:
        sizes, seeds = (200,), (0,)
        gains = np.array([0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 2.0])
        t_total, t_transient = 100.0, 50.0
    else:
        sizes, seeds = (200, 400), (0, 1, 2)
        gains = np.round(np.concatenate([np.arange(0.5, 1.5, 0.1), np.arange(1.5, 3.01, 0.25)]),
                         3)
        t_total, t_transient = 500.0, 100.0
    lam = np.zeros((len(sizes), len(seeds), len(gains)))
    fixed = np.zeros_like(lam)
    for a, n in enumerate(sizes):
        for b, s in enumerate(seeds):
            lam[a, b], fixed[a, b] = sweep(n, gains, s, t_total, t_transient)
    mean = lam.mean(axis=1)
    crossings = {n: zero_crossing(gains, mean[a]) for a, n in enumerate(sizes)}
    below = gains < 0.9  # safely below the transition: the exponent is the fixed point's
    fp_error = float(np.abs(lam[..., below] - fixed[..., below]).max())

    fig, ax = plt.subplots(figsize=(6, 4.2), constrained_layout=True)
    for a, n in enumerate(sizes):
        ax.plot(gains, mean[a], "o-", ms=4, label=f"N = {n} (mean of {len(seeds)} networks)")
    gg = np.linspace(gains.min(), 1.0, 50)
    ax.plot(gg, gg - 1.0, "k--", lw=1, label="$g - 1$ (fixed point, $N\\to\\infty$)")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.axvline(1.0, color="0.6", lw=0.8, ls=":")
    ax.set(xlabel="gain $g$", ylabel="largest Lyapunov exponent $\\lambda_1$",
           title="Transition to chaos in random rate networks")
    ax.legend(loc="lower right", fontsize=8)
    name = Path(__file__).stem
    fig.savefig(out / f"{name}.png", dpi=120)
    plt.close(fig)
    np.savez(out / f"{name}.npz", gains=gains, sizes=np.array(sizes), seeds=np.array(seeds),
             lambda_max=lam, fixed_point=fixed)
    summary = {"g_cross": {str(n): c for n, c in crossings.items()},
               "fixed_point_max_error": fp_error,
               "lambda_max_at_g2": float(mean[0][np.argmin(np.abs(gains - 2.0))]),
               "quick": bool(quick)}
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
