"""Global search (rnndyn.train.search): every method reaches its stated tolerance on the
standard test functions within its budget, runs are reproducible, a checkpointed run that is
killed and resumed ends bit-identical to an uninterrupted one, NaN fitness never wins, bad
input is a ValidationError, and executors (threads, a Dask LocalCluster that loses a worker)
give exactly the in-process result."""
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rnndyn.errors import ValidationError
from rnndyn.train.search import (GA, PSO, Annealing, Guessing, MicrobialGA, SepCMAES, _sus,
                                 evaluate, make, reflect)

BOX = (-5.12, 5.12)  # the usual domain of Rastrigin's function (and of the sphere here)


def sphere(X):
    return np.sum(X ** 2, axis=1)


def rastrigin(X):  # global minimum 0 at the origin, local minima at every integer point
    return 10.0 * X.shape[1] + np.sum(X ** 2 - 10.0 * np.cos(2.0 * np.pi * X), axis=1)


def rosenbrock(X):  # global minimum 0 at (1, ..., 1)
    return np.sum(100.0 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1.0 - X[:, :-1]) ** 2, axis=1)


# (name, class, popsize, options, generations, sphere tolerance, Rastrigin tolerance), 10-D.
# The tolerances are what each method reliably reaches on this budget (at most 1e5 evaluations);
# the Beer-style GAs, with a fixed mutation width, stop improving near the resolution of
# their mutation, and on Rastrigin every method but sep-CMA-ES may end in a local minimum
# one or a few integer steps away from the origin (each such coordinate costs ~1).
METHODS = [
    ("ga-rank", GA, 100, dict(mutation=0.01, mutation_rate=0.2, elitism=2), 1000, 1e-2, 15.0),
    ("ga-tournament", GA, 100, dict(selection="tournament", tournament=3, mutation=0.01,
                                    mutation_rate=0.2, crossover="one_point"), 1000, 1e-2, 15.0),
    ("ga-proportionate", GA, 100, dict(selection="proportionate", mutation=0.01,
                                       mutation_rate=0.2), 1000, 1e-2, 15.0),
    ("microbial", MicrobialGA, 100, dict(mutation=0.005, deme=10), 1000, 1e-2, 8.0),
    ("annealing-fast", Annealing, 20, dict(schedule="fast", T0=10.0, step=0.02), 5000, 5e-3,
     6.0),
    ("pso-global", PSO, 50, dict(), 1000, 1e-10, 12.0),
    ("pso-ring", PSO, 50, dict(topology="ring"), 2000, 1e-10, 12.0),
    ("sep-cmaes", SepCMAES, 200, dict(), 500, 1e-20, 2.0),
]


@pytest.mark.parametrize("name,cls,P,opts,G,tol_sphere,tol_rastrigin", METHODS,
                         ids=[m[0] for m in METHODS])
def test_reaches_tolerance_in_10d(name, cls, P, opts, G, tol_sphere, tol_rastrigin):
    for fn, tol in ((sphere, tol_sphere), (rastrigin, tol_rastrigin)):
        for seed in (0, 1):
            s = cls(10, P, direction="minimize", bounds=BOX, seed=seed, **opts)
            r = s.run(fn, G, progress=False)
            assert r.fitness < tol, (fn.__name__, seed, r.fitness)
            assert r.evaluations == G * P == s.history.evaluations[-1]
            np.testing.assert_array_equal(fn(r.x[None])[0], r.fitness)  # x is the best's genome
            assert np.all(np.diff(s.history.best) <= 0)  # best so far never worsens


def test_annealing_schedules_on_sphere():
    """The exponential (Kirkpatrick 1983) and logarithmic (Geman & Geman 1984) schedules with
    Gaussian steps on the 10-D sphere, 7.5e4 and 1e5 evaluations."""
    s = Annealing(10, 50, direction="minimize", bounds=BOX, seed=0, T0=10.0, cooling=0.99,
                  step=0.05)
    assert s.run(sphere, 1500, progress=False).fitness < 1e-4
    assert s.temperature == pytest.approx(10.0 * 0.99 ** 1499)  # first generation: no move
    s = Annealing(10, 50, direction="minimize", bounds=BOX, seed=0, T0=0.05,
                  schedule="logarithmic", step=0.02)
    assert s.run(sphere, 2000, progress=False).fitness < 0.1
    assert s.temperature == pytest.approx(0.05 / math.log(1999 + math.e))


def test_sep_cmaes_rosenbrock_100d():
    """Ros & Hansen (2008): sep-CMA-ES solves the (non-separable) 100-D Rosenbrock function;
    from x0 = 0, sigma0 = 0.5 it reaches 1e-8 in ~4e5 evaluations (lambda = 17)."""
    s = SepCMAES(100, direction="minimize", bounds=None, x0=np.zeros(100), sigma0=0.5, seed=0)
    assert s.popsize == 4 + int(3 * math.log(100)) == 17
    r = s.run(rosenbrock, 35_000, target=1e-8, progress=False)
    assert r.solved and r.fitness <= 1e-8 and r.evaluations < 6e5
    np.testing.assert_allclose(r.x, 1.0, atol=1e-3)


def test_sep_cmaes_strategy_constants():
    """Default constants of Hansen's tutorial (arXiv:1604.00772, Table 1) for d = 10, with
    Ros & Hansen's (d + 2) / 3 larger learning rates for the diagonal."""
    s = SepCMAES(10, direction="minimize", seed=0)
    assert (s.popsize, s.mu) == (10, 5)
    w = np.log(5.5) - np.log(np.arange(1, 6))
    np.testing.assert_allclose(s.weights, w / w.sum())
    me = 1.0 / np.sum((w / w.sum()) ** 2)
    assert s.mueff == pytest.approx(me)
    assert s.c1 == pytest.approx(2.0 / (11.3 ** 2 + me) * 4.0)
    assert s.cmu == pytest.approx(min(1 - s.c1, 2 * (me - 2 + 1 / me) / (144 + me) * 4.0))
    assert s.cs == pytest.approx((me + 2) / (10 + me + 5))


def test_pso_constriction_coefficient():
    """Clerc & Kennedy (2002): phi = 4.1 gives chi = 0.72984."""
    assert PSO(2, 4, direction="minimize").chi == pytest.approx(0.7298437881, rel=1e-9)


def test_guessing_hits_a_ball_at_its_volume_fraction():
    """Uniform guessing in [-1, 1]^3 lands in the unit ball with probability pi/6 (its
    volume over the cube's 8); with 4e4 guesses the count is within 4 binomial sd."""
    hits = []
    s = Guessing(3, 1000, direction="minimize", seed=0)
    for _ in range(40):
        X = s.ask()
        assert np.all(np.abs(X) <= 1)
        hits.append(np.sum(sphere(X) < 1.0))
        s.tell(sphere(X))
    n, p = 40_000, np.pi / 6
    assert abs(sum(hits) - n * p) < 4 * math.sqrt(n * p * (1 - p))


def test_sus_gives_floor_or_ceil_of_expected_counts():
    """Stochastic universal sampling (Baker 1987) picks each index floor or ceil of its
    expected number of times."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = rng.random(13)
        picks = _sus(rng, w, 50)
        counts = np.bincount(picks, minlength=13)
        expected = 50 * w / w.sum()
        assert np.all(counts >= np.floor(expected) - 1e-9)
        assert np.all(counts <= np.ceil(expected) + 1e-9)


def test_reflect_mirrors_into_the_box():
    rng = np.random.default_rng(1)
    lo, hi = np.array([-1.0, 0.0]), np.array([1.0, 3.0])
    x = rng.normal(0, 10, (1000, 2))
    y = reflect(x, lo, hi)
    assert np.all((y >= lo) & (y <= hi))
    inside = np.all((x >= lo) & (x <= hi), axis=1)
    np.testing.assert_array_equal(y[inside], x[inside])
    np.testing.assert_allclose(reflect(np.array([[1.25, -0.5]]), lo, hi), [[0.75, 0.5]])


def test_elitism_and_microbial_winners_keep_the_best():
    """With a deterministic fitness the elite (GA) and each tournament's winner (microbial
    GA) survive unchanged, so the best of every generation never worsens."""
    for s in (GA(5, 20, direction="minimize", seed=3, elitism=1, mutation=0.2),
              MicrobialGA(5, 20, direction="minimize", seed=3, mutation=0.2)):
        s.run(sphere, 60, progress=False)
        assert np.all(np.diff(s.history.generation_best) <= 0)


@pytest.mark.parametrize("cls", [GA, MicrobialGA, Annealing, PSO, Guessing, SepCMAES])
def test_same_seed_same_result_and_maximize_mirrors_minimize(cls):
    runs = [cls(6, 12, direction="minimize", bounds=BOX, seed=s).run(rastrigin, 30,
                                                                    progress=False)
            for s in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    np.testing.assert_array_equal(runs[0].history.best, runs[1].history.best)
    assert not np.array_equal(runs[0].x, runs[2].x)
    # maximising -f visits exactly the points minimising f does
    up = cls(6, 12, direction="maximize", bounds=BOX, seed=7).run(lambda X: -rastrigin(X), 30,
                                                                  progress=False)
    np.testing.assert_array_equal(up.x, runs[0].x)
    assert up.fitness == -runs[0].fitness


class Boom(RuntimeError):
    pass


def _interrupting(fn, at):
    calls = [0]

    def f(X):
        calls[0] += 1
        if calls[0] == at:
            raise Boom
        return fn(X)
    return f


@pytest.mark.parametrize("cls", [GA, MicrobialGA, Annealing, PSO, Guessing, SepCMAES])
def test_exception_mid_run_then_resume_is_bit_identical(cls, tmp_path):
    make_ = lambda: cls(8, 10, direction="minimize", bounds=BOX, seed=5)  # noqa: E731
    ref = make_().run(rastrigin, 40, progress=False)
    path = tmp_path / "ck.pkl"
    with pytest.raises(Boom):
        make_().run(_interrupting(rastrigin, 23), 40, checkpoint=path, checkpoint_every=3,
                    progress=False)
    assert pickle.loads(path.read_bytes())["state"]["generation"] == 21
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pkl"]  # no temporary file left
    got = make_().run(rastrigin, 40, checkpoint=path, progress=False)
    np.testing.assert_array_equal(got.x, ref.x)
    assert got.fitness == ref.fitness and got.evaluations == ref.evaluations
    np.testing.assert_array_equal(got.history.mean, ref.history.mean)
    # the checkpoint of the finished run resumes to the same result without evaluating
    again = make_().run(_interrupting(rastrigin, 1), 40, checkpoint=path, progress=False)
    np.testing.assert_array_equal(again.x, ref.x)


_KILLED_SCRIPT = """
import os, signal, sys
import numpy as np
from rnndyn.train.search import PSO

def rastrigin(X):
    return 10.0 * X.shape[1] + np.sum(X ** 2 - 10.0 * np.cos(2.0 * np.pi * X), axis=1)

calls = [0]
def fitness(X):
    calls[0] += 1
    if sys.argv[2] == "kill" and calls[0] == 17:
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no exception: the process is gone
    return rastrigin(X)

r = PSO(10, 30, direction="minimize", bounds=(-5.12, 5.12), seed=11, topology="ring").run(
    fitness, 50, checkpoint=sys.argv[1], progress=False)
np.save(sys.argv[1] + ".x.npy", r.x)
"""


@pytest.mark.slow  # three fresh interpreters importing rnndyn: ~8 s
def test_sigkill_mid_run_then_resume_is_bit_identical(tmp_path):
    script = tmp_path / "evolve.py"
    script.write_text(textwrap.dedent(_KILLED_SCRIPT))
    ck = str(tmp_path / "run.ckpt")
    first = subprocess.run([sys.executable, str(script), ck, "kill"], capture_output=True)
    assert first.returncode == -signal.SIGKILL
    assert not os.path.exists(ck + ".x.npy")
    assert pickle.loads(Path(ck).read_bytes())["state"]["generation"] == 16
    second = subprocess.run([sys.executable, str(script), ck, "resume"], capture_output=True)
    assert second.returncode == 0, second.stderr.decode()
    ref = PSO(10, 30, direction="minimize", bounds=BOX, seed=11, topology="ring").run(
        rastrigin, 50, progress=False)
    np.testing.assert_array_equal(np.load(ck + ".x.npy"), ref.x)


def test_nan_fitness_never_becomes_the_best():
    """The best-looking individuals (nearest the origin) return NaN: they rank last."""
    def f(X):
        v = sphere(X)
        return np.where(v < 0.5, np.nan, v)
    for cls in (GA, MicrobialGA, Annealing, PSO, Guessing, SepCMAES):
        s = cls(2, 20, direction="minimize", seed=0)
        r = s.run(f, 40, progress=False)
        assert np.isfinite(r.fitness) and r.fitness >= 0.5
        assert np.all(np.isfinite(s.history.best))
        assert s.history.nan.sum() > 0, cls  # the NaN region was visited
    s = GA(2, 4, direction="maximize", seed=0)
    s.ask()
    s.tell([np.nan, np.nan, np.nan, np.nan])
    assert s.best_x is None and math.isnan(s.best_fitness)
    s.ask()
    s.tell([np.nan, -3.0, np.nan, -5.0])
    assert s.best_fitness == -3.0


def test_ask_is_idempotent_until_tell():
    s = SepCMAES(4, direction="minimize", seed=0)
    np.testing.assert_array_equal(s.ask(), s.ask())
    X = s.ask()
    s.tell(sphere(X))
    assert not np.array_equal(s.ask(), X)


def test_bad_input_is_a_validation_error(tmp_path):
    cases = [
        (lambda: GA(5, 1, direction="minimize"), "GA.popsize"),
        (lambda: PSO(5, 10, direction="minimize", bounds=(1.0, -1.0)), "PSO.bounds"),
        (lambda: PSO(2, 10, direction="minimize", bounds=([0, 1], [1, 0])), "low\\[1\\]"),
        (lambda: Annealing(5, 10, direction="min"), "Annealing.direction"),
        (lambda: GA(5, 10, direction="minimize", selection="roulette"), "GA.selection"),
        (lambda: GA(5, 10, direction="minimize", elitism=10), "GA.elitism"),
        (lambda: PSO(5, 10, direction="minimize", topology="star"), "PSO.topology"),
        (lambda: PSO(5, 10, direction="minimize", c1=1.0, c2=1.0), "c1 \\+ c2 > 4"),
        (lambda: make("ga", 5, 10, direction="minimize", mutaton=0.1), "make.mutaton"),
        (lambda: make("nelder", 5, 10, direction="minimize"), "make.method"),
        (lambda: SepCMAES(5, direction="minimize", x0=np.zeros(4)), "SepCMAES.x0"),
        (lambda: SepCMAES(5, direction="minimize", bounds=None), "SepCMAES.bounds"),
        (lambda: GA(5, 10, direction="minimize", seed=1.5), "GA.seed"),
    ]
    for build, match in cases:
        with pytest.raises(ValidationError, match=match):
            build()
    with pytest.raises(TypeError, match="direction"):  # no hidden default
        GA(5, 10)
    s = GA(5, 10, direction="minimize", seed=0)
    with pytest.raises(ValidationError, match="call ask"):
        s.tell(np.zeros(10))
    s.ask()
    with pytest.raises(ValidationError, match=r"expected shape \(10,\)"):
        s.tell(np.zeros(9))
    with pytest.raises(ValidationError, match="fitness"):  # the fitness returns a wrong shape
        GA(5, 10, direction="minimize").run(lambda X: X, 3, progress=False)
    with pytest.raises(ValidationError, match="executor"):
        GA(5, 10, direction="minimize").run(sphere, 3, executor="dask", progress=False)
    ck = tmp_path / "ck"
    GA(5, 10, direction="minimize", seed=0).run(sphere, 2, checkpoint=ck, progress=False)
    with pytest.raises(ValidationError, match="different search"):
        GA(5, 10, direction="minimize", seed=0, mutation=0.2).run(sphere, 4, checkpoint=ck,
                                                                  progress=False)
    ck.write_bytes(b"not a pickle")
    with pytest.raises(ValidationError, match="not a readable checkpoint"):
        GA(5, 10, direction="minimize", seed=0).run(sphere, 4, checkpoint=ck, progress=False)
    # paths that cannot hold a checkpoint fail before the first generation, by name
    for bad, why in ((tmp_path, "is a directory"), (tmp_path / "no" / "ck", "does not exist")):
        with pytest.raises(ValidationError, match=f"GA.run.checkpoint: .*{why}"):
            GA(5, 10, direction="minimize").run(_interrupting(sphere, 1), 4, checkpoint=bad,
                                                progress=False)


def test_a_checkpoint_through_a_symlink_keeps_the_link(tmp_path):
    link = tmp_path / "ck"
    link.symlink_to(tmp_path / "store")
    GA(5, 10, direction="minimize", seed=0).run(sphere, 2, checkpoint=link, progress=False)
    assert link.is_symlink() and (tmp_path / "store").is_file()
    assert GA.load(link).generation == 2


def test_history_plots(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = PSO(4, 10, direction="minimize", seed=0)
    s.run(sphere, 15, progress=False)
    assert len(s.history) == 15 and set(s.history.as_dict()) == {
        "evaluations", "best", "generation_best", "mean", "nan"}
    fig, ax = plt.subplots()
    assert s.history.plot(ax) is ax and len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), s.history.best)
    plt.close(fig)


def _sphere_rows(X):  # module level: pickled by reference for process workers
    return sphere(X)


def test_thread_pool_gives_the_in_process_result():
    ref = PSO(6, 23, direction="minimize", bounds=BOX, seed=2).run(sphere, 20, progress=False)
    with ThreadPoolExecutor(3) as ex:
        got = PSO(6, 23, direction="minimize", bounds=BOX, seed=2).run(
            sphere, 20, executor=ex, chunks=4, progress=False)
    np.testing.assert_array_equal(got.x, ref.x)
    np.testing.assert_array_equal(got.history.mean, ref.history.mean)
    assert got.evaluations == ref.evaluations == 20 * 23


def _die_once(X, marker):
    """Fitness on a Dask worker: the first call to get here kills its worker process."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return sphere(X)
    os.close(fd)
    os._exit(1)


class _DieOnce:
    def __init__(self, marker):
        self.marker = marker

    def __call__(self, X):
        return _die_once(X, self.marker)


@pytest.mark.slow  # starting the cluster and replacing the killed worker: ~10 s
def test_dask_local_cluster_equals_in_process_and_survives_a_killed_worker(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    ref = GA(6, 16, direction="minimize", bounds=BOX, seed=4).run(sphere, 4, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        got = GA(6, 16, direction="minimize", bounds=BOX, seed=4).run(
            _sphere_rows, 4, executor=client, progress=False)
        np.testing.assert_array_equal(got.x, ref.x)
        np.testing.assert_array_equal(got.history.mean, ref.history.mean)
        # one worker dies in the middle of a generation: its block is rescheduled, every
        # individual is counted once, and the values are those of the in-process run
        died = GA(6, 16, direction="minimize", bounds=BOX, seed=4).run(
            _DieOnce(str(tmp_path / "died")), 4, executor=client, chunks=4, progress=False)
        assert (tmp_path / "died").exists()
        np.testing.assert_array_equal(died.x, ref.x)
        np.testing.assert_array_equal(died.history.mean, ref.history.mean)
        assert died.evaluations == ref.evaluations == 4 * 16
        X = np.random.default_rng(0).uniform(-1, 1, (10, 6))  # the same for one evaluation
        f = evaluate(_DieOnce(str(tmp_path / "died2")), X, client, chunks=5)
        assert (tmp_path / "died2").exists()
        np.testing.assert_array_equal(f, sphere(X))


def test_load_a_checkpoint(tmp_path):
    from rnndyn.train.search import Search
    s = MicrobialGA(3, 8, direction="maximize", seed=0, deme=4)
    s.run(lambda X: -sphere(X), 5, checkpoint=tmp_path / "m", progress=False)
    back = Search.load(tmp_path / "m")
    assert type(back) is MicrobialGA and back.generation == 5
    np.testing.assert_array_equal(back.best_x, s.best_x)
    with pytest.raises(ValidationError, match="not a PSO"):
        PSO.load(tmp_path / "m")


@pytest.mark.slow  # the study's quick mode: ~20 s
def test_hochreiter1996_guessing_study(tmp_path):
    """Hochreiter & Schmidhuber (1996): random guessing solves the latch problem (variant II)
    in 22 trials on average; here every method solves it in every run, guessing within a
    few dozen trials, and the solved nets generalise to fresh sequences."""
    import importlib.util
    import json

    path = Path(__file__).resolve().parents[1] / "studies" / "hochreiter1996_guessing.py"
    spec = importlib.util.spec_from_file_location("hochreiter1996_guessing", path)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    res = study.run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"hochreiter1996_guessing.{ext}").exists()
    assert json.loads((tmp_path / "hochreiter1996_guessing.json").read_text()) == res
    for method, r in res["latch"].items():
        assert r["solved"] == res["runs"], method
        assert r["mean_test_accuracy"] > 0.95, method
    assert res["latch"]["guessing"]["mean_trials"] < 100
    # parity is a needle in a haystack for guessing (~1e-4 of the box solves it): some
    # method finds it within the budget, and its nets then classify fresh sequences
    assert sum(r["solved"] for r in res["parity"].values()) >= 1
