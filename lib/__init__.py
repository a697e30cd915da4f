"""AEES compendium library: everything a notebook would otherwise copy.

Rooms (one concern each): config, data, noise, models, control, train, results,
analysis, grids. Paths come from ``ROOT`` only, never from the working directory.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Data sets and stand-ins; AEES_DATA_DIR moves them (a bigger disk, or an isolated test dir).
DATA_DIR = Path(os.environ.get("AEES_DATA_DIR") or ROOT / "data").resolve()
RESULTS_DIR = ROOT / "results"
FIGURES_DIR = ROOT / "figures"
HF_CACHE_DIR = ROOT / ".hf_cache"



def repo_path(path: str | os.PathLike[str]) -> Path:
    """A path given as a parameter: ``~`` expanded; a relative path is taken from the repository
    root, never from the working directory."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else ROOT / p


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` as recorded in results and manifests: relative to the repository root when it
    lies inside it (portable across machines), else as given; '/'-separated."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    # The path as written first: `.venv/bin/python` is a symlink to a Python outside the
    # repository and must stay `.venv/bin/python`; resolved only for a repository reached
    # through a symlinked folder.
    for candidate in (Path(os.path.normpath(p)), p.resolve()):
        try:
            return candidate.relative_to(ROOT).as_posix()
        except ValueError:
            pass
    return p.as_posix()


__all__ = ["ROOT", "DATA_DIR", "RESULTS_DIR", "FIGURES_DIR", "HF_CACHE_DIR", "repo_path", "shown_path"]
