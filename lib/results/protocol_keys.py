"""The RunResult keys the protocol requires (sections 7.2-7.4); tests and make rehearse check them."""

# 7.2 top-level keys.
TOP_KEYS = {"method_name", "task_name", "seed", "model_name", "dataset_name", "config",
            "best_val_accuracy", "final_val_accuracy", "final_train_loss", "total_steps",
            "total_epochs", "wall_clock_seconds", "estimated_flops", "accuracy_per_tflop",
            "train_losses", "train_accuracies", "val_accuracies", "epoch_wall_clock_seconds",
            "epoch_tflops", "episode_logs", "controller_logs", "run_tag", "runtime_metrics"}
# 7.3 CIFAR config keys.
CIFAR_CONFIG_KEYS = {"control_mode", "epochs", "batch_size", "lr", "weight_decay", "optimizer", "momentum",
                     "lr_scheduler", "scheduler_t_max", "warmup_epochs", "reward_epsilon",
                     "reward_instability_lambda", "reward_clip_min", "reward_clip_max", "episode_length",
                     "lr_candidates", "noise_candidates", "structured_control_mode", "context_mode",
                     "context_trend_window", "context_trend_epsilon", "label_noise_type",
                     "label_noise_rate", "seed", "output", "ema_alpha", "num_workers", "data_dir",
                     "model_name", "task_name", "run_tag", "device", "pin_memory", "control_regime",
                     "experiment_label", "base_lr", "base_weight_decay", "optimizer_family",
                     "optimizer_momentum", "scheduler_active"}
# 7.3 NLP config keys: every field (hf_token never) plus the derived keys.
NLP_CONFIG_KEYS = {
    "method", "epochs", "batch_size", "lr", "weight_decay", "lr_scheduler", "scheduler_t_max",
    "warmup_epochs", "reward_epsilon", "reward_instability_lambda", "reward_clip_min", "reward_clip_max",
    "episode_length", "lr_candidates", "noise_candidates", "structured_control_mode", "context_mode",
    "context_trend_window", "context_trend_epsilon", "max_length", "seed", "output", "ema_alpha",
    "num_workers", "cache_dir", "local_files_only", "tokenized_dataset_dir", "pretokenize_only",
    "model_name", "task_name", "dataset_name", "label_noise_rate", "label_noise_seed", "run_tag",
    "device", "pin_memory", "base_lr", "base_weight_decay", "scheduler_active", "scheduler_step_unit",
    "scheduler_span_steps", "label_noise_type"}
NOT_NLP_KEYS = {"control_mode", "control_regime", "optimizer", "hf_token"}
# 7.4 episode-log keys.
EPISODE_KEYS = {"selected_lr_indices", "selected_noise_indices", "selected_lr_values",
                "selected_noise_values", "selected_combined_names", "selected_candidate_names",
                "episode_rewards", "episode_start_steps", "episode_end_steps",
                "episode_start_losses", "episode_end_losses", "episode_ema_loss_starts",
                "episode_ema_loss_ends", "reward_base", "reward_instability", "reward_penalty",
                "reward_final_unclipped", "reward_final_clipped", "mean_update_norms"}
