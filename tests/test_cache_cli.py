"""Compiled kernels are cached on disk; the rnndyn command finds and runs studies."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
import numpy as np, rnndyn as rd
net = rd.CTRNN(W=[[4.5, 1.0], [-1.0, 4.5]]).center_crossing()
pop = rd.CTRNN.stack([net, net])
for m in ("euler", "rk4", "rk45"):
    rd.simulate(net, [0.0, 0.0], np.linspace(0, 1, 5), dt=0.1, method=m).outputs
    rd.simulate(pop, [0.0, 0.0], np.linspace(0, 1, 5), dt=0.1, method=m).outputs
rd.Stepper(pop, dt=0.1).step()
"""


def test_second_process_loads_every_kernel_from_cache(tmp_path):
    """The first process compiles and saves; a second one must load everything (numba's
    cache debug output lists each save) instead of compiling again."""
    env = dict(os.environ, RNNDYN_CACHE_DIR=str(tmp_path), NUMBA_DEBUG_CACHE="1")
    run = lambda: subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT,  # noqa
                                 capture_output=True, text=True, check=True).stdout
    run()
    second = run()
    assert "data loaded" in second
    assert "data saved" not in second, [l for l in second.splitlines() if "saved" in l]


def test_cli_lists_and_runs_a_study(tmp_path):
    listing = subprocess.run([sys.executable, "-m", "rnndyn.cli", "figures", "--list"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert "beer1995_oscillator" in listing and "Beer" in listing
    done = subprocess.run([sys.executable, "-m", "rnndyn.cli", "figures", "beer1995_oscillator",
                           "--quick", "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "beer1995_oscillator.png").exists()
    assert (tmp_path / "beer1995_oscillator.json").exists()
    bad = subprocess.run([sys.executable, "-m", "rnndyn.cli", "figures", "nosuch"], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown study" in bad.stderr
