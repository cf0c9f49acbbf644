"""A stateful stepper for simulators that advance networks one control tick at a time."""
from __future__ import annotations

import math

import numba
import numpy as np

from .._validate import front_door, warn
from ..errors import DivergenceError, StabilityWarning, ValidationError
from ..models.base import Model, as_array
from . import _lanes_kernels as _lanes
from ._common import integrator
from .simulate import METHODS, STABILITY_LIMIT, lanes_activation, stability_warning, tau_min

#: Estimated work per tick, P * (substeps * stages * n * (n + n_in) + 500) (multiply-adds;
#: 500 ~ the fixed cost of a member), below which a tick runs on the calling thread: ~1 ms of
#: serial work (0.55 ns per unit on a 2-core x86 box, n = 8..128). Launching numba's threads
#: costs 10-50 us on an idle machine, but a whole scheduler time slice (~8 ms) whenever a
#: worker is preempted on a busy one: P=500, n=8 took 8-16 ms per tick in parallel with two
#: busy-looping processes on the 2 cores, against 0.2-0.3 ms on one thread.
SERIAL_WORK = 2_000_000
#: From this population size on, a one-thread tick runs the parallel (prange) kernel with
#: numba's thread count set to 1 instead of the plain serial kernel: numba runs a prange body
#: on borrowed arrays (no atomic reference counts per member view), 1.6x faster at P=500,
#: n=8 (160 against 260 us per tick); below it the ~4 us of switching the count dominate.
POOL_OF_ONE_P = 64


class Stepper:
    """Advance a model (or a whole population, in one kernel call) tick by tick.

    The evolutionary-robotics loop: the simulator reads the controllers' outputs, moves the
    bodies, computes sensor values and calls ``step(u)`` again. A tick allocates nothing.

    Parameters
    ----------
    model : Model (flow)
        Single network or population of P networks.
    dt : float
        Default length of a control tick (time units).
    method : {"euler", "rk4"}
        Integration rule inside a tick.
    substeps : int
        Equal integration steps per tick (the input is held constant across them).
    y0 : array (n,) or (P, n), optional
        Initial state (default zeros).
    threads : int or None
        Threads of a tick. None (default): the calling thread alone when a tick is small
        (up to ~1 ms of work: P * (substeps * n * (n + n_in) + 500) below 2e6, with 4x for
        rk4), else numba's thread pool; 1: always the calling thread alone (the robust
        choice when the machine's cores are busy, where a parallel tick can wait a whole
        scheduler time slice); k > 1: k numba threads. numba's thread count is set with
        ``numba.set_num_threads`` for each call and restored afterwards.

    Notes
    -----
    A population of small sigmoid or tanh CTRNNs (at least 16 members, fewer than 128 units)
    is stepped by the lane kernels (``_lanes_kernels``: the individuals on the SIMD lanes),
    which keep the states in their own layout; ``state`` and the outputs are the same, to
    rounding, as the per-individual kernels give.

    Warns
    -----
    StabilityWarning
        (a RuntimeWarning) If the integration step dt / substeps is beyond the method's
        stability limit for the fastest time constant (``tau`` of a CTRNN): 2 tau_min (euler)
        or 2.785 tau_min (rk4). Once at construction, and once more for each larger ``dt``
        given to ``step``.

    Examples
    --------
    >>> pop = rd.CTRNN.stack(nets)                        # P controllers
    >>> ctl = rd.Stepper(pop, dt=0.05)
    >>> out = ctl.reset()                                 # (P, n_out)
    >>> for tick in range(1000):
    ...     out = ctl.step(sensors(out))                  # sensors: (P, n_in)
    """

    @front_door()
    def __init__(self, model: Model, dt: float = 0.01, method: str = "euler",
                 substeps: int = 1, y0=None, threads: int | None = None):
        if not isinstance(model, Model) or model.discrete:
            raise ValidationError("model", "Stepper drives continuous-time models (flows); "
                                  "use rnndyn.integrate.run for discrete cells")
        if method not in ("euler", "rk4"):
            raise ValidationError("method", f"must be 'euler' or 'rk4', got {method!r}", method)
        if not isinstance(substeps, (int, np.integer)) or substeps < 1:
            raise ValidationError("substeps", f"must be an int >= 1, got {substeps!r}", substeps)
        max_threads = numba.config.NUMBA_NUM_THREADS
        if threads is not None and (isinstance(threads, (bool, np.bool_)) or not isinstance(
                threads, (int, np.integer)) or not 1 <= threads <= max_threads):
            raise ValidationError("threads", f"must be None (automatic) or an int in [1, "
                                  f"{max_threads}] (numba's thread count), got {threads!r}",
                                  threads)
        self.model, self.method, self.substeps = model, method, int(substeps)
        self.threads = None if threads is None else int(threads)
        self.dt = self._check_dt(dt)
        self._tau_min = tau_min(model)
        self._stable_dt = self.dt  # largest dt checked for stability (warned at most once)
        self._warn_unstable(self.dt)
        self._P = model.P or 1
        work = self._P * (self.substeps * (1 if method == "euler" else 4)
                          * model.n * (model.n + model.n_in) + 500)
        one = self.threads == 1 or (self.threads is None and (
            self._P == 1 or work < SERIAL_WORK))
        self._act = lanes_activation(model)
        if self._act is not None:  # a population of small CTRNNs: the lane kernels
            self._init_lanes(model, one)
            self.reset(y0)
            return
        self._K = integrator(model, population=model.P is not None)
        serial = one and self._P < POOL_OF_ONE_P
        self._advance = (self._K.advance_population_serial if serial
                         else self._K.advance_population)
        self._outputs = self._K.outputs_serial if serial else self._K.outputs
        # numba's thread count, set for each kernel call (None: leave it as it is)
        self._nthreads = 1 if one and not serial else (
            self.threads if self.threads and self.threads > 1 else None)
        self._p = model.kernel_params
        self._S = np.empty((self._P, 5, model.n))
        single = model[0] if model.P else model
        self._work = np.empty((self._P, model.functions.work_size(single.kernel_params)))
        self._out = np.empty((self._P, model.n_out))
        self._status = np.zeros(self._P, dtype=np.int64)
        self._u0 = np.zeros((self._P, model.n_in))
        self.reset(y0)

    def _init_lanes(self, model, one):
        """Buffers of the lane kernels: parameters, states (blocks, n, LANES) and scratch."""
        self._L = _lanes.lanes_params(model.kernel_params[0])
        blocks, n = self._L.shape[0], model.n
        self._YL = _lanes.aligned_zeros((blocks, n, _lanes.LANES))
        self._S = _lanes.aligned_zeros((blocks, 6, n, _lanes.LANES))
        self._UB = _lanes.aligned_zeros((blocks, model.n_in, _lanes.LANES))
        self._h = np.empty(1)
        self._idx = model.kernel_params[2]
        self._out = np.empty((self._P, model.n_out))
        self._status = np.zeros(self._P, dtype=np.int64)
        # the calling thread runs one block at a time: no member views to borrow, so no
        # pool of one thread (see POOL_OF_ONE_P)
        self._advance = _lanes.advance_lanes_serial if one else _lanes.advance_lanes
        self._nthreads = self.threads if self.threads and self.threads > 1 else None

    def _tick_lanes(self, U, h, n_sub):
        self._h[0] = h
        self._call(self._advance, self._L, self._act, self._YL, U, self._h, n_sub,
                   METHODS[self.method], self._idx, self._out, self._status, self._S, self._UB)

    def _call(self, kernel, *args):
        """kernel(*args) on the chosen number of threads (numba's count restored after)."""
        if self._nthreads is None:
            return kernel(*args)
        before = numba.get_num_threads()
        numba.set_num_threads(self._nthreads)
        try:
            return kernel(*args)
        finally:
            numba.set_num_threads(before)

    def _warn_unstable(self, dt):
        """StabilityWarning if a tick of length dt is unstable for the fastest tau."""
        h = dt / self.substeps
        step = f"dt={dt:.4g}" + (f" and substeps={self.substeps} (step {h:.4g})"
                                 if self.substeps > 1 else "")
        more = math.ceil(dt / (STABILITY_LIMIT[self.method] * self._tau_min)) \
            if self._tau_min else 0
        rk4_ok = self.method == "euler" and self._tau_min and \
            h / self._tau_min <= STABILITY_LIMIT["rk4"]
        fix = f", more substeps (>= {more})" + (" or method='rk4'" if rk4_ok else "")
        msg = stability_warning(self.method, h, self._tau_min, step, fix, self.substeps)
        if msg:
            warn(msg, StabilityWarning)

    @staticmethod
    def _check_dt(dt):
        if isinstance(dt, (bool, np.bool_)) or not (
                isinstance(dt, (int, float, np.integer, np.floating)) and np.isfinite(dt)
                and dt > 0):
            raise ValidationError("dt", f"must be a finite number > 0, got {dt!r}", dt)
        return float(dt)

    def _shape(self, a):
        return a if self.model.P is not None else a[0]

    @front_door()
    def reset(self, y0=None) -> np.ndarray:
        """Set the state (default zeros) and time 0; returns the outputs (P, n_out) or (n_out,)."""
        n, P = self.model.n, self._P
        if y0 is None:
            self._y = np.zeros((P, n))
        else:
            y0 = as_array(y0, "y0")
            if y0.shape not in ((n,), (P, n)):
                raise ValidationError("y0", f"expected shape ({n},) or ({P}, {n}), got {y0.shape}")
            self._y = np.array(np.broadcast_to(y0, (P, n)))
        self.t = 0.0
        self._status[:] = 0
        if self._act is not None:  # into the lane layout; 0 steps: the outputs only
            blocks = self._YL.shape[0]
            full = np.zeros((blocks * _lanes.LANES, n))
            full[:P] = self._y
            self._YL[:] = full.reshape(blocks, _lanes.LANES, n).transpose(0, 2, 1)
            self._tick_lanes(np.zeros((P, self.model.n_in)), 0.0, 0)
            return self._shape(self._out).copy()
        self._call(self._outputs, self._p, self._y[:, None, :], self._out[:, None, :])
        return self._shape(self._out).copy()

    @front_door()
    def step(self, u=None, dt: float | None = None) -> np.ndarray:
        """Advance by one tick under input ``u`` (n_in,) or (P, n_in); returns the outputs.

        Raises
        ------
        DivergenceError
            If a member's state became non-finite (names the first one).
        """
        if dt is None:
            dt = self.dt
        else:
            dt = self._check_dt(dt)
            if dt > self._stable_dt:  # a larger tick than any checked so far
                self._stable_dt = dt
                self._warn_unstable(dt)
        if u is None or (self.model.n_in == 0 and not np.size(u)):  # zero input
            U = np.zeros((self._P, self.model.n_in))
        elif self.model.n_in == 0:
            raise ValidationError("Stepper.step.u", "this model has no inputs (n_in = 0); pass "
                                  "None or build it with input weights", u)
        else:
            U = np.asarray(u, dtype=float)
            if U.shape not in ((self.model.n_in,), (self._P, self.model.n_in)) or \
                    not np.all(np.isfinite(U)):
                raise ValidationError("Stepper.step.u", f"expected finite values of shape "
                                      f"({self.model.n_in},) or ({self._P}, "
                                      f"{self.model.n_in}), got {U.shape}", u)
            U = np.array(np.broadcast_to(U, (self._P, self.model.n_in)))  # writable copy
        if self._act is not None:
            self._tick_lanes(U, dt / self.substeps, self.substeps)
        else:
            self._call(self._advance, self._p, self._y, U, self.t, dt, self.substeps,
                       METHODS[self.method], self._out, self._status, self._S, self._work)
        self.t += dt
        if self._status.any():
            k = int(np.argmax(self._status))
            raise DivergenceError(f"state became non-finite by t={self.t:.6g}"
                                  + (f" in individual {k}" if self.model.P else "")
                                  + "; reduce dt or use more substeps", t=self.t,
                                  individual=k if self.model.P else None)
        return self._shape(self._out).copy()

    @property
    def state(self) -> np.ndarray:
        """Current state, (n,) or (P, n) (a copy)."""
        if self._act is not None:
            return self._YL.transpose(0, 2, 1).reshape(-1, self.model.n)[:self._P].copy()
        return self._shape(self._y).copy()
