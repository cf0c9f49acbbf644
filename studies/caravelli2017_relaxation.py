"""Slow relaxation of: Caravelli, Traversa & Di Ventra, The complex dynamics of memristive circuits: analytical results and universal slow relaxation, Phys. Rev. E, 2017, DOI 10.1103/PhysRevE.95.022140

CTD show that the mean memory of a DC-driven random memristive circuit relaxes slowly, as a
superposition of exponentials with a broad range of rates (from the spectrum of random loop
projectors), giving a power law that depends on the density of loops rather than on the
topology. Here: Erdős–Rényi graphs G(N, p) of growing p, i.e. growing loop density
rho = L/E = (E - N + 1)/E; every edge carries a memristor in series with a DC source
S_e ~ U(0, 1) V; memories start uniform in [0, 1]; CTD's equation in the paper's ("growth")
convention with alpha = 0, so the only time scales are the circuit's own (with alpha > 0 the
rate alpha sets a single exponential tail), beta = 10, R_on = 1, R_off = 10 (xi = 9). The
mean memory <w(t)> (averaged over edges and over graphs and sources) is plotted against log t;
Delta(t) = |<w(t)> - <w(T)>| is fitted by a power law t^-gamma over the decay after its
peak, from 50% down to 1% of the peak (the fitted window). The time the decay takes from 50%
to 1% is compared with a single exponential's ratio ln(100)/ln(2) = 6.64.
"""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np

import rnndyn as rd
from rnndyn.models.memristive import Memristive

R_ON, R_OFF, ALPHA, BETA = 1.0, 10.0, 0.0, 10.0
#: a single exponential falls from 50% to 1% of its start in this ratio of times
EXPONENTIAL_RATIO = np.log(100.0) / np.log(2.0)


def mean_memory(N: int, p: float, seeds, t):
    """<w(t)> over edges, averaged over random graphs and sources; and the loop density."""
    curves, rho = [], []
    for seed in seeds:
        G = nx.gnp_random_graph(N, p, seed=seed)
        G = G.subgraph(max(nx.connected_components(G), key=len))
        rng = np.random.default_rng(seed)
        E = G.number_of_edges()
        m = Memristive.from_graph(G, convention="growth", R_on=R_ON, R_off=R_OFF, alpha=ALPHA,
                                  beta=BETA, S=rng.uniform(0.0, 1.0, E))
        tr = rd.simulate(m, rng.uniform(0.0, 1.0, E), t, method="rk45", rtol=1e-7, atol=1e-10)
        curves.append(np.clip(tr.y, 0.0, 1.0).mean(axis=1))
        rho.append(m.n_loops / m.n)
    return np.mean(curves, axis=0), float(np.mean(rho))


def fit_decay(t, w):
    """Power-law exponent gamma of Delta = |w - w(T)| over its decay from 50% to 1% of the
    peak, the fit's R^2, and the time ratio t(1%)/t(50%)."""
    d = np.abs(w - w[-1])
    k0 = int(np.argmax(d))
    after = np.arange(k0, len(t))
    lo = after[d[after] <= 0.5 * d[k0]][0]
    hi = after[d[after] <= 0.01 * d[k0]][0]
    sel = np.arange(lo, hi + 1)
    x, y = np.log(t[sel]), np.log(d[sel])
    c = np.polyfit(x, y, 1)
    r2 = 1.0 - np.sum((y - np.polyval(c, x)) ** 2) / np.sum((y - y.mean()) ** 2)
    return float(-c[0]), float(r2), float(t[hi] / t[lo]), (float(t[lo]), float(t[hi]))


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    N = 30 if quick else 60
    ps = [0.2, 0.4, 0.8] if quick else [0.1, 0.2, 0.4, 0.8]
    seeds = range(3 if quick else 10)
    t = np.r_[0.0, np.logspace(-2, 5, 57 if quick else 141)]
    result = {"N": N, "p": ps, "loop_density": [], "gamma": [], "r2": [], "ratio_1_50": [],
              "fit_window": [], "exponential_ratio": float(EXPONENTIAL_RATIO)}
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    curves = {}
    for p in ps:
        w, rho = mean_memory(N, p, seeds, t)
        gamma, r2, ratio, window = fit_decay(t[1:], w[1:])
        curves[f"p_{p:g}"] = w
        for key, v in (("loop_density", rho), ("gamma", gamma), ("r2", r2),
                       ("ratio_1_50", ratio), ("fit_window", window)):
            result[key].append(v)
        label = f"p = {p:g} (rho = {rho:.2f})"
        ax[0].semilogx(t[1:], w[1:], label=label)
        d = np.abs(w[1:] - w[-1])
        line, = ax[1].loglog(t[1:-1], d[:-1], label=f"{label}: gamma = {gamma:.2f}")
        ax[1].loglog(window, d[np.searchsorted(t[1:], window[0])] *
                     (np.array(window) / window[0]) ** -gamma, "--", color=line.get_color())
    ax[0].set(xlabel="t", ylabel="<w(t)>", title=f"mean memory, G({N}, p), DC sources")
    ax[1].set(xlabel="t", ylabel="|<w(t)> - <w(T)>|", title="relaxation and power-law fits",
              ylim=(1e-5, 1))
    for a in ax:
        a.legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "caravelli2017_relaxation.png", dpi=120)
    plt.close(fig)
    np.savez(out / "caravelli2017_relaxation.npz", t=t, **curves)
    (out / "caravelli2017_relaxation.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys
    print(run(quick="--quick" in sys.argv))
