"""CTRNN Euler stepping: rnndyn vs a plain numba loop, numpy, and the peer packages.

Cases (issue 2): one network N=10 for 20 000 steps; a population P=1000, N=10 for 1000 steps;
one network N=1000 for 1000 steps. Prints ns per neuron-step and ratios (reference / rnndyn
> 1 means rnndyn is faster). Peers, when installed: the PyPI package ``ctrnn`` (module
``CTRNN``) and neat-python's ``neat.ctrnn.CTRNN``; both step in Python, so they run a
shorter stretch of the same work and are scaled per neuron-step.

Run: ``python benchmarks/ctrnn.py``
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from numba import njit, prange

sys.path.insert(0, str(Path(__file__).parent))
import rnndyn as rd  # noqa: E402
from _common import best_time, best_times, table  # noqa: E402

DT = 0.01


@njit(cache=True, fastmath=True)
def ref_single(W, tau, bias, gain, y0, steps, dt):
    """The plain loop a numba user would write: returns every state, as simulate does."""
    n = y0.shape[0]
    y = y0.copy()
    o = np.empty(n)
    Y = np.empty((steps + 1, n))
    Y[0] = y
    for s in range(steps):
        for j in range(n):
            o[j] = 1.0 / (1.0 + np.exp(-gain[j] * (y[j] + bias[j])))
        for i in range(n):
            acc = -y[i]
            for j in range(n):
                acc += W[i, j] * o[j]
            y[i] += dt * acc / tau[i]
        Y[s + 1] = y
    return Y


@njit(cache=True, fastmath=True, parallel=True)
def ref_population(W, tau, bias, gain, Y0, steps, dt):
    """The same loop with prange over individuals (final states only)."""
    P, n = Y0.shape
    out = np.empty_like(Y0)
    for k in prange(P):
        y = Y0[k].copy()
        o = np.empty(n)
        for s in range(steps):
            for j in range(n):
                o[j] = 1.0 / (1.0 + np.exp(-gain[k, j] * (y[j] + bias[k, j])))
            for i in range(n):
                acc = -y[i]
                for j in range(n):
                    acc += W[k, i, j] * o[j]
                y[i] += dt * acc / tau[k, i]
        out[k] = y
    return out


def numpy_loop(W, tau, bias, gain, y0, steps, dt):
    y = y0.copy()
    for _ in range(steps):
        o = 1.0 / (1.0 + np.exp(-gain * (y + bias)))
        y = y + dt / tau * (-y + W @ o)
    return y


def peer_ctrnn(W, tau, bias, gain, y0, steps, dt):
    from CTRNN import CTRNN  # the PyPI package "ctrnn"
    from scipy.sparse import csr_matrix

    net = CTRNN(len(y0), step_size=dt)
    net.taus, net.biases, net.gains = tau, bias, gain
    net.weights = csr_matrix(W)
    net.states = y0.copy()
    zero = np.zeros(len(y0))
    return lambda: [net.euler_step(zero) for _ in range(steps)]


def peer_neat(W, tau, bias, gain, y0, steps, dt):
    # neat's CTRNN computes tau dy/dt = -y + act(bias + response * sum_j w y_j): another
    # form of the same cost (one activation and n products per neuron-step).
    from neat.activations import sigmoid_activation
    from neat.ctrnn import CTRNN, CTRNNNodeEval

    n = len(y0)
    evals = {i: CTRNNNodeEval(tau[i], sigmoid_activation, sum, bias[i], gain[i],
                              [(j, W[i, j]) for j in range(n)]) for i in range(n)}
    net = CTRNN([], list(range(n)), evals)
    return lambda: net.advance([], steps * dt, dt)


def random_net(n, P=None, seed=0):
    rng = np.random.default_rng(seed)
    lead = () if P is None else (P,)
    return (rng.normal(0, 4 / np.sqrt(n), lead + (n, n)), rng.uniform(0.5, 2, lead + (n,)),
            rng.normal(0, 1, lead + (n,)), np.ones(lead + (n,)), rng.normal(0, 1, lead + (n,)))


def peers(rows, W, tau, bias, gain, y0, steps, ours_ns, work):
    """Time each installed peer on a shortened run and add its row."""
    for name, make in (("ctrnn (PyPI)", peer_ctrnn), ("neat-python CTRNN", peer_neat)):
        try:
            fn = make(W, tau, bias, gain, y0, steps, DT)
        except ImportError:
            rows.append({"case": work, "implementation": name, "ns/neuron-step": "not installed"})
            continue
        ns = best_time(fn, repeat=3) / (steps * len(y0)) * 1e9
        rows.append({"case": work, "implementation": name, "ns/neuron-step": f"{ns:.1f}",
                     "rnndyn speed-up": f"{ns / ours_ns:.0f}x"})


def main():
    rows = []
    # -- one network, N=10, 20 000 steps --------------------------------------------------
    n, steps = 10, 20_000
    W, tau, bias, gain, y0 = random_net(n)
    net = rd.CTRNN(W=W, tau=tau, bias=bias, gain=gain)
    t = np.arange(steps + 1) * DT
    ours, ref = best_times([lambda: rd.simulate(net, y0, t, dt=DT, method="euler"),
                            lambda: ref_single(W, tau, bias, gain, y0, steps, DT)], repeat=30)
    tr = rd.simulate(net, y0, t, dt=DT, method="euler")
    assert np.allclose(tr.y, ref_single(W, tau, bias, gain, y0, steps, DT), atol=1e-9)
    case = "N=10, 20k steps"
    ours_ns = ours / (steps * n) * 1e9
    rows.append({"case": case, "implementation": "rnndyn simulate(euler)",
                 "ns/neuron-step": f"{ours_ns:.2f}"})
    rows.append({"case": case, "implementation": "plain numba loop",
                 "ns/neuron-step": f"{ref / (steps * n) * 1e9:.2f}",
                 "rnndyn / reference time": f"{ours / ref:.2f}"})
    peers(rows, W, tau, bias, gain, y0, 2000, ours_ns, case)

    # -- population P=1000, N=10, 1000 steps ----------------------------------------------
    P, n, steps = 1000, 10, 1000
    W, tau, bias, gain, Y0 = random_net(n, P)
    pop = rd.CTRNN(W=W, tau=tau, bias=bias, gain=gain)
    ours, ref = best_times([
        lambda: rd.simulate(pop, Y0, [0.0, steps * DT], dt=DT, method="euler"),
        lambda: ref_population(W, tau, bias, gain, Y0, steps, DT)], repeat=10)
    got = rd.simulate(pop, Y0, [0.0, steps * DT], dt=DT, method="euler").y[-1]
    assert np.allclose(got, ref_population(W, tau, bias, gain, Y0, steps, DT), atol=1e-9)
    stepper = rd.Stepper(pop, dt=DT)

    def ticks():
        stepper.reset(Y0)
        for _ in range(steps):
            stepper.step()
    tick = best_time(ticks, repeat=3)
    case = "P=1000, N=10, 1000 steps"
    ours_ns = ours / (P * steps * n) * 1e9
    rows.append({"case": case, "implementation": "rnndyn simulate(population)",
                 "ns/neuron-step": f"{ours_ns:.2f}"})
    rows.append({"case": case, "implementation": "rnndyn Stepper (1000 ticks)",
                 "ns/neuron-step": f"{tick / (P * steps * n) * 1e9:.2f}",
                 "rnndyn / reference time": f"{tick / ref:.2f}"})
    rows.append({"case": case, "implementation": "numba prange loop",
                 "ns/neuron-step": f"{ref / (P * steps * n) * 1e9:.2f}",
                 "rnndyn / reference time": f"{ours / ref:.2f}"})
    peers(rows, W[0], tau[0], bias[0], gain[0], Y0[0], 200, ours_ns, case)

    # -- one network, N=1000, 1000 steps --------------------------------------------------
    n, steps = 1000, 1000
    W, tau, bias, gain, y0 = random_net(n)
    net = rd.CTRNN(W=W, tau=tau, bias=bias, gain=gain)
    ours, ref = best_times([
        lambda: rd.simulate(net, y0, [0.0, steps * DT], dt=DT, method="euler"),
        lambda: numpy_loop(W, tau, bias, gain, y0, steps, DT)], repeat=5)
    got = rd.simulate(net, y0, [0.0, steps * DT], dt=DT, method="euler").y[-1]
    assert np.allclose(got, numpy_loop(W, tau, bias, gain, y0, steps, DT), atol=1e-8)
    case = "N=1000, 1000 steps"
    rows.append({"case": case, "implementation": "rnndyn simulate(euler)",
                 "ns/neuron-step": f"{ours / (steps * n) * 1e9:.2f}"})
    rows.append({"case": case, "implementation": "numpy W @ o loop",
                 "ns/neuron-step": f"{ref / (steps * n) * 1e9:.2f}",
                 "rnndyn / reference time": f"{ours / ref:.2f}"})
    print(table(rows, ["case", "implementation", "ns/neuron-step", "rnndyn / reference time",
                       "rnndyn speed-up"]))


if __name__ == "__main__":
    main()
