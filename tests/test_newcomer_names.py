"""One name per meaning and one stepping code (issue: newcomer-proof, items 10, 21, 22)."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import rnndyn as rd
from rnndyn.integrate.plumbing import integrator
from rnndyn.models import base

PKG = Path(rd.__file__).parent
ELMAN = rd.Elman.random(2, 3, seed=0)
NET = rd.CTRNN(W=[[4.5, 1.0], [-1.0, 4.5]], W_in=[[1.0], [0.5]])


def test_input_signal_is_called_inputs_everywhere():
    x = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(rd.run(ELMAN, inputs=x).states, rd.run(ELMAN, x).states)
    with pytest.raises(TypeError):
        rd.run(ELMAN, x=x)  # the old name is gone, not silently accepted
    g = rd.analysis.jacobian_product_norms(ELMAN, inputs=x)
    assert g.norms.shape == (6,)


def test_no_input_means_zero_input_for_the_discrete_stepper():
    a, b = rd.DiscreteStepper(ELMAN), rd.DiscreteStepper(ELMAN)
    np.testing.assert_array_equal(a.step(), b.step(np.zeros(2)))
    with pytest.raises(rd.ValidationError, match="DiscreteStepper.step.u"):
        rd.DiscreteStepper(rd.Elman.random(0, 2, seed=0)).step(np.ones(1))


def test_graph_input_ids_and_widths_have_their_own_names():
    G = rd.graphs.from_arrays(np.eye(2), W_in=np.ones((2, 1)), input_nodes=["u"])
    net = rd.CTRNN.from_graph(G, input_nodes=["u"])
    assert net.input_nodes == ("u",) and net.n_in == 1
    assert rd.graphs.to_arrays(G).input_nodes == ("u",)
    assert rd.Flow(rd.lorenz().rhs_fn, p=[10.0, 28.0, 8 / 3], dim=3, n_in=0).n_in == 0


def test_protocol_names():
    assert base.Functions._fields[:5] == ("rhs", "step", "jacobian", "output", "member")
    assert not hasattr(base, "Kernels")
    assert NET.functions.member is not None and not hasattr(NET, "kernels")


def test_one_signature_for_flows_and_maps():
    y, u = np.array([0.2, -0.1]), np.array([0.3])
    t, yy, uu = NET.point(y, u, 1.5)
    assert t == 1.5 and yy is y and uu is u and len(ELMAN.point(y, u)) == 2
    np.testing.assert_allclose(NET.residual(y, u), NET.rhs(0.0, y, u))
    np.testing.assert_allclose(NET.residual_jacobian(y, u), NET.jacobian(0.0, y, u))
    h, x = np.array([0.1, 0.2, -0.3]), np.array([0.5, -0.5])
    np.testing.assert_allclose(ELMAN.residual(h, x), ELMAN.step(h, x) - h)
    np.testing.assert_allclose(ELMAN.residual_jacobian(h, x), ELMAN.jacobian(h, x) - np.eye(3))
    assert ELMAN.discrete and not NET.discrete


def test_analysis_steps_through_the_integrators():
    # basins and the map box use the integrators' final_states; the analysis template has
    # no stepping code of its own any more
    tree = ast.parse((PKG / "analysis" / "_analysis_template.py").read_text())
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert "final_states" not in names
    for t in ("_flow_template.py", "_map_template.py"):
        tree = ast.parse((PKG / "integrate" / t).read_text())
        assert "final_states" in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    # and the shared kernel ends where simulate ends (a bistable neuron, both basins)
    net = rd.CTRNN(W=[[8.0]], bias=[-4.0])
    X0 = np.array([[-3.0], [3.0]])
    tr = rd.simulate(rd.CTRNN.stack([net, net]), X0, [0.0, 20.0], dt=0.05, method="rk4")
    X, status = X0.copy(), np.zeros(2, np.int64)
    integrator(net, False).final_states(net.kernel_params, X, np.zeros((2, 0)),
                                        np.zeros(2, np.int64), 400, 0.05, 1, status)
    assert not status.any()
    np.testing.assert_allclose(X, tr.y[-1], rtol=1e-12)
