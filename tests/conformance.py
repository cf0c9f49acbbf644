"""The one conformance suite every rnndyn model passes (DESIGN.md §3), flows and maps alike.

Use ``check_model(model, members=[...])`` from a test, or the individual ``check_*``
functions. Every check compares against an independent truth: central finite differences
for Jacobians, a Python loop over single models/sequences for batched kernels, the model
rebuilt from its own graph for the graph round trip.

``sample(rng) -> (state, input)`` draws a point to test at (default: state ~ N(0, 0.5^2),
input ~ N(0, 1)); pass one when the model lives on a restricted domain (e.g. the logistic
map's [0, 1]).
"""
from __future__ import annotations

import numpy as np

import rnndyn
from rnndyn.integrate import DiscreteStepper, run
from rnndyn.models.base import Model


def default_sample(model, rng):
    return 0.5 * rng.standard_normal(model.n), rng.standard_normal(model.n_in)


def _f(model, y, u):
    """One evaluation of the dynamics: dy/dt (flow) or the next state (map)."""
    u = None if model.n_in == 0 else u
    return model.rhs(0.0, y, u) if model.kind == "flow" else model.step(y, u)


def _jac(model, y, u):
    u = None if model.n_in == 0 else u
    return model.jacobian(0.0, y, u) if model.kind == "flow" else model.jacobian(y, u)


def check_shapes(model, sample=None, seed=0):
    """Sizes, kinds and the shapes/dtypes of step (rhs), Jacobian and output."""
    assert isinstance(model, Model)
    assert model.kind in ("flow", "map")
    assert model.P is None
    for size in (model.n, model.n_in, model.n_out):
        assert isinstance(size, (int, np.integer)) and size >= 0
    assert model.n >= 1
    rng = np.random.default_rng(seed)
    y, u = (sample or default_sample)(model, rng)
    f = _f(model, y, u)
    assert f.shape == (model.n,) and f.dtype == np.float64
    assert model.output(y).shape == (model.n_out,)
    if model.has_jacobian:
        assert _jac(model, y, u).shape == (model.n, model.n)
    ws = model.kernels.work_size(model.kernel_params)
    assert int(ws) >= 0


def check_finite(model, sample=None, seed=0, draws=20):
    """Step/rhs, output and Jacobian are finite at random points; evaluation is pure (same
    arguments, same result; the arguments are not modified)."""
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        y, u = (sample or default_sample)(model, rng)
        y0, u0 = y.copy(), u.copy()
        f1, f2 = _f(model, y, u), _f(model, y, u)
        np.testing.assert_array_equal(f1, f2)
        np.testing.assert_array_equal(y, y0)
        np.testing.assert_array_equal(u, u0)
        assert np.all(np.isfinite(f1)) and np.all(np.isfinite(model.output(y)))
        if model.has_jacobian:
            assert np.all(np.isfinite(_jac(model, y, u)))


def check_jacobian(model, sample=None, seed=0, draws=5, eps=1e-6, rtol=1e-5, atol=1e-6):
    """Analytic Jacobian == central finite differences of step/rhs (error O(eps^2))."""
    if not model.has_jacobian:
        return
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        y, u = (sample or default_sample)(model, rng)
        J = _jac(model, y, u)
        fd = np.empty_like(J)
        for j in range(model.n):
            e = np.zeros(model.n)
            e[j] = eps
            fd[:, j] = (_f(model, y + e, u) - _f(model, y - e, u)) / (2 * eps)
        scale = max(1.0, np.abs(fd).max())
        np.testing.assert_allclose(J, fd, rtol=rtol, atol=atol * scale,
                                   err_msg=f"{type(model).__name__}: Jacobian vs finite "
                                   "differences")


def check_population(members, sample=None, seed=0, T=12):
    """A stacked population runs like a loop over its members (one kernel call vs P calls),
    and indexing the population gives the members back."""
    cls = type(members[0])
    pop = cls.stack(members)
    P = len(members)
    assert pop.P == P and len(pop) == P
    rng = np.random.default_rng(seed)
    m = members[0]
    y0 = np.stack([(sample or default_sample)(m, rng)[0] for _ in range(P)])
    for k in range(P):
        y, u = (sample or default_sample)(m, rng)
        np.testing.assert_array_equal(_f(pop[k], y, u), _f(members[k], y, u))
    if m.kind == "map":
        x = rng.standard_normal((T, P, m.n_in))
        res = run(pop, x, h0=y0)
        for k in range(P):
            one = run(members[k], x[:, k], h0=y0[k])
            np.testing.assert_allclose(res.states[:, k], one.states, rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(res.outputs[:, k], one.outputs, rtol=1e-12, atol=1e-13)
    else:
        t = np.linspace(0.0, 1.0, T)
        u = rng.standard_normal((T, m.n_in)) if m.n_in else None
        tr = rnndyn.simulate(pop, y0, t, dt=0.01, method="rk4", inputs=u)
        for k in range(P):
            one = rnndyn.simulate(members[k], y0[k], t, dt=0.01, method="rk4", inputs=u)
            np.testing.assert_allclose(tr.y[:, k], one.y, rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(tr.outputs[:, k], one.outputs, rtol=1e-12, atol=1e-13)


def check_batch(model, sample=None, seed=0, T=15, B=4):
    """Maps: B sequences in one call == a Python loop of single sequences, for every runner
    method the cell supports; the stateful stepper agrees with ``run``."""
    if model.kind != "map":
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, model.n_in))
    h0 = np.stack([(sample or default_sample)(model, rng)[0] for _ in range(B)])
    methods = ["loop"] + (["blas"] if getattr(model, "batch_kernel", None) else [])
    singles = [run(model, x[:, b], h0=h0[b]) for b in range(B)]
    for method in methods:
        res = run(model, x, h0=h0, method=method)
        assert res.states.shape == (T, B, model.n) and res.outputs.shape == (T, B, model.n_out)
        for b in range(B):
            np.testing.assert_allclose(res.states[:, b], singles[b].states, rtol=1e-12,
                                       atol=1e-13, err_msg=f"method={method}")
            np.testing.assert_allclose(res.outputs[:, b], singles[b].outputs, rtol=1e-12,
                                       atol=1e-13, err_msg=f"method={method}")
        np.testing.assert_allclose(res.final, res.states[-1])
    # the step-by-step definition, in Python
    h = h0[0].copy()
    for t in range(T):
        h = _f(model, h, x[t, 0])
        np.testing.assert_allclose(singles[0].states[t], h, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(singles[0].outputs[t], model.output(h), rtol=1e-12,
                                   atol=1e-13)
    stepper = DiscreteStepper(model, batch=B, h0=h0)
    for t in range(T):
        out = stepper.step(x[t])
        np.testing.assert_allclose(out, singles[0].outputs[t] if B == 1 else
                                   np.stack([s.outputs[t] for s in singles]), rtol=1e-12,
                                   atol=1e-13)


def check_graph_roundtrip(model, sample=None, seed=0):
    """``from_graph(to_graph())`` has the same dynamics (skipped for models without graphs)."""
    if not (hasattr(model, "to_graph") and hasattr(type(model), "from_graph")):
        return
    if not getattr(model, "has_graph", True):  # e.g. an Elman net with a readout
        return
    G = model.to_graph()
    again = type(model).from_graph(G)
    assert (again.n, again.n_in, again.n_out) == (model.n, model.n_in, model.n_out)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        y, u = (sample or default_sample)(model, rng)
        np.testing.assert_array_equal(_f(again, y, u), _f(model, y, u))
        np.testing.assert_array_equal(again.output(y), model.output(y))


def check_model(model, sample=None, members=None, seed=0):
    """Run every check: shapes, finiteness, Jacobian vs finite differences, batch == loop
    (maps), population == loop (if ``members``: single models of the same family with equal
    shapes, e.g. ``[model, other]``), graph round trip (if the model supports graphs)."""
    check_shapes(model, sample, seed)
    check_finite(model, sample, seed)
    check_jacobian(model, sample, seed)
    check_batch(model, sample, seed)
    if members is not None:
        check_population(members, sample, seed)
    check_graph_roundtrip(model, sample, seed)
