"""Analysing a GRU trained in PyTorch as a dynamical system.

Shows the round trip from a deep-learning workflow into rnndyn:

1. train a small ``torch.nn.GRU`` (8 units) with a linear readout on a 1-bit flip-flop
   (input: sparse +1 / -1 pulses; target: the sign of the last pulse, i.e. one bit of
   memory), 60 Adam steps (100 in the full run): seconds;
2. import the recurrent cell with ``rd.GRU.from_torch(module)`` (PyTorch's gate layout
   r, z, n, so the weights carry over unchanged) and check that ``rd.run`` reproduces the
   module's hidden states;
3. find the fixed points of the autonomous cell (zero input) with ``find_fixed_points``:
   the trained flip-flop stores its bit in two stable fixed points separated by a saddle
   (Sussillo & Barak 2013, Neural Computation 25:626); trained much longer, it may instead
   form a slow, nearly marginal manifold (pass ``slow_speed=`` to see its slow points);
4. measure how gradients propagate back in time, ``||dh_T / dh_{T-k}||`` against the lag k,
   with ``jacobian_product_norms`` (Bengio, Simard & Frasconi 1994): geometric decay is
   the vanishing-gradient problem, and memory states keep it slow.

PyTorch is optional: without it the script says so and analyses ``rd.GRU.random(...)``.
Run ``python examples/pytorch_gru_analysis.py``; ``main(quick=True)`` trains less.
"""
from __future__ import annotations

import numpy as np

import rnndyn as rd

H = 8  # hidden units


def flip_flop(T: int, B: int, rng, p_pulse: float = 0.1):
    """Inputs (T, B, 1) of +-1 pulses and targets (T, B, 1): the sign of the last pulse
    (0 before the first)."""
    pulses = rng.random((T, B)) < p_pulse
    x = np.where(pulses, rng.choice([-1.0, 1.0], size=(T, B)), 0.0)
    y = np.zeros((T, B))
    last = np.zeros(B)
    for t in range(T):
        last = np.where(pulses[t], x[t], last)
        y[t] = last
    return x[..., None], y[..., None]


def train_torch_gru(steps: int, seed: int = 0):
    """A torch GRU (1 -> H) and readout trained on the flip-flop; returns (gru, losses)."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gru = torch.nn.GRU(1, H)                # time-major (T, B, n_in), like rd.run
    readout = torch.nn.Linear(H, 1)
    opt = torch.optim.Adam(list(gru.parameters()) + list(readout.parameters()), lr=0.02)
    losses = []
    for _ in range(steps):
        x, y = (torch.tensor(a, dtype=torch.float32) for a in flip_flop(60, 32, rng))
        out, _ = gru(x)
        loss = torch.mean((readout(out) - y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return gru, losses


def main(quick: bool = False) -> dict:
    """Run the analysis; returns the model, the checks and the analysis results."""
    rng = np.random.default_rng(1)
    x, _ = flip_flop(100, 4, rng)
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        gru_t, losses = train_torch_gru(60 if quick else 100)
        print(f"trained torch.nn.GRU: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
        model = rd.GRU.from_torch(gru_t)
        # the same network in both libraries: compare hidden states in float64
        with torch.no_grad():
            ref = gru_t.double()(torch.tensor(x))[0].numpy()
        states = rd.run(model, x).states
        err = float(np.max(np.abs(states - ref)))
        print(f"rd.run reproduces torch's hidden states to {err:.1e}")
    else:
        print("PyTorch is not installed: analysing a randomly initialised GRU instead "
              "(pip install torch to train one)")
        model, losses, err = rd.GRU.random(1, H, seed=0), None, None
        states = rd.run(model, x).states

    # fixed points of the autonomous cell h -> F(h, 0); GRU states live in (-1, 1)
    fps = rd.analysis.find_fixed_points(model, 64, bounds=(-1.0, 1.0), u=np.zeros(1), seed=0)
    for x_star, s, ev in zip(fps.points, fps.stability, fps.eigenvalues):
        print(f"fixed point {s:8s} largest |mu| = {np.abs(ev).max():.3f}, "
              f"h[:3] = {np.round(x_star[:3], 3)}")

    # gradient flow back in time along an input sequence with one pulse
    T = 50 if quick else 200
    pulse = np.zeros((T, 1))
    pulse[0] = 1.0
    g = rd.analysis.jacobian_product_norms(model, pulse)
    lag = min(20, T)
    rate = -g.log_norms[lag] / lag
    print(f"||dh_T/dh_(T-k)||: {g.norms[1]:.3f} at k = 1, {g.norms[lag]:.2e} at k = {lag} "
          f"(decay rate {rate:.3f} per step)")
    return {"model": model, "torch": torch is not None, "losses": losses,
            "max_abs_error": err, "inputs": x, "states": states, "fixed_points": fps,
            "gradient_norms": g}


if __name__ == "__main__":
    main()
