"""Bistability figure of: Beer, On the dynamics of small continuous-time recurrent neural networks, Adaptive Behavior, 1995, DOI 10.1177/105971239500300405

One neuron with self-weight w = 8 (tau = 1, theta = 0) driven by a constant input I:
``dy/dt = -y + w sigma(y) + I``. It is bistable for I between the two fold points
``±2 ln((sqrt(w)+sqrt(w-4))/2) - (w ± sqrt(w(w-4)))/2`` (Beer 1995). The figure shows the
steady states reached from a low and a high start for every I (one population run), the
analytic equilibrium curve (stable solid, unstable dashed) and the analytic fold edges.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd


def fold_edges(w: float) -> tuple[float, float]:
    """(lower, upper) edge of the bistable range of I + theta for self-weight w > 4."""
    a = 2.0 * np.log((np.sqrt(w) + np.sqrt(w - 4.0)) / 2.0)
    b = np.sqrt(w * (w - 4.0))
    return a - (w + b) / 2.0, -a - (w - b) / 2.0


def equilibrium_curve(w: float, y: np.ndarray):
    """I for which y is an equilibrium (I = y - w sigma(y)) and whether it is stable."""
    s = 1.0 / (1.0 + np.exp(-y))
    return y - w * s, w * s * (1.0 - s) < 1.0


def steady_states(w: float, I: np.ndarray, t_end: float):
    """Final states from a low and a high start for every input in I (one population)."""
    P = len(I)
    pop = rd.CTRNN.stack([rd.CTRNN(W=[[w]], W_in=[[1.0]])] * (2 * P))
    y0 = np.concatenate([np.full(P, -15.0), np.full(P, 15.0)])[:, None]
    u = np.concatenate([I, I])[None, :, None].repeat(2, axis=0)  # (T=2, 2P, 1): constant
    tr = rd.simulate(pop, y0, [0.0, t_end], dt=0.05, method="rk4", inputs=u)
    final = tr.y[-1, :, 0]
    return final[:P], final[P:]


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = 8.0
    step = 0.02 if quick else 0.002
    I = np.arange(-7.0, -1.0 + step / 2, step)
    low, high = steady_states(w, I, t_end=300.0 if quick else 1000.0)
    bistable = np.abs(high - low) > 1.0
    measured = (float(I[bistable].min()), float(I[bistable].max()))
    analytic = fold_edges(w)

    y = np.linspace(-12.0, 8.0, 2001)
    I_eq, stable = equilibrium_curve(w, y)
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for mask, style, label in ((stable, "-", "stable equilibria"),
                               (~stable, "--", "unstable equilibria")):
        ax.plot(np.where(mask, I_eq, np.nan), y, "k" + style, lw=1.2, label=label)
    ax.plot(I, low, "o", ms=2.5, color="tab:blue", label="reached from y(0) = -15")
    ax.plot(I, high, "o", ms=2.5, color="tab:red", mfc="none", label="reached from y(0) = +15")
    for edge in analytic:
        ax.axvline(edge, color="tab:green", lw=1)
    ax.axvspan(*analytic, color="tab:green", alpha=0.1, label="analytic bistable range")
    ax.set(xlabel="input $I$", ylabel="steady state $y^*$", xlim=(I[0], I[-1]),
           title=f"one neuron, self-weight w = {w:g}: folds at I = {analytic[0]:.3f}, "
                 f"{analytic[1]:.3f}")
    ax.legend(loc="upper left", fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "beer1995_bistability.png", dpi=120)
    plt.close(fig)
    result = {"w": w, "grid_step": step, "fold_measured": measured, "fold_analytic": analytic}
    np.savez(out / "beer1995_bistability.npz", I=I, low=low, high=high, y=y, I_eq=I_eq)
    (out / "beer1995_bistability.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    print(run())
