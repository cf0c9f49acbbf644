"""Timer figure of: Jaeger, A tutorial on training recurrent neural networks, covering BPPT, RTRL, EKF and the "echo state network" approach, GMD Report 159, 2002, DOI none (technical report)

The tunable timer: input 1 carries trigger spikes, input 2 a level setting the length of
the next output pulse (1 to 20 steps); the network must answer each trigger with a pulse of
that length. A leaky tanh ESN (N = 200, leak 0.5) driven by both inputs with a ridge
readout of [u; x] learns it: the figure shows output and target on held-out data, and the
pulse lengths the network produces against the commanded ones.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rnndyn as rd
from rnndyn.analysis.reservoir import nrmse
from rnndyn.models.reservoir import ESN
from rnndyn.tasks.timeseries import timer_task
from rnndyn.train import readout as ro

MAX_DURATION = 20


def pulse_lengths(u, out):
    """(commanded, produced) pulse length after every trigger: produced = the steps from the
    trigger on during which the output stays above 1/2."""
    triggers = np.flatnonzero(u[:, 0])
    ends = np.append(triggers[1:], len(out))
    commanded = np.round(u[triggers, 1] * MAX_DURATION)
    produced = []
    for t, end in zip(triggers, ends):
        above = out[t:end, 0] > 0.5
        produced.append(int(np.argmin(above)) if not above.all() else len(above))
    return commanded, np.array(produced, dtype=float)


def run(quick: bool = False, out: Path = Path("figures")) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train, test = (6000, 3000) if quick else (20000, 5000)
    u, y = timer_task(train + test, max_duration=MAX_DURATION, seed=0)
    esn = ESN.random(200, 2, spectral_radius=0.9, input_scaling=0.5, bias_scaling=0.2,
                     leak=0.5, seed=0)
    fit = ro.fit(esn, u[:train], y[:train], ro.Ridge(1e-6), washout=200, include_input=True)
    X = rd.run(esn, u[train:], fit.final).states
    pred = fit.readout.predict(np.hstack([u[train:], X]))
    score = nrmse(pred, y[train:])
    commanded, produced = pulse_lengths(u[train:], pred)
    corr = float(np.corrcoef(commanded, produced)[0, 1])

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [2.2, 1]},
                               constrained_layout=True)
    t = np.arange(400)
    a.plot(t, y[train:train + 400, 0], "k", lw=1.5, label="target")
    a.plot(t, pred[:400, 0], color="tab:red", lw=1, label="ESN output")
    trig = np.where(u[train:train + 400, 0] > 0, 1.1, np.nan)
    a.plot(t, trig, "v", color="tab:blue", ms=5, label="trigger")
    a.plot(t, u[train:train + 400, 1], ":", color="tab:blue", label="duration input")
    a.set(xlabel="time step (held-out data)", title=f"timer task: NRMSE = {score:.3f}")
    a.legend(fontsize=8, loc="upper right")
    b.plot(commanded, produced, "o", ms=4, alpha=0.6)
    b.plot([0, MAX_DURATION], [0, MAX_DURATION], "k:")
    b.set(xlabel="commanded pulse length", ylabel="produced pulse length",
          title=f"correlation {corr:.3f}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "jaeger_timer.png", dpi=120)
    plt.close(fig)
    result = {"nrmse": score, "length_correlation": corr,
              "mean_abs_length_error": float(np.mean(np.abs(commanded - produced))),
              "pulses": int(len(commanded))}
    np.savez(out / "jaeger_timer.npz", target=y[train:, 0], output=pred[:, 0],
             commanded=commanded, produced=produced)
    (out / "jaeger_timer.json").write_text(json.dumps(result, indent=2))
    return result
