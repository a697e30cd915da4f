"""CIFAR ResNet-18 variants of the benchmark: the thesis-style pipeline and this project's loop.

* thesis: ``torchvision.transforms`` on PIL images (``RandomCrop(32, padding=4)``,
  ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``; protocol 1.2) in a ``DataLoader`` with
  2 workers and ``pin_memory`` on CUDA, fp32, and the loop of protocol 1.5 with the per-step
  host reads of a typical thesis-era loop (``loss.item()``, the correct count ``.item()``).
  A fresh loader iterator (new workers) per round, as the thesis had per epoch; the first
  ``thesis_warmup`` steps of each round are not timed (worker start-up).
* project: ``lib.train.cifar`` phases (``start``, ``build_model``, ``build_optimization``) and
  its epoch loop on device-resident uint8 images with batched augmentation; one round = one
  epoch over ``steps x batch`` stand-in images. AEES engine and opt-ins come from the config
  (``aees_impl``, ``update_norm``, ``precision``, ``channels_last``, ``compile``).

Data: the offline CIFAR-100 stand-in (``lib.data.cifar.ensure_cifar100``) in a folder of the
benchmark's own, so the ``mini`` profile's stand-in is never rewritten.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from pathlib import Path
from typing import Any

import pulseopt
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from lib.bench.core import Trainer, Variant, epoch_round
from lib.config import resolve
from lib.control import build_aees, build_optimizer
from lib.results import resnet18_train_flops
from lib.train.common import EpochTimer, set_seed
from lib.control.wiring import Stepper
from lib.data.cifar import ensure_cifar100
from lib.models import cifar_resnet18
from lib.train import cifar as project
from lib.train import guard, thesis_machinery

# torchvision (and PIL) are imported where used: without them only this task is skipped.


@dataclasses.dataclass(frozen=True)
class CifarSize:
    """Workload of the CIFAR task."""

    width: int = 16  # ResNet-18 base width (64 = the thesis model)
    batch_size: int = 128
    steps: int = 6  # timed steps per round
    thesis_warmup: int = 3  # untimed steps at the start of each thesis round (worker start-up)
    episode_length: int = 4
    workers: int = 2  # thesis DataLoader workers (protocol 1.2)


CPU = CifarSize()
FULL = CifarSize(width=64, steps=50, thesis_warmup=10, episode_length=25)
LR_CANDIDATES = [0.5, 1.0, 2.0]
DUAL_NOISE = [0.0, 0.005, 0.01]


def describe(size: CifarSize) -> str:
    return f"cifar_resnet18(width={size.width}) batch {size.batch_size} 32x32 fp32 AdamW"


def load_data(size: CifarSize, data_dir: Path) -> Any:
    """The stand-in (``CifarArrays``) with enough images for one thesis round (warm-up + timed)."""

    n = max((size.steps + size.thesis_warmup) * size.batch_size, 100)
    return ensure_cifar100(Path(data_dir) / f"cifar100-standin-{n}", standin=True, seed=0,
                           n_train=n, n_test=100)


def _config(v: Variant, size: CifarSize, device: str, seed: int) -> Any:
    aees = v.aees != "none"
    return resolve("cifar100", "mini", {
        "control_mode": "adaptive" if aees else "baseline", "batch_size": size.batch_size,
        "model_width": size.width, "episode_length": size.episode_length,
        "lr_candidates": LR_CANDIDATES if aees else [1.0],
        "noise_candidates": DUAL_NOISE if v.dual else [0.0], "seed": seed, "device": device,
        "aees_impl": "stock" if v.aees == "stock" else "fast",
        "update_norm": "off" if v.aees == "fast_nonorm" else "fused", "checkpoint_every": 0,
        "precision": "bf16" if v.optins else "fp32", "channels_last": v.optins, "compile": v.optins,
        "epochs": 1})


def _thesis(v: Variant, size: CifarSize, data: Any, device: torch.device, seed: int) -> Trainer:
    cfg = _config(v, size, device.type, seed)
    set_seed(seed)
    model = cifar_resnet18(num_classes=100, width=size.width).to(device)
    opt = build_optimizer(model.parameters(), "AdamW", cfg.lr, cfg.weight_decay)
    aees = build_aees(opt, cfg.control_mode, cfg, aees_class=pulseopt.AEES)
    n = (size.steps + size.thesis_warmup) * size.batch_size
    transform, _ = thesis_machinery.cifar_transforms()  # the thesis' PIL pipeline, as machinery=thesis runs it
    dataset = thesis_machinery.PilCifar(data.train_images[:n].permute(0, 2, 3, 1).numpy(), data.train_targets[:n],
                                        transform)
    loader = DataLoader(dataset, batch_size=size.batch_size, shuffle=True, num_workers=size.workers,
                        pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(seed))
    state = {"step": 0, "loss_sum": 0.0, "correct": 0, "flops": 0.0}

    def one_round() -> float:
        model.train()
        clock = EpochTimer(device)
        batches = iter(loader)
        for i in range(size.thesis_warmup + size.steps):
            if i == size.thesis_warmup:
                clock.start()
            x, y, _ = next(batches)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if aees is not None:
                aees.step_start(state["step"])
            opt.zero_grad(set_to_none=True)
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            if aees is None:
                opt.step()
            else:
                aees.step_end(loss)
            state["flops"] += resnet18_train_flops(len(y))
            state["loss_sum"] += loss.item() * len(y)
            state["correct"] += (out.argmax(1) == y).sum().item()
            state["step"] += 1
        seconds = clock.stop()
        del batches  # workers end here, outside the timed steps
        return seconds

    return Trainer(round=one_round, steps=size.steps, batch_size=size.batch_size, aees=aees)


def _project(v: Variant, size: CifarSize, data: Any, device: torch.device, seed: int) -> Trainer:
    cfg = _config(v, size, device.type, seed)
    run = project.start(cfg)  # seeds like a real run
    guard.release(run.output)  # the bench writes no RunResult: it holds no run's lock
    n = size.steps * size.batch_size
    run.data = dataclasses.replace(data, train_images=data.train_images[:n].to(device),
                                   train_targets=data.train_targets[:n])
    run.targets = torch.tensor(data.train_targets[:n], dtype=torch.long, device=device)
    run.data_generator = torch.Generator().manual_seed(seed)
    project.build_model(run)
    with contextlib.redirect_stdout(io.StringIO()):
        project.build_optimization(run)

    return Trainer(round=epoch_round(project.train_epoch, run, device), steps=size.steps,
                   batch_size=size.batch_size, aees=run.aees,
                   isolated=lambda: isolated_cycle(run.stepper, run.model, device))


def isolated_cycle(stepper: Stepper, model: torch.nn.Module, device: torch.device) -> Any:
    """One ``Stepper`` cycle on fixed gradients: ``start`` (zero_grad) -> gradients -> ``finish``."""
    gen = torch.Generator().manual_seed(1)
    params = [p for p in model.parameters() if p.requires_grad]
    grads = [(torch.randn(p.shape, generator=gen) * 1e-3).to(device, p.dtype) for p in params]
    loss = torch.tensor(2.0, device=device)

    def cycle() -> None:
        stepper.start()
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        stepper.finish(loss)

    return cycle


def build(v: Variant, size: CifarSize, data: Any, device: torch.device, seed: int) -> Trainer:
    """The trainer of variant ``v``."""
    maker = _thesis if v.pipeline == "thesis" else _project
    return maker(v, size, data, device, seed)
