"""Fashion-MNIST as a real-image testbed of the CIFAR-100 task (``dataset=fashion-mnist``).

The original idx files are read by torchvision's ``FashionMNIST`` from
``<root>/FashionMNIST/raw/`` (uncompressed, the layout torchvision's own download leaves). They
get there from one of two places, in this order:

1. the Debian package ``dataset-fashion-mnist`` (gzip'd idx files in ``DEBIAN_DIR``), decompressed
   into the project's data folder (``apt-get install -y dataset-fashion-mnist``);
2. torchvision's download (``python -m lib.preflight --fetch-fashion-mnist``, needs network), which
   checks the archives against torchvision's MD5 sums before unpacking them.

Training never downloads: missing files fail with a message naming both commands.

The images are adapted so that the CIFAR ResNet-18 and the protocol augmentation run unchanged:
28×28 grey images are zero-padded to 32×32 (2 pixels a side) and the grey channel is repeated into
three RGB channels, uint8 [N, 3, 32, 32] like ``lib.data.cifar``. A run trains on a class-balanced
subset of the training split and evaluates on a class-balanced subset of the test split, both
drawn once with ``SUBSET_SEED`` (the same images for every run and seed, as every thesis run saw
the same 50,000 CIFAR images).
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torchvision.datasets import FashionMNIST

from lib import shown_path
from lib.data.cifar import CifarArrays
from lib.data.fashion_mnist_files import (APT_COMMAND, DEBIAN_DIR, FETCH_COMMAND, RAW_FILES,
                                          debian_present, how_to_get, missing_files, raw_dir)
from lib.noise import FASHION_MNIST_GROUP_CYCLES, FASHION_MNIST_TO_GROUP

SPLIT_SIZES = {"train": 60_000, "test": 10_000}  # the published splits
NUM_CLASSES = 10
PAD = 2  # 28 + 2 * 2 = 32, the CIFAR image size
SUBSET_SEED = 0
DATASET_NAME = "Fashion-MNIST"


def _decompress(src: Path, dst: Path) -> None:
    tmp = dst.with_name(dst.name + f".tmp{os.getpid()}")
    with gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
        while chunk := fin.read(1 << 20):
            fout.write(chunk)
    os.replace(tmp, dst)  # atomic: a half-written file never looks present


def install_from_debian(root: Path, source: Path = DEBIAN_DIR) -> bool:
    """Decompress the Debian package's idx files into ``raw_dir(root)``; False when the package is absent."""
    if not debian_present(source):
        return False
    raw_dir(root).mkdir(parents=True, exist_ok=True)
    for name, src in ((name, Path(source) / f"{name}.gz") for name in RAW_FILES):
        if not (raw_dir(root) / name).is_file():
            _decompress(src, raw_dir(root) / name)
    print(f"data: Fashion-MNIST idx files from {source} (Debian package dataset-fashion-mnist) -> {raw_dir(root)}",
          flush=True)
    return True


def fetch(root: Path) -> None:
    """torchvision's download (network), MD5-checked archives unpacked into ``raw_dir(root)``."""
    try:
        FashionMNIST(str(root), train=True, download=True)
    except Exception as exc:  # network, HTTP or checksum failure: say which, and the offline way
        raise RuntimeError(f"Fashion-MNIST could not be downloaded into {root} ({type(exc).__name__}: {exc}). "
                           f"Offline: {APT_COMMAND}") from exc


def ensure_files(root: Path, *, source: Path = DEBIAN_DIR) -> None:
    """The four idx files in ``raw_dir(root)``: present, or copied from the Debian package; else an error."""
    if not missing_files(root):
        return
    install_from_debian(root, source)
    missing = missing_files(root)
    if missing:
        raise FileNotFoundError(f"Fashion-MNIST not found: {raw_dir(root)} lacks {', '.join(missing)} and the "
                                f"Debian package's files are not in {source}. {how_to_get(root)}")


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_split(root: Path, *, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """One split as read by torchvision: uint8 images [N, 28, 28] and int64 labels [N], checked."""
    ds = FashionMNIST(str(root), train=train, download=False)
    images, labels = ds.data.numpy(), ds.targets.numpy().astype(np.int64)
    where = raw_dir(root)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise RuntimeError(f"{where}: images are not uint8 28x28 (got {images.dtype} {images.shape})")
    if len(labels) != len(images):
        raise RuntimeError(f"{where}: {len(images)} images but {len(labels)} labels")
    if len(labels) and not (0 <= labels.min() and labels.max() < NUM_CLASSES):
        raise RuntimeError(f"{where}: labels outside 0..{NUM_CLASSES - 1}")
    return images, labels


def to_rgb32(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, 28, 28] grey -> uint8 [N, 3, 32, 32]: zero padding of 2, grey repeated into RGB."""
    padded = np.pad(images, ((0, 0), (PAD, PAD), (PAD, PAD)))
    return torch.from_numpy(np.ascontiguousarray(np.repeat(padded[:, None], 3, axis=1)))


def balanced_indices(labels: np.ndarray, n: int, seed: int = SUBSET_SEED) -> np.ndarray:
    """``n // 10`` indices per class drawn without replacement, sorted; ``n`` a multiple of 10."""
    if n % NUM_CLASSES or n <= 0:
        raise ValueError(f"subset size must be a positive multiple of {NUM_CLASSES}; got {n}")
    rng = np.random.default_rng(seed)
    per = n // NUM_CLASSES
    picks = []
    for c in range(NUM_CLASSES):
        pool = np.flatnonzero(labels == c)
        if len(pool) < per:
            raise ValueError(f"class {c} has {len(pool)} images, fewer than the {per} asked for")
        picks.append(rng.choice(pool, per, replace=False))
    return np.sort(np.concatenate(picks))


def load_fashion_mnist(root: Path, *, n_train: int, n_test: int, source: Path = DEBIAN_DIR) -> CifarArrays:
    """Balanced subsets of both splits as CIFAR-shaped arrays; ``source`` records where the data came from."""
    root = Path(root)
    ensure_files(root, source=source)
    x_train, y_train = read_split(root, train=True)
    x_test, y_test = read_split(root, train=False)
    tr, te = balanced_indices(y_train, n_train), balanced_indices(y_test, n_test)
    info: dict[str, Any] = {
        "dataset": DATASET_NAME,
        "raw_dir": shown_path(raw_dir(root)),
        "raw_md5": {name: _md5(raw_dir(root) / name) for name in RAW_FILES},
        "split_sizes": {"train": int(len(y_train)), "test": int(len(y_test))},
        "subset_seed": SUBSET_SEED,
        "n_train": n_train, "n_test": n_test,
        "per_class": {"train": n_train // NUM_CLASSES, "test": n_test // NUM_CLASSES},
        "image_transform": f"28x28 grey zero-padded by {PAD} to 32x32, grey repeated into 3 channels",
        "train_indices": tr.tolist(), "test_indices": te.tolist(),
    }
    return CifarArrays(
        train_images=to_rgb32(x_train[tr]), train_targets=y_train[tr].tolist(),
        test_images=to_rgb32(x_test[te]), test_targets=y_test[te].tolist(),
        fine_names=list(FashionMNIST.classes), coarse_names=list(FASHION_MNIST_GROUP_CYCLES),
        fine_to_coarse=list(FASHION_MNIST_TO_GROUP), standin=None, source=info)


__all__ = ["DEBIAN_DIR", "APT_COMMAND", "FETCH_COMMAND", "RAW_FILES", "SPLIT_SIZES", "NUM_CLASSES", "SUBSET_SEED",
           "DATASET_NAME", "raw_dir", "missing_files", "how_to_get", "install_from_debian", "fetch", "ensure_files",
           "read_split", "to_rgb32", "balanced_indices", "load_fashion_mnist"]
