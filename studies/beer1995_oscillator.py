"""Limit-cycle figure of: Beer, On the dynamics of small continuous-time recurrent neural networks, Adaptive Behavior, 1995, DOI 10.1177/105971239500300405

The 2-neuron CTRNN with W = [[4.5, 1], [-1, 4.5]], theta = (-2.75, -1.75), tau = 1 (the
center-crossing biases of those weights) has a stable limit cycle of period about 29 time
units with outputs swinging between about 0.19 and 0.81 (Beer 1995). The figure shows the
output time series and the phase portrait with the cycle reached from several starts, and
the measured period.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd

W = np.array([[4.5, 1.0], [-1.0, 4.5]])


def oscillator() -> rd.CTRNN:
    """The 2-neuron oscillator (biases are center-crossing: -sum_j W[i, j] / 2)."""
    return rd.CTRNN(W=W).center_crossing()


def period(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Times between successive upward crossings of x through its mid-range (linear
    interpolation between samples)."""
    c = x - 0.5 * (x.min() + x.max())
    k = np.flatnonzero((c[:-1] < 0) & (c[1:] >= 0))
    crossings = t[k] - c[k] * (t[k + 1] - t[k]) / (c[k + 1] - c[k])
    return np.diff(crossings)


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    net = oscillator()
    t_end, t_skip = (200.0, 60.0) if quick else (600.0, 100.0)
    t = np.arange(0.0, t_end, 0.05)
    starts = np.array([[0.0, 0.0], [4.0, -2.0], [-4.0, 3.0], [1.0, 5.0], [-3.0, -4.0]])
    pop = rd.CTRNN.stack([net] * len(starts))  # every start in one kernel call
    tr = rd.simulate(pop, starts, t, method="rk45", rtol=1e-9, atol=1e-12)
    o = tr.outputs[:, 0, :]  # first start
    late = t >= t_skip
    periods = period(t[late], o[late, 0])
    T = float(periods.mean())

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    show = t <= min(t_end, t_skip + 3 * T)
    ax1.plot(t[show], o[show, 0], label="$o_1$")
    ax1.plot(t[show], o[show, 1], label="$o_2$")
    ax1.set(xlabel="time", ylabel="output $\\sigma(y_i + \\theta_i)$",
            title=f"2-neuron CTRNN oscillator, period {T:.2f}")
    ax1.legend(loc="upper right")
    for k in range(len(starts)):
        ax2.plot(tr.outputs[:, k, 0], tr.outputs[:, k, 1], lw=0.8, alpha=0.8)
        ax2.plot(*tr.outputs[0, k], "k.", ms=6)
    ax2.plot(o[late, 0], o[late, 1], "k", lw=2, label="limit cycle")
    ax2.set(xlabel="$o_1$", ylabel="$o_2$", xlim=(0, 1), ylim=(0, 1), aspect="equal",
            title="phase portrait (dots: starts)")
    ax2.legend(loc="lower right")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "beer1995_oscillator.png", dpi=120)
    plt.close(fig)
    result = {"period": T, "period_std": float(periods.std()),
              "output_min": float(o[late].min()), "output_max": float(o[late].max())}
    np.savez(out / "beer1995_oscillator.npz", t=t, outputs=tr.outputs, periods=periods)
    (out / "beer1995_oscillator.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    print(run())
