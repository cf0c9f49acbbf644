"""Experiment 4 (adding problem, Table 7) of: Hochreiter & Schmidhuber, Long short-term memory, Neural Computation, 1997, DOI 10.1162/neco.1997.9.8.1735

The adding problem at minimal length T = 100: two marked values among T random ones, the
target ``0.5 + (X1 + X2)/4`` at the end; a sequence is solved when the absolute error there
is below 0.04. An LSTM (forget gate as in Gers et al. 2000, linear readout) trained by BPTT
with Adam learns it, while an Elman net with the same number of units and the same budget
stays at the error of predicting the mean. The figure shows the test mean squared error and
the fraction of solved test sequences against the number of training sequences seen.

Differences from the paper: fixed length T (the paper draws T..T+T/10), full BPTT with Adam
and clipping instead of the paper's truncated RTRL-style gradient with plain SGD, a forget
gate (added by Gers et al. 2000), and a curriculum: short sequences first (T = 20, then 50),
then T = 100 (Bengio et al. 2009, "curriculum learning"; without it, LSTM here stayed on the
plateau of predicting the mean for 3750 updates at T = 100). Quick mode trains at T = 20
only.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.tasks.sequences import adding_problem
from rnndyn.train.loop import train
from rnndyn.train.optimizers import Cosine

TOL = 0.04  # Hochreiter & Schmidhuber's criterion


def lstm_net(H: int, seed: int) -> rd.Stacked:
    """LSTM (forget-gate bias +1, Gers et al. 2000) with a linear readout."""
    cell = rd.LSTM.random(2, H, seed=seed)
    b = cell.b_ih.copy()
    b[H:2 * H] += 1.0
    cell = rd.LSTM(W_ih=cell.W_ih, W_hh=cell.W_hh, b_ih=b, b_hh=cell.b_hh)
    W_out = np.random.default_rng(seed).uniform(-0.3, 0.3, (1, H))
    return rd.Stacked((cell,), W_out=W_out, b_out=0.5)


def elman_net(H: int, seed: int) -> rd.Elman:
    net = rd.Elman.random(2, H, 1, seed=seed)
    return rd.Elman(W_ih=net.W_ih, W_hh=net.W_hh, b_ih=net.b_ih, b_hh=net.b_hh, W_y=net.W_y,
                    b_y=0.5)


def scores(model, test) -> tuple[float, float]:
    """(mean squared error, fraction of sequences with |error| < 0.04) at the end."""
    out = rd.run(model, test.inputs).outputs[-1, :, 0]
    err = out - test.targets[-1, :, 0]
    return float(np.mean(err ** 2)), float(np.mean(np.abs(err) < TOL))


def train_curriculum(net, phases, test, batch: int, chunk: int, seed: int):
    """Adam on the adding problem, phase by phase (T, updates): each phase draws fresh
    sequences, ``chunk`` updates per pass over them, the learning rate annealed to 5% by a
    cosine over the phase; after each pass the test error is logged. Returns (model, log (passes, 2) of (mse, solved fraction), sequences seen)."""
    log = []

    def record(model):  # after every pass: error on the test sequences
        log.append(scores(model, test))
        return log[-1][1]
    for k, (T, updates) in enumerate(phases):
        data = adding_problem(chunk * batch, T, seed=seed + k)
        net = train(net, data, loss="mse", optimizer="adam", lr=3e-3, batch_size=batch,
                    epochs=max(1, updates // chunk), clip_norm=1.0, seed=seed,
                    schedule=Cosine(updates, floor=0.05), metric=record).model
    seen = chunk * batch * np.arange(1, len(log) + 1)
    return net, np.array(log), seen


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    H, batch, chunk = 16, 32, 100
    # a curriculum of lengths (T, updates); the last phase is the task
    phases = [(20, 500)] if quick else [(20, 600), (50, 600), (100, 8000)]
    T = phases[-1][0]
    test = adding_problem(300 if quick else 2000, T, seed=2)
    baseline = float(np.var(test.targets[-1, :, 0]))  # predicting the mean
    curves, seen, finals = {}, None, {}
    for name, net in (("LSTM", lstm_net(H, 0)), ("Elman", elman_net(H, 0))):
        model, curves[name], seen = train_curriculum(net, phases, test, batch, chunk, 10)
        finals[name] = scores(model, test)

    fig, ax = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for name, c in curves.items():
        ax[0].semilogy(seen, c[:, 0], "o-", ms=3, label=name)
        ax[1].plot(seen, c[:, 1], "o-", ms=3, label=name)
    ax[0].axhline(baseline, color="0.5", ls=":", label="predict the mean")
    ax[0].set(xlabel="training sequences", ylabel=f"test MSE at T = {T}",
              title=f"adding problem, curriculum T = {[p[0] for p in phases]}")
    ax[1].axhline(0.95, color="0.5", ls=":")
    ax[1].set(xlabel="training sequences", ylabel=f"fraction with |error| < {TOL}",
              ylim=(0, 1.02), title=f"solved test sequences (T = {T})")
    for a in ax:
        a.legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "hochreiter1997_adding.png", dpi=120)
    plt.close(fig)

    res = {"T": T, "H": H, "phases": [list(p) for p in phases],
           "training_sequences": int(seen[-1]), "baseline_mse": baseline,
           "lstm_final_mse": finals["LSTM"][0], "lstm_solved_fraction": finals["LSTM"][1],
           "elman_final_mse": finals["Elman"][0], "elman_solved_fraction": finals["Elman"][1]}
    np.savez(out / "hochreiter1997_adding.npz", seen=seen, lstm=curves["LSTM"],
             elman=curves["Elman"])
    (out / "hochreiter1997_adding.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    print(json.dumps(run(quick=False), indent=2))
