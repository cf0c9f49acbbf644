"""The Neural Turing Machine (Graves, Wayne & Danihelka 2014, arXiv:1410.5401) as a map.

A controller (LSTM or feed-forward) reads the input and the previous read vectors,
``z = [x; r_prev]``, and emits, through one linear layer ``W_head h + b_head``, the
parameters of every head; write heads (first) address the memory and write to it, read
heads then address the written memory and read. Per head (section 3.3):

====================  ======================================================================
key                   ``k = tanh(.)`` (W)
key strength          ``beta = 1 + softplus(.)`` ("oneplus", >= 1)
content (eqs. 5-6)    ``w_c = softmax(beta K(k, M_i))``, ``K`` the cosine similarity with
                      norms ``sqrt(|x|^2 + eps^2)``, eps = 1e-8: finite for zero rows
interpolation (7)     ``w_g = g w_c + (1 - g) w_prev``, ``g = sigmoid(.)``
shift (8)             ``w_s = w_g (*) s``, circular convolution over offsets
                      -shift_range..shift_range, ``s = softmax(.)``
sharpening (9)        ``w = w_s^gamma / sum w_s^gamma``, ``gamma = 1 + softplus(.)`` >= 1,
                      computed in logs
write (eqs. 3-4)      ``M <- M * prod_q (1 - w_q e_q^T) + sum_q w_q a_q^T``, erase
                      ``e = sigmoid(.)`` in (0, 1), add ``a = tanh(.)``
read (eq. 2)          ``r = w^T M``
====================  ======================================================================

The outputs are the logits ``y = W_out [h; r] + b_out`` (train them with the ``"bits"``
loss). The state is the flat vector [controller (LSTM: h, c; feed-forward: h) | memory | head
weightings | read vectors]; memory and weightings are stored relative to their start (a
constant memory ``memory_init``, Collier & Beel 2018, arXiv:1807.08518; every head on
location 0), so the zero state — the default h0 of ``rnndyn.run`` and of the trainers — is
the machine's initial state. ``NTM.unpack`` turns states into named arrays.

BPTT through the whole machine uses the hand-written VJP (``_ntm_kernels``) through the
generic templates: ``rnndyn.train.bptt`` and ``rnndyn.train.train`` work unchanged.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._validate import check_seed, choice, positive_int, real_number
from ..errors import ValidationError
from . import _ntm_kernels as nk
from .base import Functions
from .cell import Cell, uniform_init

CONTROLLERS = ("lstm", "feedforward")


@dataclass(frozen=True, eq=False, repr=False)
class NTM(Cell):
    """Neural Turing Machine with ``read_heads`` read and ``write_heads`` write heads.

    Parameters
    ----------
    W_in : array (G, n_in + R W) or (P, ...)
        Controller input weights on ``[x; r_prev]``; G = 4H (LSTM gates i, f, g, o) or H.
    W_hh : array (4H, H), optional
        LSTM recurrent weights; None (or shape (0, H)) for the feed-forward controller.
    b : array (G,)
        Controller bias.
    W_head, b_head : arrays (D, H), (D,)
        Head outputs: per head (write heads first) the rows [key (W), beta, g, shift (S),
        gamma], S = 2 shift_range + 1, then per write head [erase (W), add (W)]; D = (R +
        Wh)(W + 3 + S) + 2 Wh W.
    W_out, b_out : arrays (n_out, H + R W), (n_out,)
        Readout of the logits from [h; r].
    N, W : int
        Memory locations and width.
    read_heads, write_heads : int
        Number of heads (>= 1 each).
    shift_range : int
        Largest shift; 2 shift_range + 1 <= N.
    controller : {"lstm", "feedforward"}
    memory_init : float
        The constant initial memory (Collier & Beel 2018: 1e-6).
    """

    W_in: np.ndarray
    W_hh: np.ndarray | None
    b: np.ndarray
    W_head: np.ndarray
    b_head: np.ndarray
    W_out: np.ndarray
    b_out: np.ndarray = 0.0
    N: int = 128
    W: int = 20
    read_heads: int = 1
    write_heads: int = 1
    shift_range: int = 1
    controller: str = "lstm"
    memory_init: float = 1e-6

    _functions = Functions(rhs=None, step=nk.ntm_step, jacobian=nk.ntm_jacobian,
                           output=nk.ntm_output, member=nk.ntm_member,
                           work_size=nk.ntm_work_size, vjp=nk.ntm_vjp,
                           output_vjp=nk.ntm_output_vjp, param_size=nk.ntm_param_size)
    _batched = ("W_in", "W_hh", "b", "W_head", "b_head", "W_out", "b_out")
    _params = _batched
    _hidden_field = "W_head"

    def __post_init__(self):
        name = type(self).__name__
        choice(self.controller, f"{name}.controller", CONTROLLERS)
        N = positive_int(self.N, f"{name}.N")
        W = positive_int(self.W, f"{name}.W")
        R = positive_int(self.read_heads, f"{name}.read_heads")
        Wh = positive_int(self.write_heads, f"{name}.write_heads")
        sr = positive_int(self.shift_range, f"{name}.shift_range", 0)
        if 2 * sr + 1 > N:
            raise ValidationError(f"{name}.shift_range", f"shifts -{sr}..{sr} need at least "
                                  f"{2 * sr + 1} memory locations, but N = {N}; lower "
                                  "shift_range or enlarge N", self.shift_range)
        c0 = real_number(self.memory_init, f"{name}.memory_init")
        if not np.isfinite(c0):
            raise ValidationError(f"{name}.memory_init", f"must be finite, got {c0}", c0)
        self._set("memory_init", c0)
        lead, W_head = self._lead()
        H = W_head.shape[-1]
        D = (R + Wh) * (W + 3 + 2 * sr + 1) + 2 * Wh * W
        self._array("W_head", lead + (D, H))
        G = 4 * H if self.controller == "lstm" else H
        W_in = self._array("W_in", lead + (G, None))
        if W_in.shape[-1] < R * W:
            raise ValidationError(f"{name}.W_in", f"has {W_in.shape[-1]} columns, fewer than "
                                  f"the R W = {R * W} read values it takes besides the inputs",
                                  W_in)
        self._array("W_hh", lead + ((G, H) if self.controller == "lstm" else (0, H)),
                    np.zeros(lead + (0, H)) if self.controller == "feedforward" else None)
        self._array("b", lead + (G,))
        self._array("b_head", lead + (D,))
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
        heads = self.read_heads + self.write_heads
        return nc + self.N * self.W + heads * self.N + self.read_heads * self.W

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
                int(self.write_heads), int(self.shift_range), int(self.controller == "lstm"),
                float(self.memory_init))

    @classmethod
    def random(cls, n_in: int, n_out: int, H: int = 100, *, N: int = 128, W: int = 20,
               read_heads: int = 1, write_heads: int = 1, shift_range: int = 1,
               controller: str = "lstm", memory_init: float = 1e-6, seed=None) -> "NTM":
        """PyTorch's initialisation of each layer, U(-1/sqrt(fan), 1/sqrt(fan)) with fan
        the layer's input width (H for the LSTM, as ``nn.LSTM``)."""
        n_in = positive_int(n_in, "NTM.random.n_in", 0)
        n_out = positive_int(n_out, "NTM.random.n_out")
        H = positive_int(H, "NTM.random.H")
        N = positive_int(N, "NTM.random.N")
        W = positive_int(W, "NTM.random.W")
        R = positive_int(read_heads, "NTM.random.read_heads")
        Wh = positive_int(write_heads, "NTM.random.write_heads")
        sr = positive_int(shift_range, "NTM.random.shift_range", 0)
        choice(controller, "NTM.random.controller", CONTROLLERS)
        rng = check_seed(seed, "NTM.random.seed")
        lstm = controller == "lstm"
        G, Z = (4 * H if lstm else H), n_in + R * W
        k_c = 1.0 / np.sqrt(H if lstm else Z)
        D = (R + Wh) * (W + 3 + 2 * sr + 1) + 2 * Wh * W
        k_h, k_o = 1.0 / np.sqrt(H), 1.0 / np.sqrt(H + R * W)
        return cls(W_in=uniform_init(rng, (G, Z), k_c),
                   W_hh=uniform_init(rng, (G, H), k_c) if lstm else None,
                   b=uniform_init(rng, G, k_c), W_head=uniform_init(rng, (D, H), k_h),
                   b_head=uniform_init(rng, D, k_h), W_out=uniform_init(rng, (n_out, H + R * W), k_o),
                   b_out=uniform_init(rng, n_out, k_o), N=N, W=W, read_heads=R,
                   write_heads=Wh, shift_range=sr, controller=controller,
                   memory_init=memory_init)

    def with_memory_size(self, N: int) -> "NTM":
        """The same machine with N memory locations: no parameter depends on N, so a
        machine trained on short sequences runs on longer ones with a larger memory."""
        return dataclasses.replace(self, N=N)

    # -- reading states -------------------------------------------------------------------
    def unpack(self, states) -> dict:
        """Named views of states (..., n): ``h`` (..., H) (and ``c`` for an LSTM),
        ``memory`` (..., N, W), ``write_weights`` (..., write_heads, N), ``read_weights``
        (..., read_heads, N) and ``reads`` (..., read_heads, W), in absolute terms (the
        stored offsets from the initial state added back)."""
        S = np.asarray(states, dtype=float)
        if S.shape[-1:] != (self.n,):
            raise ValidationError("NTM.unpack.states", f"expected shape (..., {self.n}), got "
                                  f"{S.shape}", states)
        lead = S.shape[:-1]
        H, N, W, R, Wh = self.H, self.N, self.W, self.read_heads, self.write_heads
        nc = 2 * H if self.controller == "lstm" else H
        out = {"h": S[..., :H]}
        if self.controller == "lstm":
            out["c"] = S[..., H:2 * H]
        out["memory"] = S[..., nc:nc + N * W].reshape(lead + (N, W)) + self.memory_init
        o = nc + N * W
        w = S[..., o:o + (R + Wh) * N].reshape(lead + (R + Wh, N)).copy()
        w[..., 0] += 1.0
        out["write_weights"], out["read_weights"] = w[..., :Wh, :], w[..., Wh:, :]
        o += (R + Wh) * N
        out["reads"] = S[..., o:o + R * W].reshape(lead + (R, W))
        return out
