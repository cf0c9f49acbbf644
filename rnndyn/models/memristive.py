"""Memristive networks on any graph: the Caravelli–Traversa–Di Ventra dynamics.

F. Caravelli, F. L. Traversa, M. Di Ventra, "The complex dynamics of memristive circuits:
analytical results and universal slow relaxation", Phys. Rev. E 95, 022140 (2017),
arXiv:1608.08651 (below: CTD). Every edge e of a graph is a memristor in series with a
voltage source S_e; its memory variable w_e in [0, 1] sets its resistance linearly,

    R_e(w_e) = R_on,e (1 - w_e) + R_off,e w_e = R_on,e (1 + xi_e w_e),
    xi_e = (R_off,e - R_on,e) / R_on,e,

and drifts with the current i_e through it (CTD's linear memristor model):

    dw_e/dt = alpha_e w_e - (R_on,e / beta_e) i_e.

Kirchhoff's laws make the currents a function of all memories: with B the V x E incidence
matrix (B[tail, e] = +1, B[head, e] = -1; the edge direction is the device polarity and the
positive direction of i_e and S_e), A an E x L cycle matrix (B A = 0, L = E - V + c loops
for c connected components), the loop projector

    Omega = A (A^T A)^-1 A^T = I - B^T (B B^T)^+ B

(symmetric, idempotent, trace E - V + c; ``I - Omega`` is the cut-space projector), and
R = diag(R_e), the currents are i = A (A^T R A)^-1 A^T S = (I - Omega + Omega R)^-1 Omega S.
For a uniform R_on this is (1/R_on) (I + xi Omega W)^-1 Omega S with W = diag(w), and the
memory obeys CTD's matrix equation of motion (their main result, derived from the loop form
of Kirchhoff's laws with the Woodbury identity):

    dw/dt = alpha w - (1/beta) (I + xi Omega W)^-1 Omega S(t).

CTD's polarity matrix J (the sign of each device against its edge) is the identity here:
every edge is oriented along its device. To flip a device, reverse its edge.

Sign conventions (``convention=``, required: there is no default):

- ``"growth"``: the equation above, as in CTD. The single memristor (Omega = 1) has the
  unstable threshold ``w* = (-1 + sqrt(1 + 4 xi S/(alpha beta))) / (2 xi)``: w -> 0 from
  below, w -> 1 from above.
- ``"decay"``: ``dw/dt = -alpha w + (R_on/beta) i``, i.e. ``dw/dt = -alpha w + (1/beta)
  (I + xi Omega W)^-1 Omega S``, the form with a decaying memory of Caravelli's later papers:
  the same vector field reversed in time, so the same w* is stable (the mirror image).
  Some of those papers write the decaying variable as x = 1 - w with R(x) = R_off (1 - chi x),
  chi = (R_off - R_on)/R_off, and ``dx/dt = -alpha x + (1/beta) (I - chi Omega X)^-1 Omega S``;
  in w that reads ``dw/dt = alpha (1 - w) - (R_off/beta) i``, which is neither convention here.

Boundary handling. CTD keep the memories in [0, 1] by clipping. As a flow this is the
projected vector field: on a face (w_e >= 1 pushed up, or w_e <= 0 pushed down) dw_e/dt = 0,
so the exact flow never leaves the box. A fixed-step integrator can still step past a face by
at most dt |dw_e/dt| before the projection stops it; the circuit (resistances, currents, the
model's output) always sees ``min(max(w, 0), 1)``, so such a step is an O(dt) delay, never an
unphysical resistance. Use ``Memristive.output`` (or clip) to read memories from a trajectory.

Right-hand side. The currents come from nodal analysis of the resistor network (a V - c
unknown potential system, never an E x E matrix): a banded Cholesky in reverse
Cuthill–McKee order when the band is narrow (lattices, planar and small graphs: cost V b^2),
else conjugate gradients with a Jacobi preconditioner (random graphs: cost E x iterations).
``solver="auto"`` picks by the estimated cost; benchmarks/memristive.py has the numbers.
Derivatives (``jacobian``, ``param_jacobian``) are analytic, from the transfer conductances
K = G - G B^T L^+ B G (a resistance change dR_k acts as a source -i_k dR_k in edge k).

Analysis. ``energy`` is a Lyapunov function of the DC-driven network with uniform
parameters: L(w) = -(alpha/3) sum w^3 - (alpha xi/4) sum_ij Omega_ij w_i^2 w_j^2
+ (1/2 beta) sum_i w_i^2 (Omega S)_i satisfies W (I + xi Omega W) dw/dt = -grad L, so
dL/dt = -dw^T W (I + xi Omega W) dw <= 0 inside the box, since W (I + xi Omega W) =
W^1/2 (I + xi W^1/2 Omega W^1/2) W^1/2 is positive semi-definite for w >= 0 (derived here for
the full non-linear equation, in the spirit of the constrained gradient descent of
arXiv:1611.02104); ``-L`` for "decay". No such function is claimed for per-edge parameters
(``energy`` refuses them) or time-dependent sources. The
conservation law of arXiv:1611.02104: currents live in the cycle space, so when R_on/beta is
uniform, B (dw/dt - alpha w) = 0 ("growth"), i.e. the cut-space part ``(I - Omega) w``
evolves as exp(alpha t) (exp(-alpha t) for "decay") whatever the sources, while no memory
is clipped; only L = E - V + c memory directions are driven.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, reverse_cuthill_mckee, shortest_path
from scipy.sparse.linalg import spsolve

from .._validate import warn
from ..errors import ConvergenceError, ValidationError
from . import _memristive_kernels as _K
from .base import Functions, Model, as_array

CONVENTIONS = ("growth", "decay")
SOLVERS = ("auto", "banded", "cg")
#: "auto" takes the banded Cholesky when its cost V b^2 is below CG_COST E k, k the estimated
#: CG iterations 10 d + 30 (d the eccentricity of a node of the largest component: CG on a
#: graph Laplacian needs more iterations the longer the graph). Measured on random and
#: lattice graphs with E = 100 .. 10 000 (benchmarks/memristive.py): a banded step costs
#: ~0.5 ns per unit of V b^2, a CG iteration ~5 ns per edge.
CG_COST = 10
_FIELDS = ("R_on", "R_off", "alpha", "beta", "S")

FUNCTIONS = Functions(rhs=_K.rhs, step=None, jacobian=_K.jacobian, output=_K.output,
                      member=_K.member, work_size=_K.work_size, vjp=None,
                      param_jacobian=_K.param_jacobian, output_vjp=_K.output_vjp,
                      param_size=_K.param_size)


class NoCycleWarning(UserWarning):
    """The graph has no cycles: no current flows and dw/dt = alpha w (trivial dynamics)."""


# -- graph helpers ---------------------------------------------------------------------------
def _edge_list(edges, nodes=None):
    edges = [tuple(e) for e in edges]
    if nodes is None:
        nodes = list(dict.fromkeys(v for e in edges for v in e[:2]))
    index = {v: k for k, v in enumerate(nodes)}
    tail = np.array([index[e[0]] for e in edges], dtype=np.int64)
    head = np.array([index[e[1]] for e in edges], dtype=np.int64)
    return edges, list(nodes), tail, head


def incidence_matrix(edges, nodes=None) -> sp.csr_matrix:
    """The V x E incidence matrix B: ``B[tail, e] = +1``, ``B[head, e] = -1`` (a self-loop
    has an empty column).

    Parameters
    ----------
    edges : sequence of (tail, head[, key])
        The directed edges (polarities), e.g. ``list(G.edges)``.
    nodes : sequence, optional
        Node order of the rows (default: order of first appearance in ``edges``).
    """
    edges, nodes, tail, head = _edge_list(edges, nodes)
    E = len(edges)
    cols = np.arange(E)
    B = sp.coo_matrix((np.r_[np.ones(E), -np.ones(E)], (np.r_[tail, head], np.r_[cols, cols])),
                      shape=(len(nodes), E))
    return B.tocsr()


def cycle_matrix(edges, nodes=None) -> np.ndarray:
    """A fundamental cycle matrix A (E x L, L = E - V + c) from a BFS spanning forest: column
    l is the loop closed by the l-th non-tree edge, oriented along it, entry +1 (-1) where an
    edge runs with (against) the loop. ``B @ A = 0`` and the columns are independent."""
    edges, nodes, tail, head = _edge_list(edges, nodes)
    V = len(nodes)
    adj = [[] for _ in range(V)]
    for e, (a, b) in enumerate(zip(tail, head)):
        adj[a].append((b, e))
        adj[b].append((a, e))
    parent, pedge, depth = [-1] * V, [-1] * V, [-1] * V
    tree = set()
    for root in range(V):
        if depth[root] >= 0:
            continue
        depth[root] = 0
        queue = [root]
        for x in queue:
            for y, e in adj[x]:
                if depth[y] < 0:
                    depth[y], parent[y], pedge[y] = depth[x] + 1, x, e
                    tree.add(e)
                    queue.append(y)
    loops = [e for e in range(len(edges)) if e not in tree]
    A = np.zeros((len(edges), len(loops)))
    for col, e in enumerate(loops):
        A[e, col] = 1.0
        # the loop runs tail -> head along e, then back from head to tail through the tree
        x, y = int(head[e]), int(tail[e])
        while x != y:
            if depth[x] >= depth[y]:  # step x up: the tree edge is traversed x -> parent(x)
                k = pedge[x]
                A[k, col] += 1.0 if tail[k] == x else -1.0
                x = parent[x]
            else:  # step y up: traversed parent(y) -> y
                k = pedge[y]
                A[k, col] += 1.0 if head[k] == y else -1.0
                y = parent[y]
    return A


def loop_projector(edges, nodes=None) -> np.ndarray:
    """The loop (cycle-space) projector Omega = I - B^T (B B^T)^+ B (E x E, dense).

    Computed with one grounded node per connected component (B B^T restricted to the other
    nodes is positive definite): no pseudo-inverse, O(V^3 + E^2 V)."""
    return np.eye(len(list(edges))) - cut_projector(edges, nodes)


def cut_projector(edges, nodes=None) -> np.ndarray:
    """The cut-space projector I - Omega = B^T (B B^T)^+ B (E x E, dense)."""
    B = incidence_matrix(edges, nodes)
    keep = _non_ground(B)
    Br = B[keep].toarray()
    if Br.shape[0] == 0:
        return np.zeros((B.shape[1], B.shape[1]))
    return Br.T @ np.linalg.solve(Br @ Br.T, Br)


def _non_ground(B) -> np.ndarray:
    """Mask of the nodes that are not the first node of their connected component."""
    V = B.shape[0]
    adj = (abs(B) @ abs(B).T).tocsr()
    _, labels = connected_components(adj, directed=False)
    keep = np.ones(V, dtype=bool)
    _, first = np.unique(labels, return_index=True)
    keep[first] = False
    return keep


def _cg_iterations(B) -> int:
    """The CG iteration estimate 10 d + 30 of the auto solver (see CG_COST)."""
    adj = (abs(B) @ abs(B).T).tocsr()
    _, labels = connected_components(adj, directed=False)
    start = int(np.argmax(labels == np.bincount(labels).argmax()))
    d = shortest_path(adj, indices=start, unweighted=True)
    return int(10 * d[np.isfinite(d)].max() + 30)


def single_threshold(R_on, R_off, alpha, beta, S) -> float:
    """Threshold of one memristor on a loop with source S (Omega = 1):
    ``w* = (-1 + sqrt(1 + 4 xi S / (alpha beta))) / (2 xi)``, the zero of
    ``alpha w - S / (beta (1 + xi w))``: unstable for "growth", stable for "decay"."""
    xi = (R_off - R_on) / R_on
    return (-1.0 + math.sqrt(1.0 + 4.0 * xi * S / (alpha * beta))) / (2.0 * xi)


# -- the model -------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class Memristive(Model):
    """A network of memristors with series voltage sources (CTD 2017), or a population.

    State: the memory w (E,), one entry per edge in the order of ``edges``. Outputs: the
    memories as the circuit sees them, ``min(max(w, 0), 1)`` (E,). Inputs: u_k (volts) adds to
    the source of edge ``input_edges[k]`` (time-dependent drive through ``rd.simulate``'s
    ``inputs=``). Parameter vector fields: R_on, R_off, alpha, beta, S (each (E,)).

    Parameters
    ----------
    edges : sequence of (tail, head) or (tail, head, key)
        The memristors; the direction is the polarity and the positive direction of current
        and source. Parallel edges and self-loops are allowed.
    convention : {"growth", "decay"}
        Sign convention, required: "growth" is CTD's ``dw/dt = alpha w - (R_on/beta) i``
        (threshold unstable), "decay" is ``dw/dt = -alpha w + (R_on/beta) i`` (stable).
    R_on, R_off : float or array (E,) / (P, E)
        Resistances at w = 0 and w = 1 (ohm), 0 < R_on < R_off. Defaults 1 and 10.
    alpha : float or array (E,) / (P, E)
        Memory rate (1/time), >= 0. Default 0.1 (the literature's reference value).
    beta : float or array (E,) / (P, E)
        Memory inertia (volt time), > 0. Default 10 (the literature's reference value).
    S : float, array (E,) / (P, E) or dict {edge: volts}
        Constant source voltages in series with the edges. Default 0.
    input_edges : sequence of edges, optional
        Edges whose source also gets an input u_k(t) added.
    nodes : sequence, optional
        Node order (default: first appearance in ``edges``; ``from_graph``: the graph's).
    solver : {"auto", "banded", "cg"}
        Linear solver of the nodal equations in the rhs (see the module docstring).
    graph_attrs : dict, optional
        Other graph-level attributes, kept for ``to_graph``.

    Raises
    ------
    ValidationError
        Naming the edge: R_on <= 0, R_off <= R_on, alpha < 0, beta <= 0, a non-finite value,
        a source or input on an edge that is not in ``edges``; an unknown convention.

    Warns
    -----
    NoCycleWarning
        When the graph has no cycle (no current can flow: the dynamics is trivial).
    """

    edges: tuple
    convention: str
    R_on: np.ndarray = 1.0
    R_off: np.ndarray = 10.0
    alpha: np.ndarray = 0.1
    beta: np.ndarray = 10.0
    S: np.ndarray = 0.0
    input_edges: tuple = ()
    nodes: tuple | None = None
    solver: str = "auto"
    graph_attrs: dict = field(default_factory=dict)

    kind = "flow"
    _batched = _FIELDS
    _params = _FIELDS
    _bounds = {"R_on": 0.0, "beta": 0.0}

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        name = "Memristive"
        try:
            edges = tuple(tuple(e) for e in self.edges)
        except TypeError:
            raise ValidationError(f"{name}.edges", "expected a sequence of (tail, head) pairs, "
                                  f"got {self.edges!r}", self.edges) from None
        if not edges or any(len(e) not in (2, 3) for e in edges):
            raise ValidationError(f"{name}.edges", "expected a non-empty sequence of (tail, "
                                  "head) or (tail, head, key) tuples", self.edges)
        if len(set(edges)) != len(edges):
            dup = next(e for e in edges if edges.count(e) > 1)
            raise ValidationError(f"{name}.edges", f"edge {dup!r} is listed twice; give "
                                  "parallel memristors distinct keys (tail, head, key)", edges)
        set_("edges", edges)
        if self.convention not in CONVENTIONS:
            raise ValidationError(f"{name}.convention", f"got {self.convention!r}; choose "
                                  "'growth' (CTD 2017: dw/dt = alpha w - (R_on/beta) i) or "
                                  "'decay' (dw/dt = -alpha w + (R_on/beta) i)", self.convention)
        if self.solver not in SOLVERS:
            raise ValidationError(f"{name}.solver", f"got {self.solver!r}; choose one of "
                                  f"{list(SOLVERS)}", self.solver)
        ends = list(dict.fromkeys(v for e in edges for v in e[:2]))
        nodes = tuple(ends if self.nodes is None else self.nodes)
        known = set(nodes)
        for e in edges:
            if e[0] not in known or e[1] not in known:
                raise ValidationError(f"{name}.nodes", f"edge {e!r} has an end that is not in "
                                      "nodes; list every node", self.nodes)
        set_("nodes", nodes)
        self._index  # noqa: B018 (built now: every edge lookup below uses it)
        S = self.S
        lead = None
        for f in ("R_on", "R_off", "alpha", "beta") + (() if isinstance(S, dict) else ("S",)):
            a = as_array(getattr(self, f), f"{name}.{f}")
            if a.ndim > 0 and a.shape[-1] != len(edges) or a.ndim > 2:
                raise ValidationError(f"{name}.{f}", f"expected a number or an array of shape "
                                      f"(E,) or (P, E) with E = {len(edges)}, got {a.shape}", a)
            if a.ndim == 2:
                if lead not in (None, a.shape[:1]):
                    raise ValidationError(f"{name}.{f}", f"population size {a.shape[0]} differs"
                                          f" from {lead[0]} of another field", a)
                lead = a.shape[:1]
            set_(f, a)
        if isinstance(S, dict):
            s = np.zeros(len(edges))
            for e, v in S.items():
                s[self._edge(e, f"{name}.S")] = float(v)
            set_("S", s)
        lead = lead or ()
        for f in _FIELDS:
            a = np.array(np.broadcast_to(getattr(self, f), lead + (len(edges),)), dtype=float)
            a.flags.writeable = False
            set_(f, a)
        self._check(self.R_on, "R_on", ~np.isfinite(self.R_on) | (self.R_on <= 0), "must be > 0")
        self._check(self.R_off, "R_off", ~np.isfinite(self.R_off) | (self.R_off <= self.R_on),
                    "must be > R_on (R_off is the resistance at w = 1)", self.R_on)
        self._check(self.alpha, "alpha", ~np.isfinite(self.alpha) | (self.alpha < 0),
                    "must be >= 0 (the sign is the convention's)")
        self._check(self.beta, "beta", ~np.isfinite(self.beta) | (self.beta <= 0),
                    "must be > 0")
        self._check(self.S, "S", ~np.isfinite(self.S), "must be finite")
        set_("input_edges", tuple(tuple(e) for e in self.input_edges))
        for e in self.input_edges:
            self._edge(e, f"{name}.input_edges")
        set_("graph_attrs", dict(self.graph_attrs))
        if self.n_loops == 0:
            warn(f"Memristive: the graph ({len(edges)} edges, {len(nodes)} nodes) has "
                          "no cycle, so no current flows and dw/dt = alpha w: add edges that "
                          "close loops", NoCycleWarning)

    def _check(self, a, f, bad, why, other=None):
        if np.any(bad):
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            member = f" of member {where[0]}" if a.ndim == 2 else ""
            extra = f" (R_on = {other[where]})" if other is not None else ""
            raise ValidationError(f"Memristive.{f}", f"{why}, got {a[where]}{extra} at edge "
                                  f"{self.edges[where[-1]]!r}{member}", a)

    @cached_property
    def _index(self) -> dict:
        return {e: k for k, e in enumerate(self.edges)}

    def _edge(self, e, where) -> int:
        k = self._index.get(tuple(e) if isinstance(e, (tuple, list)) else e)
        if k is None:
            raise ValidationError(where, f"edge {e!r} is not in the graph; edges run "
                                  f"(tail, head) as listed in .edges, e.g. {self.edges[0]!r}", e)
        return k

    # -- structure (topology only; shared by a population) --------------------------------
    @cached_property
    def _topology(self) -> dict:
        edges, nodes, tail, head = _edge_list(self.edges, self.nodes)
        V, E = len(nodes), len(edges)
        B = incidence_matrix(edges, nodes)
        keep = _non_ground(B)
        n = int(keep.sum())
        red = -np.ones(V, dtype=np.int64)
        red[keep] = np.arange(n)
        # reverse Cuthill-McKee order of the reduced nodes keeps the Cholesky band narrow
        Br = B[keep]
        pattern = (abs(Br) @ abs(Br).T).tocsr()
        order = reverse_cuthill_mckee(pattern, symmetric_mode=True) if n else np.zeros(0, int)
        pos = np.full(V + 1, -1, dtype=np.int64)  # pos[-1] = -1: a ground node
        pos[order] = np.arange(n)
        topo = np.stack([pos[red[tail]], pos[red[head]]], axis=1)
        both = (topo[:, 0] >= 0) & (topo[:, 1] >= 0)
        band = int(np.abs(topo[both, 0] - topo[both, 1]).max()) if both.any() else 0
        solver = self.solver
        if solver == "auto":
            solver = "banded" if n * band * band <= CG_COST * E * _cg_iterations(B) else "cg"
        return dict(B=B, keep=keep, n=n, topo=np.ascontiguousarray(topo), band=band,
                    solver=solver, components=V - n)

    @property
    def n_loops(self) -> int:
        """L = E - V + c, the dimension of the cycle space (independent loops)."""
        return len(self.edges) - len(self.nodes) + self._topology["components"]

    @property
    def chosen_solver(self) -> str:
        """The nodal solver the rhs uses ("banded" or "cg")."""
        return self._topology["solver"]

    # -- protocol -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.edges)

    @property
    def n_in(self) -> int:
        return len(self.input_edges)

    @property
    def P(self) -> int | None:
        return self.R_on.shape[0] if self.R_on.ndim == 2 else None

    @property
    def _functions(self) -> Functions:
        return FUNCTIONS

    @cached_property
    def kernel_params(self):
        top = self._topology
        A = np.ascontiguousarray(np.stack([getattr(self, f) for f in _FIELDS], axis=-1))
        A.flags.writeable = False
        inp = np.array([self._index[e] for e in self.input_edges], dtype=np.int64)
        band = top["band"] if top["solver"] == "banded" else 0
        cfg = np.array([1 if self.convention == "growth" else -1,
                        _K.BANDED if top["solver"] == "banded" else _K.CG, band, top["n"]],
                       dtype=np.int64)
        return (A, top["topo"], inp, cfg)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_graph(cls, G, *, convention: str | None = None, **kwargs) -> "Memristive":
        """Build from a networkx graph: one memristor per edge (``G.edges`` order and
        direction; a MultiGraph's parallel edges are (tail, head, key)).

        Edge attributes ``R_on``, ``R_off``, ``alpha``, ``beta``, ``source`` override the
        keyword values (defaults as in the class). ``convention`` must be given here or as
        ``G.graph["convention"]`` (``to_graph`` stores it); ``input_edges`` and ``solver``
        likewise.
        """
        convention = convention or G.graph.get("convention")
        if convention is None:
            raise ValidationError("Memristive.from_graph.convention", "choose 'growth' (CTD "
                                  "2017) or 'decay' explicitly: the two differ in the sign of "
                                  "the dynamics", None)
        data = list(G.edges(keys=True, data=True) if G.is_multigraph() else G.edges(data=True))
        if data and all("index" in d[-1] for d in data):  # the edge order of to_graph
            data.sort(key=lambda d: d[-1]["index"])
        edges = [d[:-1] for d in data]
        arrays = {}
        for f, attr in zip(_FIELDS, ("R_on", "R_off", "alpha", "beta", "source")):
            default = kwargs.pop(f, None)
            default = getattr(cls, f) if default is None else default
            if isinstance(default, dict):  # {edge: value}
                index = {tuple(e): k for k, e in enumerate(edges)}
                base = np.zeros(len(edges))
                for e, v in default.items():
                    if tuple(e) not in index:
                        raise ValidationError(f"Memristive.{f}", f"edge {e!r} is not in the "
                                              "graph; name edges as G.edges lists them", e)
                    base[index[tuple(e)]] = float(v)
            base = np.broadcast_to(np.asarray(default if not isinstance(default, dict) else
                                              base, dtype=float), (len(edges),))
            arrays[f] = np.array([d[-1].get(attr, base[k]) for k, d in enumerate(data)],
                                 dtype=float)
        attrs = {k: v for k, v in G.graph.items()
                 if k not in ("convention", "input_edges", "solver")}
        inputs = kwargs.pop("input_edges", G.graph.get("input_edges", ()))
        kwargs.setdefault("solver", G.graph.get("solver", "auto"))
        return cls(edges=edges, convention=convention, nodes=tuple(G.nodes),
                   input_edges=tuple(tuple(e) for e in inputs), graph_attrs=attrs,
                   **arrays, **kwargs)

    def to_graph(self):
        """The circuit as a networkx (Multi)DiGraph with edge attributes R_on, R_off, alpha,
        beta, source and index (the edge's state position; single models only)."""
        self._single("to_graph")
        multi = any(len(e) == 3 for e in self.edges)
        G = nx.MultiDiGraph() if multi else nx.DiGraph()
        G.add_nodes_from(self.nodes)
        for k, e in enumerate(self.edges):
            attrs = dict(index=k, R_on=float(self.R_on[k]), R_off=float(self.R_off[k]),
                         alpha=float(self.alpha[k]), beta=float(self.beta[k]),
                         source=float(self.S[k]))
            if multi:
                G.add_edge(e[0], e[1], key=e[2] if len(e) == 3 else None, **attrs)
            else:
                G.add_edge(e[0], e[1], **attrs)
        G.graph.update(self.graph_attrs)
        G.graph["convention"] = self.convention
        G.graph["input_edges"] = list(self.input_edges)
        G.graph["solver"] = self.solver
        return G

    # -- topology ------------------------------------------------------------------------
    def incidence_matrix(self) -> sp.csr_matrix:
        """B (V x E, sparse), rows in ``nodes`` order."""
        return self._topology["B"]

    def cycle_matrix(self) -> np.ndarray:
        """A fundamental cycle matrix (E x L); see :func:`cycle_matrix`."""
        return cycle_matrix(self.edges, self.nodes)

    @cached_property
    def Omega(self) -> np.ndarray:
        """The loop projector (E x E, dense, read-only); see :func:`loop_projector`."""
        Om = loop_projector(self.edges, self.nodes)
        Om.flags.writeable = False
        return Om

    def cut_projector(self) -> np.ndarray:
        """I - Omega (E x E, dense)."""
        return np.eye(self.n) - self.Omega

    # -- circuit quantities ---------------------------------------------------------------
    def _w(self, w, where) -> np.ndarray:
        self._single(where)
        w = as_array(w, f"Memristive.{where}.w", (self.n,))
        bad = ~((w >= 0) & (w <= 1))
        if bad.any():
            k = int(np.argmax(bad))
            raise ValidationError(f"Memristive.{where}.w", f"memory must be in [0, 1], got "
                                  f"{w[k]} at edge {self.edges[k]!r}", w)
        return w.copy()

    def sources(self, u=None) -> np.ndarray:
        """The source voltages (E,): S plus the inputs on their edges."""
        s = np.array(self.S, dtype=float)
        np.add.at(s, [self._index[e] for e in self.input_edges], self._u(u))
        return s

    def resistances(self, w) -> np.ndarray:
        """R(w) = R_on (1 - w) + R_off w (E,)."""
        w = self._w(w, "resistances")
        return self.R_on * (1 - w) + self.R_off * w

    def currents(self, w, u=None, method: str = "solver") -> np.ndarray:
        """Edge currents (E,) at memory w under input u (amperes, along the edges).

        method : {"solver", "projector", "nodal"}
            "solver": the rhs's own nodal solver (banded Cholesky or CG); "projector": CTD's
            form ``(I - Omega + Omega R)^-1 Omega S`` with a dense E x E solve (a reference);
            "nodal": Kirchhoff's node equations with ``scipy.sparse.linalg.spsolve``.
        """
        w = self._w(w, "currents")
        s = self.sources(u)
        if method == "solver":
            p = self.kernel_params
            cur = np.empty(self.n)
            _K.currents(w, self._u(u), p, cur, np.empty(_K.work_size(p)))
            if not np.all(np.isfinite(cur)):
                raise ConvergenceError("Memristive.currents: conjugate gradients did not "
                                       "converge; use solver='banded'")
            return cur
        R = self.R_on * (1 - w) + self.R_off * w
        if method == "projector":
            Om = self.Omega
            M = np.eye(self.n) - Om + Om * R[None, :]
            return np.linalg.solve(M, Om @ s)
        if method == "nodal":
            top = self._topology
            Br = top["B"][top["keep"]]
            G = sp.diags(1.0 / R)
            if Br.shape[0] == 0:
                return s / R
            phi = spsolve((Br @ G @ Br.T).tocsc(), -(Br @ (s / R)))
            return (Br.T @ np.atleast_1d(phi) + s) / R
        raise ValidationError("Memristive.currents.method", f"got {method!r}; choose "
                              "'solver', 'projector' or 'nodal'", method)

    def uniform_init(self, where):
        for f in ("R_on", "R_off", "alpha", "beta"):
            a = getattr(self, f)
            if not np.all(a == a[0]):
                raise ValidationError(f"Memristive.{where}", f"{f} differs between edges; the "
                                      "Lyapunov function exists for uniform R_on, R_off, "
                                      "alpha and beta", a)

    def energy(self, w, u=None) -> float:
        """The Lyapunov function of the DC-driven network (uniform parameters, constant
        sources S + u), non-increasing along trajectories inside [0, 1]^E:

        ``L = -(alpha/3) sum w^3 - (alpha xi/4) sum_ij Omega_ij w_i^2 w_j^2
        + (1/(2 beta)) sum_i w_i^2 (Omega S)_i`` ("growth"; its negative for "decay").
        """
        w = self._w(w, "energy")
        self.uniform_init("energy")
        a, b = self.alpha[0], self.beta[0]
        xi = (self.R_off[0] - self.R_on[0]) / self.R_on[0]
        w2 = w * w
        L = -a / 3 * np.sum(w2 * w) - a * xi / 4 * w2 @ self.Omega @ w2 + \
            w2 @ (self.Omega @ self.sources(u)) / (2 * b)
        return float(L if self.convention == "growth" else -L)

    def energy_gradient(self, w, u=None) -> np.ndarray:
        """grad L (E,) of :meth:`energy`; ``W (I + xi Omega W) dw/dt = -grad L`` ("growth")."""
        w = self._w(w, "energy_gradient")
        self.uniform_init("energy_gradient")
        a, b = self.alpha[0], self.beta[0]
        xi = (self.R_off[0] - self.R_on[0]) / self.R_on[0]
        g = -a * w * w - a * xi * w * (self.Omega @ (w * w)) + w * (self.Omega @
                                                                    self.sources(u)) / b
        return g if self.convention == "growth" else -g

    def cut_component(self, w) -> np.ndarray:
        """(I - Omega) w (E,): evolves as exp(+-alpha t) (I - Omega) w(0) whatever the
        sources, when alpha and R_on/beta are uniform and no memory is clipped (the
        conservation law; exactly conserved for alpha = 0)."""
        return self.cut_projector() @ as_array(w, "Memristive.cut_component.w", (self.n,))

    def rhs(self, t: float, y, u=None) -> np.ndarray:
        """dw/dt (E,) at memory y in [0, 1]^E (a ValidationError names an edge outside)."""
        return super().rhs(t, self._w(y, "rhs"), u)

    def random_state(self, seed=None, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        """Memories drawn uniformly from [low, high] (E,)."""
        from .._validate import check_seed

        return check_seed(seed).uniform(low, high, self.n)


def lattice(rows: int, cols: int) -> list:
    """Edges of a rows x cols square lattice (nodes (r, c)), oriented right and down."""
    return list(nx.grid_2d_graph(rows, cols).edges())


__all__ = ["Memristive", "NoCycleWarning", "incidence_matrix", "cycle_matrix",
           "loop_projector", "cut_projector", "single_threshold", "CONVENTIONS", "lattice"]

