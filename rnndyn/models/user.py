"""User-defined models: any numba-jittable flow or map joins the library.

Write module-level ``@numba.njit`` functions with the kernel signatures of
``rnndyn.models.base`` and wrap them (derivatives are optional); simulation, populations and analysis then treat the
model like any built-in one. Two reference systems with exactly known exponents ship here:
the Lorenz flow and the logistic map.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np
from numba import njit

from .._config import JIT
from ..errors import ValidationError
from . import _base_kernels
from .base import Functions, Model, as_array


class _UserModel(Model):
    _batched = ("p",)
    _params = ("p",)

    def __post_init__(self):
        if not isinstance(self.dim, (int, np.integer)) or self.dim < 1:
            raise ValidationError(f"{type(self).__name__}.dim",
                                  f"must be a positive int, got {self.dim!r}", self.dim)
        if not isinstance(self.n_in, (int, np.integer)) or self.n_in < 0:
            raise ValidationError(f"{type(self).__name__}.n_in",
                                  f"must be an int >= 0, got {self.n_in!r}", self.n_in)
        fn = self.step_fn if self.discrete else self.rhs_fn
        for name, f in (("step_fn" if self.discrete else "rhs_fn", fn),
                        ("jac_fn", self.jac_fn), ("vjp_fn", self.vjp_fn),
                        ("param_jac_fn", self.param_jac_fn), ("output_fn", self.output_fn)):
            required = f is fn  # the dynamics; the others are optional
            if (required or f is not None) and not hasattr(f, "py_func"):
                raise ValidationError(f"{type(self).__name__}.{name}",
                                      f"{f!r} must be a numba @njit function")
        p = as_array(self.p, f"{type(self).__name__}.p")
        if p.ndim not in (1, 2):
            raise ValidationError(f"{type(self).__name__}.p", "expected shape (n_params,) or "
                                  f"(P, n_params), got {p.shape}", self.p)
        object.__setattr__(self, "p", p)
        if not isinstance(self.n_outputs, (int, np.integer)) or self.n_outputs < 0 or \
                (self.output_fn is not None and self.n_outputs < 1):
            raise ValidationError(f"{type(self).__name__}.n_outputs", f"must be an int >= 1 "
                                  f"with output_fn, got {self.n_outputs!r}", self.n_outputs)
        self._probe()

    def _probe(self):
        """Call each user function once in Python mode (numpy bounds-checks every index,
        numba's compiled code does not) on a probe point: a dim, p or n_in that does not
        match the function, or a wrong signature, becomes a ValidationError here instead of
        out-of-bounds memory access later. dy/h_new and out must be written in full."""
        n, m = int(self.dim), int(self.n_in)
        p = self.p[0] if self.p.ndim == 2 else self.p
        rng = np.random.default_rng(0)
        y, u = 0.1 + 0.5 * rng.random(n), 0.1 + 0.5 * rng.random(m)
        lead = (y, u) if self.discrete else (0.0, y, u)
        d = p.shape[0]
        calls = [("step_fn" if self.discrete else "rhs_fn",
                  self.step_fn if self.discrete else self.rhs_fn, (n,), True),
                 ("jac_fn", self.jac_fn, (n, n), False),
                 ("param_jac_fn", self.param_jac_fn, (n, d), False)]
        for field, fn, shape, full in calls:
            if fn is not None:
                out = np.full(shape, np.nan)
                self._call(field, fn, lead + (p.copy(), out, np.zeros(0)), full, out)
        if self.vjp_fn is not None:
            outs = (np.full(n, np.nan), np.full(m, np.nan), np.full(d, np.nan))
            self._call("vjp_fn", self.vjp_fn, lead + (p.copy(), np.ones(n)) + outs +
                       (np.zeros(0),), False, outs[0])
        if self.output_fn is not None:
            out = np.full(int(self.n_outputs), np.nan)
            self._call("output_fn", self.output_fn, (y, p.copy(), out), True, out)

    def _call(self, field, fn, args, full, out):
        name = f"{type(self).__name__}.{field}"
        py = fn.py_func
        try:
            inspect.signature(py).bind(*args)
        except TypeError:
            raise ValidationError(name, f"{py.__name__} must take {len(args)} arguments "
                                  f"{_SIGNATURES[self.kind][field]}, got "
                                  f"{inspect.signature(py)}", fn) from None
        try:
            with np.errstate(all="ignore"):
                py(*args)
        except IndexError as exc:
            raise ValidationError(name, f"{py.__name__} indexes outside its arrays for dim = "
                                  f"{self.dim}, n_in = {self.n_in}, len(p) = "
                                  f"{self.p.shape[-1]} ({exc}); make them match the function",
                                  fn) from None
        except Exception:  # other failures in Python mode are not ours to judge
            return
        if full and np.isnan(out).any():
            raise ValidationError(name, f"{py.__name__} left entries "
                                  f"{np.flatnonzero(np.isnan(out)).tolist()} of its output "
                                  f"unwritten for dim = {self.dim}; write every entry or "
                                  "lower dim / n_outputs", fn)

    @property
    def _functions(self) -> Functions:  # per instance: the functions are the user's
        fn = self.step_fn if self.discrete else self.rhs_fn
        return Functions(rhs=None if self.discrete else fn,
                         step=fn if self.discrete else None, jacobian=self.jac_fn,
                         output=self.output_fn or _base_kernels.output_state,
                         member=_base_kernels.member_rows, work_size=_base_kernels.no_work,
                         vjp=self.vjp_fn, param_jacobian=self.param_jac_fn,
                         output_vjp=None if self.output_fn else _base_kernels.state_output_vjp,
                         param_size=_base_kernels.vector_param_size)

    @property
    def n(self) -> int:
        return int(self.dim)

    @property
    def n_out(self) -> int:
        return self.n if self.output_fn is None else int(self.n_outputs)

    @property
    def P(self) -> int | None:
        return self.p.shape[0] if self.p.ndim == 2 else None

    @property
    def kernel_params(self):
        return self.p


@dataclass(frozen=True, eq=False, repr=False)
class Flow(_UserModel):
    """A user ODE ``dy/dt = f(t, y, u; p)``.

    Simulation, populations, analysis and training treat it like a built-in model. Define
    the functions at module level in an importable module: numba then caches the compiled
    kernels on disk, while functions typed into ``__main__`` are compiled afresh in every
    process (seconds per kernel).

    Parameters
    ----------
    rhs_fn : numba function ``(t, y, u, p, dy, work) -> None``
        Writes dy/dt into dy. ``p`` is this model's parameter vector; ignore ``work``.
    jac_fn : numba function ``(t, y, u, p, J, work) -> None`` or None
        Writes the Jacobian d(dy/dt)/dy (n, n) into J. Without it, every analysis tool uses
        central differences of ``rhs_fn`` inside the compiled kernel: column j with step
        ``h_j = eps^(1/3) max(1, |y_j|)`` (eps = 2^-52), accurate to ~1e-10 relative.
    p : array (n_params,) or (P, n_params)
        Parameters; a 2-D array is a population.
    dim : int
        State dimension n.
    n_in : int
        Input width (default 0: autonomous).
    output_fn, n_outputs : optional
        ``(y, p, out) -> None`` writing ``n_outputs`` values; default: the state.
    param_jac_fn : numba function ``(t, y, u, p, Jp, work) -> None``, optional
        Writes d(dy/dt)/dp (n, n_params) into Jp. Default: central differences in p.
    vjp_fn : numba function ``(t, y, u, p, v, gy, gu, gp, work) -> None``, optional
        Overwrites gy (n,), gu (n_in,), gp (n_params,) with v^T d(dy/dt)/d(y, u, p).
        Default: from the two Jacobians (and central differences in u).

    Examples
    --------
    >>> @njit
    ... def rhs(t, y, u, p, dy, work):
    ...     dy[0] = p[0] * y[0] * (1.0 - y[0])
    >>> logistic_growth = Flow(rhs, None, p=[0.5], dim=1)
    """

    rhs_fn: Callable
    jac_fn: Callable | None = None
    p: np.ndarray = ()
    dim: int = 1
    n_in: int = 0
    output_fn: Callable | None = None
    n_outputs: int = 0
    name: str = "flow"
    param_jac_fn: Callable | None = None
    vjp_fn: Callable | None = None

    kind = "flow"


@dataclass(frozen=True, eq=False, repr=False)
class Map(_UserModel):
    """A user map ``h_{t+1} = F(h_t, x_t; p)`` with ``step_fn(h, x, p, h_new, work)`` and
    optionally ``jac_fn(h, x, p, J, work)`` (dh_new/dh), ``param_jac_fn(h, x, p, Jp, work)``
    and ``vjp_fn(h, x, p, v, gh, gx, gp, work)``; otherwise as ``Flow`` (derivatives not
    given are central differences inside the compiled kernels)."""

    step_fn: Callable
    jac_fn: Callable | None = None
    p: np.ndarray = ()
    dim: int = 1
    n_in: int = 0
    output_fn: Callable | None = None
    n_outputs: int = 0
    name: str = "map"
    param_jac_fn: Callable | None = None
    vjp_fn: Callable | None = None

    kind = "map"


_SIGNATURES = {
    "flow": {"rhs_fn": "(t, y, u, p, dy, work)", "jac_fn": "(t, y, u, p, J, work)",
             "param_jac_fn": "(t, y, u, p, Jp, work)", "output_fn": "(y, p, out)",
             "vjp_fn": "(t, y, u, p, v, gy, gu, gp, work)"},
    "map": {"step_fn": "(h, x, p, h_new, work)", "jac_fn": "(h, x, p, J, work)",
            "param_jac_fn": "(h, x, p, Jp, work)", "output_fn": "(h, p, out)",
            "vjp_fn": "(h, x, p, v, gh, gx, gp, work)"}}


# -- reference systems ----------------------------------------------------------------------
@njit(**JIT)
def _lorenz_rhs(t, y, u, p, dy, work):
    s, r, b = p[0], p[1], p[2]
    dy[0] = s * (y[1] - y[0])
    dy[1] = y[0] * (r - y[2]) - y[1]
    dy[2] = y[0] * y[1] - b * y[2]


@njit(**JIT)
def _lorenz_jac(t, y, u, p, J, work):
    s, r, b = p[0], p[1], p[2]
    J[0, 0], J[0, 1], J[0, 2] = -s, s, 0.0
    J[1, 0], J[1, 1], J[1, 2] = r - y[2], -1.0, -y[0]
    J[2, 0], J[2, 1], J[2, 2] = y[1], y[0], -b


@njit(**JIT)
def _logistic_step(h, x, p, h_new, work):
    h_new[0] = p[0] * h[0] * (1.0 - h[0])


@njit(**JIT)
def _logistic_jac(h, x, p, J, work):
    J[0, 0] = p[0] * (1.0 - 2.0 * h[0])


@njit(**JIT)
def _rossler_rhs(t, y, u, p, dy, work):
    """Rössler (1976): dx = -y - z, dy = x + a y, dz = b + z (x - c)."""
    a, b, c = p[0], p[1], p[2]
    dy[0] = -y[1] - y[2]
    dy[1] = y[0] + a * y[1]
    dy[2] = b + y[2] * (y[0] - c)


@njit(**JIT)
def _rossler_jac(t, y, u, p, J, work):
    a, c = p[0], p[2]
    J[0, 0], J[0, 1], J[0, 2] = 0.0, -1.0, -1.0
    J[1, 0], J[1, 1], J[1, 2] = 1.0, a, 0.0
    J[2, 0], J[2, 1], J[2, 2] = y[2], 0.0, y[0] - c


def lorenz(sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0) -> Flow:
    """The Lorenz (1963) system; at (10, 28, 8/3) its exponents are (0.9056, 0, -14.5723)."""
    return Flow(_lorenz_rhs, _lorenz_jac, p=[sigma, rho, beta], dim=3, name="lorenz")


def rossler(a: float = 0.2, b: float = 0.2, c: float = 5.7) -> Flow:
    """The Rössler (1976) system; at (0.2, 0.2, 5.7) a chaotic band with lambda_1 ~ 0.07."""
    return Flow(_rossler_rhs, _rossler_jac, p=[a, b, c], dim=3, name="rossler")


def logistic_map(r: float = 4.0) -> Map:
    """``h <- r h (1 - h)``; at r = 4 its Lyapunov exponent is ln 2."""
    return Map(_logistic_step, _logistic_jac, p=[r], dim=1, name="logistic")
