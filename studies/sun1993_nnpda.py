"""The context-free learning simulations of: Sun, Giles, Chen & Lee, The neural network pushdown automaton: model, stack and learning simulations, UMIACS-TR-93-77, 1993

A neural network pushdown automaton (NNPDA: a recurrent controller with the continuous stack
of Grefenstette et al. 2015, arXiv:1506.02516, values of width m = 2) and an LSTM of 32 units
with a linear readout learn three context-free languages as next-symbol prediction, each
network of a pair from the same 512 strings (lengths 1-10) with the same number of Adam
updates (lr 1e-2, 16 strings an update, gradient norm clipped at 10): a^n b^n (the paper's
1^n 0^n), balanced parentheses (Dyck-1) and palindromes with a centre marker (w c w^R, w in
{a, b}^k). A string counts as recognised when every output is on the right side of 1/2 at
every step (Gers & Schmidhuber 2001): on a^n b^n, after the first b the network must predict
each remaining b and the end, i.e. count; on Dyck-1 it must tell an empty stack ($ allowed)
from a non-empty one (")" allowed) after every prefix; on palindromes it must predict the
whole second half, w in reverse. The figure shows (a) the fraction of training restarts that
recognise a^n b^n against n, far beyond the training lengths (the NNPDA's stack deepened to
fit, which no parameter depends on), (b, c) the fraction of 32 test strings of each length k
(Dyck-1: k bracket pairs; palindromes: |w| = k) recognised by the selected network of each
kind and on average over its restarts, (d, e) the learning curves and (f) the stack of the
selected a^n b^n NNPDA on a^15 b^15, each entry at the step that pushed it. That network
learned a pushdown counter: the $ entry goes in at the bottom (strength ~0.96), each a
pushes ~0.9 and pops ~0.1, each b pushes ~0.1 and pops ~0.9, so the stack's total strength
rises by ~0.8 per a and falls by as much per b; when the b's have used up the a's, the read
reaches the $ entry at the bottom and the network predicts the end.

Settings (the same budget for both networks on each language; the LSTM baseline is the same
32-unit network throughout, untuned):

===============  =====================================================  =========  ========
language         NNPDA                                                  updates    restarts
===============  =====================================================  =========  ========
a^n b^n          Elman controller, 8 tanh units (181 parameters)        320        6
Dyck-1           LSTM controller, 16 units (1 699; the LSTM 5 157)      1 280      4
w c w^R          LSTM controller, 16 units (1 616; the LSTM 4 996)      1 280      4
===============  =====================================================  =========  ========

Why these (exploratory runs, not repeated here): the Elman controller that learns a^n b^n
is no better than chance on palindromes (11 runs: H = 8, m = 2 with 320 or 1 280 updates,
lr 1e-2 or 3e-3; H = 16, m = 4 with 1 280 updates: 11-17 bits per string on validation, not
one string of k = 5 recognised), and on Dyck-1 learns the
training lengths (96-99% of the strings) but holds >= 95% only up to k = 7-8 (4 restarts,
1 280 updates); an LSTM controller, Grefenstette et al.'s choice, does better on both, so the
controller is part of the per-language setting. Dyck-2 (two bracket types, which needs a
real stack) was tried first and is not used: within 1 280 updates the NNPDA with the LSTM
controller recognised only 78-81% of the Dyck-2 strings with k = 10, a training length (2
restarts; the LSTM 69-75%), and with the Elman controller 16-50% (320 or 1 280 updates);
it does not learn Dyck-2 within this budget, so the study uses Dyck-1 (one bracket type: a
counter suffices, but unlike a^n b^n pushes and pops interleave).

Full run. a^n b^n (6 restarts each, 320 updates): three NNPDA restarts learn the task and
recognise a^n b^n for every n up to 40 (4x the training range; the selected one among them);
the other three stay at 2-7 bits per string on validation (a local minimum: the stack
controls never saturate). Every LSTM restart learns the training range (0.11-0.16 bits) and
recognises up to n = 14-19, never n = 20; the selected one up to 15. Dyck-1 (4 restarts,
1 280 updates): every restart of both networks recognises every test string of the training
lengths. The NNPDA recognises all 32 strings at k = 20 (2x) in 3 restarts of 4 (78% in the
fourth), >= 95% of the strings up to k = 20, 28, 28 and 11; the selected one up to k = 20
(28% at k = 40). The LSTM recognises 97, 62, 100 and 97% at k = 20, >= 95% up to k = 27,
11, 20 and 17; the selected one up to k = 27 (59% at k = 40). On Dyck-1 the two are level:
both reach about 2x, neither 4x. Palindromes (4 restarts, 1 280 updates): one NNPDA restart
of four learns the training lengths (100%, 0.05 bits) and recognises every string up to
k = 14, none at k = 20 or beyond; the other three recognise 62-84% of the training-length
strings. The LSTM restarts recognise 89-95% of them, >= 95% up to k = 5-8, none at k = 20.
The selected NNPDA reaches further than the selected LSTM (k = 14 vs 8), but neither
recognises a palindrome twice as long as the training ones: the 2x generalisation holds on
a^n b^n (and on Dyck-1 for both networks), not on palindromes.

Differences from the paper: the stack is Grefenstette et al.'s (push strength, pop strength
and value from a first-order controller, trained end to end by BPTT), not Sun et al.'s
analog stack driven by a second-order network with its stack-error term; the strings are
scored by next-symbol prediction instead of accept/reject at the end; no PDA is extracted.
Dyck-1 strings are random walks (open with probability 1/2), so most nest shallowly; the
test strings of length k (seed 1000 + k) are the same for every network. Each network is
restarted from several seeds; the one with the lowest loss on validation strings of the
training lengths is the selected one (the same rule for both). Quick mode: a^n b^n with one
run each (seed 0), evaluated up to n = 24, and Dyck-1 with one run each (seed 0) of 320
updates, evaluated up to k = 20; palindromes are not run.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.models.nnpda import NNPDA
from rnndyn.tasks.languages import anbn, dyck, palindrome, recognised
from rnndyn.train.loop import evaluate, train

HEADLINE = ("An NNPDA with 181 parameters trained on a^n b^n for n <= 10 recognises it up "
            "to n = 40; LSTMs of 4835 trained on the same strings and updates stop at n = 14-19. "
            "On Dyck-1 both reach about twice the training length, on palindromes neither")
N_TRAIN = 10
LR = 1e-2
STRINGS, BATCH = 512, 16  # training strings of every language, strings per update
N_TEST = 32  # test strings per length k (Dyck, palindromes)

# The two other languages: generator (n, k or (lo, hi), seed), alphabet size, the NNPDA's
# controller, units H and value width m, and the epochs over the 512 strings that both
# networks get (the LSTM keeps its 32 units and a^n b^n's learning rate).
LANGUAGES = {
    "dyck": dict(label="Dyck-1", gen=lambda n, k, seed: dyck(n, k, kinds=1, seed=seed),
                 A=5, controller="lstm", H=16, m=2, epochs=40),
    "palindrome": dict(label="w c w^R", gen=palindrome, A=4, controller="lstm", H=16, m=2,
                       epochs=40),
}
RESTARTS = 4  # of each network on Dyck and palindromes (seeds 0-3)
QUICK_EPOCHS = 10  # quick mode: Dyck-1 only, one run each, 320 updates


def lstm_net(H: int, seed: int, A: int = 3) -> rd.Stacked:
    """LSTM (forget-gate bias +1, Gers et al. 2000) with a linear readout of the A logits."""
    cell = rd.LSTM.random(A, H, seed=seed)
    b = cell.b_ih.copy()
    b[H:2 * H] += 1.0
    cell = rd.LSTM(W_ih=cell.W_ih, W_hh=cell.W_hh, b_ih=b, b_hh=cell.b_hh)
    W_out = np.random.default_rng(seed).uniform(-1.0, 1.0, (A, H)) / np.sqrt(H)
    return rd.Stacked((cell,), W_out=W_out, b_out=0.0)


def deep_enough(model, steps: int):
    """The NNPDA with room for a push at each of ``steps`` steps (the LSTM as it is)."""
    return model.with_depth(steps) if isinstance(model, NNPDA) else model


def outputs(model, X) -> np.ndarray:
    """The logits (T, N, A) of ``model`` on the strings X (T, N, A)."""
    return rd.run(deep_enough(model, X.shape[0]), X).outputs


def recognised_up_to(model, ns) -> np.ndarray:
    """Whether a^n b^n is recognised, for each n of ns (one string per n)."""
    ok = []
    for n in ns:
        X, Y, M = anbn(1, int(n), seed=0)
        ok.append(bool(recognised(outputs(model, X), Y, M)[0]))
    return np.array(ok)


def recognised_fraction(model, gen, ks) -> np.ndarray:
    """The fraction of N_TEST strings of each length k of ks that is recognised (the same
    strings for every network: seed 1000 + k)."""
    frac = []
    for k in ks:
        X, Y, M = gen(N_TEST, int(k), seed=1000 + int(k))
        frac.append(float(recognised(outputs(model, X), Y, M).mean()))
    return np.array(frac)


def largest_n(ok, ns) -> int:
    """The largest n such that every n' <= n is recognised (0 if n = 1 is not); for
    fractions, recognised means >= 95% of the strings."""
    ok = np.asarray(ok) >= 0.95
    return int(ns[np.argmin(ok)] - 1) if not ok.all() else int(ns[-1])


def fit(model, data, val, epochs: int, seed: int) -> dict:
    """Adam on bits per string, the same settings for every network and language."""
    tr = train(model, data, loss="bits", optimizer="adam", lr=LR, epochs=epochs,
               batch_size=BATCH, clip_norm=10.0, seed=seed)
    return {"model": tr.model, "loss": np.asarray(tr.history.loss),
            "val_bits": float(evaluate(tr.model, val, "bits"))}


def select(runs) -> int:
    """The restart with the lowest loss on validation strings of the training lengths."""
    return min(range(len(runs)), key=lambda k: runs[k]["val_bits"])


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = (0,) if quick else (0, 1, 2, 3, 4, 5)
    epochs = 10
    ns = np.arange(1, (24 if quick else 40) + 1)
    data = anbn(STRINGS, (1, N_TRAIN), seed=0)
    val = anbn(200, (1, N_TRAIN), seed=1)
    nets = {"NNPDA": lambda s: NNPDA.random(3, 3, 8, m=2, depth=2 * N_TRAIN + 1,
                                             controller="elman", seed=s),
            "LSTM": lambda s: lstm_net(32, s)}
    results = {}
    for name, make in nets.items():
        runs = [fit(make(s), data, val, epochs, s) for s in seeds]
        for r in runs:
            r["ok"] = recognised_up_to(r["model"], ns)
        results[name] = {"runs": runs, "best": select(runs)}

    # Dyck and palindromes: the same rule (quick: Dyck-1, one run each)
    other = {}
    ks = np.arange(1, (20 if quick else 40) + 1)
    for lang, c in (list(LANGUAGES.items())[:1] if quick else LANGUAGES.items()):
        ldata, lval = c["gen"](STRINGS, (1, N_TRAIN), seed=0), c["gen"](200, (1, N_TRAIN), seed=1)
        lep = QUICK_EPOCHS if quick else c["epochs"]
        make = {"NNPDA": lambda s: NNPDA.random(c["A"], c["A"], c["H"], m=c["m"],
                                                depth=2 * N_TRAIN + 2,
                                                controller=c["controller"], seed=s),
                "LSTM": lambda s: lstm_net(32, s, c["A"])}
        other[lang] = {}
        for name, mk in make.items():
            runs = [fit(mk(s), ldata, lval, lep, s) for s in seeds[:RESTARTS]]
            for r in runs:
                r["rec"] = recognised_fraction(r["model"], c["gen"], ks)
            other[lang][name] = {"runs": runs, "best": select(runs), "epochs": lep}

    # the selected NNPDA's stack on a^15 b^15
    n_show = 15
    pda = results["NNPDA"]["runs"][results["NNPDA"]["best"]]["model"]
    Xs = anbn(1, n_show, seed=0).inputs[:, 0]
    deep = deep_enough(pda, 2 * n_show + 1)
    st = deep.unpack(rd.run(deep, Xs).states)
    # entry pushed at step t, seen at step tau >= t: slot depth - 1 - (tau - t) (the slots
    # shift down by one a step)
    T, K = Xs.shape[0], deep.depth
    strengths = np.full((T, T), np.nan)
    for tau in range(T):
        for t in range(tau + 1):
            strengths[t, tau] = st["strengths"][tau, K - 1 - (tau - t)]

    fig, axs = plt.subplots(2, 3, figsize=(15, 8.4), constrained_layout=True)
    ax = axs.ravel()
    colour = {"NNPDA": "C0", "LSTM": "C1"}
    for name, r in results.items():
        frac = np.mean([x["ok"] for x in r["runs"]], axis=0)
        ax[0].plot(ns, frac, "o-", ms=3, color=colour[name],
                   label=f"{name} ({len(r['runs'])} restarts)")
        ax[0].plot(ns, r["runs"][r["best"]]["ok"] * 1.0 + (0.02 if name == "LSTM" else 0.0),
                   ":", lw=1.2, color=colour[name], label=f"{name}, selected")
        for k, x in enumerate(r["runs"]):
            ax[3].semilogy(x["loss"], lw=0.8, color=colour[name],
                           label=name if k == 0 else None)
    ax[0].set(xlabel="n", ylabel="a^n b^n recognised (fraction of restarts)",
              title="(a) a^n b^n: generalisation")
    for j, lang in enumerate(LANGUAGES, start=1):
        c = LANGUAGES[lang]
        ax[j].set(xlabel="k" + (" (bracket pairs)" if lang == "dyck" else " (|w|)"),
                  ylabel="fraction of the test strings recognised",
                  title=f"({'bc'[j - 1]}) {c['label']}: {N_TEST} strings per k")
        if lang not in other:
            ax[j].text(0.5, 0.5, "not run in quick mode", ha="center", transform=ax[j].transAxes)
            continue
        for name, r in other[lang].items():
            sel = r["runs"][r["best"]]
            ax[j].plot(ks, sel["rec"], "o-", ms=3, color=colour[name],
                       label=f"{name}, selected of {len(r['runs'])}")
            ax[j].plot(ks, np.mean([x["rec"] for x in r["runs"]], axis=0), ":", lw=1.2,
                       color=colour[name], label=f"{name}, mean of restarts")
            for k, x in enumerate(r["runs"]):  # running means over 32 updates
                ax[4].semilogy(np.convolve(x["loss"], np.ones(32) / 32, "valid"), lw=0.8,
                               color=colour[name], ls="-" if lang == "dyck" else "--",
                               label=f"{name}, {c['label']}" if k == 0 else None)
    for a in ax[:3]:
        a.axvspan(0.5, N_TRAIN + 0.5, color="0.9", label="training lengths")
        a.axvline(2 * N_TRAIN, color="0.5", ls="--", lw=0.8)
        a.set_ylim(-0.05, 1.1)
        a.legend(fontsize=7)
    ax[3].set(xlabel="update", ylabel="bits per string (training batch)",
              title=f"(d) a^n b^n: learning curves ({len(seeds)} restarts each)")
    ax[3].legend(fontsize=8)
    ax[4].set(xlabel="update", ylabel="bits per string (training, mean of 32 updates)",
              title="(e) Dyck-1 (solid), palindromes (dashed)")
    ax[4].legend(fontsize=7)
    im = ax[5].imshow(strengths, aspect="auto", cmap="viridis",
                      interpolation="nearest", vmin=0.0, vmax=1.0, origin="lower")
    ax[5].set(title=f"(f) NNPDA stack strengths on $ a^{n_show} b^{n_show}",
              xlabel="time step", ylabel="entry (pushed at step)")
    fig.colorbar(im, ax=ax[5], fraction=0.05)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "sun1993_nnpda.png", dpi=110)
    plt.close(fig)

    res = {"train_n": [1, N_TRAIN], "training_strings": STRINGS, "epochs": epochs,
           "batch": BATCH, "updates": int(len(results["NNPDA"]["runs"][0]["loss"])),
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
    arrays = {}
    for lang, nets_ in other.items():
        c = LANGUAGES[lang]
        d = {"label": c["label"], "ks": ks.tolist(), "test_strings_per_k": N_TEST,
             "nnpda_controller": c["controller"], "nnpda_H": c["H"], "nnpda_m": c["m"],
             "lstm_H": 32, "epochs": nets_["NNPDA"]["epochs"],
             "updates": int(len(nets_["NNPDA"]["runs"][0]["loss"])),
             "seeds": list(seeds[:RESTARTS])}
        for name, r in nets_.items():
            key = name.lower()
            sel = r["runs"][r["best"]]
            d[f"{key}_params"] = int(sel["model"].to_vector().size)
            d[f"{key}_val_bits"] = [x["val_bits"] for x in r["runs"]]
            d[f"{key}_selected"] = r["best"]
            # per restart: mean fraction recognised over k = 1 .. N_TRAIN, over
            # k = 1 .. 2 N_TRAIN, at k = 2 N_TRAIN; the largest k up to which >= 95% is
            d[f"{key}_recognised_train"] = [float(x["rec"][:N_TRAIN].mean()) for x in r["runs"]]
            d[f"{key}_recognised_to_2x"] = [float(x["rec"][:2 * N_TRAIN].mean())
                                             for x in r["runs"]]
            d[f"{key}_recognised_at_2x"] = [float(x["rec"][2 * N_TRAIN - 1]) for x in r["runs"]]
            d[f"{key}_largest_k"] = [largest_n(x["rec"], ks) for x in r["runs"]]
            d[f"{key}_selected_recognised"] = sel["rec"].tolist()
            arrays[f"{lang}_{key}_recognised"] = np.array([x["rec"] for x in r["runs"]])
            arrays[f"{lang}_{key}_loss"] = np.array([x["loss"] for x in r["runs"]])
        res[lang] = d
    np.savez(out / "sun1993_nnpda.npz", ns=ns, ks=ks, strengths=strengths,
             **{f"{name.lower()}_ok": np.array([x["ok"] for x in r["runs"]])
                for name, r in results.items()},
             **{f"{name.lower()}_loss": np.array([x["loss"] for x in r["runs"]])
                for name, r in results.items()}, **arrays)
    (out / "sun1993_nnpda.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
