"""The thesis's published numbers for a running thesis-profile run, and whether the run is on track.

A grid cell's published numbers are those of the first of its thesis tables (``Cell.tables``) that
prints its row (the cell's label, in block ``""`` or ``"<setting> <optimizer>"``) with a mean peak
epoch and a best and final accuracy, each with its SD: ``lib.analysis.reference.thesis_numbers``,
the numbers the analysis compares the archive with. Cells the thesis did not publish that way
(ablations, timing runs, peak re-runs, peers) have none.

Reading the reference tables takes pandas (a second or more to import), more than the watch may
spend, so the lookup of every cell is kept in ``<results>/thesis/.thesis-numbers.json``, keyed by a
digest of the reference files and of the code that maps them (rebuilt when either changes, by the
first watch after the change or, ahead of it, by ``make runs PROFILE=thesis``).

On track: once a run is past the thesis's mean peak epoch, its best accuracy so far must not lie
more than :data:`SDS` thesis SDs below the thesis's mean best accuracy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

from lib import RESULTS_DIR, ROOT, repo_path, shown_path
from lib.atomic import write_text_atomic
from lib.grids.definitions import GRIDS

CACHE = ".thesis-numbers.json"
SDS = 3.0
REFERENCE_DIR = ROOT / "reference" / "thesis-results"
# the code that turns the reference files into a cell's numbers
SOURCES = ("lib/analysis/reference.py", "lib/analysis/labels.py", "lib/grids/definitions.py", "lib/watch/thesis.py")
METRICS = ("peak_epoch", "best", "final")


def _digest() -> str:
    h = hashlib.sha256()
    for path in sorted(REFERENCE_DIR.rglob("*.csv")) + [ROOT / s for s in SOURCES]:
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _build() -> dict[str, dict[str, Any]]:
    """``"<grid>/<cell>"`` -> {table, label, block, n, peak_epoch: [mean, sd], best: [...], final: [...]}."""
    # pandas (seconds): only when the kept lookup is rebuilt, so that the watch itself stays fast
    from lib.analysis.reference import SOURCES as TABLES, thesis_numbers

    tables: dict[str, Any] = {}
    out = {}
    for grid in GRIDS.values():
        for cell in grid.cells:
            for table in cell.tables:
                if table not in TABLES:
                    continue
                if table not in tables:
                    tables[table] = thesis_numbers(table)
                df = tables[table]
                blocks = ("", f"{cell.setting} {cell.optimizer}")
                rows = df[(df["row"] == cell.label) & df["block"].isin(blocks)]
                found = {r.metric: r for r in rows.itertuples() if r.metric in METRICS}
                if len(found) == len(METRICS) and len({r.block for r in found.values()}) == 1:
                    first = next(iter(found.values()))
                    out[f"{grid.name}/{cell.name}"] = {
                        "table": table, "label": cell.label, "block": first.block,
                        "n": None if math.isnan(first.n) else int(first.n),
                        **{m: [float(found[m].mean), float(found[m].std)] for m in METRICS}}
                    break
    return out


def published(results_dir: Path) -> dict[str, dict[str, Any]]:
    """Every cell's published numbers (see module doc), from the cache when it is current."""
    cache = Path(results_dir) / "thesis" / CACHE
    digest = _digest()
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("digest") == digest:
            return data["cells"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    cells = _build()
    try:
        write_text_atomic(cache, json.dumps({"digest": digest, "cells": cells}, sort_keys=True) + "\n")
    except OSError:
        pass  # a read-only results folder: the next watch builds the lookup again (slower, same numbers)
    return cells


def _sd(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def verdict(numbers: dict[str, Any], epoch: int, best: float | None) -> tuple[str, bool]:
    """(the thesis's numbers and the verdict as text, whether the run is off track). ``best``: a fraction."""
    peak, peak_sd = numbers["peak_epoch"]
    bmean, bsd = numbers["best"]
    fmean, fsd = numbers["final"]
    text = (f"thesis {numbers['table']} {numbers['label']}{' ' + numbers['block'] if numbers['block'] else ''}: "
            f"peak epoch {peak:.0f} ± {_sd(peak_sd, 0)}, best {bmean:.2f} ± {_sd(bsd)} %, "
            f"final {fmean:.2f} ± {_sd(fsd)} %")
    if best is None or epoch <= peak:
        return f"{text}; checked once past epoch {math.floor(peak)}", False
    if bsd is None or math.isnan(bsd):
        return f"{text}; no thesis SD to check against", False
    floor = bmean - SDS * bsd
    mine = 100.0 * best
    if mine < floor:
        return (f"{text}; OFF TRACK: best so far {mine:.2f} % < {bmean:.2f} − {SDS:g} × {bsd:.2f} = "
                f"{floor:.2f} %", True)
    return f"{text}; on track (best so far {mine:.2f} % ≥ {floor:.2f} %)", False


def main(argv: list[str] | None = None) -> int:
    """``python -m lib.watch.thesis [--results-dir DIR]``: build the lookup now (``make runs PROFILE=thesis``
    does, so that the first ``make runs-status`` is as fast as the next)."""
    parser = argparse.ArgumentParser(prog="python -m lib.watch.thesis", description=main.__doc__)
    parser.add_argument("--results-dir", default=str(RESULTS_DIR), help="results root (default results/)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    results = repo_path(args.results_dir)
    cells = published(results)
    print(f"[watch] thesis numbers of {len(cells)} grid cells: {shown_path(results / 'thesis' / CACHE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
