"""Fig. 2-3 of: Hopfield, Neurons with graded response have collective computational properties like those of two-state neurons, PNAS 81:3088, 1984, DOI 10.1073/pnas.81.10.3088

The graded-response network ``C du/dt = -u / R + T V + I``, ``V = tanh(gain u)``, with
Hebbian T storing p random patterns (``ContinuousHopfield.from_patterns``). Left: its energy
``E = -1/2 V^T T V - I^T V + sum_i (1/R_i) int_0^{V_i} g^{-1}`` along trajectories from many
random initial states (one population run): it never increases, at any output sample.
Right: the paper's point, the stable equilibria at high gain against the discrete network's
memories: every stable fixed point found by ``find_fixed_points`` has the sign pattern of a
fixed point of the two-state network with the same T, and every stored pattern is among them;
at low gain the equilibria move towards the origin (the integral term grows with 1/gain) and
the memories disappear.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.models.hopfield import ContinuousHopfield, Hopfield


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, p = (16, 2) if quick else (32, 3)
    rng = np.random.default_rng(3)
    X = rng.choice([-1.0, 1.0], (p, n))
    starts = rng.normal(0, 1.0, (32 if quick else 100, n))
    t = np.linspace(0, 15, 151)

    # energy descent at moderate gain, from every start in one population run
    net = ContinuousHopfield.from_patterns(X, gain=3.0)
    pop = ContinuousHopfield.stack([net] * len(starts))
    tr = rd.simulate(pop, starts, t, dt=0.01, method="rk4")
    E = net.energy(tr.y)  # (T, S)
    rises = np.diff(E, axis=0)
    max_rise = float(rises.max())

    # high gain: equilibria vs the discrete network's fixed points
    gains = [0.5, 1.0, 2.0, 5.0, 20.0] if quick else [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 5.0, 10.0, 20.0]
    discrete = Hopfield(W=net.T)
    n_stable, memories_found, all_discrete, mean_abs_V = [], [], [], []
    for g in gains:
        fps = rd.analysis.find_fixed_points(ContinuousHopfield.from_patterns(X, gain=g),
                                            n_starts=48 if quick else 128, seed=0)
        S = np.sign(fps.stable)
        n_stable.append(int(len(S)))
        mean_abs_V.append(float(np.abs(np.tanh(g * fps.stable)).mean()) if len(S) else 0.0)
        memories_found.append(int(sum(any(np.array_equal(s, x) for s in S)
                                      for x in np.concatenate([X, -X]))))
        # a sign pattern is a discrete fixed point iff sgn(T s) = s (no unit wants to flip)
        ok = [bool(np.all(s != 0) and discrete.recall(s, mode="sync", max_sweeps=1).converged)
              for s in S]
        all_discrete.append(bool(all(ok)) if ok else False)

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    a.plot(t, E, color="tab:blue", lw=0.6, alpha=0.6)
    a.set(xlabel="time (units of RC)", ylabel="energy E(V)",
          title=f"{len(starts)} trajectories, N = {n}, p = {p}, gain 3: "
                f"max rise {max_rise:.1e}")
    b.semilogx(gains, n_stable, "o-", label="stable equilibria")
    b.semilogx(gains, memories_found, "s--", label=f"stored patterns found (of {2 * p}, with "
               "negatives)")
    b.semilogx(gains, mean_abs_V, "^:", label="mean |V| at the equilibria")
    b.set(xlabel="gain", title="equilibria vs the two-state network's memories")
    b.legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "hopfield1984_energy.png", dpi=120)
    plt.close(fig)
    result = {"n": n, "p": p, "n_trajectories": len(starts), "max_energy_rise": max_rise,
              "energy_drop_min": float((E[0] - E[-1]).min()), "gains": gains,
              "n_stable": n_stable, "memories_found": memories_found,
              "stable_are_discrete_fixed_points": all_discrete, "mean_abs_V": mean_abs_V}
    np.savez(out / "hopfield1984_energy.npz", t=t, E=E, gains=np.array(gains),
             n_stable=np.array(n_stable), memories_found=np.array(memories_found))
    (out / "hopfield1984_energy.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys
    print(run(quick="--quick" in sys.argv))
