"""The report: every table and figure of an archive in one self-contained HTML page (``make report``).

    python -m lib.analysis.html_report [--archive results/mini] [--out figures]

Built straight from the artifact builders (the ones ``make figures`` and the analysis notebooks
call), so the page, the files and the notebooks never disagree. The page reads like a paper: a
title, the archive it was built from, a contents list with one anchor per artifact, then one
section per chapter. Every thesis table stands beside the thesis's published numbers
(``reference.thesis_table``); every figure is an embedded PNG with alternative text. The page
loads nothing: no script, no stylesheet, no font, no image from anywhere else (it works offline
and from a mail attachment). The comparison of every published number with the archive's, with
deltas, goes to ``<out>/reproduction/reproduction.csv``.

The build prints one line per chapter. A stand-in archive's report says so under the title, in
every table caption and on every figure.
"""

from __future__ import annotations

import argparse
import base64
import io
import logging
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import mistune
import pandas as pd

from lib.analysis import freshness
from lib.analysis.chapters import CHAPTER_TEXT, COVERAGE_NOTE, SHAPE_NOTE
from lib.analysis.controller import coverage, coverage_summary
from lib.analysis.display import alt_text, table_html
from lib.analysis.plots import mark_standin
from lib.analysis.reference import SOURCES, compare, thesis_table
from lib.analysis.registry import REGISTRY, artifact_ids
from lib.analysis.render import Context, build, open_archive, rel, write_reproduction, write_text
from lib.analysis.shape import checks_summary, shape_checks
from lib.vocab import CHAPTERS

TEMPLATE = Path(__file__).with_name("report.html.j2")
TITLE = "Adaptive Episodic Exploration Scheduling (AEES): the thesis's tables and figures, rebuilt"
FIGURE_DPI = 110


@dataclass
class Section:
    """One artifact as the page shows it."""

    id: str
    kind: str
    title: str
    status: str
    notes: list[str] = field(default_factory=list)
    body: str = ""  # the archive's table (HTML) or figure (data URI); "" when it has no runs
    alt: str = ""
    thesis: str = ""  # the thesis's published table (HTML), where the thesis published one
    counterpart: str = ""  # how many published numbers the archive has
    before: str = ""  # prose before the artifact (HTML)
    after: str = ""  # a table after it (HTML)


@dataclass
class Chapter:
    key: str
    title: str
    intro: str
    sections: list[Section]


def markdown(text: str) -> str:
    """Markdown prose (chapter introductions, notes) as HTML; headings drop two levels (the page owns h1-h3)."""
    return mistune.html(re.sub(r"^(#{1,4}) ", lambda m: "#" * (len(m[1]) + 2) + " ", text, flags=re.MULTILINE))


def png_data_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _counterpart(ctx: Context, art: str) -> str:
    cmp = compare(art, build(ctx, art).numbers)
    published = int(cmp["thesis"].notna().sum())
    matched = int((cmp["thesis"].notna() & cmp["archive"].notna()).sum())
    return (f"{matched} of the {published} published numbers have a counterpart in this archive "
            "(all of them, with deltas, in reproduction/reproduction.csv).")


def _extras(ctx: Context, art: str, label: str | None) -> tuple[str, str]:
    """Prose before / a table after an artifact: the AEES-Dual coverage note (X1), the shape checks (X5)."""
    if art == "X1":
        return markdown(COVERAGE_NOTE + "\n\n" + coverage_summary(coverage(ctx.runs))), ""
    if art == "X5":
        checks = shape_checks(ctx.runs)
        unmet = checks.loc[~checks["passed"].astype(bool), ["name", "blocking", "value", "op", "threshold", "detail"]]
        head = markdown(SHAPE_NOTE + "\n\n" + checks_summary(checks) + ("." if unmet.empty else "; the others:"))
        if unmet.empty:
            return "", head
        cells = unmet.assign(value=unmet["value"].map(lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)),
                             threshold=unmet["threshold"].map(lambda v: f"{v:.3g}" if isinstance(v, float)
                                                              else str(v)),
                             blocking=unmet["blocking"].map({True: "yes", False: "no (informational)"})).astype(str)
        return "", head + table_html(cells, None, caption="Target checks not met", uid="X5-checks",
                                     standin_label=label)
    return "", ""


def section(ctx: Context, art: str) -> Section:
    spec, built = REGISTRY[art], build(ctx, art)
    label = ctx.label_for(built)
    drawn = built.figure if spec.kind == "figure" else built.cells
    status = built.status if drawn is not None else "missing-runs"
    notes = ([f"Missing: {', '.join(built.missing)}."] if built.missing else []) + built.notes
    out = Section(art, spec.kind, spec.title, status, notes)
    out.before, out.after = _extras(ctx, art, label)
    if drawn is not None and spec.kind == "table":
        out.body = table_html(built.cells, built.styles, caption=f"{art}. {spec.title}", uid=art, standin_label=label)
    elif drawn is not None:
        out.alt = alt_text(built.figure, f"{art}. {spec.title}", label)
        out.body = png_data_uri(mark_standin(built.figure, label))
    if art in SOURCES:
        out.thesis = table_html(thesis_table(art), None, caption=f"{art} as published in the thesis",
                                uid=f"{art}-thesis")
        out.counterpart = _counterpart(ctx, art)
    return out


def chapters(ctx: Context, echo=print) -> list[Chapter]:
    """Every chapter's sections, in ``lib.vocab.CHAPTERS`` order; one line per chapter to ``echo``."""
    missing = [c for c in CHAPTERS if c not in CHAPTER_TEXT]
    if missing:
        raise KeyError(f"html_report: no title and introduction for chapter(s) {missing} in lib/analysis/chapters.py")
    out = []
    for key in CHAPTERS:
        start = time.perf_counter()
        sections = [section(ctx, a) for a in artifact_ids(key)]
        title, intro = CHAPTER_TEXT[key]
        out.append(Chapter(key, title, markdown(intro), sections))
        counts = pd.Series([s.status for s in sections]).value_counts()
        echo(f"{key}: {len(sections)} artifacts ({', '.join(f'{v} {k}' for k, v in counts.items())}) "
             f"in {time.perf_counter() - start:.1f} s")
    return out


def render_page(ctx: Context, parts: list[Chapter]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(TEMPLATE.name).render(
        title=TITLE, archive=ctx.describe(), standin=ctx.label or "",
        code=ctx.code_sha[:12], inputs=freshness.inputs_sha256(ctx.out), chapters=parts)


def build_report(archive: str = "results/mini", figures: str | None = None, echo=print) -> Path:
    """Build every artifact of ``archive`` into ``<out>/report.html``; returns its path."""
    ctx = open_archive(archive, figures)
    parts = chapters(ctx, echo)
    write_reproduction(ctx, [a for a in artifact_ids() if a in SOURCES])
    return write_text(ctx.out / "report.html", render_page(ctx, parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.analysis.html_report", description=__doc__.split("\n")[0])
    parser.add_argument("--archive", default="results/mini", help="RunResult directory (default results/mini)")
    parser.add_argument("--out", default=None, help="output root (default figures/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    start = time.perf_counter()
    path = build_report(args.archive, args.out)
    print(f"wrote {rel(path)} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
