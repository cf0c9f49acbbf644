"""The model protocol's parameter side: vectors, bounds, derivatives in the analysis layer,
and analysis of user models that give no Jacobian (central differences in the kernels)."""
import warnings

import numpy as np
import pytest
from numba import njit

import rnndyn as rd
from rnndyn.analysis import bifurcation, continuation, find_fixed_points, lyapunov_spectrum
from rnndyn.errors import ValidationError
from rnndyn.models.user import _lorenz_rhs


@njit
def _cusp_rhs(t, y, u, p, dy, work):  # dx/dt = p0 + x - x^3/3: folds at p0 = -+2/3
    dy[0] = p[0] + y[0] - y[0] ** 3 / 3.0


def lorenz_fd():
    return rd.Flow(_lorenz_rhs, p=[10.0, 28.0, 8.0 / 3.0], dim=3)


def test_lorenz_spectrum_without_jacobian_matches_analytic():
    kw = dict(t_total=300, dt=0.01, t_transient=10, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence at t_total=300 is not the point here
        fd = lyapunov_spectrum(lorenz_fd(), [1.0, 1.0, 20.0], **kw)
        exact = lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], **kw)
    assert np.abs(fd.exponents - exact.exponents).max() < 1e-3
    # the sum rule: the divergence of the Lorenz field is -(sigma + 1 + beta) everywhere
    assert abs(fd.exponents.sum() - exact.exponents.sum()) < 1e-6
    assert abs(fd.exponents.sum() + (10 + 1 + 8 / 3)) < 1e-3


def test_fixed_points_of_lorenz_without_jacobian():
    fps = find_fixed_points(lorenz_fd(), 64, seed=0)
    c = np.sqrt(8 / 3 * 27)
    want = np.array([[0, 0, 0], [c, c, 27], [-c, -c, 27]])
    got = fps.points[fps.is_fixed]
    assert len(got) == 3
    for w in want:
        assert np.abs(got - w).max(axis=1).min() < 1e-8
    # all three are saddles at rho = 28 (C+-: saddle-foci past the subcritical Hopf at 24.74)
    assert sorted(fps.stability[fps.is_fixed]) == ["saddle"] * 3


def test_continuation_of_a_user_flow_without_derivatives_finds_its_folds():
    flow = rd.Flow(_cusp_rhs, p=[-1.0], dim=1)
    br = continuation(flow, ("p", 0), -1.0, 1.0, x0=[-2.1])
    folds = sorted(b.param for b in br.of("fold"))
    np.testing.assert_allclose(folds, [-2 / 3, 2 / 3], atol=1e-7)


def test_bistable_neuron_folds_to_1e9_with_the_analytic_parameter_derivative(monkeypatch):
    # MODELS.md / Beer 1995: folds at +-2 ln((sqrt(w)+sqrt(w-4))/2) - (w +- sqrt(w(w-4)))/2
    w = 8.0
    a, c = 2 * np.log((np.sqrt(w) + np.sqrt(w - 4)) / 2), np.sqrt(w * (w - 4))
    exact = [a - (w + c) / 2, -a - (w - c) / 2]
    net = rd.CTRNN(W=[[w]], bias=[-8.0])
    assert bifurcation._param_column(net, ("bias", 0)) == ("bias", 0)

    # a difference quotient with this step would put the folds off by far more than 1e-9
    br = continuation(net, ("bias", 0), -8.0, 0.0, fd_step=0.5)
    got = sorted(b.param for b in br.of("fold"))
    np.testing.assert_allclose(got, exact, atol=1e-9)


def test_param_vector_bad_input_names_field_and_entry():
    net = rd.CTRNN(W=np.ones((3, 3)), tau=[1.0, 2.0, 3.0], W_in=np.ones((3, 2)))
    theta = net.to_vector()
    assert theta.size == 9 + 6 + 3 * 3
    with pytest.raises(ValidationError, match=r"expected shape \(24,\)"):
        net.from_vector(theta[:-2])
    bad = theta.copy()
    bad[16] = np.nan  # tau[1]
    with pytest.raises(ValidationError, match=r"entry 16 \(tau\[1\]\).*finite"):
        net.from_vector(bad)
    bad = theta.copy()
    bad[17] = -0.5  # tau[2]
    with pytest.raises(ValidationError, match=r"entry 17 \(tau\[2\]\).*> 0"):
        net.from_vector(bad)
    with pytest.raises(ValidationError, match=r"entry 0 \(tau\[0\]\)"):
        net.from_vector([0.0, 1.0, 1.0], fields="tau")
    with pytest.raises(ValidationError, match="no parameter field 'activation'"):
        net.to_vector(["W", "activation"])
    with pytest.raises(ValidationError, match="twice"):
        net.from_vector(np.ones(6), fields=["tau", "tau"])
    with pytest.raises(ValidationError, match="numeric"):
        net.from_vector("abc")
    pop = rd.CTRNN.stack([net, net])
    thetas = pop.to_vector()
    thetas[1, 15] = -1.0
    with pytest.raises(ValidationError, match=r"entry 15 \(tau\[0\] of member 1\)"):
        pop.from_vector(thetas)
    with pytest.raises(ValidationError, match=r"expected shape \(2, 24\)"):
        pop.from_vector(thetas[0])


def test_fields_select_and_masks_hold():
    G = rd.graphs.random_network(6, g=1.5, p=0.4, seed=1)
    net = rd.CTRNN.from_graph(G)
    n_edges = G.number_of_edges()
    assert net.to_vector("W").size == n_edges
    new = net.from_vector(net.to_vector("W") + 1.0, "W")
    assert np.all(new.W[~net.mask] == 0) and np.all(new.W[net.mask] == net.W[net.mask] + 1)
    np.testing.assert_array_equal(new.tau, net.tau)
    # gradients come in the same order as the vector
    J = net.param_jacobian(0.0, np.full(6, 0.1), fields=["bias", "W"])
    assert J.shape == (6, 6 + n_edges)
    r = net.vjp(np.ones(6), 0.0, np.full(6, 0.1), fields=["bias", "W"])
    np.testing.assert_allclose(r.params, np.ones(6) @ J, rtol=1e-13, atol=1e-14)


def test_population_from_a_genome_matrix():
    # the genome of global search: a (P, d) matrix becomes a population in one call
    base = rd.CTRNN(W=np.zeros((3, 3)), tau=1.0)
    genomes = np.random.default_rng(0).uniform(-5, 5, (40, 9))
    pop = base.from_vector(genomes, "W")
    assert pop.P == 40
    np.testing.assert_array_equal(pop.W.reshape(40, 9), genomes)
    tr = rd.simulate(pop, np.zeros(3), np.arange(0, 5, 0.5), dt=0.05)
    assert tr.y.shape == (10, 40, 3)


def test_per_model_caches_are_per_model_and_read_only():
    """theta_index and the kernel parameters in a dtype are computed once per (immutable)
    model: the same objects on a second call, a new model (from_vector) gets its own, and
    the cached index cannot be written through."""
    from rnndyn.integrate.plumbing import kernel_params_as
    lstm = rd.LSTM.random(3, 4, seed=0, mask=np.eye(4, dtype=bool))
    idx = lstm.theta_index(["W_hh", "b_ih"])
    assert lstm.theta_index(("W_hh", "b_ih")) is idx and not idx.flags.writeable
    with pytest.raises(ValueError):
        idx[0] = 1
    assert idx.size == 4 * 4 + 16  # the mask's diagonal of each gate block, then the bias
    p32 = kernel_params_as(lstm, np.float32)
    assert kernel_params_as(lstm, np.float32) is p32 and p32[1].dtype == np.float32
    assert kernel_params_as(lstm, np.float64)[1] is lstm.kernel_params[1]  # no copy
    assert all(a.ctypes.data % 64 == 0 for a in p32 if isinstance(a, np.ndarray))  # copies
    theta = lstm.to_vector(["W_hh"])
    other = lstm.from_vector(2 * theta, ["W_hh"])
    np.testing.assert_array_equal(kernel_params_as(other, np.float32)[1],
                                  np.float32(2 * np.asarray(lstm.W_hh)))
