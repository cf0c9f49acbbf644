"""Echo state networks: the protocol (conformance), the flow form, readouts (ridge with
accumulated normal equations, RLS, FORCE), closed loop, the measures (memory capacity,
echo-state check, NRMSE) and bad input."""
import dataclasses
import tracemalloc

import networkx as nx
import numpy as np
import pytest

import rnndyn as rd
from conformance import check_model
from rnndyn.analysis.reservoir import (conditional_lyapunov, echo_state_check,
                                       memory_capacity, nmse, nrmse)
from rnndyn.errors import ValidationError
from rnndyn.models.reservoir import ESN, ESNFlow, spectral_radius
from rnndyn.train import readout as ro


def _reservoir(seed, cls=ESN, sparse=True, n=6):
    mask = np.random.default_rng(99).random((n, n)) < 0.4  # a population shares its topology
    rng = np.random.default_rng(seed)
    rate = dict(leak=rng.uniform(0.2, 0.6, n)) if cls is ESN else dict(tau=rng.uniform(1, 2, n))
    return cls(W=np.where(mask, rng.normal(0, 0.5, (n, n)), 0.0), W_in=rng.normal(size=(n, 2)),
               W_fb=rng.normal(size=(n, 1)), bias=rng.normal(size=n), mask=mask,
               sparse=sparse, **rate)


@pytest.mark.parametrize("cls,sparse", [(ESN, True), (ESN, False), (ESNFlow, True)])
def test_reservoirs_conform(cls, sparse):
    check_model(_reservoir(0, cls, sparse), members=[_reservoir(k, cls, sparse) for k in (1, 2)])


def test_sparse_and_dense_kernels_agree():
    a, b = _reservoir(3, sparse=True, n=30), _reservoir(3, sparse=False, n=30)
    assert a.uses_sparse and not b.uses_sparse
    x = np.random.default_rng(0).standard_normal((50, 3))
    np.testing.assert_allclose(rd.run(a, x).states, rd.run(b, x).states, rtol=1e-12,
                               atol=1e-13)
    h = np.random.default_rng(1).standard_normal(30)
    np.testing.assert_allclose(a.jacobian(h, x[0]), b.jacobian(h, x[0]), atol=1e-14)


@pytest.mark.parametrize("sparse,activation", [(True, "tanh"), (False, "tanh"),
                                               (True, "relu")])
def test_row_parallel_run_is_the_serial_run(sparse, activation):
    # large reservoirs split each step's rows over numba's threads: the same sums in the
    # same order, so bit-identical states, whatever the blocks (empty ones included)
    from rnndyn.models import _reservoir_kernels as K
    n = 40
    esn = dataclasses.replace(_reservoir(5, sparse=sparse, n=n), activation=activation)
    p, h0 = esn.kernel_params, np.random.default_rng(2).standard_normal(n)
    X = np.random.default_rng(3).standard_normal((30, 3))
    want = np.empty((30, n))
    K.esn_states(p, h0, X, want)
    for bounds in ([0, n], [0, 17, n], [0, 0, 9, 9, 31, n], ro._row_blocks(esn, 3)):
        got = np.full((30, n), np.nan)
        K.esn_states_parallel(p, h0, X, got, np.asarray(bounds, dtype=np.int64))
        np.testing.assert_array_equal(got, want)
    big = ESN.random(250, 2, density=0.7, seed=1)  # above PARALLEL_WORK multiply-adds
    assert big.density * 250 ** 2 >= ro.PARALLEL_WORK
    U = np.random.default_rng(4).uniform(-1, 1, (50, 2))
    np.testing.assert_array_equal(ro.states(big, U), rd.run(big, U).states)


def test_step_is_the_published_equation():
    # x(n+1) = (1 - a) x(n) + a tanh(W_in u + W x + W_fb y + b), plain numpy
    esn = _reservoir(4, n=8)
    rng = np.random.default_rng(2)
    h, u = rng.standard_normal(8), rng.standard_normal(3)
    want = (1 - esn.leak) * h + esn.leak * np.tanh(esn.W_in @ u[:2] + esn.W_fb @ u[2:] +
                                                   esn.W @ h + esn.bias)
    np.testing.assert_allclose(esn.step(h, u), want, rtol=1e-13)


def test_euler_of_the_flow_is_the_map():
    # Jaeger et al. 2007: the Euler step dt of tau dx/dt = -x + f(.) is the leaky ESN
    # with a = dt / tau
    esn = ESN.random(40, 2, leak=0.25, bias_scaling=0.3, seed=0)
    dt = 0.5
    flow = esn.to_flow(dt)
    np.testing.assert_allclose(flow.tau, dt / 0.25)
    u = np.random.default_rng(1).uniform(-1, 1, (60, 2))
    h0 = np.random.default_rng(2).uniform(-1, 1, 40)
    states = rd.run(esn, u, h0).states
    t = dt * np.arange(61)
    tr = rd.simulate(flow, h0, t, dt=dt, method="euler", inputs=np.vstack([u, u[-1:]]))
    np.testing.assert_allclose(tr.y[1:], states, rtol=1e-12, atol=1e-13)
    back = flow.to_map(dt)
    np.testing.assert_allclose(back.leak, esn.leak)
    # rk45 on the same flow converges to the same ODE solution as fine euler steps
    slow = ESN.random(10, 0, leak=1.0, seed=3).to_flow(1.0)
    y0 = np.full(10, 0.5)
    a = rd.simulate(slow, y0, [0.0, 2.0], dt=1e-4, method="euler").y[-1]
    b = rd.simulate(slow, y0, [0.0, 2.0], dt=0.1, method="rk45").y[-1]
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_random_reservoir_scaling_and_graphs():
    esn = ESN.random(300, 1, spectral_radius=0.8, density=0.05, seed=0)  # ARPACK path
    assert abs(np.abs(np.linalg.eigvals(esn.W)).max() - 0.8) < 1e-8
    assert abs(esn.density - 0.05) < 0.01 and esn.uses_sparse
    sv = ESN.random(50, 1, singular_value=0.5, seed=0)
    assert np.linalg.norm(sv.W, 2) == pytest.approx(0.5)
    orth = ESN.random(30, 1, orthogonal=True, spectral_radius=0.9, seed=0)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(orth.W)), 0.9, rtol=1e-10)
    # any topology from rnndyn.graphs: a ring of 20 with shortcuts
    G = rd.graphs.small_world(20, 2, 0.2, seed=1)
    G.add_node("u", role="input")
    for v in range(20):
        G.add_edge("u", v, weight=0.5)
    net = ESN.from_graph(G, spectral_radius=0.95, leak=0.5)
    assert spectral_radius(net.W) == pytest.approx(0.95)
    assert net.n_u == 1 and net.density == pytest.approx(nx.density(G.subgraph(range(20))) *
                                                          19 / 20)
    back = ESN.from_graph(net.to_graph())
    np.testing.assert_array_equal(back.W, net.W)
    np.testing.assert_array_equal(back.leak, net.leak)
    pop = ESN.stack([ESN.random(30, 1, seed=s, spectral_radius=r)
                     for s, r in ((0, 0.5), (1, 0.9), (2, 1.1))])
    assert pop.P == 3


def test_ridge_matches_least_squares_and_accumulates():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    Y = X @ rng.standard_normal((5, 2)) + 0.3 + 0.01 * rng.standard_normal((300, 2))
    lam = 0.1
    ridge = ro.Ridge(lam).fit(X, Y, washout=20)
    A = np.hstack([np.ones((280, 1)), X[20:]])
    reg = lam * np.diag([0.0] + [1.0] * 5)
    want = np.linalg.solve(A.T @ A + reg, A.T @ Y[20:])
    np.testing.assert_allclose(ridge.coef, want.T, rtol=1e-10)
    pieces = ro.Ridge(lam)
    for k in range(20, 300, 70):  # chunks in any order give the same normal equations
        pieces.partial_fit(X[k:k + 70], Y[k:k + 70])
    np.testing.assert_allclose(pieces.solve().coef, want.T, rtol=1e-10)
    rls = ro.RLS(alpha=1e-6)  # P(0) = I/alpha: ridge with lambda = alpha, exactly
    rls.fit(X[20:], Y[20:])
    np.testing.assert_allclose(rls.coef, ro.Ridge(1e-6).fit(X[20:], Y[20:]).coef, atol=1e-6)


def test_singular_ridge_falls_back_to_least_squares():
    # ridge 0 and a feature that is always 0: Cholesky meets a zero pivot, the least-squares
    # fallback (on the symmetrised normal matrix) gives the minimum-norm fit
    x = np.random.default_rng(0).standard_normal((100, 1))
    R, Y = np.hstack([x, np.zeros_like(x)]), 2.0 * x + 1.0
    np.testing.assert_allclose(ro.Ridge(0.0).fit(R, Y).coef, [[1.0, 2.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(ro.Ridge(0.0, fit_bias=False).fit(R, 2.0 * x).coef,
                               [[0.0, 2.0, 0.0]], atol=1e-12)


def test_ridge_memory_does_not_grow_with_training_length():
    esn = ESN.random(100, 1, seed=0)
    u = np.random.default_rng(0).uniform(-1, 1, (20_000, 1))

    def peak(T):
        ro.fit(esn, u[:T], u[:T], washout=10, chunk=1000)  # warm
        tracemalloc.start()
        ro.fit(esn, u[:T], u[:T], washout=10, chunk=1000)
        p = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return p
    short, long_ = peak(2000), peak(20_000)
    assert long_ < 1.1 * short


def test_narma10_and_multiple_sequences():
    from rnndyn.tasks.timeseries import narma
    u, y = narma(3000, seed=1)
    esn = ESN.random(100, 1, spectral_radius=0.9, input_scaling=0.5, seed=2)
    res = ro.fit(esn, u[:2000], y[:2000], washout=100, readout=ro.Ridge(1e-6))
    pred = res.readout.predict(rd.run(esn, u[2000:], res.final).states)
    assert nrmse(pred, y[2000:]) < 0.6  # a 100-unit ESN: well below 1 (the mean)
    # two sequences as a batch == the same two as a list of chunks
    U = np.stack([u[:1000], u[1000:2000]], axis=1)
    Y = np.stack([y[:1000], y[1000:2000]], axis=1)
    batch = ro.fit(esn, U, Y, washout=100).readout
    acc = ro.Ridge()
    for k in range(2):
        acc.partial_fit(rd.run(esn, U[:, k]).states, Y[:, k], washout=100)
    np.testing.assert_allclose(batch.coef, acc.solve().coef, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("teacher", [True, False])
def test_online_learning_of_a_sine_generator(teacher):
    # RLS (teacher forced) and FORCE (Sussillo & Abbott 2009, own output fed back) learn a
    # sine generator; the closed loop then runs free
    T, period = 3000, 50
    d = 0.5 * np.sin(2 * np.pi * np.arange(T + 500) / period)[:, None]
    esn = ESN.random(200, 0, spectral_radius=0.9 if teacher else 1.2, n_feedback=1, leak=0.3,
                     bias_scaling=0.2, seed=1)
    res = ro.force(esn, d[:T], teacher=teacher)
    out, _ = ro.generate(esn, res.readout, 500, res.final, y0=d[T - 1])
    assert nrmse(out, d[T:]) < 0.05


def test_teacher_forced_ridge_generator_with_warm_up():
    T, period = 2000, 30
    d = np.sin(2 * np.pi * np.arange(T + 300) / period)[:, None] * 0.8
    esn = ESN.random(100, 0, spectral_radius=0.8, n_feedback=1, seed=4, bias_scaling=0.1)
    res = ro.fit(esn, None, d[:T], washout=100, readout=ro.Ridge(1e-2))  # stable loop
    out, X = ro.generate(esn, res.readout, 300, res.final, y0=res.last_target)
    assert nrmse(out, d[T:]) < 0.05
    assert X.shape == (300, 100)


def test_memory_capacity_linear_reservoir():
    # linear reservoir, N = 50, rho = 0.9, iid uniform input: MC -> N (Jaeger 2002); an
    # orthogonal W comes within 2% (White, Lee & Sompolinsky 2004); a random W is limited by
    # the conditioning of its states in float64 (measured 0.85-0.9 N)
    orth = ESN.random(50, 1, spectral_radius=0.9, orthogonal=True, activation="identity",
                      input_scaling=0.1, seed=0)
    mc = memory_capacity(orth, seed=1)
    assert abs(mc.total - 50) < 5
    assert mc.curve.shape == (100,) and np.all(mc.curve <= 1 + 1e-9)
    rand = ESN.random(50, 1, spectral_radius=0.9, density=1.0, activation="identity",
                      input_scaling=0.1, seed=0)
    assert 0.8 * 50 < memory_capacity(rand, seed=1).total <= 50 + 1


def test_memory_capacity_tanh_decreases_with_input_scaling():
    totals = [memory_capacity(ESN.random(50, 1, spectral_radius=0.9, input_scaling=s, seed=0),
                              seed=1, n_train=3000, n_test=1000).total for s in (0.1, 0.5, 2.0)]
    assert totals[0] < 50 and totals[0] > totals[1] > totals[2]


def test_echo_state_check_separates_spectral_radii():
    ok = echo_state_check(ESN.random(50, 1, spectral_radius=0.8, seed=0), seed=0)
    bad = echo_state_check(ESN.random(50, 1, spectral_radius=1.5, seed=0), seed=0)
    assert ok.holds and ok.distance[-1].max() < 1e-6 and ok.rate < 1
    assert not bad.holds and bad.distance[-1].max() > 0.1
    lam = conditional_lyapunov(ESN.random(30, 1, spectral_radius=0.8, seed=0),
                               np.random.default_rng(0).uniform(-1, 1, (2000, 1)), seed=0)
    assert lam < 0  # the driven reservoir contracts


def test_error_measures():
    d = np.sin(np.linspace(0, 10, 200))
    assert nrmse(d, d) == 0.0
    assert nrmse(np.full_like(d, d.mean()), d) == pytest.approx(1.0)
    assert nmse(d + 0.1, d) == pytest.approx(0.01 / d.var())


def test_bad_input():
    with pytest.raises(ValidationError, match="spectral_radius"):
        ESN.random(10, 1, spectral_radius=-0.5, seed=0)
    for leak in (0.0, 1.5, -0.1):
        with pytest.raises(ValidationError, match="ESN.leak"):
            ESN.random(10, 1, leak=leak, density=0.5, seed=0)
    with pytest.raises(ValidationError, match="spectral radius is 0"):
        ESN.from_graph(rd.graphs.from_weights(np.eye(5, k=1)), spectral_radius=0.9)
    for density in (0.0, 1.5):
        with pytest.raises(ValidationError, match="density"):
            ESN.random(10, 1, density=density)
    with pytest.raises(ValidationError, match="tau"):
        ESNFlow(W=np.eye(3), tau=0.0)
    esn = ESN.random(10, 1, seed=0)
    u = np.zeros((50, 1))
    with pytest.raises(ValidationError, match="washout"):
        ro.fit(esn, u, u, washout=50)
    with pytest.raises(ValidationError, match="targets"):
        ro.fit(esn, u, u[:40])
    bad = u.copy()
    bad[3] = np.nan
    with pytest.raises(ValidationError, match="targets"):
        ro.fit(esn, u, bad)
    with pytest.raises(ValidationError, match="inputs"):
        ro.fit(esn, bad, u)
    with pytest.raises(ValidationError, match="washout"):
        ro.Ridge().partial_fit(u, u, washout=60)
    with pytest.raises(ValidationError, match="nrmse"):
        nrmse(u[:, 0], u[:-1, 0])
    with pytest.raises(ValidationError, match="ESN.W"):
        ESN(W=np.ones((2, 3)))


@pytest.mark.skipif(not hasattr(rd.models._reservoir_kernels.esn_states, "signatures"),
                    reason="no JIT")
def test_fit_and_states_of_frozen_arrays_compile_nothing_new():
    # numba types read-only arrays apart: a caller's frozen inputs (or a broadcast view) would
    # compile the state kernels a second time; the front doors hand them over writable
    from numba import types

    esn = ESN.random(30, 2, seed=0, density=0.3)
    u = np.random.default_rng(1).normal(size=(80, 2))
    y = u[:, :1].copy()
    u.flags.writeable = y.flags.writeable = False
    fitted = ro.fit(esn, u, y, washout=10)
    np.testing.assert_array_equal(ro.states(esn, u), ro.states(esn, u.copy()))
    np.testing.assert_array_equal(fitted.readout.coef, ro.fit(esn, u.copy(), y.copy(),
                                                              washout=10).readout.coef)
    for sig in rd.models._reservoir_kernels.esn_states.signatures:
        assert all(a.mutable for a in sig if isinstance(a, types.Array)), sig


def test_population_fit_is_a_loop_of_single_fits():
    # a hyperparameter grid as one population: one kernel per chunk, one ridge per member
    u = np.random.default_rng(0).uniform(-1, 1, (600, 1))
    y = np.roll(u, 3, axis=0)
    members = [ESN.random(20, 1, spectral_radius=r, leak=a, seed=1)
               for r, a in ((0.5, 1.0), (0.9, 0.5), (1.1, 0.3))]
    res = ro.fit(ESN.stack(members), u, y, ro.Ridge(1e-6), washout=50, chunk=256)
    for k, m in enumerate(members):
        one = ro.fit(m, u, y, ro.Ridge(1e-6), washout=50, chunk=256)
        np.testing.assert_allclose(res.readout[k].coef, one.readout.coef, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(res.final[k], one.final, rtol=1e-12)


def test_sweep_is_one_population_and_executors_agree():
    # spectral radius x input scaling x leak as one population (ESN.grid): member k is the
    # reservoir rescaled by hand; the sweep scores each one like a single fit + test run;
    # sub-populations on a concurrent.futures executor give identical numbers
    from concurrent.futures import ThreadPoolExecutor

    from rnndyn.tasks.timeseries import narma

    u, y = narma(900, 10, seed=1)
    esn = ESN.random(25, 1, spectral_radius=0.9, input_scaling=1.0, seed=4)
    rhos, scalings, leaks = (0.5, 1.0), (0.2, 1.0), (0.3, 0.6, 1.0)
    pop, grid = esn.grid(rhos, scalings, leaks)
    assert pop.P == 12 and grid.shape == (12, 3)
    k = 7  # (1.0, 0.2, 0.6) in itertools.product order
    np.testing.assert_allclose(grid[k], (1.0, 0.2, 0.6))
    assert abs(spectral_radius(pop[k].W) - 1.0) < 1e-10
    np.testing.assert_allclose(pop[k].W_in, 0.2 * esn.W_in)
    np.testing.assert_allclose(pop[k].leak, 0.6)
    args = (u[:600], y[:600], u[600:], y[600:])
    kw = dict(spectral_radius=rhos, input_scaling=scalings, leak=leaks, ridge=1e-6,
              washout=50, chunk=256)
    res = ro.sweep(esn, *args, **kw)
    one = ro.fit(pop[k], u[:600], y[:600], ro.Ridge(1e-6), washout=50, chunk=256)
    pred = one.readout.predict(rd.run(pop[k], u[600:], one.final).states)
    np.testing.assert_allclose(res.nrmse[k], nrmse(pred, y[600:]), rtol=1e-9)
    np.testing.assert_allclose(res.readouts[k].coef, one.readout.coef, rtol=1e-8, atol=1e-10)
    assert np.all(np.isfinite(res.nrmse)) and res.nrmse.min() < 0.8
    with ThreadPoolExecutor(2) as ex:
        par = ro.sweep(esn, *args, **kw, executor=ex, chunks=3)
    np.testing.assert_array_equal(par.nrmse, res.nrmse)
    np.testing.assert_array_equal(np.stack([r.coef for r in par.readouts]),
                                  np.stack([r.coef for r in res.readouts]))
    with pytest.raises(ValidationError, match="ESN.grid.leak"):
        esn.grid(leak=(0.5, 1.5))
    with pytest.raises(ValidationError, match="fit.executor"):
        ro.fit(pop, u, y, executor=ThreadPoolExecutor)
    with ThreadPoolExecutor(1) as ex, pytest.raises(ValidationError, match="fit.executor"):
        ro.fit(esn, u, y, executor=ex)


def test_one_step_predictor_runs_as_a_generator():
    # trained on u(n) -> u(n+1), the prediction fed back as the next input (into_input)
    s = np.sin(2 * np.pi * np.arange(2400) / 25)[:, None]
    esn = ESN.random(100, 1, spectral_radius=0.8, input_scaling=0.5, seed=2)
    res = ro.fit(esn, s[:1999], s[1:2000], ro.Ridge(1e-4), washout=100)
    out, _ = ro.generate(esn, res.readout, 200, res.final, y0=s[1999], into_input=True)
    assert nrmse(out, s[2000:2200]) < 0.05


def test_lif_unit_fires_at_the_analytic_rate():
    # a LIF unit under constant current I from v_reset = v_rest = 0: the period is
    # t_ref + tau_m ln(R I / (R I - v_th)) (Gerstner & Kistler 2002, eq. 4.10)
    from rnndyn.models.reservoir import LSM
    I = np.array([20.0, 30.0, 14.0])  # nA; 14 nA with R = 1 MOhm stays below 15 mV
    cell = LSM(W=np.zeros((3, 3)), W_in=np.eye(3), v_reset=0.0, I_bias=0.0, t_ref=2.0)
    dt, T = 0.01, 20000
    res = cell.run(np.broadcast_to(I, (T, 3)), dt=dt)
    counts = res.raster.sum(axis=0)
    period = 2.0 + 30.0 * np.log(I[:2] / (I[:2] - 15.0))
    for k in range(2):
        isi = np.diff(np.flatnonzero(res.raster[:, k])) * dt
        assert len(isi) >= 3
        np.testing.assert_allclose(isi, period[k], rtol=2e-3)  # Euler, dt = tau_m / 3000
    assert counts[2] == 0 and res.v[:, 2].max() < 15.0
    t, units = res.events()
    assert len(t) == counts.sum() and np.all(np.diff(t) >= 0)
    first = np.flatnonzero(res.raster[:, 0])[0]
    np.testing.assert_array_equal(res.v[first:first + 200, 0], 0.0)  # refractory at reset
    np.testing.assert_array_equal(res.counts(1.0).sum(axis=0), counts)


def test_liquid_obeys_dale_and_encodes_poisson_inputs():
    from rnndyn.models.reservoir import LSM
    lsm = LSM.random(60, 2, seed=0)
    signs = np.sign(lsm.W)
    for j in range(60):  # Dale's law: one sign per presynaptic unit
        col = signs[:, j][signs[:, j] != 0]
        assert np.all(col == col[0]) if col.size else True
    rates = np.broadcast_to([20.0, 0.0], (10000, 2))  # Hz, 1 s at dt = 0.1 ms
    a = lsm.run(rates, encoding="poisson", seed=1)
    b = lsm.run(rates, encoding="poisson", seed=1)
    np.testing.assert_array_equal(a.raster, b.raster)
    assert a.raster.sum() > 0 and a.filtered().shape == (10000, 60)
    with pytest.raises(ValidationError, match="LSM.run.inputs"):
        lsm.run(np.full((10, 2), -1.0), encoding="poisson")
    with pytest.raises(ValidationError, match="v_reset"):
        LSM(W=np.zeros((2, 2)), v_reset=16.0)


def test_liquid_reads_given_spike_trains():
    # a raster of given spike times drives the liquid exactly as Poisson inputs whose
    # spike probability is 1 in those steps and 0 elsewhere
    from rnndyn.models.reservoir import LSM, spike_raster
    R = spike_raster([[1.0, 5.05, 5.06, 10.0], [9.99]], 100, 0.1)  # 10.0 ms: past the end
    assert R.shape == (100, 2) and R[10, 0] == 1 and R[50, 0] == 2 and R[99, 1] == 1
    assert R.sum() == 4
    lsm = LSM.random(40, 2, w_exc=3.0, w_inh=2.0, seed=0)
    R[50, 0] = 1
    a = lsm.run(R, 0.1, encoding="spikes")
    b = lsm.run(R * 1000.0 / 0.1, 0.1, encoding="poisson", seed=0)
    np.testing.assert_array_equal(a.raster, b.raster)
    np.testing.assert_array_equal(a.v, b.v)
    for bad in (-1.0, 0.5):
        R[3, 1] = bad
        with pytest.raises(ValidationError, match="LSM.run.inputs"):
            lsm.run(R, 0.1, encoding="spikes")


@pytest.mark.slow  # spawns two worker processes that import rnndyn (~10-20 s)
def test_population_fit_on_a_process_pool_is_identical():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    u = np.random.default_rng(0).uniform(-1, 1, (400, 1))
    y = np.roll(u, 2, axis=0)
    pop, _ = ESN.random(15, 1, seed=3).grid((0.5, 0.9, 1.2), leak=(0.4, 1.0))
    here = ro.fit(pop, u, y, ro.Ridge(1e-6), washout=20)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        there = ro.fit(pop, u, y, ro.Ridge(1e-6), washout=20, executor=ex)
    np.testing.assert_array_equal(np.stack([r.coef for r in there.readout]),
                                  np.stack([r.coef for r in here.readout]))
    np.testing.assert_array_equal(there.final, here.final)


def test_qr_ridge_is_least_squares_with_the_condition_number_not_its_square():
    # features x, x^2, ..., x^9 on [0, 1] (condition number ~1e7) and an exact polynomial
    # target: least squares recovers the coefficients to ~kappa * eps; the normal equations
    # square kappa and lose them
    x = np.linspace(0, 1, 3000)
    R = x[:, None] ** np.arange(1, 10)
    c = np.random.default_rng(0).uniform(-1, 1, 9)
    y = (R @ c + 0.5)[:, None]
    qr = ro.Ridge(0.0, method="qr")
    for lo in range(0, 3000, 700):  # chunk by chunk, memory O(F^2)
        qr.partial_fit(R[lo:lo + 700], y[lo:lo + 700])
    qr.solve()
    want = np.linalg.lstsq(np.hstack([np.ones((3000, 1)), R]), y, rcond=None)[0][:, 0]
    np.testing.assert_allclose(qr.coef[0], want, atol=1e-6)
    assert np.abs(qr.coef[0, 1:] - c).max() < 1e-5 and abs(qr.coef[0, 0] - 0.5) < 1e-8
    normal = ro.Ridge(0.0).fit(R, y)
    assert np.abs(normal.coef[0, 1:] - c).max() > 100 * np.abs(qr.coef[0, 1:] - c).max()
    # with a ridge and without a bias both methods solve the same well-posed problem
    for fit_bias in (True, False):
        a = ro.Ridge(1e-3, fit_bias, method="qr").fit(R, y)
        b = ro.Ridge(1e-3, fit_bias).fit(R, y)
        np.testing.assert_allclose(a.coef, b.coef, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValidationError, match="Ridge.method"):
        ro.Ridge(method="svd")
