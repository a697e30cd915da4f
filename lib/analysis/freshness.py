"""Is ``<figures>/report.html`` current? Decided by content, never by file times.

The page is built from the artifacts that ``figures/index.csv`` lists: each row carries the SHA-256 of the
artifact's input files and of the analysis code and reference numbers. So the index's bytes plus the page
template name everything the page depends on; :func:`inputs_sha256` hashes them, the page records it
(``<meta name="aees-inputs">``), and ``make report`` rebuilds the page only when the two differ. A fresh
clone therefore takes the committed page as it is (seconds, and `git status` stays empty), and a changed
run, code line or template rebuilds it. The check imports nothing heavy, so it costs a fraction of a second.

    python -m lib.analysis.freshness --out figures    # exit 0: current; 1: rebuild
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

from lib import repo_path, shown_path

TEMPLATE = Path(__file__).with_name("report.html.j2")
META = "aees-inputs"
_RECORDED = re.compile(rb'<meta name="' + META.encode() + rb'" content="([0-9a-f]{64})">')


def inputs_sha256(out: str | Path) -> str:
    """SHA-256 of what the page of ``out`` is built from: ``<out>/index.csv`` and the page template."""
    digest = hashlib.sha256()
    for path in (repo_path(out) / "index.csv", TEMPLATE):  # a page built without an index records that
        digest.update(path.name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    return digest.hexdigest()


def recorded(page: Path) -> str | None:
    """The inputs hash a built page records, or None (no page, or one without the record)."""
    if not page.is_file():
        return None
    with page.open("rb") as fh:
        found = _RECORDED.search(fh.read(4096))
    return found.group(1).decode() if found else None


def is_current(out: str | Path) -> bool:
    index = repo_path(out) / "index.csv"
    return index.is_file() and recorded(repo_path(out) / "report.html") == inputs_sha256(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.analysis.freshness", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="figures", help="the figures folder holding index.csv and report.html")
    args = parser.parse_args(argv)
    if is_current(args.out):
        print(f"report: {shown_path(repo_path(args.out) / 'report.html')} current by content "
              "(figures index and template unchanged), not rebuilt")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
