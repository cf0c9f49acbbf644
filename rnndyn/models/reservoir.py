"""Reservoirs: echo state networks as a map (``ESN``) and as an ODE (``ESNFlow``), and the
liquid state machine (``LSM``).

* ``ESN`` (Jaeger 2001, GMD Report 148; leaky form of Jaeger, Lukoševičius, Popovici &
  Siewert 2007, Neural Networks 20:335):
  ``x(n+1) = (1 - a) x(n) + a f(W_in u(n+1) + W x(n) + W_fb y(n) + b)``.
* ``ESNFlow``, the leaky-integrator ESN of Jaeger et al. 2007:
  ``tau dx/dt = -x + f(W_in u + W x + W_fb y + b)``. Its Euler discretisation with step dt
  is the ``ESN`` with ``a = dt / tau`` (``ESNFlow.to_map``, ``ESN.to_flow``).
* ``DeepESN``, a stack of ESNs (Gallicchio, Micheli & Pedrelli 2017): layer l driven by
  layer l-1's new state, readouts on the concatenated states.
* ``LSM``, the liquid state machine of Maass, Natschläger & Markram 2002: the same idea with
  leaky integrate-and-fire units (spikes as rasters or event lists, count and exponentially
  filtered readout features); spiking is not smooth, so it runs through ``LSM.run`` only.

``ESN`` and ``ESNFlow`` are models of ``rnndyn.models.base``: run an ESN with
``rnndyn.run`` (batches and populations in one kernel) and an ESNFlow with
``rnndyn.simulate`` (euler, rk4, rk45). The input of one step is ``[u; y]``: ``n_u`` external inputs followed by ``n_fb`` fed-back
outputs (the teacher signal while training, the readout's own output in closed loop; see
``rnndyn.train.readout``). The outputs of the model are its states; readouts are separate
objects fit on the states (``rnndyn.train.readout``).

Sparse reservoirs. The topology (``mask``, default: the nonzero pattern of W) is shared by a
population; when it is sparse (density <= ``SPARSE_BELOW``) the kernels use CSR products
(cost O(nnz) a step), else a dense loop.
"""
from __future__ import annotations

import dataclasses
from abc import abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, NamedTuple

import numpy as np

from .._validate import check_seed, choice, in_range, positive, positive_int
from ..errors import ValidationError
from . import _base_kernels
from . import _reservoir_kernels as _K
from ._discrete_kernels import identity_output_jac
from .base import Functions, Model, as_array, check_mask, edge_masks
from .cell import ACTIVATIONS, Cell
from .deep import Stacked

#: the kernels use CSR products when the topology's density is at most this, else a dense
#: (SIMD) loop: measured at n = 500 and 2000, the CSR step costs 1.2-2 ns per nonzero and the
#: dense one 0.4-0.8 ns per entry, so they cross near a density of 0.2-0.3
SPARSE_BELOW = 0.25
#: exact eigenvalues up to this size; above, ARPACK (scipy.sparse.linalg.eigs) finds the
#: largest one
EIGS_FROM = 300


def spectral_radius(W) -> float:
    """Largest |eigenvalue| of a square matrix (dense array or scipy.sparse): exact for small
    matrices, ARPACK's ``eigs(k=1, which="LM")`` for large ones."""
    import scipy.sparse as sp

    n = W.shape[0]
    if n >= EIGS_FROM:
        from scipy.sparse.linalg import ArpackNoConvergence, eigs

        try:
            v0 = np.ones(n) / np.sqrt(n)  # a fixed start: the same answer on every run
            # several eigenvalues, not one: the largest come in complex pairs of nearly equal
            # modulus, and with k = 1 ARPACK measured to settle on a runner-up (0.05% off)
            return float(np.abs(eigs(sp.csr_matrix(W), k=8, which="LM", v0=v0, tol=1e-12,
                                     return_eigenvectors=False, maxiter=20 * n)).max())
        except ArpackNoConvergence:
            pass
    dense = W.toarray() if sp.issparse(W) else np.asarray(W)
    return float(np.abs(np.linalg.eigvals(dense)).max()) if n else 0.0


def scale_weights(W, spectral_radius_: float | None = None, singular_value: float | None = None,
                  name: str = "spectral_radius"):
    """W rescaled to the given spectral radius (or largest singular value).

    Raises
    ------
    ValidationError
        If the target is negative or not finite, both are given, or W is nilpotent (its
        spectral radius is 0, so no factor reaches the target).
    """
    if spectral_radius_ is not None and singular_value is not None:
        raise ValidationError(name, "give spectral_radius or singular_value, not both",
                              (spectral_radius_, singular_value))
    if spectral_radius_ is None and singular_value is None:
        return W
    if spectral_radius_ is not None:
        target = positive(spectral_radius_, name, allow_zero=True)
        current = spectral_radius(W)
        what = "spectral radius"
    else:
        target = positive(singular_value, "singular_value", allow_zero=True)
        import scipy.sparse as sp

        dense = W.toarray() if sp.issparse(W) else np.asarray(W)
        current = float(np.linalg.norm(dense, 2))
        what = "largest singular value"
    if current < 1e-300:
        if target == 0.0:
            return W
        raise ValidationError(name, f"the reservoir's {what} is 0 (e.g. a feed-forward ring "
                              f"or no connection), so no factor scales it to {target:g}; use a "
                              "topology with cycles", target)
    return W * (target / current)


def _as_float_array(value, name, shape):
    return as_array(np.broadcast_to(np.asarray(value, dtype=float), shape)
                    if np.ndim(value) == 0 else value, name, shape)


spectral_radius_ = spectral_radius  # for methods whose argument has that name


class _Reservoir(Model):
    """Shared fields, checks and construction of ``ESN`` and ``ESNFlow``."""

    _rate_field: ClassVar[str] = ""  # "leak" or "tau"
    _batched = ("W", "W_in", "W_fb", "bias")

    def __post_init__(self):
        cls = type(self).__name__
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        W = as_array(self.W, f"{cls}.W")
        if W.ndim not in (2, 3) or W.shape[-1] != W.shape[-2] or W.shape[-1] == 0:
            raise ValidationError(f"{cls}.W", f"expected shape (n, n) or (P, n, n) with n >= 1"
                                  f", got {W.shape}", self.W)
        set_("W", W)
        lead, n = W.shape[:-2], W.shape[-1]
        for name in ("W_in", "W_fb"):
            value = getattr(self, name)
            a = as_array(np.zeros(lead + (n, 0)) if value is None else value, f"{cls}.{name}")
            if a.ndim == len(lead) + 1:  # a vector: one column
                a = as_array(a[..., None], f"{cls}.{name}")
            set_(name, as_array(a, f"{cls}.{name}", lead + (n, None)))
        set_("bias", _as_float_array(self.bias, f"{cls}.bias", lead + (n,)))
        rate = self._rate_field
        set_(rate, _as_float_array(getattr(self, rate), f"{cls}.{rate}", lead + (n,)))
        self._check_rate()
        if self.activation not in ACTIVATIONS:
            raise ValidationError(f"{cls}.activation", f"unknown activation "
                                  f"{self.activation!r}; choose one of {sorted(ACTIVATIONS)}",
                                  self.activation)
        if self.mask is None:
            mask = np.any(W != 0, axis=tuple(range(len(lead)))) if lead else W != 0
            mask.flags.writeable = False
            set_("mask", mask)
        else:
            set_("mask", check_mask(self.mask, W, f"{cls}.mask"))
        if self.sparse is not None and not isinstance(self.sparse, (bool, np.bool_)):
            raise ValidationError(f"{cls}.sparse", f"must be True, False or None (decide by "
                                  f"density), got {self.sparse!r}", self.sparse)
        for name, size in (("nodes", n), ("input_nodes", self.n_in)):
            ids = getattr(self, name)
            if ids is not None:
                if len(ids) != size:
                    raise ValidationError(f"{cls}.{name}", f"needs {size} ids, got {len(ids)}",
                                          ids)
                set_(name, tuple(ids))

    @classmethod
    def stack(cls, models):
        """Population of reservoirs (``Model.stack``); members of different topologies
        share the union of their masks (their own zeros stay zero weights)."""
        models = list(models)
        if models and all(type(m) is cls and m.P is None for m in models):
            union = np.logical_or.reduce([m.mask for m in models])
            models = [m if np.array_equal(m.mask, union) else
                      dataclasses.replace(m, mask=union) for m in models]
        return super().stack(models)

    # -- protocol -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.W.shape[-1]

    @property
    def n_u(self) -> int:
        """External inputs u (the first columns of a step's input)."""
        return self.W_in.shape[-1]

    @property
    def n_fb(self) -> int:
        """Fed-back outputs y (the last columns of a step's input)."""
        return self.W_fb.shape[-1]

    @property
    def n_in(self) -> int:
        return self.n_u + self.n_fb

    @property
    def P(self) -> int | None:
        return self.W.shape[0] if self.W.ndim == 3 else None

    @property
    def density(self) -> float:
        """Fraction of the n^2 possible recurrent connections present."""
        return float(self.mask.mean())

    @property
    def uses_sparse(self) -> bool:
        """True if the kernels use CSR products (``sparse``, or by density)."""
        return bool(self.density <= SPARSE_BELOW if self.sparse is None else self.sparse)

    def _free(self, name):
        return self.mask if name == "W" else None

    def _raw_layout(self):
        f, n = self.param_fields, self.n
        rate = self._rate_field
        return [((k,), f[k]) for k in ("W", "W_in", "W_fb", "bias")] + \
            [((rate,) if rate in self._params else (), (n,))]

    @cached_property
    def _csr(self):
        rows, cols = np.nonzero(self.mask)  # row-major: the CSR order
        indptr = np.zeros(self.n + 1, dtype=np.uint64)
        np.cumsum(np.bincount(rows, minlength=self.n), out=indptr[1:])
        # unsigned, so that numba skips the negative-index wraparound on every load (it cost
        # half the sparse product's time); 16-bit column indices where they fit: less memory
        # traffic (N = 2000 at 10% density on two threads: 80 -> 70 us a step)
        return rows, cols.astype(np.uint16 if self.n <= 2 ** 16 else np.uint32), indptr

    @abstractmethod
    def _rate(self) -> np.ndarray:
        """The per-unit coefficient the kernels read: a (map) or 1/tau (flow)."""

    @cached_property
    def kernel_params(self):
        lead = self.W.shape[:-2]
        rows, cols, indptr = self._csr
        if self.uses_sparse:
            data = np.ascontiguousarray(self.W[..., rows, cols])
            dense = np.zeros(lead + (0, 0))
        else:
            data = np.zeros(lead + (0,))
            dense = np.ascontiguousarray(self.W)
        for a in (data, dense):  # one numba type either way (a DeepESN mixes both kinds)
            a.flags.writeable = False
        return (np.ascontiguousarray(self.W_in), np.ascontiguousarray(self.W_fb),
                np.ascontiguousarray(self.bias), np.ascontiguousarray(self._rate()), dense,
                data, cols, indptr, ACTIVATIONS[self.activation], int(self.uses_sparse))

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def _draw(cls, n, n_in, *, spectral_radius, singular_value, density, input_scaling,
              input_density, bias_scaling, n_feedback, feedback_scaling, distribution, seed,
              who, orthogonal=False):
        import scipy.sparse as sp

        n = positive_int(n, f"{who}.n")
        n_in = positive_int(n_in, f"{who}.n_in", minimum=0)
        n_feedback = positive_int(n_feedback, f"{who}.n_feedback", minimum=0)
        density = in_range(density, f"{who}.density", 0.0, 1.0, closed="right")
        input_density = in_range(input_density, f"{who}.input_density", 0.0, 1.0,
                                 closed="right")
        for name, v in (("input_scaling", input_scaling), ("bias_scaling", bias_scaling),
                        ("feedback_scaling", feedback_scaling)):
            positive(v, f"{who}.{name}", allow_zero=True)
        if spectral_radius is not None:
            positive(spectral_radius, f"{who}.spectral_radius", allow_zero=True)
        choice(distribution, f"{who}.distribution", ("uniform", "normal"))
        rng = check_seed(seed, f"{who}.seed")
        draw = (lambda size: rng.uniform(-1.0, 1.0, size)) if distribution == "uniform" else \
            (lambda size: rng.standard_normal(size))
        if orthogonal:  # Haar: QR of a Gaussian matrix, signs fixed by diag(R)
            Q, R = np.linalg.qr(rng.standard_normal((n, n)))
            W = Q * np.sign(np.diag(R))
        else:
            W = sp.random(n, n, density=density, format="csr", random_state=rng,
                          data_rvs=draw)
        W = scale_weights(W, spectral_radius, singular_value, f"{who}.spectral_radius")
        W_in = input_scaling * rng.uniform(-1.0, 1.0, (n, n_in)) * (
            rng.random((n, n_in)) < input_density)
        W_fb = feedback_scaling * rng.uniform(-1.0, 1.0, (n, n_feedback))
        bias = bias_scaling * rng.uniform(-1.0, 1.0, n)
        return (W if orthogonal else W.toarray()), W_in, W_fb, bias

    @classmethod
    def _graph_parts(cls, G, nodelist, input_nodes, n_feedback, spectral_radius, who):
        from .. import graphs

        a = graphs.to_arrays(G, nodelist=nodelist, input_nodes=input_nodes)
        n_feedback = positive_int(G.graph.get("n_feedback", 0) if n_feedback is None else
                                  n_feedback, f"{who}.n_feedback", minimum=0)
        if n_feedback > a.W_in.shape[1]:
            raise ValidationError(f"{who}.n_feedback", f"is {n_feedback} but the graph has "
                                  f"only {a.W_in.shape[1]} input nodes", n_feedback)
        mask, input_mask = edge_masks(G, a.nodes, a.input_nodes)
        W = scale_weights(a.W, spectral_radius, None, f"{who}.spectral_radius")
        k = a.W_in.shape[1] - n_feedback
        act = a.graph_attrs.get("cell_activation", a.activation)
        return a, W, mask, a.W_in[:, :k], a.W_in[:, k:], act

    def _graph(self, tau=None, extra=None):
        self._single("to_graph")
        from .. import graphs

        attrs = dict(self.graph_attrs) | (extra or {})
        attrs["n_feedback"] = self.n_fb
        act = self.activation if self.activation in ("sigmoid", "tanh") else "tanh"
        if act != self.activation:
            attrs["cell_activation"] = self.activation
        W_in = np.concatenate([self.W_in, self.W_fb], axis=1)
        return graphs.from_arrays(np.array(self.W), W_in=W_in, bias=np.array(self.bias),
                                  tau=tau, nodes=self.nodes,
                                  input_nodes=self.input_nodes if self.n_in else None,
                                  activation=act, graph_attrs=attrs)


_RESERVOIR_DOC = """
    Parameters
    ----------
    W : array (n, n) or (P, n, n)
        Recurrent weights, ``W[i, j]`` from unit j to unit i.
    W_in : array (n, n_u) / (P, n, n_u), optional
        Input weights. Default: no external input.
    W_fb : array (n, n_fb) / (P, n, n_fb), optional
        Output-feedback weights. Default: no feedback.
    bias : float or array (n,) / (P, n)
    activation : {"tanh", "identity", "sigmoid", "relu", ...}
        f, a name from ``rnndyn.models.cell.ACTIVATIONS``. Default "tanh".
    mask : bool array (n, n), optional
        Topology (shared by a population): W is zero outside it and those entries are not
        parameters. Default: the nonzero pattern of W.
    sparse : bool or None
        CSR (True) or dense (False) products in the kernels; None: CSR iff the density is
        at most ``SPARSE_BELOW``.
    nodes, input_nodes, graph_attrs : optional
        Graph node ids and attributes kept for ``to_graph``.
"""


@dataclass(frozen=True, eq=False, repr=False)
class ESN(_Reservoir, Cell):
    __doc__ = """Leaky echo state network (Jaeger 2001; Jaeger et al. 2007), a map:

    ``x(n+1) = (1 - a) x(n) + a f(W_in u(n+1) + W x(n) + W_fb y(n) + b)``.

    The input of a step is ``[u(n+1); y(n)]`` (``n_in = n_u + n_fb``); the outputs are the
    states. Parameter vector: W (its masked-in entries), W_in, W_fb, bias (the leak rate,
    bounded to (0, 1], is a setting outside the vector; populations may differ in it).
    """ + _RESERVOIR_DOC + """    leak : float or array (n,) / (P, n)
        Leak rate a in (0, 1]; 1 (default) is Jaeger's 2001 network without leak.
    """

    W: np.ndarray
    W_in: np.ndarray | None = None
    W_fb: np.ndarray | None = None
    bias: np.ndarray = 0.0
    leak: np.ndarray = 1.0
    activation: str = "tanh"
    mask: np.ndarray | None = None
    sparse: bool | None = None
    nodes: tuple | None = None
    input_nodes: tuple | None = None
    graph_attrs: dict = field(default_factory=dict)

    kind = "map"
    _rate_field = "leak"
    _batched = ("W", "W_in", "W_fb", "bias", "leak")
    _params = ("W", "W_in", "W_fb", "bias")  # the leak, bounded to (0, 1], is a setting
    _functions = Functions(rhs=None, step=_K.esn_step, jacobian=_K.esn_jacobian,
                           output=_base_kernels.output_state, member=_K.member,
                           work_size=_K.work_size, vjp=_K.esn_vjp,
                           output_vjp=_base_kernels.state_output_vjp,
                           param_size=_K.param_size)

    # a Cell, so that ``DeepESN`` (a ``Stacked``) can chain layers: d h'/d x and d out/d h
    jac_input = staticmethod(_K.esn_jac_input)
    output_jac = staticmethod(identity_output_jac)

    @property
    def H(self) -> int:
        """Units (the discrete cells' name for n)."""
        return self.n

    @property
    def n_params(self) -> int:
        """Free parameters of one reservoir: masked-in W entries, W_in, W_fb, bias."""
        return int(self.mask.sum()) + self.n * (self.n_in + 1)

    def _check_rate(self):
        bad = np.argwhere(~((self.leak > 0.0) & (self.leak <= 1.0)))
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            raise ValidationError("ESN.leak", f"must lie in (0, 1], got {self.leak[where]} at "
                                  f"unit {where[-1]}; a = dt/tau of the leaky integrator",
                                  self.leak)

    def _rate(self):
        return self.leak

    @classmethod
    def random(cls, n: int, n_in: int = 1, *, spectral_radius: float | None = 0.9,
               singular_value: float | None = None, density: float = 0.1,
               input_scaling: float = 1.0, input_density: float = 1.0,
               bias_scaling: float = 0.0, leak=1.0, activation: str = "tanh",
               n_feedback: int = 0, feedback_scaling: float = 1.0,
               distribution: str = "uniform", orthogonal: bool = False,
               sparse: bool | None = None, seed=None) -> "ESN":
        """A random sparse reservoir (Jaeger 2001; Lukoševičius 2012, "A practical guide to
        applying echo state networks").

        W has ``density * n^2`` nonzero entries drawn from ``distribution`` (U(-1, 1) or
        N(0, 1), built with ``scipy.sparse.random``) and is scaled to ``spectral_radius``
        (or to a largest singular value ``singular_value``; pass ``spectral_radius=None``);
        W_in ~ input_scaling U(-1, 1) with a fraction ``input_density`` nonzero, W_fb ~
        feedback_scaling U(-1, 1), bias ~ bias_scaling U(-1, 1). ``orthogonal=True`` draws a
        dense Haar-random orthogonal W instead (every eigenvalue on the circle of radius
        rho: optimal memory of linear networks, White, Lee & Sompolinsky 2004).

        Raises
        ------
        ValidationError
            Negative spectral radius or scalings, density or input_density outside (0, 1],
            leak outside (0, 1], bad sizes or seed.
        """
        if singular_value is not None and spectral_radius == 0.9:
            spectral_radius = None  # the default yields to an explicit singular value
        W, W_in, W_fb, bias = cls._draw(
            n, n_in, spectral_radius=spectral_radius, singular_value=singular_value,
            density=density, input_scaling=input_scaling, input_density=input_density,
            bias_scaling=bias_scaling, n_feedback=n_feedback,
            feedback_scaling=feedback_scaling, distribution=distribution, seed=seed,
            who="ESN.random", orthogonal=orthogonal)
        return cls(W=W, W_in=W_in, W_fb=W_fb, bias=bias, leak=leak, activation=activation,
                   sparse=sparse)

    @classmethod
    def from_graph(cls, G, nodelist=None, input_nodes=None, *, spectral_radius=None,
                   leak=None, n_feedback=None, activation=None) -> "ESN":
        """A reservoir of any topology (ring, small world, modular ... from
        ``rnndyn.graphs``): edges give W and (from input-role nodes) W_in, the last
        ``n_feedback`` input nodes (default ``G.graph["n_feedback"]`` or 0) feed back the
        outputs, node ``bias`` the bias, ``G.graph["leak"]`` (default 1) the leak rate. W is
        rescaled to ``spectral_radius`` if given."""
        a, W, mask, W_in, W_fb, act = cls._graph_parts(G, nodelist, input_nodes, n_feedback,
                                                       spectral_radius, "ESN.from_graph")
        if not np.all(a.tau == 1.0):
            raise ValidationError("ESN.from_graph", "node attribute 'tau' is not 1 somewhere;"
                                  " a map has no time constant: build an ESNFlow instead", G)
        attrs = {k: v for k, v in a.graph_attrs.items()
                 if k not in ("leak", "n_feedback", "cell_activation")}
        return cls(W=W, W_in=W_in, W_fb=W_fb, bias=a.bias,
                   leak=a.graph_attrs.get("leak", 1.0) if leak is None else leak,
                   activation=activation or act, mask=mask, nodes=a.nodes,
                   input_nodes=a.input_nodes, graph_attrs=attrs)

    def to_graph(self):
        """networkx DiGraph: W, [W_in | W_fb] from input nodes, bias; the leak rate and the
        number of feedback inputs are graph attributes (``leak``, ``n_feedback``)."""
        leak = self.leak
        return self._graph(extra={"leak": float(leak[0]) if np.all(leak == leak[0])
                                  else [float(v) for v in leak]})

    def grid(self, spectral_radius=None, input_scaling=None, leak=None) -> tuple:
        """This reservoir at every combination of the given hyperparameters, as one
        population (for a sweep in one kernel, ``rnndyn.train.readout.sweep``).

        Parameters
        ----------
        spectral_radius : sequence of float >= 0, optional
            W rescaled to each (default: as is).
        input_scaling : sequence of float >= 0, optional
            Factors multiplying W_in (default 1).
        leak : sequence of float in (0, 1], optional
            Leak rates (default: as is).

        Returns
        -------
        (ESN population of P = the product of the lengths, grid (P, 3))
            Member k has (spectral radius, input scaling, leak) = grid[k], in the order of
            ``itertools.product``; a leak kept as is is its mean.
        """
        self._single("grid")
        rho0 = spectral_radius_(self.W)
        axes = []
        for name, values, default in (("spectral_radius", spectral_radius, rho0),
                                      ("input_scaling", input_scaling, 1.0),
                                      ("leak", leak, None)):
            if values is None:
                axes.append([default])
                continue
            v = np.atleast_1d(as_array(values, f"ESN.grid.{name}"))
            if v.ndim != 1 or v.size == 0:
                raise ValidationError(f"ESN.grid.{name}", f"expected a non-empty sequence of "
                                      f"numbers, got shape {v.shape}", values)
            for x in v:
                if name == "leak":
                    in_range(x, "ESN.grid.leak", 0.0, 1.0, closed="right")
                else:
                    positive(x, f"ESN.grid.{name}", allow_zero=True)
            axes.append([float(x) for x in v])
        if spectral_radius is not None and rho0 < 1e-300:
            scale_weights(self.W, 1.0, name="ESN.grid.spectral_radius")  # raises: nilpotent
        combos = [(r, s, a) for r in axes[0] for s in axes[1] for a in axes[2]]
        members = [dataclasses.replace(
            self, W=self.W * (r / rho0) if r != rho0 else self.W, W_in=self.W_in * s,
            leak=self.leak if a is None else a) for r, s, a in combos]
        mean_leak = float(np.mean(self.leak))
        grid = np.array([(r, s, mean_leak if a is None else a) for r, s, a in combos])
        return ESN.stack(members), grid

    def to_flow(self, dt: float = 1.0) -> "ESNFlow":
        """The leaky-integrator ODE whose Euler step dt is this map: tau = dt / a."""
        dt = positive(dt, "ESN.to_flow.dt")
        return ESNFlow(W=self.W, W_in=self.W_in, W_fb=self.W_fb, bias=self.bias,
                       tau=dt / self.leak, activation=self.activation, mask=self.mask,
                       sparse=self.sparse, nodes=self.nodes, input_nodes=self.input_nodes,
                       graph_attrs=self.graph_attrs)


@dataclass(frozen=True, eq=False, repr=False)
class ESNFlow(_Reservoir):
    __doc__ = """Leaky-integrator echo state network (Jaeger, Lukoševičius, Popovici & Siewert
    2007, Neural Networks 20:335, eq. 3), a flow:

    ``tau dx/dt = -x + f(W_in u + W x + W_fb y + b)``.

    Integrate it with ``rnndyn.simulate`` (any method); the Euler step dt is the ``ESN`` with
    leak ``a = dt / tau`` (``to_map``). Parameter vector: W (masked-in entries), W_in, W_fb,
    bias, tau.
    """ + _RESERVOIR_DOC + """    tau : float or array (n,) / (P, n)
        Time constants (time units), > 0. Default 1.
    """

    W: np.ndarray
    W_in: np.ndarray | None = None
    W_fb: np.ndarray | None = None
    bias: np.ndarray = 0.0
    tau: np.ndarray = 1.0
    activation: str = "tanh"
    mask: np.ndarray | None = None
    sparse: bool | None = None
    nodes: tuple | None = None
    input_nodes: tuple | None = None
    graph_attrs: dict = field(default_factory=dict)

    kind = "flow"
    _rate_field = "tau"
    _batched = ("W", "W_in", "W_fb", "bias", "tau")
    _params = _batched
    _bounds = {"tau": 0.0}
    _functions = Functions(rhs=_K.flow_rhs, step=None, jacobian=_K.flow_jacobian,
                           output=_base_kernels.output_state, member=_K.member,
                           work_size=_K.work_size, vjp=_K.flow_vjp,
                           output_vjp=_base_kernels.state_output_vjp,
                           param_size=_K.param_size)

    def _check_rate(self):
        bad = np.argwhere(~(self.tau >= np.finfo(float).tiny))
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            raise ValidationError("ESNFlow.tau", f"must be > 0, got {self.tau[where]} at unit "
                                  f"{where[-1]}; time constants are positive durations",
                                  self.tau)

    def _rate(self):
        return 1.0 / self.tau

    @classmethod
    def random(cls, n: int, n_in: int = 1, *, tau=1.0, **kwargs) -> "ESNFlow":
        """As ``ESN.random`` (same keywords, ``tau`` instead of ``leak``)."""
        esn = ESN.random(n, n_in, **kwargs)
        return cls(W=esn.W, W_in=esn.W_in, W_fb=esn.W_fb, bias=esn.bias, tau=tau,
                   activation=esn.activation, sparse=esn.sparse)

    @classmethod
    def from_graph(cls, G, nodelist=None, input_nodes=None, *, spectral_radius=None,
                   n_feedback=None, activation=None) -> "ESNFlow":
        """As ``ESN.from_graph``; node ``tau`` gives the time constants."""
        a, W, mask, W_in, W_fb, act = cls._graph_parts(G, nodelist, input_nodes, n_feedback,
                                                       spectral_radius, "ESNFlow.from_graph")
        attrs = {k: v for k, v in a.graph_attrs.items()
                 if k not in ("n_feedback", "cell_activation")}
        return cls(W=W, W_in=W_in, W_fb=W_fb, bias=a.bias, tau=a.tau,
                   activation=activation or act, mask=mask, nodes=a.nodes,
                   input_nodes=a.input_nodes, graph_attrs=attrs)

    def to_graph(self):
        """networkx DiGraph: as ``ESN.to_graph`` with node ``tau``."""
        return self._graph(tau=np.array(self.tau))

    def to_map(self, dt: float) -> ESN:
        """The ESN that is this flow's Euler step dt: leak a = dt / tau (must be <= 1)."""
        dt = positive(dt, "ESNFlow.to_map.dt")
        leak = dt / self.tau
        if np.any(leak > 1.0):
            raise ValidationError("ESNFlow.to_map.dt", f"dt = {dt:g} exceeds the smallest tau "
                                  f"({self.tau.min():g}): the leak dt/tau must be <= 1", dt)
        return ESN(W=self.W, W_in=self.W_in, W_fb=self.W_fb, bias=self.bias, leak=leak,
                   activation=self.activation, mask=self.mask, sparse=self.sparse,
                   nodes=self.nodes, input_nodes=self.input_nodes, graph_attrs=self.graph_attrs)


@dataclass(frozen=True, eq=False, repr=False)
class DeepESN(Stacked):
    """Deep echo state network (DeepESN; Gallicchio, Micheli & Pedrelli 2017, "Deep reservoir
    computing: a critical experimental analysis", Neurocomputing 268:87; its echo-state
    property: Gallicchio & Micheli 2017, Cognitive Computation 9:337): L reservoirs in a
    stack, layer 1 driven by the step input ``[u(t); y(t-1)]`` and layer l > 1 by layer l-1's
    new state in the same step,

    ``x_1(t) = (1 - a_1) x_1(t-1) + a_1 f(W_in,1 u(t) + W_fb,1 y(t-1) + W_1 x_1(t-1) + b_1)``,
    ``x_l(t) = (1 - a_l) x_l(t-1) + a_l f(W_in,l x_{l-1}(t) + W_l x_l(t-1) + b_l)``.

    The state is ``[x_1; ...; x_L]``: ``rnndyn.run`` returns it, and the readouts of
    ``rnndyn.train.readout`` (``fit``, ``states``) are fit on that concatenation, as in
    Gallicchio et al. A ``Stacked`` of ``ESN`` layers, so one map with the chain-rule
    Jacobian: ``run``, the parameter vector (``"layers.<l>.W"``, ...) and the analysis layer
    (Lyapunov spectrum, fixed points) apply; its ``output`` is the top layer's state.

    Parameters
    ----------
    layers : sequence of single ``ESN``
        Layer l > 1 takes ``n_u == layers[l-1].n`` inputs and has no feedback.
    """

    def __post_init__(self):
        layers = tuple(self.layers)
        for l, esn in enumerate(layers):
            if not isinstance(esn, ESN) or esn.P is not None:
                raise ValidationError("DeepESN.layers", f"layer {l} is {type(esn).__name__}"
                                      + ("" if getattr(esn, "P", None) is None else
                                         f" (a population of {esn.P})") + "; stack single "
                                      "ESNs", esn)
            if l and esn.n_fb:
                raise ValidationError(f"DeepESN.layers[{l}].W_fb", f"has {esn.n_fb} feedback "
                                      "columns; only layer 0 reads the fed-back outputs",
                                      esn.W_fb)
        super().__post_init__()

    @property
    def n_u(self) -> int:
        """External inputs of layer 0."""
        return self.layers[0].n_u

    @property
    def n_fb(self) -> int:
        """Fed-back outputs (read by layer 0)."""
        return self.layers[0].n_fb

    @property
    def sizes(self) -> tuple:
        """Units per layer."""
        return tuple(esn.n for esn in self.layers)

    def layer_states(self, states) -> list:
        """Split states (..., n) (e.g. ``run(...).states``) into the L layers' (..., n_l)."""
        return np.split(np.asarray(states), np.cumsum(self.sizes)[:-1], axis=-1)

    @classmethod
    def random(cls, n_in: int, units=(100, 100), *, spectral_radius=0.9, input_scaling=1.0,
               inter_scaling=1.0, leak=1.0, density=0.1, bias_scaling=0.0,
               n_feedback: int = 0, feedback_scaling: float = 1.0, activation: str = "tanh",
               sparse: bool | None = None, seed=None) -> "DeepESN":
        """Random layers drawn as in ``ESN.random``: layer 0 reads the n_in inputs scaled by
        ``input_scaling`` (and ``n_feedback`` outputs), layer l > 0 the layer below scaled by
        ``inter_scaling`` (Gallicchio et al.'s inter-layer scaling). ``spectral_radius``,
        ``leak``, ``density`` and ``bias_scaling`` are one value or one per layer."""
        units = tuple(units) if np.ndim(units) else (units,)
        if not units:
            raise ValidationError("DeepESN.random.units", "got no layers; give the units of "
                                  "each layer, e.g. (100, 100)", units)
        L = len(units)

        def per_layer(value, name):
            v = tuple(value) if np.ndim(value) else (value,) * L
            if len(v) != L:
                raise ValidationError(f"DeepESN.random.{name}", f"needs one value or {L} (one "
                                      f"per layer), got {len(v)}", value)
            return v

        rhos, leaks = per_layer(spectral_radius, "spectral_radius"), per_layer(leak, "leak")
        dens, biases = per_layer(density, "density"), per_layer(bias_scaling, "bias_scaling")
        rng = check_seed(seed, "DeepESN.random.seed")
        layers = []
        for l, n in enumerate(units):
            first = l == 0
            layers.append(ESN.random(
                n, n_in if first else units[l - 1], spectral_radius=rhos[l], density=dens[l],
                input_scaling=input_scaling if first else inter_scaling,
                bias_scaling=biases[l], leak=leaks[l], activation=activation,
                n_feedback=n_feedback if first else 0, feedback_scaling=feedback_scaling,
                sparse=sparse, seed=rng))
        return cls(layers=tuple(layers))


class LSMRun(NamedTuple):
    """Result of ``LSM.run``: spikes as a raster (T, n) of 0/1 (row t: spikes in step t, at
    time (t + 1) dt), the membrane potentials v (T, n) in mV and the step dt (ms)."""

    raster: np.ndarray
    v: np.ndarray
    dt: float

    def events(self) -> tuple:
        """Spikes as event lists: (times (k,) in ms, units (k,)), sorted by time."""
        t, i = np.nonzero(self.raster)
        return (t + 1) * self.dt, i

    def counts(self, bin_ms: float) -> np.ndarray:
        """Spike counts per unit in consecutive bins of ``bin_ms``: (T // steps, n)."""
        k = max(1, int(round(positive(bin_ms, "LSMRun.counts.bin_ms") / self.dt)))
        T = (self.raster.shape[0] // k) * k
        return self.raster[:T].reshape(-1, k, self.raster.shape[1]).sum(axis=1)

    def filtered(self, tau_ms: float = 30.0) -> np.ndarray:
        """Exponentially filtered spike trains (T, n): r(t) = sum_spikes exp(-(t - t_s)/tau),
        the readout feature of Maass et al. 2002 (tau = 30 ms)."""
        from scipy.signal import lfilter

        d = np.exp(-self.dt / positive(tau_ms, "LSMRun.filtered.tau_ms"))
        return lfilter([1.0], [1.0, -d], self.raster, axis=0)


def spike_raster(times, n_steps: int, dt: float) -> np.ndarray:
    """Spike trains as a raster for ``LSM.run(..., encoding="spikes")``: ``times`` a
    sequence of n_in arrays of spike times (ms); a spike at time s falls in step
    ``floor(s / dt)`` (spikes outside [0, n_steps dt) are dropped). Returns (n_steps, n_in)
    spike counts."""
    dt = positive(dt, "spike_raster.dt")
    n_steps = positive_int(n_steps, "spike_raster.n_steps", minimum=0)
    R = np.zeros((n_steps, len(times)))
    for k, ts in enumerate(times):
        idx = np.floor(np.asarray(ts, dtype=float) / dt).astype(np.int64)
        np.add.at(R[:, k], idx[(idx >= 0) & (idx < n_steps)], 1.0)
    return R


@dataclass(frozen=True, eq=False, repr=False)
class LSM:
    """Liquid state machine (Maass, Natschläger & Markram 2002, Neural Computation 14:2531):
    a reservoir of leaky integrate-and-fire units,

    ``tau_m dv/dt = -(v - v_rest) + R (I_syn + I_bias + I_ext)``,
    ``tau_s dI_syn/dt = -I_syn + sum_j W[i, j] sum_spikes delta(t - t_j)``;
    at v >= v_th a spike, v <- v_reset, refractory for t_ref. Units: ms, mV, nA, MOhm.
    Spikes reach their targets one step later (a synaptic delay of dt). Inputs are currents
    (``I_ext = W_in u(t)``) or spike trains (``encoding="poisson"``: input k fires with rate
    u_k(t) Hz, and each spike adds W_in[:, k] to I_syn). Not a smooth model, so not part of
    the Jacobian-based model protocol: run it with ``LSM.run``.

    Parameters
    ----------
    W : array (n, n)
        Synaptic weights (nA), row = target.
    W_in : array (n, n_in)
    tau_m, tau_s, v_rest, v_reset, v_th, t_ref, R, I_bias : float or array (n,)
        Defaults from Maass et al. 2002: 30 ms, 3 ms, 0 mV, 13.5 mV, 15 mV, 2 ms, 1 MOhm,
        13.5 nA.
    """

    W: np.ndarray
    W_in: np.ndarray | None = None
    tau_m: np.ndarray = 30.0
    tau_s: np.ndarray = 3.0
    v_rest: np.ndarray = 0.0
    v_reset: np.ndarray = 13.5
    v_th: np.ndarray = 15.0
    t_ref: np.ndarray = 2.0
    R: np.ndarray = 1.0
    I_bias: np.ndarray = 13.5

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        W = as_array(self.W, "LSM.W")
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ValidationError("LSM.W", f"expected shape (n, n) with n >= 1, got {W.shape}",
                                  self.W)
        n = W.shape[0]
        set_("W", W)
        set_("W_in", as_array(np.zeros((n, 0)) if self.W_in is None else self.W_in,
                              "LSM.W_in", (n, None)))
        for name in ("tau_m", "tau_s", "v_rest", "v_reset", "v_th", "t_ref", "R", "I_bias"):
            set_(name, _as_float_array(getattr(self, name), f"LSM.{name}", (n,)))
        for name in ("tau_m", "tau_s", "R"):
            if np.any(getattr(self, name) <= 0):
                raise ValidationError(f"LSM.{name}", f"must be > 0, got "
                                      f"{getattr(self, name).min()}", getattr(self, name))
        if np.any(self.t_ref < 0):
            raise ValidationError("LSM.t_ref", f"must be >= 0, got {self.t_ref.min()}",
                                  self.t_ref)
        if np.any(self.v_reset >= self.v_th):
            raise ValidationError("LSM.v_reset", "must lie below v_th (else a unit fires at "
                                  "every step)", self.v_reset)

    @property
    def n(self) -> int:
        return self.W.shape[0]

    @property
    def n_in(self) -> int:
        return self.W_in.shape[1]

    @classmethod
    def random(cls, n: int = 135, n_in: int = 1, *, p_connect: float = 0.1,
               frac_exc: float = 0.8, w_exc: float = 30.0, w_inh: float = 19.0,
               w_input: float = 18.0, p_input: float = 0.3, dale: bool = True,
               seed=None, **unit_params) -> "LSM":
        """Random liquid: connections with probability ``p_connect``, weights of mean
        ``w_exc`` (from excitatory units) or ``w_inh`` (inhibitory, a fraction 1 - frac_exc)
        nA with a 50% gamma-like spread; with ``dale=True`` every unit's outgoing weights
        share its sign (Dale's law; else signs are random). Excitatory units get t_ref 3 ms
        and tau_s 3 ms, inhibitory ones 2 ms and 6 ms (Maass et al. 2002)."""
        n = positive_int(n, "LSM.random.n")
        n_in = positive_int(n_in, "LSM.random.n_in", minimum=0)
        p_connect = in_range(p_connect, "LSM.random.p_connect", 0.0, 1.0, closed="right")
        frac_exc = in_range(frac_exc, "LSM.random.frac_exc", 0.0, 1.0)
        p_input = in_range(p_input, "LSM.random.p_input", 0.0, 1.0)
        rng = check_seed(seed, "LSM.random.seed")
        exc = rng.random(n) < frac_exc
        A = (rng.random((n, n)) < p_connect) & ~np.eye(n, dtype=bool)
        size = np.abs(rng.normal(1.0, 0.5, (n, n)))
        if dale:
            sign = np.where(exc, 1.0, -1.0)[None, :]
        else:
            sign = rng.choice([-1.0, 1.0], (n, n))
        W = A * size * sign * np.where(exc, w_exc, w_inh)[None, :]
        W_in = w_input * np.abs(rng.normal(1.0, 0.5, (n, n_in))) * (rng.random((n, n_in)) <
                                                                     p_input)
        defaults = dict(t_ref=np.where(exc, 3.0, 2.0), tau_s=np.where(exc, 3.0, 6.0))
        return cls(W=W, W_in=W_in, **(defaults | unit_params))

    def run(self, inputs, dt: float = 0.1, *, encoding: str = "current", v0=None,
            seed=None) -> LSMRun:
        """Simulate T steps of dt ms driven by ``inputs`` (T, n_in): currents in nA
        (``encoding="current"``), firing rates in Hz (``"poisson"``: input spikes drawn with
        probability rate * dt / 1000 per step, ``seed=``) or given spike trains
        (``"spikes"``: a raster of spike counts per step, e.g. from ``spike_raster``). v0
        (n,): initial potentials (default v_rest)."""
        dt = positive(dt, "LSM.run.dt")
        choice(encoding, "LSM.run.encoding", ("current", "poisson", "spikes"))
        U = as_array(inputs, "LSM.run.inputs", (None, self.n_in))
        if encoding == "spikes" and np.any((U < 0) | (U != np.round(U))):
            raise ValidationError("LSM.run.inputs", "with encoding='spikes' the inputs are "
                                  "spike counts per step (non-negative integers)", inputs)
        if encoding == "poisson":
            if np.any(U < 0) or np.any(U * dt / 1000.0 > 1.0):
                raise ValidationError("LSM.run.inputs", f"Poisson rates must lie in [0, "
                                      f"{1000.0 / dt:g}] Hz for dt = {dt:g} ms", inputs)
            U = (check_seed(seed, "LSM.run.seed").random(U.shape) < U * dt / 1000.0) * 1.0
        v = self.v_rest.copy() if v0 is None else as_array(v0, "LSM.run.v0", (self.n,)).copy()
        raster = np.zeros((U.shape[0], self.n))
        V = np.zeros((U.shape[0], self.n))
        n_ref = np.round(self.t_ref / dt).astype(np.int64)
        _K.lif_run(self.W, self.W_in, self.tau_m, self.tau_s, self.v_rest, self.v_reset,
                   self.v_th, n_ref, self.R, self.I_bias, dt, np.ascontiguousarray(U),
                   encoding != "current", v, raster, V)
        return LSMRun(raster, V, dt)
