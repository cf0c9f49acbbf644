"""The liquid state machine study (Maass, Natschläger & Markram 2002, Neural Computation
14:2531) runs in quick mode and shows the separation property and fading memory."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rnndyn import cli

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def test_maass2002_lsm(tmp_path):
    res = cli.load(STUDIES / "maass2002_lsm.py").run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"maass2002_lsm.{ext}").exists()
    assert json.loads((tmp_path / "maass2002_lsm.json").read_text()) == res
    # Fig. 2 of the paper: the state distance grows with the input distance ...
    d_in, d_state = np.array(res["input_distance"]), np.array(res["state_distance"])
    assert d_in[0] == 0 and np.all(np.diff(d_in) > 0)
    assert np.all(np.diff(d_state) > 0)
    # ... and for the same input (d = 0) the initial state is forgotten: fading memory
    assert res["same_input_distance_end"] < 0.2 * res["same_input_distance_start"]
    assert d_state[0] < 0.3 * d_state[1]
    # a linear readout of the liquid state classifies jittered spike patterns, as long as
    # their difference lies within the liquid's memory
    # (two templates differing in one 50 ms window; chance is 0.5)
    acc = dict(zip(res["memory_ms"], res["accuracy"]))
    assert min(acc[0.0], acc[25.0], acc[50.0]) >= 0.9
    assert acc[150.0] <= 0.7 and (acc[100.0] + acc[150.0]) / 2 <= 0.7
