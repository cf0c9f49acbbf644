"""Fig. 3 of: Sussillo & Barak, Opening the black box: low-dimensional dynamics in high-dimensional recurrent neural networks, Neural Computation 25(3):626-649, 2013, doi:10.1162/NECO_a_00409.

The 3-bit flip-flop. A random rate network is trained with FORCE learning (Sussillo & Abbott
2009, Neuron 63:544: recursive least squares on a linear readout z = W_out r + b that is fed
back) with the parameters of Sussillo & Abbott: N = 1000 units, sparse recurrence (each
connection present with probability p = 0.1, J_ij ~ N(0, g^2 / (p N)), g = 1.5: chaotic
before training), feedback weights W_fb ~ U(-1, 1), P(0) = I / alpha with alpha = 1, a weight
update every 2 steps, tau = 1 (10 ms in the papers) and Euler step dt = 0.1 tau. Three input
lines (B ~ U(-1, 1)) carry +-1 pulses at random times; output k must hold the sign of the
last pulse of line k. Sussillo & Barak's pulse timing could not be read from the sources
available when this study was written; here a pulse lasts one tau and arrives
independently on each line, on average once every 25 tau (Poisson, at least 2 tau apart),
so the network sees every memory and every bit flip many times: 200 000 training steps
(20 000 tau) hold about 2 400 pulses. The quick mode trains a N = 200 network for 40 000
steps.

The network runs in the leaky echo-state form of ``rnndyn.train.readout.force``,
``r(n+1) = (1 - a) r(n) + a tanh(J r(n) + W_fb z(n) + B u(n+1))`` with a = dt / tau. With the
inputs silent, the trained network is the autonomous flow ``dr/dt = -r + tanh(W_eff r + c)``,
``W_eff = J + W_fb W_out``, ``c = W_fb b`` (an ``ESNFlow``; its Euler map is the trained
network). It is conjugate to the paper's form ``dx/dt = -x + W_eff tanh(x) + c`` by
``x = W_eff r + c``: the same fixed points, and the same Jacobian eigenvalues at them
(``-I + diag(f') W_eff`` and ``-I + W_eff diag(f')`` are similar). Its fixed points are found
(``rnndyn.analysis.find_fixed_points``) from states the network visits during the task
(Sussillo & Barak's starts) and from midpoints between the memories.

What the paper's Fig. 3 shows and this study checks: 8 stable fixed points (the memories),
one near each corner of the output cube {-1, 1}^3, and saddles with a single unstable
direction between them, whose unstable manifold leads to the two neighbouring memories
(corners differing in one bit) -- the mechanism of a bit flip. The paper characterises a
saddle by the eigenvalues of its linearisation: one positive real eigenvalue, the rest in
the left half plane. The study follows both branches of each saddle's unstable manifold to
the memories it reaches and reports its unstable eigenvalue (in 1 / tau).

Figure: (a) state space on the top 3 principal components of the test trajectory, with
memories (black), index-1 saddles (red) and their unstable manifolds; (b) the same in output
space; (c) the Jacobian spectra of a memory and of a saddle, as in the paper.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.analysis import find_fixed_points
from rnndyn.errors import ConvergenceWarning
from rnndyn.models.reservoir import ESN, ESNFlow
from rnndyn.train.readout import RLS, force, generate

DT = 0.1  # Euler step in units of tau (dt = 1 ms, tau = 10 ms in the papers)
PULSE_WIDTH = 10  # steps: one tau
PULSE_RATE = 0.004  # pulses per step and line: one every 25 tau on average
HEADLINE = ("FORCE-trained 3-bit flip-flop: 8 memories at the cube's corners, "
            "joined by index-1 saddles")


def pulses(T: int, n_bits: int, rng, rate: float = PULSE_RATE, width: int = PULSE_WIDTH):
    """Flip-flop inputs (T, n_bits) with +-1 pulses of ``width`` steps arriving at ``rate``
    per step on each line (at least two widths apart), and targets (T, n_bits) = the sign of
    the latest pulse (every line starts with a pulse at t = 0)."""
    U = np.zeros((T, n_bits))
    Z = np.zeros((T, n_bits))
    for k in range(n_bits):
        times = np.flatnonzero(rng.random(T) < rate)
        times = np.concatenate([[0], times[np.diff(np.concatenate([[0], times])) > 2 * width]])
        signs = rng.choice([-1.0, 1.0], size=len(times))
        for t0, s in zip(times, signs):
            U[t0:t0 + width, k] = s
        Z[:, k] = signs[np.searchsorted(times, np.arange(T), side="right") - 1]
    return U, Z


def network(N: int, seed: int, g: float = 1.5, p: float = 0.1) -> ESN:
    """The untrained network of Sussillo & Abbott 2009: sparse J (density p, variance
    g^2 / (p N)), W_fb and B ~ U(-1, 1), leak a = dt / tau."""
    rng = np.random.default_rng(seed)
    J = np.where(rng.random((N, N)) < p, rng.standard_normal((N, N)) * g / np.sqrt(p * N), 0.0)
    return ESN(W=J, W_in=rng.uniform(-1, 1, (N, 3)), W_fb=rng.uniform(-1, 1, (N, 3)), leak=DT)


def train(esn: ESN, T_train: int, seed: int, alpha: float = 1.0, chunk: int = 10_000):
    """FORCE on ``T_train`` steps of flip-flop pulses (in chunks, to bound the memory of the
    stored states). Returns the RLS readout and the final state."""
    rng = np.random.default_rng(seed)
    U, Z = pulses(T_train, 3, rng)
    readout = RLS(alpha=alpha)
    h = 0.5 * rng.uniform(-1, 1, esn.n)
    for start in range(0, T_train, chunk):
        res = force(esn, Z[start:start + chunk], inputs=U[start:start + chunk],
                    readout=readout, h0=h, every=2)
        h = res.final
    return readout, h


def unstable_manifold(esn: ESN, W_eff, c, saddles, vectors, steps: int, eps: float = 1e-2):
    """End states (2, S, n) of the two branches of each saddle's unstable manifold: the
    trained map with inputs off, from ``saddle +- eps v`` for ``steps`` steps."""
    closed = ESN(W=W_eff, bias=c, leak=DT)
    h0 = np.concatenate([saddles + eps * vectors, saddles - eps * vectors])
    res = rd.run(closed, np.zeros((steps, len(h0), 0)), h0)
    return res.final.reshape(2, len(saddles), -1)


def fixed_points(flow: ESNFlow, X, Z, settled, W_out, b, rng, per_memory: int,
                 n_random: int, fractions=(0.5,)):
    """Fixed points of the closed loop by damped Newton (``find_fixed_points``), from states
    the network visits (Sussillo & Barak's choice of starts), in two passes. First pass:
    ``per_memory`` states X held settled at each of the 8 targets Z, and ``n_random`` states
    anywhere on the task trajectory. Second pass: the points found, and points at
    ``fractions`` of the way between stable points whose outputs differ in one bit, where
    the saddle of a bit flip lies."""
    kw = dict(method="newton", tol=1e-8, max_iter=40, dedup_tol=1e-4)
    held = [rng.choice(idx, min(per_memory, len(idx)), replace=False) for idx in
            (np.flatnonzero(settled & np.all(Z == z, axis=1)) for z in np.unique(Z, axis=0))
            if len(idx)]
    starts = np.concatenate([X[np.concatenate(held)],
                             X[rng.choice(len(X), n_random, replace=False)]])
    with warnings.catch_warnings():  # many task states are far from any fixed point
        warnings.simplefilter("ignore", ConvergenceWarning)
        fp = find_fixed_points(flow, starts=starts, **kw)
        S = fp.stable
        corner = np.sign(S @ W_out.T + b)
        i, j = np.triu_indices(len(S), 1)
        near = np.sum(corner[i] != corner[j], axis=1) == 1
        i, j = i[near], j[near]
        segment = [(1 - a) * S[i] + a * S[j] for a in fractions]
        return find_fixed_points(flow, starts=np.concatenate([fp.points] + segment), **kw)


def run(quick: bool = True, out: Path = Path("figures")) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    N, T_train, T_test = (200, 40_000, 20_000) if quick else (1000, 200_000, 50_000)
    esn = network(N, seed=0)
    readout, h = train(esn, T_train, seed=1)
    W_out, b = readout.W_out, readout.bias
    rng = np.random.default_rng(2)
    U, Z = pulses(T_test, 3, rng)
    z, X = generate(esn, readout, T_test, h, W_out @ h + b, inputs=U)
    settled = np.ones(T_test, bool)  # score away from the 30 steps after each pulse onset
    for k in range(3):
        for t0 in np.flatnonzero(np.diff(np.concatenate([[0.0], U[:, k]])) != 0):
            settled[t0:t0 + 30] = False
    accuracy = float(np.mean(np.sign(z[settled]) == Z[settled]))

    # the closed loop with inputs off, as a flow
    W_eff, c = esn.W + esn.W_fb @ W_out, esn.W_fb @ b
    flow = ESNFlow(W=W_eff, bias=c)
    # (a Newton step costs an N^3 solve: at N = 1000 the starts are few and chosen)
    fp = fixed_points(flow, X, Z, settled, W_out, b, rng, per_memory=2,
                      n_random=8 if quick else 4)
    outputs = fp.points @ W_out.T + b
    stable = fp.is_stable
    corners = np.sign(outputs)
    saddle = fp.is_fixed & (fp.n_unstable == 1)

    # each index-1 saddle: its unstable eigenvalue and the memories its manifold reaches
    lam_u, ends, arrival = [], [], []
    if saddle.any() and stable.any():
        vecs = []
        for x in fp.points[saddle]:
            s = 1.0 - np.tanh(W_eff @ x + c) ** 2  # f'(W_eff r + c): J = -I + diag(s) W_eff
            ev, V = np.linalg.eig(-np.eye(N) + s[:, None] * W_eff)
            k = int(np.argmax(ev.real))
            lam_u.append(float(ev[k].real))
            vecs.append(V[:, k].real / np.linalg.norm(V[:, k].real))
        # escape from eps takes ~ln(1/eps)/lambda_u: 150 tau covers lambda_u >= 0.05
        final = unstable_manifold(esn, W_eff, c, fp.points[saddle], np.array(vecs),
                                  steps=int(150 / DT))
        S = fp.points[stable]
        for branch in final:  # arrival: distance of each end from the memory it reached
            d = np.linalg.norm(branch[:, None, :] - S[None], axis=2)
            ends.append(d.argmin(axis=1))
            arrival.append(d.min(axis=1))
        ends = np.array(ends).T  # (n_saddles, 2): indices into the stable points
    stable_corners = corners[stable]
    links = []  # (corner a, corner b) reached by the two branches of each saddle
    for e in (ends if len(lam_u) else []):
        links.append([stable_corners[e[0]].astype(int).tolist(),
                      stable_corners[e[1]].astype(int).tolist()])
    neighbours = [int(np.sum(np.array(a) != np.array(bb)) == 1) for a, bb in links]
    res = {
        "N": N,
        "quick": bool(quick),
        "test_accuracy": accuracy,
        "n_fixed": int(fp.is_fixed.sum()),
        "n_stable": int(stable.sum()),
        "n_corners_stable": len({tuple(v) for v in stable_corners.astype(int).tolist()}),
        "stable_output_min_abs": float(np.abs(outputs[stable]).min()) if stable.any() else 0.0,
        "n_saddle_index1": int(saddle.sum()),
        "n_saddle_index1_between_neighbours": int(sum(neighbours)),
        "saddle_unstable_eigenvalues": lam_u,
        "saddle_links": links,
        # how close the unstable manifolds' ends came to the memories (rate units, |r| <= 1
        # per unit): small means each branch really arrived at a memory
        "manifold_arrival_max_distance": float(np.max(arrival)) if len(lam_u) else 0.0,
        "stable_max_real_eigenvalue": float(fp.eigenvalues[stable].real.max())
        if stable.any() else 0.0,
        "index_counts": {str(k): int(v) for k, v in
                         zip(*np.unique(fp.n_unstable[fp.is_fixed], return_counts=True))},
    }

    # projection on the top 3 principal components of the test trajectory
    mu = X.mean(0)
    _, _, Vt = np.linalg.svd(X[::10] - mu, full_matrices=False)
    pc = lambda A: (A - mu) @ Vt[:3].T  # noqa: E731
    fig = plt.figure(figsize=(15, 4.8))
    ax = fig.add_subplot(1, 3, 1, projection="3d")
    ax.plot(*pc(X[::5]).T, color="0.75", lw=0.4)
    F = pc(fp.points)
    ax.scatter(*F[stable].T, color="k", s=40, depthshade=False, label="stable (memory)")
    ax.scatter(*F[saddle].T, facecolor="white", edgecolor="C3", s=40, depthshade=False,
               label="saddle, 1 unstable mode")
    for k, e in enumerate(ends if len(lam_u) else []):  # saddle -> its two memories
        s_pt = F[saddle][k]
        for m in e:
            ax.plot(*np.stack([s_pt, F[stable][m]]).T, color="C3", lw=1.0)
    ax.set_title(f"(a) state space (PC 1-3), N = {N}")
    ax.legend(loc="upper left", fontsize=8)
    ax2 = fig.add_subplot(1, 3, 2, projection="3d")
    ax2.plot(*z[::5].T, color="0.75", lw=0.4)
    ax2.scatter(*outputs[stable].T, color="k", s=40, depthshade=False)
    ax2.scatter(*outputs[saddle].T, facecolor="white", edgecolor="C3", s=40, depthshade=False)
    ax2.set_title(f"(b) outputs: {res['n_stable']} memories, {res['n_saddle_index1']} "
                  "index-1 saddles")
    ax3 = fig.add_subplot(1, 3, 3)
    if stable.any():
        ev = fp.eigenvalues[np.flatnonzero(stable)[0]]
        ax3.plot(ev.real, ev.imag, ".", color="k", ms=3, label="a memory")
    if saddle.any():
        ev = fp.eigenvalues[np.flatnonzero(saddle)[0]]
        ax3.plot(ev.real, ev.imag, "o", mfc="none", color="C3", ms=4, label="a saddle")
    ax3.axvline(0, color="0.5", lw=0.8)
    ax3.set(xlabel="Re $\\lambda$ (1/$\\tau$)", ylabel="Im $\\lambda$",
            title="(c) Jacobian eigenvalues")
    ax3.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "sussillo2013_fixed_points.png", dpi=120)
    plt.close(fig)
    np.savez(out / "sussillo2013_fixed_points.npz", points_pc=F, outputs=outputs,
             stable=stable, n_unstable=fp.n_unstable, is_fixed=fp.is_fixed,
             eigenvalues=fp.eigenvalues, speed=fp.speed)
    (out / "sussillo2013_fixed_points.json").write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    import sys

    print(run(quick="--full" not in sys.argv))
