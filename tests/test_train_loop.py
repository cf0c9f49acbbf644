"""The training loop, optimizers, clipping and checkpoints: optimizer steps against their
published update rules in plain numpy, clipping bounds every update, a resumed run ends
bit-identical to an uninterrupted one, divergence stops with a DivergenceError that names
the update and leaves the last checkpoint intact; the gradient studies in quick mode."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from rnndyn.errors import DivergenceError, ValidationError
from rnndyn.models.discrete import Elman
from rnndyn.tasks.sequences import delayed_xor, parity
from rnndyn.train.loop import History, evaluate, load_checkpoint, train
from rnndyn.train.optimizers import (SGD, Adam, Cosine, RMSProp, StepDecay, clip_by_norm,
                                     clip_by_value)

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def _net(seed=0):
    return Elman.random(1, 6, 1, seed=seed)


def _data(n=24, seed=0):
    return delayed_xor(n, 12, delay=1, seed=seed)


# -- optimizers against their update rules ------------------------------------------------------
def test_sgd_momentum_rule():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((5, 3))
    theta, v = np.ones(3), np.zeros(3)
    opt, th = SGD(lr=0.1, momentum=0.9), np.ones(3)
    for g in grads:
        v = 0.9 * v - 0.1 * g
        theta = theta + v
        th = opt.step(th, g)
    np.testing.assert_allclose(th, theta, rtol=1e-15)


def test_adam_rule_kingma_ba_algorithm1():
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((6, 4))
    opt, th = Adam(lr=0.01), np.zeros(4)
    theta, m, v = np.zeros(4), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, 1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        theta = theta - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        th = opt.step(th, g)
        if t == 1:  # Adam's first step has size lr in every coordinate
            np.testing.assert_allclose(np.abs(th), 0.01, rtol=1e-6)
    np.testing.assert_allclose(th, theta, rtol=1e-14)


def test_rmsprop_graves_eqs_38_41():
    rng = np.random.default_rng(2)
    grads = rng.standard_normal((6, 3))
    opt, th = RMSProp.graves(), np.zeros(3)
    theta, n, gbar, d = np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3)
    for g in grads:
        n = 0.95 * n + 0.05 * g * g
        gbar = 0.95 * gbar + 0.05 * g
        d = 0.9 * d - 1e-4 * g / np.sqrt(n - gbar ** 2 + 1e-4)
        theta = theta + d
        th = opt.step(th, g)
    np.testing.assert_allclose(th, theta, rtol=1e-14)
    plain, th = RMSProp(lr=0.1, rho=0.5), np.zeros(3)
    th = plain.step(th, grads[0])
    np.testing.assert_allclose(th, -0.1 * grads[0] / (np.sqrt(0.5 * grads[0] ** 2) + 1e-8))


def test_clipping_and_schedules():
    g = np.array([3.0, -4.0])
    np.testing.assert_allclose(clip_by_norm(g, 1.0), [0.6, -0.8])
    np.testing.assert_array_equal(clip_by_norm(g, 10.0), g)
    np.testing.assert_array_equal(clip_by_value(g, 3.5), [3.0, -3.5])
    assert [StepDecay(2, 0.5)(k) for k in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    assert Cosine(10)(0) == 1.0 and Cosine(10)(10) == pytest.approx(0.0, abs=1e-15)


# -- the loop -----------------------------------------------------------------------------------
def test_training_lowers_the_loss_and_clipping_bounds_every_update(tmp_path):
    data, val = _data(), _data(16, seed=1)
    before = evaluate(_net(), val)
    res = train(_net(), data, loss="mse", optimizer="adam", lr=0.03, epochs=8, batch_size=8,
                clip_norm=0.5, clip_value=0.3, validation=val, seed=0)
    h = res.history
    assert len(h) == 8 * 3 and h.step == list(range(1, 25))
    assert max(h.update_norm) <= 0.5 + 1e-12  # Pascanu et al. 2013: ||g|| <= c after clipping
    assert any(g > 0.5 for g in h.grad_norm)  # ... and clipping did act
    assert res.best_val_loss < before
    assert evaluate(res.model, val) == pytest.approx(res.best_val_loss, rel=1e-12)
    import matplotlib
    matplotlib.use("Agg")
    assert h.plot() is not None
    for method, opts in (("rtrl", None), ("truncated_bptt", {"h": 4, "h_prime": 2})):
        r = train(_net(), data, method=method, method_options=opts, optimizer="sgd", lr=0.1,
                  epochs=1, batch_size=24, seed=0)
        assert len(r.history) == 1 and np.isfinite(r.history.loss[0])


def test_max_updates_alone_sets_the_length():
    data = _data()  # 3 batches of 8 per epoch
    assert len(train(_net(), data, max_updates=7, batch_size=8, seed=0).history) == 7
    assert len(train(_net(), data, batch_size=8, seed=0).history) == 30  # default 10 epochs
    assert len(train(_net(), data, epochs=2, max_updates=7, batch_size=8, seed=0).history) == 6


def test_training_a_ctrnn_through_its_rk4_discretisation():
    from rnndyn.models.ctrnn import CTRNN

    rng = np.random.default_rng(0)
    net = CTRNN(W=rng.normal(0, 0.5, (3, 3)), W_in=rng.normal(size=(3, 1)), outputs=(0,))
    data = _data(16)
    opts = {"dt": 0.5, "scheme": "rk4"}
    before = evaluate(net, data, dt=0.5)
    res = train(net, data, optimizer="adam", lr=0.05, epochs=10, batch_size=16,
                method_options=opts, fields=["W", "W_in", "bias"], seed=0)
    assert evaluate(res.model, data, dt=0.5) < before
    with pytest.raises(ValidationError, match="rtrl.scheme"):  # RTRL: Euler maps only
        train(net, data, method="rtrl", method_options=opts)


def test_resume_from_checkpoint_is_bit_identical(tmp_path):
    data, val = _data(), _data(8, seed=1)
    kw = dict(loss="mse", optimizer="adam", lr=0.02, batch_size=5, schedule=StepDecay(4, 0.7),
              clip_norm=1.0, validation=val, seed=3)
    full = train(_net(), data, epochs=4, **kw)
    ck = tmp_path / "run.npz"
    part = train(_net(), data, epochs=2, checkpoint=ck, **kw)
    assert len(part.history) == 10 and ck.exists()
    _, meta = load_checkpoint(ck)
    assert meta["state"]["epoch"] == 2
    resumed = train(_net(), data, epochs=4, checkpoint=ck, **kw)
    np.testing.assert_array_equal(resumed.model.to_vector(), full.model.to_vector())
    assert resumed.history.as_dict() == full.history.as_dict()
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file


def test_divergence_names_the_update_and_keeps_the_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    net = Elman(W_ih=rng.normal(size=(4, 1)), W_hh=rng.normal(size=(4, 4)), W_y=np.ones((1, 4)),
                activation="identity")
    data = parity(8, 40, seed=0)
    ck = tmp_path / "ck.npz"
    train(net, data, optimizer="sgd", lr=1e-6, epochs=1, batch_size=8, checkpoint=ck)
    saved = ck.read_bytes()
    with pytest.raises(DivergenceError, match=r"diverged at update \d+.*ck\.npz.*after update 1"):
        train(net, data, optimizer="sgd", lr=1e3, epochs=5, batch_size=8, checkpoint=ck)
    assert ck.read_bytes() == saved
    arrays, meta = load_checkpoint(ck)
    assert np.all(np.isfinite(arrays["theta"])) and meta["state"]["step"] == 1


def test_early_stopping_returns_the_best_model():
    data, val = _data(), _data(16, seed=5)
    res = train(_net(), data, optimizer="sgd", lr=3.0, epochs=30, batch_size=24,
                validation=val, patience=2, seed=0)
    h = res.history
    best = int(np.argmin(h.val_loss))
    assert res.stopped_early and len(h.val_loss) == best + 3  # stopped 2 epochs after the best
    assert evaluate(res.model, val) == pytest.approx(min(h.val_loss), rel=1e-12)


def test_bad_input():
    data = _data()
    X, Y, M = data
    with pytest.raises(ValidationError, match="unknown optimizer"):
        train(_net(), data, optimizer="lbfgs")
    with pytest.raises(ValidationError, match="unknown loss"):
        train(_net(), data, loss="l1")
    with pytest.raises(ValidationError, match="train.method: unknown method 'crbp2'"):
        train(_net(), data, method="crbp2")
    with pytest.raises(ValidationError, match="train.method_options: method 'crbp' needs depth"):
        train(_net(), data, method="crbp")
    with pytest.raises(ValidationError, match="IIRMLP"):  # CRBP is for IIR networks only
        train(_net(), data, method="crbp", method_options={"depth": 3})
    with pytest.raises(ValidationError, match="train.data.targets"):
        train(_net(), (X, Y[:, :3]))
    with pytest.raises(ValidationError, match="no parameter field"):
        train(_net(), data, fields=["W_zz"])
    with pytest.raises(ValidationError, match="truncated_bptt.h"):
        train(_net(), data, method="truncated_bptt", method_options={"h": 0})
    with pytest.raises(ValidationError, match="patience"):
        train(_net(), data, patience=3)
    with pytest.raises(ValidationError, match="clip_norm"):
        train(_net(), data, clip_norm=-1.0)
    with pytest.raises(ValidationError, match="train.data.inputs: holds no sequences"):
        train(_net(), (X[:, :0], Y[:, :0]))
    with pytest.raises(ValidationError, match="train.validation.mask: selects no step"):
        train(_net(), data, validation=(X, Y, np.zeros(X.shape[:2], bool)))
    with pytest.raises(ValidationError, match="train.schedule: gave the factor -1.0"):
        train(_net(), data, schedule=lambda k: -1.0)  # would climb the loss
    assert isinstance(History(), History)


def test_bidirectional_models_train_with_bptt():
    # one layer and PyTorch's num_layers = 2, bidirectional = True (a BidirectionalStack)
    from rnndyn.models.deep import Bidirectional, BidirectionalStack
    from rnndyn.models.gated import GRU, LSTM

    one = Bidirectional(LSTM.random(2, 3, seed=0), GRU.random(2, 3, seed=1))
    two = BidirectionalStack((one, Bidirectional(GRU.random(6, 2, seed=2),
                                                 LSTM.random(6, 2, seed=3))))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 12, 2))
    for model in (one, two):
        # targets a causal net cannot fit: the sign of the sum of the *later* inputs
        Y = 0.5 * np.tanh(np.cumsum(X[::-1, :, :1], 0)[::-1]).repeat(model.n_out, -1)
        fit = train(model, (X, Y), epochs=25, lr=2e-2, seed=0, validation=(X, Y))
        assert fit.history.loss[-1] < 0.5 * fit.history.loss[0]
        assert fit.best_val_loss == pytest.approx(evaluate(fit.model, (X, Y)), rel=1e-12)
        with pytest.raises(ValidationError, match="not causal"):
            train(model, (X, Y), method="rtrl")


def test_bad_checkpoint_paths_fail_before_training(tmp_path):
    data = _data()
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint")
    for path, why in ((tmp_path, "is a directory"), (tmp_path / "no" / "ck.npz",
                                                     "does not exist"),
                      (tmp_path / "junk.npz", "not a readable checkpoint")):
        with pytest.raises(ValidationError, match=f"train.checkpoint: .*{why}"):
            train(_net(), data, checkpoint=path, epochs=1)
    # through a symlink: the target is written and resumed from, the link kept
    link = tmp_path / "ck.npz"
    link.symlink_to(tmp_path / "store.npz")
    first = train(_net(), data, checkpoint=link, epochs=1, seed=0)
    assert link.is_symlink() and (tmp_path / "store.npz").is_file()
    again = train(_net(), data, checkpoint=link, epochs=1, seed=0)  # resumes: nothing to do
    np.testing.assert_array_equal(again.model.to_vector(), first.model.to_vector())


# -- studies (quick mode) ----------------------------------------------------------------------
def _load(name):
    spec = importlib.util.spec_from_file_location(name, STUDIES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pascanu2013_error_surface(tmp_path):
    res = _load("pascanu2013_error_surface").run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"pascanu2013_error_surface.{ext}").exists()
    assert json.loads((tmp_path / "pascanu2013_error_surface.json").read_text()) == res
    # Pascanu et al. 2013, Fig. 6: a cliff -- the gradient norm jumps by orders of magnitude
    # across the bifurcation of the one-unit map -- and the unclipped descent is thrown far
    # away by it while the clipped one stays within the threshold per step
    assert res["max_grad_norm"] / res["median_grad_norm"] > 1e3
    assert res["unclipped_max_jump"] > 10 * res["clipped_max_jump"]
    assert res["clipped_max_update_norm"] <= res["clip_threshold"] * res["lr"] + 1e-12
    assert res["clipped_final_loss"] < res["initial_loss"]


def test_bengio1994_vanishing(tmp_path):
    res = _load("bengio1994_vanishing").run(quick=True, out=tmp_path)
    assert (tmp_path / "bengio1994_vanishing.png").exists()
    # Bengio et al. 1994: a contracting tanh net loses the gradient geometrically in the lag;
    # an LSTM with a forget gate biased open keeps it orders of magnitude longer
    assert res["elman_decay_per_step"] < 0.9
    assert res["lstm_log10_norm_at_max_lag"] > res["elman_log10_norm_at_max_lag"] + 3


def test_hochreiter1997_adding_quick(tmp_path):
    res = _load("hochreiter1997_adding").run(quick=True, out=tmp_path)
    assert (tmp_path / "hochreiter1997_adding.png").exists()
    # quick mode: a short lag (T = 20) that LSTM learns within a small budget
    assert res["lstm_final_mse"] < 0.5 * res["baseline_mse"]


def test_williams1989_rtrl_cost(tmp_path):
    res = _load("williams1989_rtrl_cost").run(quick=True, out=tmp_path)
    assert json.loads((tmp_path / "williams1989_rtrl_cost.json").read_text()) == res
    # Williams & Zipser 1989, Sect. 2.3: RTRL's sensitivities take O(n^3) memory (n x n(n+m):
    # exact, so a tight bound) and O(n^4) time a step against BPTT's O(n^2). Timings are
    # noisy: only their order is asserted, not the exponents.
    assert 2.6 < res["rtrl_memory_slope"] < 3.0
    assert res["rtrl_time_slope"] > res["bptt_time_slope"] + 0.5
    assert res["rtrl_vs_bptt_max_rel_diff"] < 1e-10


@pytest.mark.slow
def test_hochreiter1997_adding_full(tmp_path):
    res = _load("hochreiter1997_adding").run(quick=False, out=tmp_path)
    # Hochreiter & Schmidhuber 1997, Exp. 4: LSTM solves T = 100 (|error| < 0.04 on > 95%)
    assert res["lstm_solved_fraction"] > 0.95
    assert res["elman_solved_fraction"] < res["lstm_solved_fraction"]


def test_norms_without_blas_equal_numpys():
    # the training loop's norms and the MSE sum squares in numpy, not OpenBLAS (_blas.py)
    from rnndyn._blas import norm, sum_squares
    x = np.random.default_rng(0).standard_normal((30, 7))
    assert sum_squares(x) == pytest.approx(float(np.sum(x ** 2)), rel=1e-14)
    assert norm(x[:, 2]) == pytest.approx(float(np.linalg.norm(x[:, 2])), rel=1e-14)
    assert norm(np.zeros(0)) == 0.0


def test_blas_thread_switches_nest():
    # bptt puts OpenBLAS on one thread around both passes; the runners' own switches inside
    # it must neither switch again nor give the threads back before the outer one ends
    from threadpoolctl import threadpool_info, threadpool_limits

    from rnndyn._blas import blas_threads_for

    def counts():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with threadpool_limits(limits=2, user_api="blas"):
        for _ in range(2):  # the second round: the nesting depth was given back
            assert set(counts()) == {2}
            with blas_threads_for(0):
                assert set(counts()) == {1}
                with blas_threads_for(0):
                    assert set(counts()) == {1}
                assert set(counts()) == {1}
            assert set(counts()) == {2}
