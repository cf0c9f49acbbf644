"""The batched LSTM/GRU kernels run blocks of sequences (lo..hi) on threads
(``integrate.run.run_blocks``): every cut of the batch must give the one-block result,
states, outputs, divergence reports and gradients included (issue #12)."""
import importlib

import numpy as np
import pytest

from rnndyn.integrate.plumbing import kernel_params_as, run_blocks
from rnndyn.integrate.run import run
from rnndyn.models import _gated_kernels as gk
from rnndyn.models import gated
from rnndyn.models.gated import GRU, LSTM
from rnndyn.train.gradients import bptt

run_module = importlib.import_module("rnndyn.integrate.run")  # the module, not the function
CELLS = {"lstm": lambda: LSTM.random(3, 6, seed=1, peephole=True),
         "gru": lambda: GRU.random(3, 6, seed=1)}


def _cuts(B, parts):
    return [(c * B // parts, (c + 1) * B // parts) for c in range(parts)]


def _forward(cell, X, H0, parts):
    T, B = X.shape[:2]
    Y = np.empty((T, B, cell.n))
    OUT = np.empty((T, B, cell.n_out))
    info = np.zeros((B, 3), dtype=np.int64)
    for lo, hi in _cuts(B, parts):
        cell.batch_kernel(kernel_params_as(cell, np.float64), H0, X, Y, OUT, info, lo, hi)
    return Y, OUT, info


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("parts", [2, 3, 7])
def test_forward_blocks_equal_one_block(kind, parts):
    cell = CELLS[kind]()
    rng = np.random.default_rng(2)
    X = rng.normal(size=(70, 7, 3))  # 70 > one 64-step chunk; 7 sequences: uneven blocks
    H0 = rng.normal(size=(7, cell.n)) * 0.3
    X[40, 5, 1] = np.nan  # sequence 5 (in the last block) diverges at step 41
    ref = _forward(cell, X, H0, 1)
    got = _forward(cell, X, H0, parts)
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    assert tuple(got[2][5]) == (1, 41, 0) and not got[2][[0, 1, 2, 3, 4, 6], 0].any()


@pytest.mark.parametrize("cls, kwargs, H, B, bad", [
    (LSTM, dict(peephole=True), 128, 5, 3), (LSTM, dict(activation="relu"), 128, 5, 3),
    (GRU, {}, 128, 5, 3), (GRU, dict(activation="relu"), 128, 5, 3),
    # 21 sequences of 136 units: whole L x L tiles of sequences and units transposed in
    # registers (L = 16 lanes in float32, 8 in float64), the units and sequences past them one
    # by one; divergence in a tile, and past it
    (LSTM, dict(peephole=True), 136, 21, 7), (LSTM, dict(peephole=True), 136, 21, 19),
    (GRU, {}, 136, 21, 7), (GRU, {}, 136, 21, 19)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_columns_layout_equals_rows(cls, kwargs, H, B, bad, dtype):
    # blocks of many units and enough sequences run with their states as columns
    # (_lstm_run_columns, _gru_run_columns: called here directly, whatever run_columns would
    # choose); the same sequences one by one (B = 1) take the rows' path: equal up to rounding
    # (the products sum in another order), divergence reported alike
    cell = cls.random(3, H, seed=4, **kwargs)
    columns = (gk._LSTM_COLUMNS if cls is LSTM else gk._GRU_COLUMNS)[not kwargs.get("activation")]
    rng = np.random.default_rng(5)
    T = 70
    X = rng.normal(size=(T, B, 3)).astype(dtype)
    H0 = (rng.normal(size=(B, cell.n)) * 0.3).astype(dtype)
    X[40, bad, 1] = np.nan  # sequence bad diverges at step 41
    p = kernel_params_as(cell, dtype)
    out = []
    no_gates = np.empty((0, 1, 4 * H), dtype)  # ACT without rows
    for kernel, cuts, extra in ((columns, [(0, B)], (no_gates,)),
                                (cell.batch_kernel, _cuts(B, B), ())):
        Y = np.empty((T, B, cell.n), dtype)
        OUT = np.empty((T, B, cell.n_out), dtype)
        info = np.zeros((B, 3), dtype=np.int64)
        for lo, hi in cuts:
            kernel(p, H0, X, Y, OUT, info, lo, hi, *extra)
        out.append((Y, OUT, info))
    (Y, OUT, info), (Y1, OUT1, info1) = out
    np.testing.assert_array_equal(info, info1)
    ok = np.arange(B) != bad
    assert tuple(info[bad]) == (1, 41, 0) and not info[ok, 0].any()
    tol = dict(rtol=1e-4, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(Y[:, ok], Y1[:, ok], **tol)
    np.testing.assert_array_equal(OUT[:, ok], Y[:, ok, :cell.H])
    np.testing.assert_allclose(Y[:41, bad], Y1[:41, bad], **tol)  # before the NaN


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("parts", [2, 3])
def test_backward_blocks_equal_one_block(kind, parts):
    cell = CELLS[kind]()
    rng = np.random.default_rng(3)
    T, B = 70, 5
    X = rng.normal(size=(T, B, 3))
    H0 = rng.normal(size=(B, cell.n)) * 0.3
    Y = _forward(cell, X, H0, 1)[0]
    GO = rng.normal(size=(T, B, cell.n_out))
    p = kernel_params_as(cell, np.float64)
    out = []
    for k in (1, parts):
        G = np.zeros(sum(a.size for a in p[:4]))  # the raw layout: weights, biases, peepholes
        GH0, GX = np.empty((B, cell.n)), np.empty((T, B, 3))
        for lo, hi in _cuts(B, k):
            g = np.empty_like(G)
            cell.bptt_kernel(p, H0, X, Y, GO, g, GH0, GX, lo, hi)
            G += g
        out.append((G, GH0, GX))
    for a, b in zip(*out):
        np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize("dtype, B, H", [(np.float32, 16, 128), (np.float32, 20, 130),
                                         (np.float32, 16, 130), (np.float64, 8, 256)])
def test_bptt_recursion_from_panels_equals_the_rows_product(cls, dtype, B, H):
    # a block the forward pass would run as columns takes the recursion's dA @ W_hh from
    # W_hh^T's panels (B and the gate rows whole vectors: 64-byte tile transposes; else
    # element by element, and H = 130 pads the last panel); smaller blocks keep BLAS's rows
    cell = cls.random(3, H, seed=1)
    rng = np.random.default_rng(4)
    T = 20
    X = rng.normal(size=(T, B, 3)).astype(dtype)
    H0 = (rng.normal(size=(B, cell.n)) * 0.3).astype(dtype)
    p = kernel_params_as(cell, dtype)
    Y = np.empty((T, B, cell.n), dtype)
    OUT = np.empty((T, B, cell.n_out), dtype)
    cell.batch_kernel(p, H0, X, Y, OUT, np.zeros((B, 3), dtype=np.int64), 0, B)
    GO = rng.normal(size=(T, B, cell.n_out)).astype(dtype)
    assert gk.run_columns(B, H, np.dtype(dtype).itemsize)
    assert not gk.run_columns(B // 2, H, np.dtype(dtype).itemsize)
    out = []
    for k in (1, 3):
        G = np.zeros(cell.functions.param_size(p), dtype)
        GH0, GX = np.empty((B, cell.n), dtype), np.empty((T, B, 3), dtype)
        for lo, hi in _cuts(B, k):
            g = np.empty_like(G)
            cell.bptt_kernel(p, H0, X, Y, GO, g, GH0, GX, lo, hi)
            G += g
        out.append((G, GH0, GX))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(*out):
        assert np.abs(a - b).max() <= tol * np.abs(b).max()


def test_run_blocks_cuts_only_when_it_pays(monkeypatch):
    import numba
    calls = []

    def fn(lo, hi):
        calls.append((lo, hi))
        return hi - lo
    assert run_blocks(fn, 1, 128, 10 ** 12) == [1]  # one sequence: nothing to cut
    assert run_blocks(fn, 32, 16, 100) == [32]  # too little work for a handover
    k = min(numba.get_num_threads(), 32)
    assert sum(run_blocks(fn, 32, 128, 10 ** 12)) == 32 and len(calls) == 2 + k
    monkeypatch.setattr(numba, "get_num_threads", lambda: 3)
    assert run_blocks(fn, 7, 128, 10 ** 12) == [2, 2, 3]  # block order kept


def test_run_blocks_switches_blas_only_for_kernels_that_call_it():
    # one block of small products: BLAS on one thread around it, unless the kernel calls no
    # BLAS for that batch (one sequence, and the columns; the switch costs ~4 us a call)
    from threadpoolctl import threadpool_info, threadpool_limits

    def fn(lo, hi):
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    with threadpool_limits(limits=2, user_api="blas"):
        assert run_blocks(fn, 1, 16, 100) == [{1}]
        assert run_blocks(fn, 1, 16, 100, blas=False) == [{2}]
    lstm, gru = LSTM.random(3, 16), GRU.random(3, 16)
    assert not lstm.batch_blas(1) and lstm.batch_blas(2)
    assert not gru.batch_blas(1) and gru.batch_blas(2)
    for cls in (LSTM, GRU):  # states as columns (no BLAS) from a full SIMD vector of sequences
        wide = cls.random(3, 128)
        assert wide.batch_blas(4) and not wide.batch_blas(8)
        assert wide.batch_blas(8, np.float32) and not wide.batch_blas(16, np.float32)
        assert not cls.random(3, 256).batch_blas(8, np.float32)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_front_doors_on_blocks_equal_one_block(cls, monkeypatch):
    """run and bptt through run_blocks (threads, BLAS on one thread) against one block."""
    cell = cls.random(4, 24, seed=3)
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(90, 6, 4)), rng.normal(size=(90, 6, 24))
    monkeypatch.setattr(run_module, "_BLOCK_WORK", 1)
    many = run(cell, x), bptt(cell, x, y)
    monkeypatch.setattr(run_module, "_BLOCK_WORK", 10 ** 18)
    one = run(cell, x), bptt(cell, x, y)
    np.testing.assert_allclose(many[0].states, one[0].states, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(many[1].gradient, one[1].gradient, rtol=1e-10, atol=1e-14)
    assert many[1].loss == pytest.approx(one[1].loss, rel=1e-13)


def test_a_forked_child_gets_its_own_pool():
    """The pool's threads do not survive a fork: a child must start its own, not queue work
    for threads that do not exist (it would wait forever)."""
    import multiprocessing
    run_blocks(lambda lo, hi: hi - lo, 4, 128, 10 ** 12)  # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(run_blocks, (_block_sizes, 4, 128, 10 ** 12)).get(timeout=60)
    assert sum(got) == 4


def _block_sizes(lo, hi):
    return hi - lo


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("H, T, B, peephole", [(16, 150, 1, True), (1, 1, 1, False),
                                               (33, 65, 1, False), (5, 70, 3, True),
                                               (128, 66, 17, True)])
@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_bptt_from_the_forward_gates_equals_recomputing_them(cls, dtype, tol, H, T, B, peephole):
    # the forward kernel keeps every step's gate activations (gate_store) and the backward
    # copies them instead of recomputing them per chunk (T = 150: three chunks, the last
    # partial; T = 65: one step past a chunk; H = 33: no whole SIMD vector); B = 3 runs the
    # states as rows, (128, 17) as columns (a whole 16-lane tile of gates and a rest), each in
    # two blocks of sequences as on two threads; equal up to the order of the forward's sums
    assert (gk.run_columns(B, H, np.dtype(dtype).itemsize), B) in ((False, 1), (False, 3),
                                                                   (True, 17))
    cell = LSTM.random(3, H, seed=4, peephole=peephole) if cls is LSTM else \
        GRU.random(3, H, seed=4, variant=2 if peephole else 0)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(T, B, 3)).astype(dtype)
    H0 = (rng.normal(size=(B, cell.n)) * 0.3).astype(dtype)
    GO = rng.normal(size=(T, B, cell.H)).astype(dtype)
    p = kernel_params_as(cell, dtype)
    Y, OUT, info = (np.empty((T, B, cell.n), dtype), np.empty((T, B, cell.H), dtype),
                    np.zeros((B, 3), np.int64))
    ACT = cell.gate_store(B, T, dtype)
    blocks = [(0, B)] if B == 1 else [(0, 1), (1, B)]
    for lo, hi in blocks:
        cell.batch_kernel(p, H0, X, Y, OUT, info, lo, hi, ACT)
    out = []
    for gates in (None, ACT):
        G = np.zeros(cell._functions.param_size(p), dtype)  # raw: peepholes always
        GH0 = np.empty((B, cell.n), dtype)
        for lo, hi in blocks:
            Gb = np.empty_like(G)
            cell.bptt_kernel(p, H0, X, Y, GO, Gb, GH0, np.empty((0, 0, 0), dtype), lo, hi,
                             gates)
            G += Gb
        out.append(np.concatenate([G, GH0.ravel()]))
    np.testing.assert_allclose(out[1], out[0], rtol=0, atol=tol * np.abs(out[0]).max())
    # the kept gates give the states they made
    prev = np.concatenate([H0[None], Y[:-1]])
    if cls is LSTM:
        i, f, g, o = np.split(ACT, 4, axis=2)
        c = f * prev[..., H:] + i * g
        np.testing.assert_allclose(c, Y[..., H:], rtol=0, atol=50 * tol)
        np.testing.assert_allclose(o * np.tanh(c), Y[..., :H], rtol=0, atol=50 * tol)
    else:
        r, z, hn, n = np.split(ACT, 4, axis=2)
        W_n = cell.W_ih[2 * H:]
        np.testing.assert_allclose(hn, prev @ cell.W_hh[2 * H:].T + cell.b_hh[2 * H:], rtol=0,
                                   atol=50 * tol)
        np.testing.assert_allclose(n, np.tanh(X @ W_n.T + cell.b_ih[2 * H:] + r * hn), rtol=0,
                                   atol=50 * tol)
        np.testing.assert_allclose(n + z * (prev - n), Y, rtol=0, atol=50 * tol)
    assert GRU.random(3, 4, activation="relu").gate_store(1, T, dtype) is None


def test_lstm_bptt_keeps_the_gates_only_within_the_memory_budget(monkeypatch):
    # (T, B, 4H) = (40, 3, 24) float64: 23 kB of gates, kept under the default budget; with a
    # budget below that the backward recomputes them, to the same gradient
    cell = LSTM.random(2, 6, seed=1)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 3, 2)), rng.normal(size=(40, 3, 6))
    assert cell.gate_store(3, 40, np.float64).shape == (40, 3, 24)
    kept = bptt(cell, x, y)
    monkeypatch.setattr(gated, "GATE_STORE_BYTES", 40 * 3 * 24 * 8 - 1)
    assert cell.gate_store(3, 40, np.float64) is None
    recomputed = bptt(cell, x, y)
    assert kept.loss == recomputed.loss
    np.testing.assert_allclose(kept.gradient, recomputed.gradient, rtol=0,
                               atol=1e-12 * np.abs(recomputed.gradient).max())


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_stacked_bptt_keeps_each_layers_gates_within_one_budget(cls, monkeypatch):
    # a Stacked of two layers with a readout: each layer's forward keeps its gates for the
    # backward pass while the stores together fit the budget (here: the first layer's 13 kB
    # alone), the same gradient as recomputing them all
    from rnndyn.models.deep import Stacked
    model = Stacked((cls.random(2, 5, seed=1), cls.random(5, 7, seed=2)),
                    W_out=np.full((2, 7), 0.3), b_out=0.1, output_activation="tanh")
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 2, 2)), rng.normal(size=(40, 2, 2))
    stores = model.gate_store(2, 40, np.float64)
    assert [g.shape for g in stores] == [(40, 2, 20), (40, 2, 28)]
    both = bptt(model, x, y)
    monkeypatch.setattr(gated, "GATE_STORE_BYTES", 40 * 2 * 20 * 8)
    assert [g is None for g in model.gate_store(2, 40, np.float64)] == [False, True]
    first = bptt(model, x, y)
    monkeypatch.setattr(gated, "GATE_STORE_BYTES", 0)
    assert model.gate_store(2, 40, np.float64) is None
    none = bptt(model, x, y)
    for g in (both, first):
        assert g.loss == none.loss
        np.testing.assert_allclose(g.gradient, none.gradient, rtol=0,
                                   atol=1e-12 * np.abs(none.gradient).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_single_sequence_kernel_on_a_misaligned_w_hh_equals_the_aligned_one(dtype):
    # cast copies are 64-byte aligned and the B = 1 kernel then reads W_hh^T in place; a
    # caller's array off that boundary is copied to one first: the same sums either way
    cell = LSTM.random(3, 16, seed=6, peephole=True)
    p = kernel_params_as(cell, np.float32 if dtype == np.float64 else np.float64)
    p = run_module.cast_params(p, dtype)  # a cast: every float array a fresh aligned copy
    assert all(a.ctypes.data % 64 == 0 for a in p if isinstance(a, np.ndarray))
    buf = np.empty(p[7].size + 1, dtype)
    shifted = buf[1:] if buf.ctypes.data % 64 == 0 else buf[:-1]
    shifted = shifted.reshape(p[7].shape)
    shifted[...] = p[7]
    assert shifted.ctypes.data % 64 != 0
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 1, 3)).astype(dtype)
    H0 = rng.normal(size=(1, cell.n)).astype(dtype)
    runs = []
    for q in (p, p[:7] + (shifted,)):
        Y, OUT, info = (np.empty((40, 1, cell.n), dtype), np.empty((40, 1, cell.H), dtype),
                        np.zeros((1, 3), np.int64))
        cell.batch_kernel(q, H0, X, Y, OUT, info, 0, 1)
        runs.append((Y, OUT))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
