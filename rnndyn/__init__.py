"""rnndyn: recurrent neural networks as dynamical systems — simulate, train, analyse."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rnndyn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from . import errors, graphs, models, integrate  # noqa: E402  (version first: io.py reads it)
from .errors import ConvergenceError, DivergenceError, RnndynError, ValidationError  # noqa: E402
from .integrate import Stepper, Trajectory, simulate  # noqa: E402
from .models import CTRNN, Flow, Map, logistic_map, lorenz  # noqa: E402

__all__ = ["graphs", "models", "integrate", "errors", "CTRNN", "Flow", "Map", "lorenz",
           "logistic_map", "simulate", "Trajectory", "Stepper", "RnndynError",
           "ValidationError", "DivergenceError", "ConvergenceError", "__version__"]
