"""Offline stand-in for CIFAR-100 in the official ``cifar-100-python`` pickle layout.

Not CIFAR-100. Synthetic 32x32 RGB images, deterministic from a seed, generated in
seconds, read by ``torchvision.datasets.CIFAR100`` like the real files. The 100 fine
and 20 coarse classes carry the real names and the real grouping (protocol 4.1), and
classes of one superclass look alike, so asymmetric label noise keeps its meaning:

* superclass: background colour + low-frequency colour field, object shape family
  (superellipse exponent, aspect), object colour;
* class: object size/aspect/rotation and a colour offset, a stripe texture of its own
  frequency and orientation, a faint background pattern (version 3 made the colour offset
  and the texture stronger, so the classes are easy to tell apart);
* image: random position (+-4 px), horizontal flip, scale, rotation and texture phase,
  contrast/brightness/colour jitter, its own smooth random field and pixel noise (the
  per-image identity a network can memorise under label noise).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from lib.atomic import atomic_path, write_text_atomic
from lib.noise import COARSE_NAMES, FINE_TO_COARSE

GENERATOR_NAME = "lib.data.standin_cifar"
GENERATOR_VERSION = 3  # 3: easier classes, calmer images (calibration); see _class_params
BASE_FOLDER = "cifar-100-python"
STANDIN_FILE = "STANDIN.json"
_REAL_TRAIN_MD5 = "16019d7e3df5f24257cddd939b257f8d"  # official CIFAR-100 `train`

CIFAR100_FINE_NAMES: tuple[str, ...] = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest",
    "fox", "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower",
    "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
    "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
    "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum",
    "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew",
    "skunk", "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar",
    "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger",
    "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree",
    "wolf", "woman", "worm",
)
if len(CIFAR100_FINE_NAMES) != 100 or list(CIFAR100_FINE_NAMES) != sorted(CIFAR100_FINE_NAMES):
    raise RuntimeError("CIFAR100_FINE_NAMES must be the 100 official names in alphabetical order")

_SIZE, _PAD = 32, 4
_BIG = _SIZE + 2 * _PAD
_CHUNK = 2000  # images generated at a time (fixed: part of the deterministic recipe)
# Per-image jitter (fractions of the 0..1 intensity range); uniform pixel noise of std 0.025.
# Version 3 halved both (v2: contrast 0.25, brightness 0.06, colour 0.04, field 0.06, noise 0.05):
# with less per-image variation the clean class evidence is learned early in a mini run, and the
# per-image identity left (position, scale, rotation, texture phase, field) is still memorised
# under label noise later, which is the shape the thesis's noisy-CIFAR runs have.
_JIT = {"contrast": 0.125, "bright": 0.03, "colour": 0.02, "field": 0.03}
_NOISE_SCALE = 0.025 * 255 / (256 / 12 ** 0.5)
# Version 3: every class's object colour gets a further offset of this std (on top of the 0.12
# of v2, drawn from a stream of its own so the v2 parameters are unchanged) and a texture twice
# as strong: classes of one superclass stay alike but become separable within a few hundred steps.
_CLASS_FG_EXTRA_SD = 0.3
_TEX_SCALE = 2.0


def _upsample_matrix(low: int, high: int) -> np.ndarray:
    """Bilinear (align-corners) interpolation matrix of shape [high, low]."""
    pos = np.linspace(0.0, low - 1.0, high)
    return np.maximum(0.0, 1.0 - np.abs(pos[:, None] - np.arange(low)[None, :])).astype(np.float32)


def _smooth_fields(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """``n`` smooth random fields [n, 3, high, high], unit-variance grid values, bilinear."""
    grid = rng.standard_normal((n * 3, low, low), dtype=np.float32)
    up = _upsample_matrix(low, high)
    return (up @ grid @ up.T).reshape(n, 3, high, high)


def _class_params(seed: int) -> dict[str, np.ndarray]:
    """Per-class rendering parameters; superclass members share most of them."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0])))
    n_sup = len(COARSE_NAMES)
    sup = {
        "bg": rng.uniform(0.25, 0.75, (n_sup, 3)),
        "fg": rng.uniform(0.1, 0.9, (n_sup, 3)),
        "power": rng.choice(np.array([1.0, 2.0, 4.0]), n_sup),
        "radius": rng.uniform(7.0, 11.0, n_sup),
        "aspect": rng.uniform(0.45, 1.0, n_sup),
        "angle": rng.uniform(0.0, np.pi, n_sup),
    }
    bg_field = 0.14 * _smooth_fields(rng, n_sup, 3, _BIG)
    c = np.asarray(FINE_TO_COARSE)
    cls = {
        "fg": np.clip(sup["fg"][c] + rng.normal(0.0, 0.12, (100, 3)), 0.05, 0.95),
        "power": sup["power"][c],
        "radius": sup["radius"][c] * rng.uniform(0.8, 1.2, 100),
        "aspect": np.clip(sup["aspect"][c] * rng.uniform(0.8, 1.25, 100), 0.35, 1.0),
        "angle": sup["angle"][c] + rng.normal(0.0, 0.35, 100),
        "freq": rng.uniform(0.08, 0.3, 100),
        "orient": rng.uniform(0.0, np.pi, 100),
        "tex": rng.uniform(0.08, 0.2, 100),
    }
    cls["bg"] = (sup["bg"][c][:, :, None, None] + bg_field[c]
                 + 0.07 * _smooth_fields(rng, 100, 5, _BIG)).astype(np.float32)
    extra = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 3])))  # v3 stream
    cls["fg"] = np.clip(cls["fg"] + extra.normal(0.0, _CLASS_FG_EXTRA_SD, (100, 3)), 0.05, 0.95)
    cls["tex"] = cls["tex"] * _TEX_SCALE
    return cls


def _render(cls: dict[str, np.ndarray], labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render images of the given fine labels as uint8 [n, 3, 32, 32] (0..255 scale inside)."""
    n = len(labels)
    f32 = np.float32
    off = rng.integers(0, 2 * _PAD + 1, (n, 2))
    flip = rng.random(n) < 0.5
    scale = rng.uniform(0.8, 1.2, n)
    dangle = rng.normal(0.0, 0.25, n)
    phase = rng.uniform(0.0, 2 * np.pi, n)
    contrast = rng.uniform(1.0 - _JIT["contrast"], 1.0 + _JIT["contrast"], n)
    shift = rng.normal(0.0, _JIT["bright"], (n, 1)) + rng.normal(0.0, _JIT["colour"], (n, 3))
    field = _smooth_fields(rng, n, 4, _SIZE) * f32(255 * _JIT["field"])
    noise = rng.integers(0, 256, (n, 3, _SIZE, _SIZE), dtype=np.uint8)

    # Background: the class template, cropped at the image's offset (mirrored if flipped).
    ar = np.arange(_SIZE)
    rows = off[:, 0, None] + ar                                    # [n, 32]
    cols = np.where(flip[:, None], off[:, 1, None] + ar[::-1], off[:, 1, None] + ar)
    bg = cls["bg"][labels[:, None, None, None], np.arange(3)[None, :, None, None],
                   rows[:, None, :, None], cols[:, None, None, :]]  # [n, 3, 32, 32]

    # Object: superellipse centred where the crop puts the template centre, x mirrored if flipped.
    grid = ar.astype(f32) - f32((_SIZE - 1) / 2)
    sgn = np.where(flip, -1.0, 1.0)
    cy = (_PAD - off[:, 0]).astype(f32)[:, None, None]
    cx = (sgn * (_PAD - off[:, 1])).astype(f32)[:, None, None]
    y = grid[None, :, None] - cy
    x = sgn.astype(f32)[:, None, None] * (grid[None, None, :] - cx)
    th = (cls["angle"][labels] + dangle).astype(f32)[:, None, None]
    a = (cls["radius"][labels] * scale).astype(f32)[:, None, None]
    b = a * cls["aspect"][labels].astype(f32)[:, None, None]
    p = cls["power"][labels].astype(f32)[:, None, None]
    cos, sin = np.cos(th), np.sin(th)
    r = (np.abs(x * cos + y * sin) / a) ** p + (np.abs(y * cos - x * sin) / b) ** p  # r^p
    mask = 1.0 / (1.0 + np.exp(np.clip((r ** (1.0 / p) - 1.0) * 8.0, -30.0, 30.0)))  # soft edge
    o = cls["orient"][labels].astype(f32)[:, None, None]
    f = cls["freq"][labels].astype(f32)[:, None, None] * f32(2 * np.pi)
    tex = np.sin(f * (x * np.cos(o) + y * np.sin(o)) + phase.astype(f32)[:, None, None])
    tex *= cls["tex"][labels].astype(f32)[:, None, None]

    img = tex[:, None] + cls["fg"][labels].astype(f32)[:, :, None, None]
    img -= bg
    img *= mask[:, None]
    img += bg                                                      # in [0, 1]
    # Jitter on the 0..255 scale: contrast about 0.5, brightness/colour, field, noise.
    img *= (255.0 * contrast).astype(f32)[:, None, None, None]
    base = 255.0 * (0.5 - 0.5 * contrast[:, None] + shift) + 0.5 - 127.5 * _NOISE_SCALE
    img += base.astype(f32)[:, :, None, None]                      # +0.5: round on truncation
    img += field
    img += np.multiply(noise, f32(_NOISE_SCALE), dtype=f32)
    np.clip(img, 0.0, 255.0, out=img)
    return img.astype(np.uint8)


def _split(cls: dict[str, np.ndarray], seed: int, split: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Balanced labels (counts differ by at most one) in random order, and their images."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, split])))
    labels = rng.permutation(np.arange(n) % 100)
    data = np.empty((n, 3 * _SIZE * _SIZE), dtype=np.uint8)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        data[start:stop] = _render(cls, labels[start:stop], rng).reshape(stop - start, -1)
    return labels, data


def _atomic_pickle(obj: Any, path: Path) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # parallel writers do not collide
        pickle.dump(obj, fh, protocol=4)


def standin_info(root: Path) -> dict[str, Any] | None:
    """Contents of ``root/cifar-100-python/STANDIN.json``, or None if there is no stand-in."""
    path = Path(root) / BASE_FOLDER / STANDIN_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def write_cifar100_standin(root: Path, *, seed: int = 0, n_train: int, n_test: int,
                           force: bool = False) -> Path:
    """Write (or keep, if up to date) the stand-in under ``root/cifar-100-python``.

    Regenerates when ``STANDIN.json`` is missing or records another generator version,
    seed or size, or always with ``force`` (its files were found damaged). Refuses to
    overwrite real CIFAR-100 files. Returns the folder.
    """
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 100:
            raise ValueError(f"{name} must be an int >= 100 (every class present); got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    folder = Path(root) / BASE_FOLDER
    info = {
        "generator": GENERATOR_NAME,
        "version": GENERATOR_VERSION,
        "seed": seed,
        "n_train": n_train,
        "n_test": n_test,
        "note": "offline stand-in, not CIFAR-100",
    }
    files = [folder / f for f in ("train", "test", "meta")]
    current = standin_info(root)
    if not force and current is not None and all(current.get(k) == v for k, v in info.items() if k != "note") \
            and all(f.is_file() for f in files):
        return folder
    if current is None and (folder / "train").is_file():
        digest = hashlib.md5((folder / "train").read_bytes()).hexdigest()
        if digest == _REAL_TRAIN_MD5:
            raise RuntimeError(f"{folder} holds the real CIFAR-100; refusing to overwrite it with "
                               "the offline stand-in (use another root)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STANDIN_FILE).unlink(missing_ok=True)

    cls = _class_params(seed)
    coarse = np.asarray(FINE_TO_COARSE)
    for split, (fname, n, batch_label) in enumerate(
            [("train", n_train, "training batch 1 of 1"), ("test", n_test, "testing batch 1 of 1")], 1):
        labels, data = _split(cls, seed, split, n)
        _atomic_pickle({
            "filenames": [f"standin_{CIFAR100_FINE_NAMES[y]}_s_{i:06d}.png" for i, y in enumerate(labels)],
            "batch_label": batch_label,
            "fine_labels": labels.tolist(),
            "coarse_labels": coarse[labels].tolist(),
            "data": data,
        }, folder / fname)
    _atomic_pickle({"fine_label_names": list(CIFAR100_FINE_NAMES),
                    "coarse_label_names": list(COARSE_NAMES)}, folder / "meta")
    write_text_atomic(folder / STANDIN_FILE, json.dumps(info, indent=2) + "\n")
    return folder


__all__ = ["CIFAR100_FINE_NAMES", "GENERATOR_VERSION", "STANDIN_FILE", "standin_info",
           "write_cifar100_standin"]
