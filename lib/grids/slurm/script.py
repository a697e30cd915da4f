"""The batch script of one job array: one task per run, each running the run's make recipe.

The script is self-contained and readable: a user can ``sbatch`` it by hand from the
repository root. Task ``i`` runs the ``i``-th command of its ``case``, the exact command
``make runs`` would run (``python -m lib.grids exec <run>.json -- papermill ...``), with
paths relative to the repository. Before that it

1. refuses to run anywhere but the repository root (the submit directory);
2. runs the ``setup:`` lines of the per-user config (``module load ...``);
3. activates the environment ``make setup`` used (``.venv``, or the conda env);
4. exports the offline flags (compute nodes often have no network) and the cache and data
   locations that were set at submission (``AEES_DATA_DIR``, ``HF_HOME``, ...);
5. traps ``USR1`` (sent by Slurm ``--signal=B:USR1@<s>`` before the time limit, or by a
   preemption policy that warns first) and turns it into the run's stop request
   ``<run>.json.stop``; the run checkpoints at its next epoch end and exits with 75
   (``lib.train.preempt``), on which the task requeues itself (``scontrol requeue``) and
   the requeued task resumes from the checkpoint.

The command runs with ``USR1`` ignored, so that a signal sent to every process of the task
(``scancel --full``) does not kill it; the training process installs its own handler.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from lib import ROOT
from lib.grids.slurm.options import SlurmOptions
from lib.train.preempt import EXIT_PREEMPTED
from lib.vocab import STOP_SUFFIX

# Cache and data locations a run reads; exported into the script when set at submission.
CACHE_VARS = ("AEES_DATA_DIR", "HF_HOME", "HF_HUB_CACHE", "HF_DATASETS_CACHE", "HUGGINGFACE_HUB_CACHE",
              "TRANSFORMERS_CACHE", "TORCH_HOME", "XDG_CACHE_HOME")
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
MARK = "[aees-slurm]"


def activation(env_dir: Path) -> list[str]:
    """Shell lines that activate the project environment (the one ``make setup`` used)."""
    env_dir = Path(env_dir)
    if not env_dir.is_absolute() or (env_dir.name == ".venv" and env_dir.parent.resolve() == ROOT):
        return ["source .venv/bin/activate"]
    prefix = shlex.quote(str(env_dir))
    return ["if ! command -v conda >/dev/null; then",
            f'  echo "{MARK} error: conda is not on PATH on $(hostname); add e.g. \'setup: module load conda\' '
            'to your slurm.conf (see docs/guide.md, Running on a Slurm cluster)" >&2; exit 2',
            "fi",
            'eval "$(conda shell.bash hook)"',
            f"conda activate {prefix}"]


def environment(env: dict[str, str] | None = None) -> list[str]:
    env = dict(os.environ if env is None else env)
    lines = [f"export {k}={v}" for k, v in OFFLINE.items()]
    lines += [f"export {k}={shlex.quote(env[k])}" for k in CACHE_VARS if env.get(k)]
    lines += ['export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}" OMP_WAIT_POLICY=PASSIVE PYTHONHASHSEED=0',
              "export PYTHONUNBUFFERED=1  # task logs show progress as it happens"]
    return lines


def _case(tasks: list[tuple[str, str]]) -> list[str]:
    lines = ['case "${SLURM_ARRAY_TASK_ID:?not an array task: submit this script with sbatch}" in']
    for i, (output, command) in enumerate(tasks):
        words = " ".join(shlex.quote(w) for w in shlex.split(command))
        lines += [f"  {i}) run_output={shlex.quote(output)}", f"     run_command=({words}) ;;"]
    lines += [f'  *) echo "{MARK} error: no run for task $SLURM_ARRAY_TASK_ID (this array has {len(tasks)})" >&2',
              "     exit 2 ;;", "esac"]
    return lines


BODY = r'''
stop_request="$run_output{stop}"
task="${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"
on_warning() {{
  echo "{mark} $(date -u +%FT%TZ) task $task: warning signal (time limit or preemption):" \
       "asking the run to checkpoint and stop"
  : > "$stop_request"
}}
trap on_warning USR1
echo "{mark} $(date -u +%FT%TZ) start task $task (job $SLURM_JOB_ID," \
     "restart ${{SLURM_RESTART_COUNT:-0}}) on $(hostname): $run_output"
( trap '' USR1; exec "${{run_command[@]}}" ) &
child=$!
while :; do  # a trapped signal interrupts wait: wait again until the run has ended
  rc=0; wait "$child" || rc=$?
  if ! kill -0 "$child" 2>/dev/null; then rc=0; wait "$child" || rc=$?; break; fi
done
echo "{mark} $(date -u +%FT%TZ) end task $task: exit $rc"
if [ "$rc" -eq {preempted} ]; then
  echo "{mark} task $task: the run wrote its checkpoint; requeueing, the requeued task resumes from it"
  scontrol requeue "$SLURM_JOB_ID"
  sleep 60  # the requeue ends this task
fi
exit "$rc"
'''


def batch_script(grid: str, profile: str, tasks: list[tuple[str, str]], opts: SlurmOptions,
                 env_dir: Path, script_path: str, env: dict[str, str] | None = None) -> str:
    """The text of the batch script; ``tasks`` = [(run output JSON, command)] in task order."""
    n = len(tasks)
    head = ["#!/bin/bash",
            f"# AEES grid {grid}, profile {profile}: {n} run(s), one Slurm array task each.",
            "# Written by `make runs LAUNCHER=slurm` (python -m lib.grids submit); to submit it by hand:",
            f"#     cd <repository root> && sbatch {script_path}",
            "# Options: defaults for the profile and grid"
            + (f", then {', then '.join(opts.sources)}" if opts.sources else "") + ".",
            f"#SBATCH --array=0-{n - 1}%{opts.throttle}",
            *opts.directives(),
            "",
            "set -euo pipefail",
            "if [ ! -f lib/grids/__init__.py ] || [ ! -f Makefile ]; then",
            f'  echo "{MARK} error: $(pwd) is not the AEES repository: submit from its root '
            f'(cd <repository root> && sbatch {script_path})" >&2; exit 2',
            "fi"]
    setup = (["", "# site setup (setup: lines of the per-user config)", *opts.setup] if opts.setup else [])
    env_lines = ["", "# the project environment, offline compute nodes, shared caches",
                 *activation(env_dir), *environment(env)]
    body = BODY.format(stop=STOP_SUFFIX, mark=MARK, preempted=EXIT_PREEMPTED)
    return "\n".join(head + setup + env_lines + ["", "# one run per task", *_case(tasks)]) + "\n" + body
