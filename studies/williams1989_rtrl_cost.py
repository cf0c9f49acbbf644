"""Cost analysis (Section 2.3) of: Williams & Zipser, A learning algorithm for continually running fully recurrent neural networks, Neural Computation 1(2):270-280, 1989, DOI 10.1162/neco.1989.1.2.270

Real-time recurrent learning carries the sensitivities p^k_ij = dy_k/dw_ij of every unit to
every weight forward in time: for a fully recurrent net of n units (and m inputs) that is an
n x n(n + m) matrix updated by a product with the n x n Jacobian each step, O(n^4) time and
O(n^3) memory per step (Williams & Zipser 1989, Sect. 2.3). Backpropagation through time
(Werbos 1990) costs O(n^2) a step (one forward, one vector-Jacobian product backwards) but
stores the whole trajectory. The figure measures both on ``rd.FullyRecurrent`` nets of
growing n (``rnndyn.train.rtrl`` and ``bptt``, one sequence, the same loss), fits log-log
slopes over the larger sizes, where the leading term dominates, and checks on the way that
the two gradients agree.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.train.gradients import bptt, rtrl, rtrl_bytes

M = 2  # inputs


def network(n: int, seed: int = 0) -> rd.FullyRecurrent:
    """A fully recurrent tanh net of n units, every unit an output (Williams & Zipser's
    setting), weights N(0, 1/n): near the edge of chaos, so gradients stay finite."""
    rng = np.random.default_rng(seed)
    return rd.FullyRecurrent(W=rng.normal(0, 1 / np.sqrt(n), (n, n)),
                             W_in=rng.normal(size=(n, M)), bias=0.1 * rng.normal(size=n))


def seconds_per_step(method, net, X, Y, repeats: int) -> float:
    """Best of ``repeats`` wall times of one gradient over X (T steps), per step."""
    method(net, X, Y)  # compile and warm
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        method(net, X, Y)
        best = min(best, time.perf_counter() - t0)
    return best / X.shape[0]


def slope(n, t) -> float:
    """Least-squares slope of log t against log n."""
    return float(np.polyfit(np.log(n), np.log(t), 1)[0])


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = np.array([4, 8, 12, 16, 20, 24] if quick else [4, 8, 16, 24, 32, 48, 64])
    T, repeats = (60, 2) if quick else (200, 3)
    rng = np.random.default_rng(1)
    t_rtrl, t_bptt, mem, agree = [], [], [], 0.0
    for n in sizes:
        net = network(int(n))
        X = rng.normal(size=(T, M))
        Y = 0.5 * rng.normal(size=(T, int(n)))
        t_rtrl.append(seconds_per_step(rtrl, net, X, Y, repeats))
        t_bptt.append(seconds_per_step(bptt, net, X, Y, repeats))
        mem.append(rtrl_bytes(net))
        g_r, g_b = rtrl(net, X, Y).gradient, bptt(net, X, Y).gradient
        agree = max(agree, float(np.abs(g_r - g_b).max() / np.abs(g_b).max()))
    t_rtrl, t_bptt, mem = np.array(t_rtrl), np.array(t_bptt), np.array(mem)
    big = sizes >= 12  # the leading term dominates there; small nets pay fixed costs
    res = {
        "sizes": sizes.tolist(),
        "steps": T,
        "rtrl_us_per_step": (1e6 * t_rtrl).tolist(),
        "bptt_us_per_step": (1e6 * t_bptt).tolist(),
        "rtrl_time_slope": slope(sizes[big], t_rtrl[big]),
        "bptt_time_slope": slope(sizes[big], t_bptt[big]),
        "rtrl_memory_slope": slope(sizes[big], mem[big]),
        "theory": {"rtrl_time": 4, "rtrl_memory": 3, "bptt_time": 2},
        "rtrl_vs_bptt_max_rel_diff": agree,
    }

    fig, ax = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    ax[0].loglog(sizes, 1e6 * t_rtrl, "o-", label=f"RTRL (slope {res['rtrl_time_slope']:.2f})")
    ax[0].loglog(sizes, 1e6 * t_bptt, "s-", label=f"BPTT (slope {res['bptt_time_slope']:.2f})")
    for p, style in ((4, "k:"), (2, "k--")):
        ref = 1e6 * (t_rtrl if p == 4 else t_bptt)[-1] * (sizes / sizes[-1]) ** p
        ax[0].loglog(sizes, ref, style, lw=1, label=f"n^{p}")
    ax[0].set(xlabel="units n", ylabel="microseconds per time step",
              title=f"gradient of one sequence (T = {T}, {M} inputs)")
    ax[0].legend(fontsize=8)
    ax[1].loglog(sizes, mem / 2 ** 20, "o-", label=f"RTRL sensitivities "
                 f"(slope {res['rtrl_memory_slope']:.2f})")
    ax[1].loglog(sizes, sizes * (T + 1) * 8 / 2 ** 20, "s-", label=f"BPTT stored states (T = {T})")
    ax[1].set(xlabel="units n", ylabel="MiB", title="memory")
    ax[1].legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "williams1989_rtrl_cost.png", dpi=120)
    plt.close(fig)
    np.savez(out / "williams1989_rtrl_cost.npz", sizes=sizes, rtrl_s=t_rtrl, bptt_s=t_bptt,
             rtrl_bytes=mem)
    (out / "williams1989_rtrl_cost.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    print(json.dumps(run(quick=False), indent=2))
