"""Fig. 4 (context-unit activity) of: Yamashita & Tani, Emergence of functional hierarchy in a multiple timescale neural network model: a humanoid robot experiment, PLoS Computational Biology 4(11):e1000220, 2008, DOI 10.1371/journal.pcbi.1000220

A multiple-timescale RNN (``rnndyn.models.mtrnn.mtrnn``, a plain CTRNN): input-output units
(tau = 2) driven by a sequence of "behaviour primitives" (sinusoids of changing frequency
and phase, switched every 40 time units, as the robot's sensorimotor stream switches
between primitives), fast context units (tau = 5) and slow context units (tau = 50, ten
times the fast one), with the paper's wiring (the slow units see the io units only through
the fast ones). The figure shows each group's activity and the groups' mean power spectra:
the slow group's power sits at lower frequencies (spectral centroid several times lower)
than the fast group's, the timescale separation the paper's functional hierarchy rests on.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.signal import welch

import rnndyn as rd
from rnndyn.models.mtrnn import group_indices, mtrnn

TAU = {"io": 2.0, "fast": 5.0, "slow": 50.0}


def primitives(t: np.ndarray, n: int, switch: float, rng) -> np.ndarray:
    """(T, n) driving sequence: each ``switch`` time units a new primitive, sinusoids with a
    random period in [4, 12] and random phases per channel."""
    U = np.empty((len(t), n))
    for k in range(int(np.ceil(t[-1] / switch)) + 1):
        seg = (t >= k * switch) & (t < (k + 1) * switch)
        period, phase = rng.uniform(4, 12), rng.uniform(0, 2 * np.pi, n)
        U[seg] = np.sin(2 * np.pi * t[seg, None] / period + phase)
    return U


def centroid(f, S):
    return float(np.sum(f * S) / np.sum(S))


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(4)
    net = mtrnn(4, 30, 10, tau=TAU, weight_scale=1.0, seed=2)
    t_end, fs = (600.0, 2.0) if quick else (3000.0, 2.0)
    t = np.arange(0.0, t_end, 1.0 / fs)
    U = 3.0 * primitives(t, net.n_in, 40.0, rng)
    tr = rd.simulate(net, np.zeros(net.n), t, dt=0.1, method="rk4", inputs=U)
    rates = np.tanh(net.gain * (tr.y + net.bias))
    keep = t >= 100.0  # drop the transient from rest
    groups = group_indices(net)
    spectra, cents = {}, {}
    for g, idx in groups.items():
        f, S = welch(rates[keep][:, idx] - rates[keep][:, idx].mean(axis=0), fs=fs,
                     nperseg=256, axis=0)
        spectra[g] = S.mean(axis=1)
        cents[g] = centroid(f, spectra[g])

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    colors = {"io": "tab:gray", "fast": "tab:blue", "slow": "tab:red"}
    show = (t >= 100.0) & (t < 400.0)
    for g, idx in groups.items():
        axes[0].plot(t[show], rates[show][:, idx[:3]], color=colors[g], lw=0.8)
        axes[1].loglog(f[1:], spectra[g][1:], color=colors[g],
                       label=f"{g} (tau = {TAU[g]:g}): centroid {cents[g]:.3f}")
    axes[0].set(xlabel="time", ylabel="unit activity tanh(y)", title="three units per group")
    axes[1].set(xlabel="frequency (1 / time unit)", ylabel="mean power spectral density",
                title="timescale separation of the groups")
    axes[1].legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "yamashita2008_mtrnn.png", dpi=120)
    plt.close(fig)
    result = {"tau": TAU, "t_end": t_end, "centroid": cents,
              "centroid_ratio_fast_over_slow": cents["fast"] / cents["slow"],
              "centroid_ratio_io_over_fast": cents["io"] / cents["fast"]}
    np.savez(out / "yamashita2008_mtrnn.npz", f=f, **{f"spectrum_{g}": s for g, s in
                                                      spectra.items()})
    (out / "yamashita2008_mtrnn.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys
    print(run(quick="--quick" in sys.argv))
