"""Reproduces the spectra figures of: Engelken, Wolf & Abbott, Lyapunov spectra of chaotic recurrent neural networks, Phys. Rev. Research 5, 043044, 2023, DOI 10.1103/PhysRevResearch.5.043044

Full Lyapunov spectra of random rate networks ``dx/dt = -x + J tanh(x)``,
``J_ij ~ N(0, g^2/N)``, ``J_ii = 0``, by the QR method on the tangent dynamics:

(a) the spectrum for several gains g (one population call), plotted against i/N;
(b) size invariance: at fixed g the spectra of different N collapse onto one curve of i/N
    (chaos is extensive);
(c) the Kaplan-Yorke attractor dimension per unit, D/N, against g (much smaller than 1).

Checks that hold exactly: the mean exponent is -1 for every g and N, because the Jacobian
-I + J diag(sech^2 x) has trace -N at every state (J_ii = 0).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.analysis.lyapunov import ConvergenceWarning, lyapunov_spectrum


def spectra(n: int, gains, seed: int, t_total: float, t_transient: float, dt: float = 0.1):
    """Full spectra (len(gains), n) of one random network per gain, in one population run."""
    nets = [rd.CTRNN.from_graph(rd.graphs.random_network(n, g=g, seed=seed)) for g in gains]
    x0 = np.random.default_rng(seed + 1000).normal(0.0, 1.0, n)
    with warnings.catch_warnings():  # convergence is judged by the figure (size collapse)
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = lyapunov_spectrum(rd.CTRNN.stack(nets), x0, t_total=t_total, dt=dt,
                                t_transient=t_transient, seed=seed)
    return res


def collapse_error(spec_a: np.ndarray, spec_b: np.ndarray) -> float:
    """Mean absolute difference of two spectra as functions of i/N (b interpolated onto a)."""
    xa = (np.arange(spec_a.size) + 0.5) / spec_a.size
    xb = (np.arange(spec_b.size) + 0.5) / spec_b.size
    return float(np.mean(np.abs(spec_a - np.interp(xa, xb, spec_b))))


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if quick:
        n_a, gains_a = 40, np.array([2.0, 3.0, 5.0])
        sizes, g_b = (20, 40, 60), 3.0
        gains_c = np.array([1.5, 2.0, 3.0, 4.0, 5.0])
        t_total, t_transient = 100.0, 50.0
    else:
        n_a, gains_a = 200, np.array([1.5, 2.0, 3.0, 5.0, 10.0])
        sizes, g_b = (50, 100, 200, 400), 3.0
        gains_c = np.array([1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0])
        t_total, t_transient = 500.0, 100.0
    res_a = spectra(n_a, gains_a, 0, t_total, t_transient)
    res_b = {n: spectra(n, [g_b], 1, t_total, t_transient).exponents[0] for n in sizes}
    res_c = spectra(n_a, gains_c, 2, t_total, t_transient)
    d_ky = np.atleast_1d(res_c.kaplan_yorke()) / n_a
    h_ks = np.atleast_1d(res_c.ks_entropy()) / n_a
    mean_exp = np.concatenate([res_a.exponents.mean(axis=1), res_c.exponents.mean(axis=1)]
                              + [[s.mean()] for s in res_b.values()])
    largest_n = max(sizes)
    collapse = {str(n): collapse_error(res_b[largest_n], res_b[n]) for n in sizes
                if n != largest_n}

    fig, axs = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
    for g, lam in zip(gains_a, res_a.exponents):
        axs[0].plot((np.arange(n_a) + 0.5) / n_a, lam, label=f"g = {g:g}")
    axs[0].axhline(0, color="0.6", lw=0.8)
    axs[0].axhline(-1, color="0.6", lw=0.8, ls=":")
    axs[0].set(xlabel="$i/N$", ylabel="$\\lambda_i$", title=f"(a) spectra, N = {n_a}")
    axs[0].legend(fontsize=8)
    for n in sizes:
        axs[1].plot((np.arange(n) + 0.5) / n, res_b[n], label=f"N = {n}")
    axs[1].axhline(0, color="0.6", lw=0.8)
    axs[1].set(xlabel="$i/N$", ylabel="$\\lambda_i$", title=f"(b) size invariance, g = {g_b:g}")
    axs[1].legend(fontsize=8)
    axs[2].plot(gains_c, d_ky, "o-", label="$D_{KY}/N$")
    axs[2].plot(gains_c, h_ks, "s--", label="$H_{KS}/N$ (Pesin)")
    axs[2].set(xlabel="gain $g$", ylabel="per unit",
               title=f"(c) dimension and entropy rate, N = {n_a}")
    axs[2].legend(fontsize=8)
    name = Path(__file__).stem
    fig.savefig(out / f"{name}.png", dpi=120)
    plt.close(fig)
    np.savez(out / f"{name}.npz", gains_a=gains_a, spectra_a=res_a.exponents,
             g_b=g_b, sizes=np.array(sizes), gains_c=gains_c, spectra_c=res_c.exponents,
             d_ky_per_n=d_ky, h_ks_per_n=h_ks,
             **{f"spectrum_b_N{n}": res_b[n] for n in sizes})
    summary = {"n": n_a, "gains": gains_c.tolist(), "d_ky_per_n": d_ky.tolist(),
               "h_ks_per_n": h_ks.tolist(),
               "largest_exponent": dict(zip(map(str, gains_a.tolist()),
                                            res_a.exponents[:, 0].tolist())),
               "mean_exponent_max_error": float(np.abs(mean_exp + 1.0).max()),
               "collapse_error_vs_largest_n": collapse, "quick": bool(quick)}
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
