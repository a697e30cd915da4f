"""The CIFAR-100 run (protocol 1.5), in the phases a training notebook calls one by one.

    run = start(cfg)          # seed, device                      (phase 1: configure)
    load_data(run)            # CIFAR-100 or stand-in, label noise (phase 2: data)
    build_model(run)          # CIFAR ResNet-18                    (phase 3: model)
    build_optimization(run)   # optimizer, AEES, epoch scheduler   (phase 4: optimizer and AEES)
    fit(run)                  # epochs: train, evaluate, step the scheduler (phase 5: train)
    result = finish(run)      # diagnostics, RunResult JSON        (phase 6: save)

All run state lives in one :class:`CifarRun` object.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from lib import DATA_DIR, repo_path
from lib.config import CifarConfig
from lib.control import METHOD_NAMES, build_epoch_scheduler, build_optimizer
from lib.control.peers import BN_RECOMPUTE_BATCHES
from lib.control.wiring import build_control
from lib.data import cifar_task
from lib.data.cifar import eval_batches, train_batches
from lib.models import cifar_resnet18
from lib.results import resnet18_eval_flops, resnet18_train_flops
from lib.train import guard, loop, thesis_loop, thesis_machinery
from lib.train.common import (
    SUBSET_KEYS,
    autocast,
    measure_step_flops,
    resolve_device,
    set_seed,
)
from lib.train.state import RunState
from lib.train.cifar_result import build_result, default_output
from lib.train.rehearsal import capped
from lib.vocab import CIFAR_TASK_DATASETS



@dataclass
class CifarRun(RunState):
    cfg: CifarConfig
    device: torch.device
    data: Any = None
    noise: Any = None  # LabelNoiseMetadata or None
    targets: torch.Tensor | None = None  # training targets (possibly noisy) on the device
    test_targets: torch.Tensor | None = None
    # the peak epoch's weights too, for the peak-checkpoint diagnostics
    best: dict[str, Any] = field(default_factory=lambda: {"val": 0.0, "epoch": None, "state": None},
                                 kw_only=True)
    forward: Any = None  # the model, or its torch.compile'd version
    train_loader: Any = None  # machinery=thesis: DataLoaders with PIL transforms (lib.train.thesis_machinery)
    test_loader: Any = None


def cpu_has_bf16() -> bool:
    """Does this CPU compute bf16 natively (the mini profile's bf16 is faster than fp32 only there)?
    Read from the CPU flags the kernel reports; False where they cannot be read (the note is then shown)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), [])
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16"} & set(flags))


def start(cfg: CifarConfig) -> CifarRun:
    """Phase 1: seed everything (protocol 13), pick the device, fix the output path."""
    set_seed(cfg.seed)
    run = CifarRun(cfg=cfg, device=resolve_device(cfg.device))
    run.output = repo_path(cfg.output) if cfg.output else default_output(cfg)
    guard.claim(run.output, cfg)  # output path checked and the run locked before any data
    if cfg.precision == "bf16" and run.device.type == "cpu" and not cpu_has_bf16():
        print("note: precision=bf16 on a CPU without bf16 instructions (AVX512-BF16, AMX): bf16 autocast "
              "is emulated there and slower than fp32; pass precision=fp32")
    return run


def load_data(run: CifarRun) -> None:
    """Phase 2: images (with the label noise of protocol 4.1 on the train targets: lib.data.cifar_task) to
    the device as uint8."""
    cfg = run.cfg
    data, noisy, meta = cifar_task.load(cfg, DATA_DIR)
    dev = run.device
    data.train_images = data.train_images.to(dev)
    data.test_images = data.test_images.to(dev)
    run.data, run.noise = data, meta
    run.targets = torch.tensor(noisy, dtype=torch.long, device=dev)
    run.test_targets = torch.tensor(data.test_targets, dtype=torch.long, device=dev)
    if meta is not None:
        run.clean_labels = torch.tensor(meta.original_targets, dtype=torch.long, device=dev)
        run.corrupted = torch.tensor(meta.corrupted_mask, dtype=torch.bool, device=dev)
        run.subset_metrics = {k: [] for k in SUBSET_KEYS}
    # Data order and augmentation: a generator of their own, seeded from the run seed.
    run.data_generator = torch.Generator().manual_seed(cfg.seed)
    if thesis_machinery.uses_thesis_machinery(cfg):  # the thesis' DataLoaders (2 workers, PIL transforms)
        run.train_loader, run.test_loader = thesis_machinery.cifar_loaders(
            data.train_images, noisy, data.test_images, data.test_targets, batch_size=cfg.batch_size,
            generator=run.data_generator, device=dev)
    other = CIFAR_TASK_DATASETS.get(cfg.dataset)
    kind = (other.description if other is not None
            else "offline stand-in (not CIFAR-100)" if cfg.data_standin else "CIFAR-100")
    n_corr = 0 if meta is None else sum(meta.corrupted_mask)
    print(f"data: {kind}: {len(noisy)} train / {len(data.test_targets)} test images, "
          f"{n_corr} corrupted labels ({cfg.label_noise_type} {cfg.label_noise_rate:g})")


def build_model(run: CifarRun) -> None:
    """Phase 3: CIFAR ResNet-18 (3x3 stem, no max-pool), random init from the seeded torch RNG; one
    output per class of the data (100 for CIFAR-100, 10 for Fashion-MNIST)."""
    cfg = run.cfg
    run.model = cifar_resnet18(num_classes=run.data.num_classes, width=cfg.model_width).to(run.device)
    if cfg.channels_last:
        run.model = run.model.to(memory_format=torch.channels_last)
    run.forward = torch.compile(run.model) if cfg.compile else run.model


def build_optimization(run: CifarRun, **aees_options: Any) -> None:
    """Phase 4: optimizer, AEES (adaptive/random), the epoch-level scheduler; starts the clock."""
    cfg = run.cfg
    steps_per_epoch = -(-len(run.targets) // cfg.batch_size)  # train_batches keeps the last batch
    if thesis_machinery.uses_thesis_machinery(cfg):  # the objects the thesis runner built (protocol 1.4)
        thesis_machinery.refuse_aees_options(aees_options)
        run.optimizer, run.aees, run.logger, run.stepper = thesis_loop.build(run.model.parameters(), cfg,
                                                                             cfg.control_mode)
    else:
        run.optimizer = build_optimizer(run.model.parameters(), cfg.optimizer, cfg.lr, cfg.weight_decay,
                                        cfg.momentum, total_steps=cfg.epochs * steps_per_epoch)
        control = build_control(run.optimizer, cfg, **aees_options)
        run.aees, run.logger, run.stepper = control.aees, control.logger, control.stepper
    span = cfg.scheduler_t_max or cfg.epochs
    run.scheduler = build_epoch_scheduler(run.optimizer, cfg.lr_scheduler, span, cfg.warmup_epochs)
    x = torch.zeros((cfg.batch_size, 3, 32, 32), device=run.device)
    y = torch.zeros(cfg.batch_size, dtype=torch.long, device=run.device)
    run.measured_flops = measure_step_flops(run.model, (x, y),
                                            lambda m, b: F.cross_entropy(m(b[0]), b[1]), meta=True)
    run.wall_start = time.perf_counter()


def _batches(run: CifarRun) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Augmented training batches on the device (channels-last when configured)."""
    for x, y, idx in train_batches(run.data.train_images, run.targets, batch_size=run.cfg.batch_size,
                                   generator=run.data_generator, device=run.device):
        if run.cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        yield x, y, idx


def _forward(run: CifarRun, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    logits = run.forward(x)
    return F.cross_entropy(logits, y), logits


@torch.inference_mode()
def _predict(run: CifarRun, batches: Iterable[tuple[torch.Tensor, Any, Any]]) -> torch.Tensor:
    """Argmax predictions over ``batches`` (the first ``rehearsal_max_steps`` under a rehearsal cap)."""
    run.model.eval()
    preds = []
    for x, _, _ in capped(batches, run.cfg):
        x = x.to(run.device, non_blocking=True)
        if run.cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(run.device, run.cfg.precision):
            preds.append(run.forward(x).argmax(1))
    run.model.train()
    return torch.cat(preds)


def _eval_batches(run: CifarRun, images: torch.Tensor, targets: torch.Tensor) -> Iterator[tuple]:
    return eval_batches(images, targets, batch_size=run.cfg.batch_size, device=run.device)


def bn_batches(run: CifarRun) -> Any:
    """Schedule-Free's BatchNorm recompute input (lib.control.peers): the first
    ``BN_RECOMPUTE_BATCHES`` training batches in stored order, without augmentation (no RNG of
    the run is drawn), counted as evaluation FLOPs."""
    def batches() -> Any:
        n = min(len(run.targets), BN_RECOMPUTE_BATCHES * run.cfg.batch_size)
        for x, _, _ in eval_batches(run.data.train_images[:n], run.targets[:n],
                                    batch_size=run.cfg.batch_size, device=run.device):
            run.flops.add_eval_batch(resnet18_eval_flops(len(x)))
            yield x.contiguous(memory_format=torch.channels_last) if run.cfg.channels_last else x
    return batches


def _evaluate(run: CifarRun) -> float:
    """Test accuracy, counted on the device."""
    pred = _predict(run, _eval_batches(run, run.data.test_images, run.test_targets))
    for start in range(0, len(pred), run.cfg.batch_size):
        run.flops.add_eval_batch(resnet18_eval_flops(min(run.cfg.batch_size, len(pred) - start)))
    return int((pred == run.test_targets[:len(pred)]).sum()) / len(pred)  # [:len]: rehearsal cap


def _best_weights(run: CifarRun) -> dict[str, Any]:
    """The peak epoch keeps its weights, for the peak-checkpoint diagnostics."""
    return {"state": {k: v.detach().clone() for k, v in run.model.state_dict().items()}}


TASK = loop.Task(
    batches=_batches,
    forward=_forward,
    count_batch=lambda run, x, y: run.flops.add_train_batch(resnet18_train_flops(len(y))),
    evaluate=lambda run: _evaluate(run),
    scheduler_unit="epoch",  # the CIFAR schedules are stepped once per epoch (protocol 6.3)
    steps_per_epoch=lambda run: -(-len(run.targets) // run.cfg.batch_size),  # the last batch may be short
    best_extras=_best_weights,
    bn_batches=bn_batches,  # Schedule-Free evaluates its averaged weights with BatchNorm redone
)


def task(run: CifarRun) -> loop.Task:
    """What the loop runs: :data:`TASK`, or with ``machinery=thesis`` its thesis variant (the thesis
    runner's DataLoader batches, train pass and evaluation reads; :mod:`lib.train.thesis_machinery`)."""
    if thesis_machinery.uses_thesis_machinery(run.cfg):
        return thesis_machinery.variant(TASK, batches=thesis_machinery.cifar_batches,
                                        evaluate=thesis_machinery.cifar_evaluate)
    return TASK


def train_epoch(run: CifarRun) -> tuple[float, float, float]:
    """One training pass of the run's task; mean loss, accuracy and the pass's seconds."""
    return loop.train_pass(run, task(run))


def fit(run: CifarRun) -> None:
    """Phase 5: per epoch train, evaluate on the test split, record, print, then step the scheduler."""
    loop.fit(run, task(run))


def _subset_accuracies(run: CifarRun, val_acc: float) -> dict[str, float]:
    """The four diagnostic accuracies of protocol 4.2 from one eval pass over the train images."""
    pred = _predict(run, _eval_batches(run, run.data.train_images, run.targets))
    n = len(pred)  # all images, or the first few under rehearsal_max_steps
    noisy_hit = pred == run.targets[:n]
    clean_hit = pred == run.clean_labels[:n]
    corr = run.corrupted[:n]

    def acc(hit: torch.Tensor) -> float:
        return int(hit.sum()) / hit.numel()

    return {
        "train_all_accuracy": acc(noisy_hit),
        "train_clean_accuracy": acc(noisy_hit[~corr]),
        "train_corrupted_accuracy_vs_noisy_labels": acc(noisy_hit[corr]),
        "train_corrupted_accuracy_vs_clean_labels": acc(clean_hit[corr]),
        "final_val_accuracy": val_acc,
    }


def finish(run: CifarRun, output: str | Path | None = None, **extra: Any) -> dict[str, Any]:
    """Phase 6: final diagnostics (noisy runs, final and best-epoch weights), RunResult, atomic save."""
    diagnostics = None
    if run.noise is not None:
        with loop.evaluation_weights(run, task(run)):  # the weights evaluated (Schedule-Free: x)
            final = _subset_accuracies(run, run.metrics["val_accuracies"][-1])
        run.model.load_state_dict(run.best["state"])
        peak = _subset_accuracies(run, run.best["val"])
        peak.pop("final_val_accuracy")
        diagnostics = {"final": final, "peak": {"epoch": run.best["epoch"],
                                                "val_accuracy": run.best["val"], **peak}}
    result = build_result(run, diagnostics, **extra)
    return loop.save_result(run, result, repo_path(output) if output else run.output)


__all__ = ["CifarRun", "start", "load_data", "build_model", "build_optimization", "fit", "finish",
           "METHOD_NAMES"]
