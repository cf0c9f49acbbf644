"""Genomes in [-1, 1]^d <-> model parameters (rnndyn.train.genome): the range maps, the
population decode, mirror-symmetric controllers, graphs and JSON, and the checks."""
import numpy as np
import pytest

import rnndyn as rd
from rnndyn.errors import ValidationError
from rnndyn.train.genome import Genome
from rnndyn.train.search import GA

BEER = {"W": 16.0, "W_in": 16.0, "bias": 16.0, "tau": (1.0, 50.0, "log"), "gain": (1.0, 5.0)}


def ctrnn(n=4, n_in=2, **kw):
    return rd.CTRNN(W=np.zeros((n, n)), W_in=np.zeros((n, n_in)), **kw)


def test_range_ends_and_log_midpoint():
    g = Genome(ctrnn(), BEER)
    assert g.dim == 16 + 8 + 4 + 4 + 4 and g.bounds == (-1.0, 1.0)
    lo, hi, mid = (g.decode(np.full(g.dim, v)) for v in (-1.0, 1.0, 0.0))
    np.testing.assert_allclose(lo.W, -16.0)
    np.testing.assert_allclose(hi.W_in, 16.0)
    np.testing.assert_allclose([lo.tau, hi.tau], [np.ones(4), np.full(4, 50.0)])
    np.testing.assert_allclose(mid.tau, np.sqrt(50.0))  # log scale: the geometric mean
    np.testing.assert_allclose(mid.gain, 3.0)
    np.testing.assert_allclose(mid.bias, 0.0, atol=1e-15)


def test_population_decode_equals_singles_and_encode_inverts():
    net = ctrnn(mask=np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]], bool))
    g = Genome(net, BEER)
    assert g.dim == 10 + 8 + 12
    G = np.random.default_rng(0).uniform(-1, 1, (25, g.dim))
    pop = g.decode(G)
    assert pop.P == 25
    for k in (0, 7, 24):
        one = g.decode(G[k])
        for f in ("W", "W_in", "tau", "bias", "gain"):
            np.testing.assert_array_equal(getattr(pop, f)[k], getattr(one, f))
        np.testing.assert_allclose(g.encode(one), G[k], atol=1e-13)
    assert np.all(pop.W[:, ~net.mask] == 0)  # masked-out weights are not genes


def test_fields_not_in_the_genome_keep_their_values():
    net = ctrnn(tau=2.5, gain=0.7)
    g = Genome(net, {"W": 4.0, "bias": 2.0})
    m = g.decode(np.random.default_rng(1).uniform(-1, 1, (3, g.dim)))
    np.testing.assert_array_equal(m.tau, 2.5)
    np.testing.assert_array_equal(m.gain, 0.7)
    np.testing.assert_array_equal(m.W_in, 0.0)
    assert g.names[0] == "W[0, 0]" and g.names[-1] == "bias[3]"


def test_mirror_symmetric_controller():
    """Units (0, 1, 2, 3, 4) mirrored as (4, 3, 2, 1, 0) with unit 2 on the midline, inputs
    (0, 1, 2) as (2, 1, 0): W[i, j] = W[m(i), m(j)], W_in[i, k] = W_in[m(i), m_in(k)]."""
    m, mi = [4, 3, 2, 1, 0], [2, 1, 0]
    g = Genome(ctrnn(5, 3), {"W": 16.0, "W_in": 16.0, "bias": 16.0,
                             "tau": (1.0, 50.0, "log")}, mirror=m, input_mirror=mi)
    # orbits: W (25 + 1 fixed entry (2, 2)) / 2 = 13; W_in (15 + 1 fixed (2, 1)) / 2 = 8;
    # bias and tau (5 + 1) / 2 = 3 each
    assert g.dim == 13 + 8 + 3 + 3
    pop = g.decode(np.random.default_rng(2).uniform(-1, 1, (6, g.dim)))
    np.testing.assert_array_equal(pop.W, pop.W[:, m][:, :, m])
    np.testing.assert_array_equal(pop.W_in, pop.W_in[:, m][:, :, mi])
    np.testing.assert_array_equal(pop.tau, pop.tau[:, m])
    assert len(np.unique(pop.W[0])) == 13
    np.testing.assert_allclose(g.decode(g.encode(pop[3])).W, pop.W[3])
    with pytest.raises(ValidationError, match="not mirror-symmetric"):
        g.encode(rd.CTRNN(W=np.arange(25.0).reshape(5, 5) / 25, W_in=np.zeros((5, 3))))


def test_elman_genome():
    net = rd.Elman(W_ih=np.zeros((3, 1)), W_hh=np.zeros((3, 3)), W_y=np.zeros((1, 3)))
    g = Genome(net, {"W_ih": 5.0, "W_hh": 5.0, "b_ih": 5.0, "W_y": 5.0, "b_y": 5.0})
    assert g.dim == 3 + 9 + 3 + 3 + 1
    pop = g.decode(np.random.default_rng(3).uniform(-1, 1, (4, g.dim)))
    out = rd.run(pop, np.ones((6, 4, 1))).outputs
    assert out.shape == (6, 4, 1) and np.all(np.isfinite(out))
    with pytest.raises(ValidationError, match="axes"):  # W_y has no mirror rule built in
        Genome(net, {"W_hh": 5.0, "W_y": 5.0}, mirror=[2, 1, 0])
    gm = Genome(net, {"W_hh": 5.0, "W_y": 5.0}, mirror=[2, 1, 0], axes={"W_y": ".u"})
    assert gm.dim == 5 + 2


def test_best_individual_to_graph_and_json(tmp_path):
    net = ctrnn(3, 1, outputs=[2])
    g = Genome(net, BEER)
    s = GA(g.dim, 10, direction="maximize", bounds=g.bounds, seed=0)
    best = s.run(lambda X: -np.sum(X ** 2, axis=1), 5, progress=False).x
    G = g.to_graph(best)
    back = rd.CTRNN.from_graph(G)
    model = g.decode(best)
    for f in ("W", "W_in", "tau", "bias", "gain"):
        np.testing.assert_allclose(getattr(back, f), getattr(model, f), rtol=1e-15)
    g.save(best, tmp_path / "best.json")
    loaded = rd.CTRNN.from_graph(rd.graphs.load(tmp_path / "best.json"))
    np.testing.assert_array_equal(loaded.W, model.W)
    np.testing.assert_array_equal(loaded.tau, model.tau)
    np.testing.assert_allclose(g.encode(loaded), best, atol=1e-13)


def test_bad_input_is_a_validation_error():
    g = Genome(ctrnn(), BEER)
    cases = [
        (lambda: g.decode(np.zeros(g.dim - 1)), r"expected shape \(36,\)"),
        (lambda: g.decode(np.zeros((3, g.dim + 2))), r"\(P, 36\)"),
        (lambda: g.decode(np.full(g.dim, 1.5)), r"\[-1, 1\]"),
        (lambda: g.decode(np.full(g.dim, np.nan)), r"\[-1, 1\]"),
        (lambda: g.to_graph(np.zeros((2, g.dim))), "one genome"),
        (lambda: Genome(ctrnn(), {"weights": 16.0}), "no parameter field 'weights'"),
        (lambda: Genome(ctrnn(), {"W": (3.0, -3.0)}), "low < high"),
        (lambda: Genome(ctrnn(), {"tau": (0.0, 50.0, "log")}), "low > 0"),
        (lambda: Genome(ctrnn(), {"tau": (1.0, 50.0, "ln")}), "'log' or 'linear'"),
        (lambda: Genome(ctrnn(), {}), "non-empty"),
        (lambda: Genome(rd.CTRNN.stack([ctrnn(), ctrnn()]), BEER), "population"),
        (lambda: Genome(ctrnn(), {"W": 1.0}, mirror=[1, 2, 3, 0]), "own inverse"),
        (lambda: Genome(ctrnn(), {"W_in": 1.0}, mirror=[3, 2, 1, 0]), "input_mirror"),
        (lambda: Genome(ctrnn(mask=np.triu(np.ones((4, 4), bool))), {"W": 1.0},
                        mirror=[3, 2, 1, 0]), "not mirror-symmetric"),
        (lambda: g.encode(ctrnn(tau=60.0)), "outside its range"),
        (lambda: g.encode(ctrnn(3)), "expects 36"),
    ]
    for call, match in cases:
        with pytest.raises(ValidationError, match=match):
            call()


def _distance_to_w3(pop):
    return np.sum((pop.W - 3.0) ** 2, axis=(1, 2)) + np.sum((pop.tau - 10.0) ** 2, axis=1)


def test_search_through_the_genome():
    """sep-CMA-ES on networks: W -> 3 (gene 3/16) and tau -> 10 (gene on the log scale
    2 log(10) / log(50) - 1) for every unit."""
    from rnndyn.train.search import SepCMAES
    g = Genome(ctrnn(2, 1), {"W": 16.0, "tau": (1.0, 50.0, "log")})
    fit = g.fitness(_distance_to_w3)
    s = SepCMAES(g.dim, direction="minimize", bounds=g.bounds, seed=0)
    r = s.run(fit, 300, progress=False)
    want = np.r_[np.full(4, 3.0 / 16.0), np.full(2, 2 * np.log(10) / np.log(50) - 1)]
    np.testing.assert_allclose(r.x, want, atol=1e-6)
    import pickle
    again = pickle.loads(pickle.dumps(fit))  # executors pickle it
    np.testing.assert_array_equal(again(r.x[None]), fit(r.x[None]))
    with pytest.raises(ValidationError, match="Genome.fitness.fn"):
        g.fitness(3)
