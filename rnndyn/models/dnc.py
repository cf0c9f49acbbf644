"""The Differentiable Neural Computer's memory (Graves et al. 2016, Nature 538:471, Methods)
as a map, with the NTM's controllers (``rnndyn.models.ntm``: LSTM or feed-forward).

The controller reads ``z = [x; r_{t-1}]`` and emits the interface vector
``xi = W_head h + b_head`` (D = R W + 3 W + 5 R + 3 rows, the paper's order). One write
head and R read heads; per step (Methods, in this order):

=======================  ======================================================================
interface                read keys ``k^{r,i}`` and write key ``k^w`` (W each), erase
                         ``e = sigmoid(.)`` in (0, 1), write vector ``v`` (W, unconstrained);
                         strengths ``beta = oneplus(.) = 1 + softplus(.)`` >= 1; free gates
                         ``f^i``, allocation gate ``g^a``, write gate ``g^w`` by sigmoid; read
                         modes ``pi^i = softmax(.)`` over (backward, content, forward)
content                  ``C(M, k, beta)_j = softmax_j(beta cos(k, M_j))``, norms
                         ``sqrt(|x|^2 + eps^2)``, eps = 1e-8 (finite for zero rows)
retention, usage         ``psi = prod_i (1 - f^i w^{r,i}_{t-1})``,
                         ``u = (u_{t-1} + w^w_{t-1} - u_{t-1} w^w_{t-1}) psi``
allocation               free list ``phi`` = indices by ascending usage;
                         ``a_{phi_j} = (1 - u_{phi_j}) prod_{i<j} u_{phi_i}``
write weighting          ``w^w = g^w (g^a a + (1 - g^a) C(M_{t-1}, k^w, beta^w))``
write                    ``M = M_{t-1} (E - w^w e^T) + w^w v^T``
temporal links           ``L[i, j] = (1 - w^w_i - w^w_j) L_{t-1}[i, j] + w^w_i p_{t-1, j}``,
                         ``L[i, i] = 0``; precedence ``p = (1 - sum w^w) p_{t-1} + w^w``
read weightings          ``w^{r,i} = pi^i_1 L^T w^{r,i}_{t-1} + pi^i_2 C(M, k^{r,i}, beta^{r,i})
                         + pi^i_3 L w^{r,i}_{t-1}``; reads ``r^i = M^T w^{r,i}``
=======================  ======================================================================

The sort is piecewise constant: the VJP differentiates the products with the permutation
held fixed (as the paper and every implementation do); the allocation weighting itself
jumps where two usages cross, so gradients are exact away from such ties.

The outputs are the logits ``y = W_out [h; r] + b_out`` (train them with the ``"bits"``
loss). The state is the flat vector [controller (LSTM: h, c; feed-forward: h) | memory (N W)
| usage (N) | precedence (N) | link matrix (N N) | write weighting (N) | read weightings
(R N) | reads (R W)]; the DNC starts from all zeros, so the zero state — the default h0 of
``rnndyn.run`` and of the trainers — is the machine's initial state. ``DNC.unpack`` turns
states into named arrays.

BPTT uses the hand-written VJP (``_dnc_kernels``) through the generic templates:
``rnndyn.train.bptt`` and ``rnndyn.train.train`` work unchanged; a non-finite state, loss or
gradient stops training with a ``DivergenceError``, as for every model.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._validate import check_seed, choice, positive_int
from ..errors import ValidationError
from . import _dnc_kernels as dk
from .base import Functions
from .cell import Cell, uniform_init
from .ntm import CONTROLLERS


def interface_size(W: int, R: int) -> int:
    """Rows of the interface vector: R W + 3 W + 5 R + 3 (Graves et al. 2016, Methods)."""
    return R * W + 3 * W + 5 * R + 3


@dataclass(frozen=True, eq=False, repr=False)
class DNC(Cell):
    """Differentiable Neural Computer: one write head, ``read_heads`` read heads.

    Parameters
    ----------
    W_in : array (G, n_in + R W) or (P, ...)
        Controller input weights on ``[x; r_prev]``; G = 4H (LSTM gates i, f, g, o) or H.
    W_hh : array (4H, H), optional
        LSTM recurrent weights; None (or shape (0, H)) for the feed-forward controller.
    b : array (G,)
        Controller bias.
    W_head, b_head : arrays (D, H), (D,)
        The interface vector, D = R W + 3 W + 5 R + 3 rows: read keys (R W), read strengths
        (R), write key (W), write strength, erase (W), write vector (W), free gates (R),
        allocation gate, write gate, read modes (3 R: backward, content, forward per head).
    W_out, b_out : arrays (n_out, H + R W), (n_out,)
        Readout of the logits from [h; r].
    N, W : int
        Memory locations and width.
    read_heads : int
        Number of read heads R (>= 1).
    controller : {"lstm", "feedforward"}
    """

    W_in: np.ndarray
    W_hh: np.ndarray | None
    b: np.ndarray
    W_head: np.ndarray
    b_head: np.ndarray
    W_out: np.ndarray
    b_out: np.ndarray = 0.0
    N: int = 16
    W: int = 16
    read_heads: int = 1
    controller: str = "lstm"

    _functions = Functions(rhs=None, step=dk.dnc_step, jacobian=dk.dnc_jacobian,
                           output=dk.dnc_output, member=dk.dnc_member,
                           work_size=dk.dnc_work_size, vjp=dk.dnc_vjp,
                           output_vjp=dk.dnc_output_vjp, param_size=dk.dnc_param_size)
    _batched = ("W_in", "W_hh", "b", "W_head", "b_head", "W_out", "b_out")
    _params = _batched
    _hidden_field = "W_head"

    def __post_init__(self):
        name = type(self).__name__
        choice(self.controller, f"{name}.controller", CONTROLLERS)
        positive_int(self.N, f"{name}.N")
        W = positive_int(self.W, f"{name}.W")
        R = positive_int(self.read_heads, f"{name}.read_heads")
        lead, W_head = self._lead()
        H = W_head.shape[-1]
        self._array("W_head", lead + (interface_size(W, R), H))
        G = 4 * H if self.controller == "lstm" else H
        W_in = self._array("W_in", lead + (G, None))
        if W_in.shape[-1] < R * W:
            raise ValidationError(f"{name}.W_in", f"has {W_in.shape[-1]} columns, fewer than "
                                  f"the R W = {R * W} read values it takes besides the inputs",
                                  W_in)
        self._array("W_hh", lead + ((G, H) if self.controller == "lstm" else (0, H)),
                    np.zeros(lead + (0, H)) if self.controller == "feedforward" else None)
        self._array("b", lead + (G,))
        self._array("b_head", lead + (interface_size(W, R),))
        self._array("W_out", lead + (None, H + R * W))
        self._array("b_out", lead + (self.W_out.shape[-2],))

    def _param_arrays(self) -> dict:  # the feed-forward controller has no W_hh
        return {f: getattr(self, f) for f in self._params
                if f != "W_hh" or self.controller == "lstm"}

    # -- sizes ------------------------------------------------------------------------------
    @property
    def H(self) -> int:
        """Controller units."""
        return self.W_head.shape[-1]

    @property
    def n(self) -> int:
        nc = 2 * self.H if self.controller == "lstm" else self.H
        N, W, R = self.N, self.W, self.read_heads
        return nc + N * W + N * N + (3 + R) * N + R * W

    @property
    def n_in(self) -> int:
        return self.W_in.shape[-1] - self.read_heads * self.W

    @property
    def n_out(self) -> int:
        return self.W_out.shape[-2]

    @property
    def n_params(self) -> int:
        return int(sum(np.prod(s) for s in self.param_fields.values()))

    @property
    def kernel_params(self):
        return (self.W_in, self.W_hh, self.b, self.W_head, self.b_head, self.W_out,
                self.b_out, int(self.N), int(self.W), int(self.read_heads),
                int(self.controller == "lstm"))

    @classmethod
    def random(cls, n_in: int, n_out: int, H: int = 64, *, N: int = 16, W: int = 16,
               read_heads: int = 1, controller: str = "lstm", seed=None) -> "DNC":
        """PyTorch's initialisation of each layer, U(-1/sqrt(fan), 1/sqrt(fan)), as
        ``NTM.random``."""
        n_in = positive_int(n_in, "DNC.random.n_in", 0)
        n_out = positive_int(n_out, "DNC.random.n_out")
        H = positive_int(H, "DNC.random.H")
        N = positive_int(N, "DNC.random.N")
        W = positive_int(W, "DNC.random.W")
        R = positive_int(read_heads, "DNC.random.read_heads")
        choice(controller, "DNC.random.controller", CONTROLLERS)
        rng = check_seed(seed, "DNC.random.seed")
        lstm = controller == "lstm"
        G, Z, D = (4 * H if lstm else H), n_in + R * W, interface_size(W, R)
        k_c = 1.0 / np.sqrt(H if lstm else Z)
        k_h, k_o = 1.0 / np.sqrt(H), 1.0 / np.sqrt(H + R * W)
        return cls(W_in=uniform_init(rng, (G, Z), k_c),
                   W_hh=uniform_init(rng, (G, H), k_c) if lstm else None,
                   b=uniform_init(rng, G, k_c), W_head=uniform_init(rng, (D, H), k_h),
                   b_head=uniform_init(rng, D, k_h),
                   W_out=uniform_init(rng, (n_out, H + R * W), k_o),
                   b_out=uniform_init(rng, n_out, k_o), N=N, W=W, read_heads=R,
                   controller=controller)

    def with_memory_size(self, N: int) -> "DNC":
        """The same machine with N memory locations (no parameter depends on N)."""
        return dataclasses.replace(self, N=N)

    # -- reading states -------------------------------------------------------------------
    def unpack(self, states) -> dict:
        """Named views of states (..., n): ``h`` (..., H) (and ``c`` for an LSTM),
        ``memory`` (..., N, W), ``usage`` (..., N), ``precedence`` (..., N), ``link``
        (..., N, N), ``write_weights`` (..., N), ``read_weights`` (..., R, N) and ``reads``
        (..., R, W)."""
        S = np.asarray(states, dtype=float)
        if S.shape[-1:] != (self.n,):
            raise ValidationError("DNC.unpack.states", f"expected shape (..., {self.n}), got "
                                  f"{S.shape}", states)
        lead = S.shape[:-1]
        H, N, W, R = self.H, self.N, self.W, self.read_heads
        o = 2 * H if self.controller == "lstm" else H
        out = {"h": S[..., :H]}
        if self.controller == "lstm":
            out["c"] = S[..., H:2 * H]
        for key, size, shape in (("memory", N * W, (N, W)), ("usage", N, (N,)),
                                 ("precedence", N, (N,)), ("link", N * N, (N, N)),
                                 ("write_weights", N, (N,)), ("read_weights", R * N, (R, N)),
                                 ("reads", R * W, (R, W))):
            out[key] = S[..., o:o + size].reshape(lead + shape)
            o += size
        return out
