"""Hand-written state/input/parameter derivatives (VJPs) of the simple discrete cells.

Kernel level: the parameter VJPs are checked against central finite differences of v . F
with respect to every entry of the raw parameter vector (the kernel tuple's arrays flattened
in C order), the state and input VJPs against the existing analytic Jacobians.
"""
import zlib

import numpy as np
import pytest

from rnndyn.models import _base_kernels as bk
from rnndyn.models import _discrete_kernels as dk
from rnndyn.models.discrete import Elman, FullyRecurrent, IndRNN, Jordan, SecondOrderRNN

H, M, O = 4, 3, 2
EPS = 1e-6

# per family: (array slots of the kernel tuple, step, vjp, jacobian, jac_input, output,
#              output_vjp, output_jac, param_size, work_size)
FAMILIES = {
    "elman": ((0, 1, 2, 3, 4), dk.elman_step, dk.elman_vjp, dk.elman_jacobian,
              dk.elman_jac_input, dk.elman_output, dk.elman_output_vjp, dk.elman_output_jac,
              dk.elman_param_size, dk.elman_work_size),
    "jordan": ((0, 1, 2, 3, 4), dk.jordan_step, dk.jordan_vjp, dk.jordan_jacobian,
               dk.jordan_jac_input, dk.jordan_output, dk.jordan_output_vjp,
               dk.jordan_output_jac, dk.jordan_param_size, dk.jordan_work_size),
    "indrnn": ((0, 1, 2), dk.indrnn_step, dk.indrnn_vjp, dk.indrnn_jacobian,
               dk.indrnn_jac_input, bk.output_state, bk.state_output_vjp,
               dk.identity_output_jac, dk.indrnn_param_size, dk.indrnn_work_size),
    "second_order": ((0, 1), dk.second_order_step, dk.second_order_vjp,
                     dk.second_order_jacobian, dk.second_order_jac_input, bk.output_state,
                     bk.state_output_vjp, dk.identity_output_jac, dk.second_order_param_size,
                     dk.second_order_work_size),
}


def _fully_recurrent(outputs, n_in):
    rng = np.random.default_rng(5)
    mask = rng.random((H, H)) < 0.6
    np.fill_diagonal(mask, True)
    W = rng.normal(0, 0.8, (H, H)) * mask
    return FullyRecurrent(W=W, mask=mask, W_in=rng.normal(0, 0.7, (H, n_in)) if n_in else None,
                          bias=rng.normal(0, 0.3, H), outputs=outputs)


MODELS = {
    "elman": ("elman", lambda: Elman.random(M, H, seed=0)),
    "elman_readout": ("elman", lambda: Elman.random(M, H, O, seed=1,
                                                    output_activation="tanh")),
    "elman_relu_sigmoid": ("elman", lambda: Elman.random(M, H, O, seed=2, activation="relu",
                                                         output_activation="sigmoid")),
    "fully_recurrent_outputs": ("elman", lambda: _fully_recurrent((0, 2), M)),
    "fully_recurrent_no_input": ("elman", lambda: _fully_recurrent(None, 0)),
    "jordan": ("jordan", lambda: Jordan.random(M, H, O, seed=3)),
    "jordan_sigmoid": ("jordan", lambda: Jordan.random(M, H, O, seed=4, activation="sigmoid",
                                                       output_activation="identity")),
    "indrnn": ("indrnn", lambda: IndRNN.random(M, H, seed=6, activation="tanh")),
    "second_order": ("second_order", lambda: SecondOrderRNN.random(M, H, seed=7)),
}


def flatten(p, slots):
    return np.concatenate([np.asarray(p[s], dtype=float).ravel() for s in slots])


def rebuild(p, slots, theta):
    """The kernel tuple ``p`` with its arrays replaced by (writable) slices of ``theta``."""
    out, q = list(p), 0
    for s in slots:
        size = np.asarray(p[s]).size
        out[s] = np.ascontiguousarray(theta[q:q + size].reshape(np.shape(p[s])), dtype=float)
        q += size
    assert q == theta.size
    return tuple(out)


@pytest.fixture(params=sorted(MODELS), scope="module")
def case(request):
    family, make = MODELS[request.param]
    model = make()
    f = FAMILIES[family]
    slots = f[0]
    p0 = model.kernel_params
    theta = flatten(p0, slots)
    p = rebuild(p0, slots, theta)  # one array type (writable, C) for every call
    rng = np.random.default_rng(zlib.crc32(request.param.encode()))
    n, m, n_out = model.n, model.n_in, model.n_out
    h = rng.normal(0, 0.5, n)
    x = rng.normal(0, 1.0, m)
    return dict(f=f, slots=slots, p=p, theta=theta, h=h, x=x, v=rng.normal(size=n),
                w=rng.normal(size=n_out), n=n, m=m, n_out=n_out)


def _step_value(c, p, h, x):
    step, work_size = c["f"][1], c["f"][9]
    out = np.empty(c["n"])
    step(h, x, p, out, np.empty(work_size(p)))
    return c["v"] @ out


def _output_value(c, p, h):
    output = c["f"][5]
    out = np.empty(c["n_out"])
    output(h, p, out)
    return c["w"] @ out


def _fd(fun, z):
    g = np.empty(z.size)
    for q in range(z.size):
        zp, zm = z.copy(), z.copy()
        zp[q] += EPS
        zm[q] -= EPS
        g[q] = (fun(zp) - fun(zm)) / (2 * EPS)
    return g


def _vjp(c):
    vjp, work_size, param_size = c["f"][2], c["f"][9], c["f"][8]
    p = c["p"]
    gh, gx, gp = np.full(c["n"], np.nan), np.full(c["m"], np.nan), np.full(param_size(p), np.nan)
    work = np.full(work_size(p), np.nan)  # exactly the advertised size; garbage inside
    vjp(c["h"], c["x"], p, c["v"], gh, gx, gp, work)
    return gh, gx, gp


def _close(a, fd, tol=1e-6):
    assert a.shape == fd.shape
    scale = max(1.0, np.abs(fd).max(initial=0.0))
    assert np.all(np.isfinite(a))
    assert np.abs(a - fd).max(initial=0.0) / scale < tol, (a, fd)


def test_param_size_is_layout_size(case):
    p, slots = case["p"], case["slots"]
    assert case["f"][8](p) == sum(np.asarray(p[s]).size for s in slots) == case["theta"].size


def test_step_param_vjp_vs_finite_differences(case):
    c = case
    _, _, gp = _vjp(c)
    fd = _fd(lambda th: _step_value(c, rebuild(c["p"], c["slots"], th), c["h"], c["x"]),
             c["theta"])
    _close(gp, fd)


def test_step_state_and_input_vjp_vs_jacobians(case):
    c = case
    jacobian, jac_input, work_size = c["f"][3], c["f"][4], c["f"][9]
    p, n, m = c["p"], c["n"], c["m"]
    gh, gx, _ = _vjp(c)
    J, Jx = np.empty((n, n)), np.empty((n, m))
    jacobian(c["h"], c["x"], p, J, np.empty(work_size(p)))
    jac_input(c["h"], c["x"], p, Jx, np.empty(work_size(p)))
    np.testing.assert_allclose(gh, c["v"] @ J, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gx, c["v"] @ Jx, rtol=0, atol=1e-12)
    # and against finite differences, so the Jacobians themselves are not the only witness
    _close(gh, _fd(lambda z: _step_value(c, p, z, c["x"]), c["h"]))
    _close(gx, _fd(lambda z: _step_value(c, p, c["h"], z), c["x"]))


def test_output_vjp(case):
    c = case
    output_vjp, output_jac, param_size = c["f"][6], c["f"][7], c["f"][8]
    p, n = c["p"], c["n"]
    gh, gp = np.full(n, np.nan), np.full(param_size(p), np.nan)
    output_vjp(c["h"], p, c["w"], gh, gp)
    fd_p = _fd(lambda th: _output_value(c, rebuild(p, c["slots"], th), c["h"]), c["theta"])
    fd_h = _fd(lambda z: _output_value(c, p, z), c["h"])
    _close(gp, fd_p)
    _close(gh, fd_h)
    Jo = np.empty((c["n_out"], n))
    output_jac(c["h"], p, Jo)
    np.testing.assert_allclose(gh, c["w"] @ Jo, rtol=0, atol=1e-12)


def test_readout_does_not_enter_elman_step():
    """Elman's step gp is exactly zero on the readout block; its output gp only there."""
    model = Elman.random(M, H, O, seed=8)
    p = rebuild(model.kernel_params, (0, 1, 2, 3, 4), flatten(model.kernel_params,
                                                              (0, 1, 2, 3, 4)))
    rng = np.random.default_rng(9)
    d, split = dk.elman_param_size(p), H * M + H * H + H
    gh, gx, gp = np.empty(H), np.empty(M), np.full(d, np.nan)
    dk.elman_vjp(rng.normal(0, 0.5, H), rng.normal(size=M), p, rng.normal(size=H), gh, gx, gp,
                 np.empty(dk.elman_work_size(p)))
    assert np.all(gp[split:] == 0.0) and np.any(gp[:split] != 0.0)
    gp[:] = np.nan
    dk.elman_output_vjp(rng.normal(0, 0.5, H), p, rng.normal(size=O), gh, gp)
    assert np.all(gp[:split] == 0.0) and np.any(gp[split:] != 0.0)
