"""The ``rnndyn`` command: ``rnndyn figures [NAME ...] [--quick] [--out DIR] [--list]``."""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

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


def _figures(args) -> int:
    studies_dir = Path(args.studies) if args.studies else find_studies_dir()
    if studies_dir is None or not studies_dir.is_dir():
        print("rnndyn figures: no studies/ folder found; run from a checkout of rnndyn or pass "
              "--studies DIR", file=sys.stderr)
        return 2
    found = discover(studies_dir)
    if args.list:
        for name, path in found.items():
            doc = (load(path).__doc__ or "").strip().splitlines()
            print(f"{name:45s} {doc[0] if doc else ''}")
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
        result = load(found[name]).run(quick=args.quick, out=out)
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
    fig.add_argument("--list", action="store_true", help="list the studies and exit")
    fig.add_argument("--studies", help="folder of study scripts (default: found from the cwd)")
    args = parser.parse_args(argv)
    return _figures(args)


if __name__ == "__main__":
    sys.exit(main())
