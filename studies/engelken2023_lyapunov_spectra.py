"""Reproduces the spectra figures of: Engelken, Wolf & Abbott, Lyapunov spectra of chaotic recurrent neural networks, Phys. Rev. Research 5, 043044, 2023, DOI 10.1103/PhysRevResearch.5.043044

Full Lyapunov spectra of random rate networks ``dx/dt = -x + J tanh(x)``,
``J_ij ~ N(0, g^2/N)``, ``J_ii = 0``, by the QR method on the tangent dynamics, each
quantity averaged over ``N_REAL`` = 5 network realisations per (g, N) (one population call
per N), with bands of +-1 standard deviation (spectra) or +-1 standard error of the mean
(D/N, H/N) over the realisations -- single realisations mislead: at N = 200, g = 2 one of
them sits on a limit cycle (lambda_1 = 0.0005) and contributes D = H = 0, and small
networks at large g often settle on a stable fixed point (N = 40, g = 5: all five did; the
json counts the non-chaotic realisations, lambda_1 < ``CHAOS_THRESHOLD``, per (g, N)):

(a) the mean spectrum for several gains g, plotted against i/N;
(b) size invariance: at g = 3 the mean spectra of different N collapse onto one curve of
    i/N (chaos is extensive);
(c) the Kaplan-Yorke attractor dimension per unit, D_KY/N, against g for several N (much
    smaller than 1), and (d) the Kolmogorov-Sinai entropy rate per unit (Pesin: the sum of
    the positive exponents), h_KS/N, against g. For N >= 500 only the k = N/4 largest
    exponents are computed (the tangent dynamics cost N^2 k per step): enough, as long as
    their partial sums turn negative (D_KY < k, checked; else D_KY is a lower bound).

The full run uses N = 100 and 200 (9 gains, T = 500) and N = 500 (4 gains) and 1000 (3
gains, T = 200) for (c, d), 5 realisations each: 58 min on one core (2026-11-27, the
tangent products matrix-free). Results: the spectra of N = 50, 100, 200 lie within 0.017,
0.013 and 0.029 (mean absolute difference) of N = 400's; D_KY/N at N = 1000 is 0.032,
0.060, 0.079 and h_KS/N 0.0007, 0.0030, 0.0069 per time unit at g = 2, 3, 5 (N = 500 agrees
to within two standard errors; N = 100 and 200 lie below near the onset, where several
realisations are not chaotic); both still rise at g = 10, the largest gain run. Comparison with the paper: its
numbers of D/N and H/N against g could not be read from the sources available while this
study was written (only its abstract: "attractor dimensions much smaller than the number of
phase space dimensions"; dimension and entropy rate increase with g near the onset of chaos
and decrease far from it), so the json gives ours alone, and ``PAPER`` is empty until the
paper's values (with their figure numbers) are transcribed beside them.
Far from the onset, where the abstract says dimension and entropy rate decrease again (tried
2026-11-27 outside the study: N = 100, 5 realisations, 200 time units after 50, dt from 0.02
at g = 10 to 0.0025 at g = 200, small enough for the quick passages of saturated units
through the linear range; dt = 0.1 at g = 10 agreed within the realisations' spread):
D_KY/N 0.076-0.083 (g = 10), 0.085-0.088 (20), 0.076-0.084 (50, two step sizes), 0.078
(100), 0.077 (200), each +- 0.005-0.010; h_KS/N 0.007, 0.011, 0.011-0.013, 0.012, 0.012,
while lambda_1 keeps growing (0.38, 0.62, 0.70-0.77, 0.77, 0.83). At N = 100 both level off
beyond g ~ 20 rather than fall; whether they fall at larger N or larger g is open.

Checks that hold exactly: the mean exponent is -1 for every g and N, because the Jacobian
-I + J diag(sech^2 x) has trace -N at every state (J_ii = 0).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.analysis.lyapunov import (ConvergenceWarning, kaplan_yorke_dimension, ks_entropy,
                                      lyapunov_spectrum)

N_REAL = 5  # network realisations per (g, N)
#: lambda_1 below this: the realisation is not chaotic (fixed point or limit cycle)
CHAOS_THRESHOLD = 0.005
HEADLINE = ("Chaos in random rate networks is extensive: size-invariant spectra, "
            "attractor dimension a few percent of N")
#: the paper's values of D/N and H/N (figure, g, value), none transcribed yet (see above)
PAPER: dict = {}


def spectra(n: int, gains, seed: int, t_total: float, t_transient: float, dt: float = 0.1,
            k: int | None = None) -> np.ndarray:
    """Lyapunov spectra (len(gains), N_REAL, k) of N_REAL random networks per gain (seeds
    ``seed, seed + 1, ...``), all in one population run."""
    nets = [rd.CTRNN.from_graph(rd.graphs.random_network(n, g=g, seed=seed + r))
            for g in gains for r in range(N_REAL)]
    x0 = np.random.default_rng(seed + 1000).normal(0.0, 1.0, n)
    with warnings.catch_warnings():  # convergence is judged by the figure (size collapse)
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = lyapunov_spectrum(rd.CTRNN.stack(nets), x0, t_total=t_total, dt=dt, k=k,
                                t_transient=t_transient, seed=seed)
    return res.exponents.reshape(len(gains), N_REAL, -1)


def collapse_error(spec_a: np.ndarray, spec_b: np.ndarray) -> float:
    """Mean absolute difference of two spectra as functions of i/N (b interpolated onto a)."""
    xa = (np.arange(spec_a.size) + 0.5) / spec_a.size
    xb = (np.arange(spec_b.size) + 0.5) / spec_b.size
    return float(np.mean(np.abs(spec_a - np.interp(xa, xb, spec_b))))


def _mean_sem(a: np.ndarray):
    """Mean and standard error of the mean over the last axis."""
    return a.mean(-1), a.std(-1, ddof=1) / np.sqrt(a.shape[-1])


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if quick:
        n_a, gains_a = 40, np.array([2.0, 3.0, 5.0])
        sizes, g_b = (20, 40, 60), 3.0
        gains_c = {40: np.array([1.5, 2.0, 3.0, 5.0])}
        t_total, t_transient = 100.0, 50.0
        t_big = t_total
    else:
        n_a, gains_a = 200, np.array([1.5, 2.0, 3.0, 5.0, 10.0])
        sizes, g_b = (50, 100, 200, 400), 3.0
        every_g = np.array([1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0])
        # N >= 500: fewer gains and a shorter run (the estimate of an extensive quantity per
        # unit self-averages over more units; the tangent dynamics cost N^2 k per step)
        gains_c = {100: every_g, 200: every_g, 500: np.array([2.0, 3.0, 5.0, 10.0]),
                   1000: np.array([2.0, 3.0, 5.0])}
        t_total, t_transient = 500.0, 100.0
        t_big = 200.0
    sizes_c = tuple(gains_c)
    spec_a = spectra(n_a, gains_a, 0, t_total, t_transient)
    spec_b = {n: spectra(n, [g_b], 100, t_total, t_transient)[0] for n in sizes}
    d_ky, h_ks, lambda1, partial = {}, {}, {}, {}
    for n in sizes_c:
        k = n if n < 500 else n // 4
        spec = spectra(n, gains_c[n], 200, t_total if n < 500 else t_big, t_transient, k=k)
        d = kaplan_yorke_dimension(spec)
        d_ky[n], h_ks[n], lambda1[n] = d / n, ks_entropy(spec) / n, spec[..., 0]
        partial[n] = bool(k < n and np.any(d >= k))  # D_KY a lower bound somewhere
    mean_exp = np.concatenate([spec_a.mean(axis=-1).ravel()] +
                              [s.mean(axis=-1) for s in spec_b.values()])
    mean_b = {n: s.mean(axis=0) for n, s in spec_b.items()}
    largest_n = max(sizes)
    collapse = {str(n): collapse_error(mean_b[largest_n], mean_b[n]) for n in sizes
                if n != largest_n}

    fig, axs = plt.subplots(1, 4, figsize=(18, 4.2), constrained_layout=True)
    x = (np.arange(n_a) + 0.5) / n_a
    for g, lam in zip(gains_a, spec_a):
        m, sd = lam.mean(0), lam.std(0, ddof=1)
        axs[0].plot(x, m, label=f"g = {g:g}")
        axs[0].fill_between(x, m - sd, m + sd, alpha=0.3)
    axs[0].axhline(0, color="0.6", lw=0.8)
    axs[0].axhline(-1, color="0.6", lw=0.8, ls=":")
    axs[0].set(xlabel="$i/N$", ylabel="$\\lambda_i$ (1/$\\tau$)",
               title=f"(a) spectra, N = {n_a}, mean $\\pm$ sd of {N_REAL} networks")
    axs[0].legend(fontsize=8)
    for n in sizes:
        axs[1].plot((np.arange(n) + 0.5) / n, mean_b[n], label=f"N = {n}")
    axs[1].axhline(0, color="0.6", lw=0.8)
    axs[1].set(xlabel="$i/N$", ylabel="$\\lambda_i$ (1/$\\tau$)",
               title=f"(b) size invariance, g = {g_b:g} (mean of {N_REAL})")
    axs[1].legend(fontsize=8)
    for n in sizes_c:
        for ax, val in ((axs[2], d_ky[n]), (axs[3], h_ks[n])):
            m, se = _mean_sem(val)
            ax.plot(gains_c[n], m, "o-", ms=3, label=f"N = {n}")
            ax.fill_between(gains_c[n], m - se, m + se, alpha=0.3)
    axs[2].set(xlabel="gain $g$", ylabel="$D_{KY}/N$",
               title="(c) attractor dimension per unit (mean $\\pm$ sem)")
    axs[3].set(xlabel="gain $g$", ylabel="$h_{KS}/N$ (1/$\\tau$)",
               title="(d) entropy rate per unit (Pesin)")
    for ax in axs[2:]:
        ax.legend(fontsize=8)
    name = Path(__file__).stem
    fig.savefig(out / f"{name}.png", dpi=120)
    plt.close(fig)
    np.savez(out / f"{name}.npz", gains_a=gains_a, spectra_a=spec_a, g_b=g_b,
             sizes=np.array(sizes), sizes_c=np.array(sizes_c),
             **{f"gains_c_N{n}": gains_c[n] for n in sizes_c},
             **{f"spectra_b_N{n}": spec_b[n] for n in sizes},
             **{f"d_ky_per_n_N{n}": d_ky[n] for n in sizes_c},
             **{f"h_ks_per_n_N{n}": h_ks[n] for n in sizes_c},
             **{f"lambda1_N{n}": lambda1[n] for n in sizes_c})
    per_n = lambda d: {str(n): {"mean": _mean_sem(d[n])[0].tolist(),  # noqa: E731
                                "sem": _mean_sem(d[n])[1].tolist()} for n in sizes_c}
    summary = {"n_realisations": N_REAL, "sizes": list(sizes_c),
               "gains": {str(n): gains_c[n].tolist() for n in sizes_c},
               "d_ky_per_n": per_n(d_ky), "h_ks_per_n": per_n(h_ks),
               "non_chaotic_realisations": {str(n): (lambda1[n] < CHAOS_THRESHOLD)
                                            .sum(axis=1).tolist() for n in sizes_c},
               "d_ky_lower_bound": {str(n): partial[n] for n in sizes_c},
               "largest_exponent": {str(g): _mean_sem(lam[:, 0])[0] for g, lam in
                                    zip(gains_a.tolist(), spec_a)},
               "mean_exponent_max_error": float(np.abs(mean_exp + 1.0).max()),
               "collapse_error_vs_largest_n": collapse, "paper": PAPER, "quick": bool(quick)}
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
