"""Populations of Elman, fully recurrent, IndRNN, Jordan, LSTM and GRU cells on the SIMD lanes
(``integrate/_map_lanes_kernels.py``): ``run`` and ``DiscreteStepper`` against the per-member
runner of the map template (``method="loop"``), which steps each member through the cell's
own step kernel; and the lanes' dot product (``_lanes_kernels.lane_dot``, the CTRNN lanes'
too) against numpy."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from rnndyn.errors import DivergenceError
from rnndyn.integrate import _map_lanes_kernels as ml
from rnndyn.integrate._lanes_kernels import aligned_zeros, lane_dot
from rnndyn.integrate.run import DiscreteStepper, lanes_params_as, on_lanes, run
from rnndyn.models.discrete import Elman, FullyRecurrent, IndRNN, Jordan, SecondOrderRNN
from rnndyn.models.gated import GRU, LSTM

ACTS = ["tanh", "relu", "sigmoid", "identity", "hard_tanh", "hard_sigmoid"]
TOL = {np.float64: 1e-13, np.float32: 2e-6}


def _population(P, act="tanh", n_out=None, m=3, H=5, out_act="sigmoid"):
    return Elman.stack([Elman.random(m, H, n_out, seed=s, activation=act,
                                     output_activation=out_act if n_out else "identity")
                        for s in range(P)])


def _lanes_equal_loops(pop, x, h0, dtype):
    """run on the lanes equals each member's loop (states, outputs, final, status), and
    without states gives the same outputs and final state; returns the loops' result."""
    fast = run(pop, x, h0, dtype=dtype)
    ref = run(pop, x, h0, dtype=dtype, method="loop")
    _close(fast, ref, dtype)
    last = run(pop, x, h0, dtype=dtype, states=False)
    assert last.states is None
    np.testing.assert_array_equal(last.outputs, fast.outputs)
    np.testing.assert_array_equal(last.final, fast.final)
    return ref


def _stepper_follows(pop, x, h0, ref, dtype, relative=True):
    """DiscreteStepper from h0 over x gives ``ref``'s outputs and final state (to TOL,
    relative too unless ``relative`` is False)."""
    stepper = DiscreteStepper(pop, h0=h0, dtype=dtype)
    outs = np.array([stepper.step(x_t if x.shape[-1] else None) for x_t in x])
    rtol = TOL[dtype] if relative else 0
    np.testing.assert_allclose(outs, ref.outputs, rtol=rtol, atol=TOL[dtype])
    np.testing.assert_allclose(stepper.state, ref.final, rtol=rtol, atol=TOL[dtype])
    return stepper, outs


def _close(fast, ref, dtype):
    for a, b in ((fast.states, ref.states), (fast.outputs, ref.outputs),
                 (fast.final, ref.final)):
        np.testing.assert_allclose(a, b, rtol=TOL[dtype], atol=TOL[dtype])  # relu: unbounded
    np.testing.assert_array_equal(fast.status, ref.status)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("n_out, m", [(None, 3), (2, 3), (None, 0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lanes_equal_the_per_member_runner(act, n_out, m, dtype):
    # P = 70: one full block of 64 lanes and one of 6 (58 idle lanes); every activation of
    # the units, a sigmoid readout, no inputs; h0 given
    pop = _population(70, act, n_out, m, out_act="tanh" if act == "sigmoid" else "sigmoid")
    rng = np.random.default_rng(1)
    _lanes_equal_loops(pop, rng.normal(size=(60, 70, m)), 0.5 * rng.normal(size=(70, pop.n)),
                       dtype)


@pytest.mark.parametrize("P", [33, 64, 200])
def test_block_boundaries_and_threads(P):
    # one block with 31 idle lanes, exactly one block, and four blocks long enough to run on
    # threads; the lane layout puts member b at block b // 64, lane b % 64
    pop = _population(P, "tanh", 1)
    assert on_lanes(pop, np.float64)
    LW, LY = lanes_params_as(pop, np.float64)[1:3]
    assert LW.shape == (-(-P // 64), 5, 1 + 5 + 3, 64) and LY.shape[1:] == (1, 6, 64)
    b = P - 1
    np.testing.assert_array_equal(LW[b // 64, :, 1:6, b % 64], pop.W_hh[b])
    x = np.random.default_rng(2).normal(size=(300, P, 3))
    for dtype in (np.float64, np.float32):
        _close(run(pop, x, dtype=dtype), run(pop, x, dtype=dtype, method="loop"), dtype)


def test_one_sequence_is_fed_to_every_member():
    pop = _population(40)
    x = np.random.default_rng(3).normal(size=(20, 3))
    fast = run(pop, x)
    assert fast.outputs.shape == (20, 40, 5)
    np.testing.assert_allclose(fast.outputs, run(pop, x, method="loop").outputs, atol=1e-13)


@pytest.mark.parametrize("outputs", [None, (1, 3)])
def test_fully_recurrent_populations(outputs):
    # the masked weights as W_hh, the input mask, the outputs as a 0/1 readout
    rng = np.random.default_rng(4)
    mask, in_mask = rng.random((6, 6)) < 0.5, rng.random((6, 3)) < 0.7
    nets = [FullyRecurrent(W=rng.normal(0, 0.6, (6, 6)) * mask, mask=mask,
                           W_in=rng.normal(size=(6, 3)) * in_mask, input_mask=in_mask,
                           bias=rng.normal(size=6), activation="relu", outputs=outputs)
            for _ in range(40)]
    pop = FullyRecurrent.stack(nets)
    assert on_lanes(pop, np.float64)
    x = rng.normal(size=(50, 40, 3))
    _close(run(pop, x), run(pop, x, method="loop"), np.float64)
    # float32: these relu nets expand rounding differences (the lanes sum in another order,
    # with FMAs) along the 50 steps, to 8e-6 relative by step 38; one step from the same
    # states agrees to float32 rounding
    fast, ref = (run(pop, x.astype(np.float32), method=m) for m in ("auto", "loop"))
    np.testing.assert_allclose(fast.states, ref.states, rtol=5e-5, atol=5e-5)
    h = ref.states[20]
    one = [run(pop, x[21:22].astype(np.float32), h, method=m).states for m in ("auto", "loop")]
    np.testing.assert_allclose(one[0], one[1], rtol=TOL[np.float32], atol=TOL[np.float32])


def test_divergence_is_reported_per_member_at_the_template_step():
    # members 3 and 66 (second block) get a strong linear positive loop and overflow, at
    # different steps; the others stay finite and are not disturbed
    cells = [Elman.random(2, 4, seed=s, activation="identity") for s in range(70)]
    cells = [dataclasses.replace(c, W_hh=0.3 * np.eye(4)) for c in cells]
    cells[3] = dataclasses.replace(cells[3], W_hh=9 * np.eye(4))
    cells[66] = dataclasses.replace(cells[66], W_hh=30 * np.eye(4))
    pop = Elman.stack(cells)
    x = np.random.default_rng(5).normal(size=(400, 70, 2))
    for dtype in (np.float64, np.float32):
        fast, ref = (run(pop, x, dtype=dtype, method=m, on_divergence="return")
                     for m in ("auto", "loop"))
        assert np.flatnonzero(fast.status).tolist() == [3, 66]
        np.testing.assert_array_equal(fast.status, ref.status)
        for r in (fast, ref):  # NaN from the failing step on, as the template
            assert np.isnan(r.states[:, [3, 66]]).any()
        np.testing.assert_array_equal(np.isnan(fast.states), np.isnan(ref.states))
        np.testing.assert_allclose(fast.outputs[:, 4:66], ref.outputs[:, 4:66], atol=TOL[dtype])
        step = np.flatnonzero(np.isnan(ref.states[:, 3]).any(axis=1))[0] + 1
        with pytest.raises(DivergenceError, match=f"step {step} "):
            run(pop, x, dtype=dtype)


@pytest.mark.parametrize("P, n_out, m", [(70, 2, 3), (40, None, 0), (130, None, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stepper_equals_the_run(P, n_out, m, dtype):
    pop = _population(P, "sigmoid", n_out, m)
    rng = np.random.default_rng(6)
    x, h0 = rng.normal(size=(25, P, m)), rng.normal(size=(P, pop.n))
    ref = run(pop, x, h0, dtype=dtype, method="loop")
    stepper, outs = _stepper_follows(pop, x, h0, ref, dtype, relative=False)
    stepper.reset(h0)  # a reset starts the same sequence again
    np.testing.assert_array_equal(stepper.step(x[0] if m else None), outs[0])


def test_parallel_step_equals_the_serial_one():
    # DiscreteStepper takes the threaded step from ~2e6 multiply-adds a step (SERIAL_WORK);
    # both kernels directly on three blocks
    pop = _population(130, "tanh", 2)
    lp = lanes_params_as(pop, np.float64)
    rng = np.random.default_rng(9)
    H, X = rng.normal(size=(130, pop.n)), rng.normal(size=(130, 3))
    res = []
    for kernel in (ml.advance_lanes, ml.advance_lanes_serial):
        Hn, out, status = np.empty_like(H), np.empty((130, 2)), np.ones(130, dtype=np.int64)
        S = aligned_zeros((3, ml.scratch_rows(ml.ELMAN, 5, 3, 2), 64))
        kernel(*lp, H, X, Hn, out, status, S)
        res.append((Hn, out, status))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)
    ref = run(pop, X[None], H, method="loop")
    np.testing.assert_allclose(res[0][1], ref.outputs[0], rtol=0, atol=1e-13)
    assert not res[0][2].any()


def test_stepper_raises_on_the_diverging_member():
    cells = [Elman.random(1, 3, seed=s, activation="identity") for s in range(66)]
    assert on_lanes(Elman.stack(cells), np.float64)
    cells[65] = dataclasses.replace(cells[65], W_hh=1e200 * np.eye(3))
    stepper = DiscreteStepper(Elman.stack(cells))
    for _ in range(2):  # h_1 ~ 1, h_2 ~ 1e200, h_3 overflows
        stepper.step(np.ones(1))
    with pytest.raises(DivergenceError, match="step 3 .member 65"):
        stepper.step(np.ones(1))


def test_what_runs_on_the_lanes():
    # populations of Elman / fully recurrent / IndRNN / LSTM / GRU cells from 32 members,
    # while a block's weights take at most 2 MB (float64 H = 60: 2.0 MB; H = 100: 5.2 MB);
    # not second-order nets, not a single cell
    assert on_lanes(_population(32), np.float64) and not on_lanes(_population(31), np.float64)
    assert on_lanes(_population(32, H=60, m=1), np.float64)
    assert not on_lanes(_population(32, H=100, m=1), np.float64)
    assert on_lanes(_population(32, H=80, m=1), np.float32)
    assert not on_lanes(Elman.random(3, 5, seed=0), np.float64)
    pop = SecondOrderRNN.stack([SecondOrderRNN.random(2, 4, seed=s) for s in range(40)])
    assert not on_lanes(pop, np.float64)
    x = np.random.default_rng(7).normal(size=(10, 40, 2))
    np.testing.assert_array_equal(run(pop, x).outputs, run(pop, x, method="loop").outputs)


@pytest.mark.parametrize("act", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_jordan_populations(act, dtype):
    # the context is the previous output y: [h; y] the state, y the output
    pop = Jordan.stack([Jordan.random(3, 5, 2, seed=s, activation=act) for s in range(40)])
    assert on_lanes(pop, dtype) and pop.n == 7 and pop.n_out == 2
    rng = np.random.default_rng(11)
    x, h0 = rng.normal(size=(50, 40, 3)), 0.5 * rng.normal(size=(40, 7))
    ref = _lanes_equal_loops(pop, x, h0, dtype)
    _stepper_follows(pop, x, h0, ref, dtype)


@pytest.mark.parametrize("act", ["relu", "tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_indrnn_populations_run_as_diagonal_elman_cells(act, dtype):
    pop = IndRNN.stack([IndRNN.random(3, 6, seed=s, activation=act) for s in range(40)])
    assert on_lanes(pop, dtype)
    rng = np.random.default_rng(10)
    x, h0 = rng.normal(size=(50, 40, 3)), 0.5 * rng.normal(size=(40, 6))
    ref = _lanes_equal_loops(pop, x, h0, dtype)
    _stepper_follows(pop, x, h0, ref, dtype)


@njit
def _rows(W, Z, out, k0, K, init):
    for i in range(W.shape[0]):
        lane_dot(W, Z, out, i, 1 + i, k0, K, init)


def test_the_lane_dot_product_against_numpy():
    # the intrinsic alone, both dtypes: columns k0 .. k0 + K of W's rows against Z's first K
    # rows, into rows 1.. of out, from zero or added to what is there
    rng = np.random.default_rng(8)
    for dtype in (np.float64, np.float32):
        W = aligned_zeros((3, 7, 64), dtype)
        Z = aligned_zeros((9, 64), dtype)
        out = aligned_zeros((4, 64), dtype)
        W[:], Z[:] = rng.normal(size=W.shape), rng.normal(size=Z.shape)
        _rows(W, Z, out, 0, 7, False)
        ref = np.einsum("ikl,kl->il", W.astype(float), Z[:7].astype(float))
        np.testing.assert_allclose(out[1:], ref, rtol=TOL[dtype], atol=TOL[dtype] * 10)
        assert not out[0].any()
        _rows(W, Z, out, 2, 4, True)
        ref += np.einsum("ikl,kl->il", W[:, 2:6].astype(float), Z[:4].astype(float))
        np.testing.assert_allclose(out[1:], ref, rtol=TOL[dtype], atol=TOL[dtype] * 10)


def test_readme_example_evolves_elman_controllers():
    # README, "Discrete-time controllers evolve the same way": 40 generations of 1000 Elman
    # nets, each generation one run on the lanes; a copy delayed by 2 steps is learned
    # (mean squared error 0.17 for the best random net, below 0.05 after the search)
    import rnndyn as rd

    net = rd.Elman.random(1, 6, 1, seed=0, output_activation="tanh")
    genome = rd.train.Genome(net, {"W_ih": 3.0, "W_hh": 3.0, "b_ih": 1.0, "W_y": 3.0,
                                   "b_y": 1.0})
    x = np.random.default_rng(0).choice([-1.0, 1.0], (60, 1))
    target = np.r_[0.0, 0.0, x[:-2, 0]]
    assert on_lanes(genome.decode(np.zeros((1000, genome.dim))), np.float64)

    def fitness(G):
        return -((rd.run(genome.decode(G), x).outputs[5:, :, 0] - target[5:, None]) ** 2
                 ).mean(axis=0)
    best = rd.train.GA(genome.dim, 1000, direction="maximize", seed=0).run(
        fitness, 40, progress=False)
    assert best.fitness > -0.05


def _lstm_population(P, m=3, H=6, seed=0, **kw):
    rng = np.random.default_rng(seed)
    cells = [LSTM.random(m, H, seed=s, **kw) for s in range(P)]
    return LSTM.stack([dataclasses.replace(c, peephole=0.3 * rng.normal(size=(3, H)))
                       for c in cells])


def _gru_population(P, m=3, H=6, seed=0, **kw):
    return GRU.stack([GRU.random(m, H, seed=seed + s, **kw) for s in range(P)])


@pytest.mark.parametrize("cell, acts", [
    ("lstm", {}), ("lstm", {"activation": "relu", "gate_activation": "hard_sigmoid"}),
    ("gru", {}), ("gru", {"reset_after": False}), ("gru", {"variant": 2}),
    ("gru", {"reset_after": False, "activation": "relu", "gate_activation": "hard_sigmoid"})])
@pytest.mark.parametrize("m", [3, 0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gated_lanes_equal_the_per_member_runner(cell, acts, m, dtype):
    # LSTM with peepholes, GRU with the reset gate after (PyTorch) or before (Cho et al.) the
    # recurrent product, Dey & Salem's GRU2; PyTorch's activations and others; no inputs;
    # h0 given (LSTM: [h; c]); the stepper on the same kernels
    pop = (_lstm_population if cell == "lstm" else _gru_population)(70, m, **acts)
    assert on_lanes(pop, dtype)
    rng = np.random.default_rng(1)
    x, h0 = rng.normal(size=(40, 70, m)), 0.5 * rng.normal(size=(70, pop.n))
    ref = _lanes_equal_loops(pop, x, h0, dtype)
    _stepper_follows(pop, x, h0, ref, dtype)


def test_lstm_divergence_at_the_template_step_and_unit():
    # identity gates, tanh cell: with a forget gate of 20 member 40's c grows 20-fold a step
    # until it overflows (h = o tanh(c) follows at once: the o gate's 0 * inf peephole term
    # is NaN, in both paths); reported at the template's step and unit
    cells = [LSTM.random(2, 3, seed=s, gate_activation="identity") for s in range(50)]
    cells = [dataclasses.replace(c, W_hh=0.1 * c.W_hh, W_ih=0.1 * c.W_ih, b_ih=0 * c.b_ih,
                                 b_hh=0 * c.b_hh) for c in cells]
    cells[40] = dataclasses.replace(cells[40], b_ih=np.r_[np.zeros(3), np.full(3, 20.0),
                                                          np.zeros(6)])
    pop = LSTM.stack(cells)
    x = np.random.default_rng(2).normal(size=(300, 50, 2))
    fast, ref = (run(pop, x, method=m, on_divergence="return") for m in ("auto", "loop"))
    assert np.flatnonzero(ref.status).tolist() == [40]
    np.testing.assert_array_equal(fast.status, ref.status)
    np.testing.assert_array_equal(np.isnan(fast.states), np.isnan(ref.states))
    errors = []
    for method in ("auto", "loop"):
        with pytest.raises(DivergenceError) as e:
            run(pop, x, method=method)
        errors.append(str(e.value))
    assert errors[0] == errors[1] and "sequence 40" in errors[0]


def test_bad_unit_indexes_the_state_s_second_part_after_the_first():
    # the state [A; B] (h and the LSTM's c, a Jordan net's h and y): B_j is unit len(A) + j
    A, B = np.ones((3, 64)), np.ones((2, 64))
    B[1, 5] = np.inf
    assert ml._bad_unit(A, B, 5) == 4 and ml._bad_unit(A, B, 4) == -1
    A[1, 5] = np.nan
    assert ml._bad_unit(A, B, 5) == 1


@settings(max_examples=30, deadline=None)
@given(st.integers(32, 140), st.integers(1, 8), st.integers(0, 4), st.integers(0, 3),
       st.sampled_from(ACTS), st.sampled_from(["elman", "jordan", "lstm", "gru", "gru_before"]),
       st.sampled_from([np.float64, np.float32]), st.integers(0, 2**32 - 1))
def test_random_populations_on_the_lanes(P, H, m, O, act, layout, dtype, seed):
    # any size from one block on, any unit count, with or without inputs and readout, every
    # activation: the lanes equal each member's own loop (relu and identity nets may grow:
    # relative tolerance; members that overflow must do so at the same step)
    rng = np.random.default_rng(seed)
    if layout == "elman":
        cells = [Elman.random(m, H, O or None, seed=int(s), activation=act,
                              output_activation="tanh" if O else "identity")
                 for s in rng.integers(0, 2**31, P)]
        pop = Elman.stack(cells)
    elif layout == "jordan":
        pop = Jordan.stack([Jordan.random(m, H, O or 1, seed=int(s), activation=act)
                            for s in rng.integers(0, 2**31, P)])
    elif layout == "lstm":
        pop = _lstm_population(P, m, H, seed=seed % 1000, activation=act)
    else:
        pop = _gru_population(P, m, H, seed=seed % 1000, activation=act,
                              reset_after=layout == "gru")
    assert on_lanes(pop, dtype)
    x = rng.normal(size=(12, P, m))
    fast, ref = (run(pop, x, dtype=dtype, method=k, on_divergence="return")
                 for k in ("auto", "loop"))
    np.testing.assert_array_equal(fast.status, ref.status)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(fast.outputs, ref.outputs, rtol=tol, atol=tol)
    np.testing.assert_allclose(fast.states, ref.states, rtol=tol, atol=tol)
