"""Memristive networks (Caravelli, Traversa & Di Ventra 2017, Phys. Rev. E 95, 022140):
projectors, Kirchhoff's laws, the single-memristor threshold, the Lyapunov function, the
conservation law, derivatives and the model protocol."""
from __future__ import annotations

import math
import warnings

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnndyn as rd
from conformance import check_model
from rnndyn.errors import ValidationError
from rnndyn.models.memristive import (Memristive, NoCycleWarning, cut_projector, cycle_matrix,
                                      incidence_matrix, lattice, loop_projector,
                                      single_threshold)


def interior(model, rng):
    return rng.uniform(0.05, 0.95, model.n), rng.normal(0, 1, model.n_in)


def random_circuit(seed, V=10, E=25, convention="growth", solver="auto", uniform=False, **kw):
    """A connected random multigraph circuit with random per-edge parameters and sources."""
    rng = np.random.default_rng(seed)
    G = nx.gnm_random_graph(V, E, seed=seed)
    while not nx.is_connected(G):
        seed += 1000
        G = nx.gnm_random_graph(V, E, seed=seed)
    edges = list(G.edges())
    R_on = 1.0 if uniform else rng.uniform(0.5, 2.0, E)
    R_off = 10.0 if uniform else R_on * rng.uniform(2.0, 50.0, E)
    alpha = 0.1 if uniform else rng.uniform(0.05, 0.2, E)
    beta = 10.0 if uniform else rng.uniform(5.0, 20.0, E)
    S = rng.normal(0, 1, E) * (rng.random(E) < 0.5)
    return Memristive(edges=edges, convention=convention, R_on=R_on, R_off=R_off, alpha=alpha,
                      beta=beta, S=S, solver=solver, **kw)


# -- projectors ------------------------------------------------------------------------------
@st.composite
def graphs(draw):
    """Random multigraphs with self-loops and several components (edges as (a, b, key))."""
    V = draw(st.integers(1, 14))
    E = draw(st.integers(1, 30))
    pairs = draw(st.lists(st.tuples(st.integers(0, V - 1), st.integers(0, V - 1)),
                          min_size=E, max_size=E))
    return [(a, b, k) for k, (a, b) in enumerate(pairs)], list(range(V))


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_projectors_are_complementary_orthogonal_projections(g):
    edges, nodes = g
    E, V = len(edges), len(nodes)
    B = incidence_matrix(edges, nodes).toarray()
    c = _components(edges, nodes)
    Om = loop_projector(edges, nodes)
    cut = cut_projector(edges, nodes)
    # independent references: the cycle-matrix form and numpy's pseudo-inverse
    A = cycle_matrix(edges, nodes)
    assert A.shape == (E, E - V + c)
    np.testing.assert_array_equal(B @ A, 0)
    Om_A = A @ np.linalg.solve(A.T @ A, A.T) if A.shape[1] else np.zeros((E, E))
    cut_pinv = B.T @ np.linalg.pinv(B @ B.T) @ B
    np.testing.assert_allclose(Om, Om_A, atol=1e-12)
    np.testing.assert_allclose(cut, cut_pinv, atol=1e-12)
    np.testing.assert_allclose(Om_A + cut_pinv, np.eye(E), atol=1e-12)
    for P in (Om, cut):
        np.testing.assert_allclose(P, P.T, atol=1e-12)
        np.testing.assert_allclose(P @ P, P, atol=1e-12)
    assert np.trace(Om) == pytest.approx(E - V + c, abs=1e-12)
    np.testing.assert_allclose(B @ Om, 0, atol=1e-12)  # loops carry no net node current


def _components(edges, nodes):
    G = nx.MultiGraph()
    G.add_nodes_from(nodes)
    G.add_edges_from(e[:2] for e in edges)
    return nx.number_connected_components(G)


def test_projector_of_a_model_and_n_loops():
    m = random_circuit(0)
    assert m.n_loops == 25 - 10 + 1
    assert np.trace(m.Omega) == pytest.approx(m.n_loops, abs=1e-12)
    np.testing.assert_allclose(m.Omega + m.cut_projector(), np.eye(m.n), atol=1e-12)
    # a single memristor on a loop: Omega = 1
    one = Memristive(edges=[(0, 0)], convention="growth", S=1.0)
    assert one.Omega.tolist() == [[1.0]] and one.n_loops == 1


# -- Kirchhoff's laws --------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("solver", ["banded", "cg"])
def test_projector_currents_equal_kirchhoff_currents(seed, solver):
    V, E = (8, 20) if seed % 2 else (30, 90)
    m = random_circuit(seed, V, E, solver=solver)
    assert m.chosen_solver == solver
    rng = np.random.default_rng(seed + 7)
    for _ in range(3):
        w = rng.random(m.n)
        nodal = m.currents(w, method="nodal")  # scipy.sparse.linalg.spsolve
        np.testing.assert_allclose(m.currents(w, method="projector"), nodal, rtol=0, atol=1e-10)
        np.testing.assert_allclose(m.currents(w), nodal, rtol=0, atol=1e-10)
        # plain Kirchhoff: no net current into a node, source voltages sum to drops round loops
        i = m.currents(w)
        R = m.resistances(w)
        np.testing.assert_allclose(m.incidence_matrix() @ i, 0, atol=1e-10)
        np.testing.assert_allclose(m.cycle_matrix().T @ (R * i - m.S), 0, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(graphs(), st.integers(0, 2**31 - 1))
def test_kirchhoff_on_any_graph(g, seed):
    edges, nodes = g
    rng = np.random.default_rng(seed)
    E = len(edges)
    R_on, R_off, S = rng.uniform(0.5, 2, E), rng.uniform(3, 30, E), rng.normal(size=E)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCycleWarning)
        ms = [Memristive(edges=edges, nodes=nodes, convention="decay", R_on=R_on, R_off=R_off,
                         S=S, solver=solver) for solver in ("banded", "cg")]
    w = rng.random(E)
    ref = ms[0].currents(w, method="nodal")
    np.testing.assert_allclose(ms[0].currents(w, method="projector"), ref, atol=1e-10)
    for m in ms:
        np.testing.assert_allclose(m.currents(w), ref, atol=1e-10)


def test_uniform_projector_form_of_ctd():
    # CTD: i = (1/R_on) (I + xi Omega W)^-1 Omega S for a uniform R_on
    m = Memristive(edges=list(nx.gnm_random_graph(9, 22, seed=3).edges()), convention="growth",
                   R_on=2.0, R_off=14.0, S=np.random.default_rng(3).normal(size=22))
    w = np.random.default_rng(4).random(m.n)
    xi = (14.0 - 2.0) / 2.0
    i = np.linalg.solve(np.eye(m.n) + xi * m.Omega * w[None, :], m.Omega @ m.S) / 2.0
    np.testing.assert_allclose(m.currents(w), i, atol=1e-12)
    # and the rhs is CTD's dw/dt = alpha w - (1/beta) (I + xi Omega W)^-1 Omega S
    np.testing.assert_allclose(m.rhs(0.0, w), 0.1 * w - 2.0 * i / 10.0, atol=1e-12)


# -- the single memristor ---------------------------------------------------------------------
def _single(convention, S=2.75):
    return Memristive(edges=[("a", "a")], convention=convention, R_on=1.0, R_off=10.0,
                      alpha=0.1, beta=10.0, S=S)


def test_single_memristor_threshold_growth():
    # MODELS.md / CTD: w* = (-1 + sqrt(1 + 4 xi S/(alpha beta)))/(2 xi), xi = 9, S = 2.75
    # gives w* = 0.5 exactly (9/4 + 1/2 = 2.75); unstable: 0 below, 1 above
    m = _single("growth")
    w_star = single_threshold(1.0, 10.0, 0.1, 10.0, 2.75)
    assert w_star == pytest.approx(0.5, abs=1e-15)
    assert abs(m.rhs(0.0, [w_star])[0]) < 1e-15
    t = np.array([0.0, 200.0])
    for delta, end in ((-1e-6, 0.0), (1e-6, 1.0)):
        tr = rd.simulate(m, [w_star + delta], t, dt=0.05)
        assert m.output(tr.y[-1])[0] == end
    # the other convention mirrors it: the same w* attracts from both sides
    d = _single("decay")
    tr = rd.simulate(d, [0.05], t, dt=0.05)
    assert tr.y[-1, 0] == pytest.approx(w_star, abs=1e-6)
    tr = rd.simulate(d, [0.95], t, dt=0.05)
    assert tr.y[-1, 0] == pytest.approx(w_star, abs=1e-6)


def test_single_memristor_threshold_by_bisection_of_simulations():
    # locate the basin boundary from simulations alone; it is w* to 1e-6
    m = _single("growth", S=1.3)
    w_star = single_threshold(1.0, 10.0, 0.1, 10.0, 1.3)
    lo, hi = 0.01, 0.99
    t = np.array([0.0, 400.0])
    while hi - lo > 1e-7:
        mid = 0.5 * (lo + hi)
        end = rd.simulate(m, [mid], t, dt=0.1).y[-1, 0]
        lo, hi = (mid, hi) if end <= 0.0 else (lo, mid)
    assert 0.5 * (lo + hi) == pytest.approx(w_star, abs=1e-6)


def test_fixed_point_and_its_eigenvalue():
    m = _single("growth", S=1.3)
    w_star = single_threshold(1.0, 10.0, 0.1, 10.0, 1.3)
    fps = rd.analysis.find_fixed_points(m, starts=np.array([[0.3], [0.4], [0.6]]))
    inside = (fps.points >= 0).all(1) & (fps.points <= 1).all(1) & fps.is_fixed
    assert inside.sum() == 1
    k = int(np.argmax(inside))
    assert fps.points[k, 0] == pytest.approx(w_star, abs=1e-10)
    assert fps.stability[k] == "unstable"
    # f'(w*) = alpha + xi S / (beta (1 + xi w*)^2)
    lam = 0.1 + 9 * 1.3 / (10 * (1 + 9 * w_star) ** 2)
    assert fps.eigenvalues[k, 0].real == pytest.approx(lam, rel=1e-8)
    d = _single("decay", S=1.3)
    fps = rd.analysis.find_fixed_points(d, starts=np.array([[0.3], [0.6]]))
    assert fps.points[0, 0] == pytest.approx(w_star, abs=1e-10)
    assert fps.stability[0] == "stable"


# -- analysis ----------------------------------------------------------------------------------
@pytest.mark.parametrize("convention", ["growth", "decay"])
def test_energy_is_a_lyapunov_function(convention):
    m = random_circuit(5, 9, 24, convention=convention, uniform=True)
    m = m.from_vector(m.to_vector("S") * 0.3, "S")
    rng = np.random.default_rng(1)
    # exact identity: W (I + xi Omega W) dw/dt = -grad L (growth; signs flip for decay)
    xi = 9.0
    for _ in range(3):
        w = rng.uniform(0.05, 0.95, m.n)
        M = np.diag(w) @ (np.eye(m.n) + xi * m.Omega * w[None, :])
        np.testing.assert_allclose(M @ m.rhs(0.0, w), -m.energy_gradient(w), atol=1e-12)
        eps = 1e-6
        fd = np.array([(m.energy(w + eps * e) - m.energy(w - eps * e)) / (2 * eps)
                       for e in np.eye(m.n)])
        np.testing.assert_allclose(m.energy_gradient(w), fd, atol=1e-9)
    # along a trajectory the energy never increases
    t = np.linspace(0, 30, 61)
    tr = rd.simulate(m, rng.uniform(0.3, 0.7, m.n), t, dt=0.05)
    L = np.array([m.energy(m.output(y)) for y in tr.y])
    assert np.all(np.diff(L) <= 1e-12)
    assert L[-1] < L[0]


def test_energy_needs_uniform_parameters():
    with pytest.raises(ValidationError, match="R_on differs between edges"):
        random_circuit(0).energy(np.full(25, 0.5))


@pytest.mark.parametrize("convention,sign", [("growth", 1), ("decay", -1)])
def test_conservation_law_cut_component(convention, sign):
    # currents lie in the cycle space: (I - Omega) w evolves as exp(+-alpha t) while no
    # memory is clipped (uniform alpha, R_on/beta; any R_off and sources)
    rng = np.random.default_rng(2)
    G = nx.gnm_random_graph(10, 22, seed=2)
    E = G.number_of_edges()
    m = Memristive.from_graph(G, convention=convention, R_off=rng.uniform(5, 20, E),
                              S=rng.normal(0, 0.2, E))
    w0 = rng.uniform(0.4, 0.6, E)
    t = np.linspace(0, 5, 6)
    tr = rd.simulate(m, w0, t, dt=0.01)
    assert np.all((tr.y > 0) & (tr.y < 1))
    for k, tk in enumerate(t):
        np.testing.assert_allclose(m.cut_component(tr.y[k]),
                                   np.exp(sign * 0.1 * tk) * m.cut_component(w0), atol=1e-9)


def test_memories_stay_in_the_box():
    m = random_circuit(1, 12, 30)
    m = m.from_vector(m.to_vector("S") * 20, "S")  # strong drive: memories hit the faces
    tr = rd.simulate(m, np.full(m.n, 0.5), np.linspace(0, 200, 5), dt=0.02)
    w = tr.y[-1]
    assert np.any(w >= 1) or np.any(w <= 0)
    # the projected field: on a face nothing moves outward; overshoot is at most dt |f|
    assert np.all(w > -0.02) and np.all(w < 1.02)
    f = m.functions
    dy = np.empty(m.n)
    f.rhs(0.0, w, np.zeros(0), m.kernel_params, dy, np.empty(f.work_size(m.kernel_params)))
    assert np.all(dy[w >= 1] <= 0) and np.all(dy[w <= 0] >= 0)


# -- protocol ----------------------------------------------------------------------------------
def test_conformance():
    G = nx.gnm_random_graph(6, 11, seed=4)
    edges = list(G.edges())
    rng = np.random.default_rng(0)
    members = [Memristive(edges=edges, convention=c, R_on=rng.uniform(0.5, 2, 11),
                          R_off=rng.uniform(5, 20, 11), alpha=rng.uniform(0.05, 0.2, 11),
                          beta=rng.uniform(5, 20, 11), S=rng.normal(size=11),
                          input_edges=[edges[3]]) for c in ("growth", "growth")]
    check_model(members[0], sample=interior, members=members)
    cg = Memristive(edges=edges, convention="decay", S=rng.normal(size=11), solver="cg")
    check_model(cg, sample=interior)


def test_jacobian_of_large_banded_and_cg_models():
    for solver in ("banded", "cg"):
        m = random_circuit(9, 25, 60, solver=solver)
        w = np.random.default_rng(0).uniform(0.05, 0.95, m.n)
        J = m.jacobian(0.0, w)
        eps = 1e-6
        fd = np.stack([(m.rhs(0, w + eps * e) - m.rhs(0, w - eps * e)) / (2 * eps)
                       for e in np.eye(m.n)], axis=1)
        np.testing.assert_allclose(J, fd, atol=1e-8)


def test_time_dependent_source_input():
    # an AC source as a model input equals the same circuit with that constant source
    G = nx.cycle_graph(4)
    edges = list(G.edges())
    driven = Memristive(edges=edges, convention="growth", input_edges=[edges[0]])
    w = np.full(4, 0.3)
    for v in (-1.0, 0.5):
        fixed = Memristive(edges=edges, convention="growth", S={edges[0]: v})
        np.testing.assert_allclose(driven.rhs(0, w, [v]), fixed.rhs(0, w), atol=1e-15)
    t = np.linspace(0, 10, 101)
    tr = rd.simulate(driven, w, t, dt=0.01, inputs=lambda s: [np.sin(s)])
    assert tr.y.shape == (101, 4) and np.all(np.isfinite(tr.y))


def test_population_runs_like_its_members():
    m = random_circuit(3, 8, 18)
    pop = Memristive.stack([m, m.from_vector(m.to_vector() * 1.1)])
    t = np.linspace(0, 5, 11)
    tr = rd.simulate(pop, np.full(m.n, 0.5), t, dt=0.05)
    for k in range(2):
        one = rd.simulate(pop[k], np.full(m.n, 0.5), t, dt=0.05)
        np.testing.assert_allclose(tr.y[:, k], one.y, rtol=1e-12, atol=1e-14)


def test_graph_round_trip_and_multigraph():
    G = nx.MultiDiGraph()
    G.add_edge("a", "b", R_off=20.0, source=1.0)
    G.add_edge("a", "b", R_off=5.0)  # two memristors in parallel: one loop
    m = Memristive.from_graph(G, convention="growth")
    assert m.n_loops == 1 and m.edges == (("a", "b", 0), ("a", "b", 1))
    assert m.R_off.tolist() == [20.0, 5.0] and m.S.tolist() == [1.0, 0.0]
    again = Memristive.from_graph(m.to_graph())
    assert again.edges == m.edges and again.convention == "growth"
    w = np.array([0.2, 0.7])
    np.testing.assert_array_equal(again.rhs(0, w), m.rhs(0, w))
    # the two parallel devices carry opposite loop currents
    i = m.currents(w)
    assert i[0] == pytest.approx(-i[1], abs=1e-15)
    assert i[0] == pytest.approx(1.0 / (m.resistances(w).sum()), rel=1e-12)


# -- validation --------------------------------------------------------------------------------
def test_bad_input_names_the_edge():
    edges = [(0, 1), (1, 2), (2, 3), (3, 0)]
    kw = dict(edges=edges, convention="growth")
    with pytest.raises(ValidationError, match=r"R_off.*at edge \(1, 2\)"):
        Memristive(**kw, R_on=1.0, R_off=[10, 0.5, 10, 10])
    with pytest.raises(ValidationError, match=r"R_off.*at edge \(0, 1\)"):
        Memristive(**kw, R_on=2.0, R_off=2.0)
    with pytest.raises(ValidationError, match=r"beta.*at edge \(2, 3\)"):
        Memristive(**kw, beta=[1, 1, 0, 1])
    with pytest.raises(ValidationError, match=r"R_on.*at edge"):
        Memristive(**kw, R_on=-1.0)
    with pytest.raises(ValidationError, match=r"edge \(0, 2\) is not in the graph"):
        Memristive(**kw, S={(0, 2): 1.0})
    with pytest.raises(ValidationError, match=r"input_edges.*\(5, 6\)"):
        Memristive(**kw, input_edges=[(5, 6)])
    with pytest.raises(ValidationError, match="convention"):
        Memristive(edges=edges, convention="paper")
    with pytest.raises(TypeError):
        Memristive(edges=edges)  # no default convention
    with pytest.raises(ValidationError, match="convention"):
        Memristive.from_graph(nx.cycle_graph(4))
    m = Memristive(**kw)
    with pytest.raises(ValidationError, match=r"\[0, 1\].*at edge \(2, 3\)"):
        m.currents([0.5, 0.5, 1.5, 0.5])
    with pytest.raises(ValidationError, match=r"\[0, 1\].*at edge \(3, 0\)"):
        m.rhs(0.0, [0.5, 0.5, 0.5, -0.1])
    with pytest.raises(ValidationError, match="theta"):
        m.from_vector(np.r_[m.to_vector()[:-1], np.nan])


def test_tree_warns():
    with pytest.warns(NoCycleWarning, match="no cycle"):
        m = Memristive.from_graph(nx.path_graph(5), convention="growth", S=1.0)
    w = np.full(4, 0.5)
    np.testing.assert_allclose(m.currents(w), 0, atol=1e-15)
    np.testing.assert_allclose(m.rhs(0, w), 0.1 * w)


def test_lattice_helper_and_auto_solver():
    m = Memristive(edges=lattice(10, 10), convention="growth")
    assert m.n == 180 and m.n_loops == 81 and m.chosen_solver == "banded"
    assert math.isclose(np.trace(m.Omega), 81, abs_tol=1e-10)


def test_ring_fixed_point_analytic():
    # decay convention on a directed ring with sources along it: every edge carries the
    # loop current i = sum S / sum R(w), and the fixed point is w_e = R_on i/(alpha_e beta),
    # so i solves (sum_e xi_e/(alpha_e beta)) i^2 + E i - sum S / R_on = 0 (R_on = 1)
    rng = np.random.default_rng(6)
    E = 6
    R_off, alpha, S = rng.uniform(5, 20, E), rng.uniform(0.1, 0.2, E), rng.uniform(0.5, 1, E)
    m = Memristive(edges=[(k, (k + 1) % E) for k in range(E)], convention="decay", R_on=1.0,
                   R_off=R_off, alpha=alpha, beta=1.0, S=S)
    a = np.sum((R_off - 1.0) / alpha)
    i = (-E + np.sqrt(E * E + 4 * a * S.sum())) / (2 * a)
    w_star = i / alpha
    assert np.all((w_star > 0.05) & (w_star < 0.95))
    tr = rd.simulate(m, np.full(E, 0.5), np.array([0.0, 300.0]), dt=0.05)
    np.testing.assert_allclose(tr.y[-1], w_star, atol=1e-9)
    fps = rd.analysis.find_fixed_points(m, starts=w_star + rng.normal(0, 0.02, (4, E)))
    assert np.sum(fps.is_fixed) == 1
    np.testing.assert_allclose(fps.points[0], w_star, atol=1e-10)
    assert fps.stability[0] == "stable"
    # the same point repels in the growth convention (the time-reversed field)
    g = Memristive(edges=m.edges, convention="growth", R_on=1.0, R_off=R_off, alpha=alpha,
                   beta=1.0, S=S)
    np.testing.assert_allclose(g.rhs(0.0, w_star), 0, atol=1e-12)
    assert np.all(np.linalg.eigvals(g.jacobian(0.0, w_star)).real > 0)
