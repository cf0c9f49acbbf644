"""Integration: ``simulate`` for whole trajectories, ``Stepper`` for tick-by-tick control."""
from .simulate import METHODS, Trajectory, simulate
from .stepper import Stepper

__all__ = ["simulate", "Trajectory", "Stepper", "METHODS"]
