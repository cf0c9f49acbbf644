"""The internal API of ``rnndyn.integrate`` for the layers above it (analysis, training,
robotics): everything they need to check arguments the way ``simulate`` and ``run`` do and to
run the compiled integrators, under names that stay put when the integrators' modules change.
"""
from ._common import check_fits, check_model, initial_state, integrator, writable
# the lane kernels' step, for environments whose episodes run on the lanes (robotics)
from ._lanes_kernels import _JIT as LANE_JIT
from ._lanes_kernels import _JIT_PARALLEL as LANE_JIT_PARALLEL
from ._lanes_kernels import _act as lane_activation
from ._lanes_kernels import _lane_bad_unit as lane_bad_unit
from ._lanes_kernels import _step as lane_step
from ._lanes_kernels import EULER, SIGMOID, lane_scratch, lanes_params
from .run import kernel_params_as, run_arrays, run_blocks, sequence_inputs
from .simulate import input_samples, stability_warning, tau_min

__all__ = ["check_fits", "check_model", "initial_state", "integrator", "input_samples", "sequence_inputs",
           "kernel_params_as", "stability_warning", "tau_min", "EULER", "SIGMOID", "LANE_JIT",
           "LANE_JIT_PARALLEL", "lane_activation", "lane_bad_unit", "lane_step",
           "lane_scratch", "lanes_params", "run_arrays", "run_blocks", "writable"]
