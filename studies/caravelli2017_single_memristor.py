"""Single-memristor threshold of: Caravelli, Traversa & Di Ventra, The complex dynamics of memristive circuits: analytical results and universal slow relaxation, Phys. Rev. E, 2017, DOI 10.1103/PhysRevE.95.022140

One memristor in series with a DC source S closes one loop (Omega = 1), so CTD's equation
reduces to ``dw/dt = alpha w - S / (beta (1 + xi w))`` (R_on = 1). Its zero

    w* = (-1 + sqrt(1 + 4 xi S / (alpha beta))) / (2 xi)

is unstable in the paper's ("growth") convention: memories below it are erased to 0, above it
written to 1. The study bisects the basin boundary from simulations alone (a population of
one-memristor circuits, one per source voltage, each bisection round one ``rd.simulate``
call) and compares it with w*; in the "decay" convention (the time-reversed field) the same
w* attracts every start. Parameters: R_on = 1, R_off = 10 (xi = 9), alpha = 0.1, beta = 10
(the reference values used in the literature).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.models.memristive import Memristive, single_threshold

R_ON, R_OFF, ALPHA, BETA = 1.0, 10.0, 0.1, 10.0


def circuits(S, convention):
    """A population of one-memristor loops, one per source voltage in S."""
    return Memristive.stack([Memristive(edges=[("n", "n")], convention=convention, R_on=R_ON,
                                        R_off=R_OFF, alpha=ALPHA, beta=BETA, S=s) for s in S])


def bisect_threshold(S, rounds: int, t_end: float = 400.0):
    """Basin boundary of every member by bisection on the simulated end state (0 or 1)."""
    pop = circuits(S, "growth")
    lo, hi = np.full(len(S), 1e-3), np.full(len(S), 1.0 - 1e-3)
    for _ in range(rounds):
        mid = 0.5 * (lo + hi)
        final = rd.simulate(pop, mid[:, None], [0.0, t_end], dt=0.1).y[-1, :, 0]
        erased = final <= 0.0
        lo, hi = np.where(erased, mid, lo), np.where(erased, hi, mid)
    return 0.5 * (lo + hi)


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    S = np.linspace(0.2, 3.0, 8 if quick else 29)
    analytic = np.array([single_threshold(R_ON, R_OFF, ALPHA, BETA, s) for s in S])
    measured = bisect_threshold(S, rounds=24)
    # trajectories around the threshold of one source, in both conventions
    k = len(S) // 2
    w_star = analytic[k]
    t = np.linspace(0.0, 150.0, 301)
    starts = np.clip(w_star + np.array([-0.3, -0.1, -0.01, -1e-4, 1e-4, 0.01, 0.1, 0.3]), 0, 1)
    growth = rd.simulate(circuits([S[k]] * len(starts), "growth"), starts[:, None], t, dt=0.05)
    decay = rd.simulate(circuits([S[k]] * len(starts), "decay"), starts[:, None], t, dt=0.05)
    decay_error = float(np.abs(decay.y[-1, :, 0] - w_star).max())

    fig, ax = plt.subplots(1, 3, figsize=(13, 4), constrained_layout=True)
    ax[0].plot(S, analytic, "k-", label="analytic $w^*$")
    ax[0].plot(S, measured, "o", color="tab:red", mfc="none", label="bisected basin boundary")
    ax[0].fill_between(S, 0, analytic, color="tab:blue", alpha=0.1, label="erased (w -> 0)")
    ax[0].fill_between(S, analytic, 1, color="tab:orange", alpha=0.1, label="written (w -> 1)")
    ax[0].set(xlabel="source S (V)", ylabel="initial memory w(0)", ylim=(0, 1),
              title="threshold (growth convention)")
    ax[0].legend(fontsize=8)
    for a, tr, name in ((ax[1], growth, "growth: w* unstable"),
                        (ax[2], decay, "decay: w* stable")):
        a.plot(t, np.clip(tr.y[:, :, 0], 0, 1), lw=1)
        a.axhline(w_star, color="k", ls="--", lw=1, label=f"w* = {w_star:.4f}")
        a.set(xlabel="t", ylabel="w(t)", ylim=(-0.02, 1.02), title=f"S = {S[k]:.2f}, {name}")
        a.legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "caravelli2017_single_memristor.png", dpi=120)
    plt.close(fig)
    result = {"S": S.tolist(), "w_star_analytic": analytic.tolist(),
              "w_star_measured": measured.tolist(),
              "max_abs_error": float(np.abs(measured - analytic).max()),
              "decay_max_error": decay_error, "bisection_rounds": 24}
    np.savez(out / "caravelli2017_single_memristor.npz", S=S, analytic=analytic,
             measured=measured, t=t, growth=growth.y[:, :, 0], decay=decay.y[:, :, 0])
    (out / "caravelli2017_single_memristor.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys
    print(run(quick="--quick" in sys.argv))
