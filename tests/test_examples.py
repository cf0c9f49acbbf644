"""The scripts in examples/ run (quick mode) and compute what their docstrings promise."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def load(monkeypatch):
    """Import examples/<name>.py by path, registered under its own name so that numba can
    cache the kernels compiled from functions defined in it (as when it runs as a script)."""
    def _load(name):
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, mod)
        spec.loader.exec_module(mod)
        return mod
    return _load


def test_every_example_has_a_docstring_and_quick_main():
    for path in sorted(EXAMPLES.glob("*.py")):
        text = path.read_text()
        assert text.startswith('"""'), path.name
        assert "def main(quick: bool = False" in text, path.name
        assert 'if __name__ == "__main__":' in text, path.name


def test_user_ode_study(load, tmp_path):
    res = load("user_ode_study").main(quick=True, out=tmp_path)
    # the Duffing field has divergence -delta everywhere: the exponents sum to it (the
    # Jacobian is central differences here, the integrator rk4)
    assert res["exponents"].sum() == pytest.approx(res["divergence"], abs=1e-6)
    assert res["exponents"][0] > 0.05  # chaotic (about 0.12 at these parameters)
    # unforced double well: a saddle at the origin between stable foci at (+-1, 0)
    fps = res["fixed_points"]
    order = np.argsort(fps.points[:, 0])
    np.testing.assert_allclose(fps.points[order], [[-1, 0], [0, 0], [1, 0]], atol=1e-8)
    assert list(fps.stability[order]) == ["stable", "saddle", "stable"]
    assert res["figure"] == tmp_path / "duffing_study.png" and res["figure"].stat().st_size


def test_pytorch_gru_analysis(load):
    res = load("pytorch_gru_analysis").main(quick=True)
    model, g = res["model"], res["gradient_norms"]
    assert model.n == 8 and model.n_in == 1
    if res["torch"]:
        # the imported cell reproduces torch's hidden states (float64)
        assert res["max_abs_error"] < 1e-12
        assert res["losses"][-1] < 0.5 * res["losses"][0]
    assert res["states"].shape == res["inputs"].shape[:2] + (8,)
    fps = res["fixed_points"]
    assert len(fps) >= 1 and np.all(fps.speed[fps.is_fixed] <= 1e-10)
    assert g.norms[0] == 1.0 and np.all(np.isfinite(g.log_norms))
    assert len(g.lags) == 51


def test_pytorch_gru_analysis_without_torch(load, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    res = load("pytorch_gru_analysis").main(quick=True)
    assert res["torch"] is False and res["max_abs_error"] is None
    assert res["model"].n == 8 and np.all(np.isfinite(res["gradient_norms"].log_norms))


def test_evolutionary_robotics_stepper(load):
    res = load("evolutionary_robotics_stepper").main(quick=True)
    pop, hist = res["population"], res["history"]
    assert (pop.P, pop.n, pop.n_in, pop.n_out) == (200, 5, 1, 1)
    assert res["thetas"].shape == (200, 5 * 5 + 5 + 5)
    np.testing.assert_array_equal(pop.to_vector(res["fields"]), res["thetas"])
    assert np.all(np.isfinite(res["fitness"])) and np.all(res["fitness"] <= 0)
    # elitism with a deterministic evaluation: the best never gets worse; the mean improves
    assert np.all(np.diff(hist[:, 0]) >= -1e-12)
    assert hist[-1, 1] > hist[0, 1]
