"""Benchmark tasks and time series: data only, every generator takes ``seed=`` where it
draws. Chaotic and delay series for reservoirs (``timeseries``)."""
from .timeseries import (lorenz_series, mackey_glass, narma, rossler_series, sine_to_square,
                         timer_task)

__all__ = ["mackey_glass", "narma", "lorenz_series", "rossler_series", "sine_to_square",
           "timer_task"]
