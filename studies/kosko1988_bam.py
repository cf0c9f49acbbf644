"""Recall figure of: Kosko, Bidirectional associative memories, IEEE Transactions on Systems, Man, and Cybernetics 18(1):49-60, 1988, DOI 10.1109/21.87054

A BAM stores K random bipolar pairs (x_k, y_k), x of n = 100 and y of m = 60 units, in
``M = sum_k x_k^T y_k``; recall from a key x_k with a fraction of its bits flipped alternates
``y <- sgn(x M)``, ``x <- sgn(y M^T)`` until the pair is stable (Kosko's theorem: every
update lowers ``E = -x M y^T``, so it always is). The figure shows the fraction of pairs
recalled exactly (both layers) against K for several noise levels: like Hebbian Hopfield
storage, the correlation encoding holds a number of pairs of the order of min(n, m) / (2 ln)
before crosstalk destroys recall, fewer the noisier the key.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnndyn.models.hopfield import BAM


def accuracy(n: int, m: int, K: int, noise: float, trials: int, rng) -> float:
    """Fraction of pairs recalled exactly from keys with ``noise`` of their bits flipped."""
    hits = []
    for _ in range(trials):
        X = rng.choice([-1.0, 1.0], (K, n))
        Y = rng.choice([-1.0, 1.0], (K, m))
        keys = X.copy()
        flip = np.argsort(rng.random(X.shape), axis=1)[:, :int(round(noise * n))]
        np.put_along_axis(keys, flip, -np.take_along_axis(keys, flip, axis=1), axis=1)
        res = BAM.from_pairs(X, Y).recall(x=keys)
        hits.append(np.all(res.x == X, axis=1) & np.all(res.y == Y, axis=1))
    return float(np.mean(np.concatenate(hits)))


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, m = 100, 60
    Ks = [1, 2, 3, 4, 6, 8, 10, 15, 20] if quick else list(range(1, 26))
    noises = [0.0, 0.1, 0.2, 0.3]
    trials = 5 if quick else 40
    rng = np.random.default_rng(8)
    acc = {str(e): [accuracy(n, m, K, e, trials, rng) for K in Ks] for e in noises}
    fig, ax = plt.subplots(figsize=(6.5, 4.5), constrained_layout=True)
    for e in noises:
        ax.plot(Ks, acc[str(e)], "o-", ms=3, label=f"{100 * e:g}% of the key flipped")
    ax.set(xlabel="stored pairs K", ylabel="pairs recalled exactly", ylim=(-0.02, 1.02),
           title=f"BAM, n = {n}, m = {m}")
    ax.legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "kosko1988_bam.png", dpi=120)
    plt.close(fig)
    result = {"n": n, "m": m, "K": Ks, "noise": noises, "trials": trials, "accuracy": acc}
    np.savez(out / "kosko1988_bam.npz", K=np.array(Ks), noise=np.array(noises),
             accuracy=np.array([acc[str(e)] for e in noises]))
    (out / "kosko1988_bam.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys
    print(run(quick="--quick" in sys.argv))
