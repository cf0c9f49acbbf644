"""The one conformance suite every rnndyn model passes, flows and maps alike.

Use ``check_model(model, members=[...])`` from a test, or the individual ``check_*``
functions. Every check compares against an independent truth: central finite differences
for Jacobians and parameter derivatives (the parameters perturbed through the public
``from_vector``), a Python loop over single models/sequences for batched kernels and for
population derivatives, the model rebuilt from its own graph for the graph round trip.

``sample(rng) -> (state, input)`` draws a point to test at (default: state ~ N(0, 0.5^2),
input ~ N(0, 1)); pass one when the model lives on a restricted domain (e.g. the logistic
map's [0, 1]).
"""
from __future__ import annotations

import numpy as np

import pytest

import rnndyn
from rnndyn.errors import ValidationError
from rnndyn.integrate import DiscreteStepper, run
from rnndyn.integrate.run import on_lanes
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
    ws = model.functions.work_size(model.kernel_params)
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


def check_jvp(model, sample=None, seed=0, draws=3, k=3):
    """A flow's optional matrix-free tangent product ``jvp`` == its Jacobian times Y."""
    f = model.functions
    if model.kind != "flow" or f.jvp is None or model.P is not None:
        return
    rng = np.random.default_rng(seed)
    p, n = model.kernel_params, model.n
    for _ in range(draws):
        y, u = (sample or default_sample)(model, rng)
        Y, A = rng.normal(size=(n, k)), np.empty((n, k))
        assert f.jvp(0.0, y, np.asarray(u, float), p, Y, A, np.empty((n, n)),
                     np.empty(f.work_size(p)))
        np.testing.assert_allclose(A, _jac(model, y, u) @ Y, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{type(model).__name__}: jvp vs Jacobian @ Y")


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
        # a population large enough for the SIMD lanes (families that have a lane layout):
        # the members repeated to 70 (a full block of 64 and a partial one)
        big = cls.stack([members[k % P] for k in range(70)])
        if on_lanes(big, np.float64):
            xb = rng.standard_normal((T, 70, m.n_in))
            hb = np.stack([(sample or default_sample)(m, rng)[0] for _ in range(70)])
            lanes, loops = (run(big, xb, h0=hb, method=k) for k in ("auto", "loop"))
            for a, b in ((lanes.states, loops.states), (lanes.outputs, loops.outputs)):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
            one = run(members[1 % P], xb[:, 1], h0=hb[1])
            np.testing.assert_allclose(lanes.outputs[:, 1], one.outputs, rtol=1e-12, atol=1e-13)
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


def _full_arrays(model):
    return {k: np.array(a, dtype=float) for k, a in model._param_arrays().items()}


def check_param_vector(model, members=None, seed=0):
    """``to_vector``/``from_vector``: exact round trip (single, population, every field
    alone); entries outside a topology mask stay zero (and unchanged) after
    ``from_vector(theta + noise)``; bad vectors raise ValidationError."""
    rng = np.random.default_rng(seed)
    fields = model.param_fields
    theta = model.to_vector()
    assert theta.ndim == 1 and theta.dtype == np.float64
    assert len(model.theta_index()) == theta.size if isinstance(model, Model) else True
    again = model.from_vector(theta)
    assert again is not model and type(again) is type(model)
    np.testing.assert_array_equal(again.to_vector(), theta)
    for f in fields:
        np.testing.assert_array_equal(model.from_vector(model.to_vector(f), f).to_vector(),
                                      theta)
    noisy = model.from_vector(theta + 0.01 + 0.1 * np.abs(rng.standard_normal(theta.size)))
    before, after = _full_arrays(model), _full_arrays(noisy)
    for f, shape in fields.items():
        free = model._free(f)
        fixed = np.zeros(shape, bool) if free is None else ~np.broadcast_to(free, shape)
        np.testing.assert_array_equal(after[f][fixed], before[f][fixed],
                                      err_msg=f"{f}: entries outside the mask changed")
        assert np.all(after[f][~fixed] != before[f][~fixed]), f"{f}: a free entry kept its value"
    name = type(model).__name__
    with pytest.raises(ValidationError, match="theta"):
        model.from_vector(theta[:-1] if theta.size else np.zeros(1))
    if theta.size:
        bad = theta.copy()
        bad[-1] = np.nan
        with pytest.raises(ValidationError, match=f"entry {theta.size - 1}"):
            model.from_vector(bad)
    with pytest.raises(ValidationError, match="fields"):
        model.to_vector("no_such_field")
    if members is not None:
        pop = type(members[0]).stack(members)
        thetas = pop.to_vector()
        assert thetas.shape == (len(members), theta.size), name
        for k, m in enumerate(members):
            np.testing.assert_array_equal(thetas[k], m.to_vector())
        back = pop.from_vector(thetas + 1.0)
        assert back.P == len(members)
        np.testing.assert_array_equal(back.to_vector(), thetas + 1.0)
        grown = members[0].from_vector(thetas)  # a single model + (P, d) -> a population
        assert grown.P == len(members)
        np.testing.assert_array_equal(grown.to_vector(), thetas)


def _args(model, y, u):
    u = None if model.n_in == 0 else u
    return (0.3, y, u) if model.kind == "flow" else (y, u)


def check_param_derivatives(model, sample=None, seed=0, draws=2, eps=1e-6, rtol=1e-6,
                            columns=None):
    """VJP (state, input, parameters), parameter Jacobian and output VJP against central
    differences of the public step/rhs/output (parameters moved through ``from_vector``),
    relative error < rtol against max(1, |fd|.max()). ``columns`` (an int) checks that many
    random parameter entries instead of all (large models)."""
    rng = np.random.default_rng(seed)
    theta = model.to_vector()
    n, m = model.n, model.n_in
    cols = np.arange(theta.size) if columns is None or columns >= theta.size else \
        np.sort(rng.choice(theta.size, columns, replace=False))

    def f(mod, y, u):
        return _f(mod, y, u) if mod.kind == "map" else mod.rhs(0.3, y, None if m == 0 else u)

    def close(got, fd, what):
        scale = max(1.0, np.abs(fd).max()) if fd.size else 1.0
        np.testing.assert_allclose(got, fd, rtol=0, atol=rtol * scale,
                                   err_msg=f"{type(model).__name__}: {what} vs central "
                                   "differences")
    for _ in range(draws):
        y, u = (sample or default_sample)(model, rng)
        v = rng.standard_normal(n)
        res = model.vjp(v, *_args(model, y, u))
        Jp = model.param_jacobian(*_args(model, y, u))
        assert res.state.shape == (n,) and res.input.shape == (m,)
        assert res.params.shape == theta.shape and Jp.shape == (n, theta.size)
        fd_p = np.empty((n, len(cols)))
        for c, k in enumerate(cols):
            h = eps * max(1.0, abs(theta[k]))
            tp, tm = theta.copy(), theta.copy()
            tp[k] += h
            tm[k] -= h
            fd_p[:, c] = (f(model.from_vector(tp), y, u) - f(model.from_vector(tm), y, u)) / (2 * h)
        close(Jp[:, cols], fd_p, "param_jacobian")
        close(res.params[cols], v @ fd_p, "vjp (parameters)")
        np.testing.assert_allclose(res.params, v @ Jp, rtol=1e-12, atol=1e-12 * max(
            1.0, np.abs(Jp).max()), err_msg="vjp vs v^T param_jacobian")
        fd_y = np.stack([(f(model, y + eps * e, u) - f(model, y - eps * e, u)) / (2 * eps)
                         for e in np.eye(n)], axis=1)
        close(res.state, v @ fd_y, "vjp (state)")
        if m:
            fd_u = np.stack([(f(model, y, u + eps * e) - f(model, y, u - eps * e)) / (2 * eps)
                             for e in np.eye(m)], axis=1)
            close(res.input, v @ fd_u, "vjp (input)")
        w = rng.standard_normal(model.n_out)
        gy, gp = model.output_vjp(w, y)
        fd_oy = np.array([w @ (model.output(y + eps * e) - model.output(y - eps * e)) / (2 * eps)
                          for e in np.eye(n)])
        close(gy, fd_oy, "output_vjp (state)")
        fd_op = np.empty(len(cols))
        for c, k in enumerate(cols):
            h = eps * max(1.0, abs(theta[k]))
            tp, tm = theta.copy(), theta.copy()
            tp[k] += h
            tm[k] -= h
            fd_op[c] = w @ (model.from_vector(tp).output(y) - model.from_vector(tm).output(y)) / (2 * h)
        close(gp[cols], fd_op, "output_vjp (parameters)")


def check_population_derivatives(members, sample=None, seed=0):
    """A population's VJP and parameter Jacobian equal the loop over its members."""
    pop = type(members[0]).stack(members)
    rng = np.random.default_rng(seed)
    P, m0 = len(members), members[0]
    pts = [(sample or default_sample)(m0, rng) for _ in range(P)]
    Y = np.stack([p[0] for p in pts])
    U = np.stack([p[1] for p in pts])
    V = rng.standard_normal(Y.shape)
    res = pop.vjp(V, *_args(pop, Y, U))
    Jp = pop.param_jacobian(*_args(pop, Y, U))
    assert Jp.shape == (P, m0.n, m0.to_vector().size)
    for k, mk in enumerate(members):
        one = mk.vjp(V[k], *_args(mk, Y[k], U[k]))
        np.testing.assert_allclose(res.state[k], one.state, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(res.input[k], one.input, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(res.params[k], one.params, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(Jp[k], mk.param_jacobian(*_args(mk, Y[k], U[k])),
                                   rtol=1e-13, atol=1e-14)


def check_model(model, sample=None, members=None, seed=0):
    """Run every check: shapes, finiteness, Jacobian vs finite differences (and the
    matrix-free jvp against it), parameter
    vectors and parameter derivatives, batch == loop (maps), population == loop (if
    ``members``: single models of the same family with equal shapes, e.g. ``[model,
    other]``), graph round trip (if the model supports graphs)."""
    check_shapes(model, sample, seed)
    check_finite(model, sample, seed)
    check_jacobian(model, sample, seed)
    check_jvp(model, sample, seed)
    check_param_vector(model, members, seed)
    check_param_derivatives(model, sample, seed)
    check_batch(model, sample, seed)
    if members is not None:
        check_population(members, sample, seed)
        check_population_derivatives(members, sample, seed)
    check_graph_roundtrip(model, sample, seed)
