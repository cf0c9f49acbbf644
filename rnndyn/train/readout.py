"""Readouts of reservoirs: ridge regression, recursive least squares and FORCE learning.

A readout is a linear map ``y = W_out r + b`` of features r (the reservoir states, or
``[u; x]`` with the input), kept as one coefficient matrix ``coef = [b | W_out]`` (O, 1 + F).

* ``Ridge`` accumulates ``R^T R`` and ``R^T Y`` over any number of sequences and chunks
  (``partial_fit``), so its memory is O(F^2), independent of the training length (unlike
  concatenating the states; cf. ReservoirPy issue #26), then solves
  ``(R^T R + ridge I) coef^T = R^T Y`` once (the bias is not penalised).
* ``RLS`` updates the coefficients online (recursive least squares, forgetting factor).

Reservoir-level training (running an ``rnndyn.models.reservoir.ESN`` or ``DeepESN`` chunk
by chunk, teacher forcing, closed-loop generation, FORCE) is in the functions ``fit``,
``teacher_inputs``, ``generate`` and ``force``; their loops over time run in numba
(``rnndyn.models._reservoir_kernels``). ``sweep`` trains and scores a hyperparameter grid
(``ESN.grid``) as one population, in process or on an executor.
"""
from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import scipy.linalg
from scipy.linalg.blas import dsyrk as _syrk

from .._validate import as_array, choice, positive, positive_int, real_number
from ..errors import DivergenceError, ValidationError
from ..executors import check_executor, map_population
from ..integrate import run
from ..integrate.plumbing import writable
from ..models import _reservoir_kernels as _K
from ..models.reservoir import ESN, DeepESN


def _data(value, name, ndim=(2,), width=None):
    """A finite, writable float64 array with ndim in ``ndim`` (last axis ``width`` if given):
    a caller's read-only array is copied, or numba would compile the state kernels again for
    it."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(name, f"must be a numeric array, got {exc}", value) from None
    if arr.ndim == 1 and 2 in ndim:
        arr = arr[:, None]
    if arr.ndim not in ndim or (width is not None and arr.shape[-1] != width):
        want = " or ".join(f"{d}-D" for d in ndim)
        w = f" with last axis {width}" if width is not None else ""
        raise ValidationError(name, f"expected a {want} array{w}, got shape {arr.shape}", value)
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValidationError(name, f"must be finite, got {arr[bad]} at index {bad}; remove "
                              "or interpolate the missing values", value)
    return writable(arr)


def _washout(washout, length, name):
    w = positive_int(washout, name, minimum=0)
    if w >= length:
        raise ValidationError(name, f"is {w} but the sequence has only {length} steps: nothing "
                              "is left to fit; use a washout < length", washout)
    return w


class Readout:
    """A linear readout ``y = W_out r + b``; ``coef`` (O, 1 + F) = [b | W_out]."""

    coef: np.ndarray | None = None

    @property
    def W_out(self) -> np.ndarray:
        """(O, F) weights of the features."""
        return self._fitted()[:, 1:]

    @property
    def bias(self) -> np.ndarray:
        """(O,) bias."""
        return self._fitted()[:, 0]

    def _fitted(self):
        if self.coef is None:
            raise ValidationError(f"{type(self).__name__}", "is not fitted yet; call fit or "
                                  "partial_fit first")
        return self.coef

    def predict(self, features) -> np.ndarray:
        """Outputs for features (..., F): array (..., O)."""
        C = self._fitted()
        R = _data(features, f"{type(self).__name__}.predict.features", (1, 2, 3),
                  C.shape[1] - 1)
        return R @ C[:, 1:].T + C[:, 0]


class Ridge(Readout):
    """Ridge regression (Tikhonov) readout with accumulated normal equations.

    Parameters
    ----------
    ridge : float >= 0
        Regularisation lambda (on the weights, not on the bias). Default 1e-8.
    fit_bias : bool
        Fit the bias b (default True); else b = 0.
    method : {"normal", "qr"}
        "normal" (default, fastest): accumulate R^T R and R^T Y (one BLAS syrk per chunk),
        solve ``(R^T R + ridge I) coef^T = R^T Y``. "qr": keep the triangular factor of a QR
        decomposition updated chunk by chunk (``[T_old; R_chunk] = Q T_new``, Q^T Y alongside;
        memory O(F^2) too) and solve the least-squares problem from it: the error grows with
        the condition number of R, not with its square as in the normal equations, which
        matters for nearly noise-free targets and tiny ridges (measured on Mackey-Glass
        NRMSE84, N = 1000: 10^-3.4 with the normal equations, 10^-4.0 with "qr";
        ``studies/jaeger2001_mackey_glass.py``), at ~3-5x the flops.

    Examples
    --------
    >>> ro = Ridge(1e-6)
    >>> for X, Y in chunks:           # any number of (T_k, F), (T_k, O) pieces
    ...     ro.partial_fit(X, Y)
    >>> ro.solve().predict(X_test)
    """

    def __init__(self, ridge: float = 1e-8, fit_bias: bool = True, method: str = "normal"):
        self.ridge = positive(ridge, "Ridge.ridge", allow_zero=True)
        self.fit_bias = bool(fit_bias)
        self.method = choice(method, "Ridge.method", ("normal", "qr"))
        self.reset()

    def reset(self) -> "Ridge":
        """Forget the accumulated sums (and the coefficients)."""
        self.RtR = self.RtY = self.coef = self._gram = None
        self._tri = self._QtY = None  # method "qr": triangular factor and Q^T Y
        self._width = None  # (F, O) of the data so far
        self.count = 0
        self._synced = True
        return self

    def partial_fit(self, features, targets, washout: int = 0) -> "Ridge":
        """Add one sequence (T, F) with targets (T, O), or a batch (T, B, F) / (T, B, O),
        to the normal equations; the first ``washout`` steps are left out."""
        R = _data(features, "Ridge.partial_fit.features", (2, 3))
        Y = _data(targets, "Ridge.partial_fit.targets", (2, 3))
        if R.shape[:-1] != Y.shape[:-1]:
            raise ValidationError("Ridge.partial_fit.targets", f"has {Y.shape[:-1]} steps but "
                                  f"the features have {R.shape[:-1]}; give one target per "
                                  "step", targets)
        w = _washout(washout, R.shape[0], "Ridge.partial_fit.washout")
        return self._accumulate(R[w:].reshape(-1, R.shape[-1]), Y[w:].reshape(-1, Y.shape[-1]),
                                features)

    def _accumulate(self, R, Y, features=None) -> "Ridge":
        """Add checked features R (T, F) and targets Y (T, O) to the normal equations."""
        if self._width is not None and self._width != (R.shape[1], Y.shape[1]):
            raise ValidationError("Ridge.partial_fit.features", f"has {R.shape[1]} features and"
                                  f" {Y.shape[1]} targets, the earlier data "
                                  f"{self._width[0]} and {self._width[1]}; call "
                                  "reset() to start over", features)
        self._width = (R.shape[1], Y.shape[1])
        if self.method == "qr":
            A = np.hstack([np.ones((R.shape[0], 1)), R]) if self.fit_bias else R
            if self._tri is not None:
                A, Y = np.vstack([self._tri, A]), np.vstack([self._QtY, Y])
            # Q^T Y without forming Q: qr_multiply gives Y^T Q and the factor
            YtQ, self._tri = scipy.linalg.qr_multiply(A, Y.T, mode="right")
            self._QtY = YtQ.T
            self.count += R.shape[0]
            return self
        if self.RtR is None:
            F, O = R.shape[1], Y.shape[1]
            self.RtR, self.RtY = np.zeros((F + 1, F + 1)), np.zeros((F + 1, O))
            self._gram = np.zeros((F, F), order="F")  # upper triangle of sum R^T R
        s = R.sum(axis=0)  # the bias column of ones, without materialising it
        self.RtR[0, 0] += R.shape[0]
        self.RtR[0, 1:] += s
        self.RtR[1:, 0] += s
        # symmetric rank-k update (BLAS syrk): half the flops of R.T @ R; R.T of a C-ordered
        # R is Fortran-ordered, so BLAS reads it in place
        R = np.ascontiguousarray(R)
        self._gram = _syrk(1.0, R.T, beta=1.0, c=self._gram, trans=0, lower=0, overwrite_c=1)
        self.RtY[0] += Y.sum(axis=0)
        self.RtY[1:] += R.T @ Y
        self.count += R.shape[0]
        self._synced = False
        return self

    def normal_matrix(self) -> np.ndarray:
        """R^T R (1 + F, 1 + F) of the features with the bias column of ones in front
        (method "normal" only)."""
        if self.method == "qr":
            raise ValidationError("Ridge.normal_matrix", "a Ridge(method='qr') keeps a QR "
                                  "factor, not the normal equations", self.method)
        if self.RtR is None:
            raise ValidationError("Ridge.solve", "no data: call partial_fit first")
        if not self._synced:
            G = self._gram
            self.RtR[1:, 1:] = np.triu(G) + np.triu(G, 1).T
            self._synced = True
        return self.RtR.copy()

    def solve(self) -> "Ridge":
        """Solve the normal equations (or, method "qr", the least-squares problem) for
        ``coef``."""
        if self._width is None:
            raise ValidationError("Ridge.solve", "no data: call partial_fit first")
        if self.method == "qr":  # min ||T c - Q^T Y||^2 + ridge ||weights||^2, by SVD
            T, B = self._tri, self._QtY
            k = T.shape[1]
            pen = np.sqrt(self.ridge) * np.eye(k)[1 if self.fit_bias else 0:]
            sol = scipy.linalg.lstsq(np.vstack([T, pen]),
                                     np.vstack([B, np.zeros((len(pen), B.shape[1]))]))[0]
            if not self.fit_bias:
                sol = np.vstack([np.zeros((1, B.shape[1])), sol])
            self.coef = np.ascontiguousarray(sol.T)
            return self
        # syrk's upper triangle as it is (its lower one is zero): Cholesky reads no more, and
        # at F = 2000 the copy across the diagonal cost a fifth of the solve
        A = self.RtR.copy()
        A[1:, 1:] = self._gram
        F = A.shape[0] - 1
        A[np.arange(1, F + 1), np.arange(1, F + 1)] += self.ridge
        sl = slice(0 if self.fit_bias else 1, None)
        B = self.RtY[sl]
        try:
            sol = scipy.linalg.solve(A[sl, sl], B, assume_a="pos", lower=False)
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            # singular (ridge = 0, collinear features): least squares, on the whole matrix
            A[1:, 1:] += np.triu(A[1:, 1:], 1).T
            sol = scipy.linalg.lstsq(A[sl, sl], B)[0]
        if not self.fit_bias:
            sol = np.vstack([np.zeros((1, B.shape[1])), sol])
        self.coef = np.ascontiguousarray(sol.T)
        return self

    def fit(self, features, targets, washout: int = 0) -> "Ridge":
        """``reset``, ``partial_fit`` on one sequence (or on each of a list), ``solve``."""
        self.reset()
        if isinstance(features, (list, tuple)):
            if not isinstance(targets, (list, tuple)) or len(targets) != len(features):
                raise ValidationError("Ridge.fit.targets", "must be a list of the same length "
                                      "as the list of feature sequences", targets)
            for R, Y in zip(features, targets):
                self.partial_fit(R, Y, washout)
        else:
            self.partial_fit(features, targets, washout)
        return self.solve()


class RLS(Readout):
    """Recursive least squares readout (online; Sussillo & Abbott 2009, Neuron 63:544).

    Parameters
    ----------
    alpha : float > 0
        Initial inverse correlation P = I / alpha: after a pass over the data the
        coefficients are the ridge solution with lambda = alpha (on the bias too). Default 1.
    forgetting : float in (0, 1]
        Forgetting factor lambda (1: none).
    """

    def __init__(self, alpha: float = 1.0, forgetting: float = 1.0):
        self.alpha = positive(alpha, "RLS.alpha")
        self.forgetting = real_number(forgetting, "RLS.forgetting")
        if not 0.0 < self.forgetting <= 1.0:
            raise ValidationError("RLS.forgetting", f"must lie in (0, 1], got {forgetting!r}",
                                  forgetting)
        self.coef = self.Pm = None

    def _init(self, F, O):
        if self.coef is None:
            self.coef = np.zeros((O, F + 1))
            self.Pm = np.eye(F + 1) / self.alpha
        elif self.coef.shape != (O, F + 1):
            raise ValidationError("RLS.partial_fit", f"was trained with {self.coef.shape[1] - 1}"
                                  f" features and {self.coef.shape[0]} outputs, got {F} and {O}")

    def partial_fit(self, features, targets, washout: int = 0) -> np.ndarray:
        """Update on each step of a sequence (T, F) with targets (T, O); returns the errors
        before each update (T, O)."""
        R = _data(features, "RLS.partial_fit.features")
        Y = _data(targets, "RLS.partial_fit.targets")
        if R.shape[0] != Y.shape[0]:
            raise ValidationError("RLS.partial_fit.targets", f"has {Y.shape[0]} steps but the "
                                  f"features have {R.shape[0]}", targets)
        w = _washout(washout, R.shape[0], "RLS.partial_fit.washout")
        self._init(R.shape[1], Y.shape[1])
        R1 = np.ascontiguousarray(np.concatenate([np.ones((R.shape[0] - w, 1)), R[w:]], axis=1))
        E = np.empty((R1.shape[0], Y.shape[1]))
        _K.rls_fit(R1, np.ascontiguousarray(Y[w:]), self.coef, self.Pm, self.forgetting, E)
        return E

    fit = partial_fit  # online learning: fitting again continues from the current state


# -- reservoirs --------------------------------------------------------------------------
def _esn(esn, name, deep=False):
    if not isinstance(esn, (ESN, DeepESN) if deep else ESN) or esn.P is not None:
        raise ValidationError(name, f"expected a single rnndyn ESN{' or DeepESN' * deep}, got "
                              f"{type(esn).__name__}"
                              + ("" if getattr(esn, "P", None) is None else
                                 f" (a population of {esn.P}: pass esn[k])"), esn)
    return esn


def teacher_inputs(esn: ESN, inputs, targets, y0=None) -> np.ndarray:
    """Step inputs ``[u(n+1); d(n)]`` for teacher forcing: the reservoir reads the target of
    the previous step through W_fb. inputs (T, n_u) or None (no external input), targets
    (T, n_fb); ``y0`` (n_fb,) is the output before the first step (default 0).

    Returns
    -------
    array (T, n_u + n_fb)
    """
    esn = _esn(esn, "teacher_inputs.esn")
    D = _data(targets, "teacher_inputs.targets", (2,), esn.n_fb)
    U = np.zeros((D.shape[0], 0)) if inputs is None else \
        _data(inputs, "teacher_inputs.inputs", (2,), esn.n_u)
    if U.shape[0] != D.shape[0]:
        raise ValidationError("teacher_inputs.targets", f"has {D.shape[0]} steps but the inputs"
                              f" have {U.shape[0]}", targets)
    y0 = np.zeros(esn.n_fb) if y0 is None else as_array(y0, "teacher_inputs.y0", (esn.n_fb,))
    return np.concatenate([U, np.vstack([y0[None], D[:-1]])], axis=1)


class FitResult(NamedTuple):
    """Result of ``fit``: the readout (a list of P for a population), the reservoir state
    after the last step (h, (n,), (B, n) or (P, n)) and the last target (the output before
    a closed-loop continuation)."""

    readout: Readout | list
    final: np.ndarray
    last_target: np.ndarray


def fit(esn: ESN, inputs, targets, readout: Readout | None = None, *, washout: int = 0,
        h0=None, include_input: bool = False, teacher_forcing: bool | None = None,
        chunk: int = 2048, executor=None, chunks: int | None = None) -> FitResult:
    """Drive the reservoir with ``inputs`` and fit ``readout`` to ``targets`` on its states.

    The reservoir runs chunk by chunk (``rnndyn.run``) and each chunk goes straight into the
    readout's normal equations: memory is O(chunk * n + n^2), whatever the length.

    A population of P reservoirs (``ESN.stack``, e.g. a hyperparameter grid) runs in one
    kernel per chunk and gets one ridge readout per member (a list in ``readout``).

    Parameters
    ----------
    esn : ESN (single or a population) or DeepESN (features: all layers' states)
    inputs : array (T, n_u), (T, B, n_u) or None
        External input (None: none, for an autonomous generator with feedback). For a
        population, (T, n_u) is shared and (T, P, n_u) gives each member its own.
    targets : array (T, O) or (T, B, O)
        Desired outputs d(n) of the readout at each step (a population: (T, O) or
        (T, P, O)).
    readout : Ridge or RLS, optional
        Default ``Ridge(1e-8)``; for a population, a Ridge whose settings every member's
        readout copies.
    washout : int
        Initial steps of every sequence left out of the fit (transient of h0).
    h0 : array (n,) or (B, n), optional
    include_input : bool
        Features ``[u; x]`` (Jaeger 2001) instead of x.
    teacher_forcing : bool, optional
        Feed the targets back through W_fb (default: True iff the ESN has feedback).
    chunk : int
        Steps per chunk.
    executor : None, concurrent.futures executor or dask Client
        For a population: run sub-populations on it (``rnndyn.executors.map_population``;
        ``chunks`` of them, default one per worker). Every member's readout is the same as
        in process (the members are independent). Its Ridge readouts then carry ``coef``
        only (not the normal equations).

    Raises
    ------
    ValidationError
        Mismatched lengths, washout >= length, NaN in the data, feedback width != O.
    """
    if not isinstance(esn, (ESN, DeepESN)):
        raise ValidationError("fit.esn", f"expected an rnndyn ESN or DeepESN, got "
                              f"{type(esn).__name__}", esn)
    P = esn.P
    readout = Ridge() if readout is None else readout
    if not isinstance(readout, Readout) or (P is not None and not isinstance(readout, Ridge)):
        raise ValidationError("fit.readout", f"expected a Ridge{'' if P else ' or RLS'}, got "
                              f"{type(readout).__name__}", readout)
    chunk = positive_int(chunk, "fit.chunk")
    D = _data(targets, "fit.targets", (2, 3))
    if inputs is None:
        if esn.n_u:
            raise ValidationError("fit.inputs", f"this ESN has {esn.n_u} inputs; pass them",
                                  inputs)
        U = np.zeros(D.shape[:-1] + (0,))
    else:
        U = _data(inputs, "fit.inputs", (2, 3), esn.n_u)
    if P is not None:  # members along axis 1, as rnndyn.run wants them
        for name, a in (("inputs", U), ("targets", D)):
            if a.ndim == 3 and a.shape[1] != P:
                raise ValidationError(f"fit.{name}", f"has {a.shape[1]} sequences for a "
                                      f"population of {P}", a)
        U = np.broadcast_to(U[:, None] if U.ndim == 2 else U, (U.shape[0], P, U.shape[-1]))
        D = np.broadcast_to(D[:, None] if D.ndim == 2 else D, (D.shape[0], P, D.shape[-1]))
    if U.shape[:-1] != D.shape[:-1]:
        raise ValidationError("fit.targets", f"has shape {D.shape} but the inputs "
                              f"{U.shape}: one target per input step", targets)
    batch = D.ndim == 3 and P is None
    T = D.shape[0]
    w = _washout(washout, T, "fit.washout")
    tf = esn.n_fb > 0 if teacher_forcing is None else bool(teacher_forcing)
    if tf:
        if esn.n_fb != D.shape[-1]:
            raise ValidationError("fit.targets", f"teacher forcing feeds the {D.shape[-1]} "
                                  f"targets back, but the ESN has n_fb = {esn.n_fb}", targets)
        prev = np.concatenate([np.zeros((1,) + D.shape[1:]), D[:-1]])
        X = np.concatenate([U, prev], axis=-1)
    elif esn.n_fb:
        raise ValidationError("fit.teacher_forcing", "an ESN with feedback needs the "
                              "fed-back signal: use teacher_forcing=True", teacher_forcing)
    else:
        X = U
    if P is None and executor is not None:
        raise ValidationError("fit.executor", "splits a population over workers; a single "
                              "reservoir runs in process: pass executor=None", executor)
    if P is not None and check_executor(executor, "fit.executor") is not None:
        H0 = np.zeros((P, esn.n)) if h0 is None else \
            np.broadcast_to(as_array(np.atleast_2d(h0), "fit.h0", (None, esn.n)), (P, esn.n))
        # member-major (P, T, .) for map_population; a shared sequence goes once, (1, T, .)
        Um, Dm = (a[:, :1].swapaxes(0, 1) if a.strides[1] == 0 else a.swapaxes(0, 1)
                  for a in (U, D))
        settings = (readout.ridge, readout.fit_bias, readout.method, w, include_input, tf,
                    chunk)
        coef, final = map_population(_fit_members, executor, esn, (Um, Dm, H0), (settings,),
                                     chunks)
        readouts = [Ridge(readout.ridge, readout.fit_bias, readout.method) for _ in range(P)]
        for r, c in zip(readouts, coef):
            r.coef = c
        return FitResult(readouts, final, D[-1].copy())
    h = h0
    readouts = [Ridge(readout.ridge, readout.fit_bias, readout.method) for _ in range(P)] \
        if P else [readout]
    for r in readouts:
        if isinstance(r, Ridge):
            r.reset()
    # one plain reservoir and one sequence: the dedicated kernel into a reused buffer
    fast = isinstance(esn, ESN) and P is None and not batch
    if fast:
        h = np.zeros(esn.n) if h0 is None else as_array(h0, "fit.h0", (esn.n,))
        buf = np.empty((min(chunk, T), esn.n))
    for start in range(0, T, chunk):
        stop = min(start + chunk, T)
        if fast:
            S = buf[:stop - start]
            _states_into(esn, X[start:stop], h, S, start)
            h = S[-1].copy()  # the buffer is overwritten by the next chunk
        else:
            res = run(esn, X[start:stop], h)
            h = res.final
            S = res.states
        lo = max(w - start, 0)
        if lo >= stop - start:
            continue
        R = S[lo:]
        if include_input:
            R = np.concatenate([U[start + lo:stop], R], axis=-1)
        Y = D[start + lo:stop]
        if P is not None:  # one BLAS update per member and chunk
            for k, r in enumerate(readouts):
                r.partial_fit(R[:, k], Y[:, k])
        elif isinstance(readout, RLS):
            readout.partial_fit(R.reshape(-1, R.shape[-1]) if batch else R,
                                Y.reshape(-1, Y.shape[-1]) if batch else Y)
        elif fast:  # R is a finite kernel output, Y checked above
            readout._accumulate(R, Y)
        else:
            readout.partial_fit(R, Y)
    for r in readouts:
        if isinstance(r, Ridge):
            r.solve()
    last = D[-1].copy()
    return FitResult(readouts if P else readout, h, last)


#: multiply-adds a step from which a single reservoir's run splits its rows over numba's
#: threads (one parallel region a step, ~1.5 us). On 2 cores, 10% density: N = 500 (25 000
#: nonzeros) 9.0 -> 7.9 us a step (not worth a thread a busy machine may not give), N = 700
#: 16.3 -> 12.3, N = 2000 144 -> 70 (each core's half of W nearly fits its L2 cache)
PARALLEL_WORK = 40_000


def _row_blocks(esn, threads):
    """Row bounds (threads + 1,) splitting W's multiply-adds evenly."""
    indptr = esn.kernel_params[7] if esn.uses_sparse else np.arange(esn.n + 1) * esn.n
    return np.searchsorted(indptr, np.linspace(0, indptr[-1], threads + 1)).astype(np.int64)


def _states_into(esn, X, h0, S, t0=0):
    """States of a single ESN on X (T, n_in) from h0 into S (T, n) (``_K.esn_states``, or
    ``esn_states_parallel`` for large reservoirs when numba has several threads);
    DivergenceError at the first non-finite state (checked once per call: a NaN or inf
    stays in the state, so the last row tells)."""
    p, X = esn.kernel_params, np.ascontiguousarray(X)
    threads = numba.get_num_threads()
    work = len(p[5]) if esn.uses_sparse else esn.n ** 2
    if threads > 1 and work >= PARALLEL_WORK:
        _K.esn_states_parallel(p, h0, X, S, _row_blocks(esn, threads))
    else:
        _K.esn_states(p, h0, X, S)
    if len(S) and not np.all(np.isfinite(S[-1])):
        bad = int(np.argmin(np.all(np.isfinite(S), axis=1)))
        raise DivergenceError(f"state became non-finite at step {t0 + bad + 1}; check the "
                              "weights for runaway growth", t=float(t0 + bad + 1))


def _fit_members(pop, U, D, H0, settings):
    """``fit`` in process on a sub-population with member-major data (P, T, .), or (1, T, .)
    shared by every member; returns (coef (P, O, 1 + F), final (P, n)). Module level: an
    executor pickles it by reference."""
    ridge, fit_bias, method, washout, include_input, tf, chunk = settings
    U, D = (a[0] if a.shape[0] == 1 else a.swapaxes(0, 1) for a in (U, D))
    res = fit(pop, U, D, Ridge(ridge, fit_bias, method), washout=washout, h0=H0,
              include_input=include_input, teacher_forcing=tf, chunk=chunk)
    return np.stack([r.coef for r in res.readout]), res.final


class SweepResult(NamedTuple):
    """Result of ``sweep``: the grid (P, 3) of (spectral radius, input scaling, leak) per
    member, the test NRMSE (P,) of each member's one-step predictions (inf where the
    reservoir diverged), the population and its readouts."""

    grid: np.ndarray
    nrmse: np.ndarray
    population: ESN
    readouts: list


def sweep(esn: ESN, inputs, targets, test_inputs, test_targets, *, spectral_radius=None,
          input_scaling=None, leak=None, ridge: float = 1e-8, washout: int = 0,
          include_input: bool = False, executor=None, chunks: int | None = None,
          chunk: int = 2048) -> SweepResult:
    """Hyperparameter sweep in one call: the population ``esn.grid(spectral_radius,
    input_scaling, leak)`` (every combination) is trained by ridge regression on (inputs,
    targets) and scored on (test_inputs, test_targets), continuing from each member's state
    after training; one population kernel per chunk of time, or sub-populations on
    ``executor`` (identical results).

    Parameters
    ----------
    esn : ESN without feedback (n_fb = 0)
    inputs, targets : arrays (T, n_u), (T, O)
    test_inputs, test_targets : arrays (T', n_u), (T', O)
    spectral_radius, input_scaling, leak : sequences, optional
        See ``ESN.grid``.
    ridge, washout, include_input, chunk : as in ``fit``
    executor, chunks : as in ``fit``

    Returns
    -------
    SweepResult
    """
    from ..analysis.reservoir import nrmse

    esn = _esn(esn, "sweep.esn")
    if esn.n_fb:
        raise ValidationError("sweep.esn", f"has {esn.n_fb} feedback inputs; the sweep scores "
                              "open-loop predictions: use a reservoir without feedback", esn)
    pop, grid = esn.grid(spectral_radius, input_scaling, leak)
    res = fit(pop, inputs, targets, Ridge(ridge), washout=washout,
              include_input=include_input, chunk=chunk, executor=executor, chunks=chunks)
    UT = _data(test_inputs, "sweep.test_inputs", (2,), esn.n_u)
    DT = _data(test_targets, "sweep.test_targets", (2,), res.readout[0].coef.shape[0])
    if UT.shape[0] != DT.shape[0]:
        raise ValidationError("sweep.test_targets", f"has {DT.shape[0]} steps but the test "
                              f"inputs {UT.shape[0]}", test_targets)
    coef = np.stack([r.coef for r in res.readout])
    S = map_population(_predict_members, executor, pop, (res.final, coef),
                       (UT, include_input), chunks)[0]
    score = np.array([nrmse(y, DT) if np.all(np.isfinite(y)) else np.inf for y in S])
    return SweepResult(grid, score, pop, res.readout)


def _predict_members(pop, H0, coef, U, include_input):
    """One-step predictions (P, T, O) of each member from its state H0[k] on inputs U."""
    S = run(pop, U, H0, on_divergence="return").states  # (T, P, n)
    if include_input:
        S = np.concatenate([np.broadcast_to(U[:, None], S.shape[:2] + U.shape[1:]), S], -1)
    return (np.einsum("tpf,pof->pto", S, coef[:, :, 1:]) + coef[:, None, :, 0],)


def states(esn: ESN, inputs, h0=None, *, include_input: bool = False) -> np.ndarray:
    """Reservoir states (T, n) (or features [u; x] (T, n_u + n)) driven by inputs (T, n_in)."""
    esn = _esn(esn, "states.esn", deep=True)
    U = _data(inputs, "states.inputs", (2, 3), esn.n_in)
    if isinstance(esn, ESN) and U.ndim == 2:
        R = np.empty((U.shape[0], esn.n))
        _states_into(esn, U, np.zeros(esn.n) if h0 is None else
                     as_array(h0, "states.h0", (esn.n,)), R)
    else:
        R = run(esn, U, h0).states
    return np.concatenate([U, R], axis=-1) if include_input else R


def generate(esn: ESN, readout: Readout, n_steps: int, h0, y0=None, *, inputs=None,
             include_input: bool = False, into_input: bool = False) -> tuple:
    """Closed-loop run: the readout's output is fed back at every step (one numba kernel).

    Two generative set-ups: output feedback through W_fb (Jaeger 2001; the ESN has
    ``n_fb = O``), or ``into_input=True``, a one-step predictor trained on ``u(n+1) =
    d(n)`` whose prediction becomes its next input (``n_u = O``).

    Parameters
    ----------
    esn : ESN
    readout : fitted Readout with O outputs
    n_steps : int
    h0 : array (n,)
        State before the first step (e.g. ``fit(...).final``: warm-up by teacher forcing).
    y0 : array (O,), optional
        The output before the first step (e.g. the last target). Default 0.
    inputs : array (n_steps, n_u), optional
        External inputs during generation (not with ``into_input``).
    include_input : bool
        The readout's features are [u; x] (as when fitted).

    Returns
    -------
    (outputs (n_steps, O), states (n_steps, n))

    Raises
    ------
    ValidationError
        Shapes that do not fit together; DivergenceError if the state blows up.
    """
    esn = _esn(esn, "generate.esn")
    n_steps = positive_int(n_steps, "generate.n_steps", minimum=0)
    C = np.ascontiguousarray(readout._fitted())
    O = C.shape[0]
    F = C.shape[1] - 1
    want_F = esn.n + (esn.n_u if include_input else 0)
    if F != want_F:
        raise ValidationError("generate.readout", f"has {F} features, the ESN gives {want_F} "
                              f"(include_input={include_input})", readout)
    if not ((esn.n_u == O and esn.n_fb in (0, O)) if into_input else esn.n_fb == O):
        raise ValidationError("generate.esn", f"closed loop needs n_fb = O = {O} (feedback) or "
                              f"n_u = O with into_input=True; the ESN has n_u = {esn.n_u}, "
                              f"n_fb = {esn.n_fb}", esn)
    if into_input:
        if inputs is not None:
            raise ValidationError("generate.inputs", "with into_input=True the outputs are the"
                                  " inputs; pass None", inputs)
        U = np.zeros((n_steps, esn.n_u))
    elif inputs is None:
        if esn.n_u:
            raise ValidationError("generate.inputs", f"this ESN has {esn.n_u} inputs; pass "
                                  f"them ({n_steps}, {esn.n_u})", inputs)
        U = np.zeros((n_steps, 0))
    else:
        U = _data(inputs, "generate.inputs", (2,), esn.n_u)
        if U.shape[0] != n_steps:
            raise ValidationError("generate.inputs", f"has {U.shape[0]} steps, n_steps is "
                                  f"{n_steps}", inputs)
    h = as_array(h0, "generate.h0", (esn.n,)).copy()
    y = np.zeros(O) if y0 is None else as_array(y0, "generate.y0", (O,)).copy()
    X = np.empty((n_steps, esn.n))
    Y = np.empty((n_steps, O))
    bad = _K.esn_generate(esn.kernel_params, h, y, np.ascontiguousarray(U), C,
                          bool(include_input), bool(into_input), X, Y)
    if bad >= 0:
        raise DivergenceError(f"closed-loop state became non-finite at step {bad}; lower the "
                              "spectral radius or regularise the readout more", t=float(bad))
    return Y, X


class ForceResult(NamedTuple):
    """Result of ``force``: the trained readout (an RLS), the outputs during training (before
    each update) (T, O), the states (T, n) and the final state (n,)."""

    readout: RLS
    outputs: np.ndarray
    states: np.ndarray
    final: np.ndarray


def force(esn: ESN, targets, *, inputs=None, readout: RLS | None = None, h0=None,
          teacher: bool = False, every: int = 1, include_input: bool = False) -> ForceResult:
    """Online training with the reservoir in the loop (one numba kernel over time).

    ``teacher=False``: FORCE learning (Sussillo & Abbott 2009, Neuron 63:544): the fed-back
    signal is the readout's own output, whose error RLS keeps small from the first steps.
    ``teacher=True``: RLS on teacher-forced states (the target is fed back).

    Parameters
    ----------
    esn : ESN with ``n_fb = O``
    targets : array (T, O)
    inputs : array (T, n_u), optional
    readout : RLS, optional
        Default ``RLS(alpha=1)``; trained further if already fitted.
    every : int
        Update every ``every`` steps.
    """
    esn = _esn(esn, "force.esn")
    D = _data(targets, "force.targets")
    T, O = D.shape
    if esn.n_fb != O:
        raise ValidationError("force.esn", f"FORCE feeds the {O} outputs back: the ESN needs "
                              f"n_fb = {O}, has {esn.n_fb}", esn)
    U = np.zeros((T, esn.n_u)) if inputs is None and esn.n_u == 0 else \
        _data(inputs, "force.inputs", (2,), esn.n_u)
    if U.shape[0] != T:
        raise ValidationError("force.targets", f"has {T} steps but the inputs {U.shape[0]}",
                              targets)
    every = positive_int(every, "force.every")
    readout = RLS() if readout is None else readout
    if not isinstance(readout, RLS):
        raise ValidationError("force.readout", f"expected an RLS, got {type(readout).__name__}",
                              readout)
    readout._init(esn.n + (esn.n_u if include_input else 0), O)
    h = np.zeros(esn.n) if h0 is None else as_array(h0, "force.h0", (esn.n,)).copy()
    X = np.empty((T, esn.n))
    Y = np.empty((T, O))
    bad = _K.esn_force(esn.kernel_params, h, np.zeros(O), np.ascontiguousarray(U),
                       np.ascontiguousarray(D), readout.coef, readout.Pm, bool(include_input),
                       int(teacher), readout.forgetting, every, X, Y)
    if bad >= 0:
        raise DivergenceError(f"state became non-finite at step {bad} during online "
                              "learning; lower the spectral radius or raise RLS alpha",
                              t=float(bad))
    return ForceResult(readout, Y, X, X[-1].copy())
