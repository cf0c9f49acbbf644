"""Integration: ``simulate`` for whole trajectories of any model, ``run`` for discrete cells
over batched sequences, ``Stepper``/``DiscreteStepper`` for tick-by-tick control."""
from .run import DiscreteStepper, RunResult, run
from .simulate import METHODS, Trajectory, simulate
from .stepper import Stepper

__all__ = ["simulate", "Trajectory", "Stepper", "METHODS", "run", "RunResult",
           "DiscreteStepper"]
