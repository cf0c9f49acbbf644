"""The internal API of ``rnndyn.integrate`` for the layers above it (analysis, training,
robotics): everything they need to check arguments the way ``simulate`` and ``run`` do and to
run the compiled integrators, under names that stay put when the integrators' modules change.
"""
from ._common import check_model, initial_state, integrator
from .run import cast_params, sequence_inputs
from .simulate import input_samples, stability_warning, tau_min

__all__ = ["check_model", "initial_state", "integrator", "input_samples", "sequence_inputs",
           "cast_params", "stability_warning", "tau_min"]
