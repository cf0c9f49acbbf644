"""The 1^n 0^n learning simulation of: Sun, Giles, Chen & Lee, The neural network pushdown automaton: model, stack and learning simulations, UMIACS-TR-93-77, 1993

A neural network pushdown automaton (NNPDA: an Elman controller of 8 tanh units with the
continuous stack of Grefenstette et al. 2015, arXiv:1506.02516, values of width 2) and an
LSTM of 32 units with a linear readout learn a^n b^n (the paper's 1^n 0^n) as next-symbol
prediction from the same strings, n = 1-10, with the same number of Adam updates. A string
counts as recognised when every output is on the right side of 1/2 at every step (Gers &
Schmidhuber 2001): after the first b the network must predict each remaining b and the end,
i.e. count. The figure shows (a) the fraction of training restarts that recognise a^n b^n
against n, far beyond the training lengths (the NNPDA's stack deepened to fit, which no
parameter depends on), (b) the learning curves and (c) the stack of the selected NNPDA on
a^15 b^15, each entry at the step that pushed it. The network learned a pushdown counter:
the $ entry goes in at the bottom (strength ~0.96), each a pushes ~0.9 and pops ~0.1, each b
pushes ~0.1 and pops ~0.9, so the stack's total strength rises by ~0.8 per a and falls by
as much per b; when the b's have used up the a's, the read reaches the $ entry at the bottom
and the network predicts the end.

Full run (6 restarts each, 320 updates of 16 strings): three NNPDA restarts learn the task
and recognise a^n b^n for every n up to 40 (4x the training range; the selected one among
them); the other three stay at 2-7 bits per string on validation (a local minimum: the
stack controls never saturate). Every LSTM restart learns the training range (0.11-0.16
bits) and recognises up to n = 14-19, never n = 20; the selected one up to 15.

Differences from the paper: the stack is Grefenstette et al.'s (push strength, pop strength
and value from a first-order controller, trained end to end by BPTT), not Sun et al.'s
analog stack driven by a second-order network with its stack-error term; the strings are
scored by next-symbol prediction instead of accept/reject at the end; no PDA is extracted.
Each network is restarted from several seeds; the one with the lowest loss on validation
strings of the training lengths is the selected one (the same rule for both). Quick mode:
one run each (seed 0), evaluated up to n = 24.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.models.nnpda import NNPDA
from rnndyn.tasks.languages import anbn, recognised
from rnndyn.train.loop import evaluate, train

HEADLINE = ("An NNPDA with 181 parameters trained on a^n b^n for n <= 10 recognises it up "
            "to n = 40; LSTMs of 4835 trained on the same strings and updates stop at n = 14-19")
N_TRAIN = 10
LR = 1e-2


def lstm_net(H: int, seed: int) -> rd.Stacked:
    """LSTM (forget-gate bias +1, Gers et al. 2000) with a linear readout of the logits."""
    cell = rd.LSTM.random(3, H, seed=seed)
    b = cell.b_ih.copy()
    b[H:2 * H] += 1.0
    cell = rd.LSTM(W_ih=cell.W_ih, W_hh=cell.W_hh, b_ih=b, b_hh=cell.b_hh)
    W_out = np.random.default_rng(seed).uniform(-1.0, 1.0, (3, H)) / np.sqrt(H)
    return rd.Stacked((cell,), W_out=W_out, b_out=0.0)


def deep_enough(model, n: int):
    """The NNPDA with room for every push of $ a^n b^n (the LSTM as it is)."""
    return model.with_depth(2 * n + 1) if isinstance(model, NNPDA) else model


def recognised_up_to(model, ns) -> np.ndarray:
    """Whether a^n b^n is recognised, for each n of ns (one string per n)."""
    ok = []
    for n in ns:
        X, Y, M = anbn(1, int(n), seed=0)
        ok.append(bool(recognised(rd.run(deep_enough(model, n), X).outputs, Y, M)[0]))
    return np.array(ok)


def largest_n(ok, ns) -> int:
    """The largest n such that every n' <= n is recognised (0 if n = 1 is not)."""
    return int(ns[np.argmin(ok)] - 1) if not ok.all() else int(ns[-1])


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = (0,) if quick else (0, 1, 2, 3, 4, 5)
    strings, epochs, batch = 512, 10, 16
    ns = np.arange(1, (24 if quick else 40) + 1)
    data = anbn(strings, (1, N_TRAIN), seed=0)
    val = anbn(200, (1, N_TRAIN), seed=1)
    nets = {"NNPDA": lambda s: NNPDA.random(3, 3, 8, m=2, depth=2 * N_TRAIN + 1,
                                             controller="elman", seed=s),
            "LSTM": lambda s: lstm_net(32, s)}
    results = {}
    for name, make in nets.items():
        runs = []
        for s in seeds:
            tr = train(make(s), data, loss="bits", optimizer="adam", lr=LR, epochs=epochs,
                       batch_size=batch, clip_norm=10.0, seed=s)
            ok = recognised_up_to(tr.model, ns)
            runs.append({"model": tr.model, "loss": np.asarray(tr.history.loss),
                         "val_bits": float(evaluate(tr.model, val, "bits")), "ok": ok})
        best = min(range(len(runs)), key=lambda k: runs[k]["val_bits"])
        results[name] = {"runs": runs, "best": best}

    # (c) the selected NNPDA's stack on a^15 b^15
    n_show = 15
    pda = results["NNPDA"]["runs"][results["NNPDA"]["best"]]["model"]
    Xs = anbn(1, n_show, seed=0).inputs[:, 0]
    deep = deep_enough(pda, n_show)
    st = deep.unpack(rd.run(deep, Xs).states)
    # entry pushed at step t, seen at step tau >= t: slot depth - 1 - (tau - t) (the slots
    # shift down by one a step)
    T, K = Xs.shape[0], deep.depth
    strengths = np.full((T, T), np.nan)
    for tau in range(T):
        for t in range(tau + 1):
            strengths[t, tau] = st["strengths"][tau, K - 1 - (tau - t)]

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    colour = {"NNPDA": "C0", "LSTM": "C1"}
    for name, r in results.items():
        frac = np.mean([x["ok"] for x in r["runs"]], axis=0)
        ax[0].plot(ns, frac, "o-", ms=3, color=colour[name],
                   label=f"{name} ({len(r['runs'])} restarts)")
        ax[0].plot(ns, r["runs"][r["best"]]["ok"] * 1.0 + (0.02 if name == "LSTM" else 0.0),
                   ":", lw=1.2, color=colour[name], label=f"{name}, selected")
        for k, x in enumerate(r["runs"]):
            ax[1].semilogy(x["loss"], lw=0.8, color=colour[name],
                           label=name if k == 0 else None)
    ax[0].axvspan(0.5, N_TRAIN + 0.5, color="0.9", label="training lengths")
    ax[0].axvline(2 * N_TRAIN, color="0.5", ls="--", lw=0.8)
    ax[0].set(xlabel="n", ylabel="a^n b^n recognised (fraction of restarts)",
              ylim=(-0.05, 1.1), title="generalisation")
    ax[0].legend(fontsize=7)
    ax[1].set(xlabel="update", ylabel="bits per string (training batch)",
              title=f"learning curves ({len(seeds)} restarts each)")
    ax[1].legend(fontsize=8)
    im = ax[2].imshow(strengths, aspect="auto", cmap="viridis",
                      interpolation="nearest", vmin=0.0, vmax=1.0, origin="lower")
    ax[2].set(title=f"NNPDA stack strengths on $ a^{n_show} b^{n_show}",
              xlabel="time step", ylabel="entry (pushed at step)")
    fig.colorbar(im, ax=ax[2], fraction=0.05)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "sun1993_nnpda.png", dpi=120)
    plt.close(fig)

    res = {"train_n": [1, N_TRAIN], "training_strings": strings, "epochs": epochs,
           "batch": batch, "updates": int(len(results["NNPDA"]["runs"][0]["loss"])),
           "seeds": list(seeds), "ns": ns.tolist()}
    for name, r in results.items():
        key = name.lower()
        sel = r["runs"][r["best"]]
        res[f"{key}_params"] = int(sel["model"].to_vector().size)
        res[f"{key}_val_bits"] = [x["val_bits"] for x in r["runs"]]
        res[f"{key}_largest_n"] = [largest_n(x["ok"], ns) for x in r["runs"]]
        res[f"{key}_selected"] = r["best"]
        res[f"{key}_selected_largest_n"] = largest_n(sel["ok"], ns)
        # the fraction of the strings n = 1 .. 2 N_TRAIN that the selected network recognises
        res[f"{key}_recognised_to_2x"] = float(sel["ok"][:2 * N_TRAIN].mean())
        res[f"{key}_recognised_at_2x"] = bool(sel["ok"][2 * N_TRAIN - 1])
    np.savez(out / "sun1993_nnpda.npz", ns=ns, strengths=strengths,
             **{f"{name.lower()}_ok": np.array([x["ok"] for x in r["runs"]])
                for name, r in results.items()},
             **{f"{name.lower()}_loss": np.array([x["loss"] for x in r["runs"]])
                for name, r in results.items()})
    (out / "sun1993_nnpda.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
