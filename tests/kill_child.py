"""A tiny CIFAR training run in a child process that can SIGKILL itself at a chosen optimizer step, for the
tests of what a killed run leaves behind (checkpoints, live records, TensorBoard scalars)."""

from __future__ import annotations


def script(params: str, kill_arg: int) -> str:
    """The child's source: ``params`` is the keyword text of ``dict(...)`` (it may read ``sys.argv``); when
    ``sys.argv[kill_arg]`` is given, the run kills itself just before that (0-based) optimizer step."""
    return f"""
import os, signal, sys
from lib import config
from lib.train import cifar as T
params = dict({params})
cfg = config.resolve("cifar100", params.pop("profile"), params)
run = T.start(cfg); T.load_data(run); T.build_model(run); T.build_optimization(run)
if len(sys.argv) > {kill_arg}:
    kill_at, start = int(sys.argv[{kill_arg}]), run.stepper.start
    def start_or_die():
        if run.stepper.global_step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        start()
    run.stepper.start = start_or_die
T.fit(run); T.finish(run)
"""
