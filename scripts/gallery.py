"""Print the README's gallery: a markdown table with one row per committed figure.

    python scripts/gallery.py [--figures figures] [--studies studies] [--width 180]

Each row is a thumbnail (the committed ``figures/<name>.png`` shown ``--width`` pixels wide,
linking to the full image), the study's name, its paper and figure, and its one-line
headline; paper, figure and headline are those of ``rnndyn figures --list``
(``rnndyn.cli.describe``: read from the study's source, nothing is run). Studies without a
committed figure are left out and named on stderr.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnndyn.cli import describe, discover

ROOT = Path(__file__).resolve().parent.parent


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a pipe would end the table cell


def gallery(studies: Path, figures: Path, width: int = 180, base: Path = ROOT) -> str:
    """The markdown table (header and one row per study with ``figures/<name>.png``); image
    paths are relative to ``base`` (the README's folder)."""
    rows = ["| Figure | Study | Paper | Headline |", "|---|---|---|---|"]
    for name, path in discover(studies).items():
        png = figures / f"{name}.png"
        if not png.exists():
            print(f"gallery: no committed figure for {name} ({png})", file=sys.stderr)
            continue
        info = describe(path)
        try:
            src = png.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            src = png.as_posix()
        paper = f"{info.paper}, {info.figure}" if info.figure else info.paper
        rows.append(f'| <a href="{src}"><img src="{src}" width="{width}" alt="{name}"></a> '
                    f"| `{name}` | {_cell(paper)} | {_cell(info.headline)} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", default=str(ROOT / "studies"))
    parser.add_argument("--figures", default=str(ROOT / "figures"))
    parser.add_argument("--width", type=int, default=180, help="thumbnail width in pixels")
    args = parser.parse_args(argv)
    print(gallery(Path(args.studies), Path(args.figures), args.width))
    return 0


if __name__ == "__main__":
    sys.exit(main())
