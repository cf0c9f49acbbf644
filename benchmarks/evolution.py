"""Evaluating populations of small CTRNNs and Elman nets: the lane kernels against the
per-individual kernels, JAX and the evolutionary-robotics tools (issue 13, items 3 and 7).

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
  peer is given rnndyn's numba sensors, which favours it), and against the same generation
  with evosax 0.3.2 on JAX 0.10.2, CPU (``SimpleGA``, set like rnndyn's GA: ask -> evaluate
  -> tell) evaluating the same fitness written in JAX (``jax_visual_agent``: ``jit(vmap)``
  over individuals and trials, ``lax.scan`` over the ticks, the ray-circle and ray-diamond
  geometry with ``jnp.where`` in place of branches; compiled once, before timing). Before
  timing, the JAX offsets are checked against ``VisualAgent.run`` for the same 1000 genomes:
  float64 to 1e-9 (measured 2.8e-11 at most), float32 (network, body and world all in
  float32 in JAX; rnndyn's float32 is the network only) Beer's score within 1e-2 for 99% of
  the individuals (float32 rounding grows along 817 ticks of closed loop).

  Result (one run on the 2-core machine, 2026-11-27, with 512-bit vectors and 64 lanes a
  block; interleaved best of 3):

  ========================================  ============  =============  ==========
  implementation                            s/generation  time / rnndyn  same dtype
  ========================================  ============  =============  ==========
  rnndyn GA + ``VisualAgent.run`` float64   0.171         1.00           1.00
  rnndyn GA + ``VisualAgent.run`` float32   0.124         0.73           1.00
  evosax SimpleGA + JAX fitness float64     0.449         2.63           2.63
  evosax SimpleGA + JAX fitness float32     0.401         2.35           3.24
  DEAP + neat-python (2 agents, scaled)     262           1536
  ========================================  ============  =============  ==========

  Before the episodes ran on the lanes (one scalar kernel per (individual, trial) pair),
  rnndyn's generation was level with evosax + JAX (JAX 10-30% faster in float64 in two
  runs): JAX vectorises the ray geometry, which the scalar kernel spent most of its time on.
  On the lanes at 256-bit vectors and 32 lanes a block (2026-11-26, one core busy with
  another job) rnndyn took 0.49 s (float64) against evosax's 0.90.

  Population stepping in the same run: lanes 1.15 ns/neuron-step in float64 (3.02x the
  per-individual kernel, 4.5x faster than JAX) and 0.51 in float32 (6.8x; JAX 7.4x slower).

* **Populations of discrete-time controllers** (``--stepping`` too): P = 1000 Elman nets of
  N = 10 tanh units, 3 inputs and a tanh readout of 2 motors, 1000 steps, every step's
  readout kept: ``rd.run(population, X, states=False)`` (the lanes,
  ``rnndyn/integrate/_map_lanes_kernels.py``) against ``method="loop"`` (each member's own
  loop, the per-member kernel it ran before), JAX's ``jit(vmap(scan))`` of the same step,
  and neat-python's ``RecurrentNetwork`` (discrete-time, every node from the previous
  step's values; 4 members timed in Python, scaled), each given the same weights and
  checked against rnndyn before timing (neat: member 0's hidden states to 1e-12).

  Result (one run on the 2-core Zen 4, 2026-11-28, JAX 0.10.2, neat-python 2.0.0):

  ==============================================  ==============  ==========  ==========
  implementation                                  ns/neuron-step  per-member  same dtype
  ==============================================  ==============  ==========  ==========
  rnndyn lanes float64                            1.98            6.01        1.00
  per-member kernel float64 (``method="loop"``)   11.9            1.00        6.01
  rnndyn lanes float32                            1.08            11.1        1.00
  JAX vmap+scan float64                           7.70            1.55        3.88
  JAX vmap+scan float32                           4.84            2.47        4.49
  neat-python ``RecurrentNetwork`` (scaled)       1161            0.010       585
  ==============================================  ==============  ==========  ==========

  The same for P = 1000 LSTMs of H = 10 (PyTorch's gates, every step's h kept; JAX's step
  written alike), a second run of the same day: lanes 6.96 / 3.55 ns/neuron-step in float64
  / float32, 3.3x / 6.5x the per-member kernel, 4.6x / 6.1x faster than JAX (the Elman rows
  of that run: 1.99 / 1.06, 6.0x / 11.2x, 3.7x / 4.6x; the README keeps that run).

PSO against pyswarms and sep-CMA-ES against ``cma`` are in ``benchmarks/search.py``.

Ratios are measured interleaved in one run (``_common.best_times``): on a loaded machine
they hold better than the absolute times. Ratios > 1: rnndyn is faster.

Run: ``python benchmarks/evolution.py`` (``--stepping``: the population stepping table only)
"""
from __future__ import annotations

import contextlib
import math
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
    return lane_rows(names, [ours, old, f32, jx64, jx32], P * n * steps,
                     "per-individual / this")[0]


def lane_rows(names, fns, work, per_column):
    """(rows, times) of a lanes table, the contenders timed interleaved: names[0] and
    names[2] are rnndyn's float64 and float32 lanes, names[1] the per-individual kernel
    (its ratios under per_column); a None function is a peer not installed."""
    live = [(a, f) for a, f in zip(names, fns) if f is not None]
    times = dict(zip([a for a, _ in live], best_times([f for _, f in live], repeat=10)))
    rows = []
    for name in names:
        if name not in times:
            rows.append({"implementation": name, "ns/neuron-step": "not installed"})
            continue
        ref = times[names[2] if "float32" in name else names[0]]
        rows.append({"implementation": name, "ns/neuron-step": f"{times[name] / work * 1e9:.2f}",
                     per_column: f"{times[names[1]] / times[name]:.2f}",
                     "time / rnndyn lanes (same dtype)": f"{times[name] / ref:.2f}"})
    return rows, times


# -- populations of discrete-time controllers --------------------------------------------------
M_IN, O_OUT = 3, 2  # sensors and motors of the Elman controllers


def elman_population(P, n, seed=0):
    """P Elman nets of n tanh units, M_IN inputs and a tanh readout of O_OUT motors."""
    return rd.Elman.stack([rd.Elman.random(M_IN, n, O_OUT, seed=seed + k,
                                           output_activation="tanh") for k in range(P)])


def jax_elman(pop, X, dtype):
    """JAX's vmap of a scan over the Elman step, every step's readout returned (as
    ``rnndyn.run``), or None."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    W_ih, W_hh, W_y = (jnp.asarray(a, dtype) for a in (pop.W_ih, pop.W_hh, pop.W_y))
    b, b_y = jnp.asarray(pop.b_ih + pop.b_hh, dtype), jnp.asarray(pop.b_y, dtype)
    xs = jnp.asarray(np.ascontiguousarray(X.transpose(1, 0, 2)), dtype)  # (P, T, m)

    def one(W_ih, W_hh, b, W_y, b_y, x):
        def step(h, x_t):
            h = jnp.tanh(W_ih @ x_t + W_hh @ h + b)
            return h, jnp.tanh(W_y @ h + b_y)
        return jax.lax.scan(step, jnp.zeros(W_hh.shape[0], dtype), x)[1]
    f = jax.jit(jax.vmap(one))
    return lambda: f(W_ih, W_hh, b, W_y, b_y, xs).block_until_ready()


def lstm_population(P, n, seed=0):
    """P LSTMs of n units (PyTorch's activations, no peepholes) and M_IN inputs."""
    return rd.LSTM.stack([rd.LSTM.random(M_IN, n, seed=seed + k) for k in range(P)])


def jax_lstm(pop, X, dtype):
    """JAX's vmap of a scan over the LSTM step (PyTorch's gate order i, f, g, o), every
    step's h returned, or None."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    W_ih, W_hh = (jnp.asarray(a, dtype) for a in (pop.W_ih, pop.W_hh))
    b = jnp.asarray(pop.b_ih + pop.b_hh, dtype)
    xs = jnp.asarray(np.ascontiguousarray(X.transpose(1, 0, 2)), dtype)
    H = pop.H

    def one(W_ih, W_hh, b, x):
        def step(hc, x_t):
            h, c = hc
            z = W_ih @ x_t + W_hh @ h + b
            i, f, o = (jax.nn.sigmoid(z[k * H:(k + 1) * H]) for k in (0, 1, 3))
            c = f * c + i * jnp.tanh(z[2 * H:3 * H])
            h = o * jnp.tanh(c)
            return (h, c), h
        zero = jnp.zeros(H, dtype)
        return jax.lax.scan(step, (zero, zero), x)[1]
    f = jax.jit(jax.vmap(one))
    return lambda: f(W_ih, W_hh, b, xs).block_until_ready()


def neat_elman(pop, X, members=4):
    """neat-python's ``RecurrentNetwork`` (discrete-time: every node from the previous
    step's values) given member k's weights as node evaluations, run over the sequence in
    Python for the first ``members`` members; (run, states of member 0) or None. Its hidden
    states are the Elman's (checked); its outputs lag one step (neat reads the previous
    hidden values), the same arithmetic a step."""
    try:
        from neat.nn import RecurrentNetwork
    except ImportError:
        return None
    import math

    n = pop.n
    inputs, outputs = [-1 - k for k in range(M_IN)], [n + o for o in range(O_OUT)]

    def net(k):
        evals = [(i, math.tanh, sum, float(pop.b_ih[k, i] + pop.b_hh[k, i]), 1.0,
                  [(-1 - j, float(pop.W_ih[k, i, j])) for j in range(M_IN)] +
                  [(j, float(pop.W_hh[k, i, j])) for j in range(n)]) for i in range(n)]
        evals += [(n + o, math.tanh, sum, float(pop.b_y[k, o]), 1.0,
                   [(j, float(pop.W_y[k, o, j])) for j in range(n)]) for o in range(O_OUT)]
        return RecurrentNetwork(inputs, outputs, evals)
    nets = [net(k) for k in range(members)]

    def run():
        states = []
        for k, nn in enumerate(nets):
            nn.reset()
            for x_t in X[:, k].tolist():
                nn.activate(x_t)
                if k == 0:
                    states.append([nn.values[nn.active][i] for i in range(n)])
        return np.array(states)
    return run


def discrete_rows(cell="Elman", steps=1000):
    P, n = 1000, 10
    pop = elman_population(P, n) if cell == "Elman" else lstm_population(P, n)
    jax_cell = jax_elman if cell == "Elman" else jax_lstm
    X = np.random.default_rng(2).normal(0, 1, (steps, P, M_IN))
    X32 = X.astype(np.float32)

    def lanes64():
        return rd.run(pop, X, states=False).outputs

    def lanes32():
        return rd.run(pop, X32, states=False).outputs

    def template():
        return rd.run(pop, X, states=False, method="loop").outputs
    jx64, jx32 = jax_cell(pop, X, np.float64), jax_cell(pop, X, np.float32)
    peer = neat_elman(pop, X) if cell == "Elman" else None
    # every contender computes the same outputs (neat: member 0's hidden states)
    ref = template()
    assert np.allclose(lanes64(), ref, atol=1e-12)
    assert np.allclose(lanes32(), ref, atol=1e-4)
    if jx64 is not None:
        assert np.allclose(np.asarray(jx64()).transpose(1, 0, 2), ref, atol=1e-12)
        assert np.allclose(np.asarray(jx32()).transpose(1, 0, 2), ref, atol=1e-4)
    if peer is not None:
        assert np.allclose(peer(), rd.run(pop[0], X[:, 0]).states, atol=1e-12)
    names = ["rnndyn lanes float64 (run)", "per-member kernel float64 (run, method='loop')",
             "rnndyn lanes float32 (run)", "JAX vmap+scan float64", "JAX vmap+scan float32"]
    work = P * n * steps
    rows, times = lane_rows(names, [lanes64, template, lanes32, jx64, jx32], work,
                            "per-member / this")
    if peer is None:
        if cell == "Elman":
            rows.append({"implementation": "neat-python RecurrentNetwork", "ns/neuron-step":
                         "not installed"})
    else:
        t = min(_timed(peer) for _ in range(3)) * P / 4  # 4 members timed, scaled
        rows.append({"implementation": "neat-python RecurrentNetwork (4 members timed, scaled)",
                     "ns/neuron-step": f"{t / work * 1e9:.0f}",
                     "per-member / this": f"{times[names[1]] / t:.4f}",
                     "time / rnndyn lanes (same dtype)": f"{t / times[names[0]]:.0f}"})
    return rows


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


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


def rnndyn_generation(genome, agent, offsets, shapes, dtype=None):
    """One GA generation: ask for genomes, decode the population, run every trial, tell
    (``dtype``: the network's precision in ``VisualAgent.run``, default its float64)."""
    from rnndyn.train.search import GA

    ga = GA(genome.dim, P_AGENT, direction="maximize", seed=0)
    precision = {} if dtype is None else {"dtype": dtype}

    def generation():
        G = ga.ask()
        fitness = agent.run(genome.decode(G), offsets, shapes, **precision).fitness
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


def jax_visual_agent(genome, agent, offsets, shapes, dtype):
    """The same generation's fitness in JAX: a jitted map genomes (P, d) -> final offsets dx
    (P, M) (vmap over individuals and trials, ``lax.scan`` over the ticks, the ray geometry
    of ``_visual_agent_kernels`` with ``jnp.where`` in place of its branches), or None
    without JAX. Genes are clipped to [-1, 1] (evosax's GA is unbounded) and decoded as
    ``Genome.decode`` does."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from rnndyn.robotics.visual_agent import SHAPES

    # Genome.decode: genes act linearly on the value (log of the value for tau)
    field = [name.split("[")[0] for name in genome.names]
    log = np.array([genome.ranges[f][2] for f in field])
    lo, hi = genome.values(-np.ones(genome.dim)), genome.values(np.ones(genome.dim))
    tlo, thi = (jnp.asarray(np.where(log, np.log(np.where(log, v, 1.0)), v), dtype)
                for v in (lo, hi))
    log = jnp.asarray(log)
    sizes = {f: int(np.prod(s)) for f, s in genome.model.param_fields.items()}
    cuts = np.cumsum([sizes[f] for f in genome.fields])[:-1]
    assert genome.dim == sum(sizes[f] for f in genome.fields)  # one gene a parameter
    n, rays, out = N_AGENT, agent.rays, np.array(genome.model.outputs)
    ux, uy = (jnp.asarray(c, dtype) for c in agent.directions.T)
    L, gain_in, r = agent.ray_length, agent.input_gain, agent.object_diameter / 2.0
    a = agent.diamond_side / math.sqrt(2.0)
    dt, h, motor, fall = agent.dt, agent.dt / agent.substeps, agent.motor_gain, agent.fall_speed
    inf = jnp.asarray(np.inf, dtype)
    circle = SHAPES["circle"]

    def sensors(x, ox, oy, shape):
        # both shapes' distances and a select: measured 10-20% faster than grouping the
        # trials by shape (a constant of their trace, one geometry each) in two scans
        px, py = x - ox, -oy
        # circle: the smallest t >= 0 on it (0 from inside), inf on a miss (ray_circle)
        b = ux * px + uy * py
        disc = b * b - (px * px + py * py - r * r)
        root = jnp.sqrt(jnp.maximum(disc, 0.0))
        dc = jnp.where(disc < 0.0, inf, jnp.where(-b - root >= 0.0, -b - root,
                                                  jnp.where(-b + root >= 0.0, 0.0, inf)))

        def segment(ax, ay, bx, by):  # ray_segment
            ex, ey = bx - ax, by - ay
            den = ux * ey - uy * ex
            safe = jnp.where(den == 0.0, 1.0, den)
            wx, wy = ax - x, ay
            t = (wx * ey - wy * ex) / safe
            s = (wx * uy - wy * ux) / safe
            return jnp.where((den != 0.0) & (t >= 0.0) & (s >= 0.0) & (s <= 1.0), t, inf)
        # diamond |x - ox| + |y - oy| <= a: its nearest edge (0 from inside) (ray_diamond)
        dd = jnp.minimum(jnp.minimum(segment(ox + a, oy, ox, oy + a),
                                     segment(ox, oy + a, ox - a, oy)),
                         jnp.minimum(segment(ox - a, oy, ox, oy - a),
                                     segment(ox, oy - a, ox + a, oy)))
        dd = jnp.where(jnp.abs(px) + jnp.abs(py) <= a, 0.0, dd)
        d = jnp.where(shape == circle, dc, dd)
        return gain_in * (L - jnp.minimum(d, L)) / L

    def trial(W, W_in, bias, inv_tau, gain, ox, shape):
        def tick(carry, _):
            y, x, oy = carry
            drive = W_in @ sensors(x, ox, oy, shape)
            for _ in range(agent.substeps):
                y = y + h * ((-y + W @ jax.nn.sigmoid(gain * (y + bias)) + drive) * inv_tau)
            o = jax.nn.sigmoid(gain[out] * (y[out] + bias[out]))
            return (y, x + dt * motor * (o[0] - o[1]), oy - dt * fall), None
        start = (jnp.zeros(n, dtype), jnp.asarray(0.0, dtype),
                 jnp.asarray(agent.drop_height, dtype))
        return ox - jax.lax.scan(tick, start, None, length=agent.ticks)[0][1]

    def individual(genes):
        t = tlo + (jnp.clip(genes, -1.0, 1.0) + 1.0) / 2.0 * (thi - tlo)
        theta = dict(zip(genome.fields, jnp.split(jnp.where(log, jnp.exp(t), t), cuts)))
        net = (theta["W"].reshape(n, n), theta["W_in"].reshape(n, rays), theta["bias"],
               1.0 / theta["tau"], theta["gain"])
        return jax.vmap(trial, (None,) * 5 + (0, 0))(*net, jnp.asarray(offsets, dtype),
                                                    jnp.asarray(codes))

    codes = np.array([SHAPES[str(s)] for s in shapes])
    return jax.jit(jax.vmap(lambda g: individual(g.astype(dtype))))


def evosax_generation(genome, agent, offsets, shapes, dtype):
    """A generation with evosax's SimpleGA (ask -> the JAX fitness -> tell; each jitted and
    compiled once here), or None without evosax / JAX. Returns (generation, dx) with dx the
    jitted genomes -> offsets map, for the agreement check."""
    try:
        import evosax.algorithms as ea
        import jax
    except ImportError:
        return None
    import jax.numpy as jnp

    dx = jax_visual_agent(genome, agent, offsets, shapes, dtype)
    circle = jnp.asarray([str(s) == "circle" for s in shapes])
    md = agent.max_distance

    def fitness(G):  # Beer's score, negated: evosax minimises (dx is the jitted part)
        d = jnp.minimum(jnp.abs(dx(G)), md) / md
        return -jnp.where(circle, 1.0 - d, d).mean(axis=1).astype(jnp.float64)
    # as rnndyn's GA: every gene mutated with sd 0.05 of the box width 2, uniform crossover
    es = ea.SimpleGA(P_AGENT, jnp.zeros(genome.dim), std_schedule=lambda _: 0.1)
    params = es.default_params.replace(crossover_rate=0.5)
    key, k_init = jax.random.split(jax.random.key(0))
    G0 = jax.random.uniform(k_init, (P_AGENT, genome.dim), minval=-1.0, maxval=1.0)
    state = es.init(k_init, G0, fitness(G0), params)

    def generation():
        nonlocal key, state
        key, k_ask, k_tell = jax.random.split(key, 3)
        G, state = es.ask(k_ask, state, params)
        f = fitness(G)
        state = es.tell(k_tell, G, f, state, params)[0]
        return f.block_until_ready()
    generation()  # compiles ask, fitness and tell once
    return generation, dx


def generation_rows():
    genome = agent_genome()
    agent = VisualAgent()
    offsets, shapes = agent.trials(TRIALS, spread=40.0)
    ours = {"float64": rnndyn_generation(genome, agent, offsets, shapes),
            "float32": rnndyn_generation(genome, agent, offsets, shapes, np.float32)}
    evo = {k: evosax_generation(genome, agent, offsets, shapes, t)
           for k, t in (("float64", np.float64), ("float32", np.float32))}
    if evo["float64"] is not None:
        # the JAX fitness computes rnndyn's episodes: float64 to rounding; float32 rounding
        # grows along 817 ticks of closed loop (a few individuals end far apart), so there
        # the fitness is compared for 99% of the individuals
        G = np.random.default_rng(1).uniform(-1.0, 1.0, (P_AGENT, genome.dim))
        ref = agent.run(genome.decode(G), offsets, shapes)
        assert np.allclose(np.asarray(evo["float64"][1](G)), ref.dx, rtol=0, atol=1e-9)
        d = np.minimum(np.abs(np.asarray(evo["float32"][1](G))), agent.max_distance) / \
            agent.max_distance
        f32 = np.where(shapes == "circle", 1.0 - d, d).mean(axis=1)
        assert np.quantile(np.abs(f32 - ref.fitness), 0.99) < 1e-2
    names = {("rnndyn", k): f"rnndyn GA + VisualAgent.run {k} (one kernel)" for k in ours}
    names |= {("evosax", k): f"evosax SimpleGA + JAX vmap+scan fitness {k}" for k in evo}
    fns = {("rnndyn", k): f for k, f in ours.items()}
    fns |= {("evosax", k): f[0] for k, f in evo.items() if f is not None}
    times = dict(zip(fns, best_times(list(fns.values()), repeat=3)))
    rows = []
    for key, name in names.items():
        if key not in times:
            rows.append({"implementation": name, "generations/s": "not installed"})
            continue
        t = times[key]
        same = times.get(("rnndyn", key[1]))
        rows.append({"implementation": name, "generations/s": f"{1 / t:.2f}",
                     "s/generation": f"{t:.3g}",
                     "time / rnndyn": f"{t / times['rnndyn', 'float64']:.2f}",
                     "time / rnndyn (same dtype)": "" if same is None else f"{t / same:.2f}"})
    peer = neat_deap_generation(genome, agent, offsets, shapes)
    if peer is None:
        rows.append({"implementation": "DEAP + neat-python CTRNN", "generations/s":
                     "not installed"})
    else:
        t_peer = min(peer() for _ in range(2))
        rows.append({"implementation": "DEAP + neat-python CTRNN (2 agents timed, scaled)",
                     "generations/s": f"{1 / t_peer:.4f}", "s/generation": f"{t_peer:.3g}",
                     "time / rnndyn": f"{t_peer / times['rnndyn', 'float64']:.0f}"})
    return rows, agent


def main(stepping_only=False):
    if not stepping_only:
        rows, agent = generation_rows()
        print(f"A generation of the visual agent: {P_AGENT} CTRNN agents of N = {N_AGENT}, "
              f"{2 * TRIALS} trials of {agent.ticks} ticks (one Euler step each)")
        print(table(rows, ["implementation", "generations/s", "s/generation", "time / rnndyn",
                           "time / rnndyn (same dtype)"]))
        print()
    print("Population Euler stepping, P = 1000, N = 10, 1000 steps (2 threads; the machine may "
          "be loaded: read the ratios)")
    print(table(stepping_rows(), ["implementation", "ns/neuron-step", "per-individual / this",
                                  "time / rnndyn lanes (same dtype)"]))
    print()
    print(f"Elman populations: P = 1000 nets of N = 10 tanh units, {M_IN} inputs, a tanh "
          f"readout of {O_OUT}, 1000 steps, every step's readout kept (2 threads)")
    print(table(discrete_rows(), ["implementation", "ns/neuron-step", "per-member / this",
                                  "time / rnndyn lanes (same dtype)"]))
    print()
    print(f"LSTM populations: P = 1000 LSTMs of H = 10 units, {M_IN} inputs, 1000 steps, every "
          "step's h kept (2 threads)")
    print(table(discrete_rows("LSTM"), ["implementation", "ns/neuron-step",
                                        "per-member / this",
                                        "time / rnndyn lanes (same dtype)"]))


if __name__ == "__main__":
    main(stepping_only="--stepping" in sys.argv)
