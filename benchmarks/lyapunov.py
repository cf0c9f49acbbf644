"""Benchmark: Lyapunov spectra (rnndyn.analysis.lyapunov) against plain numpy and dysts.

1. Full spectrum of a random rate network ``dx/dt = -x + J tanh(x)`` (Sompolinsky, Crisanti &
   Sommers 1988), N=200, g=4, dt=0.1, T=500, against a plain numpy Benettin loop written
   here that does the same work: rk4 on the state and the tangent basis (the same four
   Jacobian-matrix products per step), one QR every t_ortho, no transient.
2. Largest exponent (k = 1) of a large rate network, N = 2000, g = 2, T = 50, against a plain
   numpy loop that never forms the Jacobian (``J @ (tanh'(x) v)``: what one writes for k = 1);
   rnndyn's CTRNN does the same (its matrix-free ``jvp``), where it used to write the n x n
   Jacobian every stage (10x slower).
3. Lorenz (10, 28, 8/3) spectrum accuracy and time against ``dysts`` (skipped with a message
   when dysts is not installed).

Run: ``python benchmarks/lyapunov.py [--quick]``; prints a markdown table. BLAS runs on one
thread unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are set: both sides spend their time in
the same 200x200 matrix products, and on a shared machine multithreaded BLAS timings are
dominated by thread contention (measured 3 vs 20 GFLOP/s), not by the code under test.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy/scipy load their BLAS

import argparse  # noqa: E402
import time  # noqa: E402
import warnings

import numpy as np  # noqa: E402

import rnndyn as rd  # noqa: E402
from rnndyn.analysis.lyapunov import ConvergenceWarning, lyapunov_spectrum  # noqa: E402

LORENZ = np.array([0.9056, 0.0, -14.5723])  # Sprott, Chaos and Time-Series Analysis (2003)


def numpy_benettin(J, x0, Q0, t_total, dt, t_ortho):
    """Plain-numpy QR method for dx/dt = -x + J tanh(x): rk4 on (x, Y), QR every t_ortho."""
    n = len(x0)
    x, Y = x0.copy(), Q0.copy()
    n_steps = int(round(t_total / dt))
    every = max(1, int(round(t_ortho / dt)))
    sums = np.zeros(Y.shape[1])
    eye = np.eye(n)

    def f(x):
        return -x + J @ np.tanh(x)

    def jac(x):
        return J * (1.0 - np.tanh(x) ** 2)[None, :] - eye

    for s in range(n_steps):
        k1, A1 = f(x), jac(x) @ Y
        x2, Y2 = x + 0.5 * dt * k1, Y + 0.5 * dt * A1
        k2, A2 = f(x2), jac(x2) @ Y2
        x3, Y3 = x + 0.5 * dt * k2, Y + 0.5 * dt * A2
        k3, A3 = f(x3), jac(x3) @ Y3
        x4, Y4 = x + dt * k3, Y + dt * A3
        k4, A4 = f(x4), jac(x4) @ Y4
        x = x + dt / 6.0 * (k1 + 2.0 * (k2 + k3) + k4)
        Y = Y + dt / 6.0 * (A1 + 2.0 * (A2 + A3) + A4)
        if (s + 1) % every == 0 or s == n_steps - 1:
            Y, R = np.linalg.qr(Y)
            sums += np.log(np.abs(np.diag(R)))
    return np.sort(sums / (n_steps * dt))[::-1]


def numpy_largest(J, x0, v0, t_total, dt, t_ortho):
    """Plain-numpy largest exponent of dx/dt = -x + J tanh(x): rk4 on (x, v) with the
    tangent products J @ (tanh'(x) v), renormalised every t_ortho."""
    x, v = x0.copy(), v0.copy()
    n_steps, every = int(round(t_total / dt)), max(1, int(round(t_ortho / dt)))
    total = 0.0

    def f(x, v):
        s = np.tanh(x)
        return -x + J @ s, -v + J @ ((1.0 - s * s) * v)

    for s in range(n_steps):
        k1, a1 = f(x, v)
        k2, a2 = f(x + 0.5 * dt * k1, v + 0.5 * dt * a1)
        k3, a3 = f(x + 0.5 * dt * k2, v + 0.5 * dt * a2)
        k4, a4 = f(x + dt * k3, v + dt * a3)
        x = x + dt / 6.0 * (k1 + 2.0 * (k2 + k3) + k4)
        v = v + dt / 6.0 * (a1 + 2.0 * (a2 + a3) + a4)
        if (s + 1) % every == 0 or s == n_steps - 1:
            r = np.linalg.norm(v)
            total += np.log(r)
            v /= r
    return total / (n_steps * dt)


def _best_of(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def rate_network(n=200, g=4.0, dt=0.1, T=500.0, t_ortho=1.0, repeat=1, seed=0):
    net = rd.CTRNN.from_graph(rd.graphs.random_network(n, g=g, seed=seed))
    x0 = np.random.default_rng(seed + 1).normal(0.0, 1.0, n)
    # the same initial basis lyapunov_spectrum draws from seed (documented there)
    Q0, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    J = np.array(net.W)
    warnings.simplefilter("ignore", ConvergenceWarning)
    lyapunov_spectrum(net, x0, t_total=5 * dt, dt=dt, t_ortho=dt, seed=seed)  # compile
    t_rd, res = _best_of(lambda: lyapunov_spectrum(net, x0, t_total=T, dt=dt, t_ortho=t_ortho,
                                                   seed=seed), repeat)
    t_np, ref = _best_of(lambda: numpy_benettin(J, x0, Q0, T, dt, t_ortho), repeat)
    lam = res.exponents
    return {"case": f"rate network N={n}, g={g}, dt={dt}, T={T:g}, t_ortho={t_ortho:g}",
            "rnndyn_s": t_rd, "peer": "numpy", "peer_s": t_np,
            "sum_rnndyn": lam.sum(), "sum_peer": ref.sum(), "lambda1_rnndyn": lam[0],
            "lambda1_peer": ref[0]}


def large_rate_network(n=2000, g=2.0, dt=0.1, T=50.0, t_ortho=1.0, seed=0):
    rng = np.random.default_rng(seed)
    J = rng.normal(0.0, g / np.sqrt(n), (n, n))
    np.fill_diagonal(J, 0.0)
    net = rd.CTRNN(W=J, activation="tanh")
    x0 = rng.normal(0.0, 1.0, n)
    v0, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, 1)))  # as drawn there
    warnings.simplefilter("ignore", ConvergenceWarning)
    lyapunov_spectrum(net, x0, t_total=5 * dt, dt=dt, k=1, seed=seed)  # compile
    t_rd, res = _best_of(lambda: lyapunov_spectrum(net, x0, t_total=T, dt=dt, k=1,
                                                   t_ortho=t_ortho, seed=seed), 1)
    t_np, ref = _best_of(lambda: numpy_largest(J, x0, v0[:, 0], T, dt, t_ortho), 1)
    return {"case": f"largest exponent, rate network N={n}, g={g}, dt={dt}, T={T:g}",
            "rnndyn_s": t_rd, "peer": "numpy (matrix-free)", "peer_s": t_np,
            "lambda1_rnndyn": res.exponents[0], "lambda1_peer": ref}


def lorenz(T=1000.0, dt=0.01):
    m = rd.lorenz()
    warnings.simplefilter("ignore", ConvergenceWarning)
    lyapunov_spectrum(m, [1.0, 1.0, 20.0], t_total=10 * dt, dt=dt, t_ortho=dt, seed=0)  # compile
    t_rd, res = _best_of(lambda: lyapunov_spectrum(m, [1.0, 1.0, 20.0], t_total=T, dt=dt,
                                                   t_transient=10.0, seed=0), 1)
    row = {"case": f"Lorenz, dt={dt}, T={T:g}", "rnndyn_s": t_rd,
           "err_rnndyn": np.max(np.abs(res.exponents - LORENZ))}
    try:
        import dysts.flows  # noqa: F401
    except ImportError:
        print("dysts is not installed: skipping the Lorenz comparison against dysts "
              "(pip install dysts to run it)")
        row.update(peer="dysts (not installed)", peer_s=np.nan)
        return row
    from dysts.analysis import find_lyapunov_exponents
    from dysts.flows import Lorenz

    def peer():
        model = Lorenz()
        return np.sort(find_lyapunov_exponents(model, int(T / dt), pts_per_period=100))[::-1]

    t_peer, lam = _best_of(peer, 1)
    row.update(peer="dysts", peer_s=t_peer, err_peer=np.max(np.abs(np.asarray(lam)[:3] - LORENZ)))
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller problem (T=50)")
    args = ap.parse_args(argv)
    rows = [rate_network(T=50.0 if args.quick else 500.0),
            large_rate_network(T=10.0 if args.quick else 50.0),
            lorenz(T=100.0 if args.quick else 1000.0)]
    print("| case | rnndyn (s) | peer | peer (s) | peer / rnndyn | accuracy |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        ratio = r["peer_s"] / r["rnndyn_s"]
        if "sum_peer" in r:
            acc = (f"sum {r['sum_rnndyn']:.4f} vs {r['sum_peer']:.4f}; "
                   f"lambda1 {r['lambda1_rnndyn']:.4f} vs {r['lambda1_peer']:.4f}")
        elif "lambda1_peer" in r:
            acc = f"lambda1 {r['lambda1_rnndyn']:.6f} vs {r['lambda1_peer']:.6f}"
        else:
            acc = f"max error vs (0.9056, 0, -14.5723): rnndyn {r['err_rnndyn']:.4f}"
            if "err_peer" in r:
                acc += f", dysts {r['err_peer']:.4f}"
        print(f"| {r['case']} | {r['rnndyn_s']:.3f} | {r['peer']} | {r['peer_s']:.3f} | "
              f"{ratio:.2f} | {acc} |")
    return rows


if __name__ == "__main__":
    main()
