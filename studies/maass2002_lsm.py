"""Fig. 2 of: Maass, Natschläger & Markram, Real-time computing without stable states: a new framework for neural computation based on perturbations, Neural Computation, 2002, DOI 10.1162/089976602760407955

The separation property of a liquid state machine: a random column of 135 leaky
integrate-and-fire neurons (80% excitatory, Dale's law, parameters of the paper) is driven by
pairs of Poisson spike trains (20 Hz, 500 ms) u and v; the liquid state x(t) is every
neuron's spike train filtered with an exponential kernel (tau = 30 ms), and the figure shows
the mean state distance ||x_u(t) - x_v(t)|| over time for groups of pairs of growing input
distance d(u, v), and the state distance against the input distance (Fig. 2 of the paper:
larger input distances give larger state distances, d = 0 stays at the floor). Input
distance, as in the paper, is the L2 distance of the spike trains low-pass filtered with a
Gaussian kernel exp(-(t / 5 ms)^2); here as the RMS over the 500 ms (so two unrelated 20 Hz
trains are ~0.5 apart). v is u with k of its spikes moved to random times (k = 1, 2, 4, 8);
the d = 0 group is the same input from two random initial potentials, so its curve shows how
fast the liquid forgets its initial state (fading memory).

Third panel: a linear readout (ridge, +-1 targets) of the liquid state at t = 200 ms
classifies jittered versions (Gaussian jitter, SD 4 ms) of two spike-pattern templates (8
input trains of 20 Hz over 200 ms), the classification task of the paper; the templates differ
only in a 50 ms window that ends 0 to 150 ms before the readout, so the accuracy against
that delay traces the liquid's fading memory. The recurrent amplitudes are scaled down (see
WEIGHT_SCALE: static synapses instead of the paper's depressing ones).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnndyn.models.reservoir import LSM, spike_raster
from rnndyn.train import readout as ro

DT = 0.2  # ms, Euler step of the liquid
RATE = 20.0  # Hz, input spike trains
TAU_INPUT = 5.0  # ms, Gaussian kernel of the input distance
TAU_STATE = 30.0  # ms, exponential kernel of the liquid state
MOVED = (0, 1, 2, 4, 8)  # spikes moved to make v from u (0: same input, other initial state)
JITTER = 4.0  # ms, SD of the spike-time jitter of the classification task
WINDOW = 50.0  # ms: the two templates differ only in a window of this length ...
MEMORY = (0.0, 25.0, 50.0, 75.0, 100.0, 150.0)  # ... ending this long before the readout
#: the recurrent amplitudes of the paper (30 nA from excitatory, 19 nA from inhibitory
#: neurons) act here through static synapses, without the short-term depression that in the
#: paper scales them down (A U, U = 0.05-0.5, less at high rates): measured at full scale the
#: column fires ~170 Hz on its own and never forgets its initial state; at this scale it
#: fires ~5 Hz, driven by the input, and fades
WEIGHT_SCALE = 0.07


def poisson_train(rng, duration, rate=RATE):
    """Spike times (ms) of a homogeneous Poisson train on [0, duration)."""
    return np.sort(rng.uniform(0.0, duration, rng.poisson(rate * duration / 1000.0)))


def move_spikes(rng, times, k, duration):
    """``times`` with k of its spikes (at random) moved to uniformly random times."""
    times = times.copy()
    idx = rng.choice(len(times), size=min(k, len(times)), replace=False)
    times[idx] = rng.uniform(0.0, duration, len(idx))
    return np.sort(times)


def input_distance(u, v, duration, dt=DT):
    """RMS over [0, duration) of the difference of the two spike trains convolved with the
    Gaussian kernel exp(-(t / 5 ms)^2) (unit peak per spike)."""
    n = int(round(duration / dt))
    diff = spike_raster([u], n, dt)[:, 0] - spike_raster([v], n, dt)[:, 0]
    t = np.arange(-4 * TAU_INPUT, 4 * TAU_INPUT + dt / 2, dt)
    return float(np.sqrt(np.mean(np.convolve(diff, np.exp(-(t / TAU_INPUT) ** 2),
                                             mode="same") ** 2)))


def liquid_state(lsm, trains, duration, v0):
    """Liquid state x(t) (n_steps, n): the spikes filtered with exp(-t / 30 ms)."""
    n = int(round(duration / DT))
    return lsm.run(spike_raster(trains, n, DT), DT, encoding="spikes", v0=v0).filtered(TAU_STATE)


def separation(lsm, pairs, duration, rng):
    """Per group of MOVED: input distances (pairs,) and state distances (pairs, n_steps)."""
    d_in, d_state = [], []
    for k in MOVED:
        din, dst = [], []
        for _ in range(pairs):
            u = poisson_train(rng, duration)
            v = move_spikes(rng, u, k, duration)
            v0 = rng.uniform(lsm.v_reset, lsm.v_th)  # a random initial state per pair
            v0_b = rng.uniform(lsm.v_reset, lsm.v_th) if k == 0 else v0
            x_u = liquid_state(lsm, [u], duration, v0)
            x_v = liquid_state(lsm, [v], duration, v0_b)
            din.append(input_distance(u, v, duration))
            dst.append(np.linalg.norm(x_u - x_v, axis=1))
        d_in.append(din)
        d_state.append(np.mean(dst, axis=0))
    return np.array(d_in), np.array(d_state)


def classification(lsm, n_train, n_test, rng, memory, duration=200.0, channels=8):
    """Test accuracy of a ridge readout of the liquid state at t = duration classifying
    jittered versions of two templates that differ only in a WINDOW ms window ending
    ``memory`` ms before the readout (the readout needs the liquid's memory of it)."""
    stop = duration - memory
    common = [poisson_train(rng, duration) for _ in range(channels)]
    templates = [[np.sort(np.concatenate([t[(t < stop - WINDOW) | (t >= stop)],
                                          stop - WINDOW + poisson_train(rng, WINDOW)]))
                  for t in common] for _ in range(2)]
    n = int(round(duration / DT))

    def data(count):
        labels = np.repeat([0, 1], count)
        X = np.array([liquid_state(lsm, [np.clip(t + JITTER * rng.standard_normal(len(t)),
                                                 0.0, duration - DT) for t in templates[c]],
                                   duration, rng.uniform(lsm.v_reset, lsm.v_th))[n - 1]
                      for c in labels])
        return X, 2.0 * labels[:, None] - 1.0

    X, y = data(n_train)
    X_test, y_test = data(n_test)
    readout = ro.Ridge(1e-2).fit(X, y)
    return float(np.mean(np.sign(readout.predict(X_test)) == y_test))


def column(n_in, seed):
    """The paper's 135 neurons (LSM.random: its unit parameters, 80% excitatory, Dale's
    law; connections uniform with probability 0.1 instead of the paper's distance-dependent
    ones on a 15 x 3 x 3 grid) with the recurrent amplitudes scaled by WEIGHT_SCALE."""
    return LSM.random(135, n_in, w_exc=30.0 * WEIGHT_SCALE, w_inh=19.0 * WEIGHT_SCALE,
                      seed=seed)


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    lsm = column(1, seed=1)
    pairs, n_train, n_test = (12, 30, 20) if quick else (100, 150, 100)
    duration = 500.0
    d_in, d_state = separation(lsm, pairs, duration, rng)
    t = DT * np.arange(1, d_state.shape[1] + 1)
    late = t >= 100.0  # after the first input spikes have spread through the column
    mean_in = d_in.mean(axis=1)
    mean_state = d_state[:, late].mean(axis=1)
    patterns = column(8, seed=2)
    acc = [classification(patterns, n_train, n_test, rng, m) for m in MEMORY]

    fig, (a, b, c) = plt.subplots(1, 3, figsize=(14, 4), constrained_layout=True)
    for k, row, d in zip(MOVED, d_state, mean_in):
        a.plot(t, row, label=f"d(u,v) = {d:.2f}" + (" (same u, other x(0))" if k == 0 else ""))
    a.set(xlabel="time (ms)", ylabel="state distance ||x_u(t) - x_v(t)||",
          title="separation property")
    a.legend(fontsize=8)
    b.errorbar(mean_in, mean_state, xerr=d_in.std(axis=1), fmt="o-")
    b.set(xlabel="input distance d(u, v)", ylabel="mean state distance (t >= 100 ms)",
          title="state distance vs input distance")
    c.plot(MEMORY, acc, "o-")
    c.axhline(0.5, color="k", ls=":", label="chance")
    c.set(ylim=(0.3, 1.05), xlabel=f"the {WINDOW:g} ms where the templates differ ended ... ms "
          "before the readout",
          ylabel="test accuracy", title=f"readout at 200 ms, jitter {JITTER:g} ms")
    c.legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "maass2002_lsm.png", dpi=120)
    plt.close(fig)
    result = {"moved_spikes": list(MOVED), "input_distance": mean_in.tolist(),
              "state_distance": mean_state.tolist(),
              "same_input_distance_start": float(d_state[0, t <= 20.0].mean()),
              "same_input_distance_end": float(d_state[0, t >= 400.0].mean()),
              "memory_ms": list(MEMORY), "accuracy": acc,
              "pairs": pairs}
    np.savez(out / "maass2002_lsm.npz", t=t, state_distance=d_state, input_distance=d_in)
    (out / "maass2002_lsm.json").write_text(json.dumps(result, indent=2))
    return result
