"""Label noise (protocol 4.1-4.3): counts, flips, determinism, metadata."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from lib.noise import (
    ASYMMETRIC_SUCCESSOR,
    CIFAR100_SUPERCLASS_CYCLES,
    COARSE_NAMES,
    FINE_TO_COARSE,
    apply_agnews_label_noise,
    apply_cifar_label_noise,
)

N = 5000
TARGETS = [i % 100 for i in range(N)]


def test_superclass_table_covers_labels_and_successor_cycles() -> None:
    assert len(CIFAR100_SUPERCLASS_CYCLES) == 20 and COARSE_NAMES[0] == "aquatic_mammals"
    assert CIFAR100_SUPERCLASS_CYCLES["people"] == (2, 11, 35, 46, 98)
    assert sorted(sum(CIFAR100_SUPERCLASS_CYCLES.values(), ())) == list(range(100))
    assert FINE_TO_COARSE[4] == 0 and FINE_TO_COARSE[89] == 19 and FINE_TO_COARSE[0] == 4
    assert ASYMMETRIC_SUCCESSOR[95] == 4 and ASYMMETRIC_SUCCESSOR[4] == 30
    for fine in range(100):  # five steps round the cycle come back; the group is kept
        assert FINE_TO_COARSE[ASYMMETRIC_SUCCESSOR[fine]] == FINE_TO_COARSE[fine]
        x = fine
        for _ in range(5):
            x = ASYMMETRIC_SUCCESSOR[x]
        assert x == fine and ASYMMETRIC_SUCCESSOR[fine] != fine


@pytest.mark.parametrize("noise_type", ["symmetric", "asymmetric"])
@pytest.mark.parametrize("rate", [0.2, 0.4, 0.1234])
def test_cifar_exact_count_and_masks(noise_type: str, rate: float) -> None:
    noisy, meta = apply_cifar_label_noise(TARGETS, noise_type, rate, seed=3)
    k = int(round(N * rate))
    assert meta is not None and len(meta.corrupted_indices) == k
    assert len(set(meta.corrupted_indices)) == k
    changed = [i for i in range(N) if noisy[i] != TARGETS[i]]
    assert sorted(changed) == sorted(meta.corrupted_indices)  # every selected label changes
    assert meta.original_targets == TARGETS and meta.noisy_targets == noisy
    assert meta.corrupted_mask == [i in set(changed) for i in range(N)]
    assert meta.clean_mask == [not c for c in meta.corrupted_mask]
    d = meta.to_dict()
    assert list(d) == ["enabled", "type", "rate", "num_train_examples", "num_clean_examples",
                       "num_corrupted_examples", "corrupted_fraction", "original_targets",
                       "noisy_targets", "corrupted_mask", "clean_mask", "corrupted_indices"]
    assert d["enabled"] is True and d["type"] == noise_type and d["rate"] == rate
    assert (d["num_train_examples"], d["num_clean_examples"], d["num_corrupted_examples"]) == (N, N - k, k)
    assert d["corrupted_fraction"] == k / N
    assert all(isinstance(v, bool) for v in d["corrupted_mask"])


def test_cifar_matches_protocol_recipe() -> None:
    """Independent restatement of 4.1: shuffle, first k, same rng for randrange(99)."""
    rate, seed = 0.4, 7
    rng = random.Random(seed)
    order = list(range(N))
    rng.shuffle(order)
    expected = list(TARGETS)
    for i in order[: int(round(N * rate))]:
        s = rng.randrange(99)
        expected[i] = s if s < expected[i] else s + 1
    noisy, meta = apply_cifar_label_noise(TARGETS, "symmetric", rate, seed)
    assert noisy == expected and meta is not None
    assert meta.corrupted_indices == order[: int(round(N * rate))]  # shuffled order kept


def test_symmetric_never_same_and_roughly_uniform() -> None:
    targets = [7] * 20000
    noisy, meta = apply_cifar_label_noise(targets, "symmetric", 1.0, seed=0)
    counts = Counter(noisy)
    assert 7 not in counts and len(counts) == 99
    assert min(counts.values()) > 130 and max(counts.values()) < 280  # mean 202


def test_asymmetric_is_superclass_successor() -> None:
    noisy, meta = apply_cifar_label_noise(TARGETS, "asymmetric", 0.5, seed=1)
    assert meta is not None
    for i in meta.corrupted_indices:
        assert noisy[i] == ASYMMETRIC_SUCCESSOR[TARGETS[i]]
        assert FINE_TO_COARSE[noisy[i]] == FINE_TO_COARSE[TARGETS[i]]


def test_cifar_determinism_and_seed_dependence() -> None:
    a = apply_cifar_label_noise(TARGETS, "symmetric", 0.2, seed=0)
    b = apply_cifar_label_noise(TARGETS, "symmetric", 0.2, seed=0)
    c = apply_cifar_label_noise(TARGETS, "symmetric", 0.2, seed=1)
    assert a == b
    assert set(a[1].corrupted_indices) != set(c[1].corrupted_indices)
    state = random.getstate()  # the module-level generator is untouched
    apply_cifar_label_noise(TARGETS, "asymmetric", 0.2, seed=0)
    assert random.getstate() == state


@pytest.mark.parametrize("noise_type, rate, n", [("none", 0.4, N), ("symmetric", 0.0, N),
                                                 ("asymmetric", 0.0001, 100)])
def test_cifar_inactive_returns_copy(noise_type: str, rate: float, n: int) -> None:
    targets = TARGETS[:n]
    noisy, meta = apply_cifar_label_noise(targets, noise_type, rate, seed=0)
    assert meta is None and noisy == targets and noisy is not targets


@pytest.mark.parametrize("kwargs, match", [
    ({"noise_type": "pair", "rate": 0.2}, "label_noise_type"),
    ({"noise_type": "symmetric", "rate": 1.5}, "label_noise_rate"),
    ({"noise_type": "symmetric", "rate": -0.1}, "label_noise_rate"),
])
def test_cifar_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        apply_cifar_label_noise(TARGETS, seed=0, **kwargs)
    with pytest.raises(ValueError, match="0..99"):
        apply_cifar_label_noise([0, 100], "symmetric", 0.5, seed=0)


def test_agnews_matches_protocol_recipe() -> None:
    labels = [(i * 7) % 4 for i in range(3000)]
    rate = 0.2
    noisy, meta = apply_agnews_label_noise(labels, rate)
    rng = random.Random(42)
    k = int(round(rate * len(labels)))
    chosen = set(rng.sample(range(len(labels)), k))
    expected = list(labels)
    for i in sorted(chosen):
        expected[i] = rng.choice([c for c in range(4) if c != labels[i]])
    assert noisy == expected and k == 600
    assert meta is not None and meta.corrupted_indices == sorted(chosen)
    assert meta.type == "symmetric" and meta.to_dict()["num_corrupted_examples"] == 600
    assert all(noisy[i] != labels[i] for i in chosen)
    assert sum(a != b for a, b in zip(noisy, labels)) == 600
    # fixed seed: independent of anything else; another seed gives another set
    assert apply_agnews_label_noise(labels, rate) == (noisy, meta)
    assert apply_agnews_label_noise(labels, rate, seed=0)[1].corrupted_indices != meta.corrupted_indices


def test_agnews_inactive_and_validation() -> None:
    labels = [0, 1, 2, 3] * 10
    assert apply_agnews_label_noise(labels, 0.0) == (labels, None)
    assert apply_agnews_label_noise(labels, 0.01) == (labels, None)  # k rounds to 0
    for bad in (1.0, -0.2):
        with pytest.raises(ValueError, match="label_noise_rate"):
            apply_agnews_label_noise(labels, bad)
    with pytest.raises(ValueError, match="0..3"):
        apply_agnews_label_noise([0, 4], 0.5)
