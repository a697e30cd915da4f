"""Approximate analytic FLOP counts, exactly as the thesis counted them (protocol §8).

These are rough constants kept on purpose so that new runs stay comparable with
the archived thesis numbers:

* ResNet-18 / CIFAR-100: a fixed **3.7e7 FLOPs per example** forward. The 3x3-stem
  ResNet-18 at 32x32 is about 5.6e8 multiply-accumulates per image, so this constant
  is roughly **15x too low**. One CIFAR epoch is 50,000 x 1.11e8 + 10,000 x 3.7e7
  = 5.92 TFLOPs.
* DistilBERT (SST-2 *and* AG News): per-example forward
  ``6·(4TH² + 2T²H + 2THF) + 2TH + 2H·2`` with L=6, H=768, F=3072 and T the padded
  batch sequence length. It counts multiply-accumulates (no x2), and the
  classification head is counted with **2 labels even for 4-class AG News**.
  The train/eval helpers keep that quirk; only ``distilbert_forward_flops`` lets a
  caller pass another ``num_labels``.

Training costs 3 x forward (forward + backward); evaluation costs 1 x forward.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "RESNET18_CIFAR_FORWARD_FLOPS",
    "TRAIN_FLOPS_MULTIPLIER",
    "DISTILBERT_LAYERS",
    "DISTILBERT_HIDDEN",
    "DISTILBERT_FFN",
    "DISTILBERT_FLOPS_NUM_LABELS",
    "FlopAccumulator",
    "resnet18_train_flops",
    "resnet18_eval_flops",
    "distilbert_forward_flops",
    "distilbert_train_flops",
    "distilbert_eval_flops",
]

RESNET18_CIFAR_FORWARD_FLOPS = 3.7e7  # per example, forward; ~15x low (kept, see module doc)
TRAIN_FLOPS_MULTIPLIER = 3.0  # forward + backward ≈ 3 x forward
DISTILBERT_LAYERS = 6
DISTILBERT_HIDDEN = 768
DISTILBERT_FFN = 3072
DISTILBERT_FLOPS_NUM_LABELS = 2  # thesis quirk: 2 labels even for AG News


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer (> 0), got {value!r}")
    return int(value)


def _valid_flops(flops: object, name: str = "flops") -> float:
    if isinstance(flops, bool) or not isinstance(flops, numbers.Real):
        raise TypeError(f"{name} must be a finite non-negative number, got {flops!r}")
    value = float(flops)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite non-negative number, got {flops!r}")
    return value


def resnet18_train_flops(batch_size: int) -> float:
    """Training FLOPs of one CIFAR ResNet-18 batch: 3 x 3.7e7 x batch_size."""
    return _positive_int(batch_size, "batch_size") * RESNET18_CIFAR_FORWARD_FLOPS * TRAIN_FLOPS_MULTIPLIER


def resnet18_eval_flops(batch_size: int) -> float:
    """Evaluation (forward-only) FLOPs of one CIFAR ResNet-18 batch: 3.7e7 x batch_size."""
    return _positive_int(batch_size, "batch_size") * RESNET18_CIFAR_FORWARD_FLOPS


def distilbert_forward_flops(seq_len: int, num_labels: int = DISTILBERT_FLOPS_NUM_LABELS) -> float:
    """Per-example DistilBERT forward count 6·(4TH²+2T²H+2THF) + 2TH + 2H·num_labels.

    The thesis always used ``num_labels=2`` (also for AG News); keep the default to
    match archived numbers.
    """
    t = float(_positive_int(seq_len, "seq_len"))
    labels = float(_positive_int(num_labels, "num_labels"))
    h, f = float(DISTILBERT_HIDDEN), float(DISTILBERT_FFN)
    per_layer = 4.0 * t * h * h + 2.0 * t * t * h + 2.0 * t * h * f
    return DISTILBERT_LAYERS * per_layer + 2.0 * t * h + 2.0 * h * labels


def distilbert_eval_flops(batch_size: int, seq_len: int) -> float:
    """Evaluation FLOPs of one DistilBERT batch padded to ``seq_len`` (head counted with 2 labels)."""
    return _positive_int(batch_size, "batch_size") * distilbert_forward_flops(seq_len)


def distilbert_train_flops(batch_size: int, seq_len: int) -> float:
    """Training FLOPs of one DistilBERT batch padded to ``seq_len``: 3 x eval."""
    return distilbert_eval_flops(batch_size, seq_len) * TRAIN_FLOPS_MULTIPLIER


class FlopAccumulator:
    """Running train/eval FLOP totals with per-epoch TFLOP summaries (protocol §8).

    Diagnostic passes (e.g. the label-noise subset evaluations) go through
    :meth:`add_diagnostic` and are kept out of ``total_flops`` and the epochs.
    """

    def __init__(self) -> None:
        self.train_flops = 0.0
        self.eval_flops = 0.0
        self.diagnostic_flops = 0.0
        self._epoch_flops = 0.0
        self._epoch_tflops: list[float] = []

    def add_train_batch(self, flops: float) -> None:
        """Add one training batch's FLOPs (finite, >= 0)."""
        value = _valid_flops(flops)
        self.train_flops += value
        self._epoch_flops += value

    def add_eval_batch(self, flops: float) -> None:
        """Add one evaluation batch's FLOPs (finite, >= 0)."""
        value = _valid_flops(flops)
        self.eval_flops += value
        self._epoch_flops += value

    def add_diagnostic(self, flops: float) -> None:
        """Add diagnostic FLOPs; tracked separately, never part of the totals or epochs."""
        self.diagnostic_flops += _valid_flops(flops)

    def finish_epoch(self) -> float:
        """Close the epoch: return its train+eval TFLOPs and reset the epoch counter."""
        tflops = self._epoch_flops / 1e12
        self._epoch_tflops.append(tflops)
        self._epoch_flops = 0.0
        return tflops

    def state_dict(self) -> dict[str, float | list[float]]:
        """Counters as plain data (for checkpoints)."""
        return {"train": self.train_flops, "eval": self.eval_flops, "diagnostic": self.diagnostic_flops,
                "epoch": self._epoch_flops, "epoch_tflops": list(self._epoch_tflops)}

    def load_state_dict(self, state: dict[str, float | list[float]]) -> None:
        self.train_flops, self.eval_flops = state["train"], state["eval"]
        self.diagnostic_flops, self._epoch_flops = state["diagnostic"], state["epoch"]
        self._epoch_tflops = list(state["epoch_tflops"])

    @property
    def epoch_tflops(self) -> list[float]:
        """TFLOPs of every finished epoch, in order (a copy)."""
        return list(self._epoch_tflops)

    @property
    def total_flops(self) -> float:
        """Train + eval FLOPs so far (diagnostics excluded)."""
        return self.train_flops + self.eval_flops

    @property
    def total_tflops(self) -> float:
        """``total_flops / 1e12``."""
        return self.total_flops / 1e12

    @property
    def diagnostic_tflops(self) -> float:
        """``diagnostic_flops / 1e12``."""
        return self.diagnostic_flops / 1e12
