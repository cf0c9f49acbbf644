"""Figs. (evolved gait) of: Beer & Gallagher, Evolving dynamical neural networks for adaptive behavior, Adaptive Behavior, 1992, DOI 10.1177/105971239200100105

One leg of Beer & Gallagher's insect (``rnndyn.robotics.Walker``: a foot up or down, forward
and backward swing forces, an angle sensor; the body of Beer, Chiel & Gallagher 1999 with
the constants of Beer's LeggedAgent code) controlled by a fully interconnected 5-neuron
sigmoid CTRNN whose units 0, 1, 2 drive the foot, the forward and the backward swing and
which all read the angle sensor. Genome in [-1, 1]: weights and sensor weights +-16, biases
+-16, tau in [0.5, 10] (log). Fitness: average velocity over a walk of 220 time units
(distance walked / 220), the whole generation's walks -- network and body -- in one numba
kernel. Evolved twice: the real-valued GA of Beer & Gallagher (rank selection, elitism,
Gaussian mutation, uniform crossover; ``rnndyn.train.GA``) and separable CMA-ES
(``rnndyn.train.SepCMAES``).

Reference velocity: Beer's hand-designed "optimal" pattern generator on the same body
(``Walker.optimal``: swing at full force to the forward limit, stance at full force until
the foot is 20 behind the hip) walks at 0.6264. The figure shows fitness vs generation,
the leg angle and foot state of the best evolved walker against that gait, its position,
and its motor neurons' firing rates. The evolved walker is also tested from held-out
initial leg angles.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from rnndyn.robotics.walker import Walker, beer_gallagher1992_genome
from rnndyn.train.search import GA, SepCMAES


def settings(quick: bool) -> dict:
    if quick:
        return dict(popsize=40, generations=40, held_out=5)
    return dict(popsize=100, generations=250, held_out=21)


def run(quick: bool = False, out: Path = Path("figures"), seed: int = 0) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = settings(quick)
    world = Walker()
    genome = beer_gallagher1992_genome()

    def fitness(X):  # the whole generation in one kernel call
        return world.run(genome.decode(X)).fitness

    searches = {
        "ga": GA(genome.dim, cfg["popsize"], direction="maximize", seed=seed, elitism=2,
                 selection="rank", crossover="uniform", mutation=0.05),
        "sep_cmaes": SepCMAES(genome.dim, cfg["popsize"], direction="maximize", seed=seed),
    }
    labels = {"ga": "GA", "sep_cmaes": "sep-CMA-ES"}
    results, seconds = {}, {}
    for name, search in searches.items():
        start = time.perf_counter()
        results[name] = search.run(fitness, cfg["generations"], progress=False)
        seconds[name] = round(time.perf_counter() - start, 2)
    best_name = max(results, key=lambda k: results[k].fitness)
    best = genome.decode(results[best_name].x[None])  # a population of one
    walk = world.run(best, record=[0])
    traj = walk.trajectories[0, 0]                # (T, 3 + n): x, theta, foot, y
    opt = world.optimal()                         # (T, 3)
    v_opt = float(opt[-1, 0] / world.duration)
    n = best.n
    y = traj[:, 3:]
    rates = 1.0 / (1.0 + np.exp(-best.gain[0] * (y + best.bias[0])))
    angles = np.linspace(-world.angle_limit, world.angle_limit, cfg["held_out"])
    held = world.run(best, angles)

    t = world.dt * np.arange(1, world.ticks + 1)
    show = t <= 60.0
    fig, axes = plt.subplots(1, 4, figsize=(17, 4), constrained_layout=True)
    ax = axes[0]
    for name, res in results.items():
        line, = ax.plot(np.arange(1, len(res.history) + 1), res.history.best,
                        label=f"{labels[name]}: best so far")
        ax.plot(np.arange(1, len(res.history) + 1), res.history.mean, color=line.get_color(),
                alpha=0.35, lw=0.8, label=f"{labels[name]}: generation mean")
    ax.axhline(v_opt, color="k", ls=":", lw=1, label="Beer's optimal gait")
    ax.set(xlabel="generation", ylabel="average velocity (fitness)", ylim=(0, 0.7),
           title="evolution of a 5-neuron leg controller")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.plot(t[show], traj[show, 1], label=f"evolved ({labels[best_name]})")
    ax.plot(t[show], opt[show, 1], "k:", lw=1, label="optimal gait")
    ax.fill_between(t[show], -world.angle_limit, world.angle_limit,
                    where=traj[show, 2] > 0.5, color="tab:blue", alpha=0.12, lw=0,
                    label="foot down (evolved)")
    ax.set(xlabel="time", ylabel="leg angle (rad)", title="leg angle and foot state")
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[2]
    ax.plot(t, traj[:, 0], label=f"evolved: v = {walk.fitness[0]:.4f}")
    ax.plot(t, opt[:, 0], "k:", lw=1, label=f"optimal gait: v = {v_opt:.4f}")
    ax.set(xlabel="time", ylabel="body position x", title="distance walked")
    ax.legend(fontsize=8)
    ax = axes[3]
    for i, (label, c) in enumerate((("foot", "tab:green"), ("forward swing", "tab:orange"),
                                    ("backward swing", "tab:purple"))):
        ax.plot(t[show], rates[show, i], color=c, lw=1.5, label=label)
    for i in range(3, n):
        ax.plot(t[show], rates[show, i], color="0.6", lw=0.8,
                label="interneurons" if i == 3 else None)
    ax.set(xlabel="time", ylabel="firing rate", ylim=(-0.02, 1.02),
           title="motor neurons of the evolved walker")
    ax.legend(fontsize=7)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "beer_gallagher1992_walker.png", dpi=110)
    plt.close(fig)

    result = dict(cfg, genes=genome.dim, seed=seed, seconds=seconds, best_method=best_name,
                  **{f"{k}_velocity": float(r.fitness) for k, r in results.items()},
                  **{f"{k}_first_generation_best": float(r.history.best[0])
                     for k, r in results.items()},
                  evolved_velocity=float(walk.fitness[0]), optimal_gait_velocity=v_opt,
                  fraction_of_optimal=float(walk.fitness[0] / v_opt),
                  steps=int(np.count_nonzero(np.diff(np.r_[0.0, traj[:, 2]]) == 1)),
                  held_out_velocity=float(held.fitness[0]),
                  held_out_worst_velocity=float(held.velocity.min()))
    np.savez(out / "beer_gallagher1992_walker.npz", t=t, trajectory=traj, rates=rates,
             optimal=opt, genome=results[best_name].x, held_out_angles=angles,
             held_out_velocity=held.velocity[0],
             **{f"{k}_best": r.history.best for k, r in results.items()},
             **{f"{k}_mean": r.history.mean for k, r in results.items()})
    (out / "beer_gallagher1992_walker.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
