"""papermill stand-in for the grid-runner and Slurm tests: NB OUT -f PARAMS.

Writes OUT, then a minimal RunResult whose config is the profile's plus the parameters, or
fails like a notebook error when the run's name is in $FAKE_FAIL (a JSON list) or while
``<output>.fail`` exists. $FAKE_PROFILES holds ``lib.config.PROFILES`` as JSON.
"""

import json
import os
import sys
from pathlib import Path

import yaml

args = [a for a in sys.argv[1:] if not a.startswith("--")]
nb, out = args[0], args[1]
params = yaml.safe_load(open(args[args.index("-f") + 1]))
Path(out).write_text(json.dumps({"cells": [], "run_id": params["run_id"]}))
if (params["run_id"].split("/")[-1] in json.loads(os.environ.get("FAKE_FAIL", "[]"))
        or Path(params["output"] + ".fail").exists()):
    sys.exit("PapermillExecutionError: ValueError: boom (cell 5)")
task = Path(nb).stem.removeprefix("train_")
profile = json.loads(os.environ["FAKE_PROFILES"])[params["profile"]].get(task, {})
cfg = {**profile, **{k: v for k, v in params.items() if k not in ("profile", "run_id")},
       "profile": params["profile"], "task_name": task}
res = {"config": cfg, "val_accuracies": [0.5] * cfg["epochs"], "best_val_accuracy": 0.5,
       "final_val_accuracy": 0.5}
Path(params["output"]).write_text(json.dumps(res))
