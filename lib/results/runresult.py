"""The RunResult, declared once: every top-level key a run writes, thesis or project, and the
thesis' config (7.3) and episode-log (7.4) key sets.

The table ``_TABLE`` (parsed into ``KEYS``) says for each top-level key where it comes from
(``thesis``: protocol 7.2; ``project``: added by this compendium), which tasks write it
(``all``, ``cifar100`` or ``text`` = SST-2 and AG News; ``/noisy``: only runs with label noise;
``/at-save``: added when the file is written) and what it means. ``build_core(run, ...)``
builds the keys every task shares from the run state; the task adapters
(``lib.train.cifar_result``, ``lib.train.text_result``) add their own and call
``check(result, task, noisy)`` on every RunResult they build, so a key cannot appear or vanish
without being declared here; the tests read their protocol key sets from here too.
Unlike the rest of ``lib.results``, this module imports ``lib.control`` (hence torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lib.results.provenance import provenance
from lib.vocab import episode_logs


@dataclass(frozen=True)
class Key:
    name: str
    origin: str  # "thesis" (protocol 7.2) | "project"
    doc: str
    tasks: str = "all"  # "all" | "cifar100" | "text"
    when: str = "always"  # "always" | "noisy" | "rehearsal" / "replica" (marks, only where they apply)
    at_save: bool = False  # added by lib.results.io / the loop when the file is written


# name                         origin  written by      meaning
_TABLE = """
method_name                    thesis  all             Baseline, AdaptiveScheduler or RandomScheduler; text: the method
task_name                      thesis  all             cifar100 | sst2 | agnews
seed                           thesis  all             the run seed
model_name                     thesis  all             resnet18, or the text model's name
dataset_name                   thesis  all             the data set; '(offline stand-in)' appended for stand-ins
config                         thesis  all             the resolved configuration plus the derived keys of 7.3
best_val_accuracy              thesis  all             highest per-epoch validation accuracy
final_val_accuracy             thesis  all             last epoch's validation accuracy
final_train_loss               thesis  all             last epoch's mean training loss
total_steps                    thesis  all             optimizer steps taken
total_epochs                   thesis  all             configured epochs
wall_clock_seconds             thesis  all/at-save     training wall clock, phase 4 to the save
estimated_flops                thesis  all             the thesis' constant-based FLOP estimate (protocol 8)
accuracy_per_tflop             thesis  all             best_val_accuracy per estimated TFLOP
train_losses                   thesis  all             per-epoch mean training loss
train_accuracies               thesis  all             per-epoch training accuracy (against the possibly noisy labels)
val_accuracies                 thesis  all             per-epoch validation accuracy
epoch_wall_clock_seconds       thesis  all             per-epoch wall clock (train pass + evaluation)
epoch_tflops                   thesis  all             per-epoch estimated TFLOPs
episode_logs                   thesis  all             the episode manager's logs (7.4); null for baseline runs
controller_logs                thesis  all             controller snapshots after every episode (7.5); null for baseline
run_tag                        thesis  all             free label (timing repeats: run1, run2, ...)
runtime_metrics                thesis  all/at-save     derived throughput and overhead metrics (9.1-9.3)
epoch_lrs                      project all             per-epoch base LR at the start of the epoch
measured_flops                 project all             torch.utils.flop_counter measurement beside the estimate
provenance                     project all             git commit, packages, host, papermill run id
epoch_subset_train_accuracies  project all/noisy       per-epoch training accuracy of the clean and corrupted subsets
peak_checkpoint_diagnostics    project cifar100/noisy  the 4.2 diagnostics on the best epoch's weights
epoch_train_tokens             project text            per-epoch non-padding training tokens
epoch_train_tokens_per_second  project text            per-epoch training tokens per second
estimated_flops_note           project text            how the thesis' DistilBERT estimate is computed
peak_memory                    project all/at-save     peak resident host memory (MiB); on CUDA also peak device memory
rehearsal                      project all/at-save/rehearsal  rehearsal runs only (rehearsal_max_steps > 0): never a result
replica                        project all/at-save/replica    runs on the offline replica (lib.replica) only: never a result
"""


def _parse(table: str) -> tuple[Key, ...]:
    keys = []
    for line in table.strip().splitlines():
        name, origin, flags, doc = line.split(maxsplit=3)
        tasks, *rest = flags.split("/")
        when = next((w for w in ("noisy", "rehearsal", "replica") if w in rest), "always")
        keys.append(Key(name, origin, doc, tasks, when, "at-save" in rest))
    return tuple(keys)


KEYS: tuple[Key, ...] = _parse(_TABLE)
THESIS_KEYS = frozenset(k.name for k in KEYS if k.origin == "thesis")
PROJECT_KEYS = frozenset(k.name for k in KEYS if k.origin == "project")


def keys_for(task: str, noisy: bool, *, at_save: bool = True) -> frozenset[str]:
    """The top-level keys of a ``task`` RunResult (``at_save=False``: before the file is written)."""
    kind = "cifar100" if task == "cifar100" else "text"
    return frozenset(k.name for k in KEYS if k.tasks in ("all", kind)
                     and (k.when == "always" or (noisy and k.when == "noisy")) and (at_save or not k.at_save))


def check(result: dict[str, Any], task: str, noisy: bool) -> dict[str, Any]:
    """``result`` (before saving) has exactly the declared keys, else an error naming them."""
    want, have = keys_for(task, noisy, at_save=False), set(result)
    if have != want:
        raise RuntimeError(f"RunResult of {task} does not match lib/results/runresult.py: undeclared "
                           f"{sorted(have - want)}, missing {sorted(want - have)}; declare or build them there")
    return result


def build_core(run: Any, *, method_name: str, task_name: str, model_name: str,
               dataset_name: str, config: dict[str, Any], measured_flops: dict[str, Any],
               **extra: Any) -> dict[str, Any]:
    """The keys every task writes, read from the run state ``run`` (a ``lib.train.state.RunState``):
    the top-level keys of protocol 7.2 (``runtime_metrics`` and the wall clock are added at save
    time) and the project's ``epoch_lrs``, ``measured_flops``, ``provenance`` (``extra`` goes to
    :func:`lib.results.provenance`). The task adapters add their own keys, then :func:`check`."""
    cfg, m = run.cfg, run.metrics
    vals = m["val_accuracies"]
    flops = run.flops.total_flops
    best = max([0.0, *vals])
    return {
        "method_name": method_name,
        "task_name": task_name,
        "seed": cfg.seed,
        "model_name": model_name,
        "dataset_name": dataset_name,
        "config": config,
        "best_val_accuracy": best,
        "final_val_accuracy": vals[-1],
        "final_train_loss": m["train_losses"][-1],
        "total_steps": run.stepper.global_step,
        "total_epochs": cfg.epochs,
        "estimated_flops": flops,
        "accuracy_per_tflop": best / (flops / 1e12) if flops else None,
        "train_losses": m["train_losses"],
        "train_accuracies": m["train_accuracies"],
        "val_accuracies": vals,
        "epoch_wall_clock_seconds": m["epoch_wall_clock_seconds"],
        "epoch_tflops": m["epoch_tflops"],
        "episode_logs": episode_logs(run.aees),
        "controller_logs": None if run.logger is None else run.logger.logs(),
        "run_tag": cfg.run_tag,
        # beyond the thesis
        "epoch_lrs": m["epoch_lrs"],
        "measured_flops": measured_flops,
        "provenance": provenance(**extra),
    }


# 7.3: the config keys of a CIFAR RunResult.
CIFAR_CONFIG_KEYS = frozenset({
    "control_mode", "epochs", "batch_size", "lr", "weight_decay", "optimizer", "momentum",
    "lr_scheduler", "scheduler_t_max", "warmup_epochs", "reward_epsilon", "reward_instability_lambda",
    "reward_clip_min", "reward_clip_max", "episode_length", "lr_candidates", "noise_candidates",
    "structured_control_mode", "context_mode", "context_trend_window", "context_trend_epsilon",
    "label_noise_type", "label_noise_rate", "seed", "output", "ema_alpha", "num_workers", "data_dir",
    "model_name", "task_name", "run_tag", "device", "pin_memory", "control_regime", "experiment_label",
    "base_lr", "base_weight_decay", "optimizer_family", "optimizer_momentum", "scheduler_active"})
# 7.3: the config keys of an SST-2 / AG News RunResult (every field, hf_token never, plus derived keys).
NLP_CONFIG_KEYS = frozenset({
    "method", "epochs", "batch_size", "lr", "weight_decay", "lr_scheduler", "scheduler_t_max",
    "warmup_epochs", "reward_epsilon", "reward_instability_lambda", "reward_clip_min", "reward_clip_max",
    "episode_length", "lr_candidates", "noise_candidates", "structured_control_mode", "context_mode",
    "context_trend_window", "context_trend_epsilon", "max_length", "seed", "output", "ema_alpha",
    "num_workers", "cache_dir", "local_files_only", "tokenized_dataset_dir", "pretokenize_only",
    "model_name", "task_name", "dataset_name", "label_noise_rate", "label_noise_seed", "run_tag",
    "device", "pin_memory", "base_lr", "base_weight_decay", "scheduler_active", "scheduler_step_unit",
    "scheduler_span_steps", "label_noise_type"})
NOT_NLP_CONFIG_KEYS = frozenset({"control_mode", "control_regime", "optimizer", "hf_token"})
# 7.4: the episode-log keys.
EPISODE_KEYS = frozenset({
    "selected_lr_indices", "selected_noise_indices", "selected_lr_values", "selected_noise_values",
    "selected_combined_names", "selected_candidate_names", "episode_rewards", "episode_start_steps",
    "episode_end_steps", "episode_start_losses", "episode_end_losses", "episode_ema_loss_starts",
    "episode_ema_loss_ends", "reward_base", "reward_instability", "reward_penalty",
    "reward_final_unclipped", "reward_final_clipped", "mean_update_norms"})
