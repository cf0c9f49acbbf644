"""The base of every discrete-time cell (``Cell``), its activations and the helpers the cell
families share (graphs, initialisation)."""
from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from ..errors import ValidationError
from . import _discrete_kernels as dk
from .base import Model, as_array

ACTIVATIONS = {"identity": dk.IDENTITY, "tanh": dk.TANH, "sigmoid": dk.SIGMOID, "relu": dk.RELU,
               "hard_tanh": dk.HARD_TANH, "hard_sigmoid": dk.HARD_SIGMOID}
#: the same activations on numpy arrays (readouts applied to whole sequences at once)
NUMPY_ACTIVATIONS = {"identity": lambda z: z, "tanh": np.tanh,
                     "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
                     "relu": lambda z: np.maximum(z, 0.0),
                     "hard_tanh": lambda z: np.clip(z, -1.0, 1.0),
                     "hard_sigmoid": lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0)}


def check_activation(value, name: str) -> str:
    """Return ``value`` if it names an activation, else raise ValidationError."""
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise ValidationError(name, f"unknown activation {value!r}; choose one of "
                              f"{sorted(ACTIVATIONS)}", value)
    return value


class Cell(Model):
    """Base of the discrete cells: shape checks shared by every family.

    Subclasses set ``kernels``, ``_batched``, ``_hidden_field`` (the field whose shape gives
    the population axis and H) and the stacking kernels ``jac_input`` and ``output_jac``.
    """

    kind = "map"
    jac_input: ClassVar = None
    output_jac: ClassVar = None
    batch_kernel: ClassVar = None  # BLAS kernel for B sequences sharing parameters, if any
    # batched exact BPTT for B sequences sharing parameters, if any:
    # (p, H0, X, Y, GO, G, GH0) with GO the cotangents of the outputs, G (d_raw,) summed
    bptt_kernel: ClassVar = None
    _hidden_field: ClassVar[str] = ""
    _hidden_ndim: ClassVar[int] = 2

    def _set(self, name, value):
        object.__setattr__(self, name, value)

    def _lead(self):
        """(leading population shape, H) read from the hidden field."""
        name = f"{type(self).__name__}.{self._hidden_field}"
        arr = as_array(getattr(self, self._hidden_field), name)
        nd = self._hidden_ndim
        if arr.ndim not in (nd, nd + 1):
            raise ValidationError(name, f"expected {nd} axes (or {nd + 1} for a population), "
                                  f"got shape {arr.shape}", arr)
        core = arr.shape[arr.ndim - nd:]
        if core[0] == 0 or (nd == 2 and core[-1] == 0):
            raise ValidationError(name, f"has shape {arr.shape}: a network needs at least one "
                                  "unit", arr)
        return arr.shape[: arr.ndim - nd], arr

    def _array(self, fname, shape, default=None):
        """Check field ``fname`` against ``shape`` (None entries: any); scalars broadcast."""
        name = f"{type(self).__name__}.{fname}"
        value = getattr(self, fname)
        if value is None:
            value = default
        if np.ndim(value) == 0 and len(shape) > 0 and value is not None:
            value = np.broadcast_to(np.asarray(value, dtype=float), shape)
        arr = as_array(value, name, shape)
        self._set(fname, arr)
        return arr

    def _act(self, fname):
        return check_activation(getattr(self, fname), f"{type(self).__name__}.{fname}")

    @property
    def P(self):
        arr = getattr(self, self._hidden_field)
        return arr.shape[0] if arr.ndim == self._hidden_ndim + 1 else None

    @property
    def n(self) -> int:
        return self.H

    @property
    def n_out(self) -> int:
        return self.H

    @property
    @abstractmethod
    def n_params(self) -> int:
        """Number of free parameters of one network (redundant bias pairs counted once)."""


def uniform_init(rng, shape, k):
    """U(-k, k) weights: PyTorch's default initialisation (k = 1/sqrt(hidden size))."""
    return rng.uniform(-k, k, size=shape)


def graph_arrays(G, nodelist, input_nodes, who):
    """``graphs.to_arrays`` for a cell's ``from_graph`` (``who``: the class, for messages)."""
    from .. import graphs

    a = graphs.to_arrays(G, nodelist=nodelist, input_nodes=input_nodes)
    for name in ("tau", "gain"):
        values = getattr(a, name)
        if not np.all(values == 1.0):
            raise ValidationError(f"{who}.from_graph", f"node attribute {name!r} is "
                                  f"{values[values != 1.0][0]} somewhere; a discrete cell has "
                                  f"no {name}: remove it or build a CTRNN instead", G)
    return a


def cell_graph(W, W_in, bias, activation, roles, nodes, input_nodes, graph_attrs):
    """The networkx graph of a single-matrix cell (``to_graph`` of Elman and its kin)."""
    from .. import graphs

    attrs = dict(graph_attrs)
    graph_act = activation if activation in ("sigmoid", "tanh") else "tanh"
    if activation != graph_act:
        attrs["cell_activation"] = activation
    return graphs.from_arrays(W, W_in=W_in, bias=bias, roles=roles, nodes=nodes,
                              input_nodes=input_nodes if W_in.shape[1] else None, activation=graph_act,
                              graph_attrs=attrs)
