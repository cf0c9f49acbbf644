"""rnndyn: recurrent neural networks as dynamical systems.

Build networks as networkx graphs (``rnndyn.graphs``) or arrays (``rnndyn.models``),
simulate them (``rnndyn.simulate``, ``rnndyn.run``, ``rnndyn.Stepper``), analyse them
(``rnndyn.analysis``: Lyapunov spectra, fixed points, bifurcations, basins, responses), and
differentiate them with respect to their parameters (``model.to_vector``, ``model.vjp``,
``model.param_jacobian``), train them (``rnndyn.train``: BPTT, RTRL, CRBP, optimizers and a
training loop; GA, annealing, PSO, CMA-ES; reservoir readouts), and evolve controllers for
simulated agents (``rnndyn.robotics``). Tasks and time series: ``rnndyn.tasks``.
"""
import sys
from importlib.metadata import PackageNotFoundError, version

from . import _config  # noqa: F401  (first: it sets numba's vector width before any compile)

try:
    __version__ = version("rnndyn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from . import errors, graphs, models, integrate, analysis, train, tasks, robotics  # noqa: E402
from .errors import (ConvergenceError, ConvergenceWarning, DivergenceError,  # noqa: E402
                     RnndynError, StabilityWarning, ValidationError)
from ._jit import refresh_kernel_caches as _refresh  # noqa: E402
from .integrate import DiscreteStepper, Stepper, Trajectory, run, simulate  # noqa: E402
from .models import (BAM, CTRNN, ESN, GRU, DeepESN, IIRMLP, LSM, LSTM, Bidirectional,  # noqa: E402
                     BidirectionalStack, ContinuousHopfield, Elman, ESNFlow, Flow,
                     FullyRecurrent, Hopfield, IndRNN, Jordan, Map, Memristive, ModernHopfield, NTM,
                     RecursiveNet, NNPDA, ClockworkRNN, DNC,
                     SecondOrderRNN, Stacked, logistic_map, lorenz, rmlp, rossler)

__all__ = ["graphs", "models", "integrate", "analysis", "train", "tasks", "robotics", "errors",
           "CTRNN", "Flow", "Map", "lorenz", "logistic_map", "Elman", "FullyRecurrent", "Jordan",
           "IndRNN", "SecondOrderRNN", "LSTM", "GRU", "Stacked", "Bidirectional",
           "BidirectionalStack", "rmlp", "Memristive", "ESN", "ESNFlow", "DeepESN", "LSM", "rossler",
           "Hopfield", "ContinuousHopfield", "ModernHopfield", "BAM", "IIRMLP", "NTM", "RecursiveNet", "NNPDA", "ClockworkRNN", "DNC",
           "simulate",
           "Trajectory", "Stepper", "run", "DiscreteStepper", "RnndynError", "ValidationError",
           "DivergenceError", "ConvergenceError", "ConvergenceWarning", "StabilityWarning",
           "__version__"]

# before any kernel runs: numba would keep the code a kernel module compiled from an older
# version of a file it imports (rnndyn/_jit.py); _kernels is otherwise imported by the
# generated template modules only
from . import _kernels  # noqa: E402,F401
_refresh([m for name, m in list(sys.modules.items()) if name.startswith("rnndyn.")])


def __getattr__(name):
    # rd.plot imports matplotlib only when first used
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'rnndyn' has no attribute {name!r}")
