"""Simple discrete-time recurrent networks.

* ``FullyRecurrent``: ``h' = act((W * mask) h + W_in x + bias)``; the mask expresses any
  topology, and the network converts to and from a networkx graph.
* ``Elman`` (Elman 1990): ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, optional readout
  ``y = act_y(W_y h + b_y)``. PyTorch's ``nn.RNN`` layout (``weight_ih``, ``weight_hh``,
  ``bias_ih``, ``bias_hh``).
* ``Jordan`` (Jordan 1986): the context is the previous output, ``h' = act(W_ih x + U y + b)``,
  ``y' = act_y(W_y h' + b_y)``; the state is [h; y].
* ``IndRNN`` (Li et al. 2018): ``h' = act(W_ih x + u * h + b)``, elementwise recurrence.
* ``SecondOrderRNN`` (Giles et al. 1992): ``h'_i = act(sum_jk W[i,j,k] h_j x_k + b_i)``.

All are maps in the sense of ``models.base`` (``kind = "map"``): ``step(h, x)`` and its
Jacobian dh'/dh; run them over sequences with ``rnndyn.integrate.run``. Activations are chosen
by name from ``ACTIVATIONS``. Weights are float64; ``run(..., dtype=np.float32)`` runs in
single precision.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import check_seed
from ..errors import ValidationError
from . import _base_kernels
from . import _discrete_kernels as dk
from . import _elman_kernels as ek
from . import _indrnn_kernels as ik
from ._torch import read as read_torch
from .base import Functions, check_mask, edge_masks, unit_indices
from .cell import ACTIVATIONS, Cell, graph_arrays, cell_graph, uniform_init


class _Batched:
    """Batched kernels for B sequences sharing the cell (``run``, BPTT): Elman's
    (``_elman_kernels``: one matrix product a step; Elman, FullyRecurrent) unless a subclass
    sets its own."""

    batch_kernel = staticmethod(ek.elman_run_batch)
    bptt_kernel = staticmethod(ek.elman_bptt)
    #: the lane layout of a population (``integrate._map_lanes_kernels``: members on the SIMD
    #: lanes), here Elman's parameter tuple; None: each member's own loop
    population_lanes = "elman"

    def batch_blas(self, B: int, dtype=np.float64) -> bool:
        """Whether ``batch_kernel`` calls BLAS for B sequences (Elman's one runs on
        ``vecmat``)."""
        return B > 1

    def gate_store(self, B: int, T: int, dtype, budget: float | None = None):
        """None: BPTT needs nothing of the forward pass but its states (the LSTM's hook)."""
        return None


# ---------------------------------------------------------------------------- Elman
@dataclass(frozen=True, eq=False, repr=False)
class Elman(_Batched, Cell):
    """Elman network ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, ``y = act_y(W_y h + b_y)``.

    Parameters
    ----------
    W_ih : array (H, n_in) or (P, H, n_in)
        Input weights (PyTorch ``weight_ih_l0``).
    W_hh : array (H, H) or (P, H, H)
        Recurrent weights, ``W_hh[i, j]`` from unit j to unit i (``weight_hh_l0``).
    b_ih, b_hh : float or array (H,) / (P, H)
        Biases (PyTorch keeps two; only their sum matters). Default 0.
    W_y : array (n_out, H) / (P, n_out, H), optional
        Readout weights. Default: no readout, the outputs are h.
    b_y : float or array (n_out,) / (P, n_out)
        Readout bias. Default 0.
    activation, output_activation : str
        Names from ``ACTIVATIONS``; defaults "tanh" and "identity".
    """

    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray = 0.0
    b_hh: np.ndarray = 0.0
    W_y: np.ndarray | None = None
    b_y: np.ndarray = 0.0
    activation: str = "tanh"
    output_activation: str = "identity"

    _functions = Functions(rhs=None, step=dk.elman_step, jacobian=dk.elman_jacobian,
                         output=dk.elman_output, member=dk.elman_member,
                         work_size=dk.elman_work_size, vjp=dk.elman_vjp,
                         output_vjp=dk.elman_output_vjp, param_size=dk.elman_param_size)
    jac_input = staticmethod(dk.elman_jac_input)
    output_jac = staticmethod(dk.elman_output_jac)
    _batched = ("W_ih", "W_hh", "b_ih", "b_hh", "W_y", "b_y")
    _params = _batched
    _hidden_field = "W_hh"

    def __post_init__(self):
        lead, W_hh = self._lead()
        H = W_hh.shape[-1]
        self._array("W_hh", lead + (H, H))
        if self.W_ih is None:
            self._set("W_ih", np.zeros(lead + (H, 0)))
        self._array("W_ih", lead + (H, None))
        self._array("b_ih", lead + (H,))
        self._array("b_hh", lead + (H,))
        self._array("W_y", lead + (None, H), np.zeros(lead + (0, H)))
        self._array("b_y", lead + (self.W_y.shape[-2],))
        self._act("activation")
        self._act("output_activation")

    @property
    def _readout(self) -> bool:
        return self.W_y.shape[-2] > 0

    def _raw_layout(self):  # the kernels read the summed bias b_ih + b_hh
        f = self.param_fields
        return [(("W_ih",), f["W_ih"]), (("W_hh",), f["W_hh"]), (("b_ih", "b_hh"), f["b_ih"]),
                (("W_y",), f["W_y"]), (("b_y",), f["b_y"])]

    @property
    def has_graph(self) -> bool:
        """A graph holds W_hh, W_ih and the bias, not a readout."""
        return not self._readout

    @property
    def H(self) -> int:
        return self.W_hh.shape[-1]

    @property
    def n_in(self) -> int:
        return self.W_ih.shape[-1]

    @property
    def n_out(self) -> int:
        return self.W_y.shape[-2] if self._readout else self.H

    @property
    def n_params(self) -> int:
        H, m, O = self.H, self.n_in, self.W_y.shape[-2]
        return H * H + H * m + H + (O * H + O if self._readout else 0)

    @property
    def kernel_params(self):
        return (self.W_ih, self.W_hh, self.b_ih + self.b_hh, self.W_y, self.b_y,
                ACTIVATIONS[self.activation], ACTIVATIONS[self.output_activation],
                int(self._readout))

    @classmethod
    def random(cls, n_in: int, H: int, n_out: int | None = None, *, seed=None,
               activation: str = "tanh", output_activation: str = "identity") -> "Elman":
        """PyTorch's initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        rng = check_seed(seed)
        k = 1.0 / np.sqrt(H)
        W_y = None if n_out is None else uniform_init(rng, (n_out, H), k)
        return cls(W_ih=uniform_init(rng, (H, n_in), k), W_hh=uniform_init(rng, (H, H), k),
                   b_ih=uniform_init(rng, H, k), b_hh=uniform_init(rng, H, k), W_y=W_y,
                   b_y=0.0 if n_out is None else uniform_init(rng, n_out, k),
                   activation=activation, output_activation=output_activation)

    # -- PyTorch weight exchange ----------------------------------------------------------
    @classmethod
    def from_torch(cls, state, activation: str | None = None, **kwargs):
        """From an ``nn.RNN`` / ``nn.RNNCell`` module or its ``state_dict()`` (tensors or
        numpy arrays), the whole module: an ``Elman`` for one layer, a ``Stacked`` for
        ``num_layers > 1``, a ``Bidirectional`` (``BidirectionalStack`` for several layers)
        when bidirectional; see ``rnndyn.models._torch``.

        ``activation`` defaults to the module's ``nonlinearity`` ("tanh" for a state dict,
        which does not record it). Missing biases (``bias=False``) are zero; an LSTM or GRU
        state raises ValidationError.
        """
        return read_torch(state, cls.__name__).to_model(cls, activation=activation, **kwargs)

    def to_torch(self) -> dict:
        """Plain numpy arrays in PyTorch's ``nn.RNN`` layout (keys ``weight_ih_l0`` ...); the
        module needs ``nonlinearity=self.activation`` ("tanh" or "relu"). A readout ``W_y``
        has no nn.RNN counterpart and raises ValidationError."""
        from ._torch import export

        return export(self)

    # -- graphs ---------------------------------------------------------------------------
    @classmethod
    def from_graph(cls, G, nodelist=None, input_nodes=None, activation: str | None = None) -> "Elman":
        """State nodes -> W_hh, input-role nodes -> W_ih, node ``bias`` -> b_ih; no readout.

        The activation is ``activation``, else the graph attribute ``cell_activation``, else
        ``G.graph["activation"]``. Node ``tau`` and ``gain`` do not exist in a discrete cell
        and must keep their defaults (1).
        """
        a = graph_arrays(G, nodelist, input_nodes, cls.__name__)
        act = activation or a.graph_attrs.get("cell_activation", a.activation)
        return cls(W_ih=a.W_in, W_hh=a.W, b_ih=a.bias, activation=act)

    def to_graph(self):
        """networkx DiGraph of the recurrent and input weights and the summed bias."""
        self._single("to_graph")
        if self._readout:
            raise ValidationError("Elman.to_graph", "a readout (W_y) has no graph form; use "
                                  "FullyRecurrent with output-role units instead")
        return cell_graph(np.array(self.W_hh), np.array(self.W_ih),
                         np.array(self.b_ih + self.b_hh), self.activation, None, None, None, {})


# ---------------------------------------------------------------------------- fully recurrent
@dataclass(frozen=True, eq=False, repr=False)
class FullyRecurrent(_Batched, Cell):
    """Fully recurrent network ``h' = act((W * mask) h + W_in x + bias)``.

    Parameters
    ----------
    W : array (n, n) or (P, n, n)
        Recurrent weights, row = target.
    mask : bool array (n, n), optional
        Topology: connection j -> i exists iff ``mask[i, j]``. Weights outside the mask must be
        zero and are not parameters (not in ``to_vector``). Default: the nonzero pattern of W.
    W_in : array (n, n_in) / (P, n, n_in), optional
        Input weights. Default: no inputs.
    input_mask : bool array (n, n_in), optional
        Topology of the input connections (as ``mask``). Default: every input feeds every
        unit.
    bias : float or array (n,) / (P, n)
    activation : str
        Name from ``ACTIVATIONS``; default "tanh".
    outputs : sequence of int, optional
        Units whose activity is the output. Default all.
    nodes, input_nodes, graph_attrs : optional
        Graph node ids and attributes kept for ``to_graph``.
    """

    W: np.ndarray
    mask: np.ndarray | None = None
    W_in: np.ndarray | None = None
    bias: np.ndarray = 0.0
    activation: str = "tanh"
    outputs: tuple | None = None
    nodes: tuple | None = None
    input_nodes: tuple | None = None
    graph_attrs: dict = field(default_factory=dict)
    input_mask: np.ndarray | None = None

    _functions = Elman._functions
    jac_input = staticmethod(dk.elman_jac_input)
    output_jac = staticmethod(dk.elman_output_jac)
    _batched = ("W", "W_in", "bias")
    _params = _batched
    _hidden_field = "W"

    def __post_init__(self):
        lead, W = self._lead()
        n = W.shape[-1]
        W = self._array("W", lead + (n, n))
        if self.mask is None:
            mask = np.any(W != 0, axis=tuple(range(len(lead)))) if lead else W != 0
        else:
            mask = np.asarray(self.mask)
            if mask.shape != (n, n) or mask.dtype != bool:
                raise ValidationError("FullyRecurrent.mask", f"expected a bool array of shape "
                                      f"({n}, {n}), got {mask.dtype} {mask.shape}", self.mask)
            outside = np.argwhere((W != 0) & ~mask)
            if outside.size:
                where = tuple(int(i) for i in outside[0])
                raise ValidationError("FullyRecurrent.W", f"nonzero weight {W[where]} at "
                                      f"{where} outside the mask; zero it or set the mask", W)
        mask = mask.copy()
        mask.flags.writeable = False
        self._set("mask", mask)
        if self.W_in is None:
            self._set("W_in", np.zeros(lead + (n, 0)))
        self._array("W_in", lead + (n, None))
        self._set("input_mask", check_mask(self.input_mask, self.W_in, "FullyRecurrent.input_mask"))
        self._array("bias", lead + (n,))
        self._act("activation")
        if self.outputs is not None:
            self._set("outputs", unit_indices(self.outputs, n, "FullyRecurrent.outputs"))
        for name, size in (("nodes", n), ("input_nodes", self.W_in.shape[-1])):
            ids = getattr(self, name)
            if ids is not None:
                if len(ids) != size:
                    raise ValidationError(f"FullyRecurrent.{name}", f"needs {size} ids, got "
                                          f"{len(ids)}", ids)
                self._set(name, tuple(ids))
        self._set("graph_attrs", dict(self.graph_attrs))

    @property
    def H(self) -> int:
        return self.W.shape[-1]

    @property
    def n_in(self) -> int:
        return self.W_in.shape[-1]

    @property
    def n_out(self) -> int:
        return self.H if self.outputs is None else len(self.outputs)

    @property
    def _readout(self) -> bool:  # outputs selected from the state (Elman's kernels' readout)
        return self.outputs is not None

    @property
    def n_params(self) -> int:
        return int(self.mask.sum()) + int(np.count_nonzero(
            self.W_in if self.P is None else self.W_in[0])) + self.H

    def _free(self, name):
        return {"W": self.mask, "W_in": self.input_mask}.get(name)

    def _raw_layout(self):  # the Elman kernels' [W_ih, W_hh, b, W_y, b_y]; W_y selects outputs
        H, m, O = self.H, self.n_in, 0 if self.outputs is None else len(self.outputs)
        return [(("W_in",), (H, m)), (("W",), (H, H)), (("bias",), (H,)), ((), (O, H)),
                ((), (O,))]

    @property
    def kernel_params(self):
        lead = self.W.shape[:-2]
        n, outs = self.H, self.outputs
        if outs is None:
            W_y = np.zeros(lead + (0, n))
        else:  # a selection readout
            W_y = np.zeros(lead + (len(outs), n))
            W_y[..., np.arange(len(outs)), np.array(outs, dtype=int)] = 1.0
        return (self.W_in, self.W * self.mask, self.bias, W_y, np.zeros(lead + (W_y.shape[-2],)),
                ACTIVATIONS[self.activation], dk.IDENTITY, int(outs is not None))

    @classmethod
    def from_graph(cls, G, nodelist=None, input_nodes=None,
                   activation: str | None = None) -> "FullyRecurrent":
        """From a networkx DiGraph: the edge set is the mask, edge weights W / W_in, node
        ``bias`` the bias, units with role "output" the outputs.

        The activation is ``activation``, else the graph attribute ``cell_activation``, else
        ``G.graph["activation"]``.
        """
        a = graph_arrays(G, nodelist, input_nodes, cls.__name__)
        mask, input_mask = edge_masks(G, a.nodes, a.input_nodes)
        outs = tuple(i for i, r in enumerate(a.roles) if r == "output")
        act = activation or a.graph_attrs.get("cell_activation", a.activation)
        attrs = {k: v for k, v in a.graph_attrs.items() if k != "cell_activation"}
        return cls(W=a.W, mask=mask, W_in=a.W_in, bias=a.bias, activation=act,
                   outputs=outs or None, nodes=a.nodes, input_nodes=a.input_nodes, graph_attrs=attrs,
                   input_mask=input_mask)

    def to_graph(self):
        """networkx DiGraph; masked-in connections of weight 0 are not representable (a zero
        weight is no edge) and are dropped."""
        self._single("to_graph")
        roles = ["hidden"] * self.H
        for i in self.outputs or ():
            roles[i] = "output"
        return cell_graph(np.array(self.W * self.mask), np.array(self.W_in), np.array(self.bias),
                         self.activation, roles, self.nodes, self.input_nodes, self.graph_attrs)


# ---------------------------------------------------------------------------- Jordan
@dataclass(frozen=True, eq=False, repr=False)
class Jordan(Cell):
    """Jordan network: ``h' = act(W_ih x + U y + b)``, ``y' = act_y(W_y h' + b_y)``.

    The state is [h; y] (n = H + n_out) and the outputs are y. The hidden part of the state is
    not fed back, so the Jacobian's first H columns are zero.

    Parameters
    ----------
    W_ih : array (H, n_in) / (P, H, n_in)
    U : array (H, n_out) / (P, H, n_out)
        Context (output -> hidden) weights.
    W_y : array (n_out, H) / (P, n_out, H)
    b, b_y : float or array (H,) / (n_out,)
    activation, output_activation : str
        Defaults "tanh", "tanh".
    """

    W_ih: np.ndarray
    U: np.ndarray
    W_y: np.ndarray
    b: np.ndarray = 0.0
    b_y: np.ndarray = 0.0
    activation: str = "tanh"
    output_activation: str = "tanh"

    #: populations run with their members on the SIMD lanes (``integrate._map_lanes_kernels``)
    population_lanes = "jordan"
    _functions = Functions(rhs=None, step=dk.jordan_step, jacobian=dk.jordan_jacobian,
                         output=dk.jordan_output, member=dk.jordan_member,
                         work_size=dk.jordan_work_size, vjp=dk.jordan_vjp,
                         output_vjp=dk.jordan_output_vjp, param_size=dk.jordan_param_size)
    jac_input = staticmethod(dk.jordan_jac_input)
    output_jac = staticmethod(dk.jordan_output_jac)
    _batched = ("W_ih", "U", "W_y", "b", "b_y")
    _params = ("W_ih", "U", "b", "W_y", "b_y")  # the kernels' order
    _hidden_field = "W_y"

    def __post_init__(self):
        lead, W_y = self._lead()
        O, H = W_y.shape[-2:]
        self._array("W_y", lead + (O, H))
        if self.W_ih is None:
            self._set("W_ih", np.zeros(lead + (H, 0)))
        self._array("W_ih", lead + (H, None))
        self._array("U", lead + (H, O))
        self._array("b", lead + (H,))
        self._array("b_y", lead + (O,))
        self._act("activation")
        self._act("output_activation")

    @property
    def H(self) -> int:
        return self.W_y.shape[-1]

    @property
    def n(self) -> int:
        return self.H + self.W_y.shape[-2]

    @property
    def n_in(self) -> int:
        return self.W_ih.shape[-1]

    @property
    def n_out(self) -> int:
        return self.W_y.shape[-2]

    @property
    def n_params(self) -> int:
        H, m, O = self.H, self.n_in, self.n_out
        return H * m + H * O + H + O * H + O

    @property
    def kernel_params(self):
        return (self.W_ih, self.U, self.b, self.W_y, self.b_y, ACTIVATIONS[self.activation],
                ACTIVATIONS[self.output_activation])

    @classmethod
    def random(cls, n_in: int, H: int, n_out: int, *, seed=None, activation="tanh",
               output_activation="tanh") -> "Jordan":
        rng = check_seed(seed)
        k = 1.0 / np.sqrt(H)
        return cls(W_ih=uniform_init(rng, (H, n_in), k), U=uniform_init(rng, (H, n_out), k),
                   W_y=uniform_init(rng, (n_out, H), k), b=uniform_init(rng, H, k),
                   b_y=uniform_init(rng, n_out, k), activation=activation,
                   output_activation=output_activation)


# ---------------------------------------------------------------------------- IndRNN
@dataclass(frozen=True, eq=False, repr=False)
class IndRNN(_Batched, Cell):
    """Independently recurrent network (Li et al. 2018, CVPR): ``h' = act(W_ih x + u * h + b)``.

    Parameters
    ----------
    W_ih : array (H, n_in) / (P, H, n_in)
    u : array (H,) / (P, H)
        Recurrent weight of each unit onto itself (|u| <= 1 keeps gradients bounded for relu).
    b : float or array (H,)
    activation : str
        Default "relu" (the paper's choice).
    """

    W_ih: np.ndarray
    u: np.ndarray
    b: np.ndarray = 0.0
    activation: str = "relu"

    _functions = Functions(rhs=None, step=dk.indrnn_step, jacobian=dk.indrnn_jacobian,
                         output=_base_kernels.output_state, member=dk.indrnn_member,
                         work_size=dk.indrnn_work_size, vjp=dk.indrnn_vjp,
                         output_vjp=_base_kernels.state_output_vjp,
                         param_size=dk.indrnn_param_size)
    jac_input = staticmethod(dk.indrnn_jac_input)
    output_jac = staticmethod(dk.identity_output_jac)
    # the input projection of 64 steps one BLAS product, the recurrence unit by unit
    batch_kernel = staticmethod(ik.indrnn_run_batch)
    bptt_kernel = staticmethod(ik.indrnn_bptt)
    population_lanes = "indrnn"
    _batched = ("W_ih", "u", "b")
    _params = _batched
    _hidden_field = "u"
    _hidden_ndim = 1

    def __post_init__(self):
        lead, u = self._lead()
        H = u.shape[-1]
        self._array("u", lead + (H,))
        if self.W_ih is None:
            self._set("W_ih", np.zeros(lead + (H, 0)))
        self._array("W_ih", lead + (H, None))
        self._array("b", lead + (H,))
        self._act("activation")

    @property
    def H(self) -> int:
        return self.u.shape[-1]

    @property
    def n_in(self) -> int:
        return self.W_ih.shape[-1]

    @property
    def n_params(self) -> int:
        return self.H * (self.n_in + 2)

    @property
    def kernel_params(self):
        return (self.W_ih, self.u, self.b, ACTIVATIONS[self.activation])

    @classmethod
    def random(cls, n_in: int, H: int, *, seed=None, activation="relu",
               u_max: float = 1.0) -> "IndRNN":
        rng = check_seed(seed)
        return cls(W_ih=rng.normal(0, 1 / np.sqrt(max(n_in, 1)), (H, n_in)),
                   u=rng.uniform(0, u_max, H), b=0.0, activation=activation)


# ---------------------------------------------------------------------------- second order
@dataclass(frozen=True, eq=False, repr=False)
class SecondOrderRNN(Cell):
    """Second-order RNN (Giles et al. 1992, Neural Computation 4:393):
    ``h'_i = act(sum_jk W[i, j, k] h_j x_k + b_i)``.

    Parameters
    ----------
    W : array (H, H, n_in) / (P, H, H, n_in)
        Multiplicative weights: hidden unit j times input k onto unit i.
    b : float or array (H,)
    activation : str
        Default "sigmoid" (as in the paper).
    """

    W: np.ndarray
    b: np.ndarray = 0.0
    activation: str = "sigmoid"

    _functions = Functions(rhs=None, step=dk.second_order_step, jacobian=dk.second_order_jacobian,
                         output=_base_kernels.output_state, member=dk.second_order_member,
                         work_size=dk.second_order_work_size, vjp=dk.second_order_vjp,
                         output_vjp=_base_kernels.state_output_vjp,
                         param_size=dk.second_order_param_size)
    jac_input = staticmethod(dk.second_order_jac_input)
    output_jac = staticmethod(dk.identity_output_jac)
    _batched = ("W", "b")
    _params = _batched
    _hidden_field = "W"
    _hidden_ndim = 3

    def __post_init__(self):
        lead, W = self._lead()
        H, m = W.shape[-3], W.shape[-1]
        self._array("W", lead + (H, H, m))
        self._array("b", lead + (H,))
        self._act("activation")

    @property
    def H(self) -> int:
        return self.W.shape[-3]

    @property
    def n_in(self) -> int:
        return self.W.shape[-1]

    @property
    def n_params(self) -> int:
        return self.H * self.H * self.n_in + self.H

    @property
    def kernel_params(self):
        return (self.W, self.b, ACTIVATIONS[self.activation])

    @classmethod
    def random(cls, n_in: int, H: int, *, seed=None, activation="sigmoid",
               scale: float = 1.0) -> "SecondOrderRNN":
        rng = check_seed(seed)
        return cls(W=rng.normal(0, scale / np.sqrt(H), (H, H, n_in)),
                   b=rng.normal(0, scale, H), activation=activation)
