"""Network topology: building, converting, validating and storing graphs.

The one place in rnndyn that builds and reads networkx graphs. Conventions: a
:class:`networkx.DiGraph` edge ``(j, i)`` carries ``weight=W[i, j]`` (row = target);
nodes carry ``tau``, ``bias``, ``gain`` and ``role`` ("input", "hidden", "output");
``G.graph["activation"]`` is "sigmoid" or "tanh". Input nodes are not state variables:
their edges form the input matrix ``W_in``.

:func:`to_arrays` numbers the units by sorted node id when the ids are all ints or all
strings (else in insertion order), unless ``nodelist=`` says otherwise. :func:`save` writes
a graph, a model (anything with ``to_graph()``), or a population / list as one file;
:func:`load` returns a graph, or a list of graphs for the latter (rebuild a population with
``CTRNN.stack([CTRNN.from_graph(g) for g in graphs])``).
"""
from .convert import NetworkArrays, from_arrays, from_weights, to_arrays, to_weights
from .generators import (
    center_crossing,
    ctrnn_network,
    erdos_renyi,
    fully_connected,
    modular,
    random_network,
    ring,
    small_world,
)
from .io import load, save
from .validate import validate_graph

__all__ = [
    "NetworkArrays",
    "to_arrays",
    "from_arrays",
    "to_weights",
    "from_weights",
    "validate_graph",
    "random_network",
    "erdos_renyi",
    "small_world",
    "ring",
    "modular",
    "fully_connected",
    "center_crossing",
    "ctrnn_network",
    "save",
    "load",
]
