"""Every thesis experiment grid as data, and the runner behind ``make runs``.

    make runs GRID=cifar-noisy PROFILE=thesis SEEDS="0 1 2 3 4"   # GPU machine with network
    make runs GRID=all PROFILE=mini                                  # laptop, offline
    make -n runs GRID=sst2                                           # what would run
    make -j 4 runs GRID=cifar-clean                                  # 4 at a time, one GPU each

Rooms: ``cells`` (data model), ``definitions`` (the grids, with every ambiguity of the
sources and its resolution), ``plan`` (runs, their state, parameter files, make
fragments, manifests), ``manifest`` (manifest IO), ``runner`` (one execution), ``slurm``
(``make runs LAUNCHER=slurm``: job arrays, their state), and the CLI
``python -m lib.grids list|plan|exec|status|submit``.
"""

from lib.grids.cells import Alias, Cell, Grid, GridError, RunSpec
from lib.grids.definitions import GRIDS
from lib.grids.plan import alias_rows, check, cell_runs, grid_runs, plan, select_grids

__all__ = ["GRIDS", "Alias", "Cell", "Grid", "GridError", "RunSpec", "alias_rows", "cell_runs",
           "check", "grid_runs", "plan", "select_grids"]
