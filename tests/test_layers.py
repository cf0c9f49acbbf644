"""The layers import left to right: graphs -> models -> integrate -> {train, analysis} ->
{tasks, robotics} (-> plot), and the layers above integrate use only its named internal API
(``rnndyn.integrate.plumbing``), never its private modules."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "rnndyn"


def imports(folder):
    """(file, imported module) for every import in the .py files of ``folder``, relative
    imports resolved to absolute ``rnndyn.`` names."""
    for f in sorted((PKG / folder).glob("*.py")) if folder else [PKG / "plot.py"]:
        pkg = ["rnndyn"] + list(f.relative_to(PKG).parent.parts)
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = pkg[: len(pkg) - node.level + 1] if node.level else []
                mod = ".".join(base + ([node.module] if node.module else []))
                yield f.name, mod
                for a in node.names:
                    yield f.name, f"{mod}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    yield f.name, a.name


def test_models_never_import_integrate_or_analysis():
    bad = [(f, m) for f, m in imports("models") if m.startswith(("rnndyn.integrate",
                                                                 "rnndyn.analysis"))]
    assert not bad


@pytest.mark.parametrize("folder", ["analysis", ""])
def test_analysis_and_plot_use_only_the_public_and_plumbing_names_of_integrate(folder):
    import rnndyn.integrate

    allowed = {f"rnndyn.integrate.{n}" for n in rnndyn.integrate.__all__}
    allowed |= {"rnndyn.integrate", "rnndyn.integrate.plumbing"}
    plumbing = {f"rnndyn.integrate.plumbing.{n}" for n in rnndyn.integrate.plumbing.__all__}
    bad = [(f, m) for f, m in imports(folder) if m.startswith("rnndyn.integrate")
           and m not in allowed | plumbing]
    assert not bad


def test_plot_uses_no_private_analysis_module():
    assert not [(f, m) for f, m in imports("") if m.startswith("rnndyn.analysis._")]



LAYER = {"graphs": 0, "models": 1, "integrate": 2, "train": 3, "analysis": 3, "tasks": 4,
         "robotics": 4}


@pytest.mark.parametrize("folder", sorted(LAYER))
def test_no_layer_imports_a_layer_to_its_right(folder):
    bad = [(f, m) for f, m in imports(folder)
           if m.split(".")[:1] == ["rnndyn"] and len(m.split(".")) > 1
           and LAYER.get(m.split(".")[1], -1) > LAYER[folder]]
    assert not bad


@pytest.mark.parametrize("folder", ["train", "tasks", "robotics"])
def test_upper_layers_use_only_the_public_and_plumbing_names_of_integrate(folder):
    import rnndyn.integrate

    allowed = {f"rnndyn.integrate.{n}" for n in rnndyn.integrate.__all__}
    allowed |= {"rnndyn.integrate", "rnndyn.integrate.plumbing"}
    allowed |= {f"rnndyn.integrate.plumbing.{n}" for n in rnndyn.integrate.plumbing.__all__}
    assert not [(f, m) for f, m in imports(folder)
                if m.startswith("rnndyn.integrate") and m not in allowed]
