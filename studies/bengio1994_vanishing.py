"""Vanishing-gradient figure of: Bengio, Simard & Frasconi, Learning long-term dependencies with gradient descent is difficult, IEEE Transactions on Neural Networks, 1994, DOI 10.1109/72.279181

Bengio et al. show that a recurrent net which latches information robustly (its state stays
in a contracting region, |dh_{t+1}/dh_t| < 1) necessarily lets the backpropagated gradient
vanish exponentially in the time lag. The error reaching step T - k is multiplied by
``dh_T/dh_{T-k} = J_{T-1} ... J_{T-k}``; this study plots its spectral norm against the lag k
for a tanh Elman net whose recurrent matrix has spectral radius 0.9 (the robust-latching
regime) and for an LSTM whose forget gate is biased open (Gers, Schmidhuber & Cummins 2000):
its cell path ``c' = f c + ...`` carries the error with the gate's factor f per step, not
through a squashing nonlinearity (the constant error carousel of Hochreiter & Schmidhuber
1997), and the measured norm barely decays over the whole sequence. Averages over random input
sequences (``rnndyn.analysis.jacobian_product_norms``), and the BPTT gradient of a loss at the
last step, truncated at depth k (``rnndyn.train.gradients.truncated_bptt``), which stops
changing once the error has vanished.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.train.gradients import truncated_bptt


def elman(n_in: int, H: int, radius: float, seed: int) -> rd.Elman:
    """tanh Elman net with W_hh scaled to spectral radius ``radius``."""
    net = rd.Elman.random(n_in, H, seed=seed)
    W = np.random.default_rng(seed + 100).normal(0.0, 1.0 / np.sqrt(H), (H, H))
    W *= radius / np.abs(np.linalg.eigvals(W)).max()
    return rd.Elman(W_ih=net.W_ih, W_hh=W, b_ih=net.b_ih, b_hh=net.b_hh)


def lstm(n_in: int, H: int, forget_bias: float, seed: int) -> rd.LSTM:
    """PyTorch-initialised LSTM with the forget-gate bias (rows H..2H) set to ``forget_bias``."""
    net = rd.LSTM.random(n_in, H, seed=seed)
    b = net.b_ih.copy()
    b[H:2 * H] = forget_bias
    return rd.LSTM(W_ih=net.W_ih, W_hh=net.W_hh, b_ih=b, b_hh=np.zeros(4 * H))


def mean_log10_norms(model, T: int, n_seq: int, seed: int) -> np.ndarray:
    """Mean over random N(0, 1) input sequences of log10 ||dh_T/dh_{T-k}||_2, k = 0..T."""
    rng = np.random.default_rng(seed)
    norms = rd.analysis.jacobian_product_norms
    logs = [norms(model, rng.standard_normal((T, model.n_in))).log_norms for _ in range(n_seq)]
    return np.mean(logs, axis=0) / np.log(10.0)


def truncation_curve(model, T: int, depths, seed: int) -> np.ndarray:
    """||g_T(k) - g_T(T)|| / ||g_T(T)|| for a loss at the last step, g_T(k) its gradient by
    BPTT truncated at depth k: how much of the gradient comes from lags beyond k."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, model.n_in))
    Y = np.zeros((T, model.n_out))
    mask = np.zeros(T, bool)
    mask[-1] = True
    full = truncated_bptt(model, X, Y, h=T, mask=mask).gradient
    return np.array([np.linalg.norm(truncated_bptt(model, X, Y, h=k, mask=mask).gradient - full)
                     for k in depths]) / np.linalg.norm(full)


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    T = 200 if quick else 400
    H, n_in = (16, 2) if quick else (64, 4)
    n_seq = 3 if quick else 20
    nets = {"Elman (tanh, rho(W) = 0.9)": elman(n_in, H, 0.9, 0),
            "LSTM (forget bias 3)": lstm(n_in, H, 3.0, 0)}
    curves = {name: mean_log10_norms(net, T, n_seq, 1) for name, net in nets.items()}
    lags = np.arange(T + 1)
    depths = np.unique(np.geomspace(1, T, 12 if quick else 25).astype(int))
    trunc = {name: truncation_curve(net, T, depths, 2) for name, net in nets.items()}

    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for name, c in curves.items():
        ax[0].plot(lags, c, label=name)
    ax[0].set(xlabel="lag k", ylabel=r"$\log_{10} \|\partial h_T / \partial h_{T-k}\|_2$",
              title="error flowing back k steps")
    ax[0].legend(fontsize=8)
    for name, c in trunc.items():
        ax[1].loglog(depths, np.maximum(c, 1e-17), "o-", ms=3, label=name)
    ax[1].set(xlabel="BPTT truncation depth k", ylabel="relative gradient error",
              title="gradient left out by truncating at k")
    ax[1].legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "bengio1994_vanishing.png", dpi=120)
    plt.close(fig)

    e, l_ = curves["Elman (tanh, rho(W) = 0.9)"], curves["LSTM (forget bias 3)"]
    half = T // 2
    slope = np.polyfit(lags[half:], e[half:], 1)[0]  # log10 decay per step, past transients
    res = {
        "T": T, "H": H,
        "elman_decay_per_step": float(10 ** slope),
        "lstm_decay_per_step": float(10 ** np.polyfit(lags[half:], l_[half:], 1)[0]),
        "elman_log10_norm_at_max_lag": float(e[-1]),
        "lstm_log10_norm_at_max_lag": float(l_[-1]),
        "elman_truncation_error_at_depth_50": float(np.interp(50, depths, trunc[
            "Elman (tanh, rho(W) = 0.9)"])),
        "lstm_truncation_error_at_depth_50": float(np.interp(50, depths, trunc[
            "LSTM (forget bias 3)"])),
    }
    np.savez(out / "bengio1994_vanishing.npz", lags=lags, depths=depths,
             **{f"log10_norm_{i}": c for i, c in enumerate(curves.values())},
             **{f"truncation_{i}": c for i, c in enumerate(trunc.values())})
    (out / "bengio1994_vanishing.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    print(json.dumps(run(quick=False), indent=2))
