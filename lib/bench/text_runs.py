"""The DistilBERT trainers of the benchmark (:mod:`lib.bench.text`, which says what each variant runs):
the thesis loop and the project's ``lib.train.text``. Imports transformers and datasets, so
:mod:`lib.bench.text` imports it only when a text bench runs."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pulseopt
import torch
from torch.utils.data import DataLoader
from transformers import DistilBertConfig, DistilBertForSequenceClassification, DistilBertTokenizer

from lib.bench.cifar import DUAL_NOISE, LR_CANDIDATES, isolated_cycle
from lib.bench.core import Trainer, Variant, epoch_round
from lib.config import resolve
from lib.control import build_aees, build_optimizer
from lib.data.text import TextCollator, make_text_loader
from lib.train import text as project_text
from lib.train.common import EpochTimer, set_seed

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
OPTINS_NOTE = "opt-ins = precision bf16 + torch.compile applied by the bench (no NLP compile field)"


def _config(v: Variant, size: Any, device: str, seed: int) -> Any:
    aees = v.aees != "none"
    return resolve("sst2", "mini", {
        "method": "AdaptiveScheduler" if aees else "AdamW", "batch_size": size.batch_size,
        "max_length": size.length, "episode_length": size.episode_length, "lr": 5e-5,
        "lr_candidates": LR_CANDIDATES if aees else [1.0],
        "noise_candidates": DUAL_NOISE if v.dual else [0.0], "seed": seed, "device": device,
        "aees_impl": "stock" if v.aees == "stock" else "fast",
        "update_norm": "off" if v.aees == "fast_nonorm" else "fused", "checkpoint_every": 0,
        "precision": "bf16" if v.optins else "fp32", "epochs": 1})


def _parts(size: Any, device: torch.device, seed: int) -> tuple[Any, Any, list[dict]]:
    """(model, tokenizer, examples); the model's init comes from ``set_seed(seed)``."""
    vocab = {t: i for i, t in enumerate(SPECIALS + [f"w{i}" for i in range(20)])}
    tokenizer = DistilBertTokenizer(vocab=vocab)  # only pads (nothing to pad: fixed length)
    config = DistilBertConfig(vocab_size=size.vocab, dim=size.dim, n_layers=size.layers,
                              n_heads=size.heads, hidden_dim=size.hidden, num_labels=2,
                              pad_token_id=0)
    gen = torch.Generator().manual_seed(seed + 1)
    n = size.steps * size.batch_size
    ids = torch.randint(len(SPECIALS), size.vocab, (n, size.length), generator=gen)
    ids[:, 0], ids[:, -1] = vocab["[CLS]"], vocab["[SEP]"]
    labels = torch.randint(0, 2, (n,), generator=gen).tolist()
    examples = [{"input_ids": row, "attention_mask": [1] * size.length, "label": y}
                for row, y in zip(ids.tolist(), labels, strict=True)]
    set_seed(seed)
    model = DistilBertForSequenceClassification(config).to(device)
    return model, tokenizer, examples


def thesis(v: Variant, size: Any, device: torch.device, seed: int) -> Trainer:
    cfg = _config(v, size, device.type, seed)
    model, tokenizer, examples = _parts(size, device, seed)
    opt = build_optimizer(model.parameters(), "AdamW", cfg.lr, cfg.weight_decay)
    aees = build_aees(opt, "adaptive" if v.aees != "none" else "baseline", cfg,
                      aees_class=pulseopt.AEES)
    loader = DataLoader(examples, batch_size=size.batch_size, shuffle=True, num_workers=0,
                        collate_fn=TextCollator(tokenizer), pin_memory=device.type == "cuda",
                        generator=torch.Generator().manual_seed(seed))
    state = {"step": 0, "loss_sum": 0.0, "correct": 0}

    def one_round() -> float:
        model.train()
        clock = EpochTimer(device)
        clock.start()
        for batch in loader:
            batch = {k: t.to(device, non_blocking=True) for k, t in batch.items()}
            if aees is not None:
                aees.step_start(state["step"])
            opt.zero_grad(set_to_none=True)
            out = model(**batch)
            out.loss.backward()
            if aees is None:
                opt.step()
            else:
                aees.step_end(out.loss)
            state["loss_sum"] += out.loss.item() * len(batch["labels"])
            state["correct"] += (out.logits.argmax(1) == batch["labels"]).sum().item()
            state["step"] += 1
        return clock.stop()

    return Trainer(round=one_round, steps=size.steps, batch_size=size.batch_size, aees=aees)


def project(v: Variant, size: Any, device: torch.device, seed: int) -> Trainer:
    cfg = _config(v, size, device.type, seed)
    model, tokenizer, examples = _parts(size, device, seed)
    run = project_text.TextRun(cfg=cfg, device=device)
    run.model = model
    run.train_loader = make_text_loader(examples, tokenizer, batch_size=size.batch_size, shuffle=True,
                                        generator=torch.Generator().manual_seed(seed))
    with contextlib.redirect_stdout(io.StringIO()):
        project_text.build_optimization(run)  # AEES engine and precision from the config
    if v.optins:
        run.model = torch.compile(model)  # after the FLOP probe (which deep-copies the model)

    return Trainer(round=epoch_round(project_text.train_epoch, run, device), steps=size.steps,
                   batch_size=size.batch_size, aees=run.aees,
                   isolated=lambda: isolated_cycle(run.stepper, model, device),
                   note=OPTINS_NOTE if v.optins else "")
