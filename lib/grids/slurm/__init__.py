"""Run the grids on a Slurm cluster: ``make runs LAUNCHER=slurm``.

Rooms: ``options`` (sbatch options: defaults, per-user config, SLURM_ARGS), ``script`` (the
readable batch script of one job array), ``submit`` (plan -> arrays -> sbatch), ``state``
(jobs.json, squeue / sacct / task logs merged with the manifest). The training side of a
time-limit or preemption signal is ``lib.train.preempt``.
"""
