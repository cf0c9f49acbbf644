"""A stateful stepper for simulators that advance networks one control tick at a time."""
from __future__ import annotations

import numpy as np

from ..errors import DivergenceError, ValidationError
from ..models.base import Model, as_array
from .simulate import METHODS, kernels


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

    Examples
    --------
    >>> pop = rd.CTRNN.stack(nets)                        # P controllers
    >>> ctl = rd.Stepper(pop, dt=0.05)
    >>> out = ctl.reset()                                 # (P, n_out)
    >>> for tick in range(1000):
    ...     out = ctl.step(sensors(out))                  # sensors: (P, n_in)
    """

    def __init__(self, model: Model, dt: float = 0.01, method: str = "euler",
                 substeps: int = 1, y0=None):
        if not isinstance(model, Model) or model.kind != "flow":
            raise ValidationError("model", "Stepper drives continuous-time models (flows); "
                                  "use rnndyn.integrate.run for discrete cells")
        if method not in ("euler", "rk4"):
            raise ValidationError("method", f"must be 'euler' or 'rk4', got {method!r}", method)
        if not isinstance(substeps, (int, np.integer)) or substeps < 1:
            raise ValidationError("substeps", f"must be an int >= 1, got {substeps!r}", substeps)
        self.model, self.method, self.substeps = model, method, int(substeps)
        self.dt = self._check_dt(dt)
        self._P = model.P or 1
        self._K = kernels(model, population=model.P is not None)
        self._p = model.kernel_params
        self._S = np.empty((self._P, 5, model.n))
        single = model[0] if model.P else model
        self._work = np.empty((self._P, model.kernels.work_size(single.kernel_params)))
        self._out = np.empty((self._P, model.n_out))
        self._status = np.zeros(self._P, dtype=np.int64)
        self._u0 = np.zeros((self._P, model.n_in))
        self.reset(y0)

    @staticmethod
    def _check_dt(dt):
        if not (isinstance(dt, (int, float, np.floating)) and np.isfinite(dt) and dt > 0):
            raise ValidationError("dt", f"must be a finite number > 0, got {dt!r}", dt)
        return float(dt)

    def _shape(self, a):
        return a if self.model.P is not None else a[0]

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
        self._K.outputs(self._p, self._y[:, None, :], self._out[:, None, :])
        return self._shape(self._out).copy()

    def step(self, u=None, dt: float | None = None) -> np.ndarray:
        """Advance by one tick under input ``u`` (n_in,) or (P, n_in); returns the outputs.

        Raises
        ------
        DivergenceError
            If a member's state became non-finite (names the first one).
        """
        dt = self.dt if dt is None else self._check_dt(dt)
        if self.model.n_in == 0:
            U = self._u0
        else:
            U = np.asarray(u, dtype=float) if u is not None else None
            if U is None or U.shape not in ((self.model.n_in,), (self._P, self.model.n_in)):
                raise ValidationError("u", f"expected shape ({self.model.n_in},) or "
                                      f"({self._P}, {self.model.n_in}), got "
                                      f"{None if U is None else U.shape}", u)
            U = np.array(np.broadcast_to(U, (self._P, self.model.n_in)))  # writable copy
        self._K.advance_population(self._p, self._y, U, self.t, dt, self.substeps,
                                   METHODS[self.method], self._out, self._status, self._S,
                                   self._work)
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
        return self._shape(self._y).copy()
