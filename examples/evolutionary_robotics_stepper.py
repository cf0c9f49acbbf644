"""Evolutionary robotics with ``rd.Stepper``: a population of CTRNN controllers driving
simulated agents tick by tick, and evolution through the genome interface.

The toy world (numpy, vectorised over the population): each of P agents lives on a line
and must reach a target. Its one sensor reads the signed, clipped distance to the target;
its motor neuron's firing rate o in (0, 1) sets the velocity ``v_max (2 o - 1)``. Every
controller is a 5-neuron CTRNN (Beer 1995, Adaptive Behavior 3:469) with the sensor
feeding every neuron and neuron 0 as the motor. The simulator loop is what a physics
engine would do: read the outputs of all P controllers, move the bodies, compute the
sensors, call ``Stepper.step(sensors)`` -- one kernel call per tick for the whole
population. Fitness is minus the distance to the target averaged over the episode and over
targets on both sides, so a controller must use its sensor, go fast and stop in time.

The genome interface: ``model.to_vector(fields)`` gives each controller's free
parameters as a row of a (P, d) matrix; a simple generational step (truncation selection,
elitism, Gaussian mutation) makes new rows, and ``base.from_vector(thetas, fields)`` on a
single CTRNN turns the (P, d) matrix back into a population in one call.

Run ``python examples/evolutionary_robotics_stepper.py``; ``main(quick=True)`` runs three
generations of shorter episodes.
"""
from __future__ import annotations

import numpy as np

import rnndyn as rd

N = 5                                 # neurons per controller
FIELDS = ["W", "W_in", "bias"]        # the genome (tau and gain stay fixed)
TARGETS = np.array([-2.0, 2.0])       # one trial per target, agents start at 0
V_MAX = 1.0
DT = 0.1                              # control tick (time units)


def base_controller() -> rd.CTRNN:
    """The template controller: N neurons, one sensor input, neuron 0 is the motor."""
    return rd.CTRNN(W=np.zeros((N, N)), tau=np.full(N, 0.5), W_in=np.zeros((N, 1)),
                    outputs=[0])


def evaluate(population: rd.CTRNN, ticks: int) -> np.ndarray:
    """Fitness (P,) of every controller: minus the distance to the target averaged over the
    ticks and the trials (one per target). Runs all P agents in lock-step."""
    P = population.P
    fitness = np.zeros(P)
    ctl = rd.Stepper(population, dt=DT, method="euler")
    for target in TARGETS:
        x = np.zeros(P)                           # agents' positions
        out = ctl.reset()                         # (P, 1): motor rates
        for _ in range(ticks):
            x += DT * V_MAX * (2.0 * out[:, 0] - 1.0)                   # move the bodies
            sensor = np.clip(target - x, -1.0, 1.0)[:, None]           # (P, 1)
            out = ctl.step(sensor)                                      # all controllers
            fitness -= np.abs(target - x) / (ticks * len(TARGETS))
    return fitness


def next_generation(thetas: np.ndarray, fitness: np.ndarray, rng, *, elite: int,
                    parents: int, sigma: float) -> np.ndarray:
    """Truncation selection with elitism: the best ``elite`` genomes survive unchanged, the
    rest are mutated copies of random parents among the best ``parents``."""
    order = np.argsort(-fitness)
    best = thetas[order[:parents]]
    children = best[rng.integers(0, parents, size=len(thetas) - elite)]
    children = children + sigma * rng.standard_normal(children.shape)
    return np.concatenate([thetas[order[:elite]], children])


def main(quick: bool = False, seed: int = 0) -> dict:
    """Evolve; returns the fitness history (best, mean per generation), the final
    population and its genomes."""
    rng = np.random.default_rng(seed)
    P = 200
    generations = 3 if quick else 30
    ticks = 40 if quick else 60
    base = base_controller()
    d = base.to_vector(FIELDS).size                       # N*N + N + N = 35 genes
    thetas = rng.normal(0.0, 2.0, size=(P, d))
    population = base.from_vector(thetas, FIELDS)         # (P, d) -> a population of P
    history = []
    for g in range(generations):
        fitness = evaluate(population, ticks)
        history.append((fitness.max(), fitness.mean()))
        print(f"generation {g:3d}: best {fitness.max():+.3f}, mean {fitness.mean():+.3f}")
        assert np.allclose(population.to_vector(FIELDS), thetas)   # rows are the genomes
        thetas = next_generation(thetas, fitness, rng, elite=P // 20, parents=P // 5,
                                 sigma=0.3)
        population = base.from_vector(thetas, FIELDS)
    fitness = evaluate(population, ticks)
    history.append((fitness.max(), fitness.mean()))
    print(f"final:          best {fitness.max():+.3f}, mean {fitness.mean():+.3f} "
          f"(P = {population.P} controllers of N = {population.n}, d = {d} genes)")
    return {"history": np.array(history), "fitness": fitness, "population": population,
            "thetas": thetas, "fields": FIELDS}


if __name__ == "__main__":
    main()
