"""DistilBERT classifier variants of the benchmark (SST-2-style: 2 labels, batch 16, AdamW).

The model is ``DistilBertForSequenceClassification`` built in-process from a
``DistilBertConfig`` with random init (no download): the 2-layer stand-in size on CPU, the
``distilbert-base-uncased`` shape (6 layers, dim 768, vocab 30522) with ``--full``. The inputs
are random token ids of a fixed length (a defined workload: every batch is ``batch x length``)
fed through the project's collator (dynamic padding; here nothing to pad).

* thesis: ``DataLoader`` (``num_workers=0``, protocol 2.2), fp32, stock ``pulseopt.AEES``, the
  loop of protocol 2.4 with per-step host reads (``loss.item()``, correct count ``.item()``).
* project: ``lib.train.text`` (``build_optimization`` and its epoch loop); one round = one epoch
  over ``steps x batch`` examples. AEES engine and precision come from the config
  (``aees_impl``, ``update_norm``, ``precision``); the NLP config has no ``compile`` field, so
  the opt-in variants compile the model here (channels_last does not apply to a transformer).

``transformers`` / ``datasets`` may be missing (a bare GPU machine): :func:`unavailable` says
why, and the task is then reported as skipped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from lib.bench.core import Trainer, Variant


@dataclasses.dataclass(frozen=True)
class TextSize:
    """Workload of the DistilBERT task."""

    layers: int = 2
    dim: int = 64
    heads: int = 2
    hidden: int = 256
    vocab: int = 4000  # > 100: lib.train.text probes FLOPs with token id 100
    batch_size: int = 16
    length: int = 64  # tokens per example, [CLS] and [SEP] included
    steps: int = 20  # timed steps per round
    episode_length: int = 10


CPU = TextSize()
FULL = TextSize(layers=6, dim=768, heads=12, hidden=3072, vocab=30522, length=128, steps=40,
                episode_length=20)


def _runs() -> Any:
    """The text bench's trainers (:mod:`lib.bench.text_runs`)."""
    # transformers and datasets: only when a text bench runs, so that the CIFAR bench never pays for them
    # and a machine without them reports the task as skipped (unavailable)
    from lib.bench import text_runs

    return text_runs


def unavailable() -> str:
    """Why the text task cannot run here ('' when it can)."""
    try:
        _runs()
    except ImportError as exc:
        return (f"skipped: the DistilBERT part cannot import transformers / datasets / "
                f"lib.train.text ({exc})")
    return ""


def describe(size: TextSize) -> str:
    return (f"DistilBERT classifier {size.layers}x{size.dim} (random init, vocab {size.vocab}) "
            f"batch {size.batch_size} x {size.length} tokens fp32 AdamW")


def build(v: Variant, size: TextSize, device: torch.device, seed: int) -> Trainer:
    """The trainer of variant ``v``."""
    runs = _runs()
    return (runs.thesis if v.pipeline == "thesis" else runs.project)(v, size, device, seed)
