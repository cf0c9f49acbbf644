"""The clockwork RNN (Koutník, Greff, Gomez & Schmidhuber 2014, A Clockwork RNN, ICML,
arXiv:1402.3511): a simple recurrent network whose hidden units form modules with clock
periods T_g; at step t module g updates only if ``t mod T_g == 0`` and otherwise keeps its
activity::

    h'_i = act(sum_j W[i, j] h_j + sum_k W_in[i, k] x_k + bias_i)   if t mod period_i == 0
    h'_i = h_i                                                       otherwise
    y    = act_y(W_y h' + b_y)

Connections run only from slower (or equal-period) modules to faster ones: ``W[i, j]`` may
be nonzero only if ``period_j >= period_i`` (with the modules sorted by increasing period,
the paper's block-upper-triangular W_H). Every module receives the inputs, the readout
reads every unit. Exponential periods 1, 2, 4, ... are the paper's default.

The time index lives in the state, so the clockwork RNN is an ordinary map of
``rnndyn.models.base`` (``rnndyn.run``, ``rnndyn.train.bptt``/``train`` and the analysis
work unchanged): the state is [h (H units); c], c the step counter. The step is read as
k = round(c), the counter advances to (k + 1) mod L, L the least common multiple of the
periods, and the zero state is step 0 (so the first input reaches every module; start from
``initial_state(step=1)`` to count from 1). Consequences:

* ``h0``'s last entry is a step number (any integer; it is taken mod L). ``run``,
  ``simulate`` and the trainers refuse a non-integer one (``check_state``); the kernels,
  given one directly, read it rounded to the nearest integer and keep the fraction as an
  offset of the next counter value;
* d c'/d c = 1 and the units do not depend on c (the update pattern is piecewise constant
  in c), so the Jacobian has an extra eigenvalue 1: one extra zero Lyapunov exponent, and
  for L > 1 the map has no fixed points (the counter always moves) — look for the fixed
  points of the L-step map instead;
* the counter is exact in float64 (and float32) as long as L <= 2**24 (checked).

Multiple-timescale networks in continuous time are the MTRNN (Yamashita & Tani 2008,
``rnndyn.models.mtrnn``): a CTRNN whose groups of units share a time constant, the
continuous sibling of the clockwork's periods.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_seed, positive_int
from ..errors import ValidationError
from . import _clockwork_kernels as ck
from .base import Functions, as_array, check_mask, edge_masks
from .cell import ACTIVATIONS, Cell, cell_graph, graph_arrays, uniform_init

#: largest lcm of the periods: the counter stays an exact integer in float32
MAX_CYCLE = 2 ** 24


def _periods(value, H: int, name: str) -> tuple:
    try:
        items = list(value)
    except TypeError:
        raise ValidationError(name, f"must be a sequence of {H} int periods (one per unit), "
                              f"got {value!r}", value) from None
    if len(items) != H:
        raise ValidationError(name, f"needs one period per hidden unit ({H}), got {len(items)}",
                              value)
    return tuple(positive_int(p, f"{name}[{i}]") for i, p in enumerate(items))


@dataclass(frozen=True, eq=False, repr=False)
class ClockworkRNN(Cell):
    """Clockwork RNN: hidden units in modules with clock periods (see the module docstring).

    Parameters
    ----------
    W : array (H, H) or (P, H, H)
        Recurrent weights, row = target; ``W[i, j]`` must be zero unless ``periods[j] >=
        periods[i]`` (slower or equal to faster).
    periods : sequence of int, length H
        Clock period (>= 1) of every hidden unit; units sharing a period form a module.
    W_in : array (H, n_in) / (P, H, n_in), optional
        Input weights (every module receives the inputs). Default: no inputs.
    bias : float or array (H,) / (P, H)
    W_y : array (n_out, H) / (P, n_out, H), optional
        Readout from every unit. Default: no readout, the outputs are the H units.
    b_y : float or array (n_out,) / (P, n_out)
    activation, output_activation : str
        Names from ``ACTIVATIONS``; defaults "tanh" and "identity" (the paper's linear output).
    mask : bool array (H, H), optional
        Topology within the clockwork pattern; entries outside it are not parameters. Default:
        every allowed connection (``periods[j] >= periods[i]``).
    input_mask : bool array (H, n_in), optional
        Topology of the input weights. Default: all.
    nodes, input_nodes, graph_attrs : optional
        Graph ids (hidden units, then readout units) and attributes kept for ``to_graph``.

    Raises
    ------
    ValidationError
        A period that is not an int >= 1, an lcm of the periods above 2**24, a mask or a
        nonzero weight from a faster to a slower module, wrong shapes, non-finite weights.
    """

    W: np.ndarray
    periods: tuple
    W_in: np.ndarray | None = None
    bias: np.ndarray = 0.0
    W_y: np.ndarray | None = None
    b_y: np.ndarray = 0.0
    activation: str = "tanh"
    output_activation: str = "identity"
    mask: np.ndarray | None = None
    input_mask: np.ndarray | None = None
    nodes: tuple | None = None
    input_nodes: tuple | None = None
    graph_attrs: dict = field(default_factory=dict)

    _functions = Functions(rhs=None, step=ck.clockwork_step, jacobian=ck.clockwork_jacobian,
                           output=ck.clockwork_output, member=ck.clockwork_member,
                           work_size=ck.clockwork_work_size, vjp=ck.clockwork_vjp,
                           param_jacobian=ck.clockwork_param_jacobian,
                           output_vjp=ck.clockwork_output_vjp,
                           param_size=ck.clockwork_param_size)
    jac_input = staticmethod(ck.clockwork_jac_input)
    output_jac = staticmethod(ck.clockwork_output_jac)
    _batched = ("W_in", "W", "bias", "W_y", "b_y")
    _params = _batched  # the kernels' order
    _hidden_field = "W"

    def __post_init__(self):
        name = type(self).__name__
        lead, W = self._lead()
        H = W.shape[-1]
        W = self._array("W", lead + (H, H))
        periods = _periods(self.periods, H, f"{name}.periods")
        self._set("periods", periods)
        cycle = math.lcm(*periods)
        if cycle > MAX_CYCLE:
            raise ValidationError(f"{name}.periods", f"have least common multiple {cycle} > "
                                  f"2**24, beyond which the step counter is not exact in "
                                  "float32; choose periods with a smaller lcm (e.g. powers of 2)",
                                  periods)
        T = np.array(periods)
        allowed = T[None, :] >= T[:, None]
        if self.mask is None:
            mask = allowed
        else:
            mask = np.asarray(self.mask)
            if mask.shape != (H, H) or mask.dtype != bool:
                raise ValidationError(f"{name}.mask", f"expected a bool array of shape ({H}, "
                                      f"{H}), got {mask.dtype} {mask.shape}", self.mask)
            self._faster_to_slower(mask, T, f"{name}.mask", "includes")
        nonzero = np.any(W != 0, axis=tuple(range(len(lead)))) if lead else W != 0
        self._faster_to_slower(nonzero, T, f"{name}.W", "has a nonzero weight for")
        outside = np.argwhere(nonzero & ~mask)
        if outside.size:
            at = tuple(int(i) for i in outside[0])
            raise ValidationError(f"{name}.W", f"nonzero weight at {at} outside the mask; "
                                  "zero it or include it in the mask", W)
        mask = mask.copy()
        mask.flags.writeable = False
        self._set("mask", mask)
        if self.W_in is None:
            self._set("W_in", np.zeros(lead + (H, 0)))
        self._array("W_in", lead + (H, None))
        self._set("input_mask", check_mask(self.input_mask, self.W_in, f"{name}.input_mask"))
        self._array("bias", lead + (H,))
        self._array("W_y", lead + (None, H), np.zeros(lead + (0, H)))
        self._array("b_y", lead + (self.W_y.shape[-2],))
        self._act("activation")
        self._act("output_activation")
        for f, size in (("nodes", H + self.W_y.shape[-2]), ("input_nodes", self.n_in)):
            ids = getattr(self, f)
            if ids is not None:
                if len(ids) != size:
                    raise ValidationError(f"{name}.{f}", f"needs {size} ids, got {len(ids)}", ids)
                self._set(f, tuple(ids))
        self._set("graph_attrs", dict(self.graph_attrs))

    @staticmethod
    def _faster_to_slower(conn, T, where, verb):
        bad = np.argwhere(conn & (T[None, :] < T[:, None]))
        if bad.size:
            i, j = (int(k) for k in bad[0])
            raise ValidationError(where, f"{verb} the connection {j} -> {i} from a faster "
                                  f"module (period {T[j]}) to a slower one (period {T[i]}); a "
                                  "clockwork RNN connects only slower (or equal-period) "
                                  "modules to faster ones: remove it", None)

    # -- sizes ------------------------------------------------------------------------------
    @property
    def _readout(self) -> bool:
        return self.W_y.shape[-2] > 0

    @property
    def H(self) -> int:
        return self.W.shape[-1]

    @property
    def n(self) -> int:
        """State size H + 1: the units and the step counter."""
        return self.H + 1

    @property
    def n_in(self) -> int:
        return self.W_in.shape[-1]

    @property
    def n_out(self) -> int:
        return self.W_y.shape[-2] if self._readout else self.H

    @property
    def n_params(self) -> int:
        free_in = self.W_in.shape[-2] * self.n_in if self.input_mask is None else \
            int(self.input_mask.sum())
        O = self.W_y.shape[-2]
        return int(self.mask.sum()) + free_in + self.H + O * self.H + O

    @property
    def cycle(self) -> int:
        """L, the least common multiple of the periods: the pattern of updates repeats
        every L steps."""
        return math.lcm(*self.periods)

    @property
    def modules(self) -> dict:
        """``{period: unit indices}`` in increasing period."""
        T = np.array(self.periods)
        return {int(p): np.flatnonzero(T == p) for p in np.unique(T)}

    def _free(self, name):
        return {"W": self.mask, "W_in": self.input_mask}.get(name)

    @property
    def kernel_params(self):
        return (self.W_in, self.W * self.mask, self.bias, self.W_y, self.b_y,
                np.array(self.periods, dtype=np.int64), np.int64(self.cycle),
                ACTIVATIONS[self.activation], ACTIVATIONS[self.output_activation],
                int(self._readout))

    def check_state(self, states, name: str) -> None:
        """The step counter (a state's last entry) must be an integer (``rnndyn.run`` and the
        trainers check h0): a fraction would be read rounded, silently."""
        c = np.asarray(states)[..., self.H]
        bad = c != np.round(c)
        if np.any(bad):
            raise ValidationError(name, f"the step counter (last entry) must be an integer, "
                                  f"got {c[bad].ravel()[0]!r}; build h0 with "
                                  "ClockworkRNN.initial_state(h, step=k)", states)

    def initial_state(self, h=None, step: int = 0) -> np.ndarray:
        """The state [h; step] (h default zeros): the units' activities and the step count
        the next input arrives at (the paper counts from 1: ``step=1``)."""
        out = np.zeros(self.n)
        if h is not None:
            out[:self.H] = as_array(h, "ClockworkRNN.initial_state.h", (self.H,))
        out[self.H] = positive_int(step, "ClockworkRNN.initial_state.step", 0)
        return out

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def random(cls, n_in: int, n_out: int | None, module_sizes, periods=None, *, seed=None,
               activation: str = "tanh", output_activation: str = "identity") -> "ClockworkRNN":
        """Modules of the given sizes, in order, with ``periods`` (default 1, 2, 4, ...),
        every allowed connection, weights and biases ~ U(-1/sqrt(H), 1/sqrt(H)) as PyTorch
        initialises an RNN; a linear readout of ``n_out`` outputs (None: none).

        Parameters
        ----------
        n_in : int
            Input width (0: no inputs, as in the paper's sequence generation).
        n_out : int or None
        module_sizes : int or sequence of int
            Units per module; an int gives every module (one per period) that size.
        periods : sequence of int, optional
            Period of each module; default ``2**g`` for module g.
        """
        rng = check_seed(seed, "ClockworkRNN.random.seed")
        n_in = positive_int(n_in, "ClockworkRNN.random.n_in", 0)
        if isinstance(module_sizes, (int, np.integer)) and not isinstance(module_sizes, bool):
            if periods is None:
                raise ValidationError("ClockworkRNN.random.periods", "are needed when "
                                      "module_sizes is one int (the number of modules)", periods)
            module_sizes = [module_sizes] * len(periods)
        sizes = [positive_int(s, f"ClockworkRNN.random.module_sizes[{g}]")
                 for g, s in enumerate(module_sizes)]
        if not sizes:
            raise ValidationError("ClockworkRNN.random.module_sizes", "is empty; give at least "
                                  "one module", module_sizes)
        periods = [2 ** g for g in range(len(sizes))] if periods is None else list(periods)
        if len(periods) != len(sizes):
            raise ValidationError("ClockworkRNN.random.periods", f"needs one period per module "
                                  f"({len(sizes)}), got {len(periods)}", periods)
        per_unit = [positive_int(p, f"ClockworkRNN.random.periods[{g}]")
                    for g, (p, s) in enumerate(zip(periods, sizes)) for _ in range(s)]
        H = len(per_unit)
        k = 1.0 / np.sqrt(H)
        T = np.array(per_unit)
        W = uniform_init(rng, (H, H), k) * (T[None, :] >= T[:, None])
        readout = n_out is not None
        O = positive_int(n_out, "ClockworkRNN.random.n_out") if readout else 0
        return cls(W=W, periods=tuple(per_unit), W_in=uniform_init(rng, (H, n_in), k),
                   bias=uniform_init(rng, H, k),
                   W_y=uniform_init(rng, (O, H), k) if readout else None,
                   b_y=uniform_init(rng, O, k) if readout else 0.0,
                   activation=activation, output_activation=output_activation)

    # -- graphs -----------------------------------------------------------------------------
    @classmethod
    def from_graph(cls, G, nodelist=None, input_nodes=None,
                   activation: str | None = None) -> "ClockworkRNN":
        """From a networkx DiGraph (conventions of ``rnndyn.graphs``).

        Hidden (state) nodes carry the int node attribute ``period`` and ``bias``; the edges
        between them are W and its mask (each must go from a slower or equal-period unit to
        a faster one), edges from input-role nodes W_in and its mask. Nodes with role
        "output" are the readout: edges hidden -> output give W_y, their ``bias`` b_y; they
        have no period and feed nothing back. The activation is ``activation``, else the
        graph attribute ``cell_activation``, else ``G.graph["activation"]``; the readout's
        is ``G.graph["output_activation"]`` (default "identity").

        Raises
        ------
        ValidationError
            A hidden node without a ``period`` (or with one that is not an int >= 1), an
            output node with a period, an edge from a faster to a slower module, an edge out
            of an output node or from an input into one; anything ``rnndyn.graphs.to_arrays``
            refuses.
        """
        where = f"{cls.__name__}.from_graph"
        a = graph_arrays(G, nodelist, input_nodes, cls.__name__)
        hid = [i for i, r in enumerate(a.roles) if r != "output"]
        out = [i for i, r in enumerate(a.roles) if r == "output"]
        missing = [a.nodes[i] for i in hid if "period" not in G.nodes[a.nodes[i]]]
        if missing:
            raise ValidationError(where, f"hidden node(s) {missing[:5]} have no 'period' "
                                  "attribute; set G.nodes[v]['period'] (an int >= 1) on every "
                                  "hidden node", G)
        clocked = [a.nodes[i] for i in out if "period" in G.nodes[a.nodes[i]]]
        if clocked:
            raise ValidationError(where, f"output node(s) {clocked[:5]} have a 'period'; output "
                                  "nodes are the unclocked readout: remove it, or make them "
                                  "hidden units (role 'hidden')", G)
        periods = []
        for i in hid:
            v = a.nodes[i]
            p = G.nodes[v]["period"]
            if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer)) or p < 1:
                raise ValidationError(where, f"node {v!r} has period {p!r}; a period is an int "
                                      ">= 1 (the number of steps between updates)", G)
            periods.append(int(p))
        W, W_in = a.W, a.W_in
        mask, input_mask = edge_masks(G, a.nodes, a.input_nodes)
        ins = a.input_nodes
        for bad, targets, sources in ((mask[np.ix_(hid, out)], hid, [a.nodes[i] for i in out]),
                                      (mask[np.ix_(out, out)], out, [a.nodes[i] for i in out]),
                                      (input_mask[out], out, ins)):
            if bad.any():
                r, c = (int(k) for k in np.argwhere(bad)[0])
                raise ValidationError(where, f"has the edge {sources[c]!r} -> "
                                      f"{a.nodes[targets[r]]!r} at an output node; output nodes "
                                      "are the readout: they read only hidden units and feed "
                                      "nothing back, so remove it", G)
        T = np.array(periods)
        slower = np.argwhere(mask[np.ix_(hid, hid)] & (T[None, :] < T[:, None]))
        if slower.size:
            i, j = (int(k) for k in slower[0])
            raise ValidationError(where, f"has the edge {a.nodes[hid[j]]!r} (period {T[j]}) -> "
                                  f"{a.nodes[hid[i]]!r} (period {T[i]}) from a faster module to "
                                  "a slower one; a clockwork RNN connects only slower (or "
                                  "equal-period) modules to faster ones: remove it", G)
        act = activation or a.graph_attrs.get("cell_activation", a.activation)
        attrs = {k: v for k, v in a.graph_attrs.items()
                 if k not in ("cell_activation", "output_activation")}
        return cls(W=W[np.ix_(hid, hid)], periods=tuple(periods), W_in=W_in[hid],
                   bias=a.bias[hid], W_y=W[np.ix_(out, hid)] if out else None,
                   b_y=a.bias[out] if out else 0.0, activation=act,
                   output_activation=a.graph_attrs.get("output_activation", "identity"),
                   mask=mask[np.ix_(hid, hid)], input_mask=input_mask[hid],
                   nodes=tuple(a.nodes[i] for i in hid + out), input_nodes=a.input_nodes,
                   graph_attrs=attrs)

    def to_graph(self):
        """networkx DiGraph: hidden nodes with ``period`` and ``bias``, readout units as
        output-role nodes; connections of weight 0 are not representable and are dropped."""
        self._single("to_graph")
        H, O = self.H, self.W_y.shape[0]
        W = np.zeros((H + O, H + O))
        W[:H, :H] = self.W * self.mask
        W[H:, :H] = self.W_y
        W_in = np.vstack([np.asarray(self.W_in), np.zeros((O, self.n_in))])
        attrs = dict(self.graph_attrs)
        if O and self.output_activation != "identity":
            attrs["output_activation"] = self.output_activation
        G = cell_graph(W, W_in, np.concatenate([self.bias, self.b_y]), self.activation,
                       ["hidden"] * H + ["output"] * O, self.nodes, self.input_nodes, attrs)
        ids = list(G.nodes)[:H]  # from_arrays adds the state nodes first, in order
        for v, p in zip(ids, self.periods):
            G.nodes[v]["period"] = int(p)
        return G
