"""The thesis machinery (config ``machinery=thesis``): train the way the thesis timed.

The compute-overhead tables (T13, T14) divide seconds per epoch, so what surrounds the
optimizer step matters as much as AEES itself. The thesis timed

* the objects its runner built (protocol 1.4, 5.1; :mod:`lib.train.thesis_loop`): for AEES and
  random runs pulseopt's optimizer wrapper (``AdaptiveModeAdamW`` / ``AdaptiveModeSGD``) driven by
  a ``StructuredEpisodeManager`` of the runner's making, not ``pulseopt.AEES``; its SGD baseline
  through the same SGD wrapper in mode ``base`` (multiplier 1, σ 0; protocol 14.5): the update of
  torch SGD plus the wrapper's per-step parameter snapshot and update norm read back to the host;
  its AdamW baselines plain torch AdamW;
* its step and epoch (protocol 1.5): per step the loss and the correct count read to the host
  (``.item()``) and summed in Python, the episode manager fed after them; per evaluation batch the
  counts read to the host; an epoch's clock from the train pass to the end of the evaluation,
  with no weights copied inside it (the best epoch's weights, which the project's noisy runs keep
  for their peak diagnostics, are copied after the clock stops; clean runs keep none);
* CIFAR-100 batches from a torch ``DataLoader`` with 2 worker processes applying torchvision's
  PIL transforms (``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip``, ``ToTensor``,
  ``Normalize``; evaluation ``ToTensor`` + ``Normalize``), pinned memory on CUDA (protocol 1.2);
* no checkpoint writes.

``machinery=project`` (the default) is this compendium's faster machinery: FastAEES, uint8
images on the device with batched augmentation, metrics kept on the device and read once per
epoch, atomic per-epoch checkpoints. Both record their choice (``config.machinery`` and
``config.machinery_details``).

On the text tasks there is no PIL and nothing of the data path differs: the thesis batched
the tokenized sets with dynamic padding in the main process, as this project does. There the
thesis machinery means the runner's objects, step and evaluation reads, and no checkpoint
writes (the NLP baselines are plain torch AdamW in both).

Everything here runs in fp32 without the GPU opt-ins (``lib.config`` refuses them with
``machinery=thesis``); ``aees_impl`` reads ``stock`` (every object is stock pulseopt 0.3.0). The
data order and the workers' augmentation draws come from the run's data generator (the thesis
seeded no DataLoader generator), so a thesis-machinery run is repeatable; its draws are not the
project pipeline's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from lib.data.cifar import CIFAR100_MEAN, CIFAR100_STD
from lib.results import distilbert_eval_flops, resnet18_eval_flops
from lib.train import thesis_loop
from lib.train.rehearsal import capped

CIFAR_WORKERS = 2  # thesis DataLoader workers (protocol 1.1, "fixed, not flags")

_COMMON = {"aees": "stock pulseopt as the thesis runner wrapped it: AdaptiveModeAdamW/AdaptiveModeSGD "
                   "driven by a StructuredEpisodeManager (not pulseopt.AEES; aees_impl=stock)",
           "step": "per step loss.item() and correct.item() (host syncs), then compute_update_norm() and "
                   "on_step_end(loss.item()); per evaluation batch the counts read to the host",
           "timed_epoch": "train pass + evaluation; the best epoch's weights copied after the clock stops "
                          "(noisy runs only)",
           "checkpoints": "none written", "precision": "fp32, no channels_last, no compile"}
DETAILS = {
    "thesis": {
        "cifar100": {**_COMMON,
                     "sgd_baseline": "pulseopt.AdaptiveModeSGD wrapper, mode 'base' (multiplier 1, sigma 0)",
                     "adamw_baseline": "plain torch AdamW",
                     "data_pipeline": f"torch DataLoader, num_workers={CIFAR_WORKERS}, pin_memory on CUDA, "
                                      "torchvision PIL transforms (RandomCrop(32, padding=4), "
                                      "RandomHorizontalFlip, ToTensor, Normalize); evaluation through a "
                                      "DataLoader too (ToTensor, Normalize)"},
        "text": {**_COMMON,
                 "baseline": "plain torch AdamW",
                 "data_pipeline": "the tokenized sets batched with dynamic padding in the main process "
                                  "(as the thesis; no PIL on text)"},
    },
    "project": {
        "cifar100": {"aees": "aees_impl (default FastAEES, same decisions as stock)",
                     "checkpoints": "atomic checkpoint every checkpoint_every epochs (outside the timed epoch)",
                     "sgd_baseline": "plain torch SGD", "adamw_baseline": "plain torch AdamW",
                     "data_pipeline": "device-resident uint8 images, batched crop/flip on the training device"},
        "text": {"aees": "aees_impl (default FastAEES, same decisions as stock)",
                 "checkpoints": "atomic checkpoint every checkpoint_every epochs (outside the timed epoch)",
                 "baseline": "plain torch AdamW",
                 "data_pipeline": "the tokenized sets batched with dynamic padding in the main process"},
    },
}


def details(cfg: Any) -> dict[str, str]:
    """What ``cfg.machinery`` means for ``cfg``'s task (recorded as ``config.machinery_details``)."""
    return dict(DETAILS[cfg.machinery]["cifar100" if cfg.task_name == "cifar100" else "text"])


def uses_thesis_machinery(cfg: Any) -> bool:
    return getattr(cfg, "machinery", "project") == "thesis"


class PilCifar(Dataset):
    """What ``torchvision.datasets.CIFAR100`` does per item: ``Image.fromarray`` + transform.

    Items are ``(image, target, index)``: the index tells the loop which examples are corrupted.
    """

    def __init__(self, images_hwc: np.ndarray, targets: list[int], transform: Any) -> None:
        from PIL import Image

        self.images, self.targets, self.transform = images_hwc, list(targets), transform
        self.to_pil = Image.fromarray

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        return self.transform(self.to_pil(self.images[i])), self.targets[i], i


def cifar_transforms() -> tuple[Any, Any]:
    """The thesis' train and test transforms (protocol 1.2)."""
    from torchvision import transforms as T

    norm = T.Normalize(CIFAR100_MEAN, CIFAR100_STD)
    train = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    test = T.Compose([T.ToTensor(), norm])
    return train, test


def cifar_loaders(images_train: torch.Tensor, train_targets: list[int], images_test: torch.Tensor,
                  test_targets: list[int], *, batch_size: int, generator: torch.Generator,
                  device: torch.device) -> tuple[DataLoader, DataLoader]:
    """Training (shuffled by ``generator``, ``drop_last=False``) and test loaders of uint8 NCHW images."""
    train_tf, test_tf = cifar_transforms()
    hwc = lambda x: np.ascontiguousarray(x.cpu().permute(0, 2, 3, 1).numpy())  # noqa: E731
    pin = device.type == "cuda"
    train = DataLoader(PilCifar(hwc(images_train), train_targets, train_tf), batch_size=batch_size,
                       shuffle=True, num_workers=CIFAR_WORKERS, pin_memory=pin, generator=generator)
    test = DataLoader(PilCifar(hwc(images_test), test_targets, test_tf), batch_size=batch_size,
                      shuffle=False, num_workers=CIFAR_WORKERS, pin_memory=pin)
    return train, test


def refuse_aees_options(aees_options: dict[str, Any]) -> None:
    """The thesis machinery builds the thesis runner's own objects; AEES options have no place there."""
    if aees_options:
        raise ValueError(f"machinery 'thesis' builds the thesis runner's optimizer and episode manager "
                         f"(lib.train.thesis_loop); AEES options do not apply: {sorted(aees_options)}")


# --- the thesis variant of a task adapter's Task (lib.train.loop.Task) ---

def variant(task: Any, *, evaluate: Callable[[Any], float], batches: Callable[[Any], Any] | None = None) -> Any:
    """``task`` as the thesis runner ran it: its train pass (per-step host reads, :mod:`lib.train.thesis_loop`),
    its evaluation, its batches where they differ (CIFAR's DataLoader), and the best epoch's extras
    (weights) taken after the epoch's clock and only where they are read, in noisy runs (the thesis
    runner kept none and timed no copy)."""
    keep = task.best_extras
    return dataclasses.replace(task, batches=batches or task.batches, evaluate=evaluate,
                               train_pass=thesis_loop.train_pass, best_after_clock=True,
                               best_extras=lambda run: keep(run) if run.corrupted is not None else {})


def cifar_batches(run: Any) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
    """Training batches from the thesis DataLoader (PIL transforms in 2 workers), copied to the device;
    the index reaches the device only where it is read (noisy runs)."""
    dev, noisy = run.device, run.corrupted is not None
    for x, y, idx in run.train_loader:
        yield (x.to(dev, non_blocking=True), y.to(dev, non_blocking=True),
               idx.to(dev, non_blocking=True) if noisy else None)


@torch.no_grad()
def cifar_evaluate(run: Any) -> float:
    """Test accuracy as the thesis runner measured it (protocol 1.6), through the test DataLoader:
    per batch the forward pass, the argmax and three host reads (the size of its all-true subset
    selection, the correct count, the size again)."""
    run.model.eval()
    dev = run.device
    correct = total = 0
    for x, y, _ in capped(run.test_loader, run.cfg):
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        logits = run.forward(x)
        run.flops.add_eval_batch(resnet18_eval_flops(int(y.size(0))))
        pred = logits.argmax(dim=1)
        selected = torch.ones_like(y, dtype=torch.bool)
        if int(selected.sum().item()) == 0:
            continue
        correct += int((pred[selected] == y[selected]).sum().item())
        total += int(selected.sum().item())
    run.model.train()
    return correct / max(total, 1)


@torch.no_grad()
def text_evaluate(run: Any) -> float:
    """Validation accuracy as the thesis runner measured it (protocol 2.4): the correct count of
    every batch read to the host."""
    run.model.eval()
    correct = n = 0
    for batch in capped(run.val_loader, run.cfg):
        size, seq_len = batch["input_ids"].shape
        batch = {k: v.to(run.device, non_blocking=True) for k, v in batch.items()}
        labels = batch.pop("labels")
        logits = run.model(**batch).logits
        run.flops.add_eval_batch(distilbert_eval_flops(size, seq_len))
        run.padded_tokens["eval"] += size * seq_len
        correct += int((logits.argmax(dim=1) == labels).sum().item())
        n += size
    run.model.train()
    return correct / max(n, 1)
