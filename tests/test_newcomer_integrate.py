"""Regressions from a new user's and a fuzzer's reports on simulate/Stepper: step-count
overflow, unbounded rk45, silent Euler instability, sum-overflow in finiteness tests, and
Stepper thread launches on small populations."""
import subprocess
import sys
import textwrap
import warnings

import numba
import numpy as np
import pytest
from numba import njit

import rnndyn as rd
from rnndyn._config import JIT
from rnndyn.errors import RnndynError, ValidationError
simulate_module = sys.modules["rnndyn.integrate.simulate"]  # the package exports the function

NET = rd.CTRNN(W=[[0.5, -1.0], [1.0, 0.5]], tau=[1.0, 2.0], bias=[-0.2, 0.1])
Y0 = [0.1, 0.2]


# -- 1. step counts that overflow int64 or are absurd ------------------------------------------
@pytest.mark.parametrize("method", ["euler", "rk4"])
@pytest.mark.parametrize("dt", [1e-300, 1e-19, 1e-13])
def test_tiny_dt_is_rejected_with_the_step_count(method, dt):
    # was: ceil(span/dt).astype(int64) overflowed and the kernel returned uninitialised
    # memory with status 0 "success"
    with pytest.raises(ValidationError, match=r"steps") as err:
        rd.simulate(NET, Y0, [0.0, 1.0, 2.0], dt=dt, method=method)
    assert err.value.attr == "simulate.dt" and f"{dt!r}" in str(err.value) and "larger dt" in str(err.value)


def test_unwritten_rows_are_never_returned_as_success(monkeypatch):
    # second line of defence: if a step grid ever skipped rows, they must not come back as
    # a successful result (they used to be np.empty garbage)
    def broken_grid(t, dt):
        return np.zeros(len(t), np.int64), np.full(len(t) - 1, dt)
    monkeypatch.setattr(simulate_module, "step_grid", broken_grid)
    with pytest.raises(RnndynError):
        rd.simulate(NET, Y0, [0.0, 1.0, 2.0], dt=0.1, method="euler")


# -- 2. rk45 budget and argument checks ----------------------------------------------------------
def test_rk45_with_absurd_tolerances_returns_quickly():
    # was: never returned (and ignored Ctrl-C: the kernel runs without the GIL). Run in a
    # subprocess so that the old behaviour fails by timeout instead of hanging the suite.
    code = textwrap.dedent("""
        import time, warnings, numpy as np, rnndyn as rd
        net = rd.CTRNN(W=[[0.5, -1.0], [1.0, 0.5]], tau=[1.0, 2.0], bias=[-0.2, 0.1])
        rd.simulate(net, [0.1, 0.2], [0.0, 1.0], method="rk45")  # compile outside the clock
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            tr = rd.simulate(net, [0.1, 0.2], [0.0, 1.0, 2.0], method="rk45", rtol=1e-30,
                             atol=1e-30, on_divergence="return")
        print(time.perf_counter() - t0, tr.status, any("rtol" in str(x.message) for x in w))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    seconds, status, warned = out.stdout.split()
    assert float(seconds) < 1.0 and warned == "True" and status in ("0", "3")


def test_rk45_rtol_is_floored_like_scipy():
    with pytest.warns(UserWarning, match=r"rtol=1e-30 .*100 \* eps"):
        tr = rd.simulate(NET, Y0, [0.0, 1.0], method="rk45", rtol=1e-30, atol=1e-12)
    ref = rd.simulate(NET, Y0, [0.0, 1.0], method="rk45", rtol=100 * np.finfo(float).eps,
                      atol=1e-12)
    np.testing.assert_array_equal(tr.y, ref.y)


def test_rk45_max_steps_stops_with_a_clear_status():
    t = np.linspace(0, 50, 11)
    tr = rd.simulate(NET, Y0, t, method="rk45", max_steps=10, on_divergence="return")
    assert tr.status == 3 and not tr.success and "max_steps" in tr.message
    assert 1 <= len(tr.t) < len(t) and np.all(np.isfinite(tr.y))
    with pytest.raises(rd.ConvergenceError, match="max_steps"):
        rd.simulate(NET, Y0, t, method="rk45", max_steps=10)
    pop = rd.CTRNN.stack([NET, NET])
    tr = rd.simulate(pop, Y0, t, method="rk45", max_steps=10, on_divergence="return")
    assert list(tr.status) == [3, 3]
    assert rd.simulate(NET, Y0, t, method="rk45").success  # the default budget suffices
    for bad in (0, -1, 2.5, "10"):
        with pytest.raises(ValidationError) as err:
            rd.simulate(NET, Y0, t, method="rk45", max_steps=bad)
        assert err.value.attr == "simulate.max_steps"


@pytest.mark.parametrize("population", [False, True])
def test_single_output_time_returns_y0(population):
    # rk45 used to raise ZeroDivisionError (its initial-step heuristic divided by t_end - t)
    model = rd.CTRNN.stack([NET, NET]) if population else NET
    for method, dt in (("euler", 0.1), ("rk4", 0.1), ("rk45", 0.1), ("rk45", None)):
        tr = rd.simulate(model, Y0, [3.0], dt=dt, method=method)
        assert tr.success and tr.t.tolist() == [3.0]
        np.testing.assert_array_equal(tr.y, np.broadcast_to(Y0, tr.y.shape))


@pytest.mark.parametrize("method", ["euler", "rk4", "rk45"])
@pytest.mark.parametrize("dt", [np.nan, np.inf, -0.1, 0.0, "0.1", True, [0.1]])
def test_bad_dt_is_a_validation_error(method, dt):
    with pytest.raises(ValidationError) as err:
        rd.simulate(NET, Y0, [0.0, 1.0], dt=dt, method=method)
    assert err.value.attr == "simulate.dt" and repr(dt) in str(err.value)


@pytest.mark.parametrize("name", ["rtol", "atol", "max_step"])
def test_string_tolerances_are_validation_errors(name):
    with pytest.raises(ValidationError) as err:
        rd.simulate(NET, Y0, [0.0, 1.0], method="rk45", **{name: "1e-6"})
    assert err.value.attr == f"simulate.{name}"


def test_tau_whose_reciprocal_overflows_is_a_validation_error():
    with pytest.raises(ValidationError, match=r"1e-320 at node 1") as err:
        rd.CTRNN(W=np.eye(2) * 0.5, tau=[1.0, 1e-320])
    assert err.value.attr == "CTRNN.tau"
    net = rd.CTRNN(W=np.eye(2) * 0.5, tau=[1.0, 1.0])
    with pytest.raises(ValidationError, match="tau"):  # the same bound through the genome
        net.from_vector(np.array([1.0, 1e-320]), "tau")


def test_tiny_tau_with_rk45_is_a_clear_failure_not_a_traceback():
    # 1/tau = 1e300 is finite: rk45's initial-step heuristic got h0 = 0 and divided by it
    net = rd.CTRNN(W=np.eye(2) * 0.5, tau=[1.0, 1e-300])
    with pytest.raises(rd.DivergenceError, match="step size"):
        rd.simulate(net, Y0, [0.0, 1.0], method="rk45")


# -- 3. Euler/RK4 beyond the stability limit of the leak -------------------------------------------
FAST = rd.CTRNN(W=[[0.5, -1.0], [1.0, 0.5]], tau=[1.0, 0.01])


@pytest.mark.parametrize("method,dt,unstable", [
    ("euler", 0.019, False), ("euler", 0.05, True),
    ("rk4", 0.027, False), ("rk4", 0.03, True)])
def test_simulate_warns_once_beyond_the_stability_limit(method, dt, unstable):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        rd.simulate(FAST, Y0, dt * np.arange(21), dt=dt, method=method,
                    on_divergence="return")
    hits = [w for w in rec if "tau_min" in str(w.message)]
    assert len(hits) == int(unstable)
    if unstable:
        msg = str(hits[0].message)
        assert issubclass(hits[0].category, rd.errors.StabilityWarning)
        assert issubclass(hits[0].category, RuntimeWarning)
        assert f"dt={dt:g}" in msg and "tau_min=0.01" in msg and "smaller dt" in msg
        assert hits[0].filename == __file__  # points at the caller


def test_simulate_warns_on_the_step_actually_used():
    # output samples every 0.01 split the step: dt=0.05 is never used, so no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rd.simulate(FAST, Y0, np.linspace(0, 1, 101), dt=0.05, method="euler")


def test_stepper_warns_once_beyond_the_stability_limit():
    pop = rd.CTRNN.stack([NET, FAST])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        ctl = rd.Stepper(pop, dt=0.05, method="euler")
        for _ in range(5):
            ctl.step()
        ctl.step(dt=0.1)  # a larger tick: warned once more
        ctl.step(dt=0.1)
        rd.Stepper(pop, dt=0.05, method="euler", substeps=5).step()  # h = 0.01: stable
        rd.Stepper(pop, dt=0.05, method="rk4", substeps=2).step()  # h/tau = 2.5 < 2.78
    hits = [str(w.message) for w in rec if issubclass(w.category, rd.errors.StabilityWarning)]
    assert len(hits) == 2 and "dt=0.05" in hits[0] and "substeps" in hits[0]
    assert "dt=0.1" in hits[1]


# -- 4. finite states near the float maximum are not divergence ----------------------------------
BIG = 1e308  # finite; the sum of two such entries overflows
SLOW = rd.CTRNN(W=np.zeros((2, 2)), tau=100.0)  # decays; rk4/rk45 stages stay finite


@pytest.mark.parametrize("method", ["euler", "rk4", "rk45"])
def test_huge_finite_state_is_not_divergence(method):
    t = np.linspace(0, 1, 3)
    tr = rd.simulate(SLOW, [BIG, BIG], t, dt=0.01, method=method)
    assert tr.success and np.all(np.isfinite(tr.y))
    np.testing.assert_allclose(tr.y[:, 0], BIG * np.exp(-t / 100), rtol=1e-6)
    ctl = rd.Stepper(SLOW, dt=0.01, method="euler" if method == "euler" else "rk4",
                     y0=[BIG, BIG])
    assert np.all(np.isfinite(ctl.step())) and np.all(np.isfinite(ctl.state))


@pytest.mark.parametrize("method", ["euler", "rk4", "rk45"])
def test_overflow_inside_a_step_is_never_a_success_with_nans(method):
    # with tau = 1 the rk4 stage sums and rk45's dense output overflow; rk45 used to return
    # NaN rows with status 0 "success"
    net = rd.CTRNN(W=np.zeros((2, 2)), tau=1.0)
    tr = rd.simulate(net, [1.5e308, 1.5e308], np.linspace(0, 0.1, 3), dt=0.01, method=method,
                     on_divergence="return")
    assert np.all(np.isfinite(tr.y)) and (tr.success or tr.status == 1)


def test_huge_finite_state_is_not_divergence_in_basins():
    bm = rd.analysis.basins(SLOW, [BIG], [BIG, 0.5], t_total=0.1, dt=0.01)
    assert np.all(bm.labels >= 0) and np.all(np.isfinite(bm.final))


@njit(**JIT)
def _identity_step(h, x, p, h_new, work):
    for i in range(h.shape[0]):
        h_new[i] = h[i]


def test_huge_finite_state_is_not_divergence_for_maps():
    ident = rd.Map(_identity_step, None, p=np.zeros(1), dim=2)
    res = rd.integrate.run(ident, np.zeros((3, 2, 0)), h0=[BIG, BIG])
    assert np.all(res.status == 0) and np.all(res.states == BIG)
    ctl = rd.integrate.DiscreteStepper(ident, batch=2, h0=[BIG, BIG])
    np.testing.assert_array_equal(ctl.step(), BIG)
    tr = rd.simulate(ident, [BIG, BIG], np.arange(3))
    assert tr.success


# -- 5. Stepper threads -------------------------------------------------------------------------
def _population(P, n, seed=0):
    rng = np.random.default_rng(seed)
    return rd.CTRNN.stack([rd.CTRNN(W=rng.normal(0, 1, (n, n)), W_in=rng.normal(0, 1, (n, 2)),
                                    tau=rng.uniform(0.5, 2, n)) for _ in range(P)])


@pytest.mark.parametrize("P", [8, 70])  # serial kernel / parallel kernel on one thread
@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_stepper_threads_give_identical_results(method, P):
    pop = _population(P, 5)
    U = np.random.default_rng(1).normal(0, 1, (30, P, 2))
    runs = []
    before = numba.get_num_threads()
    for threads in (None, 1, 2, numba.config.NUMBA_NUM_THREADS):
        ctl = rd.Stepper(pop, dt=0.05, method=method, substeps=2, threads=threads)
        runs.append(np.array([ctl.step(u) for u in U]))
        assert numba.get_num_threads() == before  # restored after every call
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])
    numba.set_num_threads(1)  # a caller's own setting survives a call on more threads
    try:
        rd.Stepper(pop, dt=0.05, threads=2).step(U[0])
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)


def test_stepper_runs_small_ticks_on_one_thread():
    # (kernel, numba thread count per call): no thread launch unless the work is large
    def mode(ctl):
        return getattr(ctl._advance, "py_func", ctl._advance).__name__, ctl._nthreads
    small = rd.Stepper(_population(8, 8), dt=0.05)
    assert small.threads is None and mode(small) == ("advance_population_serial", None)
    # a population of small CTRNNs is stepped by the lane kernels, on the calling thread
    assert mode(rd.Stepper(_population(500, 8), dt=0.05)) == ("advance_lanes_serial", None)
    assert mode(rd.Stepper(NET, dt=0.05)) == ("advance_population_serial", None)
    assert mode(rd.Stepper(_population(128, 128), dt=0.05)) == ("advance_population", None)
    assert mode(rd.Stepper(_population(128, 128), dt=0.05, threads=1)) == (
        "advance_population", 1)
    assert mode(rd.Stepper(_population(8, 8), dt=0.05, threads=2)) == ("advance_population", 2)


@pytest.mark.parametrize("threads", [0, -1, 1.5, "2", numba.config.NUMBA_NUM_THREADS + 1])
def test_stepper_bad_threads(threads):
    with pytest.raises(ValidationError) as err:
        rd.Stepper(NET, dt=0.05, threads=threads)
    assert err.value.attr == "Stepper.threads" and repr(threads) in str(err.value)
