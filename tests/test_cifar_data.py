"""CIFAR-100 stand-in, torchvision-format loading, batched augmentation (offline, CPU)."""

from __future__ import annotations

import json
import pickle
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF

import torchvision.datasets.cifar as tv_cifar
from lib.data.cifar import (
    CIFAR100_MEAN,
    CIFAR100_STD,
    ensure_cifar100,
    eval_batches,
    load_cifar100,
    train_batches,
)
from lib.data.standin_cifar import standin_info, write_cifar100_standin
from lib.noise import COARSE_NAMES, FINE_TO_COARSE

N_TRAIN, N_TEST = 2000, 500
MEAN = torch.tensor(CIFAR100_MEAN).view(3, 1, 1)
STD = torch.tensor(CIFAR100_STD).view(3, 1, 1)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("standin")
    write_cifar100_standin(path, seed=0, n_train=N_TRAIN, n_test=N_TEST)
    return path


@pytest.fixture(scope="module")
def arrays(root: Path):
    return load_cifar100(root, download=False)


def test_pickle_layout_is_official(root: Path) -> None:
    folder = root / "cifar-100-python"
    with open(folder / "train", "rb") as fh:
        train = pickle.load(fh, encoding="latin1")
    assert set(train) == {"data", "fine_labels", "coarse_labels", "filenames", "batch_label"}
    assert train["data"].dtype == np.uint8 and train["data"].shape == (N_TRAIN, 3072)
    assert len(train["filenames"]) == N_TRAIN and isinstance(train["fine_labels"][0], int)
    with open(folder / "meta", "rb") as fh:
        meta = pickle.load(fh, encoding="latin1")
    assert meta["fine_label_names"][:4] == ["apple", "aquarium_fish", "baby", "bear"]
    assert meta["fine_label_names"][99] == "worm" and len(meta["fine_label_names"]) == 100
    assert meta["coarse_label_names"] == list(COARSE_NAMES)
    info = json.loads((folder / "STANDIN.json").read_text())
    assert info["seed"] == 0 and info["n_train"] == N_TRAIN and info["n_test"] == N_TEST
    assert "not CIFAR-100" in info["note"] and standin_info(root) == info


def test_loads_through_torchvision_format(arrays, root: Path) -> None:
    assert arrays.train_images.shape == (N_TRAIN, 3, 32, 32) and arrays.train_images.dtype == torch.uint8
    assert arrays.test_images.shape == (N_TEST, 3, 32, 32) and arrays.test_images.dtype == torch.uint8
    assert len(arrays.train_targets) == N_TRAIN and len(arrays.test_targets) == N_TEST
    assert set(arrays.train_targets) == set(range(100)) and set(arrays.test_targets) == set(range(100))
    counts = np.bincount(arrays.train_targets, minlength=100)
    assert counts.min() == counts.max() == N_TRAIN // 100  # balanced
    assert len(arrays.fine_names) == 100 and len(arrays.coarse_names) == 20
    assert arrays.fine_to_coarse == list(FINE_TO_COARSE)  # real grouping read from coarse_labels
    assert arrays.is_standin and arrays.standin["n_train"] == N_TRAIN
    # the image bytes are the pickle's R, G, B planes, row-major
    with open(root / "cifar-100-python" / "train", "rb") as fh:
        raw = pickle.load(fh, encoding="latin1")["data"][5].reshape(3, 32, 32)
    assert np.array_equal(arrays.train_images[5].numpy(), raw)


def test_deterministic_and_seed_dependent(root: Path, tmp_path: Path) -> None:
    write_cifar100_standin(tmp_path / "a", seed=0, n_train=N_TRAIN, n_test=N_TEST)
    write_cifar100_standin(tmp_path / "b", seed=1, n_train=N_TRAIN, n_test=N_TEST)
    for name in ("train", "test", "meta"):
        same = (root / "cifar-100-python" / name).read_bytes()
        assert (tmp_path / "a" / "cifar-100-python" / name).read_bytes() == same
    assert (tmp_path / "b" / "cifar-100-python" / "train").read_bytes() != \
        (root / "cifar-100-python" / "train").read_bytes()


def test_regenerates_only_when_parameters_change(tmp_path: Path) -> None:
    folder = write_cifar100_standin(tmp_path, seed=0, n_train=200, n_test=100)
    mtime = (folder / "train").stat().st_mtime_ns
    write_cifar100_standin(tmp_path, seed=0, n_train=200, n_test=100)
    assert (folder / "train").stat().st_mtime_ns == mtime
    arrays = ensure_cifar100(tmp_path, standin=True, seed=0, n_train=300, n_test=100)
    assert arrays.train_images.shape[0] == 300 and standin_info(tmp_path)["n_train"] == 300
    with pytest.raises(ValueError, match="n_train"):
        write_cifar100_standin(tmp_path, seed=0, n_train=50, n_test=100)


def test_superclass_members_look_alike(arrays) -> None:
    x = arrays.train_images.reshape(N_TRAIN, -1).float() / 255
    y = torch.tensor(arrays.train_targets)
    means = torch.stack([x[y == k].mean(0) for k in range(100)])
    dist = torch.cdist(means, means)
    coarse = torch.tensor(FINE_TO_COARSE)
    same = coarse[:, None] == coarse[None, :]
    within = dist[same & ~torch.eye(100, dtype=torch.bool)].mean()
    between = dist[~same].mean()
    assert within < 0.5 * between, (within, between)


def test_missing_real_data_without_network_points_to_mini(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(RuntimeError, match="profile=mini"):
        load_cifar100(tmp_path, download=False)

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tv_cifar, "download_and_extract_archive", no_network)
    with pytest.raises(RuntimeError, match="could not be fetched.*profile=mini"):
        load_cifar100(tmp_path, download=True)
    with pytest.raises(RuntimeError, match="profile=mini"):
        ensure_cifar100(tmp_path, standin=False)


def test_md5_check_kept_without_marker_and_standin_refused_as_real(tmp_path: Path) -> None:
    folder = write_cifar100_standin(tmp_path, seed=0, n_train=100, n_test=100)
    with pytest.raises(RuntimeError, match="stand-in"):
        ensure_cifar100(tmp_path, standin=False)
    (folder / "STANDIN.json").unlink()  # now it claims to be real CIFAR-100: MD5 must fail
    with pytest.raises(RuntimeError, match="failed torchvision's check"):
        load_cifar100(tmp_path, download=False)


def _reference_batch(images: torch.Tensor, idx: torch.Tensor, off: torch.Tensor, flip: torch.Tensor):
    """Per-image thesis path: zero pad 4, crop at offset, flip, ToTensor, Normalize."""
    out = []
    for i, (top, left), f in zip(idx.tolist(), off.tolist(), flip.tolist()):
        img = TF.crop(TF.pad(images[i], [4]), top, left, 32, 32)
        img = TF.hflip(img) if f else img
        out.append(TF.normalize(img.float() / 255, CIFAR100_MEAN, CIFAR100_STD))
    return torch.stack(out)


def test_train_batches_match_per_image_reference(arrays) -> None:
    images, targets = arrays.train_images[:300], arrays.train_targets[:300]
    batches = list(train_batches(images, targets, batch_size=128,
                                 generator=torch.Generator().manual_seed(3), device="cpu"))
    g = torch.Generator().manual_seed(3)  # documented draw order: perm, offsets, flips
    perm = torch.randperm(300, generator=g)
    off = torch.randint(0, 9, (300, 2), generator=g)
    flip = torch.rand(300, generator=g) < 0.5
    assert [b[0].shape[0] for b in batches] == [128, 128, 44]  # drop_last=False
    start = 0
    for x, y, idx in batches:
        b = len(idx)
        assert x.dtype == torch.float32 and x.shape == (b, 3, 32, 32)
        assert torch.equal(idx, perm[start:start + b])
        assert y.tolist() == [targets[i] for i in idx.tolist()]
        ref = _reference_batch(images, idx, off[start:start + b], flip[start:start + b])
        torch.testing.assert_close(x, ref, atol=1e-5, rtol=0)
        start += b
    assert sorted(torch.cat([b[2] for b in batches]).tolist()) == list(range(300))


def test_train_batches_padding_seed_and_epoch_coverage() -> None:
    images = torch.full((1000, 3, 32, 32), 255, dtype=torch.uint8)
    targets = list(range(100)) * 10
    run = lambda seed: list(train_batches(images, targets, batch_size=96,
                                          generator=torch.Generator().manual_seed(seed), device="cpu"))
    a, b, c = run(0), run(0), run(1)
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[2], q[2]) for p, q in zip(a, b))
    assert not torch.equal(a[0][2], c[0][2])
    idx = torch.cat([t[2] for t in a])
    assert sorted(idx.tolist()) == list(range(1000)) and len(a) == 11 and len(a[-1][2]) == 1000 % 96
    x = torch.cat([t[0] for t in a])
    pad_value, white = -MEAN / STD, (1 - MEAN) / STD
    is_pad = torch.isclose(x, pad_value.expand_as(x[0]), atol=1e-5)
    assert (is_pad | torch.isclose(x, white.expand_as(x[0]), atol=1e-5)).all()
    shifted = is_pad.flatten(1).any(1).float().mean()  # all but offset (4, 4): 80/81
    assert 0.95 < shifted < 1.0


def test_eval_batches_in_order_without_augmentation(arrays) -> None:
    batches = list(eval_batches(arrays.test_images, arrays.test_targets, batch_size=200, device="cpu"))
    assert [len(b[2]) for b in batches] == [200, 200, 100]
    x = torch.cat([b[0] for b in batches])
    assert torch.equal(torch.cat([b[2] for b in batches]), torch.arange(N_TEST))
    assert torch.cat([b[1] for b in batches]).tolist() == arrays.test_targets
    ref = (arrays.test_images.float() / 255 - MEAN) / STD
    torch.testing.assert_close(x, ref, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="batch_size"):
        eval_batches(arrays.test_images, arrays.test_targets, batch_size=0, device="cpu")
    with pytest.raises(ValueError, match="targets"):
        train_batches(arrays.test_images, [0], batch_size=8, generator=torch.Generator(), device="cpu")
    with pytest.raises(ValueError, match="uint8"):
        train_batches(arrays.test_images.float(), arrays.test_targets, batch_size=8,
                      generator=torch.Generator(), device="cpu")
