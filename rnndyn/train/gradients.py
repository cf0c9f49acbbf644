"""Gradients of a sequence loss with respect to a map model's parameters: exact BPTT,
truncated BPTT(h, h') and RTRL, with one signature so a trainer switches method by name::

    loss, grad = bptt(model, inputs, targets, loss="mse", fields=None)

``grad`` is shaped like ``model.to_vector(fields)``. Every map model works (Elman, Jordan,
FullyRecurrent with masks, IndRNN, SecondOrderRNN, LSTM with peepholes, GRU and its
variants, Stacked, user ``Map`` models), and every flow (CTRNN, user ``Flow``) discretised
by Euler or RK4 (``dt=``, ``scheme=``; RTRL: Euler only): the methods are generic numba templates over the
model's own kernels (``step``, ``vjp``, ``jacobian``, ``param_jacobian``, ``output_vjp``;
see ``rnndyn.models.base``), specialised per family (``rnndyn._jit.bind``). The gradient
with respect to the family's raw parameter layout is mapped to ``to_vector(fields)`` by
``model.theta_index(fields)`` (shared biases such as b_ih + b_hh each get the full
gradient; entries outside a topology mask are not parameters).

Inputs are time-major, as in ``rnndyn.run``: (T, B, n_in) for B sequences or (T, n_in) for
one; targets (T, B, n_out) or (T, n_out); ``mask`` (T,) or (T, B) says which steps carry a
target (default: all). The loss is one of ``rnndyn.train.losses`` (``"mse"``,
``"cross_entropy"``, ``"bits"``).

References: Werbos (1990), Proc. IEEE 78(10):1550 (BPTT); Williams & Peng (1990), Neural
Computation 2(4):490 (truncated BPTT(h, h')); Williams & Zipser (1989), Neural Computation
1(2):270 (RTRL).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._blas import blas_threads_for
from .._jit import bind
from .._validate import choice, positive, positive_int
from ..errors import DivergenceError, ValidationError
from ..integrate import simulate
from ..integrate.plumbing import (check_model, initial_state, kernel_params_as, run_arrays,
                                  run_blocks, sequence_inputs)
from ..models import gated
from ..models.deep import Bidirectional, BidirectionalStack, Stacked
from .losses import get_loss

_HERE = Path(__file__).parent
_DTYPES = (np.float64, np.float32)


class Gradient(NamedTuple):
    """``(loss, gradient)``: the loss value and its gradient shaped like
    ``model.to_vector(fields)``."""

    loss: float
    gradient: np.ndarray


class _Problem(NamedTuple):
    model: object
    loss: object
    index: np.ndarray  # positions of to_vector(fields) in theta_raw
    X: np.ndarray  # (T, B, n_in)
    targets: np.ndarray  # (T, B, n_out)
    mask: np.ndarray  # (T, B) bool
    H0: np.ndarray  # (B, n)
    dtype: type
    dt: float | None = None  # flows: the step of the discretisation
    scheme: str = "rk4"  # flows: "euler" or "rk4"


def _dtype(dtype, where):
    try:
        dt = np.dtype(dtype).type
    except TypeError:
        dt = None
    if dt not in _DTYPES:
        raise ValidationError(f"{where}.dtype", f"must be float64 or float32, got {dtype!r}",
                              dtype)
    return dt


def prepare(model, inputs, targets, loss, fields, mask=None, h0=None, dtype=np.float64,
            where: str = "bptt", dt=None, scheme: str = "rk4", flows: bool = True) -> _Problem:
    """Check every argument of a gradient method (the names in errors start with ``where``)."""
    check_model(model, where, single=True, kind=None if flows else "map")
    if model.kind == "flow":
        if dt is None:
            raise ValidationError(f"{where}.dt", f"a flow ({type(model).__name__}) is "
                                  "differentiated as its Euler or RK4 discretisation: pass the "
                                  "step dt (and scheme='euler' or 'rk4')", dt)
        dt = positive(dt, f"{where}.dt")
        scheme = choice(scheme, f"{where}.scheme", ("euler", "rk4"))
    elif dt is not None:
        raise ValidationError(f"{where}.dt", f"only flows take a step dt; "
                              f"{type(model).__name__} is a map, pass dt=None", dt)
    loss = get_loss(loss, f"{where}.loss")
    index = model.theta_index(fields)
    dtype = _dtype(dtype, where)
    if model.kind == "map":  # the cast the forward pass takes (cached): float32 overflow
        try:  # named here, not as a divergence at step 1
            kernel_params_as(model, dtype)
        except ValidationError as exc:
            exc.qualify(where)
            raise
    X, single = sequence_inputs(model, inputs, dtype, f"{where}.inputs")
    T, B = X.shape[:2]
    if T == 0:
        raise ValidationError(f"{where}.inputs", "has no time steps (T = 0); pass at least one",
                              inputs)
    O = model.n_out
    want = (T, O) if single else (T, B, O)
    try:
        Tg = np.asarray(targets, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(f"{where}.targets", f"must be a numeric array of shape {want}, "
                              f"got {type(targets).__name__}", targets) from None
    if Tg.shape != want:
        raise ValidationError(f"{where}.targets", f"expected shape {want} (T, "
                              f"{'' if single else 'B, '}n_out = {O}) to match the inputs "
                              f"{np.shape(inputs)}, got {Tg.shape}", targets)
    Tg = Tg.reshape(T, B, O)
    if mask is None:
        M = np.ones((T, B), dtype=bool)
    else:
        M = np.asarray(mask)
        if M.dtype != bool or M.shape not in ((T,), (T, B)):
            raise ValidationError(f"{where}.mask", f"expected a bool array of shape ({T},) or "
                                  f"({T}, {B}): the steps that carry a target, got "
                                  f"{M.dtype} {M.shape}", mask)
        M = np.broadcast_to(M.reshape(T, -1), (T, B))
    if not M.any():
        raise ValidationError(f"{where}.mask", "selects no step; nothing to learn from", mask)
    loss.check_targets(Tg, M, where)
    H0 = initial_state(model, h0, B, dtype, f"{where}.h0")
    return _Problem(model, loss, index, X, Tg, M, H0, dtype, dt, scheme)


def grid(pb: _Problem) -> np.ndarray:
    """Times t_0..t_T of a discretised flow's states (step dt)."""
    return pb.dt * np.arange(pb.X.shape[0] + 1)


def forward(pb: _Problem, gates=None):
    """(states, loss value, dL/d outputs (T, B, n_out)) by the shared runner (maps: states
    h_1..h_T (T, B, n)) or integrator (flows: y_0..y_T (T+1, B, n), one Euler/RK4 step per
    input sample, the input held over the step). gates: the cell's ``gate_store`` array, if
    any, filled for the backward pass."""
    model = pb.model
    if model.kind == "map":
        res = run_arrays(model, pb.X, pb.H0, gates=gates)  # prepare checked them
        states, outputs = res.states, res.outputs
    else:
        T, B = pb.X.shape[:2]
        pop = type(model).stack([model] * B) if B > 1 else model
        U = np.concatenate([pb.X, pb.X[-1:]])  # a sample for t_T too (never used: held)
        tr = simulate(pop, pb.H0 if B > 1 else pb.H0[0], grid(pb), dt=pb.dt,
                      method=pb.scheme, hold="previous",
                      inputs=None if model.n_in == 0 else (U if B > 1 else U[:, 0]))
        states = np.ascontiguousarray(tr.y.reshape(T + 1, B, model.n), dtype=pb.dtype)
        outputs = tr.outputs.reshape(T + 1, B, model.n_out)[1:]
    value, GO = pb.loss(np.asarray(outputs, dtype=float), pb.targets, pb.mask)
    return states, value, np.ascontiguousarray(GO, dtype=pb.dtype)


def _causal(model, where: str) -> None:
    """Online methods (truncated BPTT, RTRL) need a causal network."""
    if isinstance(model, (Bidirectional, BidirectionalStack)):
        raise ValidationError(f"{where}.model", f"{type(model).__name__} is not causal: its "
                              "backward cell reads the sequence from the end, so an online "
                              "method (truncated BPTT, RTRL) has nothing to truncate or carry "
                              "forward; use bptt (exact) or train its forward cell alone",
                              type(model).__name__)


def _param_size(model) -> int:
    return int(model.functions.param_size(model.kernel_params))


def _parallel(B: int, work: int) -> bool:
    # numba's thread launch costs tens of microseconds: only for several long sequences
    return B > 1 and work >= 200_000


def _backward(pb: _Problem, Y, GO, h: int, hp: int, gates=None) -> np.ndarray:
    """The BPTT(h, h') gradient with respect to theta_raw (d_raw,), summed over sequences,
    from the stored states Y and output cotangents GO (and the forward's gates, if kept)."""
    model = pb.model
    T, B = pb.X.shape[:2]
    if _batched_bptt(model):
        if h >= T:
            return _batched_backward(pb, Y, GO, gates)
        if hp < h:  # overlapping windows
            return _truncated_windows(pb, Y, GO, h, hp, gates)
        # BPTT(h, h): disjoint blocks of h steps, cut in the kernels; a last block of fewer
        # steps still reaches h steps back (into the one before): a window of its own
        Tc = T - T % h
        G = _batched_backward(pb._replace(X=pb.X[:Tc]), Y[:Tc], GO[:Tc],
                              _map_stores(gates, lambda g: g[:Tc]), cut=h)
        return G + _truncated_windows(pb, Y, GO, h, hp, gates, Tc // h) if Tc < T else G
    d = _param_size(model)
    G = np.empty((B, d), dtype=pb.dtype)
    GH0 = np.empty((B, model.n), dtype=pb.dtype)
    K = bind(_HERE / "_bptt_template.py", model)
    par = _parallel(B, T * d * max(1, h // hp))
    p = kernel_params_as(model, pb.dtype)
    if model.kind == "map":
        (K.backward if par else K.backward_serial)(p, pb.H0, pb.X, Y, GO, h, hp, G, GH0)
    else:
        scheme = K.EULER if pb.scheme == "euler" else K.RK4
        (K.flow_backward if par else K.flow_backward_serial)(
            p, Y, pb.X, grid(pb), GO, scheme, h, hp, G, GH0)
    return G.sum(axis=0, dtype=np.float64)


# -- batched BPTT: cells with a bptt_kernel (LSTM, GRU, Elman, IndRNN) and stacks of them ----
# The gathered arrays of one group of truncation windows (see _truncated_windows): faster
# than 256 MB (LSTM H = 64, B = 32, T = 1000, BPTT(50, 10): 0.40 vs 0.57 s) in less memory
# (peak RSS 0.39 vs 0.96 GB; the kernels' chunk buffers grow with the group).
WINDOW_BYTES = 1 << 24


def _map_stores(gates, f):
    """``f`` applied to each store of ``gate_store``'s result (a stack's tuple, one cell's
    array, or None; a None store stays None)."""
    if isinstance(gates, tuple):
        return tuple(None if g is None else f(g) for g in gates)
    return None if gates is None else f(gates)


def _batched_backward(pb: _Problem, Y, GO, gates=None, cut: int = 0) -> np.ndarray:
    """Exact BPTT (or BPTT(cut, cut)) of a cell or a Stacked on the batched kernels."""
    if isinstance(pb.model, Stacked):
        return _stacked_backward(pb, Y, GO, gates, cut)
    return _cell_backward(pb.model, pb.H0, pb.X, Y, GO, pb.dtype, gates=gates, cut=cut)[0]


def _truncated_windows(pb: _Problem, Y, GO, h: int, hp: int, gates=None,
                       skip: int = 0) -> np.ndarray:
    """BPTT(h, h') (as ``_bptt_template``: every h' steps, at block end e, the block's errors
    go back to step e - h) on the batched kernels: each block is one more sequence for exact
    BPTT, its L = min(h, T) steps from lo = max(e - h, 0), starting in the stored state h_lo
    and carrying only its own outputs' cotangents (those after e are zero and add nothing),
    with the forward's gates where kept (a cell's array, or a stack's tuple of them); the
    first ``skip`` blocks left out. Windows are gathered in groups of at most WINDOW_BYTES.
    LSTM, H = 64, B = 32, T = 500, float64, with a readout: BPTT(50, 10) 4.4 s a call
    through the per-step template, 0.17 s here (exact BPTT 0.035 s); the windows filled by
    slices, the gates gathered too (by fancy indexing, or with the gates recomputed: 0.2 s)."""
    T, B = pb.X.shape[:2]
    L = min(h, T)
    ends = np.minimum(np.arange(1, -(-T // hp) + 1) * hp, T)
    begun = np.concatenate([[0], ends[:-1]])[skip:]  # block k injects outputs begun+1 .. ends
    ends = ends[skip:]
    starts = np.maximum(ends - h, 0)
    stores = gates if isinstance(gates, tuple) else (gates,)
    per = L * B * sum(a.shape[2] for a in (pb.X, Y, GO, *stores) if a is not None) * Y.itemsize
    group = max(1, WINDOW_BYTES // per)
    G = np.zeros(_param_size(pb.model))
    for k in range(0, ends.size, group):
        lo, e, b = starts[k:k + group], ends[k:k + group], begun[k:k + group]

        def windows(A, own=False):  # (T, B, c) -> (L, K B, c), window-major, slice copies
            out = np.empty((L, lo.size) + A.shape[1:], A.dtype)
            for j, s in enumerate(lo):
                out[:, j] = A[s:s + L]
                if own:  # only the block's own outputs' cotangents: s + r in [b, e)
                    out[:b[j] - s, j] = 0.0
                    out[e[j] - s:, j] = 0.0
            return out.reshape(L, lo.size * B, A.shape[2])
        H0w = np.where(lo[:, None, None] > 0, Y[np.maximum(lo - 1, 0)], pb.H0[None])
        sub = pb._replace(X=windows(pb.X), H0=H0w.reshape(lo.size * B, Y.shape[2]))
        G += _backward(sub, windows(Y), windows(GO, own=True), L, L,
                       _map_stores(gates, windows))
    return G


_READOUT_PRIME = {"identity": lambda z: np.ones_like(z),
                  "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
                  "sigmoid": lambda z: (s := 0.5 * (1.0 + np.tanh(0.5 * z))) * (1.0 - s)}


def _batched_bptt(model) -> bool:
    """Whether exact BPTT of ``model`` runs on the batched kernels."""
    if isinstance(model, Stacked):  # each layer's outputs the head of its state (h of [h; c])
        return all(getattr(c, "bptt_kernel", None) is not None and
                   not getattr(c, "_readout", False) for c in model.layers) and \
            (model.W_out.shape[0] == 0 or model.output_activation in _READOUT_PRIME)
    return getattr(model, "bptt_kernel", None) is not None and model.P is None


def _cell_backward(cell, H0, X, Y, GO, dtype, need_gx: bool = False, gates=None, cut=0):
    """(gradient (d_raw,) float64, dL/dX or None) of one cell by its batched kernel, on
    blocks of sequences (``run_blocks``), the blocks' gradients added in block order; cut >
    0: truncated BPTT(cut, cut)."""
    T, B = X.shape[:2]
    GH0 = np.empty((B, cell.n), dtype=dtype)
    GX = np.empty((T, B, cell.n_in) if need_gx else (0, 0, 0), dtype=dtype)
    p = kernel_params_as(cell, dtype)

    def block(lo, hi):
        G = np.empty(_param_size(cell), dtype=dtype)
        cell.bptt_kernel(p, H0, X, Y, GO, G, GH0, GX, lo, hi, gates, cut)
        return G
    grads = run_blocks(block, B, cell.n, B * T * cell.n * (cell.n + cell.n_in))
    G = grads[0].astype(np.float64)
    for g in grads[1:]:
        G += g
    return G, (GX if need_gx else None)


def _stacked_backward(pb: _Problem, Y, GO, gates=None, cut: int = 0) -> np.ndarray:
    """Exact BPTT of a Stacked of batched cells: the readout's gradient in numpy, then each
    layer's kernel from the top down, its input cotangents becoming the outputs' cotangents
    of the layer below (from the forward's gates where the stack's ``gate_store`` kept
    them)."""
    model, dt = pb.model, pb.dtype
    offs = np.cumsum([0] + [c.n for c in model.layers])
    top = model.layers[-1]
    h_top = Y[..., offs[-2]:offs[-2] + top.n_out].astype(np.float64)
    if model.W_out.shape[0]:
        z = h_top @ model.W_out.T + model.b_out
        dz = GO * _READOUT_PRIME[model.output_activation](z)
        # einsum, not a BLAS product: OpenBLAS's threads, left spinning by a product this
        # size, slowed the kernels after it (LSTM 64, B = 32, T = 1000: backward 30 -> 43 ms)
        parts = [np.einsum("tbo,tbj->oj", dz, h_top).ravel(), dz.sum(axis=(0, 1))]
        go = np.ascontiguousarray(dz @ model.W_out, dtype=dt)
    else:
        go = np.ascontiguousarray(GO, dtype=dt)
        parts = [np.zeros(0), np.zeros(0)]
    for l in range(len(model.layers) - 1, -1, -1):
        cell = model.layers[l]
        X = pb.X if l == 0 else np.ascontiguousarray(
            Y[..., offs[l - 1]:offs[l - 1] + model.layers[l - 1].n_out])
        g, go = _cell_backward(cell, np.ascontiguousarray(pb.H0[:, offs[l]:offs[l + 1]]), X,
                               np.ascontiguousarray(Y[..., offs[l]:offs[l + 1]]), go, dt,
                               need_gx=l > 0, gates=None if gates is None else gates[l],
                               cut=cut)
        parts.insert(0, g)
    return np.concatenate(parts)


def _bptt(pb: _Problem, h: int, hp: int) -> Gradient:
    # one BLAS-thread switch for both passes (the runners' own switches nest inside it): each
    # costs ~8 us, a sixth of a short call's overhead (LSTM, H = 16, B = 1: 65 us)
    with blas_threads_for(pb.X.shape[1] * pb.model.n ** 2):
        # the forward pass keeps its gates for the backward pass (LSTM, GRU; within a budget;
        # truncated BPTT gathers them into its windows)
        (T, B), model = pb.X.shape[:2], pb.model
        gates = model.gate_store(B, T, pb.dtype) if _batched_bptt(model) else None
        Y, value, GO = forward(pb, gates)
        return Gradient(value, _backward(pb, Y, GO, h, hp, gates)[pb.index])


def _bptt_bidirectional(model, inputs, targets, loss, fields, mask, h0, dtype) -> Gradient:
    """Exact BPTT of a ``Bidirectional`` or ``BidirectionalStack``: each layer's two cells run
    in their own time orders (the backward cell's reversed), keeping their gates; the loss is
    taken on the top layer's concatenated outputs; then from the top down each cell's
    backward pass gets its part of the output cotangents, and above the first layer passes
    its input cotangents (both cells' added) down as the outputs' cotangents of the layer
    below."""
    stack = isinstance(model, BidirectionalStack)
    layers = model.layers if stack else (model,)
    names = list(model.param_fields) if fields is None else \
        [fields] if isinstance(fields, str) else list(fields)
    for f in names:
        if f not in model.param_fields:
            raise ValidationError("bptt.fields", f"no parameter field {f!r}; choose from "
                                  f"{list(model.param_fields)}", fields)
    for l, layer in enumerate(layers[1:], 1):  # input cotangents come from batched kernels
        for c in (layer.forward, layer.backward):
            if not _batched_bptt(c):
                raise ValidationError("bptt.model", f"layer {l} of the BidirectionalStack has "
                                      f"a {type(c).__name__} cell; BPTT through a stack needs "
                                      "LSTM, GRU, Elman or IndRNN cells above its first layer", model)
    pairs = (None,) * len(layers) if h0 is None else (h0,) if not stack else tuple(h0) \
        if isinstance(h0, (tuple, list)) and len(h0) == len(layers) else None
    if pairs is None or any(p is not None and not (isinstance(p, (tuple, list))
                                                   and len(p) == 2) for p in pairs):
        raise ValidationError("bptt.h0", f"expected one (forward, backward) pair of initial "
                              f"states per layer ({len(layers)}), or None", h0)
    pairs = [(None, None) if p is None else p for p in pairs]
    loss = get_loss(loss, "bptt.loss")
    # check inputs and mask once (the first forward cell), targets against the whole model
    first = layers[0].forward
    probe = prepare(first, inputs, np.zeros(np.shape(inputs)[:-1] + (first.n_out,)), "mse",
                    None, mask, pairs[0][0], dtype, "bptt")
    T, B = probe.X.shape[:2]
    want = (T, model.n_out) if np.ndim(inputs) == 2 else (T, B, model.n_out)
    Tg = np.asarray(targets, dtype=float)
    if Tg.shape != want:
        raise ValidationError("bptt.targets", f"expected shape {want} (the outputs [forward; "
                              f"backward]), got {Tg.shape}", targets)
    Tg = Tg.reshape(T, B, model.n_out)
    loss.check_targets(Tg, probe.mask, "bptt")
    runs, x = [], probe.X
    for layer, (h0f, h0b) in zip(layers, pairs):
        cells = (layer.forward, layer.backward)
        H0 = [initial_state(c, h, B, probe.dtype, "bptt.h0") for c, h in zip(cells, (h0f, h0b))]
        X = (x, np.ascontiguousarray(x[::-1]))
        # the gate budget shared by all the cells
        G = [c.gate_store(B, T, probe.dtype, gated.GATE_STORE_BYTES / (2 * len(layers)))
             if _batched_bptt(c) else None for c in cells]
        res = [run_arrays(c, xc, h, gates=g) for c, xc, h, g in zip(cells, X, H0, G)]
        runs.append((cells, X, H0, G, res))
        x = np.ascontiguousarray(np.concatenate([res[0].outputs, res[1].outputs[::-1]], -1))
    value, GO = loss(np.asarray(x, dtype=float), Tg, probe.mask)
    go, grads = np.asarray(GO, dtype=probe.dtype), {}
    for l in range(len(layers) - 1, -1, -1):
        cells, X, H0, G, res = runs[l]
        O_f = cells[0].n_out
        GOs = (np.ascontiguousarray(go[..., :O_f]), np.ascontiguousarray(go[::-1, :, O_f:]))
        prefix = f"layers.{l}." if stack else ""
        if l == 0:  # no input cotangents needed: any cell (the template for the others)
            for c, d, xc, h, r, g, gc in zip(cells, ("forward", "backward"), X, H0, res, G,
                                             GOs):
                sub = probe._replace(model=c, X=xc, H0=h)
                grads[prefix + d] = _backward(sub, r.states, gc, T, T, g)
            break
        gx = []
        for c, d, xc, h, r, g, gc in zip(cells, ("forward", "backward"), X, H0, res, G, GOs):
            grads[prefix + d], x_bar = _cell_backward(c, h, xc, r.states, gc, probe.dtype,
                                                      need_gx=True, gates=g)
            gx.append(x_bar)
        go = np.ascontiguousarray(gx[0] + gx[1][::-1])
    cell_of = {(f"layers.{l}." if stack else "") + d: getattr(layer, d)
               for l, layer in enumerate(layers) for d in ("forward", "backward")}
    parts = []
    for f in names:  # "[layers.<l>.]<forward|backward>.<field>"
        key, sub = f.rsplit(".", 1)
        parts.append(grads[key][cell_of[key].theta_index([sub])])
    return Gradient(value, np.concatenate(parts) if parts else np.zeros(0))


def bptt(model, inputs, targets, loss="mse", fields=None, *, mask=None, h0=None,
         dtype=np.float64, dt: float | None = None, scheme: str = "rk4") -> Gradient:
    """Exact gradient of a sequence loss by backpropagation through time.

    Parameters
    ----------
    model : map model, ``Bidirectional`` (exact BPTT only; h0 a pair) or
        ``BidirectionalStack`` (h0 a pair per layer; LSTM, GRU, Elman or IndRNN cells above
        the first layer), or flow (CTRNN, user ``Flow``) with ``dt``; single
    inputs : array (T, B, n_in) or (T, n_in)
        Input sequences, time-major. For a flow, sample k is held over step k, from
        t_k = k dt to t_{k+1}, and the outputs are those at t_1..t_T.
    targets : array (T, B, n_out) or (T, n_out)
        Targets of the outputs after each step (only the steps in ``mask`` are read).
    loss : {"mse", "cross_entropy", "bits"} or rnndyn.train.losses.Loss
    fields : str or sequence of str, optional
        Parameter fields to differentiate (default: all, as ``model.to_vector``).
    mask : bool array (T,) or (T, B), optional
        Steps that carry a target (default: every step).
    h0 : array (n,) or (B, n), optional
        Initial states (default zeros; LSTM: [h; c]).
    dtype : numpy.float64 or numpy.float32
        Precision of the forward and backward passes (the gradient is returned in float64).
    dt, scheme : float, {"euler", "rk4"}
        Flows only: the flow is differentiated as its discretisation, one ``scheme`` step of
        size dt per input sample (discretise-then-optimise: the exact gradient of the
        trajectory ``rnndyn.simulate(model, y0, t, dt, method=scheme, hold="previous")``
        computes on t = 0, dt, ..., T dt).

    Returns
    -------
    Gradient
        ``(loss, gradient)``, gradient (d,) shaped like ``model.to_vector(fields)``.

    Raises
    ------
    ValidationError
        For a flow or a population, inputs/targets/mask of the wrong shape, an unknown
        loss or field.
    DivergenceError
        If the state becomes non-finite on the forward pass.
    """
    if isinstance(model, (Bidirectional, BidirectionalStack)):
        return _bptt_bidirectional(model, inputs, targets, loss, fields, mask, h0, dtype)
    pb = prepare(model, inputs, targets, loss, fields, mask, h0, dtype, "bptt", dt, scheme)
    T = pb.X.shape[0]
    return _bptt(pb, T, T)


def truncated_bptt(model, inputs, targets, loss="mse", fields=None, *, h: int,
                   h_prime: int | None = None, mask=None, h0=None,
                   dtype=np.float64, dt: float | None = None, scheme: str = "rk4") -> Gradient:
    """Truncated BPTT(h, h') (Williams & Peng 1990): every h' steps, the errors of the last
    h' outputs are backpropagated h >= h' steps; the returned gradient is the sum of these
    truncated gradients over the sequence (what an online learner would apply every h'
    steps, here at fixed parameters). BPTT(h) is BPTT(h, 1); h = h' >= T is exact BPTT.

    Parameters are as for ``bptt``, plus ``h`` (the truncation depth, int >= 1) and
    ``h_prime`` (steps between backward passes, 1 <= h' <= h; default h: disjoint blocks).

    Raises
    ------
    ValidationError
        As ``bptt``; also for h <= 0 or h' outside [1, h].
    """
    h = positive_int(h, "truncated_bptt.h")
    hp = h if h_prime is None else positive_int(h_prime, "truncated_bptt.h_prime")
    if hp > h:
        raise ValidationError("truncated_bptt.h_prime", f"must be <= h = {h} (errors "
                              f"injected more than h steps back would never be "
                              f"backpropagated), got {hp}", h_prime)
    _causal(model, "truncated_bptt")
    pb = prepare(model, inputs, targets, loss, fields, mask, h0, dtype, "truncated_bptt", dt,
                 scheme)
    return _bptt(pb, h, hp)


def _available_bytes() -> int:
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # not on this platform
        return 2 ** 31


def rtrl_bytes(model, parallel: int = 1, dtype=np.float64) -> int:
    """Bytes RTRL needs for the sensitivities of ``parallel`` sequences run at once: S,
    its update and the parameter Jacobian, each n x d_raw."""
    return 3 * model.n * _param_size(model) * np.dtype(dtype).itemsize * parallel


def check_rtrl_size(model, parallel: int, dtype, max_bytes, where: str) -> None:
    """Refuse (ValidationError) when the sensitivity matrices would not fit in memory."""
    limit = _available_bytes() // 2 if max_bytes is None else max_bytes
    need = rtrl_bytes(model, parallel, dtype)
    if need > limit:
        d = _param_size(model)
        raise ValidationError(f"{where}.model", f"RTRL needs {need:,} bytes for its "
                              f"sensitivities (3 x n x d_raw = 3 x {model.n} x {d} values x "
                              f"{parallel} sequence(s) at once) but the limit is {limit:,} "
                              "bytes; use bptt or truncated_bptt, a smaller net, or raise "
                              "max_bytes", model)


def rtrl(model, inputs, targets, loss="mse", fields=None, *, mask=None, h0=None,
         dtype=np.float64, max_bytes: int | None = None, dt: float | None = None,
         scheme: str = "rk4") -> Gradient:
    """Gradient of a sequence loss by real-time recurrent learning (Williams & Zipser 1989):
    the sensitivities d h_t / d theta run forward with the state, so the gradient of the
    loss at step t is known at step t (see ``OnlineRTRL`` to use it online). At fixed
    parameters it equals the BPTT gradient. Costs O(n^2 d) time and O(n d) memory per step.

    Parameters are as for ``bptt`` (a flow needs ``dt`` and ``scheme="euler"``: the
    sensitivities of its Euler map), plus ``max_bytes``: the memory the sensitivities may take
    (default: half of the available memory).

    Raises
    ------
    ValidationError
        As ``bptt``; also when the sensitivities would need more than ``max_bytes``.
    """
    _causal(model, "rtrl")
    pb = prepare(model, inputs, targets, loss, fields, mask, h0, dtype, "rtrl", dt, scheme)
    if model.kind == "flow" and pb.scheme != "euler":
        raise ValidationError("rtrl.scheme", f"RTRL follows the sensitivities of the Euler map "
                              f"only; pass scheme='euler' or use bptt for {scheme!r}", scheme)
    T, B = pb.X.shape[:2]
    d = _param_size(model)
    par = _parallel(B, T * d * model.n)
    check_rtrl_size(model, min(B, os.cpu_count() or 1) if par else 1, pb.dtype, max_bytes,
                    "rtrl")
    Y, value, GO = forward(pb)
    G = np.empty((B, d), dtype=pb.dtype)
    K = bind(_HERE / "_rtrl_template.py", model)
    p = kernel_params_as(model, pb.dtype)
    # S <- J S + Jp is a BLAS product a step; from several numba threads, one BLAS thread
    with blas_threads_for(0 if par else model.n ** 2 * d):
        if model.kind == "map":
            (K.rtrl if par else K.rtrl_serial)(p, pb.H0, pb.X, GO, G)
        else:
            (K.flow_rtrl if par else K.flow_rtrl_serial)(p, Y, pb.X, grid(pb), GO, G)
    return Gradient(value, G.sum(axis=0, dtype=np.float64)[pb.index])


class OnlineRTRL:
    """RTRL as an online learner (Williams & Zipser 1989): feed one input (and target) per
    step, get that step's loss gradient at once, and change the parameters between steps
    (``update``); the sensitivities carry over, as in the paper's real-time algorithm.

    Parameters
    ----------
    model : map model, single
    loss, fields : as ``rtrl``
    batch : int
        Number of sequences stepped together (their gradients are summed).
    h0 : array (n,) or (batch, n), optional
    max_bytes : int, optional
        As ``rtrl``.

    Examples
    --------
    >>> learner = OnlineRTRL(model, "mse", batch=1)
    >>> for x_t, y_t in zip(xs, ys):
    ...     loss, grad = learner.step(x_t, y_t)
    ...     learner.update(learner.theta - 0.01 * grad)
    """

    def __init__(self, model, loss="mse", fields=None, *, batch: int = 1, h0=None,
                 max_bytes: int | None = None):
        _causal(model, "OnlineRTRL")
        check_model(model, "OnlineRTRL", single=True, kind="map")
        self.loss = get_loss(loss, "OnlineRTRL.loss")
        self.fields = fields
        self.index = model.theta_index(fields)
        self.B = positive_int(batch, "OnlineRTRL.batch")
        check_rtrl_size(model, self.B, np.float64, max_bytes, "OnlineRTRL")
        self._K = bind(_HERE / "_rtrl_template.py", model)
        d = _param_size(model)
        self._H = initial_state(model, h0, self.B, np.float64, "OnlineRTRL.h0").copy()
        self._Hn = np.empty_like(self._H)
        self._S = np.zeros((self.B, model.n, d))
        self._Sn = np.empty_like(self._S)
        self._g = np.empty(d)
        self._set(model)
        self.t = 0

    def _set(self, model):
        self.model = model
        self._p = model.kernel_params
        self._out = np.empty((self.B, model.n_out))

    @property
    def theta(self) -> np.ndarray:
        """The current parameters ``model.to_vector(fields)``."""
        return self.model.to_vector(self.fields)

    def update(self, theta) -> None:
        """Continue with parameters ``theta`` (shaped like ``to_vector(fields)``)."""
        self._set(self.model.from_vector(theta, self.fields))

    def step(self, x, target=None) -> Gradient:
        """Advance one step with input x (n_in,) or (batch, n_in); with a target (n_out,) or
        (batch, n_out), return that step's ``(loss, gradient)`` (else (nan, zeros)).

        Raises
        ------
        DivergenceError
            If the state becomes non-finite.
        """
        m, O = self.model.n_in, self.model.n_out
        X = np.ascontiguousarray(np.broadcast_to(
            np.asarray(x, dtype=float).reshape(-1, m) if m else np.zeros((1, 0)), (self.B, m)))
        self._K.advance_batch(self._p, self._H, X, self._S, self._Hn, self._Sn)
        self._H, self._Hn = self._Hn, self._H
        self._S, self._Sn = self._Sn, self._S
        self.t += 1
        if not np.all(np.isfinite(self._H)):
            raise DivergenceError(f"state became non-finite at step {self.t}", t=float(self.t))
        if target is None:
            return Gradient(float("nan"), np.zeros(len(self.index)))
        tg = np.asarray(target, dtype=float)
        if tg.shape not in ((O,), (self.B, O)):
            raise ValidationError("OnlineRTRL.step.target", f"expected shape ({O},) or "
                                  f"({self.B}, {O}), got {tg.shape}", target)
        out = np.stack([self.model.output(h) for h in self._H])
        tg = np.broadcast_to(tg, (self.B, O))[None]
        mask = np.ones((1, self.B), dtype=bool)
        self.loss.check_targets(tg, mask, "OnlineRTRL.step")
        value, GO = self.loss(out[None], tg, mask)
        self._K.gradient_batch(self._p, self._H, self._S, np.ascontiguousarray(GO[0]), self._g)
        return Gradient(value, self._g[self.index].copy())
