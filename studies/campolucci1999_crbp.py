"""System-identification experiment of: Campolucci, Uncini, Piazza & Rao, On-line learning algorithms for locally recurrent neural networks, IEEE Transactions on Neural Networks, 1999, DOI 10.1109/72.750546

An IIR-MLP (one input, 4 hidden tanh units, one linear output; every synapse an IIR filter
with 2 zeros and 2 poles) identifies a Wiener plant: the third-order low-pass IIR filter of
Back & Tsoi followed by sin, driven by white noise uniform on [-1, 1]. Three panels:

1. Gradient quality at the initial network over a 1000-sample sequence: the relative error
   of CRBP(Q) and of truncated BPTT(h = Q, h' = 1) against the exact (BPTT) gradient, as a
   function of the truncation depth Q. CRBP's output layer and every synapse's own recursion
   are exact whatever Q; only the backward filtering between layers is truncated.
2. Learning curves (Adam, one gradient per pass over the sequence): normalised MSE of the
   network on a test sequence for exact BPTT, CRBP(5), truncated BPTT(5, 1) and CRBP(1) (the
   Back-Tsoi rule).
3. On-line learning (an update after every sample, as in the paper): normalised MSE in
   windows of the stream for CRBP(1) and CRBP(5).

The normalised MSE is the MSE divided by the plant output's variance.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

from rnndyn.integrate import run as run_map
from rnndyn.models.iir_mlp import IIRMLP
from rnndyn.train.crbp import crbp, crbp_online, rbp
from rnndyn.train.gradients import bptt, truncated_bptt
from rnndyn.train.optimizers import Adam

NAME = "campolucci1999_crbp"


def plant(u):
    """The Wiener plant: low-pass IIR filter (Back & Tsoi) then sin."""
    z = lfilter([0.0154, 0.0462, 0.0462, 0.0154], [1.0, -1.99, 1.572, -0.4583], u)
    return np.sin(z)


def network(seed: int = 3) -> IIRMLP:
    return IIRMLP.random(1, 4, 1, ((2, 2), (2, 2)), seed=seed, pole_radius=0.3)


def nmse(model, u, d) -> float:
    y = run_map(model, u[:, None]).outputs[:, 0]
    return float(np.mean((y - d) ** 2) / np.var(d))


def gradient(method, model, u, d):
    X, Y = u[:, None], d[:, None]
    if method == "bptt":
        return bptt(model, X, Y).gradient
    kind, q = method.split(":")
    if kind == "crbp":
        return crbp(model, X, Y, depth=int(q)).gradient
    return truncated_bptt(model, X, Y, h=int(q), h_prime=1).gradient


def learn(method, u, d, u_test, d_test, epochs, lr):
    model = network()
    opt = Adam(lr)
    theta = model.to_vector()
    curve = [nmse(model, u_test, d_test)]
    for _ in range(epochs):
        theta = opt.step(theta, gradient(method, model, u, d))
        model = model.from_vector(theta)
        curve.append(nmse(model, u_test, d_test))
    return np.array(curve)


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    T = 1000
    u, u_test = rng.uniform(-1, 1, T), rng.uniform(-1, 1, T)
    d, d_test = plant(u), plant(u_test)

    # 1. gradient quality vs depth
    model = network()
    exact = bptt(model, u[:, None], d[:, None]).gradient
    depths = [1, 2, 3, 5, 10, 20, 40]
    rel = {k: [] for k in ("crbp", "tbptt")}
    for q in depths:
        for k in rel:
            g = gradient(f"{k}:{q}", model, u, d)
            rel[k].append(float(np.linalg.norm(g - exact) / np.linalg.norm(exact)))
    rbp_err = float(np.abs(rbp(model, u[:, None], d[:, None]).gradient - exact).max()
                    / np.abs(exact).max())
    full_err = float(np.abs(gradient(f"crbp:{T}", model, u, d) - exact).max()
                     / np.abs(exact).max())

    # 2. learning curves, one gradient per pass
    epochs = 60 if quick else 300
    methods = {"bptt": "exact BPTT", "crbp:5": "CRBP(5)", "tbptt:5": "truncated BPTT(5, 1)",
               "crbp:1": "CRBP(1) = Back-Tsoi"}
    curves = {m: learn(m, u, d, u_test, d_test, epochs, 0.01) for m in methods}

    # 3. on-line learning
    N = 20000 if quick else 60000
    us = rng.uniform(-1, 1, N)
    ds = plant(us)
    win = 1000
    online = {}
    for q in (1, 5):
        res = crbp_online(network(), us[:, None], ds[:, None], depth=q, lr=0.1)
        online[q] = res.errors.reshape(-1, win).mean(axis=1) / np.var(ds)
        online_final = nmse(res.model, u_test, d_test)
        online[f"test_{q}"] = online_final

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    ax[0].loglog(depths, rel["crbp"], "o-", label="CRBP(Q)")
    ax[0].loglog(depths, rel["tbptt"], "s--", label="truncated BPTT(Q, 1)")
    ax[0].set(xlabel="truncation depth Q", ylabel="relative error of the gradient",
              title="gradient vs exact (BPTT)")
    ax[0].legend()
    for m, label in methods.items():
        ax[1].semilogy(curves[m], label=label)
    ax[1].set(xlabel="pass over the sequence (Adam step)", ylabel="test NMSE",
              title="learning curves")
    ax[1].legend(fontsize=8)
    for q in (1, 5):
        ax[2].semilogy(win * (np.arange(len(online[q])) + 1), online[q],
                       label=f"CRBP({q})" + (" = Back-Tsoi" if q == 1 else ""))
    ax[2].set(xlabel="samples", ylabel=f"NMSE (windows of {win})",
              title="on-line learning, lr = 0.1")
    ax[2].legend()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(fig)

    res = {
        "rbp_vs_bptt_max_rel_err": rbp_err,
        "crbp_full_depth_vs_bptt_max_rel_err": full_err,
        "depths": depths,
        "crbp_grad_rel_err": rel["crbp"],
        "tbptt_grad_rel_err": rel["tbptt"],
        "initial_test_nmse": float(curves["bptt"][0]),
        "final_test_nmse": {m: float(c[-1]) for m, c in curves.items()},
        "online_final_window_nmse": {str(q): float(online[q][-1]) for q in (1, 5)},
        "online_first_window_nmse": {str(q): float(online[q][0]) for q in (1, 5)},
        "online_test_nmse": {str(q): float(online[f"test_{q}"]) for q in (1, 5)},
    }
    np.savez(out / f"{NAME}.npz", depths=np.array(depths), crbp_rel=rel["crbp"],
             tbptt_rel=rel["tbptt"], **{f"curve_{m.replace(':', '')}": c
                                        for m, c in curves.items()},
             online_q1=online[1], online_q5=online[5])
    (out / f"{NAME}.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    print(json.dumps(run(quick=False), indent=2))
