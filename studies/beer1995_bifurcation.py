"""Reproduces the (theta1, theta2) bias-plane bifurcation map of a two-neuron CTRNN oscillator in: Beer, On the dynamics of small continuous-time recurrent neural networks, Adaptive Behavior 3(4):469-509, 1995, doi:10.1177/105971239500300405.

Beer (1995) maps how the number and stability of the equilibria of a two-neuron circuit
change over the plane of the biases: saddle-node (fold) curves bound the regions with 1, 3,
... equilibria, and a Hopf curve bounds the region where the only attractor is a limit
cycle. Here W = [[4.5, 1], [-1, 4.5]] (row = target), tau = 1, gain 1, sigmoid, the circuit
of Beer (1995) whose centre-crossing biases (-2.75, -1.75) give a limit cycle of period ~29.
For every grid point we count the equilibria (``find_fixed_points`` on one stacked
population), and classify the asymptotic orbit from one population simulation; a grid
point "oscillates" when it has no stable equilibrium (so, the flow being bounded and planar,
its only attractor is a limit cycle, Poincare-Bendixson) -- we check that simulation agrees.
The comparison with Beer's figure is qualitative: a central oscillatory region around the
centre-crossing point, enclosed by regions of one stable equilibrium, with
multi-equilibrium (bistable) lobes where the self-excitation 4.5 > 4 dominates.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.analysis import classify_orbit, continuation, find_fixed_points

W = np.array([[4.5, 1.0], [-1.0, 4.5]])
REFERENCE = (-2.75, -1.75)


def run(quick: bool = True, out: Path = Path("figures")) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnndyn import plot

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    m = 41 if quick else 201
    th1 = np.linspace(-4.5, -1.0, m)  # centred on the centre-crossing point
    th2 = np.linspace(-3.5, 0.0, m)
    T2, T1 = np.meshgrid(th2, th1, indexing="ij")  # rows: theta2, columns: theta1
    P = T1.size
    bias = np.column_stack([T1.ravel(), T2.ravel()])
    pop = rd.CTRNN(W=np.broadcast_to(W, (P, 2, 2)).copy(), bias=bias)
    fp = find_fixed_points(pop, 24 if quick else 48, bounds=(-1.5, 6.0), seed=1)
    n_eq = fp.count(P).reshape(T1.shape)
    n_stable = fp.count(P, stable_only=True).reshape(T1.shape)
    kinds, periods = [], []
    for idx in np.array_split(np.arange(P), max(1, P // 2000)):  # bounds the recorded memory
        with warnings.catch_warnings():  # slow orbits near the Hopf curve: exponent ~ 0
            warnings.simplefilter("ignore", RuntimeWarning)
            orbit = classify_orbit(rd.CTRNN(W=pop.W[idx], bias=bias[idx]), np.array([0.5, 0.5]),
                                   300.0, 150.0, 0.05, tol=2e-3)
        kinds.append(orbit.kind)
        periods.append(orbit.period)
    periodic = (np.concatenate(kinds) == "periodic").reshape(T1.shape)
    no_stable = n_stable == 0
    period = np.where(periodic, np.concatenate(periods).reshape(T1.shape), np.nan)
    agree = float(np.mean(periodic == no_stable))

    ref = rd.CTRNN(W=W, bias=list(REFERENCE))
    fp_ref = find_fixed_points(ref, 64, bounds=(-1.5, 6.0), seed=0)
    orb_ref = classify_orbit(ref, [0.5, 0.5], 300.0, 150.0, 0.01)
    # Hopf point along theta1 through the reference point (the edge of the oscillatory region)
    br = continuation(ref, ("bias", 0), REFERENCE[0], 2.5, ds_max=0.05)
    hopf = [b.param for b in br.of("hopf")]

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    ax = axes[0]
    top = max(3, int(n_eq.max()))
    cs = ax.pcolormesh(th1, th2, n_eq, cmap=plt.get_cmap("Blues", top), vmin=0.5,
                       vmax=top + 0.5, shading="nearest")
    fig.colorbar(cs, ax=ax, label="number of equilibria", ticks=np.arange(1, top + 1))
    ax.contourf(th1, th2, no_stable.astype(float), levels=[0.5, 1.5], colors="none",
                hatches=["///"])
    ax.contour(th1, th2, no_stable.astype(float), levels=[0.5], colors="C3", linewidths=1.5)
    ax.plot(*REFERENCE, "*", color="C3", ms=12)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    ax.set_title("equilibria; hatched: only attractor a limit cycle")
    tr = rd.simulate(ref, [0.5, 0.5], np.arange(0, 300, 0.05), dt=0.05)
    plot.phase_portrait(ref, (-1.0, 6.0), (-1.5, 5.0), ax=axes[1], fixed_points=fp_ref,
                        trajectories=[tr.y[2000:]])
    axes[1].set_title(rf"$\theta$ = {REFERENCE}: limit cycle, period {orb_ref.period:.1f}")
    fig.tight_layout()
    fig.savefig(out / "beer1995_bifurcation.png", dpi=120)
    plt.close(fig)

    np.savez(out / "beer1995_bifurcation.npz", theta1=th1, theta2=th2, n_equilibria=n_eq,
             n_stable=n_stable, periodic=periodic, period=period)
    ev = fp_ref.eigenvalues[0]
    result = {
        "reference_n_equilibria": int(len(fp_ref)),
        "reference_eigenvalues": [[float(e.real), float(e.imag)] for e in ev],
        "reference_stability": str(fp_ref.stability[0]),
        "reference_period": float(orb_ref.period),
        "reference_kind": orb_ref.kind,
        "hopf_theta1": hopf,
        "max_equilibria": int(n_eq.max()),
        "oscillatory_fraction": float(no_stable.mean()),
        "simulation_agreement": agree,
    }
    (out / "beer1995_bifurcation.json").write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    print(run(quick=True))
