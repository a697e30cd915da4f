"""CIFAR-100 in the torchvision format, and batched augmentation on the training device.

The thesis read CIFAR-100 through ``torchvision.datasets.CIFAR100`` and augmented per
image in DataLoader workers (``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip()``,
``ToTensor()``, ``Normalize``; protocol 1.2). Here the uint8 images stay on the device
and a whole batch is cropped, flipped and normalised at once; the random offsets and
flips come from a CPU ``torch.Generator``, so batches do not depend on the device.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torchvision.datasets import CIFAR100

from lib.data.standin_cifar import STANDIN_FILE, standin_info, write_cifar100_standin
from lib.noise import FINE_TO_COARSE
from lib.data.replica_marker import MARKER as REPLICA_FILE
from lib.data.replica_marker import read_marker

CIFAR100_MEAN: tuple[float, float, float] = (0.5071, 0.4867, 0.4408)
CIFAR100_STD: tuple[float, float, float] = (0.2675, 0.2565, 0.2761)
CROP_PADDING = 4


class _CIFAR100(CIFAR100):
    """torchvision's CIFAR100 that skips the MD5 check only for generated files.

    Real files keep torchvision's MD5 check (run even with ``download=False``). The offline
    stand-in (``STANDIN.json``) and the rehearsal replica (``REPLICA.json``, ``lib.replica``)
    are recognised by their marker next to the pickles; their files need only exist.
    """

    def __init__(self, root: Path, *, train: bool, download: bool = False) -> None:
        folder = Path(root) / self.base_folder
        if (folder / STANDIN_FILE).is_file() or (folder / REPLICA_FILE).is_file():
            self.train_list = [[name, None] for name, _ in CIFAR100.train_list]
            self.test_list = [[name, None] for name, _ in CIFAR100.test_list]
            self.meta = {**CIFAR100.meta, "md5": None}
        super().__init__(str(root), train=train, download=download)


@dataclass
class CifarArrays:
    """Both splits as uint8 tensors [N, 3, 32, 32] (CPU) plus labels and names."""

    train_images: torch.Tensor
    train_targets: list[int]
    test_images: torch.Tensor
    test_targets: list[int]
    fine_names: list[str]
    coarse_names: list[str]
    fine_to_coarse: list[int]
    standin: dict[str, Any] | None  # contents of STANDIN.json; None for the real CIFAR-100
    replica: dict[str, Any] | None = None  # contents of REPLICA.json (lib.replica); None otherwise
    source: dict[str, Any] | None = None  # another data set in CIFAR's shape (lib.data.fashion_mnist)

    @property
    def num_classes(self) -> int:
        return len(self.fine_names)

    @property
    def is_standin(self) -> bool:
        return self.standin is not None


def _mini_hint() -> str:
    return ("The offline stand-in needs no network: run with profile=mini "
            "(or ensure_cifar100(root, standin=True)).")


def _load_split(root: Path, train: bool) -> tuple[torch.Tensor, list[int], list[int], _CIFAR100]:
    ds = _CIFAR100(root, train=train, download=False)
    images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()  # HWC -> CHW
    name = (ds.train_list if train else ds.test_list)[0][0]
    with open(Path(root) / ds.base_folder / name, "rb") as fh:
        coarse = [int(c) for c in pickle.load(fh, encoding="latin1")["coarse_labels"]]
    return images, [int(t) for t in ds.targets], coarse, ds


def load_cifar100(root: Path, *, download: bool) -> CifarArrays:
    """Load CIFAR-100 (or the stand-in) from ``root/cifar-100-python``.

    Missing real data is fetched with torchvision when ``download`` is true; a failed
    fetch, missing files or a failed MD5 check raise a RuntimeError naming the folder.
    """
    root = Path(root)
    folder = root / CIFAR100.base_folder
    present = all((folder / f).is_file() for f in ("train", "test", "meta"))
    if not present:
        if not download:
            raise RuntimeError(f"CIFAR-100 not found in {folder} (expected train, test, meta) and "
                               f"download=False. Pass download=True to fetch it. {_mini_hint()}")
        try:
            _CIFAR100(root, train=True, download=True)
        except Exception as exc:  # any failure to fetch or unpack: network, HTTP, checksum
            raise RuntimeError(f"CIFAR-100 could not be fetched into {root} "
                               f"({type(exc).__name__}: {exc}). {_mini_hint()}") from exc
    try:
        train_images, train_targets, train_coarse, ds = _load_split(root, train=True)
        test_images, test_targets, test_coarse, _ = _load_split(root, train=False)
    except RuntimeError as exc:
        raise RuntimeError(f"CIFAR-100 files in {folder} failed torchvision's check ({exc}). "
                           f"Delete the folder and download again. {_mini_hint()}") from exc
    with open(folder / "meta", "rb") as fh:
        meta = pickle.load(fh, encoding="latin1")
    mapping: dict[int, int] = {}
    for fine, coarse in zip(train_targets + test_targets, train_coarse + test_coarse):
        if mapping.setdefault(fine, coarse) != coarse:
            raise RuntimeError(f"{folder}: fine label {fine} appears with two coarse labels")
    fine_to_coarse = [mapping.get(k, -1) for k in range(100)]
    if fine_to_coarse != list(FINE_TO_COARSE) or len(ds.classes) != 100:
        raise RuntimeError(f"{folder}: the fine->coarse grouping is not CIFAR-100's "
                           "(protocol 4.1 table)")
    return CifarArrays(
        train_images=train_images, train_targets=train_targets,
        test_images=test_images, test_targets=test_targets,
        fine_names=list(ds.classes), coarse_names=list(meta["coarse_label_names"]),
        fine_to_coarse=fine_to_coarse, standin=standin_info(root), replica=read_marker(folder),
    )


def _load_standin(root: Path, n_train: int, n_test: int) -> CifarArrays:
    arrays = load_cifar100(root, download=False)
    sizes = (len(arrays.train_targets), len(arrays.test_targets))
    if sizes != (n_train, n_test) or not arrays.is_standin:
        raise ValueError(f"holds {sizes[0]} train / {sizes[1]} test images, expected {n_train} / {n_test}")
    return arrays


def ensure_cifar100(root: Path, *, standin: bool, seed: int = 0, n_train: int = 50_000,
                    n_test: int = 10_000, download: bool = True) -> CifarArrays:
    """Load CIFAR-100; with ``standin=True`` first write (or refresh) the offline stand-in.

    ``seed``, ``n_train`` and ``n_test`` only apply to the stand-in; a stand-in whose files are
    truncated or foreign is regenerated (one line says so). Loading a stand-in
    with ``standin=False`` is an error, so stand-in data is never taken for the real one.
    """
    if standin:
        write_cifar100_standin(Path(root), seed=seed, n_train=n_train, n_test=n_test)
        try:
            return _load_standin(Path(root), n_train, n_test)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, KeyError, IndexError, TypeError,
                RuntimeError) as exc:  # truncated or foreign pickles: the stand-in is rebuilt
            print(f"data: stand-in in {Path(root) / CIFAR100.base_folder} cannot be read "
                  f"({type(exc).__name__}: {str(exc)[:120]}); regenerating it", flush=True)
        write_cifar100_standin(Path(root), seed=seed, n_train=n_train, n_test=n_test, force=True)
        return _load_standin(Path(root), n_train, n_test)
    arrays = load_cifar100(root, download=download)
    if arrays.is_standin:
        raise RuntimeError(f"{Path(root) / CIFAR100.base_folder} holds the offline stand-in "
                           "(STANDIN.json), not CIFAR-100; use another root for the real data")
    return arrays


def _norm_consts(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) with x_norm = u8 * scale - shift == (u8 / 255 - mean) / std."""
    mean = torch.tensor(CIFAR100_MEAN, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR100_STD, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    return 1.0 / (255.0 * std), mean / std


def _targets_tensor(targets: Sequence[int] | torch.Tensor, n: int, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(targets, dtype=torch.long).to(device)
    if t.shape != (n,):
        raise ValueError(f"targets must have one label per image ({n}); got shape {tuple(t.shape)}")
    return t


def _check(images_u8: torch.Tensor, batch_size: int) -> None:
    if images_u8.dtype != torch.uint8 or images_u8.dim() != 4 or images_u8.shape[1] != 3:
        raise ValueError(f"images_u8 must be a uint8 tensor [N, 3, H, W]; got "
                         f"{images_u8.dtype} {tuple(images_u8.shape)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")


def train_batches(images_u8: torch.Tensor, targets: Sequence[int] | torch.Tensor, *,
                  batch_size: int, generator: torch.Generator,
                  device: torch.device | str) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """One shuffled epoch of augmented batches ``(x, y, idx)`` on ``device``.

    At the call (not lazily), the CPU ``generator`` draws the order (``randperm``), then
    crop offsets (``randint`` in 0..8, rows then columns) and flips (``rand < 0.5``) for
    the epoch's positions. Each image is zero padded by 4 (padded pixels normalise to
    -mean/std, as with torchvision on PIL images), cropped back at the offset, flipped,
    scaled to [0, 1] and normalised. ``drop_last`` is false: the last batch may be smaller.
    Keep ``images_u8`` on ``device`` to avoid a host-to-device copy per batch.
    """
    _check(images_u8, batch_size)
    device = torch.device(device)
    n, _, h, w = images_u8.shape
    y_all = _targets_tensor(targets, n, device)
    perm = torch.randperm(n, generator=generator)
    offsets = torch.randint(0, 2 * CROP_PADDING + 1, (n, 2), generator=generator).to(device)
    flips = (torch.rand(n, generator=generator) < 0.5).to(device)
    return _augmented(images_u8, y_all, perm, offsets, flips, batch_size, device)


def _augmented(images_u8: torch.Tensor, y_all: torch.Tensor, perm: torch.Tensor,
               offsets: torch.Tensor, flips: torch.Tensor, batch_size: int,
               device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    n, _, h, w = images_u8.shape
    hp, wp = h + 2 * CROP_PADDING, w + 2 * CROP_PADDING
    scale, shift = _norm_consts(device)
    rows_base = torch.arange(h, device=device)
    cols_base = torch.arange(w, device=device)
    perm_src, perm_dev = perm.to(images_u8.device), perm.to(device)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        b = stop - start
        batch = images_u8[perm_src[start:stop]].to(device, non_blocking=True)
        padded = F.pad(batch, (CROP_PADDING,) * 4).reshape(b, 3, hp * wp)  # zero padding
        rows = offsets[start:stop, 0, None] + rows_base                     # [b, h]
        cols = offsets[start:stop, 1, None] + torch.where(
            flips[start:stop, None], cols_base.flip(0), cols_base)          # [b, w]
        flat = (rows[:, :, None] * wp + cols[:, None, :]).reshape(b, 1, h * w)
        crop = padded.gather(2, flat.expand(b, 3, h * w)).reshape(b, 3, h, w)
        idx = perm_dev[start:stop]
        yield crop.float().mul_(scale).sub_(shift), y_all[idx], idx


def eval_batches(images_u8: torch.Tensor, targets: Sequence[int] | torch.Tensor, *,
                 batch_size: int, device: torch.device | str
                 ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Batches ``(x, y, idx)`` in dataset order, normalised, without augmentation."""
    _check(images_u8, batch_size)
    device = torch.device(device)
    return _plain(images_u8, _targets_tensor(targets, images_u8.shape[0], device), batch_size, device)


def _plain(images_u8: torch.Tensor, y_all: torch.Tensor, batch_size: int,
           device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    scale, shift = _norm_consts(device)
    for start in range(0, images_u8.shape[0], batch_size):
        stop = min(start + batch_size, images_u8.shape[0])
        x = images_u8[start:stop].to(device, non_blocking=True).float().mul_(scale).sub_(shift)
        yield x, y_all[start:stop], torch.arange(start, stop, device=device)


__all__ = ["CIFAR100_MEAN", "CIFAR100_STD", "CifarArrays", "load_cifar100", "ensure_cifar100",
           "train_batches", "eval_batches"]
