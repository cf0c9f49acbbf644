"""The neural network pushdown automaton (Sun, Giles, Chen & Lee 1993, UMIACS-TR-93-77; Das,
Giles & Sun 1992) with the continuous stack of Grefenstette, Hermann, Suleyman & Blunsom
(2015, arXiv:1506.02516) as a map.

A controller (LSTM, as Grefenstette et al., or Elman/tanh) reads the input and the previous
stack read, ``z = [x; r_prev]``; one linear layer of its hidden state gives the stack
controls: push strength ``d = sigmoid(.)``, pop strength ``u = sigmoid(.)`` and the value
``v = tanh(.)`` (m). The stack is a list of (value, strength) pairs (eqs. 1-3):

==========  ===================================================================================
pop (2)     ``s_i <- relu(s_i - relu(u - sum_{j>i} s_j))`` for the entries already there
push (1-2)  the new entry (v, d) goes on top
read (3)    ``r = sum_i min(s_i, relu(1 - sum_{j>i} s_j)) V_i``: the top unit of strength
==========  ===================================================================================

The outputs are the logits ``y = W_out [h; r] + b_out`` (train them with the ``"bits"`` loss).
The state is the flat vector [controller (LSTM: h, c; Elman: h) | values V (depth x m) |
strengths s (depth) | read r (m)]; the zero state — the default h0 of ``rnndyn.run`` and of
the trainers — is the empty stack. ``NNPDA.unpack`` names the parts, ``NNPDA.initial_state``
builds (and checks) a state.

**Depth.** Every step pushes one entry (of strength d, possibly ~0), so the stack holds at
most ``depth`` entries: slot ``depth - 1`` is the top, and each step shifts the slots down
by one, dropping the bottom (oldest) entry. Sequences up to ``depth`` steps long run exactly
as on the unbounded stack of the paper; on longer ones the machine forgets the bottom of its
stack (the entries pushed more than ``depth`` steps ago), like a fixed-size hardware stack.
No parameter depends on the depth: ``with_depth`` runs a trained machine on longer strings.

BPTT through the controller and the stack uses the hand-written VJP (``_nnpda_kernels``)
through the generic templates: ``rnndyn.run``, ``rnndyn.train.bptt`` and
``rnndyn.train.train`` work unchanged. Where a relu or the min of the read is exactly at its
kink, the derivative is that of the branch the forward pass took (one-sided).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._validate import check_seed, choice, front_door, positive_int
from ..errors import ValidationError
from . import _nnpda_kernels as nk
from .base import Functions, as_array
from .cell import Cell, uniform_init

CONTROLLERS = ("lstm", "elman")


@dataclass(frozen=True, eq=False, repr=False)
class NNPDA(Cell):
    """Neural network pushdown automaton: a recurrent controller with a continuous stack of
    ``depth`` entries of width ``m``.

    Parameters
    ----------
    W_in : array (G, n_in + m) or (P, ...)
        Controller input weights on ``[x; r_prev]``; G = 4H (LSTM gates i, f, g, o) or H.
    W_hh : array (G, H)
        Controller recurrent weights (LSTM: (4H, H); Elman: (H, H)).
    b : array (G,)
        Controller bias.
    W_head, b_head : arrays (2 + m, H), (2 + m,)
        Stack controls: rows [push d, pop u, value v (m)].
    W_out, b_out : arrays (n_out, H + m), (n_out,)
        Readout of the logits from [h; r].
    depth : int
        Stack slots (>= 1); strings longer than ``depth`` lose the bottom of the stack.
    controller : {"lstm", "elman"}
    """

    W_in: np.ndarray
    W_hh: np.ndarray
    b: np.ndarray
    W_head: np.ndarray
    b_head: np.ndarray
    W_out: np.ndarray
    b_out: np.ndarray = 0.0
    depth: int = 64
    controller: str = "lstm"

    _functions = Functions(rhs=None, step=nk.nnpda_step, jacobian=nk.nnpda_jacobian,
                           output=nk.nnpda_output, member=nk.nnpda_member,
                           work_size=nk.nnpda_work_size, vjp=nk.nnpda_vjp,
                           output_vjp=nk.nnpda_output_vjp, param_size=nk.nnpda_param_size)
    _batched = ("W_in", "W_hh", "b", "W_head", "b_head", "W_out", "b_out")
    _params = _batched
    _hidden_field = "W_head"

    def __post_init__(self):
        name = type(self).__name__
        choice(self.controller, f"{name}.controller", CONTROLLERS)
        positive_int(self.depth, f"{name}.depth")
        lead, W_head = self._lead()
        D, H = W_head.shape[-2:]
        if D < 3:
            raise ValidationError(f"{name}.W_head", f"has {D} rows; it needs 2 + m >= 3 (push, "
                                  "pop and a value of width m >= 1)", W_head)
        m = D - 2
        G = 4 * H if self.controller == "lstm" else H
        W_in = self._array("W_in", lead + (G, None))
        if W_in.shape[-1] < m:
            raise ValidationError(f"{name}.W_in", f"has {W_in.shape[-1]} columns, fewer than "
                                  f"the m = {m} read values it takes besides the inputs", W_in)
        self._array("W_hh", lead + (G, H))
        self._array("b", lead + (G,))
        self._array("b_head", lead + (D,))
        self._array("W_out", lead + (None, H + m))
        self._array("b_out", lead + (self.W_out.shape[-2],))

    # -- sizes ------------------------------------------------------------------------------
    @property
    def H(self) -> int:
        """Controller units."""
        return self.W_head.shape[-1]

    @property
    def m(self) -> int:
        """Width of a stack value."""
        return self.W_head.shape[-2] - 2

    @property
    def _nc(self) -> int:
        return 2 * self.H if self.controller == "lstm" else self.H

    @property
    def n(self) -> int:
        return self._nc + self.depth * (self.m + 1) + self.m

    @property
    def n_in(self) -> int:
        return self.W_in.shape[-1] - self.m

    @property
    def n_out(self) -> int:
        return self.W_out.shape[-2]

    @property
    def n_params(self) -> int:
        return int(sum(np.prod(s) for s in self.param_fields.values()))

    @property
    def kernel_params(self):
        return (self.W_in, self.W_hh, self.b, self.W_head, self.b_head, self.W_out,
                self.b_out, int(self.depth), int(self.m), int(self.controller == "lstm"))

    @classmethod
    @front_door()
    def random(cls, n_in: int, n_out: int, H: int = 32, *, m: int = 8, depth: int = 64,
               controller: str = "lstm", seed=None) -> "NNPDA":
        """PyTorch's initialisation of each layer, U(-1/sqrt(fan), 1/sqrt(fan)) (fan = H for
        the controller, as ``nn.LSTM``; H for the stack controls; H + m for the readout)."""
        n_in = positive_int(n_in, "n_in", 0)
        n_out = positive_int(n_out, "n_out")
        H = positive_int(H, "H")
        m = positive_int(m, "m")
        depth = positive_int(depth, "depth")
        choice(controller, "controller", CONTROLLERS)
        rng = check_seed(seed, "seed")
        G = 4 * H if controller == "lstm" else H
        k, k_o = 1.0 / np.sqrt(H), 1.0 / np.sqrt(H + m)
        return cls(W_in=uniform_init(rng, (G, n_in + m), k), W_hh=uniform_init(rng, (G, H), k),
                   b=uniform_init(rng, G, k), W_head=uniform_init(rng, (2 + m, H), k),
                   b_head=uniform_init(rng, 2 + m, k),
                   W_out=uniform_init(rng, (n_out, H + m), k_o),
                   b_out=uniform_init(rng, n_out, k_o), depth=depth, controller=controller)

    def with_depth(self, depth: int) -> "NNPDA":
        """The same machine with a stack of ``depth`` slots (no parameter depends on it)."""
        return dataclasses.replace(self, depth=depth)

    # -- states ---------------------------------------------------------------------------
    def unpack(self, states) -> dict:
        """Named views of states (..., n): ``h`` (..., H) (and ``c`` for an LSTM),
        ``values`` (..., depth, m) and ``strengths`` (..., depth), the top last, and
        ``read`` (..., m)."""
        S = np.asarray(states, dtype=float)
        if S.shape[-1:] != (self.n,):
            raise ValidationError("NNPDA.unpack.states", f"expected shape (..., {self.n}), got "
                                  f"{S.shape}", states)
        H, K, m, nc = self.H, self.depth, self.m, self._nc
        out = {"h": S[..., :H]}
        if self.controller == "lstm":
            out["c"] = S[..., H:2 * H]
        out["values"] = S[..., nc:nc + K * m].reshape(S.shape[:-1] + (K, m))
        out["strengths"] = S[..., nc + K * m:nc + K * (m + 1)]
        out["read"] = S[..., nc + K * (m + 1):]
        return out

    def check_state(self, states, name: str) -> None:
        """Stack strengths must lie in [0, 1] (``rnndyn.run`` and the trainers check h0)."""
        s = self.unpack(states)["strengths"]
        bad = (s < 0.0) | (s > 1.0)
        if np.any(bad):
            raise ValidationError(name, f"stack strengths must lie in [0, 1], got "
                                  f"{s[bad].ravel()[0]!r}; build h0 with NNPDA.initial_state",
                                  states)

    @front_door()
    def initial_state(self, h=None, c=None, values=None, strengths=None) -> np.ndarray:
        """A state (n,) from its parts (each default zero: the empty stack), checked:
        strengths must lie in [0, 1], every part be finite. The read is that of the given
        stack (eq. 3), so the state is one the machine can be in.

        Parameters
        ----------
        h, c : array (H,), optional
            Controller state (``c`` only for an LSTM controller).
        values : array (k, m), k <= depth, optional
            Stack values, bottom first (the top last).
        strengths : array (k,), optional
            Their strengths, in [0, 1].
        """
        H, K, m = self.H, self.depth, self.m
        if c is not None and self.controller != "lstm":
            raise ValidationError("c", "an Elman controller has no cell state; leave c None",
                                  c)
        h = np.zeros(H) if h is None else as_array(h, "h", (H,))
        c = np.zeros(H) if c is None else as_array(c, "c", (H,))
        k = 0 if strengths is None else np.shape(strengths)[0] if np.ndim(strengths) else -1
        if strengths is not None and (np.ndim(strengths) != 1 or k > K):
            raise ValidationError("strengths", f"expected a vector of at most depth = {K} "
                                  f"strengths, got shape {np.shape(strengths)}", strengths)
        s = np.zeros(k) if strengths is None else as_array(strengths, "strengths", (k,))
        V = np.zeros((k, m)) if values is None else as_array(values, "values", (k, m))
        for name, a in (("h", h), ("c", c), ("values", V), ("strengths", s)):
            if not np.all(np.isfinite(a)):
                raise ValidationError(name, "must be finite", a)
        if np.any((s < 0.0) | (s > 1.0)):
            bad = s[(s < 0.0) | (s > 1.0)][0]
            raise ValidationError("strengths", f"stack strengths lie in [0, 1], got {bad}; "
                                  "clip or rescale them", strengths)
        SV, ss = np.zeros((K, m)), np.zeros(K)
        SV[K - k:], ss[K - k:] = V, s
        above = np.concatenate([np.cumsum(ss[::-1])[::-1][1:], [0.0]])
        r = np.minimum(ss, np.maximum(0.0, 1.0 - above)) @ SV
        ctrl = np.concatenate([h, c]) if self.controller == "lstm" else h
        return np.concatenate([ctrl, SV.ravel(), ss, r])
