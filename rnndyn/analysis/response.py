"""Linear response about an operating point, and spectra of trajectories.

About a fixed point x0 (under constant input u0) a flow behaves as ``dx/dt = A dx`` with
A the Jacobian, a map as ``dx_{k+1} = J dx_k``. An impulse that kicks the state along the
columns of B at time 0, read out through C, gives the impulse response
``h(t) = C exp(A t) B`` (flows) or ``h_k = C J^k B`` (maps), and its Fourier transform the
frequency response ``H(w) = C (i w I - A)^-1 B`` (flows) or ``C (I - e^{-i w} J)^-1 B``
(maps, w in radians per step). Both are available from the Jacobian and by direct
simulation of the nonlinear model (kicks of size +-eps, central difference), which checks
the linearisation. ``B`` defaults to the identity (kick each state component); for inputs
entering linearly pass their input matrix (``CTRNN.W_in / tau``).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.signal

from .._validate import front_door, positive, positive_int
from ..integrate.plumbing import check_model
from ..errors import ValidationError
from ..integrate import simulate
from ..models.base import Model, as_array
from ._common import constant_input

METHODS = ("jacobian", "simulate")


def _io(model, B, C, where):
    n = model.n
    B = np.eye(n) if B is None else as_array(B, f"{where}.B")
    C = np.eye(n) if C is None else as_array(C, f"{where}.C")
    if B.ndim == 1:
        B = B[:, None]
    if C.ndim == 1:
        C = C[None]
    if B.ndim != 2 or B.shape[0] != n:
        raise ValidationError(f"{where}.B", f"expected shape ({n}, m), got {B.shape}", B)
    if C.ndim != 2 or C.shape[1] != n:
        raise ValidationError(f"{where}.C", f"expected shape (p, {n}), got {C.shape}", C)
    return np.array(B), np.array(C)


def _jac(model, x0, u, t):
    return model.jacobian(*model.point(x0, u, t))


@front_door()
def impulse_response(model: Model, x0, times, *, u=None, B=None, C=None,
                     method: str = "jacobian", eps: float = 1e-6, dt: float | None = None,
                     t: float = 0.0) -> np.ndarray:
    """Impulse response about the operating point x0.

    Parameters
    ----------
    model : Model
        A single model; with ``method="jacobian"`` it needs a Jacobian.
    x0 : array (n,)
        Operating point (normally a fixed point under ``u``).
    times : array (T,)
        Times >= 0 after the kick (time units; integer steps for maps), increasing.
    u : array (n_in,), optional
        Constant input.
    B : array (n, m), optional
        Kick directions (default identity).
    C : array (p, n), optional
        Read-out (default identity).
    method : {"jacobian", "simulate"}
        ``C expm(A t) B`` / ``C J^k B``, or the nonlinear model kicked by +-eps B[:, j]
        (one population simulation of 2m members) divided by 2 eps.
    eps : float
        Kick size for "simulate" (state units).
    dt : float
        Integration step for "simulate" with a flow.

    Returns
    -------
    array (T, p, m)
    """
    where = "impulse_response"
    check_model(model, where, single=True)
    if method not in METHODS:
        raise ValidationError(f"{where}.method", f"must be one of {METHODS}, got {method!r}")
    x0 = as_array(x0, f"{where}.x0", (model.n,))
    times = as_array(times, f"{where}.times")
    if times.ndim != 1 or times.size < 1 or np.any(times < 0) or np.any(np.diff(times) <= 0):
        raise ValidationError(f"{where}.times", "expected increasing times >= 0 (shape (T,)), "
                              f"got shape {times.shape}", times)
    if model.discrete and not np.array_equal(times, np.round(times)):
        raise ValidationError(f"{where}.times", "a map responds at integer steps; pass "
                              "np.arange(T)", times)
    B, C = _io(model, B, C, where)
    uu = constant_input(model, u, where)
    if method == "jacobian":
        A = _jac(model, x0, uu, t)
        if not model.discrete:
            E = scipy.linalg.expm(A[None] * times[:, None, None])
        else:
            ks = times.astype(np.int64)
            E = np.empty((len(ks), model.n, model.n))
            P = np.eye(model.n)
            k_now = 0
            for i, k in enumerate(ks):  # consecutive products: one matmul per requested step
                while k_now < k:
                    P = P @ A
                    k_now += 1
                E[i] = P
        return np.einsum("pn,tnk,km->tpm", C, E, B)
    eps = positive(eps, f"{where}.eps")
    m = B.shape[1]
    pop = type(model).stack([model] * (2 * m))
    Y0 = np.concatenate([x0 + eps * B.T, x0 - eps * B.T])
    tt = times if times[0] == 0 else np.concatenate([[0.0], times])
    inputs = None if not model.n_in else np.broadcast_to(uu, (len(tt), model.n_in)).copy()
    if not model.discrete:
        dt = positive(dt, f"{where}.dt")
        tr = simulate(pop, Y0, tt + t, dt=dt, method="rk4", inputs=inputs)
    else:
        tt = np.arange(int(times[-1]) + 1, dtype=float)
        inputs = None if not model.n_in else np.broadcast_to(uu, (len(tt), model.n_in)).copy()
        tr = simulate(pop, Y0, tt, inputs=inputs)
    Y = tr.y[times.astype(int)] if model.discrete else tr.y
    if not model.discrete and times[0] != 0:
        Y = Y[1:]
    D = (Y[:, :m] - Y[:, m:]) / (2.0 * eps)  # (T, m, n)
    return np.einsum("pn,tmn->tpm", C, D)


@front_door()
def frequency_response(model: Model, x0, omega, *, u=None, B=None, C=None,
                       method: str = "jacobian", t_total: float | None = None,
                       dt: float | None = None, eps: float = 1e-6,
                       t: float = 0.0) -> np.ndarray:
    """Frequency response about the operating point x0 (the Fourier transform of
    :func:`impulse_response`).

    Parameters
    ----------
    model, x0, u, B, C, eps, t
        As in :func:`impulse_response`.
    omega : array (W,)
        Angular frequencies (radians per time unit; radians per step for maps).
    method : {"jacobian", "simulate"}
        ``C (i w I - A)^-1 B`` (flows) / ``C (I - e^{-i w} J)^-1 B`` (maps), or the Fourier
        integral (trapezoid rule; a sum for maps) of the simulated impulse response over
        ``[0, t_total]``, which must be long enough for the response to have decayed.
    t_total, dt : float
        Duration and step of the simulated response (``method="simulate"``).

    Returns
    -------
    array (W, p, m) complex
    """
    where = "frequency_response"
    check_model(model, where, single=True)
    if method not in METHODS:
        raise ValidationError(f"{where}.method", f"must be one of {METHODS}, got {method!r}")
    omega = as_array(omega, f"{where}.omega")
    if omega.ndim != 1:
        raise ValidationError(f"{where}.omega", f"expected shape (W,), got {omega.shape}")
    B, C = _io(model, B, C, where)
    x0 = as_array(x0, f"{where}.x0", (model.n,))
    if method == "jacobian":
        A = _jac(model, x0, constant_input(model, u, where), t)
        eye = np.eye(model.n)
        if not model.discrete:
            M = 1j * omega[:, None, None] * eye - A
        else:
            M = eye - np.exp(-1j * omega)[:, None, None] * A
        try:
            X = np.linalg.solve(M, np.broadcast_to(B.astype(complex), (len(omega),) + B.shape))
        except np.linalg.LinAlgError:
            raise ValidationError(f"{where}.omega", "a frequency hits an eigenvalue of the "
                                  "Jacobian on the imaginary axis / unit circle (a pole); "
                                  "move omega off it", omega) from None
        return np.einsum("pn,wnm->wpm", C, X)
    t_total = positive(t_total, f"{where}.t_total")
    if model.discrete:
        times = np.arange(positive_int(int(t_total), f"{where}.t_total") + 1, dtype=float)
        h = impulse_response(model, x0, times, u=u, B=B, C=C, method="simulate", eps=eps)
        return np.einsum("wt,tpm->wpm", np.exp(-1j * np.outer(omega, times)), h)
    dt = positive(dt, f"{where}.dt")
    times = np.linspace(0.0, t_total, int(round(t_total / dt)) + 1)
    h = impulse_response(model, x0, times, u=u, B=B, C=C, method="simulate", eps=eps, dt=dt,
                         t=t)
    w = np.full(len(times), times[1] - times[0])
    w[[0, -1]] *= 0.5  # trapezoid weights
    return np.einsum("wt,tpm->wpm", np.exp(-1j * np.outer(omega, times)) * w, h)


@front_door()
def power_spectrum(x, dt: float = 1.0, *, nperseg: int | None = None, window: str = "hann",
                   detrend: str = "constant"):
    """One-sided power spectral density of a trajectory (Welch's method).

    Parameters
    ----------
    x : array (T,) or (T, k)
        Samples at spacing dt (e.g. ``Trajectory.y``).
    dt : float
        Sampling interval (time units).
    nperseg : int, optional
        Segment length (default: the whole record, i.e. a windowed periodogram).

    Returns
    -------
    f : array (F,)
        Frequencies in cycles per time unit.
    S : array (F,) or (F, k)
        PSD in (units of x)^2 per (cycle per time unit); ``sum(S) * df`` is the variance.
    """
    x = as_array(x, "power_spectrum.x")
    if x.ndim not in (1, 2) or x.shape[0] < 4:
        raise ValidationError("power_spectrum.x", f"expected shape (T,) or (T, k) with T >= 4, "
                              f"got {x.shape}", x)
    dt = positive(dt, "power_spectrum.dt")
    nperseg = x.shape[0] if nperseg is None else positive_int(nperseg, "power_spectrum.nperseg",
                                                              4)
    f, S = scipy.signal.welch(x, fs=1.0 / dt, window=window, nperseg=min(nperseg, x.shape[0]),
                              detrend=detrend, axis=0, scaling="density")
    return f, S


@front_door()
def autocorrelation(x, max_lag: int | None = None, *, unbiased: bool = False):
    """Normalised autocorrelation ``r(k) = c(k) / c(0)`` of each column (mean removed).

    ``c(k) = sum_t dx_t dx_{t+k} / N`` (the biased, positive semi-definite estimator) or
    ``/ (N - k)`` with ``unbiased=True``. Computed by FFT in O(N log N).

    Parameters
    ----------
    x : array (T,) or (T, k)
    max_lag : int, optional
        Largest lag in samples (default T - 1).

    Returns
    -------
    lags : array (L,) of int (multiply by the sampling interval for times)
    r : array (L,) or (L, k)
    """
    x = as_array(x, "autocorrelation.x")
    if x.ndim not in (1, 2) or x.shape[0] < 2:
        raise ValidationError("autocorrelation.x", f"expected shape (T,) or (T, k) with T >= 2,"
                              f" got {x.shape}", x)
    N = x.shape[0]
    max_lag = N - 1 if max_lag is None else positive_int(max_lag, "autocorrelation.max_lag", 0)
    if max_lag > N - 1:
        raise ValidationError("autocorrelation.max_lag", f"must be <= T - 1 = {N - 1}, got "
                              f"{max_lag}", max_lag)
    d = x - x.mean(axis=0)
    nfft = 1 << int(np.ceil(np.log2(2 * N)))
    F = np.fft.rfft(d, n=nfft, axis=0)
    c = np.fft.irfft(F * np.conj(F), n=nfft, axis=0)[:max_lag + 1]
    lags = np.arange(max_lag + 1)
    if unbiased:
        c = c / (N - lags).reshape((-1,) + (1,) * (c.ndim - 1))
    else:
        c = c / N
    with np.errstate(invalid="ignore", divide="ignore"):
        r = c / c[0]
    return lags, r
