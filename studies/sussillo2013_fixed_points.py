"""Reproduces the 3-bit flip-flop fixed-point figure of: Sussillo & Barak, Opening the black box: low-dimensional dynamics in high-dimensional recurrent neural networks, Neural Computation 25(3):626-649, 2013, doi:10.1162/NECO_a_00409.

A random rate network (g = 1.5) is trained with FORCE learning (Sussillo & Abbott 2009,
Neuron 63:544: recursive least squares on a linear readout that is fed back) on the 3-bit
flip-flop task: three input lines carry occasional +-1 pulses, and output k must hold the
sign of the last pulse on line k. With the inputs silent the trained network is the
autonomous flow ``dx/dt = -x + W_eff tanh(x)`` with the learned feedback folded into the
recurrence, ``W_eff = J + W_fb W_out`` -- a CTRNN with tanh units. Its fixed points are found
from states visited during the task (Sussillo & Barak's choice of starts) and from midpoints
between the memories, by damped Newton on dx/dt = 0 with descent on the speed
q = |dx/dt|^2 / 2 where Newton fails (``rnndyn.analysis.find_fixed_points``; for N = 200-500
a LAPACK solve per iterate is cheaper than the paper's pure minimisation of q). As in the
paper's 3-bit flip-flop figure, there is one stable fixed point per memory state (2^3 = 8,
the corners of the output cube) and saddle points between them (one unstable direction),
whose unstable manifolds connect the
memories. The figure shows the network state projected on its top principal components,
with stable points (filled) and saddles (open), and the output cube.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numba import njit

import rnndyn as rd
from rnndyn.analysis import find_fixed_points


def pulses(T: int, n_bits: int, rng, rate: float, width: int):
    """Flip-flop inputs (T, n_bits) with +-1 pulses of ``width`` steps arriving at ``rate``
    per step on each line, and targets (T, n_bits) = sign of the latest pulse (starting at
    a pulse at t = 0 on every line)."""
    U = np.zeros((T, n_bits))
    Z = np.zeros((T, n_bits))
    for k in range(n_bits):
        times = np.flatnonzero(rng.random(T) < rate)
        times = np.concatenate([[0], times[np.diff(np.concatenate([[0], times])) > 2 * width]])
        signs = rng.choice([-1.0, 1.0], size=len(times))
        for t0, s in zip(times, signs):
            U[t0:t0 + width, k] = s
        idx = np.searchsorted(times, np.arange(T), side="right") - 1
        Z[:, k] = signs[idx]
    return U, Z


@njit(cache=False)  # studies are loaded by path (not a package): no on-disk cache
def force(J, W_in, W_fb, W_out, P, x, U, Z, dt, every, learn):
    """Euler steps of tau dx/dt = -x + J r + W_fb z + W_in u, r = tanh x, z = W_out r
    (tau = 1); with learn, recursive least squares on W_out every ``every`` steps (FORCE).
    Returns the outputs (T, n_out) and states (T, N); x, W_out, P are updated in place."""
    T = U.shape[0]
    N = x.shape[0]
    Z_out = np.empty((T, W_out.shape[0]))
    X = np.empty((T, N))
    r = np.tanh(x)
    z = W_out @ r
    for t in range(T):
        x += dt * (-x + J @ r + W_fb @ z + W_in @ U[t])
        r = np.tanh(x)
        z = W_out @ r
        if learn and t % every == 0:
            k = P @ r
            c = 1.0 / (1.0 + r @ k)
            P -= c * np.outer(k, k)
            e = z - Z[t]
            W_out -= c * np.outer(e, k)
            z = W_out @ r
        Z_out[t] = z
        X[t] = x
    return Z_out, X


def train(N: int, T_train: int, seed: int, dt: float = 0.1, g: float = 1.5,
          alpha: float = 1.0, rate: float = 0.004, width: int = 10):
    rng = np.random.default_rng(seed)
    J = g * rng.standard_normal((N, N)) / np.sqrt(N)
    W_in = rng.uniform(-1, 1, (N, 3))
    W_fb = rng.uniform(-1, 1, (N, 3))
    W_out = np.zeros((3, N))
    P = np.eye(N) / alpha
    x = 0.5 * rng.standard_normal(N)
    U, Z = pulses(T_train, 3, rng, rate, width)
    force(J, W_in, W_fb, W_out, P, x, U, Z, dt, 2, True)
    return J, W_in, W_fb, W_out, x


def run(quick: bool = True, out: Path = Path("figures")) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    N, T_train, T_test = (200, 40_000, 20_000) if quick else (500, 150_000, 50_000)
    J, W_in, W_fb, W_out, x = train(N, T_train, seed=0)
    rng = np.random.default_rng(1)
    U, Z = pulses(T_test, 3, rng, 0.004, 10)
    z, X = force(J, W_in, W_fb, W_out.copy(), np.eye(N), x.copy(), U, Z, 0.1, 2, False)
    settled = np.ones(T_test, bool)  # score away from the 30 steps after each pulse onset
    for k in range(3):
        on = np.flatnonzero(np.diff(np.concatenate([[0.0], U[:, k]])) != 0)
        for t0 in on:
            settled[t0:t0 + 30] = False
    accuracy = float(np.mean(np.sign(z[settled]) == Z[settled]))

    net = rd.CTRNN(W=J + W_fb @ W_out, activation="tanh")  # the closed loop, inputs off
    starts = X[rng.choice(T_test, 128 if quick else 512, replace=False)]
    starts = starts + 0.1 * rng.standard_normal(starts.shape)
    fp = find_fixed_points(net, starts=starts, method="newton", tol=1e-8,
                           max_iter=200, dedup_tol=1e-4)
    # saddles sit between memories: search again from midpoints of pairs of stable points
    S = fp.stable
    i, j = np.triu_indices(len(S), 1)
    starts = np.concatenate([starts, 0.5 * (S[i] + S[j])])
    fp = find_fixed_points(net, starts=starts, method="newton", tol=1e-8,
                           max_iter=200, dedup_tol=1e-4)
    outputs = np.tanh(fp.points) @ W_out.T
    stable = fp.is_stable
    saddles1 = fp.is_fixed & (fp.n_unstable == 1)
    corners = {tuple(int(v) for v in np.sign(o)) for o in outputs[stable]}
    res = {
        "N": N,
        "test_accuracy": accuracy,
        "n_fixed": int(fp.is_fixed.sum()),
        "n_stable": int(stable.sum()),
        "n_saddle_index1": int(saddles1.sum()),
        "n_corners_stable": len(corners),
        "stable_output_min_abs": float(np.abs(outputs[stable]).min()) if stable.any() else 0.0,
    }

    # projection on the top 3 principal components of the test trajectory
    mu = X.mean(0)
    _, _, Vt = np.linalg.svd(X[::10] - mu, full_matrices=False)
    pc = lambda A: (A - mu) @ Vt[:3].T  # noqa: E731
    fig = plt.figure(figsize=(11, 4.8))
    ax = fig.add_subplot(1, 2, 1, projection="3d")
    traj = pc(X[::5])
    ax.plot(*traj.T, color="0.7", lw=0.4)
    F = pc(fp.points)
    ax.scatter(*F[stable].T, color="k", s=40, depthshade=False, label="stable")
    ax.scatter(*F[saddles1].T, facecolor="white", edgecolor="C3", s=40, depthshade=False,
               label="saddle (1 unstable mode)")
    ax.set_title(f"state space (PC 1-3), N = {N}")
    ax.legend(loc="upper left", fontsize=8)
    ax2 = fig.add_subplot(1, 2, 2, projection="3d")
    ax2.plot(*z[::5].T, color="0.7", lw=0.4)
    ax2.scatter(*outputs[stable].T, color="k", s=40, depthshade=False)
    ax2.scatter(*outputs[saddles1].T, facecolor="white", edgecolor="C3", s=40,
                depthshade=False)
    ax2.set_title(f"outputs: {res['n_stable']} stable points, {res['n_saddle_index1']} saddles")
    fig.tight_layout()
    fig.savefig(out / "sussillo2013_fixed_points.png", dpi=120)
    plt.close(fig)
    np.savez(out / "sussillo2013_fixed_points.npz", points_pc=F, outputs=outputs,
             stable=stable, n_unstable=fp.n_unstable, is_fixed=fp.is_fixed,
             eigenvalues=fp.eigenvalues, speed=fp.speed)
    (out / "sussillo2013_fixed_points.json").write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    print(run(quick=True))
