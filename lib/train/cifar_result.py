"""The CIFAR RunResult (protocol 7): thesis keys, plus project keys under new names.

Thesis keys keep their names and meanings. Additions beyond the thesis:
``config.profile``, ``config.explicit_parameters``, ``config.data_standin`` (and the stand-in
block), ``config.dataset`` (``cifar100`` or ``fashion-mnist``) with ``config.data_source`` (files,
subset and transform of a non-CIFAR data set), ``epoch_lrs``, ``epoch_subset_train_accuracies`` (per-epoch train accuracy on the clean
and corrupted subsets from the training pass itself), ``peak_checkpoint_diagnostics`` (the four
4.2 diagnostics on the best epoch's weights), ``provenance``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lib import ROOT
from lib.config import as_dict
from lib.control import METHOD_NAMES, candidate_blocks
from lib.control.peers import peer_settings
from lib.results import resnet18_eval_flops, runresult
from lib.train import thesis_machinery
from lib.vocab import CIFAR_TASK_DATASETS, PEER_SPECS

DIAG_FLOPS_NOTE = ("thesis formula 4 x N x 3.7e7 (four eval passes); this project derives the "
                   "four accuracies from one eval pass")


DATA_LOADER_NOTE = ("num_workers and pin_memory describe this pipeline, not the thesis': there is no "
                    "DataLoader (no worker processes, no pinned host memory); the images stay on the "
                    "training device and each batch is augmented there (data_pipeline). The thesis "
                    "recorded num_workers=2 and pin_memory=torch.cuda.is_available() (thesis_data_loader). "
                    "Same augmentation, different draws.")


THESIS_LOADER_NOTE = ("machinery=thesis: the thesis' DataLoader (2 workers, pinned memory on CUDA, PIL "
                      "transforms); the data order and the workers' draws come from the run's data generator")


# ``dataset_name`` keeps its thesis meaning (the data the run trained on); the config's ``dataset``
# (the parameter) records the same in a form the analysis keys on (lib.analysis.build.data_label).
def _data_folder(cfg: Any) -> str:
    if cfg.dataset in CIFAR_TASK_DATASETS:
        return CIFAR_TASK_DATASETS[cfg.dataset].folder
    return "cifar100-standin" if cfg.data_standin else "cifar100"


def dataset_name(cfg: Any) -> str:
    if cfg.dataset in CIFAR_TASK_DATASETS:
        return CIFAR_TASK_DATASETS[cfg.dataset].description
    return "CIFAR-100 (offline stand-in)" if cfg.data_standin else "CIFAR-100"


def default_output(cfg: Any) -> Path:
    """Thesis default name, under results/scratch/ (it does not encode noise or scheduler)."""
    return ROOT / "results" / "scratch" / (
        f"cifar100_{cfg.control_mode}_{cfg.optimizer.lower()}_seed{cfg.seed}.json")


def _config_block(run: Any, diagnostics: dict | None) -> dict[str, Any]:
    cfg = run.cfg
    method = METHOD_NAMES[cfg.control_mode]
    block = as_dict(cfg)
    thesis = cfg.machinery == "thesis"
    block.update({
        # fixed values of the thesis runner (DEFAULT_CONFIG) and what this pipeline does instead
        "ema_alpha": 0.1,
        "num_workers": thesis_machinery.CIFAR_WORKERS if thesis else 0,
        "data_pipeline": thesis_machinery.details(cfg)["data_pipeline"],
        "machinery_details": thesis_machinery.details(cfg),
        # the thesis' DataLoader settings, and why this run's differ
        "thesis_data_loader": {"num_workers": 2, "pin_memory": "torch.cuda.is_available()",
                               "transforms": "PIL RandomCrop(32, padding=4), RandomHorizontalFlip, "
                                             "ToTensor, Normalize in the workers"},
        "data_loader_note": THESIS_LOADER_NOTE if thesis else DATA_LOADER_NOTE,
        "data_dir": str(Path("data") / _data_folder(cfg)),
        "model_name": "resnet18",
        "task_name": "cifar100",
        # derived keys of protocol 7.3
        "device": run.device.type,
        "pin_memory": thesis and run.device.type == "cuda",
        "control_regime": method,
        "experiment_label": f"{method}+{cfg.optimizer}",
        "base_lr": cfg.lr,
        "base_weight_decay": cfg.weight_decay,
        "optimizer_family": cfg.optimizer,
        "optimizer_momentum": cfg.momentum,
        "scheduler_t_max": cfg.scheduler_t_max or cfg.epochs,
        "scheduler_active": cfg.lr_scheduler != "none",
        # project keys
        "profile": cfg.profile,
        "explicit_parameters": list(cfg.explicit),
    })
    if cfg.optimizer in PEER_SPECS:  # beyond the thesis: the peer's settings (lib.control.peers)
        block["peer_optimizer"] = peer_settings(run.optimizer)
    if cfg.data_standin:
        block["data_standin_info"] = run.data.standin
    if run.data.source is not None:  # a data set in CIFAR's shape: files, subset, transform
        block["data_source"] = run.data.source
    if run.aees is not None:
        block.update(candidate_blocks(cfg.lr_candidates, cfg.noise_candidates))
    if diagnostics is not None:
        n = len(run.noise.original_targets)
        block["diagnostics"] = {
            "label_noise": run.noise.to_dict(),
            "final_subset_accuracies": diagnostics["final"],
            "label_noise_diagnostic_eval_flops": 4 * resnet18_eval_flops(n),
            "label_noise_diagnostic_eval_flops_note": DIAG_FLOPS_NOTE,
        }
    return block


def _measured_totals(run: Any) -> dict[str, Any]:
    """Measured FLOPs beside the thesis' constant-based ``estimated_flops`` (kept as it is)."""
    mf = dict(run.measured_flops)
    cfg, n_train = run.cfg, len(run.targets)
    per_example = mf["measured_flops_per_step"] / cfg.batch_size
    mf["measured_train_flops_total"] = per_example * n_train * cfg.epochs
    mf["measured_eval_flops_total"] = mf["measured_eval_flops_per_example"] * len(run.test_targets) * cfg.epochs
    mf["measured_flops_total"] = mf["measured_train_flops_total"] + mf["measured_eval_flops_total"]
    return mf


def build_result(run: Any, diagnostics: dict | None, **extra: Any) -> dict[str, Any]:
    cfg = run.cfg
    result = runresult.build_core(
        run, method_name=METHOD_NAMES[cfg.control_mode], task_name="cifar100", model_name="resnet18",
        dataset_name=dataset_name(cfg),
        config=_config_block(run, diagnostics), measured_flops=_measured_totals(run), **extra)
    if diagnostics is not None:
        result["epoch_subset_train_accuracies"] = run.subset_metrics
        result["peak_checkpoint_diagnostics"] = diagnostics["peak"]
    return runresult.check(result, "cifar100", noisy=diagnostics is not None)


__all__ = ["build_result", "default_output"]
