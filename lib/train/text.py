"""The SST-2 / AG News run (protocol 2.4, 3), in the phases a training notebook calls one by one.

    run = start(cfg)          # HF cache check, seed, device            (phase 1: configure)
    load_data(run)            # stand-ins, tokenized caches, loaders   (phase 2: data)
    build_model(run)          # DistilBERT classifier, head after seed (phase 3: model)
    build_optimization(run)   # AdamW, AEES, step-level scheduler      (phase 4: optimizer and AEES)
    fit(run)                  # epochs: train (scheduler stepped per step), evaluate (phase 5: train)
    result = finish(run)      # RunResult JSON                         (phase 6: save)

One module for both tasks: the config's ``task_name`` picks SST-2 (2 labels, GLUE validation
split) or AG News (4 labels, 90/10 split of the train set, optional symmetric label noise).
With ``pretokenize_only`` the run stops after phase 2 (caches written); every later phase prints
one line and returns None, and no RunResult is written.

A Hub token, if one is needed, is read by ``huggingface_hub`` from the environment
(``HF_TOKEN``); it is never a parameter and never recorded.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import TqdmWarning

from lib import DATA_DIR, HF_CACHE_DIR, ROOT, repo_path
from lib.hf_cache import check_hf_cache

warnings.filterwarnings("ignore", "IProgress not found", TqdmWarning)  # HF imports, in a notebook

import datasets  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForSequenceClassification  # noqa: E402

from lib.config import AgNewsConfig, Sst2Config  # noqa: E402
from lib.control import build_optimizer, build_step_scheduler, nlp_warmup_steps  # noqa: E402
from lib.control.wiring import build_control, control_mode  # noqa: E402
from lib.data import STANDIN_MODEL, STANDIN_SEED  # noqa: E402
from lib.vocab import AGNEWS_NOISE_SEED  # noqa: E402
from lib.data.standin_model import write_standin_model  # noqa: E402
from lib.data.standin_text import write_text_standin  # noqa: E402
from lib.data.prepare import WARM_MODEL, MissingResource  # noqa: E402
from lib.data.text import TextData, hub_offline, make_text_loader, offline_reason, prepare_text_task  # noqa: E402
from lib.results import distilbert_eval_flops, distilbert_train_flops  # noqa: E402
from lib.train import guard, loop, thesis_loop, thesis_machinery  # noqa: E402
from lib.train.rehearsal import capped  # noqa: E402
from lib.train.common import (  # noqa: E402
    SUBSET_KEYS,
    autocast,
    measure_step_flops,
    resolve_device,
    set_seed,
)
from lib.train.state import RunState, epoch_metrics  # noqa: E402
from lib.train.text_result import build_result, default_output  # noqa: E402


TextConfig = Sst2Config | AgNewsConfig


@dataclass
class TextRun(RunState):
    cfg: TextConfig
    device: torch.device
    stopped: bool = False  # pretokenize_only: data prepared, nothing else runs
    paths: dict[str, Any] = field(default_factory=dict)  # cache_dir, tokenized_dataset_dir, model, standin
    data: TextData | None = None
    train_loader: Any = None
    val_loader: Any = None
    schedule: dict[str, int] = field(default_factory=dict)  # total_steps, span, warmup steps
    metrics: dict[str, list] = field(kw_only=True, default_factory=lambda: {
        **epoch_metrics(), "epoch_train_tokens": [], "epoch_train_tokens_per_second": []})
    padded_tokens: dict[str, int] = field(default_factory=lambda: {"train": 0, "eval": 0})
    epoch_tokens: int = 0  # non-padding tokens of the current epoch's training pass


def _skipped(run: TextRun, phase: str) -> bool:
    if run.stopped:
        print(f"pretokenize_only: {phase} skipped (the tokenized caches are ready; no RunResult)")
    return run.stopped


def start(cfg: TextConfig) -> TextRun:
    """Phase 1: check the HF cache location (:mod:`lib.hf_cache`), seed everything (protocol 13),
    pick the device, quiet the HF progress bars."""
    check_hf_cache()
    datasets.disable_progress_bars()
    transformers.logging.disable_progress_bar()
    set_seed(cfg.seed)
    run = TextRun(cfg=cfg, device=resolve_device(cfg.device))
    run.output = repo_path(cfg.output) if cfg.output else default_output(cfg)
    if not cfg.pretokenize_only:  # output path checked and the run locked before any data
        guard.claim(run.output, cfg)
    return run


def _model_source(cfg: TextConfig) -> Path | str:
    """The stand-in model folder (written if missing), a folder under the repo, or a Hub id."""
    if cfg.model_name == STANDIN_MODEL:
        return write_standin_model(DATA_DIR / STANDIN_MODEL, seed=STANDIN_SEED)
    local = Path(cfg.model_name).expanduser()
    if not local.is_absolute() and (ROOT / local).is_dir():
        return ROOT / local
    return local if local.is_absolute() else cfg.model_name


def _standin_dir(cfg: TextConfig) -> Path:
    """``data/<task>-standin/<n_train>-<n_eval>/<task>``: one folder per size, written once."""
    if isinstance(cfg, Sst2Config):
        sizes = {"n_train": cfg.standin_n_train, "n_validation": cfg.standin_n_validation}
    else:
        sizes = {"n_train": cfg.standin_n_train, "n_test": cfg.standin_n_test}
    root = DATA_DIR / f"{cfg.task_name}-standin" / "-".join(str(v) for v in sizes.values())
    return write_text_standin(cfg.task_name, root, seed=STANDIN_SEED, **sizes)


def load_data(run: TextRun) -> None:
    """Phase 2: tokenized train/validation (cached), AG News split and label noise, data loaders.

    With ``pretokenize_only`` the run stops here: the caches are written, nothing else runs.
    """
    cfg, task = run.cfg, run.cfg.task_name
    tok_default = DATA_DIR / (f"{task}-standin_tokenized" if cfg.data_standin else f"{task}_tokenized")
    run.paths = {"cache_dir": repo_path(cfg.cache_dir) if cfg.cache_dir else HF_CACHE_DIR,
                 "tokenized_dataset_dir": (repo_path(cfg.tokenized_dataset_dir) if cfg.tokenized_dataset_dir
                                           else tok_default)}
    run.paths["model"] = _model_source(cfg)
    if cfg.data_standin:
        run.paths["standin"] = _standin_dir(cfg)
    rate = getattr(cfg, "label_noise_rate", 0.0)
    data = prepare_text_task(
        task, tokenizer_dir_or_name=run.paths["model"], max_length=cfg.max_length,
        tokenized_dataset_dir=run.paths["tokenized_dataset_dir"], cache_dir=run.paths["cache_dir"],
        local_files_only=cfg.local_files_only, standin_dir=run.paths.get("standin"),
        label_noise_rate=rate, label_noise_seed=getattr(cfg, "label_noise_seed", AGNEWS_NOISE_SEED))
    run.data = data
    kind = "offline stand-in (not the real data set)" if cfg.data_standin else "Hub data set"
    noise = data.label_noise
    print(f"data: {task} {kind}: {len(data.train)} train / {len(data.validation)} validation, "
          f"max_length {cfg.max_length}, {0 if noise is None else noise.num_corrupted} corrupted labels "
          f"(rate {rate:g}); tokenized cache {'reused' if data.cache_info['reused'] else 'written'} "
          f"in {run.paths['tokenized_dataset_dir']}")
    if cfg.pretokenize_only:
        run.stopped = True
        print("pretokenize_only: stopping after the data phase")
        return
    train = data.train
    if noise is not None:  # the training pass then knows which examples are corrupted
        train = train.add_column("example_index", list(range(len(train))))
        run.clean_labels = torch.tensor(noise.original_targets, dtype=torch.long, device=run.device)
        run.corrupted = torch.tensor(noise.corrupted_mask, dtype=torch.bool, device=run.device)
        run.subset_metrics = {k: [] for k in SUBSET_KEYS}
    # Data order: a generator of its own, seeded from the run seed (the model init is not affected).
    run.data_generator = torch.Generator().manual_seed(cfg.seed)
    run.train_loader = make_text_loader(train, data.tokenizer, batch_size=cfg.batch_size, shuffle=True,
                                        generator=run.data_generator, group_by_length=cfg.group_by_length)
    run.val_loader = make_text_loader(data.validation, data.tokenizer, batch_size=cfg.batch_size,
                                      shuffle=False)


def build_model(run: TextRun) -> None:
    """Phase 3: pretrained encoder + classification head, drawn from the seeded torch RNG (fp32)."""
    if _skipped(run, "model"):
        return
    cfg = run.cfg
    extra = {"ignore_mismatched_sizes": True} if cfg.task_name == "agnews" else {}  # as the thesis
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # the load report is summarised below
    try:
        with hub_offline(cfg.local_files_only):
            model, info = AutoModelForSequenceClassification.from_pretrained(
                str(run.paths["model"]), num_labels=run.data.num_labels, cache_dir=str(run.paths["cache_dir"]),
                local_files_only=cfg.local_files_only, dtype=torch.float32, output_loading_info=True, **extra)
    except OSError as exc:  # not cached and not downloadable: say what and how to prepare it
        raise MissingResource(f"the model weights of model_name {cfg.model_name!r}",
                              f"the model cache {run.paths['cache_dir']}", WARM_MODEL,
                              offline_reason(cfg.local_files_only)) from exc
    finally:
        transformers.logging.set_verbosity(verbosity)
    run.model = model.to(run.device)
    n_params = sum(p.numel() for p in model.parameters())
    fresh = sorted({k.split(".")[0] for k in info["missing_keys"]})
    print(f"model: {cfg.model_name} ({type(model).__name__}, {n_params:,} parameters, "
          f"{run.data.num_labels} labels); newly initialised: {', '.join(fresh) or 'none'}")


def build_optimization(run: TextRun, **aees_options: Any) -> None:
    """Phase 4: AdamW, AEES (adaptive/random), the step-level scheduler (6.2); starts the clock."""
    if _skipped(run, "optimizer"):
        return
    cfg = run.cfg
    total = len(run.train_loader) * cfg.epochs
    if thesis_machinery.uses_thesis_machinery(cfg):  # the objects the thesis runner built (protocol 2.4)
        thesis_machinery.refuse_aees_options(aees_options)
        run.optimizer, run.aees, run.logger, run.stepper = thesis_loop.build(run.model.parameters(), cfg,
                                                                             control_mode(cfg))
    else:
        run.optimizer = build_optimizer(run.model.parameters(), cfg.optimizer, cfg.lr, cfg.weight_decay,
                                        total_steps=total, fine_tuning=True)
        control = build_control(run.optimizer, cfg, **aees_options)
        run.aees, run.logger, run.stepper = control.aees, control.logger, control.stepper
    span = cfg.scheduler_t_max or total
    warmup = nlp_warmup_steps(cfg.warmup_epochs, total, cfg.epochs, span) \
        if cfg.lr_scheduler == "warmup_linear" else 0
    run.schedule = {"total_steps": total, "span_steps": span, "warmup_steps": warmup}
    run.scheduler = build_step_scheduler(run.optimizer, cfg.lr_scheduler, span, warmup)
    run.measured_flops = _measure_flops(run)
    print(f"optimization: {cfg.method} ({cfg.optimizer} lr {cfg.lr:g}, wd {cfg.weight_decay:g}), "
          f"schedule {cfg.lr_scheduler} over {span} steps ({total} planned"
          f"{f', {warmup} warmup' if warmup else ''}), episode length {cfg.episode_length}")
    run.wall_start = time.perf_counter()


def _measure_flops(run: TextRun) -> dict[str, Any]:
    """flop_counter count of one training step on a full batch at ``max_length`` tokens."""
    b, length = run.cfg.batch_size, run.cfg.max_length
    batch = {"input_ids": torch.ones((b, length), dtype=torch.long, device=run.device),
             "attention_mask": torch.ones((b, length), dtype=torch.long, device=run.device),
             "labels": torch.zeros(b, dtype=torch.long, device=run.device)}
    out = measure_step_flops(run.model, batch, lambda m, x: m(**x).loss)
    out["measured_at"] = {"batch_size": b, "sequence_length": length}
    return out


def _batches(run: TextRun) -> Iterator[tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor | None]]:
    """Training batches on the device; counts the epoch's non-padding tokens on the way."""
    run.epoch_tokens = 0
    for batch in run.train_loader:
        idx = batch.pop("example_index", None)
        run.epoch_tokens += int(batch["attention_mask"].sum())  # a CPU tensor: no device sync
        batch = {k: v.to(run.device, non_blocking=True) for k, v in batch.items()}
        if idx is not None:
            idx = idx.to(run.device, non_blocking=True)
        yield batch, batch["labels"], idx


def _forward(run: TextRun, batch: dict[str, torch.Tensor],
             labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = run.model(**batch)  # the labels are in the batch: the model computes the loss
    return out.loss, out.logits


def _count_batch(run: TextRun, batch: dict[str, torch.Tensor], labels: torch.Tensor) -> None:
    size, seq_len = batch["input_ids"].shape
    run.flops.add_train_batch(distilbert_train_flops(size, seq_len))
    run.padded_tokens["train"] += size * seq_len


def _epoch_extras(run: TextRun, train_seconds: float) -> tuple[dict[str, Any], str]:
    tokens = run.epoch_tokens
    return ({"epoch_train_tokens": tokens, "epoch_train_tokens_per_second": tokens / train_seconds},
            f"  {tokens / train_seconds:,.0f} tok/s")


@torch.inference_mode()
def _evaluate(run: TextRun) -> float:
    """Validation accuracy (argmax of the logits), counted on the device and read once."""
    run.model.eval()
    correct = torch.zeros((), dtype=torch.long, device=run.device)
    n = 0
    for batch in capped(run.val_loader, run.cfg):
        size, seq_len = batch["input_ids"].shape
        batch = {k: v.to(run.device, non_blocking=True) for k, v in batch.items()}
        labels = batch.pop("labels")
        with autocast(run.device, run.cfg.precision):
            correct += (run.model(**batch).logits.argmax(1) == labels).sum()
        run.flops.add_eval_batch(distilbert_eval_flops(size, seq_len))
        run.padded_tokens["eval"] += size * seq_len
        n += size
    run.model.train()
    return int(correct) / n


TASK = loop.Task(
    batches=_batches,
    forward=_forward,
    count_batch=_count_batch,
    evaluate=lambda run: _evaluate(run),  # looked up at call time (tests replace it)
    scheduler_unit="step",  # step-level schedules, right after every optimizer step (protocol 6.2)
    steps_per_epoch=lambda run: len(run.train_loader),
    epoch_extras=_epoch_extras,
)


def task(run: TextRun) -> loop.Task:
    """What the loop runs: :data:`TASK`, or with ``machinery=thesis`` its thesis variant (the thesis
    runner's train pass and evaluation reads; :mod:`lib.train.thesis_machinery`)."""
    if thesis_machinery.uses_thesis_machinery(run.cfg):
        return thesis_machinery.variant(TASK, evaluate=thesis_machinery.text_evaluate)
    return TASK


def train_epoch(run: TextRun) -> tuple[float, float, float]:
    """One training pass of the run's task; mean loss, accuracy and the pass's seconds (its
    non-padding tokens: ``run.epoch_tokens``)."""
    return loop.train_pass(run, task(run))


def fit(run: TextRun) -> None:
    """Phase 5: per epoch train (scheduler stepped per optimizer step), evaluate, record, print."""
    if _skipped(run, "training"):
        return
    loop.fit(run, task(run))


def finish(run: TextRun, output: str | Path | None = None, **extra: Any) -> dict[str, Any] | None:
    """Phase 6: the RunResult, saved atomically; None (nothing written) for ``pretokenize_only``."""
    if _skipped(run, "saving"):
        return None
    result = build_result(run, **extra)
    return loop.save_result(run, result, repo_path(output) if output else run.output)


__all__ = ["TextRun", "STANDIN_MODEL", "repo_path", "start", "load_data",
           "build_model", "build_optimization", "fit", "finish"]
