"""lib.shown_path: the repo-relative form that manifests and RunResults record."""

import os
from pathlib import Path

from lib import ROOT, shown_path


def test_symlink_inside_the_repository_stays_relative(tmp_path: Path) -> None:
    # .venv/bin/python is such a link: to a Python outside the repository. Recorded commands
    # must keep the repository form, or every plan rewrites the committed manifests.
    target = tmp_path / "python3"
    target.write_text("")
    link_dir = ROOT / "results" / "scratch" / "shown-path-test"
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / "python"
    link.unlink(missing_ok=True)
    os.symlink(target, link)
    try:
        assert shown_path(link) == "results/scratch/shown-path-test/python"
    finally:
        link.unlink()
        link_dir.rmdir()


def test_outside_and_relative_paths_are_kept(tmp_path: Path) -> None:
    assert shown_path(tmp_path / "x.json") == (tmp_path / "x.json").as_posix()
    assert shown_path("results/mini/a.json") == "results/mini/a.json"
    assert shown_path(ROOT / "results" / ".." / "notebooks" / "n.ipynb") == "notebooks/n.ipynb"
