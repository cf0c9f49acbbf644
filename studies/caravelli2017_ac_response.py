"""AC response of: Caravelli, Traversa & Di Ventra, The complex dynamics of memristive circuits: analytical results and universal slow relaxation, Phys. Rev. E, 2017, DOI 10.1103/PhysRevE.95.022140

The memristor's fingerprint under an alternating source V(t) = V0 sin(omega t): a current-
voltage loop pinched at the origin (no current without voltage, whatever the memory), whose
lobes shrink as the frequency grows (the memory cannot follow a fast drive; the device tends
to a fixed resistor). Shown for one memristor on a loop and for a network (a 4 x 4 lattice
with the AC source in series with one edge: the current through that edge against its source
voltage). The source is a time-dependent model input (``rd.simulate(..., inputs=...)``).
Parameters: R_on = 1, R_off = 20, alpha = 0 (an ideal, charge-controlled memristor: the
memory is the charge that flowed), beta = 1, w(0) = 0.9, V0 = 1 (single) and 8 (network),
omega = 0.4 .. 3.2; loops are taken over the second period (the first transient discarded).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.models.memristive import Memristive, lattice

R_OFF, BETA = 20.0, 1.0
W0 = 0.9


def loop(model, V0: float, omega: float, points: int):
    """(V, I) over the second drive period, I the current through the driven edge."""
    t = np.linspace(0.0, 4 * np.pi / omega, 2 * points + 1)
    V = V0 * np.sin(omega * t)
    tr = rd.simulate(model, np.full(model.n, W0), t, dt=0.01, inputs=V[:, None])
    k = model.edges.index(model.input_edges[0])
    I = np.array([model.currents(model.output(y), [v])[k] for y, v in zip(tr.y, V)])
    return V[points:], I[points:]


def lobe_area(V, I) -> float:
    """Total area enclosed by the loop's two lobes: integral of |I dV| over a period minus
    the single-valued part, computed as the shoelace area of each half-period lobe."""
    half = len(V) // 2
    area = 0.0
    for a, b in ((0, half + 1), (half, len(V))):
        x, y = V[a:b], I[a:b]
        area += 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    return float(area)


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    omegas = [0.4, 0.8, 1.6, 3.2]
    points = 200 if quick else 1000
    single = Memristive(edges=[("a", "a")], convention="growth", R_on=1.0, R_off=R_OFF,
                        alpha=0.0, beta=BETA, input_edges=[("a", "a")])
    edges = lattice(4, 4)
    net = Memristive(edges=edges, convention="growth", R_on=1.0, R_off=R_OFF, alpha=0.0,
                     beta=BETA, input_edges=[edges[0]])
    result = {"omega": omegas}
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    arrays = {}
    for a, model, name, V0 in ((ax[0], single, "single", 1.0), (ax[1], net, "network", 8.0)):
        areas, at_zero = [], []
        for om in omegas:
            V, I = loop(model, V0, om, points)
            areas.append(lobe_area(V, I))
            at_zero.append(float(np.abs(I[np.abs(V) < 1e-12]).max(initial=0.0)))
            a.plot(V, I, lw=1.2, label=f"$\\omega$ = {om:g}")
            arrays[f"{name}_V_{om:g}"], arrays[f"{name}_I_{om:g}"] = V, I
        result[f"{name}_lobe_area"] = areas
        result[f"{name}_current_at_zero_voltage"] = max(at_zero)
        a.axhline(0, color="k", lw=0.5)
        a.axvline(0, color="k", lw=0.5)
        a.set(xlabel="source voltage V (V)", ylabel="current I (A)",
              title="one memristor" if name == "single" else
              "4 x 4 lattice: current through the driven edge")
        a.legend(fontsize=8)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "caravelli2017_ac_response.png", dpi=120)
    plt.close(fig)
    np.savez(out / "caravelli2017_ac_response.npz", **arrays)
    (out / "caravelli2017_ac_response.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import sys
    print(run(quick="--quick" in sys.argv))
