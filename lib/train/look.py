"""The last cells of a training notebook: curves of the run and, for AEES runs, the arms chosen."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt


def plot_run(result: dict[str, Any]) -> plt.Figure:
    """Loss / accuracy per epoch and, when the run has episodes, arm and reward per episode."""
    episodes = result.get("episode_logs")
    ncols = 3 if episodes else 2
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols, 3.2), constrained_layout=True)
    epochs = range(1, len(result["val_accuracies"]) + 1)
    axes[0].plot(epochs, result["train_losses"], marker=".")
    axes[0].set(title="train loss", xlabel="epoch")
    axes[1].plot(epochs, result["train_accuracies"], marker=".", label="train (training labels)")
    axes[1].plot(epochs, result["val_accuracies"], marker=".", label="validation")
    for key, values in (result.get("epoch_subset_train_accuracies") or {}).items():
        axes[1].plot(epochs, values, ls="--", label=key.replace("train_", "").replace("_", " "))
    axes[1].set(title="accuracy", xlabel="epoch")
    axes[1].legend(fontsize=7)
    if episodes:
        ax = axes[2]
        idx = range(1, len(episodes["episode_rewards"]) + 1)
        ax.step(idx, episodes["selected_lr_values"], where="mid", label="LR multiplier")
        if any(episodes["selected_noise_values"]):
            ax.step(idx, [v * 100 for v in episodes["selected_noise_values"]], where="mid",
                    label="noise sigma x100")
        ax.set(title="arm per episode", xlabel="episode")
        twin = ax.twinx()
        twin.plot(idx, episodes["episode_rewards"], color="gray", lw=0.8, alpha=0.7)
        twin.set_ylabel("reward", color="gray")
        ax.legend(fontsize=7, loc="upper left")
    label = " (offline stand-in)" if result["config"].get("data_standin") else ""
    fig.suptitle(f"{result['task_name']} {result['method_name']} seed {result['seed']}{label}")
    return fig
