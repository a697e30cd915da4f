"""Is an executed analysis notebook current? Decided by content, never by file times.

An analysis notebook's outputs depend on its code cells, the analysis code and reference numbers
(``render.code_sha256``) and the RunResult files of the archive it ran on. :func:`stamp` records
their SHA-256 in the notebook's metadata (``aees_inputs``) when it is executed
(``scripts/build_analysis_notebooks.py --execute``); :func:`is_fresh` recomputes it. ``make
report`` reuses a committed executed notebook whose record matches instead of executing it again,
so a fresh clone builds the report from the committed notebooks in seconds and a changed input
re-executes exactly the notebooks it affects.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import nbformat

from lib import repo_path, shown_path

KEY = "aees_inputs"
SKIP_TAGS = {"parameters", "injected-parameters"}
NOT_RESULTS = {"manifest.json"}  # written by make runs; never read by the analysis


def archive_sha256(archive: str | Path) -> str:
    """SHA-256 over the path and bytes of every RunResult JSON under ``archive`` (hidden folders and the
    grid manifests left out), in byte order of the relative paths."""
    root = repo_path(archive)
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        files += [Path(dirpath, n) for n in filenames if n.endswith(".json") and n not in NOT_RESULTS]
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix().encode()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(nb: nbformat.NotebookNode, archive: str | Path, archive_sha: str | None = None) -> str:
    """The inputs of ``nb`` run on ``archive``: its code cells (parameter cells left out), the analysis code,
    the archive's name and its RunResult files."""
    from lib.analysis.render import code_sha256

    digest = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code" and not SKIP_TAGS & set(cell.metadata.get("tags", [])):
            digest.update(cell.source.encode() + b"\0")
    for part in (code_sha256(), shown_path(repo_path(archive)), archive_sha or archive_sha256(archive)):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def stamp(nb: nbformat.NotebookNode, archive: str | Path) -> None:
    """Record the inputs ``nb`` was just executed on."""
    nb.metadata[KEY] = fingerprint(nb, archive)


def is_fresh(nb: nbformat.NotebookNode, archive: str | Path, archive_sha: str | None = None) -> bool:
    """True when ``nb`` was executed on exactly today's inputs (and holds outputs)."""
    recorded = nb.metadata.get(KEY)
    return bool(recorded) and recorded == fingerprint(nb, archive, archive_sha)
