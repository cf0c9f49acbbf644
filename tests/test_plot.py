"""rnndyn.plot draws what it is given (smoke tests on the Agg backend)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnndyn as rd  # noqa: E402
from rnndyn import plot  # noqa: E402
from rnndyn.analysis import (basins, find_fixed_points, orbit_diagram,  # noqa: E402
                             power_spectrum)
from rnndyn.errors import ValidationError  # noqa: E402

OSC = rd.CTRNN(W=[[4.5, 1], [-1, 4.5]], bias=[-2.75, -1.75])


def test_phase_portrait_nullclines_pass_through_the_fixed_point():
    fp = find_fixed_points(OSC, 16, seed=0)
    ax = plot.phase_portrait(OSC, (-1, 6), (-1.5, 5), fixed_points=fp,
                             trajectories=[np.array([[0, 0], [1, 1]])])
    segs = [p for c in ax.collections if hasattr(c, "get_paths") for p in c.get_paths()]
    assert ax.get_xlim() == (-1, 6)
    # each nullcline (contour level 0) passes within a grid step of the equilibrium
    verts = [p.vertices for p in segs if len(p.vertices) > 10]
    d = min(np.min(np.linalg.norm(v - fp.points[0], axis=1)) for v in verts)
    assert d < 0.1
    plt.close("all")
    with pytest.raises(ValidationError, match="2-D"):
        plot.phase_portrait(rd.CTRNN(W=np.eye(3)), (0, 1), (0, 1))


def test_other_plots_return_axes():
    f, S = power_spectrum(np.sin(np.arange(1000) * 0.1), 0.1)
    assert plot.spectrum(f, S) is not None
    d = orbit_diagram(rd.logistic_map(3.0), ("p", 0), np.linspace(2.8, 4, 20), [0.3], 200, 20)
    assert len(plot.orbit_diagram(d).collections) == 1
    b = basins(rd.CTRNN(W=[[8.0, 0.0], [0.0, 8.0]], bias=[-4.0, -4.0]),
               np.linspace(0.1, 7.9, 8), np.linspace(0.1, 7.9, 8), 20.0, 0.1)
    ax = plot.basin_map(b)
    assert len(ax.images) == 1
    fp = find_fixed_points(OSC, 8, seed=0)
    ax = plot.eigenvalues(fp.eigenvalues, kind="flow")
    assert len(ax.lines) >= 2
    ax = plot.eigenvalues([0.5 + 0.5j], kind="map")
    with pytest.raises(ValidationError):
        plot.eigenvalues([1.0], kind="torus")
    plt.close("all")
