"""Benchmark tasks and time series: data only, every generator takes ``seed=`` where it
draws. Chaotic and delay series for reservoirs (``timeseries``); long-lag sequence tasks for
gradient learning (``sequences``: each returns inputs, targets and the mask of the steps
that carry a target)."""
from .sequences import (Sequences, adding_problem, delayed_xor, embedded_reber, flip_flop, latch,
                        parity, temporal_order)
from .timeseries import (lorenz_series, mackey_glass, narma, rossler_series, sine_to_square,
                         timer_task)

__all__ = ["mackey_glass", "narma", "lorenz_series", "rossler_series", "sine_to_square",
           "timer_task", "Sequences", "adding_problem", "temporal_order", "latch", "parity",
           "delayed_xor", "embedded_reber", "flip_flop"]
