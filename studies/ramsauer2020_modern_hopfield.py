"""Fig. 2 and Theorems 3-4 of: Ramsauer et al., Hopfield Networks is All You Need, ICLR 2021 (arXiv:2008.02217, 2020), DOI 10.48550/arXiv.2008.02217

The modern Hopfield network ``xi <- X softmax(beta X^T xi)`` (``ModernHopfield``). Left: the
one-step retrieval error (the fraction of queries, stored +-1 patterns of dimension d = 64
with 10% of their signs flipped, whose update has a cosine below 0.99 with their own
pattern) against the number of stored patterns N, far past the classical capacity
0.138 d ~ 9, for several beta: at large beta retrieval holds for thousands of patterns
(exponential capacity), at small beta every query falls to an average. Right: the three
kinds of fixed point (the paper's Fig. 2), found by ``rnndyn.analysis.find_fixed_points`` on
a 2-D example with two close patterns and two distant ones: at large beta one stable point
per pattern; at intermediate beta the two close patterns merge into one metastable average
while the distant ones stay single; at small beta a single global fixed point near the mean
of all patterns.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnndyn.analysis import find_fixed_points
from rnndyn.models.hopfield import ModernHopfield

#: the 2-D example of the fixed-point panel: two close patterns and two distant ones
PATTERNS_2D = np.array([[1.0, 0.15], [1.0, -0.15], [-1.0, 1.0], [-0.6, -1.2]])


def retrieval(d: int, Ns, betas, n_queries: int, noise: float, seed: int):
    """(error rate, mean 1 - cosine) arrays (len(betas), len(Ns)) of one-step retrieval; a
    query is an error when the cosine of its update with its own pattern is below 0.99."""
    rng = np.random.default_rng(seed)
    err = np.zeros((len(betas), len(Ns)))
    dist = np.zeros_like(err)
    for j, N in enumerate(Ns):
        Y = rng.choice([-1.0, 1.0], (N, d))
        target = rng.choice(N, min(n_queries, N), replace=False)
        Q = Y[target].copy()
        flip = np.argsort(rng.random(Q.shape), axis=1)[:, :int(round(noise * d))]
        np.put_along_axis(Q, flip, -np.take_along_axis(Q, flip, axis=1), axis=1)
        for i, beta in enumerate(betas):
            out = ModernHopfield.from_patterns(Y, beta=beta).retrieve(Q)
            cos = np.sum(out * Y[target], axis=1) / np.maximum(
                np.linalg.norm(out, axis=1) * np.sqrt(d), 1e-300)
            err[i, j] = np.mean(cos < 0.99)
            dist[i, j] = np.mean(1.0 - cos)
    return err, dist


def kind_of(point, Y, beta):
    """"single", "metastable" or "global" from the effective number of patterns
    ``1 / sum pi_j^2`` the fixed point averages, pi = softmax(beta Y xi) (Ramsauer et al.,
    Sec. 2: a fixed point near one pattern, an average over a subset, or over all)."""
    a = beta * (Y @ point)
    pi = np.exp(a - a.max())
    pi /= pi.sum()
    k = 1.0 / np.sum(pi ** 2)
    return "single" if k < 1.5 else ("global" if k > len(Y) - 0.5 else "metastable")


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = 64
    Ns = [10, 100, 1000, 5000] if quick else [10, 30, 100, 300, 1000, 3000, 10000, 30000]
    betas = [0.02, 0.1, 0.5, 2.0]
    err, dist = retrieval(d, Ns, betas, 100 if quick else 500, 0.1, seed=5)

    Y = PATTERNS_2D
    fp_betas = [0.2, 5.0, 300.0]
    kinds = {}
    found = {}
    for beta in fp_betas:
        fps = find_fixed_points(ModernHopfield.from_patterns(Y, beta=beta),
                                n_starts=64 if quick else 256, bounds=(-1.5, 1.5), seed=0)
        pts = fps.points[fps.is_fixed]
        stab = fps.stability[fps.is_fixed]
        found[beta] = (pts, stab)
        kinds[str(beta)] = {k: int(sum(kind_of(x, Y, beta) == k for x in pts[stab == "stable"]))
                            for k in ("single", "metastable", "global")}

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    for i, beta in enumerate(betas):
        a.semilogx(Ns, err[i], "o-", label=fr"$\beta$ = {beta:g}")
    a.axvline(0.138 * d, color="k", ls=":", lw=1, label="0.138 d (classical capacity)")
    a.set(xlabel="stored patterns N", ylabel="one-step error rate (cosine < 0.99)",
          title=f"d = {d}, queries with 10% flipped signs", ylim=(-0.02, 1.02))
    a.legend(fontsize=8)
    g = np.linspace(-1.8, 1.8, 181)
    G1, G2 = np.meshgrid(g, g)
    mid = ModernHopfield.from_patterns(Y, beta=fp_betas[1])
    E = mid.energy(np.stack([G1, G2], axis=-1))
    b.contour(G1, G2, E, 30, cmap="Greys", linewidths=0.6)
    b.plot(*Y.T, "k*", ms=12, label="stored patterns")
    marks = {fp_betas[0]: ("tab:blue", "o"), fp_betas[1]: ("tab:orange", "s"),
             fp_betas[2]: ("tab:green", "^")}
    for beta, (pts, stab) in found.items():
        c, m = marks[beta]
        st = stab == "stable"
        b.plot(*pts[st].T, m, color=c, ms=8, label=fr"stable, $\beta$ = {beta:g}")
        b.plot(*pts[~st].T, m, color=c, mfc="none", ms=8)
    b.set(title=fr"fixed points (open: unstable); energy contours at $\beta$ = {fp_betas[1]:g}",
          xlabel=r"$\xi_1$", ylabel=r"$\xi_2$", aspect="equal")
    b.legend(fontsize=7, loc="lower right")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "ramsauer2020_modern_hopfield.png", dpi=120)
    plt.close(fig)
    result = {"d": d, "N": Ns, "betas": betas, "error_rate": err.tolist(),
              "one_minus_cosine": dist.tolist(), "classical_capacity": 0.138 * d,
              "fixed_point_betas": fp_betas, "fixed_point_kinds": kinds,
              "n_stable": {str(b_): int(np.sum(s == "stable")) for b_, (_, s) in found.items()}}
    np.savez(out / "ramsauer2020_modern_hopfield.npz", N=np.array(Ns), betas=np.array(betas),
             error_rate=err, one_minus_cosine=dist, patterns_2d=Y)
    (out / "ramsauer2020_modern_hopfield.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys
    print(run(quick="--quick" in sys.argv))
