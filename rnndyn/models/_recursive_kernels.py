"""Kernels of the recursive network (``rnndyn.models.recursive``): the forward pass over a
whole forest and backpropagation through structure (Goller & Kuechler 1996), one call each.

A forest is flattened into arrays whose nodes are numbered in topological order (children
before parents, each tree's nodes contiguous):

``symbol`` (N,) int      row of E embedding a leaf, -1 for an internal node
``child_ptr`` (N + 1,)   the children of node i are ``child_idx[child_ptr[i]:child_ptr[i + 1]]``
``child_idx`` (M,)       child node numbers, in argument order

``mode``: CONCAT ``p = tanh(W [c_1; ...; c_k] + b)`` (W (d, k d)), SUM ``p = tanh(W sum_k
c_k + b)`` or MEAN ``p = tanh(W mean_k c_k + b)`` (W (d, d)); a leaf's vector is its
embedding row, ``h = E[symbol]``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .._config import JIT

CONCAT, SUM, MEAN = 0, 1, 2


@njit(**JIT)
def recursive_forward(E, W, b, symbol, child_ptr, child_idx, mode, H):
    """Every node's vector into ``H`` (N, d), in node order (children first).

    Parameters
    ----------
    E : (V, d) embeddings; W : (d, k d) or (d, d); b : (d,)
    symbol, child_ptr, child_idx : int64 arrays of the flattened forest (module docstring)
    mode : int, CONCAT, SUM or MEAN
    H : (N, d) output
    """
    N, d = H.shape
    z = np.empty(d)
    for i in range(N):
        s = symbol[i]
        if s >= 0:
            for j in range(d):
                H[i, j] = E[s, j]
            continue
        lo, hi = child_ptr[i], child_ptr[i + 1]
        for r in range(d):
            z[r] = b[r]
        if mode == CONCAT:
            for k in range(hi - lo):
                c = child_idx[lo + k]
                off = k * d
                for r in range(d):
                    acc = 0.0
                    for j in range(d):
                        acc += W[r, off + j] * H[c, j]
                    z[r] += acc
        else:
            scale = 1.0 if mode == SUM else 1.0 / (hi - lo)
            for k in range(lo, hi):
                c = child_idx[k]
                for r in range(d):
                    acc = 0.0
                    for j in range(d):
                        acc += W[r, j] * H[c, j]
                    z[r] += scale * acc
        for r in range(d):
            H[i, r] = np.tanh(z[r])


@njit(**JIT)
def recursive_backward(W, symbol, child_ptr, child_idx, mode, H, GH, gE, gW, gb):
    """Backpropagation through structure: nodes in reverse order, each passing its
    cotangent to its children once every parent has added theirs.

    ``GH`` (N, d) holds dL/dh of every node from the readouts on entry and is overwritten
    (parents add into their children's rows). The parameter gradients are added into
    ``gE`` (V, d), ``gW`` and ``gb``.
    """
    N, d = H.shape
    delta = np.empty(d)
    for i in range(N - 1, -1, -1):
        s = symbol[i]
        if s >= 0:
            for j in range(d):
                gE[s, j] += GH[i, j]
            continue
        lo, hi = child_ptr[i], child_ptr[i + 1]
        for r in range(d):
            delta[r] = GH[i, r] * (1.0 - H[i, r] * H[i, r])  # tanh' = 1 - tanh^2
            gb[r] += delta[r]
        if mode == CONCAT:
            for k in range(hi - lo):
                c = child_idx[lo + k]
                off = k * d
                for r in range(d):
                    dr = delta[r]
                    for j in range(d):
                        gW[r, off + j] += dr * H[c, j]
                        GH[c, j] += W[r, off + j] * dr
        else:
            scale = 1.0 if mode == SUM else 1.0 / (hi - lo)
            for k in range(lo, hi):
                c = child_idx[k]
                for r in range(d):
                    dr = scale * delta[r]
                    for j in range(d):
                        gW[r, j] += dr * H[c, j]
                        GH[c, j] += W[r, j] * dr
