"""NTM training step (forward + backward of the copy task's bits loss): rnndyn vs PyTorch CPU.

Run: ``python benchmarks/ntm.py [--repeats 5] [--dtype float32] [--batch 1 16]``. The issue's
configuration: memory 128 x 20, LSTM controller of 100 units, one read and one write head,
copy sequences of length 20 (8 bits, so T = 41 steps with the delimiter and the recall), batch
1 and 16, float32, the same number of threads for both (``torch.set_num_threads`` = numba's).

The PyTorch NTM is written here in the structure of the well-known pytorch-ntm (Loudon,
github.com/loudinthecloud/pytorch-ntm): an ``nn.LSTMCell`` controller, one ``nn.Linear``
emitting the heads' parameters, content addressing by cosine similarity, interpolation,
circular shift, sharpening, erase/add write, read, Python loop over time, autograd backward.
It carries rnndyn's weights and computes the same function (NTM.random's layout, constant
initial memory, every head starting on location 0), and the script checks that: the losses
and the gradients of both must agree before anything is timed.

Prints a markdown table of milliseconds per training step (best of ``repeats``, interleaved)
and the ratio PyTorch / rnndyn (> 1: rnndyn is faster).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_times, table, torch_like_numba  # noqa: E402
from rnndyn.models.ntm import NTM  # noqa: E402
from rnndyn.tasks.ntm import copy  # noqa: E402
from rnndyn.train.gradients import bptt  # noqa: E402

N_MEM, W_MEM, H, WIDTH, LENGTH = 128, 20, 100, 8, 20


class TorchNTM:
    """The NTM of ``rnndyn.models.ntm`` (one read, one write head) in PyTorch."""

    def __init__(self, torch, m: NTM, dtype):
        self.torch, self.m = torch, m
        self.dt = getattr(torch, dtype)
        nn = torch.nn
        self.lstm = nn.LSTMCell(m.n_in + m.W, m.H).to(self.dt)
        self.head = nn.Linear(m.H, m.W_head.shape[0]).to(self.dt)
        self.out = nn.Linear(m.H + m.W, m.n_out).to(self.dt)
        t = lambda a: torch.from_numpy(np.asarray(a, dtype=dtype))  # noqa: E731
        with torch.no_grad():
            self.lstm.weight_ih.copy_(t(m.W_in))
            self.lstm.weight_hh.copy_(t(m.W_hh))
            self.lstm.bias_ih.copy_(t(m.b))
            self.lstm.bias_hh.zero_()
            self.head.weight.copy_(t(m.W_head))
            self.head.bias.copy_(t(m.b_head))
            self.out.weight.copy_(t(m.W_out))
            self.out.bias.copy_(t(m.b_out))
        self.params = [self.lstm.weight_ih, self.lstm.weight_hh, self.lstm.bias_ih,
                       self.head.weight, self.head.bias, self.out.weight, self.out.bias]

    def address(self, q, M, w_prev):
        torch, W, sr = self.torch, self.m.W, self.m.shift_range
        F = torch.nn.functional
        k = torch.tanh(q[:, :W])
        beta = 1.0 + F.softplus(q[:, W:W + 1])
        g = torch.sigmoid(q[:, W + 1:W + 2])
        s = torch.softmax(q[:, W + 2:W + 3 + 2 * sr], dim=1)
        gamma = 1.0 + F.softplus(q[:, W + 3 + 2 * sr:W + 4 + 2 * sr])
        eps2 = 1e-16
        K = torch.einsum("bnw,bw->bn", M, k) / (
            torch.sqrt((k * k).sum(1, keepdim=True) + eps2) * torch.sqrt((M * M).sum(2) + eps2))
        wg = g * torch.softmax(beta * K, dim=1) + (1.0 - g) * w_prev
        ws = sum(s[:, j:j + 1] * torch.roll(wg, j - sr, dims=1) for j in range(2 * sr + 1))
        # sharpening in logs, as rnndyn does: w^gamma underflows in float32 otherwise
        return torch.softmax(gamma * torch.log(ws + 1e-30), dim=1)

    def loss(self, X, Y, mask):
        torch, m = self.torch, self.m
        T, B, _ = X.shape
        Pa = m.W + 4 + 2 * m.shift_range
        h = torch.zeros(B, m.H, dtype=self.dt)
        c = torch.zeros(B, m.H, dtype=self.dt)
        M = torch.full((B, m.N, m.W), m.memory_init, dtype=self.dt)
        w0 = torch.zeros(B, m.N, dtype=self.dt)
        w0[:, 0] = 1.0
        w_write, w_read = w0, w0
        r = torch.zeros(B, m.W, dtype=self.dt)
        logits = []
        for t in range(T):
            h, c = self.lstm(torch.cat([X[t], r], 1), (h, c))
            P = self.head(h)
            w_write = self.address(P[:, :Pa], M, w_write)
            e = torch.sigmoid(P[:, 2 * Pa:2 * Pa + m.W])
            a = torch.tanh(P[:, 2 * Pa + m.W:2 * Pa + 2 * m.W])
            M = M * (1.0 - w_write[:, :, None] * e[:, None, :]) + w_write[:, :, None] * a[:, None, :]
            w_read = self.address(P[:, Pa:2 * Pa], M, w_read)
            r = torch.einsum("bn,bnw->bw", w_read, M)
            logits.append(self.out(torch.cat([h, r], 1)))
        Z = torch.stack(logits)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(Z, Y, reduction="none")
        return (bce * mask[..., None]).sum() / (B * np.log(2.0))

    def step(self, X, Y, mask):
        for p in self.params:
            p.grad = None
        value = self.loss(X, Y, mask)
        value.backward()
        return float(value)

    def gradient(self) -> np.ndarray:
        return np.concatenate([p.grad.numpy().ravel().astype(float) for p in self.params])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", nargs="+", default=["float32"])
    ap.add_argument("--batch", nargs="+", type=int, default=[1, 16])
    args = ap.parse_args()
    torch = torch_like_numba()
    rows = []
    m = NTM.random(WIDTH + 1, WIDTH, H, N=N_MEM, W=W_MEM, seed=0)
    for dtype in args.dtype:
        dt = np.dtype(dtype).type
        for B in args.batch:
            data = copy(B, LENGTH, width=WIDTH, seed=1)
            X, Y, mask = data.inputs.astype(dtype), data.targets, data.mask

            def ours():
                return bptt(m, X, Y, "bits", mask=mask, dtype=dt)

            row = {"dtype": dtype, "B": B, "T": X.shape[0]}
            if torch is None:
                (t_ours,) = best_times([ours], args.repeats)
            else:
                tm = TorchNTM(torch, m, dtype)
                Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y.astype(dtype))
                Mt = torch.from_numpy(mask.astype(dtype))

                def theirs():
                    return tm.step(Xt, Yt, Mt)

                g = ours()
                value = theirs()
                g_t = tm.gradient()
                # the same function: equal losses and gradients (to the precision)
                row["|dloss|/loss"] = f"{abs(value - g.loss) / g.loss:.1e}"
                row["|dgrad|/max"] = f"{np.abs(g.gradient - g_t).max() / np.abs(g_t).max():.1e}"
                t_ours, t_theirs = best_times([ours, theirs], args.repeats)
                row["PyTorch ms"] = f"{1e3 * t_theirs:.1f}"
                row["ratio PyTorch/rnndyn"] = f"{t_theirs / t_ours:.2f}"
            row["rnndyn ms"] = f"{1e3 * t_ours:.2f}"
            rows.append(row)
            print(row, flush=True)
    print(f"\nNTM training step (N = {N_MEM}, W = {W_MEM}, LSTM {H}, copy length {LENGTH}), "
          f"{numba.get_num_threads()} threads\n")
    print(table(rows, ["dtype", "B", "T", "rnndyn ms", "PyTorch ms", "ratio PyTorch/rnndyn",
                       "|dloss|/loss", "|dgrad|/max"]))


if __name__ == "__main__":
    main()
