"""The ``rnndyn`` command: ``rnndyn figures [NAME ...] [--quick] [--out DIR] [--list]``.

``--list`` prints, for every study, its paper (authors and year), the figure it reproduces
and a one-line headline, read from the study's source without running it
(:func:`describe`): the paper and figure from the docstring's first line, ``<figure> of:
<Authors>, <Title>, <Journal>, <Year>, <DOI>``; the headline from a module-level string
``HEADLINE = "..."`` when the study defines one, else the first sentence of the docstring's
body. (A static headline, not one read from the study's json output: the listing must work
before any figure is made, and a headline states what the figure shows, not one run's
numbers.)
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from tqdm import tqdm


def find_studies_dir(start: Path | None = None) -> Path | None:
    """The ``studies/`` folder: in the current directory or a parent, else beside the
    package source (an editable install of a checkout)."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parent.parent):
        if (folder / "studies").is_dir() and any((folder / "studies").glob("*.py")):
            return folder / "studies"
    return None


def discover(studies_dir: Path) -> dict[str, Path]:
    """Study name -> script path, for every ``studies/<author><year>_<what>.py``."""
    return {p.stem: p for p in sorted(studies_dir.glob("*.py")) if not p.stem.startswith("_")}


def load(path: Path):
    """Import a study script as a module (studies are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"rnndyn_study_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise SystemExit(f"study {path.name} has no run(quick, out) function")
    return module


class StudyInfo(NamedTuple):
    """What ``rnndyn figures --list`` shows of a study (see :func:`describe`)."""

    name: str
    paper: str  # "Sussillo & Barak 2013"
    figure: str  # "Fig. 3"
    citation: str  # the docstring's full reference after "of:"
    headline: str


#: the longest headline taken from a docstring sentence (a HEADLINE is shown whole)
HEADLINE_CHARS = 110
_ABBREVIATIONS = {"al", "vs", "eq", "eqs", "cf", "fig", "figs", "e.g", "i.e", "approx", "resp"}


def _first_sentence(text: str) -> str:
    """The first sentence of ``text`` (full stops in abbreviations and ``code`` skipped),
    cut to ``HEADLINE_CHARS`` at a word boundary and outside code spans."""
    text = " ".join(text.split())
    sentence = text
    for m in re.finditer(r"\.(\s|$)", text):
        word = text[:m.start()].rsplit(" ", 1)[-1].lstrip("(")
        if text[:m.start()].count("``") % 2 == 0 and word.lower() not in _ABBREVIATIONS \
                and not re.fullmatch(r"[A-Z]|[a-z]\.[a-z]", word):
            sentence = text[:m.start() + 1]
            break
    if len(sentence) > HEADLINE_CHARS:
        sentence = sentence[:HEADLINE_CHARS - 1].rsplit(" ", 1)[0]
        if sentence.count("``") % 2:  # do not leave a code span open
            sentence = sentence[:sentence.rindex("``")].rstrip()
        sentence = sentence.rstrip(",;:") + "\u2026"
    return sentence


def _authors(citation: str) -> str:
    """The authors at the head of a reference: "A, B & C, Title, ..." -> "A, B & C"."""
    fields = [f.strip() for f in citation.split(",")]
    for k, f in enumerate(fields[:4]):
        if " & " in f or "et al" in f:
            if all(len(g.split()) <= 4 for g in fields[:k + 1]):
                return ", ".join(fields[:k + 1])
            break
    return fields[0]


def describe(path: Path) -> StudyInfo:
    """Paper, figure and headline of a study script, parsed from its source (nothing is
    imported or run).

    The docstring's first line reads ``<figure> of: <Authors>, <Title>, ..., <Year>, ...``
    ("in:" also separates; a leading "Reproduces the" is dropped from the figure); the paper
    is the authors (the comma-separated names up to the one with "&" or "et al.") with the
    first year (1900-2099) of the reference. The headline is the module-level string
    ``HEADLINE`` if there is one, else the first sentence of the docstring's body (shortened
    to ``HEADLINE_CHARS``). Parts that are missing are empty strings.
    """
    path = Path(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    first, _, body = doc.partition("\n")
    parts = re.split(r" (?:of|in): ", first, maxsplit=1)
    figure, citation = parts if len(parts) == 2 else ("", first)
    figure = re.sub(r"^Reproduces (the )?", "", figure.strip()).strip()
    figure = figure[:1].upper() + figure[1:]
    authors = _authors(citation)
    year = re.search(r"\b(19|20)\d\d\b", citation)
    paper = f"{authors} {year.group(0)}" if year else authors
    headline = ""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "HEADLINE"
                                                for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                headline = " ".join(node.value.value.split())
    if not headline:
        paragraphs = [p for p in body.strip().split("\n\n") if p.strip()]
        headline = _first_sentence(paragraphs[0]) if paragraphs else ""
    return StudyInfo(path.stem, paper, figure, citation.strip(), headline)


def _run_staged(path: Path, name: str, quick: bool, out: Path):
    """Run a study into a hidden folder inside ``out``, then move its files into ``out``
    (renames on one file system): a study killed or failing half-way leaves its previous
    figure and summary as they were, never a truncated or mismatched pair."""
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".staging", dir=out))
    try:
        result = load(path).run(quick=quick, out=stage)
        for f in sorted(stage.iterdir()):
            os.replace(f, out / f.name)
        return result
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _figures(args) -> int:
    studies_dir = Path(args.studies) if args.studies else find_studies_dir()
    if studies_dir is None or not studies_dir.is_dir():
        print("rnndyn figures: no studies/ folder found; run from a checkout of rnndyn or pass "
              "--studies DIR", file=sys.stderr)
        return 2
    found = discover(studies_dir)
    if args.list:
        for path in found.values():
            info = describe(path)
            print(f"{info.name}  ({info.paper}, {info.figure})" if info.figure else
                  f"{info.name}  ({info.paper})")
            print(f"    {info.headline}")
        return 0
    unknown = [n for n in args.names if n not in found]
    if unknown:
        print(f"rnndyn figures: unknown study {', '.join(unknown)}; `rnndyn figures --list` "
              f"shows the {len(found)} available", file=sys.stderr)
        return 2
    names = args.names or list(found)
    # quick figures go to their own folder so they never overwrite the published ones
    default = studies_dir.parent / "figures"
    out = Path(args.out) if args.out else (default / "quick" if args.quick else default)
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    bar = tqdm(names, unit="study", disable=None)
    for name in bar:
        bar.set_description(name)
        start = time.perf_counter()
        result = _run_staged(found[name], name, args.quick, out)
        summary[name] = {"seconds": round(time.perf_counter() - start, 2),
                         **{k: v for k, v in (result or {}).items()}}
        tqdm.write(f"{name}: {json.dumps(summary[name], default=float)}")
    print(f"wrote {len(names)} figure(s) to {out}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="rnndyn", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fig = sub.add_parser("figures", help="regenerate the published figures of studies/")
    fig.add_argument("names", nargs="*", help="studies to run (default: all)")
    fig.add_argument("--quick", action="store_true", help="small, fast versions (as CI runs)")
    fig.add_argument("--out", help="output folder (default: figures/ beside studies/, "
                     "figures/quick/ with --quick)")
    fig.add_argument("--list", action="store_true",
                     help="list the studies (paper, figure, headline) and exit")
    fig.add_argument("--studies", help="folder of study scripts (default: found from the cwd)")
    args = parser.parse_args(argv)
    return _figures(args)


if __name__ == "__main__":
    sys.exit(main())
