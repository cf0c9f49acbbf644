"""Multiple-timescale recurrent neural networks (Yamashita & Tani 2008, PLoS Comput Biol
4(11):e1000220, DOI 10.1371/journal.pcbi.1000220).

An MTRNN is a CTRNN whose units form groups sharing a time constant: input-output units
(tau = 2 in the paper), fast context units (tau = 5) and slow context units (tau = 70). The
slow units reach the input-output units only through the fast ones, so the fast group
encodes motor primitives and the slow group their sequencing. The constructors here return
a plain ``CTRNN`` (with per-unit tau and a topology mask), so populations, ``Stepper``,
analysis and JSON work unchanged; the group of each unit is kept in the graph attribute
``groups`` (a list of group names in unit order) and read back by ``group_indices``.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_seed, positive, positive_int
from ..errors import ValidationError
from .ctrnn import CTRNN

#: the paper's time constants (Yamashita & Tani 2008, "Materials and Methods")
PAPER_TAU = {"io": 2.0, "fast": 5.0, "slow": 70.0}
#: which group projects to which (source -> targets): slow and io meet only through fast
PAPER_WIRING = {"io": ("io", "fast"), "fast": ("io", "fast", "slow"), "slow": ("fast", "slow")}


def grouped_ctrnn(W, groups, tau: dict, **kwargs) -> CTRNN:
    """A CTRNN whose unit i has the time constant ``tau[groups[i]]``.

    Parameters
    ----------
    W : array (n, n)
        Recurrent weights, row = target.
    groups : sequence of str, length n
        Group name of every unit.
    tau : dict
        Time constant (> 0) of every group named in ``groups``.
    **kwargs
        Further CTRNN fields (bias, gain, W_in, activation, outputs, mask, ...).

    Raises
    ------
    ValidationError
        If ``groups`` has the wrong length or names a group without a time constant.
    """
    groups = tuple(str(g) for g in groups)
    n = np.shape(W)[-1]
    if len(groups) != n:
        raise ValidationError("grouped_ctrnn.groups", f"needs one group per unit ({n}), got "
                              f"{len(groups)}", groups)
    missing = sorted(set(groups) - set(tau))
    if missing:
        raise ValidationError("grouped_ctrnn.tau", f"has no time constant for group(s) "
                              f"{missing}; give tau={{name: value}} for every group", tau)
    taus = {g: positive(v, f"grouped_ctrnn.tau[{g!r}]") for g, v in tau.items()}
    attrs = dict(kwargs.pop("graph_attrs", {}), groups=list(groups))
    return CTRNN(W=W, tau=np.array([taus[g] for g in groups]), graph_attrs=attrs, **kwargs)


def from_graph(G, tau: dict | None = None, nodelist=None, input_nodes=None) -> CTRNN:
    """A grouped CTRNN from a graph whose state nodes carry the attribute ``group`` (else
    the graph attribute ``groups``, a list in unit order, as ``CTRNN.to_graph`` writes it).

    Time constants: ``tau[group]`` when given (overriding the nodes' ``tau``), else every
    node's own ``tau`` (which must then agree within each group).
    """
    net = CTRNN.from_graph(G, nodelist=nodelist, input_nodes=input_nodes)
    nodes = net.nodes
    bad = [v for v in nodes if "group" not in G.nodes[v]]
    if not bad:
        groups = [str(G.nodes[v]["group"]) for v in nodes]
    elif len(net.graph_attrs.get("groups", ())) == net.n:
        groups = [str(g) for g in net.graph_attrs["groups"]]
    else:
        raise ValidationError("mtrnn.from_graph", f"state node(s) {bad[:5]} have no 'group' "
                              "attribute; set G.nodes[v]['group'] for every state node", G)
    if tau is None:
        tau = {}
        for g, t in zip(groups, net.tau):
            if tau.setdefault(g, float(t)) != float(t):
                raise ValidationError("mtrnn.from_graph", f"group {g!r} mixes time constants "
                                      f"{tau[g]} and {float(t)}; make them equal or pass tau=",
                                      G)
    return grouped_ctrnn(net.W, groups, tau, bias=net.bias, gain=net.gain, W_in=net.W_in,
                         activation=net.activation, outputs=net.outputs, mask=net.mask,
                         input_mask=net.input_mask, nodes=nodes, input_nodes=net.input_nodes,
                         graph_attrs={k: v for k, v in net.graph_attrs.items()
                                      if k != "groups"})


def group_indices(net: CTRNN) -> dict:
    """``{group: unit indices}`` of a CTRNN built here (from its ``groups`` attribute)."""
    groups = net.graph_attrs.get("groups")
    if groups is None:
        raise ValidationError("group_indices.net", "this CTRNN has no 'groups' graph "
                              "attribute; build it with mtrnn() or grouped_ctrnn()", net)
    out: dict = {}
    for i, g in enumerate(groups):
        out.setdefault(g, []).append(i)
    return {g: np.array(v) for g, v in out.items()}


def mtrnn(n_io: int, n_fast: int, n_slow: int, n_in: int | None = None, *,
          tau: dict | None = None, weight_scale: float = 1.0, activation: str = "tanh",
          seed=None) -> CTRNN:
    """A multiple-timescale RNN wired as in Yamashita & Tani (2008).

    Units in order: ``n_io`` input-output units, ``n_fast`` fast context units, ``n_slow``
    slow context units. Connections (``PAPER_WIRING``): io <-> io, io <-> fast, fast <-> fast,
    fast <-> slow, slow <-> slow; io and slow are not connected. External inputs (``n_in``,
    default ``n_io``) drive the io units only, one to one when ``n_in == n_io``, else
    densely; the outputs are the io units' rates. Weights ~ N(0, weight_scale^2 / fan_in).

    Parameters
    ----------
    n_io, n_fast, n_slow : int
        Group sizes (the paper: as many io units as sensorimotor channels, 60 fast, 20 slow).
    n_in : int, optional
        Input width. Default ``n_io``.
    tau : dict, optional
        ``{"io": ..., "fast": ..., "slow": ...}``; default ``PAPER_TAU`` (2, 5, 70).
    weight_scale : float
        Gain of the random weights (>= 0).
    activation : {"tanh", "sigmoid"}
    seed : int, Generator or None

    Returns
    -------
    CTRNN
        With per-unit tau, the paper's topology as ``mask`` and the groups in
        ``graph_attrs["groups"]``.
    """
    sizes = {"io": positive_int(n_io, "mtrnn.n_io"), "fast": positive_int(n_fast, "mtrnn.n_fast"),
             "slow": positive_int(n_slow, "mtrnn.n_slow")}
    n_in = sizes["io"] if n_in is None else positive_int(n_in, "mtrnn.n_in", minimum=0)
    tau = dict(PAPER_TAU if tau is None else tau)
    scale = positive(weight_scale, "mtrnn.weight_scale", allow_zero=True)
    rng = check_seed(seed, "mtrnn.seed")
    groups = [g for g in ("io", "fast", "slow") for _ in range(sizes[g])]
    labels = np.array(groups)
    mask = np.zeros((len(groups), len(groups)), bool)
    for src, targets in PAPER_WIRING.items():
        for dst in targets:
            mask[np.ix_(labels == dst, labels == src)] = True
    fan_in = mask.sum(axis=1, keepdims=True)
    W = rng.standard_normal(mask.shape) * scale / np.sqrt(fan_in) * mask
    io = labels == "io"
    input_mask = np.zeros((len(groups), n_in), bool)
    input_mask[io] = np.eye(sizes["io"], n_in, dtype=bool) if n_in == sizes["io"] else True
    W_in = np.where(input_mask, 1.0 if n_in == sizes["io"] else
                    rng.standard_normal(input_mask.shape) / np.sqrt(max(n_in, 1)), 0.0)
    return grouped_ctrnn(W, groups, tau, W_in=W_in, mask=mask, input_mask=input_mask,
                         activation=activation, outputs=tuple(np.flatnonzero(io).tolist()))
