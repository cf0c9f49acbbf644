"""Parameter containers and pure dynamics, one file per family (DESIGN.md §3)."""
from .base import Kernels, Model
from .ctrnn import ACTIVATIONS, CTRNN
from .user import Flow, Map, logistic_map, lorenz

__all__ = ["Kernels", "Model", "CTRNN", "ACTIVATIONS", "Flow", "Map", "lorenz", "logistic_map"]
