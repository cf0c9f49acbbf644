"""Sections 3-4 of: Schmidhuber, Learning complex, extended sequences using the principle of history compression, Neural Computation, 1992, DOI 10.1162/neco.1992.4.2.234

The neural history compressor: a stack of recurrent predictors where only the symbols a
level failed to predict (predicted probability below a threshold) go up, with the time
since the previous one. (a) On streams of fixed chunks in random order with rare random
events, the upper level sees only the chunk starts and the events (the fraction of the
stream it sees, against the threshold; the unpredictable fraction is the floor). (b) A
classification with a lag of 1199 steps (a class symbol, a deterministic cycle, an end
marker, the class symbol again): the stack solves it, because the chunker sees about four
events per sequence, while a single Elman net with the hidden units of both levels, trained
by exact BPTT on the answer with the same number of weight updates (and the same batch size)
as the two levels together, stays at chance. (c) The collapse of Section 4 on the streams of
(a): the automatizer is then trained to predict the chunker's state as well (its error
against the variance of that state on test streams), and still compresses as well. On
these streams the chunks are drawn independently, so the chunker has little to know: its
state hardly varies after the first events, and the imitation error is of the order of
that variance (R^2 near or below 0). A task where the collapse pays (the automatizer then
predicts what only the chunker could) is not part of this study.

Differences from the paper: Elman cells with softmax readouts trained offline (Adam, exact
BPTT through ``rnndyn.train.train``) instead of online RTRL; the automatizer is trained on
windows of 40-50 steps (prediction is local); the time stamp is log(1 + dt) of the steps
since the previous unpredicted symbol; the single net is trained on the class target at the
end only (all of its gradient is about the class).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.tasks.compressor import chunk_stream, long_lag_classes
from rnndyn.train.compressor import HistoryCompressor, next_symbol_data
from rnndyn.train.loop import train

NAME = "schmidhuber1992_history_compressor"
HEADLINE = ("Only unpredicted symbols go up: the chunker sees 13% of a chunked stream and 4 "
            "events of a 1200-step sequence, so it recalls a class across a lag of 1199 steps "
            "(100%) where a single Elman net with the same number of updates stays at chance")
THRESHOLDS = np.round(np.linspace(0.05, 0.95, 19), 2)


def went_up(events, shape) -> np.ndarray:
    """(T, N) bool: the steps a level sees."""
    up = np.zeros(shape, bool)
    rows, cols = np.nonzero(events.mask)
    up[events.steps[rows, cols], cols] = True
    return up


def stream_part(cfg):
    """(a, c) Train a 2-level compressor on chunk streams; the fraction level 1 sees on test
    streams, at the trained threshold and across thresholds; then the collapse."""
    d = chunk_stream(cfg["n_train"], cfg["T_stream"], seed=0)
    test = chunk_stream(cfg["n_test"], cfg["T_stream"], seed=1)
    hc = HistoryCompressor(d.n_symbols, 2, cfg["H_stream"], threshold=0.5, collapse=True,
                           seed=0)
    hc.fit(d.symbols, updates=[cfg["updates_stream"], cfg["updates_chunker"]], window=50,
           batch_size=32, collapse_updates=0, seed=0)
    fractions = []
    for thr in THRESHOLDS:
        hc.threshold = float(thr)
        fractions.append(hc.compress(test.symbols)[1].counts.sum() / test.symbols.size)
    hc.threshold = 0.5
    up = went_up(hc.compress(test.symbols)[1], test.symbols.shape)
    # the collapse: A also predicts C's state; R^2 of the imitation on the test streams
    _, held = hc.chunker_states(test.symbols)
    hc.absorb(d.symbols, updates=cfg["updates_collapse"], window=50, batch_size=32, seed=1)
    imitated, _ = hc.chunker_states(test.symbols)
    mse, var = np.mean((imitated - held) ** 2), np.mean((held - held.mean((0, 1))) ** 2)
    after = hc.compress(test.symbols)[1].counts.sum() / test.symbols.size
    return dict(fraction=float(up.mean()), informative=float(test.informative.mean()),
                recall=float(up[test.informative].mean()), fractions=np.array(fractions),
                excerpt=test.symbols[:120, 0], excerpt_up=up[:120, 0],
                excerpt_info=test.informative[:120, 0], n_symbols=d.n_symbols,
                imitation_mse=float(mse),
                chunker_variance=float(var), imitation_r2=float(1.0 - mse / var),
                fraction_after_collapse=float(after), held=held[:120, 0, :3],
                imitated=imitated[:120, 0, :3])


def single_rnn(d, test, H, updates, batch):
    """An Elman net trained by BPTT on the class target at the end, ``updates`` updates."""
    X, Y = next_symbol_data(d.symbols, d.n_symbols)
    mask = np.zeros(X.shape[:2], bool)
    mask[-1] = True
    net = rd.Elman.random(d.n_symbols, H, d.n_symbols, seed=3)
    batches = -(-X.shape[1] // batch)
    res = train(net, (X, Y, mask), loss="cross_entropy", optimizer="adam", lr=1e-2,
                batch_size=batch, clip_norm=1.0, epochs=-(-updates // batches),
                max_updates=updates, seed=0)
    Xt, _ = next_symbol_data(test.symbols, test.n_symbols)
    logits = rd.run(res.model, Xt).outputs[-1][:, test.classes]
    return float(np.mean(np.argmax(logits, 1) == test.labels)), res.history


def lag_part(cfg):
    """(b) The long-lag classification: the stack, and the single net with its budget."""
    d = long_lag_classes(cfg["n_train"], cfg["T_lag"], seed=0)
    test = long_lag_classes(cfg["n_test"], cfg["T_lag"], seed=1)
    H, batch = cfg["H_lag"], cfg["batch_lag"]
    hc = HistoryCompressor(d.n_symbols, 2, H, threshold=0.5, seed=0)
    ups = [cfg["updates_A"], cfg["updates_C"]]
    hc.fit(d.symbols, updates=ups, window=40, batch_size=batch, seed=0)
    acc = float(np.mean(hc.classify(test.symbols[:-1], test.classes) == test.labels))
    events = hc.compress(test.symbols)[1]
    single_acc, hist = single_rnn(d, test, 2 * H, sum(ups), batch)
    majority = float(max(np.mean(test.labels == k) for k in range(len(test.classes))))
    return dict(stack_accuracy=acc, majority=majority, events_per_sequence=float(events.counts.mean()),
                fraction_seen=float(events.counts.sum() / test.symbols.size),
                budget=sum(ups), single_accuracy=single_acc, single_loss=np.array(hist.loss))


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = dict(n_train=32, n_test=100, T_stream=200, H_stream=16, updates_stream=150,
               updates_chunker=60, updates_collapse=60, T_lag=1200, H_lag=12, batch_lag=8,
               updates_A=60, updates_C=100) if quick else \
        dict(n_train=64, n_test=500, T_stream=400, H_stream=32, updates_stream=400,
             updates_chunker=300, updates_collapse=400, T_lag=1200, H_lag=16, batch_lag=16,
             updates_A=300, updates_C=300)
    a = stream_part(cfg)
    b = lag_part(cfg)

    fig, ax = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    t = np.arange(len(a["excerpt"]))
    ax[0, 0].plot(t, a["excerpt"], ".", color="0.6", ms=4, label="stream")
    ax[0, 0].plot(t[a["excerpt_up"]], a["excerpt"][a["excerpt_up"]], "o", mfc="none",
                  color="C3", label="goes up to level 1")
    ax[0, 0].plot(t[a["excerpt_info"]], a["excerpt"][a["excerpt_info"]], "x", color="C0",
                  ms=4, label="chunk start / event")
    ax[0, 0].set(xlabel="step", ylabel="symbol", ylim=(-0.5, a["n_symbols"] + 1.5),
                 title="(a) chunks in random order, rare events (test stream)")
    ax[0, 0].legend(fontsize=7, loc="upper center", ncol=3)
    ax[0, 1].plot(THRESHOLDS, a["fractions"], "o-", ms=3, label="seen by level 1")
    ax[0, 1].axhline(a["informative"], color="C0", ls=":", label="unpredictable fraction")
    ax[0, 1].axhline(0.3, color="0.5", ls="--", lw=0.8, label="30%")
    ax[0, 1].set(xlabel="threshold on the predicted probability", ylabel="fraction of steps",
                 ylim=(0, 1), title=f"(a) level 1 sees {100 * a['fraction']:.1f}% at 0.5")
    ax[0, 1].legend(fontsize=7)
    names = ["history compressor", f"single Elman (H = {2 * cfg['H_lag']})"]
    accs = [b["stack_accuracy"], b["single_accuracy"]]
    ax[1, 0].bar(names, accs, color=["C2", "C1"])
    ax[1, 0].axhline(b["majority"], color="0.5", ls=":", label="chance (majority class)")
    for k, v in enumerate(accs):
        ax[1, 0].text(k, v + 0.02, f"{100 * v:.0f}%", ha="center")
    ax[1, 0].set(ylim=(0, 1.1), ylabel="test accuracy",
                 title=f"(b) lag {cfg['T_lag'] - 1}, {b['budget']} updates each\n"
                       f"({b['events_per_sequence']:.1f} events per sequence reach the chunker)")
    ax[1, 0].legend(fontsize=7)
    for k in range(a["held"].shape[1]):
        ax[1, 1].plot(t, a["held"][:, k], color=f"C{k}", lw=1.2)
        ax[1, 1].plot(t, a["imitated"][:, k], color=f"C{k}", lw=0.7, ls="--")
    ax[1, 1].set(xlabel="step", ylabel="state", xlim=(0, t[-1]),
                 title=f"(c) collapse: chunker state (solid), A's imitation (dashed)\n"
                       f"MSE {a['imitation_mse']:.3f}, state variance "
                       f"{a['chunker_variance']:.3f}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(fig)

    res = {"quick": bool(quick), "lag": cfg["T_lag"] - 1,
           "fraction_seen_by_level1": a["fraction"], "unpredictable_fraction": a["informative"],
           "unpredictable_steps_sent_up": a["recall"],
           "thresholds": THRESHOLDS.tolist(), "fraction_vs_threshold": a["fractions"].tolist(),
           "imitation_mse": a["imitation_mse"], "chunker_state_variance": a["chunker_variance"],
           "imitation_r2": a["imitation_r2"],
           "fraction_seen_after_collapse": a["fraction_after_collapse"],
           "stack_accuracy": b["stack_accuracy"], "single_accuracy": b["single_accuracy"],
           "majority_class_share": b["majority"],
           "weight_updates": b["budget"],
           "chunker_events_per_sequence": b["events_per_sequence"],
           "fraction_seen_by_chunker_long_lag": b["fraction_seen"], "config": cfg}
    np.savez(out / f"{NAME}.npz", thresholds=THRESHOLDS, fractions=a["fractions"],
             excerpt=a["excerpt"], excerpt_up=a["excerpt_up"], single_loss=b["single_loss"],
             held=a["held"], imitated=a["imitated"])
    (out / f"{NAME}.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    print(json.dumps(run(quick=False), indent=2))
