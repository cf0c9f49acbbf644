"""PyTorch weight exchange of the discrete cells: ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` (any
``num_layers``, ``bidirectional``) and ``nn.RNNCell``, ``nn.LSTMCell``, ``nn.GRUCell``.

``Elman.from_torch``, ``LSTM.from_torch``, ``GRU.from_torch``, ``Stacked.from_torch`` and
``Bidirectional.from_torch`` all read through ``read`` and build with ``TorchRNN.to_model``;
every ``to_torch`` is ``export``. torch itself is never imported: a module is recognised by
its class names, a tensor by its ``detach`` method.

What ``from_torch`` returns
---------------------------
==========================  =================================================================
torch model                 rnndyn model
==========================  =================================================================
1 layer, or a ``*Cell``     the cell (``Elman`` for ``nn.RNN``, ``LSTM``, ``GRU``)
``num_layers = L > 1``      ``Stacked`` of L cells. Torch's layer l reads layer l-1's h_t at
                            the same t, which is ``Stacked``'s composition.
``bidirectional=True``      ``Bidirectional(forward, backward)`` (the ``_reverse`` weights run
                            backward in time; outputs are [forward; backward], as in torch).
both                        ``BidirectionalStack`` of L ``Bidirectional`` layers: torch feeds
                            layer l with the concatenated [forward; backward] outputs of layer
                            l-1 over the whole sequence, which neither a ``Stacked`` of
                            ``Bidirectional`` nor a ``Bidirectional`` of ``Stacked`` computes.
==========================  =================================================================

``Stacked.from_torch`` always returns a ``Stacked`` (also of one layer) and
``Bidirectional.from_torch`` a ``Bidirectional`` or, for L > 1, a ``BidirectionalStack``; both
take the family from the module or from the gate rows of the state dict.

States. torch's ``h_0`` (and ``c_0``) have shape (L*D, B, H), index ``l*D + d``. In rnndyn a
cell's state is h (LSTM: [h; c]); a ``Stacked`` state is [s_1; ...; s_L]; a ``Bidirectional``
takes ``h0 = (s_forward, s_backward)``; a ``BidirectionalStack`` one such pair per layer.

What maps and what does not:

* ``batch_first`` changes no weights (rnndyn inputs are time-major: transpose x);
  ``bias=False`` modules have no bias keys and import with zero biases; ``dropout`` acts
  between layers in training mode only, so the import is the module in ``eval()`` mode.
* ``proj_size > 0`` (``weight_hr_l*`` keys) is rejected: rnndyn's LSTM has no projection.
* ``nn.RNN``'s ``nonlinearity`` is read from a module; a state dict does not record it, so
  pass ``activation="relu"`` for a relu RNN's dict.
* ``to_torch`` rejects what torch cannot run: LSTM peepholes, GRU ``reset_after=False``,
  activations other than torch's, an Elman readout ``W_y``, a ``Stacked`` readout or layers
  of unequal width, populations. Topology masks export as zero weights (torch keeps no mask).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}  # gate blocks of H rows in weight_ih / weight_hh
_BY_GATES = {g: f for f, g in GATES.items()}
_MODULES = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN", "LSTMCell": "LSTM", "GRUCell": "GRU",
            "RNNCell": "RNN"}
_KEY = re.compile(r"(weight|bias)_(ih|hh|hr)(?:_l(\d+)(_reverse)?)?")
_FIELDS = (("weight_ih", "W_ih"), ("weight_hh", "W_hh"), ("bias_ih", "b_ih"),
           ("bias_hh", "b_hh"))


def _suffix(layer: int, direction: int, plain: bool = False) -> str:
    return "" if plain else f"_l{layer}" + ("_reverse" if direction else "")


def _module_family(module):
    """("LSTM" | "GRU" | "RNN", torch class name) of a torch recurrent module, else None."""
    for klass in type(module).__mro__:
        if klass.__name__ in _MODULES and klass.__module__.startswith("torch.nn"):
            return _MODULES[klass.__name__], klass.__name__
    return None


def _numpy(value, key, who):
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().double().numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{who}.from_torch", f"state[{key!r}] must be a numeric tensor "
                              f"or array, got {type(value).__name__} ({exc})", value) from None


@dataclass(frozen=True)
class TorchRNN:
    """A parsed PyTorch recurrent model.

    Attributes
    ----------
    family : "LSTM", "GRU" or "RNN"
    layers : tuple over layers of tuples over directions (forward[, backward]) of dicts
        ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (numpy; a missing bias is 0.0).
    nonlinearity : "tanh", "relu" or None
        ``nn.RNN``'s nonlinearity when read from a module; None for a state dict.
    source : str
        What was read, for messages ("nn.LSTM module", "state dict").
    who : str
        Name of the class whose ``from_torch`` was called.
    """

    family: str
    layers: tuple
    nonlinearity: str | None
    source: str
    who: str

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def bidirectional(self) -> bool:
        return len(self.layers[0]) == 2

    def to_model(self, cls, **kwargs):
        """The rnndyn model for ``cls.from_torch`` (see the module docstring); ``kwargs`` go
        to every cell (e.g. ``activation``)."""
        from .deep import Bidirectional, BidirectionalStack, Stacked
        from .discrete import Elman
        from .gated import GRU, LSTM

        who = f"{cls.__name__}.from_torch"
        cells = {"LSTM": LSTM, "GRU": GRU, "RNN": Elman}
        composite = issubclass(cls, (Stacked, Bidirectional, BidirectionalStack))
        if composite:
            cell_cls = cells[self.family]
        else:
            want = next((f for f, c in cells.items() if issubclass(cls, c)), None)
            if want is None:
                raise ValidationError(who, f"{cls.__name__} has no PyTorch counterpart; use "
                                      "Elman, LSTM, GRU, Stacked or Bidirectional")
            if want != self.family:
                self._mismatch(cls, want)
            cell_cls = cls
        if self.family == "RNN":
            kwargs["activation"] = self._activation(who, kwargs.get("activation"))
        grid = [[cell_cls(**{ours: d.get(theirs, 0.0) for theirs, ours in _FIELDS}, **kwargs)
                 for d in layer] for layer in self.layers]
        L, bi = self.num_layers, self.bidirectional
        if issubclass(cls, Stacked):
            if bi:
                raise ValidationError(who, f"the {self.source} is bidirectional; a Stacked runs "
                                      "forward only: use Bidirectional.from_torch (or "
                                      f"{cell_cls.__name__}.from_torch)", self)
            return Stacked(tuple(row[0] for row in grid))
        if issubclass(cls, (Bidirectional, BidirectionalStack)) and not bi:
            raise ValidationError(who, f"the {self.source} is not bidirectional (no _reverse "
                                  f"weights): use Stacked.from_torch or "
                                  f"{cell_cls.__name__}.from_torch", self)
        if issubclass(cls, BidirectionalStack):
            return BidirectionalStack(tuple(Bidirectional(*row) for row in grid))
        if not bi:
            return grid[0][0] if L == 1 else Stacked(tuple(row[0] for row in grid))
        pairs = tuple(Bidirectional(*row) for row in grid)
        return pairs[0] if L == 1 else BidirectionalStack(pairs)

    def _mismatch(self, cls, want):
        who = f"{cls.__name__}.from_torch"
        use = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "Elman"}[self.family]
        W = self.layers[0][0]["weight_hh"]
        H = W.shape[1]
        an = "a" if self.family == "GRU" else "an"
        if self.source.startswith("nn."):
            got = f"got an {self.source} ({self.family} weights)"
        else:
            got = (f"weight_hh_l0 has shape {W.shape}: {GATES[self.family]}*H rows for H = "
                   f"{H}, {an} {self.family} state dict")
        raise ValidationError(who, f"{got}, but {cls.__name__} needs {want}'s "
                              f"{GATES[want]}*H = {GATES[want] * H} rows; use {use}.from_torch "
                              "(or Stacked/Bidirectional.from_torch, which take the family "
                              "from the weights)", self)

    def _activation(self, who, activation):
        if activation is None:
            return self.nonlinearity or "tanh"
        if self.nonlinearity is not None and activation != self.nonlinearity:
            raise ValidationError(f"{who}(activation=)", f"the {self.source} has "
                                  f"nonlinearity={self.nonlinearity!r} but activation="
                                  f"{activation!r} was passed; drop the argument", activation)
        return activation


def read(source, who: str) -> TorchRNN:
    """Parse a torch recurrent module or a state dict (tensors or numpy arrays).

    Keys ``{weight,bias}_{ih,hh}_l{k}[_reverse]`` (``nn.RNN/LSTM/GRU``) or ``weight_ih`` ...
    without suffix (``*Cell``). Raises ValidationError naming the key and the fix.
    """
    where = f"{who}.from_torch"
    nonlinearity = None
    module_family = None
    if isinstance(source, Mapping):
        state, what = source, "state dict"
    elif callable(getattr(source, "state_dict", None)):
        found = _module_family(source)
        if found is None:
            raise ValidationError(where, f"expected nn.LSTM, nn.GRU, nn.RNN or a *Cell "
                                  f"variant, got a {type(source).__name__} module; pass its "
                                  "recurrent submodule (e.g. model.lstm)", source)
        module_family, name = found
        what = f"nn.{name} module"
        proj = getattr(source, "proj_size", 0) or 0
        if proj:
            raise ValidationError(where, f"the {what} has proj_size={proj} (weight_hr_l* "
                                  "keys): rnndyn's LSTM has no output projection; train with "
                                  "proj_size=0", source)
        if module_family == "RNN":
            nonlinearity = getattr(source, "nonlinearity", None)
        state = source.state_dict()
    else:
        raise ValidationError(where, f"expected a torch recurrent module or its state_dict(), "
                              f"got {type(source).__name__}", source)

    entries, unknown, plain, suffixed = {}, [], False, False
    for key, value in state.items():
        m = _KEY.fullmatch(str(key))
        if m is None:
            unknown.append(key)
            continue
        kind, part, layer, reverse = m.groups()
        if part == "hr":
            raise ValidationError(where, f"state has {key!r}: an LSTM with proj_size > 0, and "
                                  "rnndyn's LSTM has no output projection; train with "
                                  "proj_size=0", source)
        if layer is None:
            plain = True
        else:
            suffixed = True
        d = entries.setdefault((int(layer or 0), int(bool(reverse))), {})
        d[f"{kind}_{part}"] = _numpy(value, key, who)
    if unknown:
        prefixes = {str(k).rpartition(".")[0] for k in unknown}
        fix = "pass the recurrent submodule"
        if len(prefixes) == 1 and "" not in prefixes:
            p = prefixes.pop() + "."
            fix = f"strip the prefix {p!r} ({{k.removeprefix({p!r}): v ...}}) or {fix}"
        raise ValidationError(where, f"unexpected keys {sorted(map(str, unknown))[:4]}; expected "
                              "weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} "
                              "(+ '_reverse') of nn.RNN/LSTM/GRU.state_dict(), or weight_ih, "
                              f"... of a *Cell: {fix}", source)
    if plain and suffixed:
        raise ValidationError(where, "state mixes cell keys (weight_ih) and layer keys "
                              "(weight_ih_l0); pass one module's state_dict()", source)
    if not entries:
        raise ValidationError(where, f"the {what} holds no weights (keys {sorted(state)})",
                              source)

    L = 1 + max(k[0] for k in entries)
    D = 1 + max(k[1] for k in entries)
    layers, family, H = [], None, None
    for l in range(L):
        row = []
        for d in range(D):
            e = entries.get((l, d), {})
            for name in ("weight_ih", "weight_hh"):
                if name not in e:
                    raise ValidationError(where, f"state has no {name + _suffix(l, d, plain)!r} "
                                          f"(keys {sorted(state)}); pass the whole "
                                          "state_dict() of the module", source)
            W = e["weight_hh"]
            key = "weight_hh" + _suffix(l, d, plain)
            rows = W.shape[0] // W.shape[1] if W.ndim == 2 and W.shape[1] else 0
            if W.ndim != 2 or rows * W.shape[1] != W.shape[0] or rows not in _BY_GATES:
                raise ValidationError(where, f"{key} has shape {W.shape}; expected (G*H, H) "
                                      "with G = 4 (LSTM), 3 (GRU) or 1 (RNN)", source)
            fam = _BY_GATES[rows]
            if family is None:
                family, H = fam, W.shape[1]
            elif fam != family or W.shape[1] != H:
                raise ValidationError(where, f"{key} has shape {W.shape} but weight_hh"
                                      f"{_suffix(0, 0, plain)} is ({GATES[family] * H}, {H}); "
                                      "all layers of one module share family and "
                                      "hidden_size", source)
            row.append(e)
        layers.append(tuple(row))
    if module_family is not None and module_family != family:
        raise ValidationError(where, f"the {what}'s weight_hh has {GATES[family]}*H rows, "
                              f"not {GATES[module_family]}*H", source)
    return TorchRNN(family=family, layers=tuple(layers), nonlinearity=nonlinearity, source=what,
                    who=who)


def _check_exportable(cell, who):
    from .discrete import Elman
    from .gated import GRU, LSTM

    cell._single("to_torch")
    name = type(cell).__name__
    if isinstance(cell, (LSTM, GRU)):
        if (cell.activation, cell.gate_activation) != ("tanh", "sigmoid"):
            raise ValidationError(who, f"{name} has activation={cell.activation!r}, "
                                  f"gate_activation={cell.gate_activation!r}; torch's "
                                  f"nn.{name} runs only ('tanh', 'sigmoid')", cell)
        if isinstance(cell, LSTM) and cell._has_peephole:
            raise ValidationError(who, "the LSTM has peephole weights, which nn.LSTM lacks; "
                                  "set peephole=None to export", cell)
        if isinstance(cell, GRU) and not cell.reset_after:
            raise ValidationError(who, "the GRU has reset_after=False; nn.GRU applies the "
                                  "reset after W_hn h (reset_after=True)", cell)
        return "LSTM" if isinstance(cell, LSTM) else "GRU"
    if isinstance(cell, Elman):
        if cell._readout:
            raise ValidationError(who, "the Elman net has a readout W_y, which nn.RNN lacks; "
                                  "export it without (W_y=None) and add an nn.Linear", cell)
        if cell.activation not in ("tanh", "relu"):
            raise ValidationError(who, f"activation={cell.activation!r}; nn.RNN has "
                                  "nonlinearity 'tanh' or 'relu' only", cell)
        return "RNN"
    raise ValidationError(who, f"{name} has no PyTorch counterpart; export Elman, LSTM, GRU, "
                          "or Stacked/Bidirectional of them", cell)


def export(model) -> dict:
    """State dict of numpy arrays in the layout of the torch module ``model`` comes from:
    keys ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` with
    ``_reverse`` for the backward direction. Load it with
    ``module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})``, the module
    built with ``num_layers=L``, ``bidirectional=`` as the model (and an Elman's
    ``nonlinearity=activation``)."""
    from .deep import Bidirectional, BidirectionalStack, Stacked

    who = f"{type(model).__name__}.to_torch"
    if isinstance(model, BidirectionalStack):
        grid = [(b.forward, b.backward) for b in model.layers]
    elif isinstance(model, Bidirectional):
        grid = [(model.forward, model.backward)]
    elif isinstance(model, Stacked):
        if model.W_out.shape[0]:
            raise ValidationError(who, "the Stacked has a readout W_out, which nn.LSTM/GRU/RNN "
                                  "lack; export Stacked(layers) and put W_out, b_out in an "
                                  "nn.Linear", model)
        grid = [(c,) for c in model.layers]
    else:
        grid = [(model,)]
    families = {_check_exportable(c, who) for row in grid for c in row}
    if len(families) > 1:
        raise ValidationError(who, f"cells of one family needed for one torch module, got "
                              f"{sorted(families)}", model)
    acts = {c.activation for row in grid for c in row}
    if len(acts) > 1:
        raise ValidationError(who, f"nn.RNN has one nonlinearity, the cells have "
                              f"{sorted(acts)}", model)
    H = grid[0][0].H
    out = {}
    for l, row in enumerate(grid):
        for d, cell in enumerate(row):
            sfx = _suffix(l, d)
            if cell.H != H:
                raise ValidationError(who, f"layer {l} has {cell.H} hidden units, layer 0 "
                                      f"{H}; a torch module's layers share hidden_size", model)
            for theirs, ours in _FIELDS:
                out[theirs + sfx] = np.array(getattr(cell, ours))
    return out
