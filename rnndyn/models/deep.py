"""Deep and bidirectional compositions of discrete cells.

* ``Stacked``: L layers of one family, layer l reading layer l-1's new output in the same
  time step (layer 1 reads x), plus an optional readout ``y = act(W_out o_L + b_out)``. The
  stack is itself a map: state [s_1; ...; s_L] with an analytic Jacobian (chain rule through
  the layers), so ``run``, the conformance suite and the gradient diagnostics apply.
* ``rmlp``: the recurrent multilayer perceptron (Puskorius & Feldkamp 1994; Haykin, Neural
  Networks, 2nd ed., §15.2): cascaded subnetworks, each feed-forward except its last layer,
  which feeds back onto itself. Built as a ``Stacked`` of Elman layers whose feed-forward
  layers have zero recurrent weights (their "state" is just their latest activity).
* ``Bidirectional`` (Schuster & Paliwal 1997): a forward and a backward cell over the same
  sequences, outputs concatenated, and ``BidirectionalStack``, layers of them as PyTorch
  stacks them. They need the whole sequence, so they are not maps: ``rnndyn.run`` runs
  them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .._jit import specialize
from .._validate import check_seed
from ..errors import ValidationError
from .base import Composite, Functions, as_array
from .cell import ACTIVATIONS, Cell, check_activation
from . import gated
from .discrete import Elman

_TEMPLATE = Path(__file__).parent / "_stacked_template.py"


@dataclass(frozen=True, eq=False, repr=False)
class Stacked(Composite, Cell):
    """A deep stack of cells of one family with an optional readout.

    Parameters
    ----------
    layers : sequence of single cells of one family (e.g. LSTM, GRU, Elman)
        ``layers[l].n_in`` must equal ``layers[l-1].n_out``.
    W_out : array (n_out, layers[-1].n_out), optional
        Readout weights; default none (the outputs are the top layer's outputs).
    b_out : float or array (n_out,)
    output_activation : str
        Default "identity".
    """

    layers: tuple
    W_out: np.ndarray | None = None
    b_out: np.ndarray = 0.0
    output_activation: str = "identity"

    _batched = ()

    def __post_init__(self):
        layers = tuple(self.layers)
        if not layers:
            raise ValidationError("Stacked.layers", "got no layers; pass at least one cell")
        fam = type(layers[0])
        for l, cell in enumerate(layers):
            if type(cell) is not fam or not isinstance(cell, Cell) or cell.P is not None:
                raise ValidationError("Stacked.layers", f"layer {l} is {type(cell).__name__}; "
                                      f"stack single cells of one family ({fam.__name__})")
            if cell.jac_input is None:
                raise ValidationError("Stacked.layers", f"{fam.__name__} cannot be stacked "
                                      "(no input Jacobian)")
            if l and cell.n_in != layers[l - 1].n_out:
                raise ValidationError(f"Stacked.layers[{l}].W_ih", f"layer {l} takes "
                                      f"{cell.n_in} inputs but layer {l - 1} has "
                                      f"{layers[l - 1].n_out} outputs; give it shape "
                                      f"(..., {layers[l - 1].n_out})")
        sig = {_signature(c.kernel_params) for c in layers}
        if len(sig) > 1:
            raise ValidationError("Stacked.layers", "layers differ in settings that change "
                                  "their kernel types (e.g. peepholes, dtype); make them equal")
        self._set("layers", layers)
        top = layers[-1].n_out
        if self.W_out is None:
            self._set("W_out", np.zeros((0, top)))
        W_out = as_array(self.W_out, "Stacked.W_out", (None, top))
        self._set("W_out", W_out)
        b = self.b_out
        if np.ndim(b) == 0:
            b = np.full(W_out.shape[0], float(b))
        self._set("b_out", as_array(b, "Stacked.b_out", (W_out.shape[0],)))
        check_activation(self.output_activation, "Stacked.output_activation")

    @property
    def P(self):
        return None

    @property
    def H(self) -> int:
        return sum(c.n for c in self.layers)

    @property
    def n(self) -> int:
        return self.H

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.W_out.shape[0] if self.W_out.shape[0] else self.layers[-1].n_out

    @property
    def n_params(self) -> int:
        return sum(c.n_params for c in self.layers) + self.W_out.size + self.b_out.size

    @cached_property
    def _functions(self) -> Functions:
        c = self.layers[0]
        k = c.functions
        mod = specialize(_TEMPLATE, _cstep=k.step, _cjac=k.jacobian, _cjac_x=c.jac_input,
                         _cout=k.output, _cout_jac=c.output_jac, _cwork=k.work_size,
                         _cmember=k.member, _cvjp=k.vjp, _cout_vjp=k.output_vjp,
                         _cpsize=k.param_size)
        return Functions(rhs=None, step=mod.step, jacobian=mod.jacobian, output=mod.output,
                         member=mod.member, work_size=mod.work_size, vjp=mod.vjp,
                         output_vjp=mod.output_vjp, param_size=mod.param_size)

    def gate_store(self, B: int, T: int, dtype, budget: float | None = None):
        """Each layer's ``gate_store`` (LSTM, GRU; None for other families) while the layers'
        stores together take at most ``budget`` bytes (default
        ``models.gated.GATE_STORE_BYTES``), None for the layers past that; None if no layer
        keeps its gates."""
        left, stores = gated.GATE_STORE_BYTES if budget is None else budget, []
        for cell in self.layers:
            g = cell.gate_store(B, T, dtype, left) if isinstance(cell, gated._Gated) else None
            left -= 0 if g is None else g.nbytes
            stores.append(g)
        return None if all(g is None for g in stores) else tuple(stores)

    # -- parameters: "layers.<l>.<field>" of each layer, then the readout ------------------
    @property
    def _params(self):
        return ("W_out", "b_out") if self.W_out.shape[0] else ()

    def _parts(self) -> dict:
        return {f"layers.{l}": c for l, c in enumerate(self.layers)}

    def _with_parts(self, parts, own):
        return dataclasses.replace(self, layers=tuple(parts.values()), **own)

    def _raw_layout(self):  # the readout's block is in theta_raw even without a readout
        return Composite._raw_layout(self) + [(("W_out",), self.W_out.shape),
                                              (("b_out",), self.b_out.shape)]

    @cached_property
    def kernel_params(self):
        sizes = np.array([[c.n, c.n_in, c.n_out] for c in self.layers], dtype=np.int64)
        return (tuple(c.kernel_params for c in self.layers), sizes, self.W_out, self.b_out,
                ACTIVATIONS[self.output_activation], int(self.W_out.shape[0] > 0))

    # -- PyTorch weight exchange ----------------------------------------------------------
    @classmethod
    def from_torch(cls, state, **kwargs) -> "Stacked":
        """From a unidirectional ``nn.LSTM``/``nn.GRU``/``nn.RNN`` or its ``state_dict()`` (any
        ``num_layers``; family from the module or the gate rows): a ``Stacked`` of its layers,
        which composes them as torch does. ``kwargs`` go to every cell. See
        ``rnndyn.models._torch``."""
        from ._torch import read

        return read(state, cls.__name__).to_model(cls, **kwargs)

    def to_torch(self) -> dict:
        """numpy state dict (keys ``weight_ih_l{k}`` ...) for a torch module with
        ``num_layers=len(layers)``; needs no readout and equal layer widths."""
        from ._torch import export

        return export(self)


def _signature(p):
    return tuple((type(q).__name__, getattr(q, "ndim", None), getattr(q, "dtype", None))
                 for q in p)


def rmlp(n_in: int, subnets, *, seed=None, activation: str = "tanh", n_out: int | None = None,
         output_activation: str = "identity") -> Stacked:
    """Recurrent multilayer perceptron with random weights (PyTorch-style U(-1/sqrt(H), ..)).

    Parameters
    ----------
    n_in : int
        Input width.
    subnets : sequence of sequences of int
        Layer widths of each subnetwork, e.g. ``[[16, 8], [8]]``: subnet 1 is a 16-unit
        feed-forward layer followed by an 8-unit layer with self-feedback; subnet 2 one
        recurrent 8-unit layer.
    n_out : int, optional
        Width of a linear readout (default none).

    Returns
    -------
    Stacked
        Elman layers; the last layer of each subnet has recurrent weights, the others zero.
    """
    rng = check_seed(seed)
    layers, width = [], n_in
    for s, widths in enumerate(subnets):
        widths = list(widths)
        if not widths or any(int(w) < 1 for w in widths):
            raise ValidationError("subnets", f"subnet {s} needs layer widths >= 1, got "
                                  f"{widths!r}", subnets)
        for i, w in enumerate(widths):
            k = 1.0 / np.sqrt(w)
            W_hh = rng.uniform(-k, k, (w, w)) if i == len(widths) - 1 else np.zeros((w, w))
            layers.append(Elman(W_ih=rng.uniform(-k, k, (w, width)), W_hh=W_hh,
                                b_ih=rng.uniform(-k, k, w), activation=activation))
            width = w
    W_out = None if n_out is None else rng.uniform(-1 / np.sqrt(width), 1 / np.sqrt(width),
                                                   (n_out, width))
    return Stacked(tuple(layers), W_out=W_out, output_activation=output_activation)


@dataclass(frozen=True, eq=False, repr=False)
class Bidirectional(Composite):
    """Two cells over the same sequences, one forward and one backward in time; the output
    at step t is [forward output after x_1..x_t ; backward output after x_T..x_t].

    Parameters
    ----------
    forward, backward : single discrete cells with equal ``n_in``
    """

    forward: Cell
    backward: Cell

    def __post_init__(self):
        for name in ("forward", "backward"):
            c = getattr(self, name)
            if not isinstance(c, Cell) or c.P is not None:
                raise ValidationError(f"Bidirectional.{name}", f"expected a single discrete "
                                      f"cell, got {type(c).__name__}", c)
        if self.forward.n_in != self.backward.n_in:
            raise ValidationError("Bidirectional.backward", f"takes {self.backward.n_in} "
                                  f"inputs but forward takes {self.forward.n_in}; make them "
                                  "equal")

    @property
    def n_in(self) -> int:
        return self.forward.n_in

    @property
    def n_out(self) -> int:
        return self.forward.n_out + self.backward.n_out

    def _parts(self) -> dict:  # parameters "forward.<field>", "backward.<field>"
        return {"forward": self.forward, "backward": self.backward}

    def _with_parts(self, parts, own):
        return dataclasses.replace(self, **parts)

    # -- PyTorch weight exchange ----------------------------------------------------------
    @classmethod
    def from_torch(cls, state, **kwargs):
        """From a bidirectional ``nn.LSTM``/``nn.GRU``/``nn.RNN`` or its ``state_dict()``
        (family from the module or the gate rows): a ``Bidirectional`` for one layer, else a
        ``BidirectionalStack``, whose layer l reads both directions of
        layer l-1, as torch's does. ``kwargs`` go to every cell."""
        from ._torch import read

        return read(state, cls.__name__).to_model(cls, **kwargs)

    def to_torch(self) -> dict:
        """numpy state dict (``_l0`` and ``_l0_reverse`` keys) for a one-layer bidirectional
        torch module; both cells of one family and width."""
        from ._torch import export

        return export(self)


@dataclass(frozen=True, eq=False, repr=False)
class BidirectionalStack(Composite):
    """Deep bidirectional network as PyTorch builds it (``num_layers > 1``,
    ``bidirectional=True``; Graves, Jaitly & Mohamed 2013, "Hybrid speech recognition with
    deep bidirectional LSTM", ASRU): layer l is a ``Bidirectional`` whose forward and backward
    cells both read the concatenated [forward; backward] outputs of layer l-1 over the whole
    sequence (layer 1 reads x). Not a map (every layer needs the whole sequence): run it with
    ``rnndyn.run``.

    Parameters
    ----------
    layers : sequence of ``Bidirectional``
        ``layers[l].n_in`` must equal ``layers[l-1].n_out``.
    """

    layers: tuple

    def __post_init__(self):
        layers = tuple(self.layers)
        if not layers:
            raise ValidationError("BidirectionalStack.layers", "got no layers; pass at least "
                                  "one Bidirectional")
        for l, layer in enumerate(layers):
            if not isinstance(layer, Bidirectional):
                raise ValidationError(f"BidirectionalStack.layers[{l}]", f"expected a "
                                      f"Bidirectional, got {type(layer).__name__}", layer)
            if l and layer.n_in != layers[l - 1].n_out:
                raise ValidationError(f"BidirectionalStack.layers[{l}]", f"takes {layer.n_in} "
                                      f"inputs but layer {l - 1} has {layers[l - 1].n_out} "
                                      f"outputs (forward + backward); give its cells "
                                      f"W_ih of shape (..., {layers[l - 1].n_out})", layer)
        object.__setattr__(self, "layers", layers)

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    def _parts(self) -> dict:  # parameters "layers.<l>.forward.<field>", ...
        return {f"layers.{l}": layer for l, layer in enumerate(self.layers)}

    def _with_parts(self, parts, own):
        return dataclasses.replace(self, layers=tuple(parts.values()))

    @classmethod
    def from_torch(cls, state, **kwargs) -> "BidirectionalStack":
        """From a bidirectional ``nn.LSTM``/``nn.GRU``/``nn.RNN`` or its state dict (any
        ``num_layers``); see ``rnndyn.models._torch``."""
        from ._torch import read

        return read(state, cls.__name__).to_model(cls, **kwargs)

    def to_torch(self) -> dict:
        """numpy state dict for a bidirectional torch module (``_l{k}``, ``_reverse`` keys)."""
        from ._torch import export

        return export(self)
