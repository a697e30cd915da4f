"""DistilBERT classifier variants of the benchmark (SST-2-style: 2 labels, batch 16, AdamW).

The model is ``DistilBertForSequenceClassification`` built in-process from a
``DistilBertConfig`` with random init (no download): the 2-layer stand-in size on CPU, the
``distilbert-base-uncased`` shape (6 layers, dim 768, vocab 30522) with ``--full``. The inputs
are random token ids of a fixed length (a defined workload: every batch is ``batch x length``)
fed through the project's collator (dynamic padding; here nothing to pad).

* thesis: ``DataLoader`` (``num_workers=0``, protocol 2.2), fp32, stock ``pulseopt.AEES``, the
  loop of protocol 2.4 with per-step host reads (``loss.item()``, correct count ``.item()``).
* project: ``lib.train.text`` (``build_optimization`` and its epoch loop); one round = one epoch
  over ``steps x batch`` examples. AEES engine and precision come from the config
  (``aees_impl``, ``update_norm``, ``precision``); the NLP config has no ``compile`` field, so
  the opt-in variants compile the model here (channels_last does not apply to a transformer).

``transformers`` / ``datasets`` may be missing (a bare GPU machine): :func:`unavailable` says
why, and the task is then reported as skipped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from typing import Any

import pulseopt
import torch

from lib.bench.core import Trainer, Variant, epoch_round
from lib.bench.cifar import DUAL_NOISE, LR_CANDIDATES, isolated_cycle
from lib.config import resolve
from lib.train.common import EpochTimer, set_seed

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclasses.dataclass(frozen=True)
class TextSize:
    """Workload of the DistilBERT task."""

    layers: int = 2
    dim: int = 64
    heads: int = 2
    hidden: int = 256
    vocab: int = 4000  # > 100: lib.train.text probes FLOPs with token id 100
    batch_size: int = 16
    length: int = 64  # tokens per example, [CLS] and [SEP] included
    steps: int = 20  # timed steps per round
    episode_length: int = 10


CPU = TextSize()
FULL = TextSize(layers=6, dim=768, heads=12, hidden=3072, vocab=30522, length=128, steps=40,
                episode_length=20)
OPTINS_NOTE = "opt-ins = precision bf16 + torch.compile applied by the bench (no NLP compile field)"


def unavailable() -> str:
    """Why the text task cannot run here ('' when it can)."""
    try:
        import transformers  # noqa: F401

        import lib.train.text  # noqa: F401
    except ImportError as exc:
        return (f"skipped: the DistilBERT part cannot import transformers / datasets / "
                f"lib.train.text ({exc})")
    return ""


def describe(size: TextSize) -> str:
    return (f"DistilBERT classifier {size.layers}x{size.dim} (random init, vocab {size.vocab}) "
            f"batch {size.batch_size} x {size.length} tokens fp32 AdamW")


def _config(v: Variant, size: TextSize, device: str, seed: int) -> Any:
    aees = v.aees != "none"
    return resolve("sst2", "mini", {
        "method": "AdaptiveScheduler" if aees else "AdamW", "batch_size": size.batch_size,
        "max_length": size.length, "episode_length": size.episode_length, "lr": 5e-5,
        "lr_candidates": LR_CANDIDATES if aees else [1.0],
        "noise_candidates": DUAL_NOISE if v.dual else [0.0], "seed": seed, "device": device,
        "aees_impl": "stock" if v.aees == "stock" else "fast",
        "update_norm": "off" if v.aees == "fast_nonorm" else "fused", "checkpoint_every": 0,
        "precision": "bf16" if v.optins else "fp32", "epochs": 1})


def _parts(size: TextSize, device: torch.device, seed: int) -> tuple[Any, Any, list[dict]]:
    """(model, tokenizer, examples); the model's init comes from ``set_seed(seed)``."""
    from transformers import DistilBertConfig, DistilBertForSequenceClassification, DistilBertTokenizer

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


def _thesis(v: Variant, size: TextSize, device: torch.device, seed: int) -> Trainer:
    from torch.utils.data import DataLoader

    from lib.control import build_aees, build_optimizer
    from lib.data.text import TextCollator

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


def _project(v: Variant, size: TextSize, device: torch.device, seed: int) -> Trainer:
    from lib.data.text import make_text_loader
    from lib.train import text as project

    cfg = _config(v, size, device.type, seed)
    model, tokenizer, examples = _parts(size, device, seed)
    run = project.TextRun(cfg=cfg, device=device)
    run.model = model
    run.train_loader = make_text_loader(examples, tokenizer, batch_size=size.batch_size, shuffle=True,
                                        generator=torch.Generator().manual_seed(seed))
    with contextlib.redirect_stdout(io.StringIO()):
        project.build_optimization(run)  # AEES engine and precision from the config
    if v.optins:
        run.model = torch.compile(model)  # after the FLOP probe (which deep-copies the model)

    return Trainer(round=epoch_round(project.train_epoch, run, device), steps=size.steps,
                   batch_size=size.batch_size, aees=run.aees,
                   isolated=lambda: isolated_cycle(run.stepper, model, device),
                   note=OPTINS_NOTE if v.optins else "")


def build(v: Variant, size: TextSize, device: torch.device, seed: int) -> Trainer:
    """The trainer of variant ``v``."""
    return (_thesis if v.pipeline == "thesis" else _project)(v, size, device, seed)
