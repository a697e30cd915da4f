"""The CIFAR task's training data: the data set its config names (CIFAR-100, its offline stand-in, or one
of ``lib.vocab.CIFAR_TASK_DATASETS``), with the label noise of protocol 4.1 on the training targets.

Label noise is applied in this layer for every task: here for the CIFAR task, in
:func:`lib.data.text.prepare_text_task` for AG News (whose noisy labels live in its tokenized cache).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lib.data import STANDIN_SEED
from lib.data.cifar import CifarArrays, ensure_cifar100
from lib.data.fashion_mnist import load_fashion_mnist
from lib.noise import LabelNoiseMetadata, apply_cifar_label_noise
from lib.vocab import CIFAR_TASK_DATASETS

# How the CIFAR task reads each data set of lib.vocab.CIFAR_TASK_DATASETS: (its folder, the config) ->
# CIFAR-shaped arrays.
LOADERS: dict[str, Callable[[Path, Any], CifarArrays]] = {
    # real images as a CPU-scale testbed (lib.data.fashion_mnist)
    "fashion-mnist": lambda folder, cfg: load_fashion_mnist(folder, n_train=cfg.fmnist_n_train,
                                                            n_test=cfg.fmnist_n_test),
}


def load(cfg: Any, data_dir: Path) -> tuple[CifarArrays, list[int], LabelNoiseMetadata | None]:
    """The arrays of ``cfg.dataset`` under ``data_dir`` (on the CPU), the training targets the run trains
    on (noisy where ``cfg`` asks for label noise, drawn from ``cfg.seed``) and the noise's metadata."""
    other = CIFAR_TASK_DATASETS.get(cfg.dataset)
    if other is not None:
        data = LOADERS[cfg.dataset](data_dir / other.folder, cfg)
    elif cfg.data_standin:
        data = ensure_cifar100(data_dir / "cifar100-standin", standin=True, seed=STANDIN_SEED,
                               n_train=cfg.standin_n_train, n_test=cfg.standin_n_test)
    else:
        data = ensure_cifar100(data_dir / "cifar100", standin=False)
    noisy, meta = apply_cifar_label_noise(data.train_targets, cfg.label_noise_type,
                                          cfg.label_noise_rate, cfg.seed, dataset=cfg.dataset)
    return data, noisy, meta
