"""Evaluating populations of small CTRNNs: the lane kernels against the per-individual kernel,
JAX and the evolutionary-robotics tools (issue 13, items 3 and 7).

Cases:

* **Population Euler stepping**, P = 1000 CTRNNs of N = 10 sigmoid units, 1000 steps, final
  states only: ``rd.simulate(population, method="euler")`` (the lane kernels,
  ``rnndyn/integrate/_lanes_kernels.py``: individuals on the SIMD lanes) against the same call
  on the per-individual prange kernel it ran before (``_flow_template.fixed_step_population``)
  and JAX's ``jit(vmap(scan))`` of the same Euler step, in float64 and float32 (rnndyn's
  float32 is the lane kernel called directly: ``simulate`` works in float64). ns/neuron-step,
  and each contender's speed-up over the per-individual kernel (issue 13's target: >= 2.5x
  for the lanes in both dtypes, and ahead of JAX in the same dtype).
* **A generation of the visual agent** (Beer 2003; ``rnndyn.robotics.VisualAgent``): 1000
  CTRNN agents of N = 10 units (7 ray inputs, 2 motor outputs), 8 trials of 817 ticks each,
  one Euler step per tick: generations per second of ``VisualAgent.run``, against the same
  generation with neat-python's CTRNN (``neat.ctrnn``) stepping each agent in Python inside a
  DEAP toolbox evaluation (timed on a few agent-trials and scaled to the generation; the
  peer is given rnndyn's numba sensors, which favours it).

PSO against pyswarms and sep-CMA-ES against ``cma`` are in ``benchmarks/search.py``.

Ratios are measured interleaved in one run (``_common.best_times``): on a loaded machine
they hold better than the absolute times. Ratios > 1: rnndyn is faster.

Run: ``python benchmarks/evolution.py`` (``--stepping``: the population stepping table only)
"""
from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import rnndyn as rd  # noqa: E402
from _common import best_times, table  # noqa: E402
from rnndyn.integrate import _lanes_kernels as lanes  # noqa: E402
from rnndyn.integrate.simulate import step_grid  # noqa: E402
from rnndyn.robotics import VisualAgent  # noqa: E402

_simulate = sys.modules["rnndyn.integrate.simulate"]
DT = 0.01


@contextlib.contextmanager
def per_individual_kernel():
    """``simulate`` as it ran before the lane kernels (one prange member per individual)."""
    before = _simulate.LANES_FROM_P
    _simulate.LANES_FROM_P = 1 << 62
    try:
        yield
    finally:
        _simulate.LANES_FROM_P = before


def random_population(P, n, n_in=0, seed=0):
    rng = np.random.default_rng(seed)
    return rd.CTRNN(W=rng.normal(0, 4 / np.sqrt(n), (P, n, n)), tau=rng.uniform(0.5, 2, (P, n)),
                    bias=rng.normal(0, 1, (P, n)), gain=np.ones((P, n)),
                    W_in=rng.normal(0, 1, (P, n, n_in)) if n_in else None)


def lanes_float32(pop, Y0, steps):
    """The lane kernel in float32 (final state after ``steps`` Euler steps of DT)."""
    t = np.array([0.0, steps * DT])
    C, H = step_grid(t, DT)
    L = lanes.lanes_params(pop.kernel_params[0], np.float32)
    UL = lanes.lanes_inputs(np.zeros((pop.P, 1, 0)), L.shape[0], np.float32)
    Y0 = Y0.astype(np.float32)
    Y = np.empty((pop.P, 2, pop.n), np.float32)
    info = np.zeros((pop.P, 4))
    H32 = H.astype(np.float32)

    def run():
        lanes.fixed_step_lanes(L, lanes.SIGMOID, Y0, t, C, H, H32, lanes.EULER, t[:1], UL,
                               False, Y, info)
        return Y[:, -1]
    return run


def jax_population(pop, Y0, steps, dtype):
    """JAX's vmap of a scan over the same Euler step (final state), or None."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    W, tau, bias, gain = (jnp.asarray(np.asarray(a), dtype) for a in
                          (pop.W, pop.tau, pop.bias, pop.gain))
    h = jnp.asarray(DT, dtype)

    def one(W, tau, bias, gain, y0):
        def step(y, _):
            return y + h * (-y + W @ jax.nn.sigmoid(gain * (y + bias))) / tau, None
        return jax.lax.scan(step, y0, None, length=steps)[0]
    f = jax.jit(jax.vmap(one))
    y0 = jnp.asarray(Y0, dtype)
    return lambda: f(W, tau, bias, gain, y0).block_until_ready()


def stepping_rows(steps=1000):
    P, n = 1000, 10
    pop = random_population(P, n)
    Y0 = np.random.default_rng(1).normal(0, 1, (P, n))
    t = [0.0, steps * DT]

    def ours():
        return rd.simulate(pop, Y0, t, dt=DT, method="euler").y[-1]

    def old():
        with per_individual_kernel():
            return rd.simulate(pop, Y0, t, dt=DT, method="euler").y[-1]
    f32 = lanes_float32(pop, Y0, steps)
    jx64, jx32 = jax_population(pop, Y0, steps, np.float64), jax_population(pop, Y0, steps,
                                                                            np.float32)
    # every contender computes the same states
    assert np.allclose(ours(), old(), atol=1e-10)
    assert np.allclose(f32(), ours(), atol=1e-3)
    if jx64 is not None:
        assert np.allclose(np.asarray(jx64()), ours(), atol=1e-9)
        assert np.allclose(np.asarray(jx32()), ours(), atol=1e-3)
    names = ["rnndyn lanes float64 (simulate)", "per-individual prange kernel float64",
             "rnndyn lanes float32", "JAX vmap+scan float64", "JAX vmap+scan float32"]
    fns = [ours, old, f32, jx64, jx32]
    live = [(a, f) for a, f in zip(names, fns) if f is not None]
    times = dict(zip([a for a, _ in live], best_times([f for _, f in live], repeat=10)))
    work = P * n * steps
    rows = []
    for name in names:
        if name not in times:
            rows.append({"implementation": name, "ns/neuron-step": "not installed"})
            continue
        ref = times["rnndyn lanes float32" if "float32" in name else
                    "rnndyn lanes float64 (simulate)"]
        rows.append({"implementation": name, "ns/neuron-step": f"{times[name] / work * 1e9:.2f}",
                     "per-individual / this": f"{times[names[1]] / times[name]:.2f}",
                     "time / rnndyn lanes (same dtype)": f"{times[name] / ref:.2f}"})
    return rows


# -- a generation of visual agents ------------------------------------------------------------
N_AGENT, P_AGENT, TRIALS = 10, 1000, 4  # 10 units, 1000 agents, 4 offsets x 2 shapes


def agent_genome():
    """A fully connected 10-unit controller (7 ray inputs, the last two units the motors)
    over Beer's ranges (MODELS.md): its genome (rnndyn.train.Genome)."""
    from rnndyn.train.genome import Genome

    net = rd.CTRNN(W=np.zeros((N_AGENT, N_AGENT)), W_in=np.zeros((N_AGENT, 7)),
                   outputs=(N_AGENT - 2, N_AGENT - 1))
    return Genome(net, {"W": 5.0, "W_in": 5.0, "bias": 10.0, "tau": (1.0, 2.0, "log"),
                        "gain": (1.0, 5.0)})


def rnndyn_generation(genome, agent, offsets, shapes):
    """One GA generation: ask for genomes, decode the population, run every trial, tell."""
    from rnndyn.train.search import GA

    ga = GA(genome.dim, P_AGENT, direction="maximize", seed=0)

    def generation():
        G = ga.ask()
        fitness = agent.run(genome.decode(G), offsets, shapes).fitness
        ga.tell(fitness)
        return fitness
    return generation


def neat_deap_generation(genome, agent, offsets, shapes, agents=2):
    """The same generation with DEAP (selection, crossover, mutation) evaluating each agent
    with neat-python's CTRNN stepped in Python: returns (seconds per generation, agents
    evaluated per timing) or None. Only ``agents`` agents are evaluated per timing and the
    time scaled to P_AGENT; rnndyn's numba sensors are used (favouring the peer)."""
    try:
        from deap import base, creator, tools
        from neat.activations import sigmoid_activation
        from neat.ctrnn import CTRNN, CTRNNNodeEval
    except ImportError:
        return None
    if not hasattr(creator, "AgentFitness"):
        creator.create("AgentFitness", base.Fitness, weights=(1.0,))
        creator.create("Agent", list, fitness=creator.AgentFitness)
    rng = np.random.default_rng(0)
    population = [creator.Agent(rng.uniform(-1, 1, genome.dim)) for _ in range(P_AGENT)]
    toolbox = base.Toolbox()
    toolbox.register("mate", tools.cxUniform, indpb=0.5)
    toolbox.register("mutate", tools.mutGaussian, mu=0.0, sigma=0.1, indpb=0.2)
    toolbox.register("select", tools.selTournament, tournsize=3)
    n, ticks, dt = N_AGENT, agent.ticks, agent.dt

    def evaluate(individual):
        # neat's form tau dy/dt = -y + act(bias + response * sum_j w_j v_j) over the units
        # and the 7 inputs (keys -1..-7): the same work as the CTRNN step
        net = genome.decode(np.clip(individual, -1.0, 1.0))  # DEAP mutates unbounded
        W, W_in = np.asarray(net.W), np.asarray(net.W_in)
        tau, bias, gain = np.asarray(net.tau), np.asarray(net.bias), np.asarray(net.gain)
        score = 0.0
        for ox, shape in zip(offsets, shapes):
            evals = {i: CTRNNNodeEval(tau[i], sigmoid_activation, sum, bias[i], gain[i],
                                      [(j, W[i, j]) for j in range(n)]
                                      + [(-1 - k, W_in[i, k]) for k in range(7)])
                     for i in range(n)}
            ctl = CTRNN([-1 - k for k in range(7)], [n - 2, n - 1], evals)
            x, oy = 0.0, agent.drop_height
            for _ in range(ticks):
                o = ctl.advance(list(agent.sensors(x, ox, oy, shape)), dt, dt)
                x += dt * agent.motor_gain * (o[0] - o[1])
                oy -= dt * agent.fall_speed
            d = min(abs(ox - x), agent.max_distance) / agent.max_distance
            score += (1.0 - d) if shape == "circle" else d
        return (score / len(offsets),)

    def generation():
        offspring = [toolbox.clone(i) for i in toolbox.select(population, len(population))]
        for a, b in zip(offspring[::2], offspring[1::2]):
            toolbox.mate(a, b)
        for ind in offspring:
            toolbox.mutate(ind)
        start = time.perf_counter()
        for ind in offspring[:agents]:
            ind.fitness.values = evaluate(ind)
        per_agent = (time.perf_counter() - start) / agents
        return time.perf_counter() - start + per_agent * (P_AGENT - agents)
    return generation


def generation_rows():
    genome = agent_genome()
    agent = VisualAgent()
    offsets, shapes = agent.trials(TRIALS, spread=40.0)
    ours = rnndyn_generation(genome, agent, offsets, shapes)
    (t_ours,) = best_times([ours], repeat=5)
    rows = [{"implementation": "rnndyn GA + VisualAgent.run (one kernel)",
             "generations/s": f"{1 / t_ours:.2f}", "s/generation": f"{t_ours:.3g}"}]
    peer = neat_deap_generation(genome, agent, offsets, shapes)
    if peer is None:
        rows.append({"implementation": "DEAP + neat-python CTRNN", "generations/s":
                     "not installed"})
    else:
        t_peer = min(peer() for _ in range(2))
        rows.append({"implementation": "DEAP + neat-python CTRNN (2 agents timed, scaled)",
                     "generations/s": f"{1 / t_peer:.4f}", "s/generation": f"{t_peer:.3g}",
                     "time / rnndyn": f"{t_peer / t_ours:.0f}"})
    return rows, agent


def main(stepping_only=False):
    if not stepping_only:
        rows, agent = generation_rows()
        print(f"A generation of the visual agent: {P_AGENT} CTRNN agents of N = {N_AGENT}, "
              f"{2 * TRIALS} trials of {agent.ticks} ticks (one Euler step each)")
        print(table(rows, ["implementation", "generations/s", "s/generation", "time / rnndyn"]))
        print()
    print("Population Euler stepping, P = 1000, N = 10, 1000 steps (2 threads; the machine may "
          "be loaded: read the ratios)")
    print(table(stepping_rows(), ["implementation", "ns/neuron-step", "per-individual / this",
                                  "time / rnndyn lanes (same dtype)"]))


if __name__ == "__main__":
    main(stepping_only="--stepping" in sys.argv)
