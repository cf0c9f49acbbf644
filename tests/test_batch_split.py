"""The batched LSTM/GRU kernels cut the batch into blocks of sequences on numba's threads
(``parts``): every block count must give the one-block result, rows and divergence reports
included (issue #12)."""
import numpy as np
import pytest

from rnndyn.integrate.plumbing import batch_plan, kernel_params_as
from rnndyn.models.gated import GRU, LSTM

CELLS = {"lstm": lambda: LSTM.random(3, 6, seed=1, peephole=True),
         "gru": lambda: GRU.random(3, 6, seed=1)}


def _forward(cell, X, H0, parts):
    T, B = X.shape[:2]
    Y = np.empty((T, B, cell.n))
    OUT = np.empty((T, B, cell.n_out))
    info = np.zeros((B, 3), dtype=np.int64)
    cell.batch_kernel(kernel_params_as(cell, np.float64), H0, X, Y, OUT, info, parts)
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
        G = np.empty(sum(a.size for a in p[:4]))  # the raw layout: weights, biases, peepholes
        GH0, GX = np.empty((B, cell.n)), np.empty((T, B, 3))
        cell.bptt_kernel(p, H0, X, Y, GO, G, GH0, GX, k)
        out.append((G, GH0, GX))
    for a, b in zip(*out):
        np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-13)


def test_batch_plan_splits_only_when_it_pays():
    import numba
    assert batch_plan(1, 128, 10 ** 9)[0] == 1  # one sequence: nothing to split
    assert batch_plan(32, 16, 100)[0] == 1  # too little work a sequence
    assert batch_plan(32, 128, 10 ** 8)[0] == min(numba.get_num_threads(), 32)
