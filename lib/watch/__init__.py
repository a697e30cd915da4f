"""Watching a campaign: how every run of the planned grids is doing, while they run.

``make runs-status`` (``python -m lib.watch``) reads, per grid, the manifest (``lib.grids``), the
small live record each running run rewrites at every epoch end (``lib.train.live``) and, for grids
submitted to Slurm, the queue; it never parses notebooks or logs. Rooms: ``runs`` (each run's state:
running, stalled, dead, ...; a grid's time left), ``thesis`` (the thesis's published numbers of a
run's cell and whether the run is on track), ``report`` (the text), and the CLI.
"""
