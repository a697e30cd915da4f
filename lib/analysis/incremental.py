"""The make side of ``make figures``: one chapter per target, a dependency file per chapter, the index.

    python -m lib.analysis.incremental chapter CHAPTER --archive DIR --out DIR --stamp FILE.csv
    python -m lib.analysis.incremental index --out DIR STAMP.csv [STAMP.csv ...]

``chapter`` renders the artifacts of one chapter into ``<out>/<chapter>/`` (``report.render``),
writes their index rows to ``--stamp`` (the make target) and, beside it, ``<stamp>.d``: a make
rule that makes the stamp depend on every RunResult file the chapter read, plus an empty rule
per file (so a deleted run is a change, not an error), as ``gcc -MMD -MP`` does for headers,
and the list of the archive's files at build time (a run that appears anywhere in the
archive may belong to any chapter: ``mk/analysis.mk`` rebuilds a chapter whose list differs).
``index`` joins the chapters' rows into ``<out>/index.csv`` in thesis order. ``adopt`` stamps the
chapters that have no stamp yet (a fresh clone) but whose committed files are current by content. ``mk/analysis.mk``
wires both; every write is atomic.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import pandas as pd

from lib import ROOT
from lib.analysis.registry import artifact_ids
from lib.analysis.render import (INDEX, INDEX_COLUMNS, SUFFIXES, build, index_row, open_archive, rel, render,
                                 write_text)
from lib.vocab import CHAPTERS


def make_path(path: str | Path) -> str:
    """A path as a make prerequisite: relative to the repository root when inside it, special characters escaped."""
    text = rel(Path(path))
    if "\n" in text or "\t" in text:
        raise ValueError(f"cannot list {text!r} in a make dependency file: rename it (no newline or tab)")
    return text.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$").replace(":", "\\:")


def archive_listing(archive: Path) -> list[str]:
    """Every file of the archive folder as ``./<relative path>``, hidden ones (and hidden folders) left out, in
    byte order: what ``find . -mindepth 1 -name '.*' -prune -o -type f -print | LC_ALL=C sort`` prints there
    (``mk/analysis.mk`` compares the two to notice a run that appeared or left). Empty for a single file."""
    if not archive.is_dir():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(archive):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel_dir = Path(dirpath).relative_to(archive)
        out += [f"./{(rel_dir / n).as_posix()}" if str(rel_dir) != "." else f"./{n}"
                for n in filenames if not n.startswith(".") and Path(dirpath, n).is_file()]
    return sorted(out, key=lambda p: p.encode())


def depfile(target: str, chapter_name: str, inputs: list[str], listing: list[str]) -> str:
    """``target: inputs``, one empty rule per input (a deleted input is a change, not an error), and the archive
    listing the chapter was built from as ``ANALYSIS_SEEN_<chapter>``."""
    deps = [make_path(p) for p in sorted(set(inputs))]
    head = target.replace(" ", "\\ ") + ":" + "".join(f" \\\n  {d}" for d in deps)
    seen = " ".join(p.replace("$", "$$").replace("#", "\\#") for p in listing)
    return "\n".join([head, ""] + [f"{d}:" for d in deps] + ["", f"ANALYSIS_SEEN_{chapter_name} := {seen}"]) + "\n"


def chapter(name: str, archive: str, out: str | None, stamp: Path) -> pd.DataFrame:
    """Render one chapter; write its index rows to ``stamp`` and its input list to ``stamp.d``."""
    if name not in CHAPTERS:
        raise SystemExit(f"unknown chapter {name!r}; chapters: {', '.join(CHAPTERS)}")
    ctx = open_archive(archive, out)
    ids = artifact_ids(name)
    rows = pd.DataFrame([render(ctx, a) for a in ids], columns=INDEX_COLUMNS)
    inputs = [p for a in ids for p in build(ctx, a).inputs]
    write_text(Path(str(stamp) + ".d"), depfile(str(stamp), name, inputs, archive_listing(ctx.archive)))
    write_text(stamp, rows.to_csv(index=False))  # last: the target is newer than its dependency file
    return rows


def adopt(archive: str, out: str | None, stamp_dir: Path) -> list[str]:
    """Chapters without a stamp in ``stamp_dir`` (a fresh clone: the stamps are not committed) whose committed
    files are current by content get their stamp and dependency file without being rendered again.

    Current by content: every index row the chapter would write (``render.index_row``: the SHA-256 of its
    input RunResult files and of the analysis code, status, run count, notes) equals its row in
    ``<out>/index.csv``, and the artifact's files exist. Returns the adopted chapters; the others are
    left to ``chapter`` (make builds them)."""
    ctx = open_archive(archive, out)
    index_csv = ctx.out / INDEX
    todo = [c for c in CHAPTERS if not (stamp_dir / f"{c}.csv").is_file()]
    if not todo or not index_csv.is_file():
        return []
    committed = pd.read_csv(index_csv, dtype=str, keep_default_na=False).set_index("id")
    adopted = []
    for name in todo:
        ids = artifact_ids(name)
        rows = pd.DataFrame([index_row(ctx, a) for a in ids], columns=INDEX_COLUMNS).astype(str)
        if not set(ids) <= set(committed.index):
            continue
        same = rows.set_index("id").equals(committed.loc[ids, [c for c in INDEX_COLUMNS if c != "id"]])
        kinds = dict(zip(rows["id"], rows["kind"]))
        files = all((ROOT / p).with_suffix(x).is_file() for a, p in zip(rows["id"], rows["path"]) if p
                    for x in SUFFIXES[kinds[a]])
        if not (same and files):
            continue
        stamp = stamp_dir / f"{name}.csv"
        inputs = [p for a in ids for p in build(ctx, a).inputs]
        write_text(Path(str(stamp) + ".d"), depfile(str(stamp), name, inputs, archive_listing(ctx.archive)))
        write_text(stamp, rows.to_csv(index=False))
        adopted.append(name)
    return adopted


def index(out: Path, stamps: list[Path]) -> Path:
    """``<out>/index.csv`` from the chapters' rows (one row per artifact, thesis order)."""
    missing = [str(s) for s in stamps if not s.is_file()]
    if missing:
        raise SystemExit(f"index: no chapter rows at {', '.join(missing)}; build them with `make figures`")
    rows = pd.concat([pd.read_csv(s, dtype=str, keep_default_na=False) for s in stamps], ignore_index=True)
    order = {a: i for i, a in enumerate(artifact_ids())}
    rows = rows.sort_values("id", key=lambda s: s.map(lambda a: order.get(a, len(order))), kind="stable")
    path = out / INDEX
    write_text(path, rows[INDEX_COLUMNS].to_csv(index=False))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.analysis.incremental", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ch = sub.add_parser("chapter", help="render one chapter, write its index rows and dependency file")
    ch.add_argument("chapter", help=f"one of {', '.join(CHAPTERS)}")
    ch.add_argument("--archive", default="results/mini")
    ch.add_argument("--out", default=None)
    ch.add_argument("--stamp", required=True, type=Path, help="the chapter's rows CSV (the make target)")
    ad = sub.add_parser("adopt", help="stamp the chapters whose committed files are current by content")
    ad.add_argument("--archive", default="results/mini")
    ad.add_argument("--out", default=None)
    ad.add_argument("--stamps", required=True, type=Path, help="the folder of the chapters' stamps")
    ix = sub.add_parser("index", help="join the chapters' rows into <out>/index.csv")
    ix.add_argument("--out", required=True, type=Path)
    ix.add_argument("stamps", nargs="+", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    start = time.perf_counter()
    if args.command == "chapter":
        rows = chapter(args.chapter, args.archive, args.out, args.stamp)
        counts = rows["status"].value_counts().to_dict()
        print(f"{args.chapter}: {len(rows)} artifacts ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}) "
              f"in {time.perf_counter() - start:.1f} s")
    elif args.command == "adopt":
        done = adopt(args.archive, args.out, args.stamps if args.stamps.is_absolute() else ROOT / args.stamps)
        if done:
            print(f"figures: {len(done)} of {len(CHAPTERS)} chapters current by content (inputs and code "
                  f"unchanged), not rebuilt: {', '.join(done)} ({time.perf_counter() - start:.0f} s)")
    else:
        out = args.out if args.out.is_absolute() else ROOT / args.out
        print(f"wrote {rel(index(out, args.stamps))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
