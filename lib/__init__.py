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

__all__ = ["ROOT", "DATA_DIR", "RESULTS_DIR", "FIGURES_DIR", "HF_CACHE_DIR"]
