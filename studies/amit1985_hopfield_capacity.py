"""Fig. 1 of: Amit, Gutfreund & Sompolinsky, Storing infinite numbers of patterns in a spin-glass model of neural networks, Physical Review Letters 55:1530, 1985, DOI 10.1103/PhysRevLett.55.1530

The retrieval overlap ``m = s . xi / N`` after recall from a stored pattern with 10% of its
bits flipped, against the load alpha = p / N, for three storage rules: Hebbian (Hopfield
1982; retrieval collapses near alpha_c ~ 0.138, Amit et al.'s replica result, where the
retrieval overlap drops from ~0.97 to near 0), pseudo-inverse (projection rule without
self-couplings, Kanter & Sompolinsky 1987; retrieval until alpha approaches 1, with basins
shrinking) and Storkey (1997; a higher capacity than Hebbian with a local, incremental
rule). N = 500 (and 1000 in the full run); asynchronous random-order recall of every probe
in one batched kernel (``Hopfield.recall``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnndyn.models.hopfield import RULES, Hopfield

ALPHA_C = 0.138  # Amit, Gutfreund & Sompolinsky 1985


def noisy(X, fraction, rng):
    """Each pattern with exactly round(fraction N) of its bits flipped."""
    out = X.copy()
    k = int(round(fraction * X.shape[1]))
    idx = np.argsort(rng.random(X.shape), axis=1)[:, :k]
    np.put_along_axis(out, idx, -np.take_along_axis(out, idx, axis=1), axis=1)
    return out


def mean_overlap(N: int, alpha: float, rule: str, trials: int, seed: int,
                 noise: float = 0.1) -> float:
    """Mean final overlap with the target pattern over every pattern of ``trials`` networks."""
    rng = np.random.default_rng(seed)
    m = []
    for _ in range(trials):
        X = rng.choice([-1.0, 1.0], (max(1, int(round(alpha * N))), N))
        res = Hopfield.from_patterns(X, rule).recall(noisy(X, noise, rng), seed=rng)
        m.append(np.sum(res.states * X, axis=1) / N)
    return float(np.mean(np.concatenate(m)))


def crossing(alphas, m, level):
    """First load at which m falls below ``level`` (linear interpolation), or None."""
    below = np.flatnonzero(np.asarray(m) < level)
    if not below.size or below[0] == 0:
        return None
    i = below[0]
    a0, a1, m0, m1 = alphas[i - 1], alphas[i], m[i - 1], m[i]
    return float(a0 + (m0 - level) * (a1 - a0) / (m0 - m1))


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = (500,) if quick else (500, 1000)
    alphas = np.array([0.02, 0.05, 0.1, 0.12, 0.14, 0.16, 0.2, 0.3, 0.4, 0.5, 0.6]
                      if quick else np.round(np.arange(0.02, 0.705, 0.02), 3))
    trials = 1 if quick else 2
    curves = {f"{rule}_N{N}": [mean_overlap(N, a, rule, trials, seed=17 + k)
                               for k, a in enumerate(alphas)]
              for N in sizes for rule in RULES}
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    colors = {"hebbian": "tab:blue", "pseudo_inverse": "tab:green", "storkey": "tab:red"}
    for key, m in curves.items():
        rule, N = key.rsplit("_N", 1)
        ax.plot(alphas, m, "o-" if N == "500" else "s--", color=colors[rule], ms=3,
                label=f"{rule}, N = {N}")
    ax.axvline(ALPHA_C, color="k", lw=1, ls=":", label=r"$\alpha_c \approx 0.138$")
    ax.set(xlabel=r"load $\alpha = p / N$", ylabel="mean overlap after recall",
           title="retrieval from 10% flipped bits", ylim=(0, 1.02))
    ax.legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "amit1985_hopfield_capacity.png", dpi=120)
    plt.close(fig)
    result = {"N": list(sizes), "alphas": alphas.tolist(), "noise": 0.1, "trials": trials,
              "overlap": curves, "alpha_c": ALPHA_C,
              "hebbian_alpha_at_m09": crossing(alphas, curves["hebbian_N500"], 0.9),
              "storkey_alpha_at_m09": crossing(alphas, curves["storkey_N500"], 0.9),
              "pseudo_inverse_alpha_at_m09": crossing(alphas, curves["pseudo_inverse_N500"], 0.9)}
    np.savez(out / "amit1985_hopfield_capacity.npz", alphas=alphas,
             **{k: np.array(v) for k, v in curves.items()})
    (out / "amit1985_hopfield_capacity.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys
    print(run(quick="--quick" in sys.argv))
