"""Training-label noise exactly as the thesis built it (protocol sections 4.1-4.3).

Pure Python (``random.Random``), no torch: the corrupted set and the new labels
depend only on the targets, the noise type, the rate and the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lib.vocab import AGNEWS_NOISE_SEED

NOISE_TYPES: tuple[str, ...] = ("none", "symmetric", "asymmetric")
CIFAR100_NUM_CLASSES = 100

# Superclass name -> fine labels in cycle order (protocol 4.1). The insertion order is
# the official coarse-label order, so a superclass' position is its coarse label.
CIFAR100_SUPERCLASS_CYCLES: dict[str, tuple[int, ...]] = {
    "aquatic_mammals": (4, 30, 55, 72, 95),
    "fish": (1, 32, 67, 73, 91),
    "flowers": (54, 62, 70, 82, 92),
    "food_containers": (9, 10, 16, 28, 61),
    "fruit_and_vegetables": (0, 51, 53, 57, 83),
    "household_electrical_devices": (22, 39, 40, 86, 87),
    "household_furniture": (5, 20, 25, 84, 94),
    "insects": (6, 7, 14, 18, 24),
    "large_carnivores": (3, 42, 43, 88, 97),
    "large_man-made_outdoor_things": (12, 17, 37, 68, 76),
    "large_natural_outdoor_scenes": (23, 33, 49, 60, 71),
    "large_omnivores_and_herbivores": (15, 19, 21, 31, 38),
    "medium_mammals": (34, 63, 64, 66, 75),
    "non-insect_invertebrates": (26, 45, 77, 79, 99),
    "people": (2, 11, 35, 46, 98),
    "reptiles": (27, 29, 44, 78, 93),
    "small_mammals": (36, 50, 65, 74, 80),
    "trees": (47, 52, 56, 59, 96),
    "vehicles_1": (8, 13, 48, 58, 90),
    "vehicles_2": (41, 69, 81, 85, 89),
}

_covered = sorted(label for cycle in CIFAR100_SUPERCLASS_CYCLES.values() for label in cycle)
if _covered != list(range(CIFAR100_NUM_CLASSES)):
    raise RuntimeError("CIFAR100_SUPERCLASS_CYCLES must cover each of the 100 fine labels exactly once")
del _covered

COARSE_NAMES: tuple[str, ...] = tuple(CIFAR100_SUPERCLASS_CYCLES)
# FINE_TO_COARSE[fine label] = coarse label (index into COARSE_NAMES).
FINE_TO_COARSE: tuple[int, ...] = tuple(
    next(c for c, cycle in enumerate(CIFAR100_SUPERCLASS_CYCLES.values()) if fine in cycle)
    for fine in range(CIFAR100_NUM_CLASSES)
)
# ASYMMETRIC_SUCCESSOR[fine label] = next fine label of its superclass, cyclically.
ASYMMETRIC_SUCCESSOR: tuple[int, ...] = tuple(
    next(cycle[(cycle.index(fine) + 1) % len(cycle)]
         for cycle in CIFAR100_SUPERCLASS_CYCLES.values() if fine in cycle)
    for fine in range(CIFAR100_NUM_CLASSES)
)


# Fashion-MNIST (dataset=fashion-mnist, the real-image miniature; not a thesis data set). The
# thesis's asymmetric rule (each selected label -> the next class of its group, cyclically) on
# groups of look-alike classes: the upper-body garments (T-shirt/top -> Shirt -> Pullover -> Coat),
# the footwear (Sandal -> Sneaker -> Ankle boot) and the three classes that have no look-alike
# (Trouser -> Dress -> Bag), grouped only so that every selected label changes, as on CIFAR-100.
# Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
# 8 Bag, 9 Ankle boot (torchvision's FashionMNIST.classes).
FASHION_MNIST_NUM_CLASSES = 10
FASHION_MNIST_GROUP_CYCLES: dict[str, tuple[int, ...]] = {
    "upper_body_garments": (0, 6, 2, 4),
    "footwear": (5, 7, 9),
    "other": (1, 3, 8),
}


def _successors(cycles: dict[str, tuple[int, ...]], n: int) -> tuple[int, ...]:
    covered = sorted(label for cycle in cycles.values() for label in cycle)
    if covered != list(range(n)):
        raise RuntimeError(f"group cycles must cover each of the {n} labels exactly once")
    return tuple(next(cycle[(cycle.index(c) + 1) % len(cycle)] for cycle in cycles.values() if c in cycle)
                 for c in range(n))


FASHION_MNIST_SUCCESSOR: tuple[int, ...] = _successors(FASHION_MNIST_GROUP_CYCLES, FASHION_MNIST_NUM_CLASSES)
FASHION_MNIST_TO_GROUP: tuple[int, ...] = tuple(
    next(g for g, cycle in enumerate(FASHION_MNIST_GROUP_CYCLES.values()) if c in cycle)
    for c in range(FASHION_MNIST_NUM_CLASSES))
# The CIFAR task's data sets (config ``dataset``): number of classes and asymmetric successor map.
CIFAR_TASK_CLASSES: dict[str, tuple[int, tuple[int, ...]]] = {
    "cifar100": (CIFAR100_NUM_CLASSES, ASYMMETRIC_SUCCESSOR),
    "fashion-mnist": (FASHION_MNIST_NUM_CLASSES, FASHION_MNIST_SUCCESSOR),
}


@dataclass(frozen=True)
class LabelNoiseMetadata:
    """Provenance of a corrupted training-label set (protocol 4.2)."""

    original_targets: list[int]
    noisy_targets: list[int]
    corrupted_mask: list[bool]
    clean_mask: list[bool]
    corrupted_indices: list[int]  # CIFAR: shuffled selection order; AG News: sorted
    type: str
    rate: float

    @property
    def num_corrupted(self) -> int:
        return len(self.corrupted_indices)

    def to_dict(self) -> dict[str, Any]:
        """The ``config.diagnostics.label_noise`` block of the RunResult."""
        n = len(self.original_targets)
        k = len(self.corrupted_indices)
        return {
            "enabled": True,
            "type": self.type,
            "rate": self.rate,
            "num_train_examples": n,
            "num_clean_examples": n - k,
            "num_corrupted_examples": k,
            "corrupted_fraction": k / max(n, 1),
            "original_targets": list(self.original_targets),
            "noisy_targets": list(self.noisy_targets),
            "corrupted_mask": list(self.corrupted_mask),
            "clean_mask": list(self.clean_mask),
            "corrupted_indices": list(self.corrupted_indices),
        }


def _metadata(original: list[int], noisy: list[int], selected: list[int],
              noise_type: str, rate: float) -> LabelNoiseMetadata:
    chosen = set(selected)
    corrupted_mask = [i in chosen for i in range(len(original))]
    return LabelNoiseMetadata(
        original_targets=list(original),
        noisy_targets=list(noisy),
        corrupted_mask=corrupted_mask,
        clean_mask=[not c for c in corrupted_mask],
        corrupted_indices=list(selected),
        type=noise_type,
        rate=rate,
    )


def _int_targets(targets: Sequence[int], num_classes: int, name: str) -> list[int]:
    out = [int(t) for t in targets]
    bad = [t for t in out if not 0 <= t < num_classes]
    if bad:
        raise ValueError(f"{name} must lie in 0..{num_classes - 1}; got {bad[0]}")
    return out


def apply_cifar_label_noise(
    targets: Sequence[int], noise_type: str, rate: float, seed: int, dataset: str = "cifar100"
) -> tuple[list[int], LabelNoiseMetadata | None]:
    """Corrupt CIFAR-100 training labels as the thesis did (protocol 4.1).

    Active iff ``noise_type != "none"`` and ``rate > 0``; ``k = int(round(N * rate))``
    indices are the first ``k`` of ``list(range(N))`` shuffled by ``random.Random(seed)``.
    Symmetric: the same generator draws ``s = randrange(99)``, new label ``s`` if
    ``s < y`` else ``s + 1``. Asymmetric: next fine label of the superclass, cyclically.
    Returns the (copied) targets and the metadata, or ``None`` when nothing changes.
    ``dataset="fashion-mnist"``: the same rules with 10 classes (``randrange(9)``) and
    ``FASHION_MNIST_SUCCESSOR`` as the asymmetric map.
    """
    if dataset not in CIFAR_TASK_CLASSES:
        raise ValueError(f"dataset must be one of {', '.join(CIFAR_TASK_CLASSES)}; got {dataset!r}")
    num_classes, successor = CIFAR_TASK_CLASSES[dataset]
    if noise_type not in NOISE_TYPES:
        raise ValueError(f"label_noise_type must be one of {NOISE_TYPES}; got {noise_type!r}")
    if not 0.0 <= float(rate) <= 1.0:
        raise ValueError(f"label_noise_rate must be in [0, 1]; got {rate!r}")
    original = _int_targets(targets, num_classes, f"{dataset} targets")
    if noise_type == "none" or rate <= 0.0:
        return list(original), None
    n = len(original)
    k = int(round(n * rate))
    if k <= 0:
        return list(original), None
    rng = random.Random(seed)
    order = list(range(n))
    rng.shuffle(order)
    selected = order[:k]
    noisy = list(original)
    if noise_type == "symmetric":
        for i in selected:
            s = rng.randrange(num_classes - 1)
            noisy[i] = s if s < noisy[i] else s + 1
    else:
        for i in selected:
            noisy[i] = successor[noisy[i]]
    return noisy, _metadata(original, noisy, selected, noise_type, float(rate))


def apply_agnews_label_noise(
    labels: Sequence[int], rate: float, seed: int = AGNEWS_NOISE_SEED, num_classes: int = 4
) -> tuple[list[int], LabelNoiseMetadata | None]:
    """Corrupt AG News training labels as the thesis did (protocol 4.3, symmetric only).

    ``rng = random.Random(seed)``; ``k = int(round(rate * N))`` indices from
    ``rng.sample(range(N), k)``; walking them in sorted order, ``rng.choice`` picks
    the new label among the other classes in increasing order. The thesis seed (42)
    is independent of the run seed. ``corrupted_indices`` of the metadata are sorted.
    """
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"label_noise_rate must be in [0, 1); got {rate!r}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2; got {num_classes}")
    original = _int_targets(labels, num_classes, "AG News labels")
    n = len(original)
    k = int(round(rate * n))
    if rate <= 0.0 or k <= 0:
        return list(original), None
    rng = random.Random(seed)
    corrupted = set(rng.sample(range(n), k))
    noisy = list(original)
    selected = sorted(corrupted)
    for i in selected:
        noisy[i] = rng.choice([c for c in range(num_classes) if c != original[i]])
    return noisy, _metadata(original, noisy, selected, "symmetric", float(rate))


__all__ = [
    "NOISE_TYPES", "CIFAR100_SUPERCLASS_CYCLES", "COARSE_NAMES", "FINE_TO_COARSE",
    "ASYMMETRIC_SUCCESSOR", "FASHION_MNIST_GROUP_CYCLES", "FASHION_MNIST_SUCCESSOR", "FASHION_MNIST_TO_GROUP",
    "CIFAR_TASK_CLASSES", "LabelNoiseMetadata", "apply_cifar_label_noise",
    "apply_agnews_label_noise",
]
