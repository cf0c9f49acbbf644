"""Scale-out (DESIGN.md §7): populations split over concurrent.futures and dask executors
give exactly the in-process results."""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import rnndyn as rd
from rnndyn.analysis import lyapunov_spectrum
from rnndyn.errors import ValidationError
from rnndyn.executors import map_population, n_workers

T = np.linspace(0.0, 5.0, 51)


def population(P=7, n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rd.CTRNN.stack([rd.CTRNN(W=rng.normal(0, 2, (n, n)), bias=rng.normal(size=n),
                                    tau=rng.uniform(0.5, 2, n), W_in=rng.normal(size=(n, 2)))
                           for _ in range(P)])


def inputs(P=7):
    return np.random.default_rng(1).normal(size=(len(T), P, 2))


def reference(pop):
    return rd.simulate(pop, np.zeros(pop.n), T, dt=0.01, inputs=inputs(pop.P))


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def _check_same(pop, executor, chunks=None):
    ref = reference(pop)
    tr = rd.simulate(pop, np.zeros(pop.n), T, dt=0.01, inputs=inputs(pop.P), executor=executor)
    np.testing.assert_array_equal(tr.y, ref.y)
    np.testing.assert_array_equal(tr.outputs, ref.outputs)
    np.testing.assert_array_equal(tr.status, ref.status)


def test_thread_pool_equals_in_process():
    with ThreadPoolExecutor(3) as ex:
        _check_same(population(), ex)


def test_process_pool_equals_in_process():
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        _check_same(population(), ex)


@pytest.mark.filterwarnings("ignore::rnndyn.analysis.ConvergenceWarning")  # short runs
def test_dask_local_cluster_simulate_and_lyapunov(dask_client):
    assert n_workers(dask_client) == 2
    _check_same(population(), dask_client)
    nets = rd.CTRNN.stack([rd.CTRNN.from_graph(rd.graphs.random_network(20, g=g, seed=3))
                           for g in (0.5, 2.0, 4.0)])
    kw = dict(t_total=20.0, dt=0.1, t_transient=5.0, seed=0)
    ref = lyapunov_spectrum(nets, np.full(20, 0.3), **kw)
    res = lyapunov_spectrum(nets, np.full(20, 0.3), executor=dask_client, **kw)
    np.testing.assert_array_equal(res.exponents, ref.exponents)
    np.testing.assert_array_equal(res.history, ref.history)
    two = [rd.analysis.largest_lyapunov(nets, np.full(20, 0.3), executor=ex, **kw)
           for ex in (None, dask_client)]
    np.testing.assert_array_equal(two[1].exponents, two[0].exponents)
    # the Jacobian's trace is -n (J_ii = 0), so the mean exponent of the flow is -1 (MODELS.md);
    # rk4's tangent map at dt = 0.1 deviates by O(dt^4)
    np.testing.assert_allclose(res.exponents.mean(axis=1), -1.0, atol=1e-4)


def test_map_population_and_divergence_in_one_chunk():
    pop = population(P=5)
    W = pop.W.copy()
    W[3] *= 1e6  # member 3 blows up under a huge step
    bad = rd.CTRNN.stack([rd.CTRNN(W=W[k], tau=pop.tau[k], bias=pop.bias[k], W_in=pop.W_in[k])
                          for k in range(5)])
    kw = dict(dt=0.5, method="euler", on_divergence="return", inputs=inputs(5))
    with ThreadPoolExecutor(2) as ex:
        tr = rd.simulate(bad, np.zeros(5), T, executor=ex, **kw)
    ref = rd.simulate(bad, np.zeros(5), T, **kw)
    np.testing.assert_array_equal(tr.status, ref.status)
    np.testing.assert_array_equal(tr.y, ref.y)
    assert tr.message == ref.message
    # chunks of unequal size cover the population once, in order
    with ThreadPoolExecutor(2) as ex:
        (idx,) = map_population(_member_ids, ex, population(P=7), (np.arange(7)[:, None],),
                                chunks=3)
    np.testing.assert_array_equal(idx[:, 0], np.arange(7))


def _member_ids(model, ids):
    assert model.P == len(ids)
    return (ids,)


def test_orbit_diagram_and_basins_split_identically(dask_client):
    from rnndyn.analysis import basins, orbit_diagram
    values = np.linspace(2.8, 4.0, 25)
    ref = orbit_diagram(rd.logistic_map(3.0), ("p", 0), values, [0.3], 500, 50)
    with ThreadPoolExecutor(3) as ex:
        d = orbit_diagram(rd.logistic_map(3.0), ("p", 0), values, [0.3], 500, 50, executor=ex)
    np.testing.assert_array_equal(d.points, ref.points)
    np.testing.assert_array_equal(d.param, ref.param)
    # the quadrant basins of two bistable neurons (tests/test_bifurcation.py), on dask
    net = rd.CTRNN(W=[[8.0, 0.0], [0.0, 8.0]], bias=[-4.0, -4.0])
    xs, ys = np.linspace(0.05, 7.95, 24), np.linspace(0.1, 7.9, 16)
    ref = basins(net, xs, ys, 40.0, 0.05)
    b = basins(net, xs, ys, 40.0, 0.05, executor=dask_client)
    np.testing.assert_array_equal(b.final, ref.final)
    np.testing.assert_array_equal(b.labels, ref.labels)
    assert len(b.attractors) == 4


def test_fixed_points_split_identically():
    from rnndyn.analysis import find_fixed_points
    net = rd.CTRNN(W=[[8.0, 0.0], [0.0, 8.0]], bias=[-4.0, -4.0])  # 9 fixed points
    pop = rd.CTRNN.stack([net, rd.CTRNN(W=[[8.0, 0.0], [0.0, 2.0]], bias=[-4.0, -1.0])])
    for model in (net, pop):
        ref = find_fixed_points(model, n_starts=40, bounds=(-2, 10), seed=0)
        with ThreadPoolExecutor(3) as ex:
            got = find_fixed_points(model, n_starts=40, bounds=(-2, 10), seed=0, executor=ex)
        np.testing.assert_array_equal(got.points, ref.points)
        np.testing.assert_array_equal(got.member, ref.member)
        np.testing.assert_array_equal(got.hits, ref.hits)
    assert len(ref.points[ref.member == 0]) == 9 and len(ref.points[ref.member == 1]) == 3


def test_bad_executor_is_named():
    with pytest.raises(ValidationError, match="executor"):
        rd.simulate(population(), np.zeros(5), T, dt=0.01, inputs=inputs(), executor="dask")
