"""Sections 3-4 of: Hochreiter & Schmidhuber, Bridging long time lags by weight guessing and "Long Short-Term Memory", in Spatiotemporal Models in Biological and Artificial Systems (IOS Press), 1996, pp. 65-72 (no DOI; also NIPS 9, 1997, pp. 473-479)

Random weight guessing (RG: draw every weight uniformly from [-100, 100] until a net
classifies all training sequences correctly) solves the "long time lag" benchmarks of Bengio
et al. (1994) in few trials. Here RG is compared with four search methods of
``rnndyn.train.search`` on the same genome (each gene in [-1, 1] maps to a weight in
[-100, 100]) and the same budget, counting trials (networks evaluated) until the first net
that classifies every training sequence correctly (absolute error at the end below 0.1):

* latch, variant II: one tanh unit with a self-weight, an input weight and a bias (3
  parameters, an ``Elman`` cell with H = 1); a sequence starts with +1 or -1 (its class, the
  target at the end), then Gaussian noise of variance 0.2. H&S: RG needs 22 trials on average.
* parity: inputs are random +-1 bits, the target at the end is 1 for an odd number of +1
  bits, else 0. H&S's architecture A1 (n = 1) reaches it in 2906 RG trials; its exact update
  order is not given, and a fully recurrent net of one hidden and one output unit updated
  synchronously (``FullyRecurrent``) is never solved in 2e4 guesses here. The smallest net
  that solves it in that form is an ``Elman`` cell of two tanh units (OR and AND of the
  running parity and the bit; the parity is their difference) with a sigmoid readout (11
  parameters), solved by RG about once in 1e4 guesses.

H&S used sequences of 500-600 steps and 100 training sequences; the quick mode uses 30 steps
and 10 training sequences, the full mode 100 steps and 30 (the population runner costs
~0.6 us per sequence step here). A solved net is then tested on 200 fresh sequences.
Every method evaluates 20 nets per generation; a run ends at the first solving net (its
trial number is exact: rows of a generation count in order) or at the budget. Quick mode
(3 runs, 3000 trials): ~20 s; full mode (10 runs, 1e4 trials): ~20 min on 2 cores.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.train.genome import Genome
from rnndyn.train.search import GA, PSO, Annealing, Guessing, SepCMAES

NAME = "hochreiter1996_guessing"
PAPER_RG = {"latch": 22, "parity": 2906}  # mean trials to solution of RG, H&S 1996
POP = 20  # individuals per generation for every method (RG: guesses per call)
METHODS = {
    "guessing": lambda d, seed: Guessing(d, POP, direction="maximize", seed=seed),
    "GA": lambda d, seed: GA(d, POP, direction="maximize", seed=seed, mutation=0.1,
                             elitism=2),
    "SA": lambda d, seed: Annealing(d, POP, direction="maximize", seed=seed, T0=1.0,
                                    cooling=0.98, step=0.1),
    "PSO": lambda d, seed: PSO(d, POP, direction="maximize", seed=seed),
    "sep-CMA-ES": lambda d, seed: SepCMAES(d, POP, direction="maximize", seed=seed),
}


def latch_data(n_seq: int, T: int, rng):
    """Inputs (T, n_seq, 1) and targets (n_seq,) of the latch problem, variant II."""
    cls = np.where(np.arange(n_seq) % 2 == 0, 1.0, -1.0)
    x = rng.normal(0.0, np.sqrt(0.2), size=(T, n_seq, 1))
    x[0, :, 0] = cls
    return x, cls


def parity_data(n_seq: int, T: int, rng):
    """Inputs (T, n_seq, 1) of random +-1 bits and targets (n_seq,): 1 for odd parity."""
    x = rng.choice([-1.0, 1.0], size=(T, n_seq, 1))
    return x, (np.sum(x[:, :, 0] > 0, axis=0) % 2).astype(float)


def task(name: str):
    """(genome, data function) of a task; every weight and bias in [-100, 100]."""
    if name == "latch":
        net = rd.Elman(W_ih=np.zeros((1, 1)), W_hh=np.zeros((1, 1)))
        return Genome(net, {"W_ih": 100.0, "W_hh": 100.0, "b_ih": 100.0}), latch_data
    net = rd.Elman(W_ih=np.zeros((2, 1)), W_hh=np.zeros((2, 2)), W_y=np.zeros((1, 2)),
                   output_activation="sigmoid")
    return Genome(net, {"W_ih": 100.0, "W_hh": 100.0, "b_ih": 100.0, "W_y": 100.0,
                        "b_y": 100.0}), parity_data


class Score:
    """Fitness of a (P, d) genome matrix on fixed sequences: the number of sequences with
    absolute error below 0.1 at the end, plus a graded term in [0, 0.5) (smaller mean
    error) so that the methods that follow gradients of fitness have one. Solved iff
    fitness >= number of sequences. One population run of P x S networks."""

    def __init__(self, genome, x, target):
        self.genome, self.x, self.target = genome, x, target
        self.last = None  # the latest generation's fitness (to count trials exactly)

    def errors(self, G):
        P, S = len(G), self.x.shape[1]
        pop = self.genome.decode(np.repeat(G, S, axis=0))  # member p*S + s: genome p, seq s
        out = rd.run(pop, np.tile(self.x, (1, P, 1)), on_divergence="return").outputs
        return np.abs(out[-1, :, 0].reshape(P, S) - self.target)

    def __call__(self, G):
        err = np.nan_to_num(self.errors(G), nan=1.0)
        f = np.sum(err < 0.1, axis=1) + 0.5 * (1.0 - np.mean(np.minimum(err, 1.0), axis=1))
        self.last = f
        return f


def trials_to_solution(method: str, task_name: str, seed: int, n_seq: int, T: int,
                       budget: int):
    """(trials until the first solving net or NaN, test accuracy of that net)."""
    genome, data = task(task_name)
    rng = np.random.default_rng(seed)
    score = Score(genome, *data(n_seq, T, rng))
    search = METHODS[method](genome.dim, seed)
    res = search.run(score, budget // POP, target=float(n_seq), progress=False)
    if not res.solved:
        return np.nan, np.nan
    first = int(np.argmax(score.last >= n_seq))  # rows are the trials of a generation
    trials = (res.generations - 1) * POP + first + 1
    x_test, y_test = data(200, T, rng)
    test = Score(genome, x_test, y_test).errors(res.x[None])[0]
    return trials, float(np.mean(test < 0.1))


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, n_seq, T, budget = (3, 10, 30, 3000) if quick else (10, 30, 100, 10000)
    result = {"runs": runs, "training_sequences": n_seq, "length": T, "budget": budget,
              "population": POP, "paper_rg_mean_trials": PAPER_RG}
    arrays = {}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, task_name in zip(axes, ("latch", "parity")):
        result[task_name] = {}
        for k, method in enumerate(METHODS):
            got = [trials_to_solution(method, task_name, 1000 * k + r, n_seq, T, budget)
                   for r in range(runs)]
            trials = np.array([g[0] for g in got])
            test = np.array([g[1] for g in got])
            arrays[f"{task_name}_{method}_trials"] = trials
            solved = np.isfinite(trials)
            result[task_name][method] = {
                "solved": int(solved.sum()),
                "median_trials": float(np.median(trials[solved])) if solved.any() else None,
                "mean_trials": float(np.mean(trials[solved])) if solved.any() else None,
                "mean_test_accuracy": float(np.mean(test[solved])) if solved.any() else None}
            ax.plot(np.full(solved.sum(), k), trials[solved], "o", alpha=0.6)
            ax.plot(np.full((~solved).sum(), k), np.full((~solved).sum(), budget), "x",
                    color="gray")
            if solved.any():
                ax.plot([k - 0.3, k + 0.3], [np.median(trials[solved])] * 2, "k-")
        ax.axhline(PAPER_RG[task_name], color="tab:red", ls="--", lw=1,
                   label=f"RG, H&S 1996: {PAPER_RG[task_name]} trials")
        ax.set(yscale="log", xticks=range(len(METHODS)), xticklabels=list(METHODS),
               ylabel="trials to solution", title=f"{task_name} (T = {T}; x: unsolved in "
                                                   f"{budget})")
        ax.legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(fig)
    np.savez(out / f"{NAME}.npz", **arrays)
    (out / f"{NAME}.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
