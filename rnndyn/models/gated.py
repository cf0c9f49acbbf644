"""Gated recurrent cells in PyTorch's documented layout, so weights trained in
PyTorch load here (``from_torch``) and go back (``to_torch``) as plain numpy arrays.

* ``LSTM`` (Hochreiter & Schmidhuber 1997; forget gate: Gers, Schmidhuber & Cummins 2000):
  ``i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)`` (+ peepholes ``p_i * c``, ``p_f * c``,
  ``p_o * c'``; Gers & Schmidhuber 2000), ``c' = sigma(f) c + sigma(i) tanh(g)``,
  ``h' = sigma(o) tanh(c')``. The state is [h; c] (n = 2H); the outputs are h.
* ``GRU`` (Cho et al. 2014): ``r, z = sigma(.)``, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
  ``h' = (1 - z) n + z h``; ``reset_after=False`` gives the original
  ``n = tanh(W_in x + W_hn (r * h) + b_n)``. Gate variants of Dey & Salem (2017, "Gate-variants
  of Gated Recurrent Unit (GRU) neural networks", IEEE MWSCAS, doi:10.1109/MWSCAS.2017.8053243):
  GRU1 gates ``sigma(U h + b)``, GRU2 ``sigma(U h)``, GRU3 ``sigma(b)``; a variant is the GRU
  with the dropped weights held at zero (checked on construction).

Graphs: a gated cell has four (three) weights per connection, so a networkx graph gives only
its *topology*: ``from_graph`` draws the weights of the connections present in the graph
(every gate shares the mask) and keeps the mask, which later weights must respect.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .._validate import check_seed
from ..errors import ValidationError
from . import _gated_kernels as gk
from .base import Functions, check_mask, edge_masks
from ._torch import read as read_torch
from .cell import ACTIVATIONS, Cell, graph_arrays, uniform_init

GRU_VARIANTS = {0: "GRU", 1: "GRU1", 2: "GRU2", 3: "GRU3"}
#: BPTT of an LSTM or GRU keeps the forward pass's gate activations, (T, B, 4H), where they
#: take at most this much memory, instead of recomputing them in the backward pass
#: (``gate_store``)
GATE_STORE_BYTES = 1 << 30


class _Gated(Cell):
    """Shared checks of LSTM and GRU: G gate blocks of H rows each."""

    G = 0  # gates per unit

    def batch_blas(self, B: int, dtype=np.float64) -> bool:
        """Whether ``batch_kernel`` calls BLAS for a block of B sequences in dtype (then
        ``integrate.run.run_blocks`` sets BLAS's threads for it, ~4 us a call): the rows'
        path (one sequence, and enough sequences of many units, ``run_columns``, run without
        BLAS)."""
        return B > 1 and not gk.run_columns(B, self.H, np.dtype(dtype).itemsize)

    def gate_store(self, B: int, T: int, dtype, budget: float | None = None):
        """(T, B, 4H) array for the forward pass to keep the gate activations in (LSTM: i, f,
        g, o; GRU: r, z, W_hn h + b_hn, n), which BPTT then reads instead of recomputing
        them (``batch_kernel``, ``bptt_kernel``); None where that does not apply (no batched
        BPTT: other activations) or would take more than ``budget`` bytes (default
        ``GATE_STORE_BYTES``)."""
        budget = GATE_STORE_BYTES if budget is None else budget
        shape = (T, B, 4 * self.H)
        fits = np.prod(shape, dtype=float) * np.dtype(dtype).itemsize <= budget
        return np.empty(shape, dtype) if fits and self.bptt_kernel else None

    def _check_gated(self):
        name = type(self).__name__
        lead, W_hh = self._lead()
        H = W_hh.shape[-1]
        if W_hh.shape[-2] != self.G * H:
            raise ValidationError(f"{name}.W_hh", f"expected shape ({self.G}*H, H) = "
                                  f"({self.G * H}, {H}) for H = {H} (gates stacked in "
                                  f"PyTorch's order), got {W_hh.shape}", W_hh)
        W_hh = self._array("W_hh", lead + (self.G * H, H))
        if W_hh.shape[-2] != self.G * H:
            raise ValidationError(f"{name}.W_hh", f"expected shape ({self.G * H}, {H}), got "
                                  f"{W_hh.shape}", W_hh)
        if self.W_ih is None:
            self._set("W_ih", np.zeros(lead + (self.G * H, 0)))
        self._array("W_ih", lead + (self.G * H, None))
        self._array("b_ih", lead + (self.G * H,))
        self._array("b_hh", lead + (self.G * H,))
        self._act("activation")
        self._act("gate_activation")
        self._set("mask", check_mask(self.mask, self.W_hh, f"{name}.mask", self.G))
        self._set("input_mask", check_mask(self.input_mask, self.W_ih, f"{name}.input_mask",
                                           self.G))
        return lead, H

    def _free(self, name):
        """Topology masks tiled over the gate blocks (None: every entry free)."""
        mask = {"W_hh": self.mask, "W_ih": self.input_mask}.get(name)
        return None if mask is None else np.tile(mask, (self.G, 1))

    @property
    def H(self) -> int:
        return self.W_hh.shape[-1]

    @property
    def n_in(self) -> int:
        return self.W_ih.shape[-1]

    @property
    def n_out(self) -> int:
        return self.H

    def _zero_rows(self, name, arr, rows, why):
        block = arr[..., rows, :] if arr.ndim >= 2 and name.startswith("W") else arr[..., rows]
        bad = np.argwhere(block != 0)
        if bad.size:
            raise ValidationError(f"{type(self).__name__}.{name}", f"{why}: entries "
                                  f"[{rows.start}:{rows.stop}] must be zero, got "
                                  f"{block[tuple(bad[0])]} at {tuple(int(i) for i in bad[0])}",
                                  arr)

    def _transposes(self):
        # copies, never views: ascontiguousarray returns a (k, 1) matrix's transpose as a
        # read-only view, another numba type than a (k, 2) one's copy (a stack of such cells
        # failed to type, a lone one compiled its kernels again)
        return tuple(np.swapaxes(W, -1, -2).copy() for W in (self.W_ih, self.W_hh))

    def to_torch(self) -> dict:
        """Plain numpy arrays keyed like ``nn.LSTM``/``nn.GRU``'s ``state_dict()`` (layer 0);
        load them with ``module.load_state_dict({k: torch.from_numpy(v) ...})``. What torch
        cannot run (peepholes, ``reset_after=False``, other activations) raises
        ValidationError."""
        from ._torch import export

        return export(self)

    @classmethod
    def _from_graph_masks(cls, G, nodelist, input_nodes):
        a = graph_arrays(G, nodelist, input_nodes, cls.__name__)
        return edge_masks(G, a.nodes, a.input_nodes)


@dataclass(frozen=True, eq=False, repr=False)
class LSTM(_Gated):
    """Long short-term memory cell with forget gate, PyTorch layout (gates i, f, g, o).

    Parameters
    ----------
    W_ih : array (4H, n_in) or (P, 4H, n_in)
        ``weight_ih_l0``.
    W_hh : array (4H, H) or (P, 4H, H)
        ``weight_hh_l0``.
    b_ih, b_hh : float or array (4H,) / (P, 4H)
        ``bias_ih_l0``, ``bias_hh_l0``. Default 0.
    peephole : array (3, H) / (P, 3, H), optional
        Peephole weights onto the input, forget and output gates (rows i, f, o). Default none.
    activation, gate_activation : str
        Cell and gate nonlinearities; defaults "tanh" and "sigmoid".
    mask, input_mask : bool array (H, H) / (H, n_in), optional
        Topology of the recurrent / input connections (shared by the four gates); weights
        outside it are zero and not parameters.
    """

    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray = 0.0
    b_hh: np.ndarray = 0.0
    peephole: np.ndarray | None = None
    activation: str = "tanh"
    gate_activation: str = "sigmoid"
    mask: np.ndarray | None = None
    input_mask: np.ndarray | None = None

    G = 4
    _functions = Functions(rhs=None, step=gk.lstm_step, jacobian=gk.lstm_jacobian,
                           output=gk.lstm_output, member=gk.lstm_member,
                           work_size=gk.lstm_work_size, vjp=gk.lstm_vjp,
                           output_vjp=gk.hidden_output_vjp, param_size=gk.lstm_param_size)
    jac_input = staticmethod(gk.lstm_jac_input)
    output_jac = staticmethod(gk.hidden_output_jac)
    batch_kernel = staticmethod(gk.lstm_run_batch)
    #: populations run with their members on the SIMD lanes (``integrate._map_lanes_kernels``)
    population_lanes = "lstm"
    _batched = ("W_ih", "W_hh", "b_ih", "b_hh", "peephole")
    _hidden_field = "W_hh"

    @property
    def bptt_kernel(self):
        standard = self.activation == "tanh" and self.gate_activation == "sigmoid"
        return gk.lstm_bptt if standard else None

    def __post_init__(self):
        lead, H = self._check_gated()
        self._set("_has_peephole", self.peephole is not None and bool(np.any(self.peephole)))
        self._array("peephole", lead + (3, H), np.zeros(lead + (3, H)))

    @property
    def n(self) -> int:
        return 2 * self.H

    @property
    def _params(self):  # peepholes are parameters only when the cell has them
        return ("W_ih", "W_hh", "b_ih", "b_hh") + ("peephole",) * self._has_peephole

    def _raw_layout(self):  # the kernels read b_ih + b_hh and always a peephole block
        H, m = self.H, self.n_in
        return [(("W_ih",), (4 * H, m)), (("W_hh",), (4 * H, H)), (("b_ih", "b_hh"), (4 * H,)),
                (("peephole",), (3, H))]

    @property
    def n_params(self) -> int:
        H, m = self.H, self.n_in
        rec = H * H if self.mask is None else int(self.mask.sum())
        return 4 * (rec + H * m + H) + (3 * H if self._has_peephole else 0)

    @cached_property
    def kernel_params(self):
        W_ihT, W_hhT = self._transposes()
        return (self.W_ih, self.W_hh, self.b_ih + self.b_hh, self.peephole,
                ACTIVATIONS[self.activation], ACTIVATIONS[self.gate_activation], W_ihT, W_hhT)

    @classmethod
    def random(cls, n_in: int, H: int, *, seed=None, peephole: bool = False, mask=None,
               input_mask=None, **kwargs) -> "LSTM":
        """PyTorch's initialisation U(-1/sqrt(H), 1/sqrt(H)); ``mask`` (H, H) and
        ``input_mask`` (H, n_in) zero the absent connections."""
        rng = check_seed(seed)
        k = 1.0 / np.sqrt(H)
        W_ih, W_hh = uniform_init(rng, (4 * H, n_in), k), uniform_init(rng, (4 * H, H), k)
        b_ih, b_hh = uniform_init(rng, 4 * H, k), uniform_init(rng, 4 * H, k)
        P = uniform_init(rng, (3, H), k) if peephole else None
        if mask is not None:
            W_hh = W_hh * np.tile(np.asarray(mask, dtype=bool), (4, 1))
        if input_mask is not None:
            W_ih = W_ih * np.tile(np.asarray(input_mask, dtype=bool), (4, 1))
        return cls(W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, peephole=P, mask=mask,
                   input_mask=input_mask, **kwargs)

    @classmethod
    def from_torch(cls, state, **kwargs):
        """From an ``nn.LSTM`` / ``nn.LSTMCell`` module or its ``state_dict()`` (tensors or
        numpy arrays), the whole module: an ``LSTM`` for one layer, a ``Stacked`` for
        ``num_layers > 1``, a ``Bidirectional`` (``BidirectionalStack`` for several layers)
        when bidirectional; see ``rnndyn.models._torch``. ``kwargs`` go to every cell.

        Missing biases (``bias=False``) are zero. A GRU or RNN state (gate rows 3H or H, not
        4H) and ``proj_size > 0`` (``weight_hr_l*``) raise ValidationError.
        """
        return read_torch(state, cls.__name__).to_model(cls, **kwargs)

    @classmethod
    def from_graph(cls, G, *, seed=None, nodelist=None, input_nodes=None, **kwargs) -> "LSTM":
        """Topology from a networkx DiGraph (state nodes: units; input-role nodes: inputs);
        weights drawn as in ``random`` on the graph's connections only."""
        mask, in_mask = cls._from_graph_masks(G, nodelist, input_nodes)
        return cls.random(in_mask.shape[1], mask.shape[0], seed=seed, mask=mask,
                          input_mask=in_mask, **kwargs)


@dataclass(frozen=True, eq=False, repr=False)
class GRU(_Gated):
    """Gated recurrent unit, PyTorch layout (gates r, z, n), and Dey & Salem's variants.

    Parameters
    ----------
    W_ih : array (3H, n_in) / (P, 3H, n_in)
    W_hh : array (3H, H) / (P, 3H, H)
    b_ih, b_hh : float or array (3H,) / (P, 3H)
    variant : {0, 1, 2, 3}
        0 = GRU; 1 = GRU1 (gates see no input: rows [0:2H] of W_ih are zero); 2 = GRU2 (also no
        gate biases); 3 = GRU3 (gates are constant sigma(b): rows [0:2H] of W_ih, W_hh zero).
    reset_after : bool
        True (default): PyTorch's ``r * (W_hn h + b_hn)``; False: Cho et al.'s ``W_hn (r * h)``.
    activation, gate_activation : str
        Defaults "tanh" and "sigmoid".
    mask, input_mask : bool array (H, H) / (H, n_in), optional
        Topology of the recurrent / input connections (shared by the gates).
    """

    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray = 0.0
    b_hh: np.ndarray = 0.0
    variant: int = 0
    reset_after: bool = True
    activation: str = "tanh"
    gate_activation: str = "sigmoid"
    mask: np.ndarray | None = None
    input_mask: np.ndarray | None = None

    G = 3
    _functions = Functions(rhs=None, step=gk.gru_step, jacobian=gk.gru_jacobian,
                           output=gk.lstm_output, member=gk.gru_member,
                           work_size=gk.gru_work_size, vjp=gk.gru_vjp,
                           output_vjp=gk.hidden_output_vjp, param_size=gk.gru_param_size)
    _params = ("W_ih", "W_hh", "b_ih", "b_hh")
    jac_input = staticmethod(gk.gru_jac_input)
    output_jac = staticmethod(gk.hidden_output_jac)
    #: populations run with their members on the SIMD lanes (``integrate._map_lanes_kernels``)
    population_lanes = "gru"
    _batched = ("W_ih", "W_hh", "b_ih", "b_hh")
    _hidden_field = "W_hh"

    def __post_init__(self):
        lead, H = self._check_gated()
        if self.variant not in GRU_VARIANTS:
            raise ValidationError("GRU.variant", f"must be 0 (GRU), 1, 2 or 3 (Dey & Salem's "
                                  f"GRU1/2/3), got {self.variant!r}", self.variant)
        if not isinstance(self.reset_after, (bool, np.bool_)):
            raise ValidationError("GRU.reset_after", f"must be True or False, got "
                                  f"{self.reset_after!r}", self.reset_after)
        gates = slice(0, 2 * H)
        name = GRU_VARIANTS[self.variant]
        if self.variant >= 1:
            self._zero_rows("W_ih", self.W_ih, gates, f"{name} gates take no input")
        if self.variant == 2:
            self._zero_rows("b_ih", self.b_ih, gates, "GRU2 gates have no bias")
            self._zero_rows("b_hh", self.b_hh, gates, "GRU2 gates have no bias")
        if self.variant == 3:
            self._zero_rows("W_hh", self.W_hh, gates, "GRU3 gates see only their bias")

    @property
    def batch_kernel(self):
        return gk.gru_run_batch if self.reset_after else None

    @property
    def bptt_kernel(self):
        standard = self.activation == "tanh" and self.gate_activation == "sigmoid"
        return gk.gru_bptt if self.reset_after and standard else None

    def _free(self, name):
        """Topology masks, and the weights a GRU1/2/3 variant drops (gate rows [0:2H])."""
        free = super()._free(name)
        H, v = self.H, self.variant
        if (name == "W_ih" and v >= 1) or (name == "W_hh" and v == 3) or \
                (name in ("b_ih", "b_hh") and v == 2):
            free = np.ones(self.param_fields[name], bool) if free is None else free.copy()
            free[: 2 * H] = False
        return free

    @property
    def n_params(self) -> int:
        """Free parameters; with ``reset_after=False`` this is Dey & Salem's count:
        GRU 3(H^2 + H m + H), GRU1 -2Hm, GRU2 -2(Hm + H), GRU3 -2(Hm + H^2)."""
        H, m, v = self.H, self.n_in, self.variant
        rec = H * H if self.mask is None else int(self.mask.sum())
        gate = (H * m if v == 0 else 0) + (rec if v != 3 else 0) + (H if v != 2 else 0)
        cand = H * m + rec + (2 * H if self.reset_after else H)  # b_hn counts when reset after
        return 2 * gate + cand

    @cached_property
    def kernel_params(self):
        W_ihT, W_hhT = self._transposes()
        return (self.W_ih, self.W_hh, self.b_ih, self.b_hh, int(self.reset_after),
                ACTIVATIONS[self.activation], ACTIVATIONS[self.gate_activation], W_ihT, W_hhT)

    @classmethod
    def random(cls, n_in: int, H: int, *, seed=None, variant: int = 0, reset_after: bool = True,
               mask=None, input_mask=None, **kwargs) -> "GRU":
        """PyTorch's initialisation U(-1/sqrt(H), 1/sqrt(H)), with the variant's dropped
        weights set to zero."""
        rng = check_seed(seed)
        k = 1.0 / np.sqrt(H)
        W_ih, W_hh = uniform_init(rng, (3 * H, n_in), k), uniform_init(rng, (3 * H, H), k)
        b_ih, b_hh = uniform_init(rng, 3 * H, k), uniform_init(rng, 3 * H, k)
        if variant in (1, 2, 3):
            W_ih[: 2 * H] = 0.0
        if variant == 2:
            b_ih[: 2 * H] = b_hh[: 2 * H] = 0.0
        if variant == 3:
            W_hh[: 2 * H] = 0.0
        if mask is not None:
            W_hh = W_hh * np.tile(np.asarray(mask, dtype=bool), (3, 1))
        if input_mask is not None:
            W_ih = W_ih * np.tile(np.asarray(input_mask, dtype=bool), (3, 1))
        return cls(W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, variant=variant,
                   reset_after=reset_after, mask=mask, input_mask=input_mask, **kwargs)

    @classmethod
    def from_torch(cls, state, **kwargs):
        """From an ``nn.GRU`` / ``nn.GRUCell`` module or its ``state_dict()``: a ``GRU``,
        ``Stacked``, ``Bidirectional`` or ``BidirectionalStack`` as in ``LSTM.from_torch``.
        An LSTM or RNN state (gate rows 4H or H, not 3H) raises ValidationError."""
        return read_torch(state, cls.__name__).to_model(cls, **kwargs)

    @classmethod
    def from_graph(cls, G, *, seed=None, nodelist=None, input_nodes=None, **kwargs) -> "GRU":
        """Topology from a networkx DiGraph; weights drawn as in ``random`` on its edges."""
        mask, in_mask = cls._from_graph_masks(G, nodelist, input_nodes)
        return cls.random(in_mask.shape[1], mask.shape[0], seed=seed, mask=mask,
                          input_mask=in_mask, **kwargs)
