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


KERNEL = """
from numba import njit
from .helper import shift


@njit(cache=True)
def twice_shifted(x):
    return 2 * shift(x)
"""
PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
from rnndyn._jit import refresh_kernel_caches
import pkg.kern, pkg.helper
cleared = refresh_kernel_caches([pkg.kern, pkg.helper]) if sys.argv[2] == "1" else []
print(pkg.kern.twice_shifted(1), sorted(cleared))
"""


def test_a_kernel_is_recompiled_when_a_file_it_imports_changes(tmp_path):
    """numba keys a cached kernel on its own file only: pkg/kern.py keeps the code compiled
    from the old pkg/helper.py (the control run) unless ``refresh_kernel_caches`` drops it."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "kern.py").write_text(KERNEL)
    helper = pkg / "helper.py"

    def edit(k):  # a new text, size and time stamp each time
        helper.write_text("from numba import njit\n\n\n@njit(cache=True)\n"
                          f"def shift(x):\n    return x + {k}\n")
        os.utime(helper, (1e9 + k, 1e9 + k))

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    probe = lambda refresh: subprocess.run(  # noqa: E731
        [sys.executable, "-c", PROBE, str(tmp_path), refresh], env=env, cwd=ROOT,
        capture_output=True, text=True, check=True).stdout.split(maxsplit=1)
    edit(1)
    assert probe("1") == ["4", "['pkg.helper', 'pkg.kern']\n"]  # no stamps yet
    assert probe("1") == ["4", "[]\n"]  # nothing changed: the cache is used
    edit(10)
    assert probe("0")[0] == "4"  # numba alone: kern's stale code (2 (1 + 1))
    assert probe("1") == ["22", "['pkg.helper', 'pkg.kern']\n"]
    assert probe("1") == ["22", "[]\n"]


def test_rnndyn_kernel_modules_carry_their_dependency_stamps():
    """``import rnndyn`` refreshed every kernel module: a second refresh has nothing to do."""
    script = ("import sys, rnndyn\n"
              "print(rnndyn._jit.refresh_kernel_caches("
              "[m for n, m in sys.modules.items() if n.startswith('rnndyn.')]))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


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
