"""``rnndyn figures --list`` (paper, figure and headline of every study, read from its source)
and the README gallery of ``scripts/gallery.py``."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rnndyn import cli

ROOT = Path(__file__).resolve().parents[1]

WITH_HEADLINE = '''"""Fig. 3 of: Sussillo & Barak, Opening the black box, Neural Computation 25(3):626, 2013, doi:x

Body text. More.
"""
HEADLINE = ("Eight memories, "
            "twelve saddles")
raise RuntimeError("listing must not run a study")
'''
WITHOUT_HEADLINE = '''"""Reproduces the spectra figures of: Amit, Gutfreund & Sompolinsky, Storing infinite numbers, Phys. Rev. Lett. 55, 1530, 1985, DOI 10.1103/PhysRevLett.55.1530

The overlap ``m = s . xi / N`` after recall, e.g. from noisy keys (Amit et al. 1985). Rest.
"""
'''


def _studies(tmp_path):
    folder = tmp_path / "studies"
    folder.mkdir()
    (folder / "sussillo2013_fixed_points.py").write_text(WITH_HEADLINE)
    (folder / "amit1985_hopfield_capacity.py").write_text(WITHOUT_HEADLINE)
    (folder / "_helper.py").write_text('"""Not a study."""\n')
    return folder


def test_describe_reads_paper_figure_and_headline_without_running(tmp_path):
    folder = _studies(tmp_path)
    info = cli.describe(folder / "sussillo2013_fixed_points.py")  # would raise if run
    assert info == cli.StudyInfo(
        "sussillo2013_fixed_points", "Sussillo & Barak 2013", "Fig. 3",
        "Sussillo & Barak, Opening the black box, Neural Computation 25(3):626, 2013, doi:x",
        "Eight memories, twelve saddles")
    info = cli.describe(folder / "amit1985_hopfield_capacity.py")
    assert info.paper == "Amit, Gutfreund & Sompolinsky 1985"
    assert info.figure == "Spectra figures"  # "Reproduces the" dropped
    # no HEADLINE: the body's first sentence, not cut at "s ." inside code or at "e.g."/"al."
    assert info.headline == ("The overlap ``m = s . xi / N`` after recall, e.g. from noisy keys"
                             " (Amit et al. 1985).")


def test_long_first_sentence_is_cut_outside_code(tmp_path):
    words = " ".join(f"word{k}" for k in range(30))
    path = tmp_path / "x2000_y.py"
    path.write_text(f'"""Fig. 1 of: X, T, J, 2000\n\nA ``code span {words}`` end.\n"""\n')
    headline = cli.describe(path).headline
    assert headline == "A\u2026"  # the cut fell inside the code span: cut before it
    assert len(headline) <= cli.HEADLINE_CHARS


def test_list_prints_each_study(tmp_path, capsys):
    folder = _studies(tmp_path)
    assert cli.main(["figures", "--list", "--studies", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "amit1985_hopfield_capacity  (Amit, Gutfreund & Sompolinsky 1985, Spectra figures)",
        "    The overlap ``m = s . xi / N`` after recall, e.g. from noisy keys (Amit et al. 1985).",
        "sussillo2013_fixed_points  (Sussillo & Barak 2013, Fig. 3)",
        "    Eight memories, twelve saddles",
    ]


def test_list_of_the_real_studies():
    """Every committed study has a paper with a year and a headline."""
    for name, path in cli.discover(ROOT / "studies").items():
        info = cli.describe(path)
        assert info.paper and info.paper[-4:].isdigit(), (name, info)
        assert info.headline, name
    assert cli.describe(ROOT / "studies" / "sussillo2013_fixed_points.py").figure == "Fig. 3"


def test_gallery_rows(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("gallery", ROOT / "scripts" / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    folder = _studies(tmp_path)
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "sussillo2013_fixed_points.png").write_bytes(b"\x89PNG")
    table = gallery.gallery(folder, figures, width=120, base=tmp_path).splitlines()
    assert table[:2] == ["| Figure | Study | Paper | Headline |", "|---|---|---|---|"]
    src = "figures/sussillo2013_fixed_points.png"
    assert table[2:] == [f'| <a href="{src}"><img src="{src}" width="120" '
                         'alt="sussillo2013_fixed_points"></a> | `sussillo2013_fixed_points` '
                         "| Sussillo & Barak 2013, Fig. 3 | Eight memories, twelve saddles |"]
    assert "amit1985_hopfield_capacity" in capsys.readouterr().err  # no figure: named


@pytest.mark.parametrize("bad", [["figures", "--list", "--studies", "/nonexistent"]])
def test_list_without_studies(bad, capsys):
    assert cli.main(bad) == 2
    assert "no studies/ folder" in capsys.readouterr().err


STAGED = '''"""Fig. 1 of: Someone, A study, J. 1, 1, 2000"""
import os


def run(quick=False, out=None):
    (out / "staged.json").write_text("{}")
    (out / "staged.png").write_bytes(b"half a figure")
    if os.environ.get("STAGED_FAIL"):
        raise RuntimeError("killed half-way")
    return {"ok": 1}
'''


def test_a_study_failing_half_way_leaves_its_previous_figure(tmp_path, monkeypatch):
    folder = tmp_path / "studies"
    folder.mkdir()
    (folder / "staged.py").write_text(STAGED)
    out = tmp_path / "figs"
    assert cli.main(["figures", "staged", "--studies", str(folder), "--out", str(out)]) == 0
    assert (out / "staged.png").read_bytes() == b"half a figure"
    (out / "staged.png").write_bytes(b"the published figure")
    monkeypatch.setenv("STAGED_FAIL", "1")
    with pytest.raises(RuntimeError, match="half-way"):
        cli.main(["figures", "staged", "--studies", str(folder), "--out", str(out)])
    assert (out / "staged.png").read_bytes() == b"the published figure"
    assert sorted(p.name for p in out.iterdir()) == ["staged.json", "staged.png"]  # no stage
