"""Recursive composition p = f(W [c1; c2] + b) of: Socher, Lin, Ng & Manning, Parsing natural scenes and natural language with recursive neural networks, ICML (Proceedings of the 28th International Conference on Machine Learning, pp. 129-136), 2011, no DOI

The recursive network of Socher et al. (2011; Pollack 1990's recursive distributed
representations before it) applies one layer, ``p = tanh(W [c1; c2] + b)``, at every
internal node of a tree, with leaves embedded by a learned table and a readout at the root,
trained by backpropagation through structure (Goller & Kuechler 1996). Two tasks on random
trees (``rnndyn.tasks.trees``):

- parity (XOR) of the leaf bits of binary trees. No single layer computes the XOR of two
  bits, so the network has to invent a code for "even"/"odd" that the same layer maps back
  into itself at every level -- which is what lets it work on trees deeper than any it was
  trained on. Two composition rules: ``concat`` (Socher's) and ``sum``, ``p = tanh(W (c1 +
  c2) + b)``, which cannot tell the children apart and need not: parity is symmetric.
- Boolean expressions over and, or, xor as ternary trees ``(operator, left, right)`` with
  the operator a leaf (Pollack's RAAM trees put the functor first the same way),
  ``p = tanh(W [e_op; c_l; c_r] + b)``: the operator only shifts the pre-activation.

Networks of d = 8 units are trained on trees of depths 1-4 (random shapes; root labels
only; cross-entropy; Adam, lr 1e-2; mini-batches of 32 trees, sub-forests of one compiled
forest; 30 epochs of 2000 trees; 5 seeds per task). The figure shows (a) the learning
curves (training loss per epoch and held-out accuracy on depth-5 trees), (b) accuracy
against depth 1-10 on held-out trees (1000 per depth), the training depths shaded, and (c)
the root vectors of depth-5 held-out parity trees projected on their two principal
components, coloured by parity: separate tight clusters, the learned code.

Differences from the papers: Socher et al. parse (they also learn the tree structure with a
score and a max-margin objective) on natural scenes and sentences; here the trees are given
and the tasks synthetic, chosen because their answer at any depth follows from a rule the
network can represent exactly. Quick mode: one seed per task, 1000 trees of depths 1-3, 20
epochs, test depths 1-6.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnndyn.models.recursive import RecursiveNet, forest
from rnndyn.train.recursive import fit
from rnndyn.tasks.trees import boolean_trees, parity_trees

HEADLINE = ("Trained on trees of depth <= 4, one tanh layer labels held-out depth-5 trees: "
            "parity 100%, Boolean expressions >= 98.5% (5 seeds)")
D_UNITS = 8
LR = 1e-2
OPS = ("and", "or", "xor")


def accuracy(model, test) -> float:
    """Fraction of trees whose root's larger logit is the parity."""
    f, labels = test
    return float((model.forward(f).argmax(axis=1) == labels).mean())


TASKS = {  # name: (generator, vocabulary size, composition rule, arity)
    "parity, concat": (parity_trees, 2, "concat", 2),
    "parity, sum": (parity_trees, 2, "sum", 2),
    "expressions, concat": (lambda n, depth, seed: boolean_trees(n, depth, ops=OPS, seed=seed),
                            2 + len(OPS), "concat", 3),
}


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_train, train_depth, epochs = (1000, 3, 20) if quick else (2000, 4, 30)
    seeds = (0,) if quick else (0, 1, 2, 3, 4)
    depths = list(range(1, 7 if quick else 11))
    n_test = 300 if quick else 1000
    deeper = train_depth + 1

    curves, val, acc, models, roots = {}, {}, {}, {}, {}
    for task, (make, V, combine, arity) in TASKS.items():
        data = make(n_train, (1, train_depth), seed=1)
        train_forest = forest(data.graphs, data.symbols)
        targets = np.eye(2)[data.labels]
        tests = {}
        for h in depths:
            t = make(n_test, h, seed=1000 + h)
            tests[h] = (forest(t.graphs, t.symbols), t.labels)
        for s in seeds:
            key = f"{task}/{s}"
            net = RecursiveNet.random(V, D_UNITS, 2, arity=arity, combine=combine, seed=s)
            res = fit(net, train_forest, targets, loss="cross_entropy", epochs=epochs,
                      batch_size=32, lr=LR, seed=s,
                      metric=lambda m: accuracy(m, tests[deeper]))
            loss = np.array(res.history.loss)
            curves[key] = loss.reshape(epochs, -1).mean(axis=1)  # mean loss per epoch
            val[key] = np.array(res.history.metric)
            acc[key] = [accuracy(res.model, tests[h]) for h in depths]
            models[key] = res.model
        # the learned code: root vectors of held-out trees one level deeper
        f_deep, lab_deep = tests[deeper]
        roots[task] = (models[f"{task}/{seeds[0]}"].states(f_deep)[f_deep.roots], lab_deep)

    task0 = next(iter(TASKS))
    R, labels = roots[task0]
    centred = R - R.mean(axis=0)
    _, sv, Vt = np.linalg.svd(centred, full_matrices=False)
    pcs = centred @ Vt[:2].T
    explained = float((sv[:2] ** 2).sum() / (sv ** 2).sum())

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.3), constrained_layout=True)
    colors = dict(zip(TASKS, ("C0", "C1", "C4")))
    ep = np.arange(1, epochs + 1)
    twin = ax[0].twinx()
    for key in curves:
        c = colors[key.split("/")[0]]
        ax[0].semilogy(ep, curves[key], color=c, lw=1, alpha=0.8)
        twin.plot(ep, val[key], color=c, lw=1, ls="--", alpha=0.8)
    for task in TASKS:
        ax[0].plot([], [], color=colors[task], label=f"{task}: training loss")
        ax[0].plot([], [], color=colors[task], ls="--",
                   label=f"{task}: accuracy, depth {deeper}")
    n_s = f"{len(seeds)} seed{'s' * (len(seeds) > 1)}"
    ax[0].set(xlabel="epoch", ylabel="cross-entropy (mean over the epoch)",
              title=f"learning curves ({n_s} each)")
    twin.set(ylabel=f"held-out accuracy at depth {deeper} (dashed)", ylim=(0.4, 1.02))
    ax[0].legend(fontsize=6, loc="center right", framealpha=0.9)
    ax[1].axvspan(0.5, train_depth + 0.5, color="0.9", label="training depths")
    for task in TASKS:
        a = np.array([acc[f"{task}/{s}"] for s in seeds])
        ax[1].plot(depths, a.T, color=colors[task], lw=0.6, alpha=0.5)
        ax[1].plot(depths, a.mean(axis=0), "o-", ms=4, color=colors[task],
                   label=f"{task} (mean)")
    ax[1].axhline(0.5, color="0.5", ls=":", label="chance")
    ax[1].axhline(0.95, color="k", ls="--", lw=0.6, label="95%")
    ax[1].set(xlabel="tree depth (held-out trees)", ylabel="accuracy", ylim=(0.4, 1.02),
              title=f"generalisation (trained on depths 1-{train_depth})")
    ax[1].legend(fontsize=7, loc="lower left")
    for bit, c in ((0, "C2"), (1, "C3")):
        sel = labels == bit
        ax[2].scatter(pcs[sel, 0], pcs[sel, 1], s=6, color=c, alpha=0.6,
                      label=("even" if bit == 0 else "odd") + " parity")
    ax[2].set(xlabel=f"PC 1 (PCs 1-2: {100 * explained:.0f}% of the variance)", ylabel="PC 2",
              title=f"root vectors of depth-{deeper} trees ({task0})")
    ax[2].legend(fontsize=7)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "socher2011_recursive.png", dpi=120)
    plt.close(fig)

    res = {"n_train": n_train, "train_depths": [1, train_depth], "epochs": epochs,
           "d": D_UNITS, "seeds": list(seeds), "depths": depths, "n_test": n_test,
           "operators": list(OPS),
           "n_params": {t: int(models[f"{t}/{seeds[0]}"].to_vector().size) for t in TASKS},
           "accuracy": acc,
           "mean_accuracy": {t: np.mean([acc[f"{t}/{s}"] for s in seeds], axis=0).tolist()
                             for t in TASKS},
           "deeper_depth": deeper,
           "deeper_accuracy_min": {t: float(min(acc[f"{t}/{s}"][deeper - 1] for s in seeds))
                                   for t in TASKS},
           "train_depth_accuracy_min": {t: float(min(min(acc[f"{t}/{s}"][:train_depth])
                                                     for s in seeds)) for t in TASKS},
           "final_loss": {k: float(v[-1]) for k, v in curves.items()},
           "pc_variance_explained": explained}
    name = {t: t.replace(", ", "_") for t in TASKS}
    np.savez(out / "socher2011_recursive.npz", depths=np.array(depths),
             **{f"loss_{name[k.split('/')[0]]}_{k.split('/')[1]}": v for k, v in curves.items()},
             **{f"val_{name[k.split('/')[0]]}_{k.split('/')[1]}": v for k, v in val.items()},
             **{f"acc_{name[k.split('/')[0]]}_{k.split('/')[1]}": np.array(v)
                for k, v in acc.items()},
             root_pcs=pcs, root_labels=labels)
    (out / "socher2011_recursive.json").write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
