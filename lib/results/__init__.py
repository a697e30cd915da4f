"""RunResult building blocks: FLOP accounting, runtime metrics, hardware block, atomic JSON IO.

Protocol sections 7 (RunResult JSON), 8 (FLOPs) and 9.1-9.3 (runtime metrics).
Importing this package does not import torch; only ``collect_hardware`` does, lazily.
"""

from lib.results.flops import (
    RESNET18_CIFAR_FORWARD_FLOPS,
    FlopAccumulator,
    distilbert_eval_flops,
    distilbert_forward_flops,
    distilbert_train_flops,
    resnet18_eval_flops,
    resnet18_train_flops,
)
from lib.results.hardware import collect_hardware
from lib.results.io import load_run_result, save_run_result
from lib.results.provenance import provenance
from lib.results.runtime import build_runtime_metrics

__all__ = [
    "RESNET18_CIFAR_FORWARD_FLOPS",
    "FlopAccumulator",
    "resnet18_train_flops",
    "resnet18_eval_flops",
    "distilbert_forward_flops",
    "distilbert_train_flops",
    "distilbert_eval_flops",
    "build_runtime_metrics",
    "collect_hardware",
    "save_run_result",
    "load_run_result",
    "provenance",
]
