"""Continuous-time recurrent neural network in Beer's form (Beer 1995, Adaptive Behavior 3:469).

``tau_i dy_i/dt = -y_i + sum_j W[i, j] act(gain_j (y_j + bias_j)) + sum_k W_in[i, k] u_k(t)``

with ``act`` the logistic sigmoid (Beer) or tanh (the random rate network of Sompolinsky,
Crisanti & Sommers 1988, ``dx/dt = -x + J tanh(x)`` for gain 1 and bias 0). Row = target:
``W[i, j]`` is the weight j -> i. A multiple-timescale RNN (Yamashita & Tani 2008) is a CTRNN
whose units come in groups sharing tau.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import ValidationError
from . import _ctrnn_kernels
from .base import Functions, Model, as_array, check_mask, edge_masks, unit_indices

_K = _ctrnn_kernels
ACTIVATIONS = ("sigmoid", "tanh")
#: from this many units on, W @ act goes to BLAS (the loop wins below: call overhead)
BLAS_FROM = 128
#: (activation, driven, blas) -> the family's kernels compiled for it
KERNELS = {
    (name, driven, blas): Functions(
        rhs=getattr(_K, f"rhs_{name}" + "_driven" * driven + "_blas" * blas), step=None,
        jacobian=getattr(_K, f"jacobian_{name}"), output=getattr(_K, f"output_{name}"),
        member=_K.member, work_size=_K.work_size, vjp=getattr(_K, f"vjp_{name}"),
        output_vjp=getattr(_K, f"output_vjp_{name}"), param_size=_K.param_size,
        jvp=getattr(_K, f"jvp_{name}" + "_blas" * blas))
    for name in ACTIVATIONS for driven in (False, True) for blas in (False, True)}


@dataclass(frozen=True, eq=False, repr=False)
class CTRNN(Model):
    """A continuous-time recurrent neural network (Beer 1995) or a population of them.

    ``tau_i dy_i/dt = -y_i + sum_j W[i, j] act(gain_j (y_j + bias_j)) + sum_k W_in[i, k] u_k(t)``
    with ``act`` the logistic sigmoid (Beer's form) or tanh (with gain 1 and bias 0 the
    random rate network ``dx/dt = -x + J tanh(x)`` of Sompolinsky, Crisanti & Sommers 1988).
    The outputs are the firing rates ``act(gain_i (y_i + bias_i))`` of the output units. A
    population stacks every parameter array along a leading axis P (``CTRNN.stack``).

    Parameter vector (``to_vector``/``from_vector``): fields W, W_in (their masked-in
    entries), tau (> 0), bias, gain.

    Parameters
    ----------
    W : array (n, n) or (P, n, n)
        Recurrent weights, ``W[i, j]`` from unit j to unit i.
    tau : float or array (n,) / (P, n)
        Time constants (time units), > 0. Default 1.
    bias : float or array (n,) / (P, n)
        Biases theta (added to the state before the gain). Default 0.
    gain : float or array (n,) / (P, n)
        Gains of the activation. Default 1.
    W_in : array (n, n_in) / (P, n, n_in), optional
        Input weights; the external current is ``W_in @ u(t)``. Default: no inputs.
    activation : {"sigmoid", "tanh"}
        Output function of a unit. Default "sigmoid" (Beer).
    outputs : sequence of int, optional
        Indices of the output units (their firing rates are the model outputs). Default all.
    mask, input_mask : bool array (n, n) / (n, n_in), optional
        Topology: connection j -> i exists iff ``mask[i, j]`` (inputs: ``input_mask[i, k]``).
        Weights outside it are zero and are not parameters (not in ``to_vector``).
        Default: every connection exists. ``from_graph`` sets both from the edges.
    nodes, input_nodes : tuple, optional
        Graph node ids of the units and of the inputs (kept for ``to_graph``).
    graph_attrs : dict, optional
        Other graph-level attributes, kept for ``to_graph``.
    """

    W: np.ndarray
    tau: np.ndarray = 1.0
    bias: np.ndarray = 0.0
    gain: np.ndarray = 1.0
    W_in: np.ndarray | None = None
    activation: str = "sigmoid"
    outputs: tuple | None = None
    mask: np.ndarray | None = None
    input_mask: np.ndarray | None = None
    nodes: tuple | None = None
    input_nodes: tuple | None = None
    graph_attrs: dict = field(default_factory=dict)

    kind = "flow"
    _batched = ("W", "tau", "bias", "gain", "W_in")
    _params = ("W", "W_in", "tau", "bias", "gain")
    _bounds = {"tau": 0.0}

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        W = as_array(self.W, "CTRNN.W")
        if W.ndim not in (2, 3) or W.shape[-1] != W.shape[-2] or W.shape[-1] == 0:
            raise ValidationError("CTRNN.W", f"expected shape (n, n) or (P, n, n) with n >= 1, "
                                  f"got {W.shape}",
                                  self.W)
        set_("W", W)
        lead, n = W.shape[:-2], W.shape[-1]
        for name in ("tau", "bias", "gain"):
            set_(name, as_array(_broadcast(getattr(self, name), lead + (n,), f"CTRNN.{name}"),
                                f"CTRNN.{name}"))
        bad = np.argwhere(~(self.tau >= np.finfo(float).tiny))  # 1/tau must be finite
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            unit = where[-1]
            node = self.nodes[unit] if self.nodes is not None else unit
            raise ValidationError("CTRNN.tau", f"must be > 0, got {self.tau[where]} at node "
                                  f"{node!r}; time constants are positive durations (at least "
                                  f"{np.finfo(float).tiny:.3g}, so that 1/tau is finite)",
                                  self.tau)
        W_in = as_array(np.zeros(lead + (n, 0)) if self.W_in is None else self.W_in, "CTRNN.W_in")
        if W_in.ndim == len(lead) + 1:  # a vector: one input with these weights
            W_in = as_array(W_in[..., None], "CTRNN.W_in")
        set_("W_in", as_array(W_in, "CTRNN.W_in", lead + (n, None)))
        if self.activation not in ACTIVATIONS:
            raise ValidationError("CTRNN.activation", f"unknown activation {self.activation!r};"
                                  f" choose one of {list(ACTIVATIONS)}", self.activation)
        if self.outputs is not None:
            set_("outputs", unit_indices(self.outputs, n, "CTRNN.outputs"))
        for name, weights in (("mask", self.W), ("input_mask", self.W_in)):
            set_(name, check_mask(getattr(self, name), weights, f"CTRNN.{name}"))
        for name, size in (("nodes", n), ("input_nodes", self.W_in.shape[-1])):
            ids = getattr(self, name)
            if ids is not None:
                if len(ids) != size:
                    raise ValidationError(f"CTRNN.{name}", f"needs {size} ids, got {len(ids)}",
                                          ids)
                set_(name, tuple(ids))
        set_("graph_attrs", dict(self.graph_attrs))

    # -- protocol -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.W.shape[-1]

    @property
    def n_in(self) -> int:
        return self.W_in.shape[-1]

    @property
    def n_out(self) -> int:
        return self.n if self.outputs is None else len(self.outputs)

    @property
    def P(self) -> int | None:
        return self.W.shape[0] if self.W.ndim == 3 else None

    @property
    def _functions(self) -> Functions:
        return KERNELS[self.activation, self.n_in > 0, self.n >= BLAS_FROM]

    def _free(self, name):
        return {"W": self.mask, "W_in": self.input_mask}.get(name)

    @cached_property
    def kernel_params(self):
        out = np.arange(self.n) if self.outputs is None else np.array(self.outputs)
        A = _ctrnn_kernels.pack(self.W, self.W_in, self.tau, self.bias, self.gain)
        A.flags.writeable = False
        return (A, self.W, out.astype(np.int64))

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_graph(cls, G, nodelist=None, input_nodes=None) -> "CTRNN":
        """Build from a networkx DiGraph (see ``rnndyn.graphs`` for the attributes)."""
        from .. import graphs

        a = graphs.to_arrays(G, nodelist=nodelist, input_nodes=input_nodes)
        outs = tuple(i for i, r in enumerate(a.roles) if r == "output")
        mask, input_mask = edge_masks(G, a.nodes, a.input_nodes)
        return cls(W=a.W, tau=a.tau, bias=a.bias, gain=a.gain, W_in=a.W_in,
                   activation=a.activation, outputs=outs or None, mask=mask,
                   input_mask=input_mask, nodes=a.nodes, input_nodes=a.input_nodes,
                   graph_attrs=a.graph_attrs)

    def to_graph(self):
        """The network as a networkx DiGraph (single models only)."""
        self._single("to_graph")
        from .. import graphs

        roles = ["hidden"] * self.n
        for i in self.outputs or ():
            roles[i] = "output"
        return graphs.from_arrays(
            np.array(self.W), W_in=np.array(self.W_in), tau=np.array(self.tau),
            bias=np.array(self.bias), gain=np.array(self.gain), roles=roles, nodes=self.nodes,
            input_nodes=self.input_nodes, activation=self.activation, graph_attrs=self.graph_attrs)

    def center_crossing(self) -> "CTRNN":
        """Copy with center-crossing biases ``bias_i = -sum_j W[i, j] / 2`` (Mathayomchan &
        Beer 2002): when every output is 1/2 each unit sits at the centre of its sigmoid."""
        return dataclasses.replace(self, bias=-self.W.sum(axis=-1) / 2.0)


def _broadcast(value, shape, name):
    try:
        return np.broadcast_to(np.asarray(value, dtype=float), shape)
    except (TypeError, ValueError):
        raise ValidationError(name, f"expected a number or an array of shape {shape}, got "
                              f"{value!r}", value) from None
