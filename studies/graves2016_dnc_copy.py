"""Fig. 5 of: Graves et al., Hybrid computing using a neural network with dynamic external memory, Nature 538:471, 2016, DOI 10.1038/nature20101

The Differentiable Neural Computer's memory (``rnndyn.models.dnc``: usage-based allocation,
temporal links, free gates) on two tasks of the Neural Turing Machine paper
(``rnndyn.tasks.ntm``): copy (random 8-bit vectors, a delimiter, the sequence again) and
associative recall (items of 3 vectors; recall the item after the query). A DNC and an NTM
with the same feed-forward controller (32 units), memory (N = 24, W = 8) and one read and one
write head, and an LSTM of 64 units with a linear readout, are trained by BPTT with Adam on
the same sequences and updates; the figure shows (a, b) their learning curves in bits per
sequence on test sequences, (c) the final bit error rates, and for the trained DNC (d) its
write (top) and read (bottom) weightings over a copy sequence, (e) the memory usage u_t over
the same sequence (paper Fig. 5: locations are allocated as they are written and freed after
they are read) and (f) its weightings over an associative-recall sequence.

Differences from the paper: its Fig. 5 copies a series of sequences through a memory too
small to hold them all (so locations must be freed and reused); here the plain copy and
associative-recall generators of the NTM study are used, at a much smaller budget (the
paper: LSTM controllers, RMSProp, millions of sequences) and shorter sequences (copy
lengths 1-10, recall of 2-4 items in the full run). Training keeps the best model on
validation sequences (training is spiky), with one cosine learning-rate schedule. Quick mode:
copy lengths 1-4 and 2 items of one vector, 90 updates of 8 sequences.

Full run (22 min on two busy cores, 3000 updates of 16 sequences): on copy the DNC reaches
0.47 bits per sequence (error per bit 0.27%), the NTM 3.3 (1.1%), the LSTM 20 (16%); the DNC
writes each input to a free location (not in index order: the free list follows usage),
reads them back in order along the temporal links, and frees each location once read (its
usage drops). Associative recall is not learned by any of the three within this budget
(16.4 / 16.5 / 17.1 bits per sequence against 24 at chance). No NaN in any run.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.models.dnc import DNC
from rnndyn.models.ntm import NTM
from rnndyn.tasks.ntm import associative_recall, copy
from rnndyn.train.loop import evaluate, train
from rnndyn.train.optimizers import Cosine

WIDTH = 8
LR = {"DNC": 5e-3, "NTM": 5e-3, "LSTM": 3e-3}  # Adam's peak learning rates
HEADLINE = ("Copy, lengths 1-10: DNC 0.47 bits per sequence, NTM 3.3, LSTM 20; it allocates, "
            "links and frees as in Fig. 5")


def lstm_net(n_in: int, n_out: int, H: int, seed: int) -> rd.Stacked:
    """LSTM (forget-gate bias +1, Gers et al. 2000) with a linear readout of the logits."""
    cell = rd.LSTM.random(n_in, H, seed=seed)
    b = cell.b_ih.copy()
    b[H:2 * H] += 1.0
    cell = rd.LSTM(W_ih=cell.W_ih, W_hh=cell.W_hh, b_ih=b, b_hh=cell.b_hh)
    W_out = np.random.default_rng(seed).uniform(-0.3, 0.3, (n_out, H))
    return rd.Stacked((cell,), W_out=W_out, b_out=0.0)


def nets(n_in: int, n_out: int, N: int, W: int, seed: int = 0) -> dict:
    """DNC and NTM with the same controller and memory, and the LSTM baseline."""
    kw = dict(N=N, W=W, controller="feedforward", seed=seed)
    return {"DNC": DNC.random(n_in, n_out, 32, **kw), "NTM": NTM.random(n_in, n_out, 32, **kw),
            "LSTM": lstm_net(n_in, n_out, 64, seed)}


def bit_error(model, data) -> float:
    """Fraction of wrong output bits (threshold 1/2) over the scored steps."""
    out = rd.run(model, data.inputs).outputs
    wrong = (out > 0.0) != (data.targets > 0.5)
    return float(wrong[data.mask].mean())


def fit(net, make, test, updates: int, chunk: int, batch: int, lr: float, seed: int):
    """Adam (norm clipping 10, one cosine schedule) for ``updates`` updates in epochs of
    ``chunk`` updates over ``make(n, seed)`` training sequences; the best model on validation
    sequences, the test bits per sequence after every epoch."""
    curve = []
    cosine = Cosine(updates, floor=0.1)

    def record(model):
        curve.append(evaluate(model, test, "bits"))
        return curve[-1]
    res = train(net, make(chunk * batch, seed), loss="bits", optimizer="adam", lr=lr,
                batch_size=batch, epochs=max(1, updates // chunk), clip_norm=10.0, seed=seed,
                schedule=cosine, metric=record, validation=make(100, 1000 + seed))
    return res.model, np.array(curve)


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batch, chunk, updates = (8, 30, 90) if quick else (16, 200, 3000)
    N = 12 if quick else 24
    lengths = (1, 4) if quick else (1, 10)
    items, il = ((2, 2), 1) if quick else ((2, 4), 3)
    tasks = {
        "copy": (lambda n, s: copy(n, lengths, width=WIDTH, seed=s), WIDTH + 1),
        "associative_recall": (lambda n, s: associative_recall(
            n, items, item_length=il, width=WIDTH, seed=s), WIDTH + 2)}
    curves, finals, finals_bits, errors, n_params, chance = {}, {}, {}, {}, {}, {}
    for task, (make, n_in) in tasks.items():
        test = make(40 if quick else 200, 123)
        chance[task] = float(test.mask.sum() * WIDTH / test.mask.shape[1])  # p = 1/2: 1 bit
        for name, net in nets(n_in, WIDTH, N, WIDTH).items():
            model, curves[task, name] = fit(net, make, test, updates, chunk, batch, LR[name],
                                            seed=10)
            finals[task, name] = model
            errors[task, name] = bit_error(model, test)
            finals_bits[task, name] = float(evaluate(model, test, "bits"))
            n_params[name] = int(model.to_vector().size)  # the same for both tasks up to n_in
    seen = chunk * batch * np.arange(1, len(curves["copy", "DNC"]) + 1)

    # the trained DNC on one sequence of each task
    L = lengths[1]
    show_c = copy(1, L, width=WIDTH, seed=5)
    dnc_c = finals["copy", "DNC"]
    st_c = dnc_c.unpack(rd.run(dnc_c, show_c.inputs[:, 0]).states)
    show_a = associative_recall(1, items[1], item_length=il, width=WIDTH, seed=5)
    dnc_a = finals["associative_recall", "DNC"]
    st_a = dnc_a.unpack(rd.run(dnc_a, show_a.inputs[:, 0]).states)

    fig, ax = plt.subplots(2, 3, figsize=(15, 8), constrained_layout=True)
    names = ("DNC", "NTM", "LSTM")
    for a, task in zip(ax[0, :2], tasks):
        for name in names:
            a.semilogy(seen, curves[task, name], "o-", ms=3, label=name)
        a.axhline(chance[task], color="0.5", ls="--", label="chance (p = 1/2)")
        a.axhline(1.0, color="0.5", ls=":", label="1 bit")
        a.set(xlabel="training sequences", ylabel="test bits per sequence",
              title=f"{task.replace('_', ' ')}: learning curves")
        a.legend(fontsize=8)
    x = np.arange(len(tasks))
    for k, name in enumerate(names):
        ax[0, 2].bar(x + (k - 1) * 0.27, [errors[t, name] for t in tasks], 0.27, label=name)
    ax[0, 2].set(xticks=x, xticklabels=[t.replace("_", " ") for t in tasks],
                 ylabel="error per bit (test)", title="final bit errors")
    ax[0, 2].legend(fontsize=8)

    def weightings(a, st, T, title):
        img = np.vstack([st["write_weights"][:T].T, np.full((1, T), np.nan),
                         st["read_weights"][:T, 0].T])
        a.imshow(img, cmap="magma", aspect="auto", interpolation="nearest", vmin=0, vmax=1)
        a.set(title=title, xlabel="time step", ylabel="location: write (top), read (bottom)")

    T_c = 2 * L + 1
    weightings(ax[1, 0], st_c, T_c, f"DNC on copy (length {L}): weightings")
    ax[1, 0].axvline(L, color="w", lw=0.5, ls=":")
    im = ax[1, 1].imshow(st_c["usage"][:T_c].T, cmap="viridis", aspect="auto",
                         interpolation="nearest", vmin=0, vmax=1)
    ax[1, 1].axvline(L, color="w", lw=0.5, ls=":")
    ax[1, 1].set(title="DNC on copy: memory usage u_t", xlabel="time step",
                 ylabel="location")
    fig.colorbar(im, ax=ax[1, 1], fraction=0.05)
    weightings(ax[1, 2], st_a, show_a.inputs.shape[0],
               f"DNC on associative recall ({items[1]} items): weightings")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "graves2016_dnc_copy.png", dpi=110)
    plt.close(fig)

    res = {"updates": updates, "batch": batch, "training_sequences": int(seen[-1]),
           "memory": [N, WIDTH], "copy_lengths": list(lengths),
           "recall_items": list(items), "item_length": il, "params": n_params,
           "chance_bits": chance,
           "final_bits": {t: {m: finals_bits[t, m] for m in names} for t in tasks},
           "error_per_bit": {t: {m: errors[t, m] for m in names} for t in tasks},
           "all_finite": bool(all(np.all(np.isfinite(c)) for c in curves.values()))}
    np.savez(out / "graves2016_dnc_copy.npz", seen=seen,
             **{f"{t}_{m}": curves[t, m] for t in tasks for m in names},
             copy_write=st_c["write_weights"], copy_read=st_c["read_weights"][:, 0],
             copy_usage=st_c["usage"], recall_write=st_a["write_weights"],
             recall_read=st_a["read_weights"][:, 0])
    (out / "graves2016_dnc_copy.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
