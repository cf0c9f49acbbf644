"""PyTorch weight exchange of whole recurrent modules: deep, bidirectional and both.

Known truth: torch's own forward pass (float64) on the same weights, inputs and initial
states; the imported rnndyn model must reproduce its output sequence and final states to
1e-10, and the export must load into a fresh torch module with ``strict=True``.
"""
import numpy as np
import pytest

from rnndyn.errors import ValidationError
from rnndyn.integrate import run
from rnndyn.models import GRU, LSTM, Bidirectional, Elman, Stacked
from rnndyn.models.deep import BidirectionalStack

torch = pytest.importorskip("torch")

T, B, N_IN, H = 7, 3, 4, 5
RNG = np.random.default_rng(42)
X = RNG.normal(size=(T, B, N_IN))
OURS = {"LSTM": LSTM, "GRU": GRU, "RNN": Elman}
SHAPES = [(2, False), (1, True), (2, True)]


def torch_module(name, L, bidirectional, seed=0, **kwargs):
    torch.manual_seed(seed)
    return getattr(torch.nn, name)(N_IN, H, num_layers=L, bidirectional=bidirectional,
                                   **kwargs).double()


def random_states(name, L, D):
    """torch's (h0[, c0]) of shape (L*D, B, H) and the same states in rnndyn's layout."""
    h0 = RNG.normal(size=(L * D, B, H)) * 0.5
    c0 = RNG.normal(size=(L * D, B, H)) * 0.5
    hx = (torch.from_numpy(h0), torch.from_numpy(c0)) if name == "LSTM" else torch.from_numpy(h0)
    cell = [np.concatenate([h0[k], c0[k]], -1) if name == "LSTM" else h0[k]
            for k in range(L * D)]  # state of layer l, direction d at index l*D + d
    if D == 1:
        ours = cell[0] if L == 1 else np.concatenate(cell, axis=-1)  # Stacked: [s_1; ...; s_L]
    elif L == 1:
        ours = (cell[0], cell[1])
    else:
        ours = [(cell[2 * l], cell[2 * l + 1]) for l in range(L)]
    return hx, ours


def outputs(model, x, h0=None):
    """(outputs, finals) of any imported model; bidirectional finals as (forward, backward)
    pairs (one per layer for a stack), split from run's concatenated final."""
    res = run(model, x, h0=h0)
    if not isinstance(model, (Bidirectional, BidirectionalStack)):
        return res.outputs, res.final
    layers = model.layers if isinstance(model, BidirectionalStack) else (model,)
    cuts = np.cumsum([c.n for layer in layers for c in (layer.forward, layer.backward)])[:-1]
    parts = np.split(res.final, cuts, axis=-1)
    pairs = tuple(zip(parts[::2], parts[1::2]))
    return res.outputs, pairs[0] if isinstance(model, Bidirectional) else pairs


def final_states(name, model, finals, L, D):
    """rnndyn finals -> torch's h_n (L*D, B, H)."""
    if D == 1:
        n = 2 * H if name == "LSTM" else H
        per = [finals[:, l * n:l * n + H] for l in range(L)]
    elif L == 1:
        per = [f[:, :H] for f in finals]
    else:
        per = [f[:, :H] for pair in finals for f in pair]
    return np.stack(per)


# -- the regression: whole modules, not layer 0 forward ---------------------------------------
@pytest.mark.parametrize("L, bidirectional", SHAPES)
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("source", ["module", "state_dict", "numpy"])
def test_deep_and_bidirectional_equal_pytorch_to_1e10(name, L, bidirectional, source):
    D = 2 if bidirectional else 1
    mod = torch_module(name, L, bidirectional)
    src = {"module": mod, "state_dict": mod.state_dict(),
           "numpy": {k: v.numpy() for k, v in mod.state_dict().items()}}[source]
    model = OURS[name].from_torch(src)
    expected = {(2, 1): Stacked, (1, 2): Bidirectional, (2, 2): BidirectionalStack}[L, D]
    assert type(model) is expected
    hx, h0 = random_states(name, L, D)
    with torch.no_grad():
        ref, h_n = mod(torch.from_numpy(X), hx)
    h_n = h_n[0] if name == "LSTM" else h_n
    y, finals = outputs(model, X, h0)
    np.testing.assert_allclose(y, ref.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(final_states(name, model, finals, L, D), h_n.numpy(), rtol=0,
                               atol=1e-10)
    # zero initial state and one unbatched sequence too
    with torch.no_grad():
        ref0 = mod(torch.from_numpy(X[:, 0]))[0].numpy()
    np.testing.assert_allclose(outputs(model, X[:, 0])[0], ref0, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_cell_modules_import(name):
    torch.manual_seed(1)
    mod = getattr(torch.nn, name + "Cell")(N_IN, H).double()
    cell = OURS[name].from_torch(mod)
    assert type(cell) is OURS[name]
    _, h0 = random_states(name, 1, 1)
    with torch.no_grad():
        if name == "LSTM":
            ref = mod(torch.from_numpy(X[0]), (torch.from_numpy(h0[:, :H]),
                                               torch.from_numpy(h0[:, H:])))[0]
        else:
            ref = mod(torch.from_numpy(X[0]), torch.from_numpy(h0))
    np.testing.assert_allclose(run(cell, X[:1], h0=h0).outputs[0], ref.numpy(), atol=1e-12)


def test_rnn_nonlinearity_comes_from_the_module():
    mod = torch_module("RNN", 2, True, nonlinearity="relu")
    model = Elman.from_torch(mod)
    assert all(c.activation == "relu" for b in model.layers for c in (b.forward, b.backward))
    with torch.no_grad():
        ref = mod(torch.from_numpy(X))[0].numpy()
    np.testing.assert_allclose(run(model, X).outputs, ref, rtol=0, atol=1e-10)
    # a state dict does not record it: tanh unless told
    assert Elman.from_torch(mod.state_dict()).layers[0].forward.activation == "tanh"
    again = Elman.from_torch(mod.state_dict(), activation="relu")
    np.testing.assert_allclose(run(again, X).outputs, ref, rtol=0, atol=1e-10)
    with pytest.raises(ValidationError, match="relu"):
        Elman.from_torch(mod, activation="tanh")


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_no_bias_and_batch_first_modules(name):
    mod = torch_module(name, 2, False, bias=False, batch_first=True)
    model = OURS[name].from_torch(mod)
    assert all(np.all(c.b_ih == 0) and np.all(c.b_hh == 0) for c in model.layers)
    with torch.no_grad():
        ref = mod(torch.from_numpy(X.transpose(1, 0, 2)))[0].numpy().transpose(1, 0, 2)
    np.testing.assert_allclose(run(model, X).outputs, ref, rtol=0, atol=1e-10)


def test_composite_classes_infer_the_family():
    lstm = torch_module("LSTM", 2, False)
    st = Stacked.from_torch(lstm.state_dict())
    assert type(st) is Stacked and all(type(c) is LSTM for c in st.layers)
    one = Stacked.from_torch(torch_module("GRU", 1, False))
    assert type(one) is Stacked and len(one.layers) == 1
    bi = Bidirectional.from_torch(torch_module("GRU", 1, True).state_dict())
    assert type(bi) is Bidirectional and type(bi.forward) is GRU
    deep = BidirectionalStack.from_torch(torch_module("RNN", 2, True))
    assert type(deep) is BidirectionalStack and deep.n_out == 2 * H
    with pytest.raises(ValidationError, match="Bidirectional.from_torch"):
        Stacked.from_torch(torch_module("LSTM", 2, True))
    with pytest.raises(ValidationError, match="not bidirectional"):
        Bidirectional.from_torch(lstm)


# -- what cannot be imported -------------------------------------------------------------------
@pytest.mark.parametrize("src_name, cls, other", [("LSTM", GRU, "LSTM"), ("GRU", LSTM, "GRU"),
                                                  ("LSTM", Elman, "LSTM"), ("RNN", GRU, "RNN")])
@pytest.mark.parametrize("as_module", [False, True])
def test_family_mismatch_is_named(src_name, cls, other, as_module):
    mod = torch_module(src_name, 1, False)
    src = mod if as_module else mod.state_dict()
    with pytest.raises(ValidationError, match=f"{cls.__name__}.from_torch.*{other}") as err:
        cls.from_torch(src)
    assert "weight_hh_l0" in str(err.value) or as_module


@pytest.mark.parametrize("as_module", [False, True])
def test_projection_is_rejected(as_module):
    mod = torch.nn.LSTM(N_IN, H, proj_size=3, num_layers=2).double()
    with pytest.raises(ValidationError, match="proj_size") as err:
        LSTM.from_torch(mod if as_module else mod.state_dict())
    assert as_module or "weight_hr_l0" in str(err.value)


def test_bad_keys_and_modules_are_rejected():
    sd = torch_module("GRU", 2, False).state_dict()
    with pytest.raises(ValidationError, match="strip the prefix 'gru.'"):
        GRU.from_torch({"gru." + k: v for k, v in sd.items()})
    with pytest.raises(ValidationError, match="weight_hh_l1"):
        GRU.from_torch({k: v for k, v in sd.items() if k != "weight_hh_l1"})
    with pytest.raises(ValidationError, match="Linear"):
        GRU.from_torch(torch.nn.Linear(3, 4))


# -- export --------------------------------------------------------------------------------------
@pytest.mark.parametrize("L, bidirectional", [(1, False)] + SHAPES)
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_to_torch_round_trip(name, L, bidirectional):
    mod = torch_module(name, L, bidirectional, seed=3)
    model = OURS[name].from_torch(mod)
    state = model.to_torch()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert set(state) == set(mod.state_dict())
    fresh = torch_module(name, L, bidirectional, seed=4)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    with torch.no_grad():
        ref = mod(torch.from_numpy(X))[0].numpy()
        again = fresh(torch.from_numpy(X))[0].numpy()
    np.testing.assert_array_equal(again, ref)
    back = OURS[name].from_torch(state)
    assert type(back) is type(model)
    np.testing.assert_allclose(outputs(back, X)[0], ref, rtol=0, atol=1e-10)


def test_to_torch_rejects_what_torch_cannot_run():
    with pytest.raises(ValidationError, match="peephole"):
        LSTM.random(N_IN, H, seed=0, peephole=True).to_torch()
    with pytest.raises(ValidationError, match="reset_after"):
        GRU.random(N_IN, H, seed=0, reset_after=False).to_torch()
    with pytest.raises(ValidationError, match="W_y"):
        Elman.random(N_IN, H, 2, seed=0).to_torch()
    with pytest.raises(ValidationError, match="hidden"):
        Stacked((GRU.random(N_IN, H, seed=0), GRU.random(H, 3, seed=1))).to_torch()
    with pytest.raises(ValidationError, match="W_out"):
        Stacked((GRU.random(N_IN, H, seed=0),), W_out=np.ones((2, H))).to_torch()
    with pytest.raises(ValidationError, match="family"):
        Bidirectional(GRU.random(N_IN, H, seed=0), LSTM.random(N_IN, H, seed=1)).to_torch()
