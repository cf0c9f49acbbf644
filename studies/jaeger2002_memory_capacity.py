"""Memory-capacity figures of: Jaeger, Short term memory in echo state networks, GMD Report 152, 2002, DOI none (technical report)

Short-term memory capacity ``MC = sum_k MC_k``, ``MC_k = r^2(u(n-k), y_k(n))`` for iid
uniform input (Jaeger 2002): (a) the forgetting curves MC_k of linear and tanh reservoirs of
N = 50 units at spectral radius 0.9; (b) MC against N: linear reservoirs reach MC ~ N (an
orthogonal W within a few percent, White, Lee & Sompolinsky 2004; a random W a little less,
its states being ill-conditioned in float64), tanh reservoirs stay well below N; (c) MC of a
tanh reservoir against the spectral radius and the input scaling: memory grows towards
rho = 1 and shrinks as a larger input drives the units into saturation.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnndyn.analysis.reservoir import memory_capacity
from rnndyn.models.reservoir import ESN


def reservoir(N, kind, rho=0.9, input_scaling=0.1, seed=0):
    linear = kind != "tanh"
    return ESN.random(N, 1, spectral_radius=rho, density=1.0 if linear else 0.2,
                      orthogonal=kind == "orthogonal", input_scaling=input_scaling,
                      activation="identity" if linear else "tanh", seed=seed)


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kw = dict(n_train=2000, n_test=1000, seed=1) if quick else dict(n_train=10000,
                                                                     n_test=4000, seed=1)
    kinds = ("orthogonal", "linear", "tanh")
    curves = {k: memory_capacity(reservoir(50, k), **kw) for k in kinds}
    sizes = [10, 20, 50] if quick else [10, 20, 30, 50, 75, 100]
    vs_n = {k: [memory_capacity(reservoir(N, k), washout=max(500, 2 * N + 10), **kw).total
                for N in sizes] for k in kinds}
    radii = np.round(np.linspace(0.1, 1.2, 6 if quick else 12), 3)
    vs_rho = [memory_capacity(reservoir(50, "tanh", rho=r), **kw).total for r in radii]
    scalings = [0.05, 0.2, 0.5, 1.0, 2.0] if quick else [0.02, 0.05, 0.1, 0.2, 0.5, 1.0,
                                                          2.0, 5.0]
    vs_scale = [memory_capacity(reservoir(50, "tanh", input_scaling=s), **kw).total
                for s in scalings]

    fig, ax = plt.subplots(1, 3, figsize=(13, 4), constrained_layout=True)
    for k in kinds:
        ax[0].plot(curves[k].delays, curves[k].curve, label=f"{k}: MC = {curves[k].total:.1f}")
        ax[1].plot(sizes, vs_n[k], "o-", label=k)
    ax[0].set(xlabel="delay k", ylabel="MC_k", title="forgetting curves, N = 50, rho = 0.9")
    ax[0].legend(fontsize=8)
    ax[1].plot(sizes, sizes, "k:", label="MC = N")
    ax[1].set(xlabel="N", ylabel="MC", title="memory capacity vs size")
    ax[1].legend(fontsize=8)
    ax[2].plot(radii, vs_rho, "o-", color="tab:green", label="vs spectral radius (scaling 0.1)")
    ax2 = ax[2].twiny()
    ax2.semilogx(scalings, vs_scale, "s--", color="tab:purple", label="vs input scaling")
    ax2.set_xlabel("input scaling (top axis)")
    ax[2].set(xlabel="spectral radius", ylabel="MC", title="tanh, N = 50")
    ax[2].legend(fontsize=8, loc="upper left")
    ax2.legend(fontsize=8, loc="lower right")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "jaeger2002_memory_capacity.png", dpi=120)
    plt.close(fig)
    result = {"mc_n50": {k: curves[k].total for k in kinds}, "sizes": sizes, "mc_vs_n": vs_n,
              "radii": radii.tolist(), "mc_vs_rho": vs_rho, "scalings": scalings,
              "mc_vs_input_scaling": vs_scale}
    np.savez(out / "jaeger2002_memory_capacity.npz",
             **{f"curve_{k}": curves[k].curve for k in kinds}, radii=radii,
             mc_vs_rho=vs_rho, scalings=scalings, mc_vs_scale=vs_scale)
    (out / "jaeger2002_memory_capacity.json").write_text(json.dumps(result, indent=2))
    return result
