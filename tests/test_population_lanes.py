"""The lane kernels (rnndyn/integrate/_lanes_kernels.py: a CTRNN population's individuals on
the SIMD lanes) against the per-individual kernels they replace in ``simulate`` and
``Stepper`` (issue 13, item 3): equal to rounding (1e-12) for random populations, with
inputs, with masks, with divergent members, in chunks over an executor."""
import importlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rnndyn.errors import DivergenceError, StabilityWarning
from rnndyn.integrate import _lanes_kernels as lanes
from rnndyn.integrate.stepper import Stepper
from rnndyn.models.ctrnn import CTRNN
from rnndyn.robotics.visual_agent import beer2003_genome

sim = importlib.import_module("rnndyn.integrate.simulate")
TOL = 1e-12
#: a population of two blocks, the second with idle lanes
P2 = lanes.LANES + 5


@pytest.fixture
def per_individual(monkeypatch):
    """Switch the lane kernels off: simulate/Stepper run the per-individual kernels."""
    def off():
        monkeypatch.setattr(sim, "LANES_FROM_P", 1 << 62)
    return off


def population(P, n, n_in=0, activation="sigmoid", seed=0):
    rng = np.random.default_rng(seed)
    return CTRNN(W=rng.normal(0, 3 / np.sqrt(n), (P, n, n)), tau=rng.uniform(0.5, 2, (P, n)),
                 bias=rng.normal(0, 1, (P, n)), gain=rng.uniform(0.5, 2, (P, n)),
                 W_in=rng.normal(0, 1, (P, n, n_in)) if n_in else None, activation=activation)


def both(fn, per_individual):
    """fn() on the lane kernels, then on the per-individual ones."""
    a = fn()
    per_individual()
    return a, fn()


def test_lanes_params_layout():
    A = np.random.default_rng(1).normal(size=(P2, 4, 9))
    L = lanes.lanes_params(A)
    assert L.shape == (2, 4, 9, lanes.LANES) and L.flags.c_contiguous
    assert L.ctypes.data % 64 == 0  # cache-line aligned (see aligned_zeros)
    for k in range(P2):
        np.testing.assert_array_equal(L[k // lanes.LANES, :, :, k % lanes.LANES], A[k])
    idle = L[1, :, :, P2 - lanes.LANES:]  # padding lanes: no weights, 1/tau = 1, gain 0
    assert not idle[:, :6].any() and (idle[:, 6] == 1).all() and not idle[:, 7:].any()


def test_dispatch():
    assert sim.lanes_activation(population(40, 5)) == lanes.SIGMOID
    assert sim.lanes_activation(population(40, 5, activation="tanh")) == lanes.TANH
    assert sim.lanes_activation(population(4, 5)) is None  # too few to fill the lanes
    assert sim.lanes_activation(population(40, 5)[0]) is None  # a single network
    assert sim.lanes_activation(population(20, sim.LANES_MAX_N + 1)) is None


@pytest.mark.parametrize("activation,method,hold", [
    ("sigmoid", "euler", "linear"), ("tanh", "euler", "previous"),
    ("sigmoid", "rk4", "previous"), ("tanh", "rk4", "linear")])
def test_simulate_equals_per_individual_kernel(per_individual, activation, method, hold):
    P, n, m = P2, 6, 3  # P not a whole number of blocks: idle lanes in the last one
    pop = population(P, n, m, activation)
    rng = np.random.default_rng(2)
    t = np.linspace(0.0, 4.0, 41)
    y0, u = rng.normal(0, 1, (P, n)), rng.normal(0, 1, (len(t), P, m))
    a, b = both(lambda: sim.simulate(pop, y0, t, 0.013, method, inputs=u, hold=hold),
                per_individual)
    assert a.success and b.success
    np.testing.assert_allclose(a.y, b.y, rtol=0, atol=TOL)
    np.testing.assert_allclose(a.outputs, b.outputs, rtol=0, atol=TOL)


def test_simulate_shared_inputs_and_autonomous(per_individual):
    pop, auto = population(40, 5, 2, seed=3), population(40, 5, seed=4)
    t = np.linspace(0.0, 3.0, 13)
    u = np.sin(t)[:, None] * np.array([1.0, -0.5])

    def run():
        return (sim.simulate(pop, np.ones(5), t, 0.02, "euler", inputs=u).y,
                sim.simulate(auto, None, t, 0.02, "rk4").y)
    (a1, a2), (b1, b2) = both(run, per_individual)
    np.testing.assert_allclose(a1, b1, rtol=0, atol=TOL)
    np.testing.assert_allclose(a2, b2, rtol=0, atol=TOL)


def test_simulate_masked_population(per_individual):
    """Beer's visual-agent controllers: masked W and W_in (the masks live in the weights)."""
    genome = beer2003_genome(symmetric=False)
    pop = genome.decode(np.random.default_rng(5).uniform(-1, 1, (33, genome.dim)))
    assert pop.mask is not None and not pop.W[:, ~pop.mask].any()
    t = np.linspace(0.0, 2.0, 21)
    u = np.random.default_rng(6).uniform(0, 10, (len(t), 33, pop.n_in))
    a, b = both(lambda: sim.simulate(pop, None, t, 0.1, "euler", inputs=u).outputs,
                per_individual)
    np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


def test_divergent_members_report_as_before(per_individual):
    """Members whose Euler step is unstable (tau << dt) overflow; each reports the same
    step, unit and last good sample, and the others are unaffected."""
    pop = population(40, 4, seed=7)
    tau = np.array(pop.tau)
    tau[[3, 17, 39], 2] = 1e-3  # dt / tau = 10: |1 - 10|^k overflows after ~320 steps
    tau[17, 1] = 2e-3
    pop = CTRNN(W=pop.W, tau=tau, bias=pop.bias, gain=pop.gain)
    t = np.linspace(0.0, 20.0, 201)

    def run():
        with pytest.warns(StabilityWarning):
            tr = sim.simulate(pop, None, t, 0.01, "euler", on_divergence="return")
        with pytest.warns(StabilityWarning), pytest.raises(DivergenceError) as err:
            sim.simulate(pop, None, t, 0.01, "euler")
        return tr, str(err.value)
    (a, ea), (b, eb) = both(run, per_individual)
    assert ea == eb and a.message == b.message
    np.testing.assert_array_equal(a.status, b.status)
    assert list(np.flatnonzero(a.status)) == [3, 17, 39]
    np.testing.assert_array_equal(np.isnan(a.y), np.isnan(b.y))
    np.testing.assert_allclose(a.y, b.y, rtol=TOL, atol=TOL)  # relative: up to 1e300


def test_simulate_in_chunks_equals_in_process():
    """Chunks smaller than LANES_FROM_P still run the lane kernels: bit-identical results."""
    pop = population(50, 5, 2, seed=8)
    t = np.linspace(0.0, 1.0, 11)
    u = np.random.default_rng(9).normal(size=(len(t), 50, 2))
    ref = sim.simulate(pop, None, t, 0.05, "euler", inputs=u)
    with ThreadPoolExecutor(4) as ex:  # chunks of 12-13 members
        got = sim.simulate(pop, None, t, 0.05, "euler", inputs=u, executor=ex)
    np.testing.assert_array_equal(got.y, ref.y)


@pytest.mark.parametrize("activation,method,substeps,threads", [
    ("sigmoid", "euler", 1, None), ("tanh", "rk4", 2, 1), ("sigmoid", "rk4", 3, 2)])
def test_stepper_equals_per_individual_kernel(per_individual, activation, method, substeps,
                                              threads):
    P, n, m = P2 + 8, 7, 3
    pop = population(P, n, m, activation, seed=10)
    rng = np.random.default_rng(11)
    y0, U = rng.normal(0, 1, (P, n)), rng.normal(0, 1, (20, P, m))

    def run():
        st = Stepper(pop, dt=0.05, method=method, substeps=substeps, y0=y0, threads=threads)
        outs = [st.reset(y0)] + [st.step(u) for u in U[:10]] + [st.step(U[10, 0])]
        outs += [st.step(u, dt=0.03) for u in U[11:]]
        return np.array(outs), st.state, st.t
    (ao, ay, at), (bo, by, bt) = both(run, per_individual)
    assert at == bt
    np.testing.assert_allclose(ao, bo, rtol=0, atol=TOL)
    np.testing.assert_allclose(ay, by, rtol=0, atol=TOL)


def test_stepper_divergence_names_the_member():
    pop = population(20, 3, seed=12)
    tau = np.array(pop.tau)
    tau[13] = 1e-3
    pop = CTRNN(W=pop.W, tau=tau, bias=pop.bias, gain=pop.gain)
    with pytest.warns(StabilityWarning):
        st = Stepper(pop, dt=0.01, y0=np.ones(3))
    with pytest.raises(DivergenceError, match="individual 13"):
        for _ in range(400):
            st.step()


def test_float32_lanes_track_float64():
    """The kernels are generic over the dtype: float32 stays within float32 rounding."""
    pop = population(40, 10, seed=13)
    t = np.array([0.0, 2.0])
    C, H = sim.step_grid(t, 0.01)
    y0 = np.random.default_rng(14).normal(size=(40, 10))
    out = {}
    for dt in (np.float64, np.float32):
        L = lanes.lanes_params(pop.kernel_params[0], dt)
        UL = lanes.lanes_inputs(np.zeros((40, 1, 0)), L.shape[0], dt)
        Y, info = np.full((40, 2, 10), np.nan, dt), np.zeros((40, 4))
        lanes.fixed_step_lanes(L, lanes.SIGMOID, y0.astype(dt), t, C, H, H.astype(dt),
                               lanes.EULER, t[:1], UL, False, Y, info)
        assert not info[:, 0].any() and (info[:, 3] == 1).all()
        out[dt] = Y[:, 1]
    np.testing.assert_allclose(out[np.float64], sim.simulate(pop, y0, t, 0.01, "euler").y[1],
                               rtol=0, atol=TOL)
    np.testing.assert_allclose(out[np.float32], out[np.float64], rtol=0, atol=2e-5)
