"""The SST-2 / AG News RunResult (protocol 7): thesis keys, plus project keys under new names.

The NLP ``config`` block holds every thesis field of protocol 7.3 except ``hf_token`` (a token is
never recorded) and no ``control_mode`` / ``control_regime`` keys, nor ``optimizer`` unless it is a peer
(``ScheduleFreeAdamW`` / ``Prodigy``, beyond the thesis, with its settings in ``peer_optimizer``). Additions
beyond the thesis: ``config.profile``, ``config.explicit_parameters``, the project fields
(``data_standin``, stand-in sizes, ``group_by_length``), ``config.scheduler_warmup_steps``,
``config.data_cache`` (tokenized-cache keys and paths), ``config.diagnostics.label_noise``
(noisy AG News runs, same block as CIFAR), and top-level ``epoch_lrs``, ``epoch_train_tokens``
and ``epoch_train_tokens_per_second`` (non-padding tokens), ``epoch_subset_train_accuracies``
(noisy runs), ``estimated_flops_note``, ``provenance``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lib import ROOT, shown_path
from lib.config import as_dict
from lib.train import thesis_machinery
from lib.control import candidate_blocks
from lib.control.peers import peer_settings
from lib.results import runresult
from lib.data import STANDIN_MODEL
from lib.vocab import AGNEWS_NOISE_SEED

DATASET_NAMES = {"sst2": "GLUE SST-2", "agnews": "AG News"}
FLOPS_NOTE = ("thesis DistilBERT estimate (protocol 8), unchanged so numbers compare: per example "
              "6*(4TH^2 + 2T^2H + 2THF) + 2TH + 2H*2 with L=6, H=768, F=3072 and T the padded batch "
              "length (dynamic padding); multiply-accumulates (no x2); the head counted with 2 labels "
              "also for 4-class AG News; train = 3 x forward, eval = 1 x forward.")
STANDIN_FLOPS_NOTE = (" The same DistilBERT-base formula is applied to the stand-in model, whose "
                      "real cost is far smaller.")


def default_output(cfg: Any) -> Path:
    """Thesis default name, under results/scratch/ (it does not encode noise or scheduler)."""
    return ROOT / "results" / "scratch" / f"{cfg.task_name}_{cfg.method.lower()}_seed{cfg.seed}.json"


_shown = shown_path


def config_block(run: Any) -> dict[str, Any]:
    cfg = run.cfg
    task = cfg.task_name
    rate = float(getattr(cfg, "label_noise_rate", 0.0))
    block = as_dict(cfg)
    block.update({
        # fixed values of the thesis runner (not on its CLI)
        "ema_alpha": 0.1,
        "num_workers": 0,
        "machinery_details": thesis_machinery.details(cfg),  # what machinery means on text
        "model_name": cfg.model_name,
        "task_name": task,
        "dataset_name": DATASET_NAMES[task],
        "label_noise_rate": rate,
        "label_noise_seed": getattr(cfg, "label_noise_seed", AGNEWS_NOISE_SEED),
        # resolved paths (parameters '' mean the defaults)
        "cache_dir": _shown(run.paths["cache_dir"]),
        "tokenized_dataset_dir": _shown(run.paths["tokenized_dataset_dir"]),
        # derived keys of protocol 7.3
        "device": run.device.type,
        "pin_memory": bool(run.train_loader.pin_memory),
        "base_lr": cfg.lr,
        "base_weight_decay": cfg.weight_decay,
        "scheduler_active": cfg.lr_scheduler != "none",
        "scheduler_step_unit": "optimizer_step",
        "scheduler_span_steps": run.schedule["span_steps"],
        "label_noise_type": "symmetric" if rate > 0 else "none",
        # project keys
        "scheduler_warmup_steps": run.schedule["warmup_steps"],
        "profile": cfg.profile,
        "explicit_parameters": list(cfg.explicit),
        "data_cache": run.data.cache_info,
    })
    if cfg.optimizer == "AdamW":
        block.pop("optimizer")  # the thesis NLP config has no optimizer key (protocol 7.3)
    else:
        block["peer_optimizer"] = peer_settings(run.optimizer)
    if run.aees is not None:
        block.update(candidate_blocks(cfg.lr_candidates, cfg.noise_candidates))
    if run.data.label_noise is not None:
        block["diagnostics"] = {"label_noise": run.data.label_noise.to_dict()}
    return block


def _measured_totals(run: Any) -> dict[str, Any]:
    """Measured FLOPs beside the thesis formula's ``estimated_flops`` (kept as it is). Totals scale
    the measured step linearly with the padded tokens of the run (attention's quadratic term,
    small at these lengths, is neglected)."""
    mf = dict(run.measured_flops)
    at = mf["measured_at"]
    per_token = mf["measured_flops_per_step"] / (at["batch_size"] * at["sequence_length"])
    per_eval_token = mf["measured_eval_flops_per_example"] / at["sequence_length"]
    mf["measured_train_flops_total"] = per_token * run.padded_tokens["train"]
    mf["measured_eval_flops_total"] = per_eval_token * run.padded_tokens["eval"]
    mf["measured_flops_total"] = mf["measured_train_flops_total"] + mf["measured_eval_flops_total"]
    mf["totals_note"] = "linear in padded tokens; attention's quadratic term neglected"
    return mf


def build_result(run: Any, **extra: Any) -> dict[str, Any]:
    cfg, m = run.cfg, run.metrics
    standin = " (offline stand-in)" if cfg.data_standin else ""
    result = runresult.build_core(
        run, method_name=cfg.method, task_name=cfg.task_name, model_name=cfg.model_name,
        dataset_name=DATASET_NAMES[cfg.task_name] + standin, config=config_block(run),
        measured_flops=_measured_totals(run), **extra)
    result.update({
        "epoch_train_tokens": m["epoch_train_tokens"],
        "epoch_train_tokens_per_second": m["epoch_train_tokens_per_second"],
        "estimated_flops_note": FLOPS_NOTE + (STANDIN_FLOPS_NOTE if cfg.model_name == STANDIN_MODEL else ""),
    })
    if run.subset_metrics:
        result["epoch_subset_train_accuracies"] = run.subset_metrics
    return runresult.check(result, cfg.task_name, noisy=bool(run.subset_metrics))
