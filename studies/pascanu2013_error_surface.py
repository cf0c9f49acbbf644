"""Error-surface figure of: Pascanu, Mikolov & Bengio, On the difficulty of training recurrent neural networks, ICML (PMLR 28(3):1310), 2013, arXiv:1211.5063

The one-unit map ``x_t = w sigma(x_{t-1}) + b``, ``x_0 = 0.5``, loss ``(x_50 - 0.7)^2``
over (w, b). For w > 4 the map is bistable for a range of b; where x_50 switches between
the two attractors the loss surface has a cliff (drawn from a bisection of the switch) and
its gradient explodes as b approaches it (it grows like the saddle's expansion rate to the
power of the steps spent near the saddle). Gradient descent started close to the cliff is
thrown far away by one step; clipping the gradient norm (the paper's Algorithm 2) bounds
each step, so the descent moves off the wall and down the surface.

The map is a Jordan network with one hidden unit: ``h_t = sigma(U y_{t-1} + b_h)``,
``y_t = W_y h_t + b_y`` with U = 1, b_h = 0, so (w, b) = (W_y, b_y). Gradients come from
``rnndyn.train.gradients.bptt``; the surface and its gradient from an independent forward
(tangent) recursion in numpy, which the BPTT gradients are checked against.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.train.gradients import bptt
from rnndyn.train.optimizers import clip_by_norm

T, X0, TARGET = 50, 0.5, 0.7


def unit(w: float, b: float) -> rd.Jordan:
    """The one-unit map as a Jordan network (state [h; y], output y)."""
    return rd.Jordan(W_ih=np.zeros((1, 0)), U=[[1.0]], W_y=[[w]], b=[0.0], b_y=[b],
                     activation="sigmoid", output_activation="identity")


def surface(w, b):
    """Loss and its gradient (d/dw, d/db) on arrays w, b (broadcast), by forward-mode
    differentiation of the recursion in numpy."""
    w, b = np.broadcast_arrays(np.asarray(w, float), np.asarray(b, float))
    x = np.full(w.shape, X0)
    dw, db = np.zeros(w.shape), np.zeros(w.shape)
    for _ in range(T):
        s = 1.0 / (1.0 + np.exp(-x))
        ds = s * (1.0 - s)
        dw, db = s + w * ds * dw, 1.0 + w * ds * db
        x = w * s + b
    r = 2.0 * (x - TARGET)
    return (x - TARGET) ** 2, r * dw, r * db


def loss_and_grad(theta):
    """(loss, gradient over (w, b)) by BPTT through the Jordan network."""
    net = unit(*theta)
    X = np.zeros((T, 0))
    Y = np.full((T, 1), TARGET)
    mask = np.zeros(T, bool)
    mask[-1] = True
    h0 = np.array([0.0, X0])  # the hidden part is not fed back
    return bptt(net, X, Y, "mse", ["W_y", "b_y"], mask=mask, h0=h0)


def descend(theta0, lr, steps, clip=None):
    """Gradient descent, optionally with the gradient norm clipped to ``clip``."""
    path, losses, norms = [np.array(theta0, float)], [], []
    theta = path[0].copy()
    for _ in range(steps):
        loss, g = loss_and_grad(theta)
        losses.append(loss)
        if clip is not None:
            g = clip_by_norm(g, clip)
        norms.append(float(np.linalg.norm(g)))
        theta = theta - lr * g
        path.append(theta.copy())
    losses.append(loss_and_grad(theta).loss)
    return np.array(path), np.array(losses), np.array(norms)


def cliff(w, lo=-9.0, hi=1.0, iters=60):
    """b where x_50 jumps between the attractors, for each w > 4 (bisection on the sign of
    x_50, vectorised over w): returns (b just below, b just above) the jump."""
    w = np.asarray(w, float)
    a, c = np.full(w.shape, lo), np.full(w.shape, hi)
    for _ in range(iters):
        m = 0.5 * (a + c)
        x = np.full(w.shape, X0)
        for _ in range(T):
            x = w / (1.0 + np.exp(-x)) + m
        high = x > 0.0
        a, c = np.where(high, a, m), np.where(high, m, c)
    return a, c


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = 121 if quick else 401
    ws, bs = np.linspace(0.0, 12.0, n), np.linspace(-9.0, 1.0, n)
    L, gw, gb = surface(ws[:, None], bs[None, :])
    G = np.hypot(gw, gb)
    w_cliff = np.linspace(5.0, 12.0, 15 if quick else 71)
    b_cliff = cliff(w_cliff)[1]
    # the gradient explodes as b approaches the cliff (here from above, at w = 8)
    w0 = 8.0
    b_star = float(cliff(np.array([w0]))[1][0])
    delta = np.logspace(0, -14, 29)
    _, dgw, dgb = surface(w0, b_star + delta)
    g_delta = np.hypot(dgw, dgb)

    # BPTT agrees with the independent forward recursion, also near the cliff
    checks = [(8.0, -5.3), (5.0, -2.0), (10.0, -7.5), (2.0, 0.5), (w0, b_star + 1e-8)]
    rel = 0.0
    for w, b in checks:
        _, g = loss_and_grad((w, b))
        _, fw, fb = surface(w, b)
        ref = np.array([float(fw), float(fb)])
        rel = max(rel, float(np.abs(g - ref).max() / max(np.abs(ref).max(), 1e-300)))

    # descent from points close above the cliff (and one far from it), with and without
    # clipping the gradient norm
    lr, clip = 0.01, 10.0
    steps = 40 if quick else 150
    offsets = [1e-2, 1e-10, 1e-12] if quick else [1e-2, 1e-6, 1e-10, 1e-11, 1e-12]
    starts = [(w0, b_star + d) for d in offsets]
    runs = {label: [descend(s0, lr, steps, c) for s0 in starts]
            for label, c in (("plain", None), ("clipped", clip))}

    fig, ax = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    im = ax[0].pcolormesh(bs, ws, np.log10(L + 1e-12), shading="auto", cmap="viridis")
    fig.colorbar(im, ax=ax[0], label="log10 loss")
    ax[0].plot(b_cliff, w_cliff, "k:", lw=1, label="cliff (x_50 switches attractor)")
    for label, style in (("plain", "w-o"), ("clipped", "r--s")):
        for k, (path, _, _) in enumerate(runs[label]):
            ax[0].plot(path[:, 1], path[:, 0], style, ms=2, lw=1,
                       label=("gradient descent" if label == "plain" else
                              f"with clipping (||g|| <= {clip:g})") if k == 0 else None)
    ax[0].set(xlim=(bs[0], bs[-1]), ylim=(ws[0], ws[-1]), xlabel="b", ylabel="w",
              title=r"loss $(x_{50}-0.7)^2$ of $x_t = w\,\sigma(x_{t-1}) + b$")
    ax[0].legend(loc="lower left", fontsize=8)
    ax[1].loglog(delta, g_delta, "o-", ms=3)
    ax[1].axhline(clip, color="r", ls="--", lw=1, label="clipping threshold")
    ax[1].set(xlabel=f"distance to the cliff in b (w = {w0:g})", ylabel="gradient norm",
              title="the gradient explodes at the cliff")
    ax[1].legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "pascanu2013_error_surface.png", dpi=120)
    plt.close(fig)

    jumps = {k: max(float(np.linalg.norm(np.diff(p, axis=0), axis=1).max()) for p, _, _ in v)
             for k, v in runs.items()}
    res = {
        "median_grad_norm": float(np.median(G)),
        "max_grad_norm": float(g_delta.max()),
        "cliff_b_at_w8": b_star,
        "bptt_vs_forward_max_rel_err": rel,
        "lr": lr,
        "clip_threshold": clip,
        "initial_loss": float(np.mean([l[0] for _, l, _ in runs["plain"]])),
        "unclipped_max_jump": jumps["plain"],
        "clipped_max_jump": jumps["clipped"],
        "clipped_max_update_norm": float(max(lr * g.max() for _, _, g in runs["clipped"])),
        "unclipped_final_loss": float(np.mean([l[-1] for _, l, _ in runs["plain"]])),
        "clipped_final_loss": float(np.mean([l[-1] for _, l, _ in runs["clipped"]])),
    }
    np.savez(out / "pascanu2013_error_surface.npz", w=ws, b=bs, loss=L, w_cliff=w_cliff,
             b_cliff=b_cliff, delta=delta, grad_norm_near_cliff=g_delta,
             **{f"{k}_path_{i}": p for k, v in runs.items() for i, (p, _, _) in enumerate(v)})
    (out / "pascanu2013_error_surface.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    print(json.dumps(run(quick=False), indent=2))
