"""One validation module and one naming rule: every ValidationError from a front door names
its parameter as ``func.param`` or ``Class.field`` (issue: newcomer-proof, item 20)."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnndyn as rd
from rnndyn import _validate as v
from rnndyn.errors import ValidationError

PKG = Path(rd.__file__).parent
NET = rd.CTRNN(W=[[4.5, 1.0], [-1.0, 4.5]])
ELMAN = rd.Elman.random(1, 3, seed=0)

# (call, expected qualified name): each passes one bad argument to one front door
BAD_CALLS = [
    (lambda: rd.simulate(NET, [0.0, 0.0], [0.0, 1.0], dt="0.1"), "simulate.dt"),
    (lambda: rd.simulate(NET, [0.0, 0.0], [0.0, 1.0], dt=0.1, method="rk5"), "simulate.method"),
    (lambda: rd.run(ELMAN, np.ones((5, 2))), "run.inputs"),
    (lambda: rd.run(ELMAN, np.ones((5, 1)), h0=np.ones(4)), "run.h0"),
    (lambda: rd.Stepper(NET, dt=-1.0), "Stepper.dt"),
    (lambda: rd.DiscreteStepper(ELMAN, batch=0), "DiscreteStepper.batch"),
    (lambda: rd.DiscreteStepper(ELMAN).step(np.ones(2)), "DiscreteStepper.step.u"),
    (lambda: rd.analysis.lyapunov_spectrum(NET, [0.1, 0.1], t_total=10, dt=0.1, tol=-1),
     "lyapunov_spectrum.tol"),
    (lambda: rd.analysis.find_fixed_points(NET, n_starts=0), "find_fixed_points.n_starts"),
    (lambda: rd.analysis.power_spectrum(np.ones(16), nperseg=0), "power_spectrum.nperseg"),
    (lambda: rd.graphs.random_network(0), "random_network.n"),
    (lambda: rd.graphs.ring(5, k="2"), "ring.k"),
    (lambda: rd.graphs.save(rd.graphs.ring(3), ""), "save.path"),
    (lambda: rd.graphs.to_arrays(rd.graphs.ring(3), nodelist=[0, 1]), "to_arrays.nodelist"),
    (lambda: NET.rhs(0.0, [0.0]), "CTRNN.rhs.y"),
    (lambda: ELMAN.step(np.zeros(3), np.ones(3)), "Elman.step.u"),
    (lambda: NET.to_vector(["nope"]), "CTRNN.to_vector"),
    (lambda: rd.CTRNN(W=[[1.0]], tau=[-1.0]), "CTRNN.tau"),
]


@pytest.mark.parametrize("call, name", BAD_CALLS, ids=[n for _, n in BAD_CALLS])
def test_front_doors_qualify_parameter_names(call, name):
    with pytest.raises(ValidationError) as e:
        call()
    assert e.value.attr.startswith(name), e.value.attr
    assert str(e.value).startswith(e.value.attr + ": ")


def test_outermost_front_door_names_the_parameter():
    @v.front_door()
    def inner(tau, G=None):
        if G is not None:
            raise ValidationError("graph.edge(0, 1).weight", "must be finite")
        v.positive(tau, "tau")

    @v.front_door()
    def outer(tau, G=None):
        inner(tau, G)

    with pytest.raises(ValidationError) as e:
        inner(-1.0)
    assert e.value.attr == "inner.tau" and str(e.value).startswith("inner.tau: must be")
    with pytest.raises(ValidationError) as e:  # the user called outer: it names tau
        outer(-1.0)
    assert e.value.attr == "outer.tau"
    with pytest.raises(ValidationError) as e:  # a path inside an argument stays a path
        outer(1.0, G="g")
    assert e.value.attr == "graph.edge(0, 1).weight"
    assert v._nesting.depth == 0  # the bookkeeping unwinds after errors


def test_validators_live_in_one_module():
    # the checks once spread over five files (flipped argument orders) are gone
    defined = {}
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in (
                    "positive", "positive_int", "_positive", "real_number", "_int"):
                defined.setdefault(node.name, []).append(path.relative_to(PKG).as_posix())
    assert defined == {"positive": ["_validate.py"], "positive_int": ["_validate.py"],
                       "real_number": ["_validate.py"]}


junk = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.binary(max_size=3),
                 st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20),
                 st.complex_numbers(), st.lists(st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(junk)
def test_validators_accept_or_raise_validation_error(value):
    for check in (lambda x: v.positive(x, "f.x"), lambda x: v.positive(x, "f.x", True),
                  lambda x: v.positive_int(x, "f.x"), lambda x: v.real_number(x, "f.x"),
                  lambda x: v.in_range(x, "f.x", 0.0, 1.0, "right"),
                  lambda x: v.choice(x, "f.x", ("a", "b"))):
        try:
            out = check(value)
        except ValidationError as e:
            assert e.attr == "f.x"
            continue
        assert out is not None


@pytest.mark.parametrize("value, ok", [(1.0, True), (0.0, False), (-1, False), (np.inf, False),
                                       (np.nan, False), (True, False), ("1", False), (2, True)])
def test_positive(value, ok):
    if ok:
        assert v.positive(value, "f.x") == float(value)
    else:
        with pytest.raises(ValidationError, match="f.x"):
            v.positive(value, "f.x")


@pytest.mark.parametrize("value, closed, ok", [(0.0, "right", False), (1.0, "right", True),
                                               (0.0, "both", True), (1.0, "neither", False),
                                               (0.5, "neither", True), (1.5, "both", False)])
def test_in_range(value, closed, ok):
    if ok:
        assert v.in_range(value, "f.a", 0.0, 1.0, closed) == value
    else:
        with pytest.raises(ValidationError, match=r"f\.a: must lie in"):
            v.in_range(value, "f.a", 0.0, 1.0, closed)
