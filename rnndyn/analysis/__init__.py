"""Dynamical analysis of any model through the model protocol (``rnndyn.models.base``).

Fixed and slow points with stability, orbit classification, orbit diagrams, continuation
with bifurcation detection, basins of attraction, linear response and spectra, Lyapunov
exponents, and gradient-norm diagnostics of discrete cells.
"""
from .basins import BasinMap, basins
from .bifurcation import (Bifurcation, Branch, OrbitClass, OrbitDiagram, classify_orbit,
                          continuation, orbit_diagram)
from .fixed_points import (FixedPoints, FixedPointWarning, classify, find_fixed_points,
                           jacobian_eigenvalues, random_starts, vector_field)
from .response import autocorrelation, frequency_response, impulse_response, power_spectrum

__all__ = ["find_fixed_points", "FixedPoints", "FixedPointWarning", "classify", "jacobian_eigenvalues",
           "random_starts", "vector_field", "classify_orbit", "OrbitClass", "orbit_diagram", "OrbitDiagram",
           "continuation", "Branch", "Bifurcation", "basins", "BasinMap", "impulse_response",
           "frequency_response", "power_spectrum", "autocorrelation"]
from .lyapunov import (LyapunovResult, kaplan_yorke_dimension, ks_entropy,  # noqa: E402
                       largest_lyapunov, lyapunov_spectrum)
from .gradients import jacobian_product_norms  # noqa: E402
from ..errors import ConvergenceWarning  # noqa: E402

__all__ += ["lyapunov_spectrum", "largest_lyapunov", "kaplan_yorke_dimension", "ks_entropy",
            "LyapunovResult", "ConvergenceWarning", "jacobian_product_norms"]
from .reservoir import (EchoStateCheck, MemoryCapacity, conditional_lyapunov,  # noqa: E402
                        echo_state_check, memory_capacity, nmse, nrmse)

__all__ += ["memory_capacity", "MemoryCapacity", "echo_state_check", "EchoStateCheck",
            "conditional_lyapunov", "nrmse", "nmse"]
