"""Run discrete-time cells over sequences: ``run`` (whole sequences, batched) and
``DiscreteStepper`` (one step at a time, for simulators).

One shared runner drives any map (``kind == "map"``) of ``rnndyn.models``: B sequences with
one parameter set, or a population of P parameter sets (one sequence each), run inside one
numba kernel (``prange`` over the batch). Populations of Elman, fully recurrent, IndRNN,
Jordan, LSTM and GRU cells run with their members on the SIMD lanes instead
(``_map_lanes_kernels``; ``run`` and ``DiscreteStepper``). Cells that ship a batched BLAS
kernel (LSTM, GRU, Elman, IndRNN) use it for sequences sharing parameters: one matrix
product per step for the whole batch, and a ``Stacked`` of such cells runs layer after layer
on them (each layer reads the outputs of the one below at the same step, so this equals
stepping the stack).
"""
from __future__ import annotations

import os
import weakref
from concurrent.futures import wait
from contextlib import nullcontext
from typing import NamedTuple

import numba
import numpy as np

from .._blas import blas_threads_for
from .._validate import front_door
from ..errors import DivergenceError, ValidationError
from ..models.base import Model
from ..models.cell import NUMPY_ACTIVATIONS
from ..models.deep import Bidirectional, BidirectionalStack, Stacked
from ._common import check_fits, check_model, initial_state, integrator, writable
from . import _map_lanes_kernels as _map_lanes
from ._lanes_kernels import LANES, aligned_zeros
from .stepper import SERIAL_WORK

DTYPES = (np.float64, np.float32)


class RunResult(NamedTuple):
    """Result of ``run``.

    Attributes
    ----------
    states : array (T, B, n) or (T, n), or None
        States h_1..h_T after each input (h_0 is not included, as in PyTorch); None if the run
        was asked not to keep them (``states=False``).
    outputs : array (T, B, n_out) or (T, n_out)
        Outputs after each step (LSTM/GRU: h).
    final : array (B, n) or (n,)
        The last state h_T (h_0 if T = 0), to continue a sequence.
    status : array (B,) of int
        0 success, 1 the state became non-finite (only with ``on_divergence="return"``; the
        member's rows from the failing step on are NaN).
    """

    states: np.ndarray
    outputs: np.ndarray
    final: np.ndarray
    status: np.ndarray


def cast_params(p, dtype):
    """``p`` with every float array converted to ``dtype`` (C-contiguous); ints untouched.
    An array that must be copied is copied to a 64-byte boundary (numpy's are on 16): the
    kernels then use it as it is where they would copy it to one per call (the LSTM's W_hh^T
    at B = 1, float32 H = 64: 3 us a call)."""
    if isinstance(p, tuple):
        return tuple(cast_params(q, dtype) for q in p)
    if not (isinstance(p, np.ndarray) and p.dtype.kind == "f"):
        return p
    if p.dtype == dtype and p.flags.c_contiguous:
        return p
    check_fits(p, dtype)
    out = aligned_zeros(p.shape, dtype)
    out[...] = p
    return out


#: model -> {dtype: its kernel parameters in dtype}: models are immutable (their
#: kernel_params are cached too), and casting the tuple cost ~15 us a call
_PARAMS = weakref.WeakKeyDictionary()


def kernel_params_as(model, dtype):
    """``cast_params(model.kernel_params, dtype)``, computed once per model and dtype."""
    cached = _PARAMS.setdefault(model, {})
    if dtype not in cached:
        cached[dtype] = cast_params(model.kernel_params, dtype)
    return cached[dtype]


def lanes_params_as(model, dtype):
    """``_map_lanes_kernels.lanes_params`` of a population, computed once per model and
    dtype: (kind, LW, LY, PL, a, a2), the lane kernels' first arguments."""
    cached = _PARAMS.setdefault(model, {})
    key = ("lanes", dtype)
    if key not in cached:
        cached[key] = _map_lanes.lanes_params(kernel_params_as(model, dtype),
                                              model.population_lanes, dtype)
    return cached[key]


#: populations run on the lanes from this many members (P = 16 of H = 10 ran 0.65x the
#: per-member loops, 32 1.3x, 48 2.5x: idle lanes cost as much as busy ones) and while a
#: block's weights take at most _LANES_BYTES: each step reads them all, where a member's
#: loop keeps its own weights in cache for the whole sequence (float64 H = 40, 60, 100 with
#: 0.9, 2.0, 5.2 MB a block: 1.38x, 1.18x, 0.72x; a DiscreteStepper step at H = 100 0.82x)
_LANES_MIN_P, _LANES_BYTES = 32, 2 << 20


def on_lanes(model, dtype) -> bool:
    """Whether a population runs with its members on the SIMD lanes (``_map_lanes_kernels``:
    models whose ``population_lanes`` names a lane layout)."""
    if model.P is None or model.P < _LANES_MIN_P or \
            getattr(model, "population_lanes", None) is None:
        return False
    W_hh = model.kernel_params[1]  # (P, rows, H): a unit's or a gate's row each; IndRNN's u
    rows, H = W_hh.shape[1:] if W_hh.ndim == 3 else 2 * W_hh.shape[1:]
    return rows * (1 + H + model.n_in) * LANES * np.dtype(dtype).itemsize <= _LANES_BYTES


def _dtype(dtype, x):
    if dtype is None:
        dtype = np.float32 if getattr(x, "dtype", None) == np.float32 else np.float64
    dtype = np.dtype(dtype).type
    if dtype not in DTYPES:
        raise ValidationError("dtype", f"must be float64 or float32, got {dtype!r}", dtype)
    return dtype


def sequence_inputs(model, x, dtype, name: str = "run.inputs"):
    """``x`` (the argument ``name``) as a C-contiguous (T, B, n_in) array; returns (X, single)
    where single means the caller passed one sequence (T, n_in)."""
    m, P = model.n_in, model.P
    try:
        X = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValidationError(name, f"must be a numeric array (T, B, {m}), got {exc}", x) from None
    if X.dtype.kind not in "iuf":
        raise ValidationError(name, f"must be a real numeric array (T, B, {m}), got dtype "
                              f"{X.dtype}", x)
    want = f"(T, B, {m}) or (T, {m})" + (f" with B = P = {P}" if P else "")
    if X.ndim == 2 and X.shape[1] == m:
        single = True
        X = np.broadcast_to(X[:, None, :], (X.shape[0], P, m)) if P else X[:, None, :]
    elif X.ndim == 3 and X.shape[2] == m and (P is None or X.shape[1] == P):
        single = False
    else:
        raise ValidationError(name, f"expected shape {want} for a cell with {m} inputs, got "
                              f"{X.shape}", x)
    X = writable(np.ascontiguousarray(X, dtype=dtype))
    if not np.isfinite(X).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise ValidationError(name, f"must be finite, got {X[bad]} at index {bad}", x)
    return X, single and P is None


def _parallel(B, work_per_member):
    """Launching numba's threads costs tens of microseconds (far more on a loaded machine):
    worth it only for several members with real work each."""
    return B > 1 and work_per_member >= 20_000


#: multiply-adds of a batch (B T n (n + n_in)) from which its blocks of sequences run on
#: threads: a handover to the pool costs ~45 us (the BLAS thread switch included)
_BLOCK_WORK = 4_000_000
_pool = None


def _forget_pool():  # a forked child inherits the pool object but none of its threads
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)


def run_blocks(fn, B: int, n: int, work: int, blas: bool = True) -> list:
    """``[fn(lo, hi), ...]`` over blocks of the batch [0, B) of a batched kernel (LSTM,
    GRU; n state entries, ``work`` multiply-adds in all): one block per numba thread when
    the work pays for the handover, each block's BLAS products on one thread (the sequences
    never meet, so the blocks run their T steps with no synchronisation; the kernels release
    the GIL); else one block on the calling thread with BLAS threaded by size (left alone
    if not ``blas``: the kernel calls no BLAS for this batch). Python
    threads, not a prange: a parallel wrapper took numba 3.6x as long to compile (LSTM and
    GRU run and bptt in both precisions: 34 -> 125 s on a cold cache)."""
    parts = min(numba.get_num_threads(), B) if work >= _BLOCK_WORK else 1
    if parts == 1:
        with blas_threads_for(B * n ** 2) if blas else nullcontext():
            return [fn(0, B)]
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor
        _pool = ThreadPoolExecutor(numba.config.NUMBA_NUM_THREADS,
                                   thread_name_prefix="rnndyn-blocks")
    cuts = [c * B // parts for c in range(parts + 1)]
    with blas_threads_for(0):
        rest = [_pool.submit(fn, cuts[c], cuts[c + 1]) for c in range(1, parts)]
        try:
            first = fn(0, cuts[1])
        finally:  # never leave a block writing into arrays the caller is done with
            wait(rest)
        return [first] + [f.result() for f in rest]


@front_door()
def run(model: Model, inputs, h0=None, *, dtype=None, method: str = "auto",
        on_divergence: str = "raise", states: bool = True) -> RunResult:
    """Run a discrete cell over input sequences.

    Parameters
    ----------
    model : discrete model (``kind == "map"``), ``Bidirectional`` or ``BidirectionalStack``
        A single cell (B sequences share its parameters) or a population of P cells
        (``Model.stack``; sequence b runs on member b, so B = P). A bidirectional model runs
        its forward cell over the inputs and its backward cell over them reversed (layer by
        layer for a stack, each layer reading both directions of the one below); its states,
        outputs and finals are the [forward; backward] concatenations, aligned with the inputs
        in time.
    inputs : array (T, B, n_in) or (T, n_in)
        Input sequences, time-major; (T, n_in) is one sequence (fed to every member of a
        population). float64 or float32.
    h0 : array (n,) or (B, n), optional
        Initial state (LSTM: [h; c]); default zeros. A ``Bidirectional`` takes a pair
        ``(h0_forward, h0_backward)`` (entries may be None), a ``BidirectionalStack`` one such
        pair per layer.
    dtype : {None, numpy.float64, numpy.float32}
        Precision of the run; default float32 if inputs is float32, else float64. Parameters are
        cast to it.
    method : {"auto", "loop", "blas"}
        "loop": per-sequence loops inside numba, in parallel over long batches; "blas": the
        cell's batched kernel, one BLAS product per step (LSTM, Elman, IndRNN, and GRU with
        reset_after=True); "auto" picks blas for a single cell that has such a kernel (it
        measured as fast or faster even at B = 1: 5-15% at H = 64-128), else loop. A population
        of Elman, fully recurrent, IndRNN, Jordan, LSTM or GRU cells runs with its members on
        the SIMD lanes under "auto" (Elman: 6x the per-member loops in float64, 11x in float32,
        at P = 1000, H = 10); "loop" runs each member's own loop.
    on_divergence : {"raise", "return"}
    states : bool
        Keep every step's state (default). False returns ``states=None`` (outputs and the final
        state only, as PyTorch's modules do); the LSTM's and GRU's batched kernels then write
        the outputs alone (an LSTM state [h; c] is twice its output h): float32 LSTM, H = 256,
        B = 32, T = 1000 writes 32 MB instead of 98.

    Returns
    -------
    RunResult
        ``states`` (T, B, n) or None, ``outputs`` (T, B, n_out), ``final`` (B, n), ``status``
        (B,); without the B axis when inputs was one sequence (T, n_in) and the model is
        single.

    Raises
    ------
    ValidationError
        Wrong input width or shape, bad h0, non-finite inputs, unknown method.
    DivergenceError
        If a state becomes non-finite and ``on_divergence="raise"``.
    """
    if not isinstance(states, (bool, np.bool_)):
        raise ValidationError("states", f"must be True or False, got {states!r}", states)
    if isinstance(model, (Bidirectional, BidirectionalStack)):
        res = _run_bidirectional(model, inputs, h0, dtype=dtype, method=method,
                                 on_divergence=on_divergence)
        return res if states else res._replace(states=None)
    check_model(model, "run", kind="map")
    if method not in ("auto", "loop", "blas"):
        raise ValidationError("method", f"must be 'auto', 'loop' or 'blas', got {method!r}",
                              method)
    if on_divergence not in ("raise", "return"):
        raise ValidationError("on_divergence", f"must be 'raise' or 'return', got "
                              f"{on_divergence!r}", on_divergence)
    dtype = _dtype(dtype, inputs)
    X, single = sequence_inputs(model, inputs, dtype)
    H0 = initial_state(model, h0, X.shape[1], dtype, "h0")
    if method == "blas" and (getattr(model, "batch_kernel", None) is None or model.P is not None):
        raise ValidationError("method", f"'blas' needs a single {type(model).__name__} with a "
                              "batched kernel (LSTM, Elman, IndRNN, GRU with reset_after=True)",
                              method)
    res = run_arrays(model, X, H0, method, on_divergence, bool(states))
    if single:
        return RunResult(None if res.states is None else res.states[:, 0], res.outputs[:, 0],
                         res.final[0], res.status)
    return res


def run_arrays(model: Model, X: np.ndarray, H0: np.ndarray, method: str = "auto",
               on_divergence: str = "raise", states: bool = True, gates=None) -> RunResult:
    """``run`` of arguments already checked: X (T, B, n_in) C-contiguous and finite in the
    run's dtype, H0 (B, n) in it (``sequence_inputs``, ``initial_state``); for callers that
    checked them at their own front door (``train.bptt``: ~15 us a call less). gates: a
    cell's ``gate_store`` array, filled by its batched kernel (for BPTT)."""
    T, B = X.shape[:2]
    dtype = X.dtype.type
    pop = model.P is not None
    blas = getattr(model, "batch_kernel", None)
    use_blas = blas is not None and not pop and method != "loop"
    lanes = method != "loop" and on_lanes(model, dtype)
    layered = isinstance(model, Stacked) and method != "loop" and \
        all(c.batch_kernel is not None for c in model.layers)
    p = kernel_params_as(model, dtype)
    # without states, the batched kernels keep the latest state in Y's one row
    Y = np.empty((T if states or not (use_blas or lanes) else min(T, 1), B, model.n),
                 dtype=dtype)
    OUT = np.empty((T, B, model.n_out), dtype=dtype)
    info = np.zeros((B, 3), dtype=np.int64)
    if T > 0:
        work = T * model.n * (model.n + model.n_in)
        if use_blas:
            extra = () if gates is None else (gates,)
            run_blocks(lambda lo, hi: blas(p, H0, X, Y, OUT, info, lo, hi, *extra), B,
                       model.n, B * work, model.batch_blas(B, dtype))
        elif layered:
            _run_layers(model, H0, X, Y, OUT, info, gates)
        elif lanes:
            lp = lanes_params_as(model, dtype)
            kernel = _map_lanes.run_lanes if len(lp[1]) > 1 and _parallel(B, work) \
                else _map_lanes.run_lanes_serial
            kernel(*lp, H0, X, Y, OUT, info)
        else:
            K = integrator(model, pop)
            kernel = K.run_batch if _parallel(B, work) else K.run_batch_serial
            kernel(p, H0, X, Y, OUT, info)
    status = info[:, 0].copy()
    diverged = np.flatnonzero(status) if status.any() else ()
    for b in diverged:
        Y[min(info[b, 1], Y.shape[0]) - 1:, b] = np.nan
        OUT[info[b, 1] - 1:, b] = np.nan
    if len(diverged) and on_divergence == "raise":
        b = int(diverged[0])
        raise DivergenceError(f"state became non-finite at step {info[b, 1]} (sequence {b}, "
                              f"unit {info[b, 2]}); check the weights for runaway growth or "
                              "pass on_divergence='return'", t=float(info[b, 1]),
                              unit=int(info[b, 2]), individual=b)
    return RunResult(Y if states else None, OUT, (Y[-1] if T > 0 else H0).copy(), status)


def _run_layers(model, H0, X, Y, OUT, info, gates=None) -> None:
    """A ``Stacked`` of cells with batched kernels, layer after layer; info gets the first
    divergence over the layers (its unit indexed in the whole state). gates: the stack's
    ``gate_store`` (one entry a layer), if any."""
    x, off = X, 0
    T, B = X.shape[:2]
    for l, cell in enumerate(model.layers):
        extra = () if gates is None or gates[l] is None else (gates[l],)
        n = cell.n
        # one layer writes Y itself (a copy of 16 MB at T = 1000, B = 32, H = 64 in float32)
        Yl = Y if len(model.layers) == 1 else np.empty(X.shape[:2] + (n,), dtype=Y.dtype)
        out = np.empty(X.shape[:2] + (cell.n_out,), dtype=Y.dtype)
        il = np.zeros_like(info)
        p, h0 = kernel_params_as(cell, Y.dtype.type), np.ascontiguousarray(H0[:, off:off + n])
        run_blocks(lambda lo, hi: cell.batch_kernel(p, h0, x, Yl, out, il, lo, hi, *extra), B,
                   n, B * T * n * (n + cell.n_in), cell.batch_blas(B, Y.dtype))
        if Yl is not Y:
            Y[..., off:off + n] = Yl
        for b in np.flatnonzero(il[:, 0]):
            if info[b, 0] == 0 or il[b, 1] < info[b, 1]:
                info[b] = (1, il[b, 1], off + il[b, 2])
        x, off = out, off + n
    if model.W_out.shape[0]:
        OUT[:] = NUMPY_ACTIVATIONS[model.output_activation](x @ model.W_out.T + model.b_out)
    else:
        OUT[:] = x


def _run_bidirectional(model, inputs, h0, **kwargs) -> RunResult:
    """``run`` of a Bidirectional (one layer) or a BidirectionalStack (layer by layer)."""
    layers = model.layers if isinstance(model, BidirectionalStack) else (model,)
    pairs = (None,) * len(layers) if h0 is None else (h0,) if len(layers) == 1 and \
        isinstance(model, Bidirectional) else tuple(h0) if isinstance(h0, (tuple, list)) \
        else None
    if pairs is None:
        raise ValidationError("run.h0", "a BidirectionalStack takes one (forward, backward) "
                              f"pair per layer, got {type(h0).__name__}", h0)
    if len(pairs) != len(layers):
        raise ValidationError("run.h0", f"expected one (forward, backward) pair per layer "
                              f"({len(layers)}), got {len(pairs)}", h0)
    y = np.asarray(inputs)
    states, finals, status = [], [], 0
    for layer, pair in zip(layers, pairs):
        if pair is not None and not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValidationError("run.h0", "a bidirectional layer takes a (forward, backward) "
                                  f"pair of initial states, got {type(pair).__name__} "
                                  f"{np.shape(pair)}", h0)
        h_f, h_b = (None, None) if pair is None else pair
        f = run(layer.forward, y, h_f, **kwargs)
        b = run(layer.backward, y[::-1], h_b, **kwargs)
        y = np.concatenate([f.outputs, b.outputs[::-1]], axis=-1)
        states += [f.states, b.states[::-1]]
        finals += [f.final, b.final]
        status = np.maximum(status, np.maximum(f.status, b.status))
    return RunResult(np.concatenate(states, axis=-1), y, np.concatenate(finals, axis=-1),
                     status)


class DiscreteStepper:
    """Advance a discrete cell (B sequences, or a population) one input at a time.

    A step allocates nothing besides the returned copy of the outputs.

    Parameters
    ----------
    model : discrete model
        Single cell or population of P cells.
    batch : int, optional
        Number of parallel sequences for a single cell (default 1). A population steps its P
        members.
    h0 : array (n,) or (B, n), optional
        Initial state (default zeros).
    dtype : numpy.float64 or numpy.float32

    Examples
    --------
    >>> stepper = DiscreteStepper(lstm, batch=4)
    >>> for u_t in us:                     # u_t: (4, n_in)
    ...     y_t = stepper.step(u_t)        # (4, H)
    """

    @front_door()
    def __init__(self, model: Model, batch: int | None = None, h0=None, dtype=np.float64):
        if isinstance(model, (Bidirectional, BidirectionalStack)):
            raise ValidationError("DiscreteStepper.model", f"{type(model).__name__} is not "
                                  "causal: its backward cell reads the sequence from the end, "
                                  "so it cannot be stepped; use rnndyn.run on whole sequences, "
                                  "or step its forward cell", type(model).__name__)
        check_model(model, "DiscreteStepper", kind="map")
        if model.P is not None and batch not in (None, model.P):
            raise ValidationError("batch", f"a population steps its {model.P} members; pass "
                                  f"batch=None, got {batch!r}", batch)
        if batch is not None and (not isinstance(batch, (int, np.integer)) or batch < 1):
            raise ValidationError("batch", f"must be an int >= 1, got {batch!r}", batch)
        self.model = model
        self.dtype = _dtype(dtype, None)
        self._single = model.P is None and batch is None
        self.B = model.P or batch or 1
        self._K = integrator(model, model.P is not None)
        self._p = kernel_params_as(model, self.dtype)
        member = model[0] if model.P else model
        ws = model.functions.work_size(member.kernel_params)
        self._work = np.empty((self.B, ws), dtype=self.dtype)
        self._H = np.zeros((self.B, model.n), dtype=self.dtype)
        self._Hn = np.zeros_like(self._H)
        self._out = np.zeros((self.B, model.n_out), dtype=self.dtype)
        self._status = np.zeros(self.B, dtype=np.int64)
        parallel = _parallel(self.B, 50 * model.n * (model.n + model.n_in))
        self._advance = self._K.advance_batch if parallel else self._K.advance_batch_serial
        if on_lanes(model, self.dtype):
            # the members on the SIMD lanes, behind the template's signature; small steps on
            # the calling thread, as Stepper's (SERIAL_WORK: robust on a busy machine)
            lp = lanes_params_as(model, self.dtype)
            kind, LW, LY = lp[:3]
            rows = _map_lanes.scratch_rows(kind, _map_lanes.hidden_size(kind, LW[0]),
                                           model.n_in, LY.shape[1])
            S = aligned_zeros((len(LW), rows, LANES), self.dtype)
            work = self.B * (model.n * (model.n + model.n_in) + 500)
            lanes = _map_lanes.advance_lanes if len(LW) > 1 and work >= SERIAL_WORK \
                else _map_lanes.advance_lanes_serial
            self._advance = lambda p, H, X, Hn, out, work, status: lanes(
                *lp, H, X, Hn, out, status, S)
        self._x0 = np.zeros((self.B, model.n_in), dtype=self.dtype)
        self.reset(h0)

    @front_door()
    def reset(self, h0=None) -> np.ndarray:
        """Set the state (default zeros) and the step counter to 0; returns the state."""
        self._H[:] = initial_state(self.model, h0, self.B, self.dtype, "h0")
        self._reset_outputs = True  # computed when asked for (``outputs``)
        self.t = 0
        return self.state

    @front_door()
    def step(self, u=None) -> np.ndarray:
        """Feed one input ``u``, (n_in,) or (B, n_in) (None: zero input); returns the outputs
        (n_out,) or (B, n_out).

        Raises
        ------
        DivergenceError
            If a member's state became non-finite.
        """
        X = self._x0 if u is None else self._input(u)
        self._advance(self._p, self._H, X, self._Hn, self._out, self._work, self._status)
        self._H, self._Hn = self._Hn, self._H
        self._reset_outputs = False
        self.t += 1
        if self._status.any():
            b = int(np.argmax(self._status))
            raise DivergenceError(f"state became non-finite at step {self.t} (member {b})",
                                  t=float(self.t), individual=b)
        return (self._out[0] if self._single else self._out).copy()

    def _input(self, u) -> np.ndarray:
        m = self.model.n_in
        if m == 0:
            if np.size(u):
                raise ValidationError("DiscreteStepper.step.u", "this model has no inputs "
                                      "(n_in = 0); pass None", u)
            return self._x0
        try:
            U = np.asarray(u, dtype=self.dtype)
        except (TypeError, ValueError) as exc:
            raise ValidationError("DiscreteStepper.step.u", f"must be a numeric array, got "
                                  f"{u!r} ({exc})", u) from None
        if U.shape not in ((m,), (self.B, m)):
            raise ValidationError("DiscreteStepper.step.u", f"expected shape ({m},) or "
                                  f"({self.B}, {m}), got {U.shape}", u)
        if not np.all(np.isfinite(U)):
            raise ValidationError("DiscreteStepper.step.u", "must be finite", u)
        return np.ascontiguousarray(np.broadcast_to(U, (self.B, m)))

    @property
    def state(self) -> np.ndarray:
        """Current state, (n,) or (B, n) (a copy)."""
        return (self._H[0] if self._single else self._H).copy()

    @property
    def outputs(self) -> np.ndarray:
        """Outputs of the current state, (n_out,) or (B, n_out) (a copy): what the last
        ``step`` returned, or after ``reset`` those of the initial state."""
        if self._reset_outputs:
            self._K.outputs_of(self._p, self._H, self._out)
            self._reset_outputs = False
        return (self._out[0] if self._single else self._out).copy()
