"""One HTML report of all analysis notebooks, code hidden (``make report``).

    python -m lib.analysis.html_report [--archive results/mini] [--out figures]

Runs every ``notebooks/analysis_*.ipynb`` and ``reproduction_report.ipynb`` with
papermill on ``--archive`` (or reuses the committed executed notebook when it ran on the same
inputs, ``lib.analysis.freshness``) (they also write the tables, figures and index under
``--out``), keeps the executed copies in ``<out>/report/``, joins them into one
notebook and converts it with nbconvert (inputs and prompts hidden) to
``<out>/report.html``. A stand-in archive's report says so at the top and in every
chapter.
"""

from __future__ import annotations

import argparse
import copy
import html
import logging
import os
import sys
import time
from pathlib import Path

import nbformat

from lib import ROOT
from lib.analysis import freshness
from lib.analysis.build import STANDIN_LABEL
from lib.analysis.kernel import QuietKernelManager
from lib.analysis.render import open_archive, rel, write_text
from lib.results.provenance import provenance

NOTEBOOKS = ("analysis_cifar_clean", "analysis_cifar_noisy", "analysis_nlp", "analysis_ablations", "analysis_compute",
             "analysis_controller", "analysis_checkpoints", "analysis_peers", "reproduction_report")
KERNEL = "aees"


def execute_all(archive: str, out: Path, names: tuple[str, ...] = NOTEBOOKS) -> list[Path]:
    """Each notebook executed with papermill (parameters ``archive``, ``figures``), or, when the committed
    executed notebook ran on exactly these inputs (``freshness``), that notebook; one line per chapter.
    Returns the executed copies."""
    import papermill as pm

    # The kernel imports this checkout's ``lib`` (not another one an editable install may point to).
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    archive_sha = freshness.archive_sha256(archive)
    done = []
    for name in names:
        start = time.perf_counter()
        source, target = ROOT / "notebooks" / f"{name}.ipynb", out / "report" / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        committed = nbformat.read(source, as_version=4)
        if freshness.is_fresh(committed, archive, archive_sha):
            nbformat.write(committed, target)
            print(f"report: {name}: committed notebook reused (its inputs are unchanged)", flush=True)
        else:
            pm.execute_notebook(str(source), str(target), parameters={"archive": str(archive), "figures": str(out)},
                                kernel_name=KERNEL, cwd=str(ROOT / "notebooks"), progress_bar=False,
                                log_output=False, kernel_manager_class=QuietKernelManager)
            print(f"report: {name}: executed in {time.perf_counter() - start:.0f} s", flush=True)
        done.append(target)
    return done


def combine(paths: list[Path], title: str) -> nbformat.NotebookNode:
    """One notebook: a title cell, then every notebook's cells except its parameter cells."""
    out = nbformat.v4.new_notebook()
    out.metadata = copy.deepcopy(nbformat.read(paths[0], as_version=4).metadata)
    out.metadata.pop("papermill", None)
    out.cells.append(nbformat.v4.new_markdown_cell(title, id="report-title"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "parameters" in tags or "injected-parameters" in tags:
                continue
            cell = copy.deepcopy(cell)
            cell.metadata.pop("papermill", None)
            cell.id = f"{path.stem.replace('_', '-')}-{len(out.cells)}"
            for output in cell.get("outputs", []):
                with_alt(output)
            out.cells.append(cell)
    nbformat.validator.normalize(out)
    return out


def with_alt(output: nbformat.NotebookNode) -> None:
    """A PNG output with alt text (``display.show_figure``) also as an ``<img alt=...>`` HTML output.

    nbconvert's templates write no ``alt`` attribute; the HTML output wins over the PNG in its display
    priority, so every figure of the report carries its description. A PNG without alt text is an error:
    every figure of the analysis notebooks goes through ``show_figure``.
    """
    data = output.get("data", {})
    if "image/png" not in data:
        return
    alt = output.get("metadata", {}).get("image/png", {}).get("alt")
    if not alt:
        raise ValueError("html_report: a figure output has no alt text; display figures with "
                         "lib.analysis.display.show_figure (it sets output.metadata['image/png']['alt'])")
    escaped = html.escape(alt, quote=True)
    data["text/html"] = f'<img alt="{escaped}" src="data:image/png;base64,{data["image/png"].strip()}">'


def to_html(nb: nbformat.NotebookNode, path: Path) -> Path:
    """nbconvert HTML with code inputs and prompts hidden."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    write_text(path, body)
    return path


def build_report(archive: str = "results/mini", figures: str | None = None) -> Path:
    """Execute, join and convert; returns the HTML path."""
    ctx = open_archive(archive, figures)
    paths = execute_all(str(ctx.archive), ctx.out)
    stand = f"\n\n**⚠ {STANDIN_LABEL}.** Every table and figure below comes from the offline stand-in " \
            "data sets." if ctx.standin else ""
    prov = provenance()
    sha = (prov["git_sha"] or "unknown") + ("-dirty" if prov["git_dirty"] else "")
    title = (f"# AEES compendium: analysis report\n\n{ctx.describe()}; git {sha}, analysis code {ctx.code_sha[:12]}."
             "\n\nChapters: clean CIFAR-100, noisy CIFAR-100, NLP, ablations, compute cost, controller behaviour, "
             "peak-checkpoint diagnostics, the schedule-free peers (beyond the thesis), and the reproduction report "
             "(thesis vs this archive)." + stand)
    return to_html(combine(paths, title), ctx.out / "report.html")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.analysis.html_report", description=__doc__.split("\n")[0])
    parser.add_argument("--archive", default="results/mini", help="RunResult directory (default results/mini)")
    parser.add_argument("--out", default=None, help="output root (default figures/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    start = time.perf_counter()
    path = build_report(args.archive, args.out)
    print(f"wrote {rel(path)} ({len(NOTEBOOKS)} notebooks) in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
