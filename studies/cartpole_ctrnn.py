"""Figs. (evolution, balancing) of: Barto, Sutton & Anderson, Neuronlike adaptive elements that can solve difficult learning control problems, IEEE Transactions on Systems, Man, and Cybernetics, 1983, DOI 10.1109/TSMC.1983.6313077

The cart-pole task of Barto, Sutton & Anderson (1983) as gymnasium's ``CartPole-v1``
(episodes end when the pole leans more than 12 degrees or the cart leaves +-2.4, at most
500 steps; +1 per step, so the maximum return is 500). The controller is a fully
interconnected 4-neuron sigmoid CTRNN whose units all read the 4 observations (cart
position / 2.4, cart velocity, pole angle / 0.21, pole angular velocity); units 2 and 3 are
the motor units and the action pushes towards the larger. Genome in [-1, 1]: weights and
sensor weights +-10, biases +-5, tau in [0.1, 2] (log); control tick dt = 0.1 (one Euler
step per environment step). Evolved with separable CMA-ES (``rnndyn.train.SepCMAES``);
fitness = mean return over a few episodes, a generation's episodes all in one gymnasium
vector environment (``rnndyn.robotics.gym.GymTask``), until the best reaches 500. The
evolved controller is then tested on held-out episodes (other seeds, one
``SyncVectorEnv``). The figure shows fitness vs generation, the pole angle and cart
position of the best controller in held-out episodes, and its held-out returns.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from rnndyn.models.ctrnn import CTRNN
from rnndyn.robotics.gym import GymTask
from rnndyn.train.genome import Genome
from rnndyn.train.search import SepCMAES

SENSOR_GAIN = [1 / 2.4, 1.0, 1 / 0.21, 1.0]  # observations to order 1


def settings(quick: bool) -> dict:
    if quick:
        return dict(popsize=20, generations=20, episodes=5, held_out=20)
    return dict(popsize=40, generations=100, episodes=10, held_out=100)


def controller() -> CTRNN:
    """4 fully interconnected units reading the 4 observations, units 2, 3 the motors."""
    return CTRNN(W=np.zeros((4, 4)), W_in=np.zeros((4, 4)), outputs=(2, 3))


def run(quick: bool = False, out: Path = Path("figures"), seed: int = 0) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = settings(quick)
    genome = Genome(controller(), {"W": 10.0, "W_in": 10.0, "bias": 5.0,
                                   "tau": (0.1, 2.0, "log")})
    # training: CartPole's own vectorised implementation (one seed per generation)
    task = GymTask("CartPole-v1", episodes=cfg["episodes"], seed=seed, dt=0.1,
                   sensor_gain=SENSOR_GAIN)
    search = SepCMAES(genome.dim, cfg["popsize"], direction="maximize", seed=seed)
    start = time.perf_counter()
    res = search.run(genome.fitness(task.fitness), cfg["generations"], target=500.0,
                     progress=False)
    seconds = time.perf_counter() - start
    task.close()
    best = genome.decode(res.x[None])

    # held-out episodes: seeds never used in training, common to every recorded run
    test = GymTask("CartPole-v1", episodes=cfg["held_out"], seed=10_000 + seed, dt=0.1,
                   sensor_gain=SENSOR_GAIN, vectorization_mode="sync")
    ho = test.run(best, record=[0])
    test.close()
    obs = ho.observations[0]                  # (E, T, 4), NaN after an episode's end
    returns = ho.returns[0]

    h = res.history
    gens = np.arange(1, len(h) + 1)
    t = 0.02 * np.arange(obs.shape[1])        # CartPole's tau = 0.02 s per step
    show = range(min(5, len(returns)))
    fig, axes = plt.subplots(1, 4, figsize=(17, 4), constrained_layout=True)
    ax = axes[0]
    ax.plot(gens, h.best, "o-", ms=3, label="best so far")
    ax.plot(gens, h.mean, "o-", ms=3, alpha=0.5, label="generation mean")
    ax.axhline(500, color="k", ls=":", lw=1, label="maximum return")
    ax.set(xlabel="generation", ylabel=f"mean return ({cfg['episodes']} episodes)",
           ylim=(0, 520), title="evolution (sep-CMA-ES, 4-neuron CTRNN)")
    ax.legend(fontsize=8)
    for ax, col, scale, name, bound in ((axes[1], 2, 180 / np.pi, "pole angle (deg)", 12.0),
                                        (axes[2], 0, 1.0, "cart position", 2.4)):
        for e in show:
            ax.plot(t, obs[e, :, col] * scale, lw=1)
        for b in (-bound, bound):
            ax.axhline(b, color="tab:red", ls="--", lw=0.8)
        ax.set(xlabel="time (s)", ylabel=name, title="best controller, held-out episodes")
    ax = axes[3]
    ax.hist(returns, bins=np.linspace(0, 500, 26), color="tab:green")
    ax.set(xlabel="return", ylabel="episodes",
           title=f"{len(returns)} held-out episodes: mean {returns.mean():.1f}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "cartpole_ctrnn.png", dpi=110)
    plt.close(fig)

    result = dict(cfg, genes=genome.dim, seed=seed, seconds=round(seconds, 2),
                  generations_run=res.generations, evaluations=res.evaluations,
                  solved=bool(res.solved), best_fitness=float(res.fitness),
                  first_generation_best=float(h.best[0]),
                  held_out_mean_return=float(returns.mean()),
                  held_out_min_return=float(returns.min()),
                  held_out_fraction_500=float(np.mean(returns == 500.0)))
    np.savez(out / "cartpole_ctrnn.npz", generation=gens, best=h.best, mean=h.mean,
             genome=res.x, held_out_returns=returns, held_out_lengths=ho.lengths[0],
             observations=obs)
    (out / "cartpole_ctrnn.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
