"""``make rehearse``: the thesis profile end to end, offline, at full size, in minutes.

Every thesis grid's first run goes through papermill with ``profile=thesis`` on the offline
replica (``lib.replica``, built into a temporary HF cache and data directory, never the user's),
each capped by the engine option ``rehearsal_max_steps`` to a few optimizer steps and evaluation
batches per epoch and to two epochs. The NLP data follow the caching protocol of docs/guide.md:
pretokenize first, then run with ``local_files_only=True``. ``lib.rehearse.checks`` then checks
what a full-size run produces (RunResult keys and config block per task, FLOPs estimated and
measured, the 108k-example AG News noise block, checkpoint size and resume, peak memory).
Rehearsal results are marked and refused by ``lib.analysis.load_archive``.

    python -m lib.rehearse [--device cpu|cuda] [--max-steps 2] [--grids "sst2 cifar-clean"]
"""

from __future__ import annotations

from lib.grids.cells import RunSpec
from lib.grids.definitions import GRIDS
from lib.grids.plan import grid_runs

EPOCHS = 2


def first_runs(grids: list[str] | None = None) -> list[RunSpec]:
    """The first planned run of each thesis grid (seed 0, first cell, first timing repeat). Grids derived
    from other grids' runs (the peak re-runs: a noisy CIFAR Cosine run, shorter) are left out by default."""
    names = grids or [g for g in GRIDS if not any(c.parent for c in GRIDS[g].cells)]
    return [grid_runs(name, "thesis", parents="upper-bound")[0] for name in names]


__all__ = ["EPOCHS", "first_runs"]
