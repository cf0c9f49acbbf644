"""The vectorisable exp-based sigmoid and tanh of models/_base_kernels.py against libm, and its
register-blocked products (a row times a matrix, a matrix in panels times columns) and tile
transpose against numpy."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from rnndyn.models._base_kernels import (_L1_BYTES, PANEL_ROWS, panel_matmul, panel_pack,
                                         sigmoid, tanh, transpose_tile, vecmat)


@njit(error_model="numpy")
def _apply(x, which):
    out = np.empty_like(x)
    for i in range(x.shape[0]):  # the loop shape of the kernels: vectorised by LLVM
        out[i] = sigmoid(x[i]) if which == 0 else tanh(x[i])
    return out


def _np_sigmoid(x):
    with np.errstate(over="ignore", invalid="ignore"):  # the branch np.where discards
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def _ulps(a, b):
    return np.abs(a - b) / np.spacing(np.maximum(np.abs(b), np.finfo(float).tiny))


@pytest.mark.parametrize("which, ref", [(0, _np_sigmoid), (1, np.tanh)])
def test_within_4_ulp_of_libm_on_a_dense_grid(which, ref):
    # dense near 0 (where tanh ~ x) and out to where sigmoid underflows; 4 ulp is the
    # measured worst case (the division adds up to 2 ulp to exp's 1)
    x = np.concatenate([np.linspace(-40, 40, 200_001), np.geomspace(1e-300, 1e-2, 2001),
                        -np.geomspace(1e-300, 1e-2, 2001), np.linspace(-745, 745, 20_001)])
    y = _apply(x, which)
    big = np.abs(ref(x)) > 1e-300  # below that only the absolute error (< 1e-307) matters
    assert _ulps(y, ref(x))[big].max() <= 4
    assert np.abs(y - ref(x)).max() <= 4e-16


def test_special_values():
    x = np.array([-np.inf, -1e308, -0.0, 0.0, 1e308, np.inf, np.nan])
    s, t = _apply(x, 0), _apply(x, 1)
    assert 0.0 <= s[0] < 1e-300 and 0.0 <= s[1] < 1e-300
    np.testing.assert_array_equal(s[2:6], [0.5, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(t[:6], [-1.0, -1.0, -0.0, 0.0, 1.0, 1.0])
    assert np.signbit(t[2]) and not np.signbit(t[3])  # tanh keeps the sign of zero
    assert np.isnan(s[6]) and np.isnan(t[6])


@settings(max_examples=300, deadline=None)
@given(st.floats(-800, 800, allow_nan=False))
def test_symmetries(x):
    s, t = _apply(np.array([x, -x, 2 * x]), 0), _apply(np.array([x, -x]), 1)
    assert t[0] == -t[1]                       # tanh is odd, exactly
    assert abs(s[0] + s[1] - 1.0) <= 2.3e-16   # sigmoid(x) + sigmoid(-x) = 1
    assert abs(t[0] - (2 * s[2] - 1)) <= 1e-15  # tanh(x) = 2 sigmoid(2x) - 1


@pytest.mark.parametrize("which, ref", [(0, _np_sigmoid), (1, np.tanh)])
def test_float32_computes_in_float32_within_3_ulp(which, ref):
    # float32 kernels get float32 arithmetic (twice the SIMD lanes, a degree-7 polynomial),
    # not a float64 round trip; 3 ulp of float32 against the float64 reference (measured 2.4)
    x = np.concatenate([np.linspace(-20, 20, 100_001), np.geomspace(1e-30, 1e-2, 2001),
                        -np.geomspace(1e-30, 1e-2, 2001), np.linspace(-87, 87, 10_001)])
    x = x.astype(np.float32)
    y = _apply(x, which)
    assert y.dtype == np.float32
    r = ref(x.astype(np.float64))
    big = np.abs(r) > 1e-30
    ulp32 = np.spacing(np.abs(r).astype(np.float32)).astype(np.float64)
    assert (np.abs(y - r) / ulp32)[big].max() <= 3
    s = _apply(np.array([-np.inf, -0.0, 0.0, np.inf, np.nan], np.float32), which)
    want = [0.0, 0.5, 0.5, 1.0] if which == 0 else [-1.0, -0.0, 0.0, 1.0]
    assert np.abs(s[:4] - want).max() < 1e-37 and np.isnan(s[4])


@njit
def _vecmat(z, WT, rev):
    a = np.full(WT.shape[1], np.nan, WT.dtype)  # every column must be written
    vecmat(z, WT, a, rev)
    return a


# n covers every piece of the blocking (blocks of 16 vectors, pieces of 8, 4, 2, 1, single
# columns) in both precisions: 16 / 8 lanes a vector; K = 1 is a single row; (264, 1029)
# is above _BLOCKED_BYTES (whole rows a pass), with rows left over after the fours; WT of 1.5
# L1s (rows of 1 kB: n = 256 float32, 128 float64; K from this machine's L1d) prefetches rows,
# as do (72, 256), (72, 263), (96, 256) in float32 and (50, 130) in float64 on a 48 kB L1
_K_PREFETCH = 3 * _L1_BYTES // 2048


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K, n", [(K, n) for K in (1, 3, 72)
                                  for n in (1, 7, 8, 16, 40, 120, 256, 263, 504, 1277)]
                         + [(263, 1029), (96, 256), (50, 130), (_K_PREFETCH, 256),
                            (_K_PREFETCH, 128)])
def test_vecmat_equals_numpy(dtype, n, K):
    rng = np.random.default_rng(n * 100 + K)
    # small integers: every partial sum is exact, so any order must give numpy's result bit
    # for bit, and a row or column dropped, doubled or misplaced changes it
    z = rng.integers(-8, 9, K).astype(dtype)
    WT = rng.integers(-8, 9, (K, n)).astype(dtype)
    for rev in (False, True):
        assert np.array_equal(_vecmat(z, WT, rev), z @ WT)
    # general values: within the rounding of K terms of the float64 product
    z = rng.normal(size=K).astype(dtype)
    WT = rng.normal(size=(K, n)).astype(dtype)
    ref = z.astype(np.float64) @ WT.astype(np.float64)
    bound = K * np.finfo(dtype).eps * (np.abs(z).astype(np.float64) @ np.abs(WT))
    for rev in (False, True):
        assert np.all(np.abs(_vecmat(z, WT, rev) - ref) <= bound)


def test_vecmat_propagates_non_finite_values():
    z = np.array([1.0, np.nan, 2.0], np.float32)
    WT = np.ones((3, 48), np.float32)
    assert np.isnan(_vecmat(z, WT, False)).all()
    z[1] = np.inf
    WT[1, 5] = -1.0
    got = _vecmat(z, WT, True)
    assert got[5] == -np.inf and np.isposinf(np.delete(got, 5)).all()


@njit
def _panel_product(W, Z):
    Wp = np.empty((-(-W.shape[0] // PANEL_ROWS), W.shape[1], PANEL_ROWS), W.dtype)
    panel_pack(W, Wp)
    A = np.full((Wp.shape[0] * PANEL_ROWS, Z.shape[1]), np.nan, W.dtype)  # all written
    panel_matmul(Wp, Z, A)
    return A


# M: whole panels and a last panel padded with zero rows; V: one and three vectors of lanes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("M, K, V", [(16, 1, 1), (64, 72, 1), (1024, 264, 1), (37, 5, 3),
                                     (200, 136, 2)])
def test_panel_matmul_equals_numpy(dtype, M, K, V):
    V *= 64 // np.dtype(dtype).itemsize
    rng = np.random.default_rng(M + K + V)
    W = rng.integers(-8, 9, (M, K)).astype(dtype)  # exact sums: numpy's bit for bit
    Z = rng.integers(-8, 9, (K, V)).astype(dtype)
    A = _panel_product(W, Z)
    assert np.array_equal(A[:M], W @ Z) and not A[M:].any()  # padded rows: zero
    W = rng.normal(size=(M, K)).astype(dtype)
    Z = rng.normal(size=(K, V)).astype(dtype)
    ref = W.astype(np.float64) @ Z.astype(np.float64)
    bound = K * np.finfo(dtype).eps * (np.abs(W).astype(np.float64) @ np.abs(Z))
    assert np.all(np.abs(_panel_product(W, Z)[:M] - ref) <= bound)
    Z[3 % K, 1] = np.nan  # a NaN reaches its column, and only it
    got = _panel_product(W, Z)[:M]
    assert np.isnan(got[:, 1]).all() and not np.isnan(np.delete(got, 1, axis=1)).any()


@njit
def _transpose_into(S, r0, l0, D, off, stride):
    transpose_tile(S, r0, l0, D, off, stride)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transpose_tile_equals_numpy(dtype):
    L = 64 // np.dtype(dtype).itemsize
    rng = np.random.default_rng(L)
    S = rng.normal(size=(3 * L, 2 * L)).astype(dtype)
    for r0, l0 in ((0, 0), (L, L), (2 * L - 3, 5)):  # aligned or not
        D = np.full((L + 2, 3 * L + 4), np.nan, dtype)
        off, stride = 2 * D.shape[1] + 4, D.shape[1]  # D[2 + u, 4 + v] = S[r0 + v, l0 + u]
        _transpose_into(S, r0, l0, D, off, stride)
        assert np.array_equal(D[2:, 4:4 + L], S[r0:r0 + L, l0:l0 + L].T)
        D[2:, 4:4 + L] = np.nan
        assert np.isnan(D).all()  # nothing else written
