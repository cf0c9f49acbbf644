"""Linear response, power spectrum and autocorrelation: analytic references."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import rnndyn as rd
from rnndyn.analysis import (autocorrelation, frequency_response, impulse_response,
                             power_spectrum)
from rnndyn.errors import ValidationError

# tanh CTRNN at its fixed point 0: J = W - I exactly (tanh'(0) = 1)
W = np.array([[0.5, 2.0], [-2.0, 0.5]])
A = W - np.eye(2)  # eigenvalues -0.5 +- 2i: a stable focus
NET = rd.CTRNN(W=W, activation="tanh")


def test_impulse_response_matches_expm_and_simulation():
    t = np.linspace(0.0, 6.0, 13)
    h = impulse_response(NET, np.zeros(2), t)
    want = np.array([scipy.linalg.expm(A * s) for s in t])
    np.testing.assert_allclose(h, want, atol=1e-12)
    # e^{At} for A = a I + b [[0, 1], [-1, 0]] is e^{at} [[cos bt, sin bt], [-sin bt, cos bt]]
    np.testing.assert_allclose(h[:, 0, 0], np.exp(-0.5 * t) * np.cos(2 * t), atol=1e-12)
    np.testing.assert_allclose(h[:, 1, 0], -np.exp(-0.5 * t) * np.sin(2 * t), atol=1e-12)
    hs = impulse_response(NET, np.zeros(2), t, method="simulate", dt=0.005, eps=1e-5)
    np.testing.assert_allclose(hs, h, atol=1e-8)  # nonlinearity O(eps^2), rk4 O(dt^4)
    B, C = np.array([[1.0], [0.5]]), np.array([[0.0, 1.0]])
    hb = impulse_response(NET, np.zeros(2), t, B=B, C=C)
    np.testing.assert_allclose(hb[:, 0, 0], (C @ want @ B)[:, 0, 0], atol=1e-12)


def test_frequency_response_matches_transfer_function():
    w = np.array([0.0, 0.5, 2.0, 5.0])
    H = frequency_response(NET, np.zeros(2), w)
    for k, om in enumerate(w):  # C (i w I - A)^-1 B with B = C = I, by the 2x2 inverse formula
        M = 1j * om * np.eye(2) - A
        inv = np.array([[M[1, 1], -M[0, 1]], [-M[1, 0], M[0, 0]]]) / np.linalg.det(M)
        np.testing.assert_allclose(H[k], inv, atol=1e-12)
    # resonance near the imaginary part 2 of the eigenvalues
    assert np.argmax(np.abs(H[:, 0, 0])) == 2
    Hs = frequency_response(NET, np.zeros(2), w, method="simulate", t_total=40.0, dt=0.005)
    np.testing.assert_allclose(Hs, H, atol=2e-4)  # trapezoid O(dt^2), truncation e^-20


def test_map_impulse_and_frequency_response():
    # logistic map r = 2.5 at x* = 0.6: multiplier 2 - r = -0.5, so h_k = (-0.5)^k and
    # H(w) = 1 / (1 + 0.5 e^{-iw})
    m = rd.logistic_map(2.5)
    k = np.arange(10)
    h = impulse_response(m, [0.6], k)
    np.testing.assert_allclose(h[:, 0, 0], (-0.5) ** k, atol=1e-14)
    hs = impulse_response(m, [0.6], k, method="simulate", eps=1e-6)
    np.testing.assert_allclose(hs[:, 0, 0], (-0.5) ** k, atol=1e-8)
    w = np.linspace(0, np.pi, 5)
    H = frequency_response(m, [0.6], w)
    np.testing.assert_allclose(H[:, 0, 0], 1 / (1 + 0.5 * np.exp(-1j * w)), atol=1e-14)
    Hs = frequency_response(m, [0.6], w, method="simulate", t_total=60)
    np.testing.assert_allclose(Hs[:, 0, 0], H[:, 0, 0], atol=1e-7)


def test_power_spectrum_of_a_sinusoid():
    dt, f0, amp = 0.01, 2.5, 3.0
    t = np.arange(0, 40.0, dt)
    x = amp * np.sin(2 * np.pi * f0 * t) + 1.0
    f, S = power_spectrum(x, dt)
    assert f[np.argmax(S)] == pytest.approx(f0, abs=1 / 40.0)
    df = f[1] - f[0]
    assert S.sum() * df == pytest.approx(amp ** 2 / 2, rel=0.02)  # Parseval: the variance
    f2, S2 = power_spectrum(np.column_stack([x, 2 * x]), dt, nperseg=1000)
    np.testing.assert_allclose(S2[:, 1], 4 * S2[:, 0])
    assert f2[np.argmax(S2[:, 0])] == pytest.approx(f0, abs=0.1)


def test_autocorrelation_of_a_sinusoid():
    dt, f0 = 0.01, 0.5
    t = np.arange(0, 200.0, dt)  # whole number of periods
    x = np.sin(2 * np.pi * f0 * t)
    lags, r = autocorrelation(x, 500, unbiased=True)
    np.testing.assert_allclose(r, np.cos(2 * np.pi * f0 * lags * dt), atol=3e-3)
    lags, rb = autocorrelation(x, 500)
    N = len(x)
    np.testing.assert_allclose(rb, (1 - lags / N) * np.cos(2 * np.pi * f0 * lags * dt),
                               atol=3e-3)
    _, r2 = autocorrelation(np.column_stack([x, x]), 10)
    assert r2.shape == (11, 2) and r2[0, 0] == 1.0


def test_bad_input_raises():
    with pytest.raises(ValidationError, match="B"):
        impulse_response(NET, np.zeros(2), [0.0, 1.0], B=np.ones((3, 1)))
    with pytest.raises(ValidationError, match="times"):
        impulse_response(NET, np.zeros(2), [1.0, 0.5])
    with pytest.raises(ValidationError, match="method"):
        frequency_response(NET, np.zeros(2), [1.0], method="fft")
    with pytest.raises(ValidationError, match="omega"):  # a pole on the imaginary axis
        frequency_response(rd.CTRNN(W=[[1.0, 2.0], [-2.0, 1.0]], activation="tanh"),
                           np.zeros(2), [2.0])
    with pytest.raises(ValidationError, match="max_lag"):
        autocorrelation(np.ones(10), 10)
    with pytest.raises(ValidationError, match="x"):
        power_spectrum(np.ones((3, 3, 3)))
