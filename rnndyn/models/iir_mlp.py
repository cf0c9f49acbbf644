"""Locally recurrent, globally feedforward networks: the MLP with IIR synapses (IIR-MLP) and
the activation-feedback MLP (Back & Tsoi 1991, Neural Computation 3(3):375; Campolucci,
Uncini, Piazza & Rao 1999, IEEE Trans. Neural Networks 10(2):253).

One hidden layer (N1 units) between the inputs (m) and the outputs (N2). In the IIR-MLP every
synapse m -> n of layer l is an IIR filter,

    y_nm[t] = sum_{k=0..L_l} w_nm,k x_m[t-k] + sum_{q=1..I_l} v_nm,q y_nm[t-q],
    s_n[t]  = b_n + sum_m y_nm[t],      x_n[t] = act_l(s_n[t]);

in the activation-feedback variant (``feedback="activation"``) the synapses are FIR filters
and each neuron feeds its summed synaptic activation back through one all-pole filter,
``y_n[t] = sum_m sum_k w_nm,k x_m[t-k] + sum_q v_n,q y_n[t-q]``, ``s_n = b_n + y_n``. The
bias is added after the filters in both, so the activation-feedback MLP is the IIR-MLP whose
synapses onto a neuron share their poles. L_l = I_l = 0 is the static MLP.

As a map (``kind = "map"``) the state is every filter memory (delay lines and past filter
outputs) plus the network output x2[t], so ``rnndyn.run`` runs it and the generic BPTT of
``rnndyn.train`` differentiates it (the reference for ``rnndyn.train.crbp``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_seed, in_range, positive
from ..errors import ValidationError
from . import _iir_mlp_kernels as ik
from .base import Functions, Model, as_array
from .cell import ACTIVATIONS, check_activation

_FEEDBACK = ("synapse", "activation")


def _order(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 0:
        raise ValidationError(name, f"a filter order must be an int >= 0, got {value!r}", value)
    return int(value)


@dataclass(frozen=True, eq=False, repr=False)
class IIRMLP(Model):
    """MLP with IIR synapses (or activation feedback), one hidden layer.

    Parameters
    ----------
    W1 : array (N1, n_in, L1 + 1) or (P, N1, n_in, L1 + 1)
        Moving-average taps of the input -> hidden synapses, ``W1[n, m, k]`` on x_m[t-k].
    V1 : array (N1, n_in, I1) (synapse feedback) or (N1, I1) (activation feedback)
        Feedback taps, ``V1[..., q]`` on the filter output at t-1-q.
    b1 : float or array (N1,)
    W2, V2, b2 : as W1, V1, b1 for the hidden -> output layer (N2 outputs).
    activation, output_activation : str
        Names from ``rnndyn.models.DISCRETE_ACTIVATIONS``; defaults "tanh" and "identity".
    feedback : {"synapse", "activation"}
        IIR synapses (IIR-MLP) or FIR synapses with activation feedback.
    """

    W1: np.ndarray
    V1: np.ndarray
    W2: np.ndarray
    V2: np.ndarray
    b1: np.ndarray = 0.0
    b2: np.ndarray = 0.0
    activation: str = "tanh"
    output_activation: str = "identity"
    feedback: str = "synapse"

    kind = "map"
    _functions = Functions(rhs=None, step=ik.iir_step, jacobian=ik.iir_jacobian,
                           output=ik.iir_output, member=ik.iir_member,
                           work_size=ik.iir_work_size, vjp=ik.iir_vjp,
                           output_vjp=ik.iir_output_vjp, param_size=ik.iir_param_size)
    _batched = ("W1", "V1", "b1", "W2", "V2", "b2")
    _params = _batched  # the kernels' raw order

    def __post_init__(self):
        name = type(self).__name__
        if self.feedback not in _FEEDBACK:
            raise ValidationError(f"{name}.feedback", f"must be one of {list(_FEEDBACK)}, "
                                  f"got {self.feedback!r}", self.feedback)
        af = self.feedback == "activation"
        W1 = as_array(self.W1, f"{name}.W1")
        if W1.ndim not in (3, 4) or 0 in W1.shape:
            raise ValidationError(f"{name}.W1", "expected shape (N1, n_in, L1 + 1) (or with a "
                                  f"leading population axis), nonempty, got {W1.shape}", W1)
        lead = W1.shape[:-3]
        N1, m = W1.shape[-3:-1]
        W2 = as_array(self.W2, f"{name}.W2")
        if W2.ndim != W1.ndim or W2.shape[:-3] != lead or W2.shape[-2] != N1 or \
                0 in W2.shape:
            raise ValidationError(f"{name}.W2", f"expected shape {lead + (None, N1, None)} "
                                  f"((N2, N1, L2 + 1), N1 = {N1} hidden units), got "
                                  f"{W2.shape}", W2)
        N2 = W2.shape[-3]
        for f, N, C in (("V1", N1, m), ("V2", N2, N1)):
            V = as_array(getattr(self, f), f"{name}.{f}")
            want = lead + ((N,) if af else (N, C))
            if V.ndim != len(want) + 1 or V.shape[:-1] != want:
                raise ValidationError(f"{name}.{f}", f"expected shape {want + ('I',)} for "
                                      f"feedback={self.feedback!r}, got {V.shape}", V)
            object.__setattr__(self, f, V)
        for f, N in (("b1", N1), ("b2", N2)):
            b = getattr(self, f)
            b = np.broadcast_to(np.asarray(b, dtype=float), lead + (N,)) if np.ndim(b) == 0 else b
            object.__setattr__(self, f, as_array(b, f"{name}.{f}", lead + (N,)))
        object.__setattr__(self, "W1", W1)
        object.__setattr__(self, "W2", W2)
        check_activation(self.activation, f"{name}.activation")
        check_activation(self.output_activation, f"{name}.output_activation")

    # -- sizes --------------------------------------------------------------------------------
    @property
    def P(self):
        return self.W1.shape[0] if self.W1.ndim == 4 else None

    @property
    def n_in(self) -> int:
        return self.W1.shape[-2]

    @property
    def n_hidden(self) -> int:
        return self.W1.shape[-3]

    @property
    def n_out(self) -> int:
        return self.W2.shape[-3]

    @property
    def orders(self) -> tuple:
        """((L1, I1), (L2, I2)): moving-average and feedback orders of the two layers."""
        return ((self.W1.shape[-1] - 1, self.V1.shape[-1]),
                (self.W2.shape[-1] - 1, self.V2.shape[-1]))

    @property
    def n(self) -> int:
        return int(ik.offsets(self._kernel_member())[5])

    def _kernel_member(self):
        p = self.kernel_params
        return p if self.P is None else ik.iir_member(p, 0)

    @property
    def kernel_params(self):
        af = self.feedback == "activation"
        V1, V2 = self.V1, self.V2
        if af:  # one feedback filter per neuron: the kernels' (N, 1, I) layout
            V1 = V1.reshape(V1.shape[:-1] + (1, V1.shape[-1]))
            V2 = V2.reshape(V2.shape[:-1] + (1, V2.shape[-1]))
        return (self.W1, V1, self.b1, self.W2, V2, self.b2, ACTIVATIONS[self.activation],
                ACTIVATIONS[self.output_activation], int(af))

    def state_slices(self) -> dict:
        """Where each memory sits in the state vector: ``{"x0", "y1", "x1", "y2", "out"}`` ->
        slice (input delay line, layer-1 filter outputs, hidden delay line, layer-2 filter
        outputs, network output)."""
        o = ik.offsets(self._kernel_member())
        names = ("x0", "y1", "x1", "y2", "out")
        return {k: slice(int(o[i]), int(o[i + 1])) for i, k in enumerate(names)}

    @classmethod
    def random(cls, n_in: int, n_hidden: int, n_out: int, orders=((1, 1), (1, 1)), *,
               feedback: str = "synapse", activation: str = "tanh",
               output_activation: str = "identity", scale: float = 1.0,
               pole_radius: float = 0.5, seed=None) -> "IIRMLP":
        """Random network: taps ~ U(-k, k), k = scale / sqrt(fan-in x (L + 1)); feedback taps
        drawn so every feedback filter is stable (its poles have modulus <= pole_radius).

        ``orders`` is ((L1, I1), (L2, I2)), each an int >= 0.
        """
        rng = check_seed(seed)
        for name, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValidationError(f"IIRMLP.random.{name}", f"must be an int >= 1, got "
                                      f"{v!r}", v)
        try:
            (L1, I1), (L2, I2) = orders
        except (TypeError, ValueError):
            raise ValidationError("IIRMLP.random.orders", f"expected ((L1, I1), (L2, I2)), got {orders!r}",
                                  orders) from None
        L1, I1 = _order(L1, "IIRMLP.random.orders.L1"), _order(I1, "IIRMLP.random.orders.I1")
        L2, I2 = _order(L2, "IIRMLP.random.orders.L2"), _order(I2, "IIRMLP.random.orders.I2")
        af = feedback == "activation"
        scale = positive(scale, "IIRMLP.random.scale")
        pole_radius = in_range(pole_radius, "IIRMLP.random.pole_radius", 0.0, 1.0, "left")

        def taps(N, M, L):
            k = scale / np.sqrt(M * (L + 1))
            return rng.uniform(-k, k, (N, M, L + 1))

        def poles(shape, I):
            # stable feedback: coefficients of prod_q (1 - r_q z^-1), real r_q in (-R, R)
            out = np.zeros(shape + (I,))
            for idx in np.ndindex(*shape):
                c = np.poly(rng.uniform(-pole_radius, pole_radius, I)) if I else np.ones(1)
                out[idx] = -c[1:]
            return out
        return cls(W1=taps(n_hidden, n_in, L1), W2=taps(n_out, n_hidden, L2),
                   V1=poles((n_hidden,) if af else (n_hidden, n_in), I1),
                   V2=poles((n_out,) if af else (n_out, n_hidden), I2),
                   b1=rng.uniform(-0.1, 0.1, n_hidden), b2=0.0, activation=activation,
                   output_activation=output_activation, feedback=feedback)
