"""The thesis machinery (config ``machinery=thesis``): train the way the thesis timed.

The compute-overhead tables (T13, T14) divide seconds per epoch, so what surrounds the
optimizer step matters as much as AEES itself. The thesis timed

* stock pulseopt (its wrappers and episode manager; here ``pulseopt.AEES``, ``aees_impl=stock``);
* its SGD baseline through pulseopt's SGD wrapper with multiplier 1 and σ 0 (protocol 1.4,
  14.5): the same update as torch SGD plus the wrapper's per-step work (parameter snapshots and
  an update norm read back to the host); its AdamW baselines were plain torch AdamW;
* CIFAR-100 batches from a torch ``DataLoader`` with 2 worker processes applying torchvision's
  PIL transforms (``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip``, ``ToTensor``,
  ``Normalize``; evaluation ``ToTensor`` + ``Normalize``), pinned memory on CUDA (protocol 1.2);
* no checkpoint writes.

``machinery=project`` (the default) is this compendium's faster machinery: FastAEES, uint8
images on the device with batched augmentation, atomic per-epoch checkpoints. Both record
their choice (``config.machinery`` and ``config.machinery_details``).

On the text tasks there is no PIL and nothing of the data path differs: the thesis batched
the tokenized sets with dynamic padding in the main process, as this project does. There the
thesis machinery means stock pulseopt and no checkpoint writes (the NLP baselines are plain
torch AdamW in both).

Everything here runs in fp32 without the GPU opt-ins (``lib.config`` refuses them with
``machinery=thesis``). The data order and the workers' augmentation draws come from the run's
data generator (the thesis seeded no DataLoader generator), so a thesis-machinery run is
repeatable; its draws are not the project pipeline's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

CIFAR_WORKERS = 2  # thesis DataLoader workers (protocol 1.1, "fixed, not flags")

_COMMON = {"aees": "stock pulseopt.AEES (aees_impl=stock)", "checkpoints": "none written",
           "precision": "fp32, no channels_last, no compile"}
DETAILS = {
    "thesis": {
        "cifar100": {**_COMMON,
                     "sgd_baseline": "pulseopt.AdaptiveModeSGD wrapper, multiplier 1, sigma 0",
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

    from lib.data.cifar import CIFAR100_MEAN, CIFAR100_STD

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


def sgd_baseline(params: Any, lr: float, momentum: float, weight_decay: float, seed: int) -> torch.optim.Optimizer:
    """The thesis SGD baseline's optimizer: pulseopt's SGD wrapper, multiplier 1, σ 0 (protocol 1.4)."""
    import warnings

    from pulseopt import AdaptiveModeSGD, CandidateConfig

    with warnings.catch_warnings():  # deprecated in pulseopt 0.3.0, which is what the thesis called
        warnings.simplefilter("ignore", DeprecationWarning)
        return AdaptiveModeSGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                               mode=CandidateConfig("lr1_n0", 1.0, 0.0), noise_seed=seed)
