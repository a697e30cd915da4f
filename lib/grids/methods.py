"""The thesis's method parameters and seed lists, the building blocks of the grids (``lib.grids.definitions``).

Protocol 11.1 (CIFAR-100) and 11.2 (NLP): optimizers, candidate sets, schedulers, label noise, seeds.
"""

from __future__ import annotations

from typing import Any

from lib.vocab import AGNEWS_NOISE_SEED

THESIS_SEEDS = (0, 1, 2, 3, 4)
MINI_SEEDS = (0, 1, 2)
MAIN_SEEDS = {"thesis": THESIS_SEEDS, "*": MINI_SEEDS}
# The real-image miniature (mini-fmnist) runs noisy CIFAR with the main seeds: its tables need n >= 3.
NOISY_CIFAR_SEEDS = {"thesis": THESIS_SEEDS, "mini-fmnist": MINI_SEEDS, "*": (0,)}
ABLATION_SEEDS = {"thesis": THESIS_SEEDS, "*": (0, 1)}

# --- CIFAR-100 (protocol 11.1) ---
ADAMW = {"optimizer": "AdamW", "lr": 1e-3}
SGD = {"optimizer": "SGD", "lr": 0.1, "momentum": 0.9}
CIFAR_LR = [0.5, 1.0, 2.0]
CIFAR_SMALL_NOISE = [0.0, 0.0025, 0.005]
BASELINE = {"control_mode": "baseline"}
AEES = {"control_mode": "adaptive", "lr_candidates": CIFAR_LR, "noise_candidates": [0.0]}
CIFAR_NOISE = {
    "asym20": {"label_noise_type": "asymmetric", "label_noise_rate": 0.2},
    "sym20": {"label_noise_type": "symmetric", "label_noise_rate": 0.2},
    "sym40": {"label_noise_type": "symmetric", "label_noise_rate": 0.4},
}


def fixed(multiplier: float) -> dict[str, Any]:
    """Single-candidate LR control (ambiguity 1): no controller, episodes logged."""
    return {"control_mode": "random", "lr_candidates": [multiplier], "noise_candidates": [0.0]}


def sched(name: str) -> dict[str, Any]:
    return {} if name == "none" else {"lr_scheduler": name}


# --- NLP (protocol 11.2) ---
SST2_GRID = {"lr": [0.7, 1.0, 1.3], "noise": [0.0, 0.0025, 0.005]}  # "SST2-grid" / "small"
COARSE_GRID = {"lr": [0.5, 1.0, 2.0], "noise": [0.0, 0.005, 0.01]}  # "coarse/high-noise"
WL = {"lr_scheduler": "warmup_linear", "warmup_epochs": 0}
AGNEWS_NOISE = {"label_noise_rate": 0.2, "label_noise_seed": AGNEWS_NOISE_SEED}


def nlp_aees(grid: dict[str, list[float]], axes: str = "dual", **extra: Any) -> dict[str, Any]:
    """``AdaptiveScheduler`` on both axes, or one (the other a single neutral candidate)."""
    lr = grid["lr"] if axes in ("dual", "lr") else [1.0]
    noise = grid["noise"] if axes in ("dual", "noise") else [0.0]
    return {"method": "AdaptiveScheduler", "lr_candidates": lr, "noise_candidates": noise, **extra}
