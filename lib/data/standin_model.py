"""The offline stand-in model: a WordPiece tokenizer trained on the stand-in corpus and a small
DistilBERT, briefly pre-trained, saved with ``save_pretrained`` so that the ``mini`` profile runs
the same ``AutoTokenizer`` / ``AutoModelForSequenceClassification`` code as
``distilbert-base-uncased``. Not a real language model; see ``PRETRAIN`` for why it is pre-trained.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, normalizers, pre_tokenizers, trainers
from tokenizers.models import WordPiece
from transformers import (
    DataCollatorForLanguageModeling,
    DistilBertConfig,
    DistilBertForMaskedLM,
    DistilBertTokenizer,
    get_linear_schedule_with_warmup,
)

from lib.data.standin_text import (
    GENERATOR_NAME,
    STANDIN_FILE,
    _check_int,
    _write_marker,
    labelled_standin_corpus,
    standin_info,
)

MODEL_GENERATOR_VERSION = 2  # the model folder; 1: random weights, 2: pre-trained
# Pre-training of the stand-in model (write_standin_model). Fine-tuned with the thesis'
# absolute gradient noise (sigma 0.0025-0.01, far above the encoder's gradients, median
# ~1e-5 here), a random tiny DistilBERT stays at chance: its [CLS] features carry nothing
# and the noise stops the encoder from learning them. Pre-trained, the [CLS] features
# already separate the classes (linear probe 0.81 SST-2, 0.88 AG News; fine-tuned
# 0.84 / 0.89), the head learns and the noise only slows the encoder, as with
# distilbert-base-uncased. Masked-LM alone does not do it: in the SST-2 grammar the
# polarity of a word has no distributional signal, hence the [CLS] classification term.
PRETRAIN_STEPS = 500
PRETRAIN = {"batch_size": 32, "lr": 3e-3, "weight_decay": 0.01, "warmup_fraction": 0.1, "max_length": 64,
            "mlm_probability": 0.15}
PRETRAIN_CLASS_GROUP = (0, 0, 1, 1, 1, 1)  # class of labelled_standin_corpus -> its task (SST-2, AG News)
_BUILT: dict[str, Path] = {}  # model folders built in this process, by their STANDIN.json content
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _train_vocab(corpus_texts: Sequence[str], vocab_size: int) -> dict[str, int]:
    """WordPiece vocabulary of at most ``vocab_size`` entries, trained with ``tokenizers``.

    The trainer numbers ``##`` pieces in hash-map order, which changes its merges from
    call to call; trained without the prefix its merges are deterministic. Every learned
    piece then enters twice, word-initial and as ``##piece``, after the special tokens.
    """
    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=(vocab_size - len(SPECIAL_TOKENS)) // 2, min_frequency=2,
                                        special_tokens=[], continuing_subword_prefix="",
                                        show_progress=False)
    tok.train_from_iterator(list(corpus_texts), trainer=trainer)
    pieces = sorted(tok.get_vocab(), key=tok.get_vocab().__getitem__)
    return {t: i for i, t in enumerate([*SPECIAL_TOKENS, *pieces, *("##" + p for p in pieces)])}


def _pretrain(model: DistilBertForMaskedLM, tokenizer: DistilBertTokenizer, texts: list[str],
              labels: list[int] | None, *, steps: int, seed: int) -> dict[str, float]:
    """Pre-train in place: masked-LM loss (+ [CLS] classification of ``labels``, if given).

    The [CLS] head is a linear layer over the 6 classes; each text is classified among
    its own task's classes. The head is discarded, so the saved model has only the
    encoder and the MLM head, like ``distilbert-base-uncased``. Returns the mean losses
    over the first and last tenth of the steps.
    """
    p = PRETRAIN
    ids = tokenizer(texts, truncation=True, max_length=p["max_length"])["input_ids"]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=p["mlm_probability"], seed=seed)
    order = torch.Generator().manual_seed(seed)
    head = torch.nn.Linear(model.config.dim, len(PRETRAIN_CLASS_GROUP))
    group = torch.tensor(PRETRAIN_CLASS_GROUP)
    y_all = None if labels is None else torch.tensor(labels)
    opt = torch.optim.AdamW([*model.parameters(), *head.parameters()], lr=p["lr"], weight_decay=p["weight_decay"])
    sched = get_linear_schedule_with_warmup(opt, int(p["warmup_fraction"] * steps), steps)
    model.train()
    pending: list[int] = []
    losses: list[float] = []
    for _ in range(steps):
        if len(pending) < p["batch_size"]:
            pending += torch.randperm(len(ids), generator=order).tolist()
        idx, pending = pending[:p["batch_size"]], pending[p["batch_size"]:]
        batch = collator([{"input_ids": ids[i]} for i in idx])
        hidden = model.distilbert(input_ids=batch["input_ids"],
                                  attention_mask=batch["attention_mask"]).last_hidden_state
        masked = batch["labels"] != -100  # MLM logits only where a token was masked (cheap)
        logits = model.vocab_projector(model.vocab_layer_norm(model.activation(
            model.vocab_transform(hidden[masked]))))
        loss = F.cross_entropy(logits, batch["labels"][masked]) if masked.any() else hidden.sum() * 0
        if y_all is not None:
            y = y_all[idx]
            cls = head(hidden[:, 0]).masked_fill(group[None, :] != group[y][:, None], float("-inf"))
            loss = loss + F.cross_entropy(cls, y)
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    model.eval()
    k = max(1, steps // 10)
    return {"pretrain_loss_first": sum(losses[:k]) / k, "pretrain_loss_last": sum(losses[-k:]) / k}


def _same_build(folder: Path, info: dict[str, Any]) -> bool:
    current = standin_info(folder)
    return current is not None and {k: current.get(k) for k in info} == info


def _up_to_date(folder: Path, info: dict[str, Any]) -> bool:
    """Built with ``info``, and its weights are the ones its marker records (not truncated)."""
    weights = folder / "model.safetensors"
    if not _same_build(folder, info) or not weights.is_file():
        return False
    expected = standin_info(folder).get("weights_sha256")
    return expected is None or hashlib.sha256(weights.read_bytes()).hexdigest() == expected


def build_standin_model_dir(root: Path, corpus_texts: Sequence[str], *, seed: int,
                            corpus_labels: Sequence[int] | None = None, pretrain_steps: int = 0,
                            vocab_size: int = 4000, dim: int = 64, n_layers: int = 2, n_heads: int = 2,
                            hidden_dim: int = 256, max_position_embeddings: int = 512) -> Path:
    """Write a WordPiece tokenizer + tiny DistilBERT (MLM head) to ``root``; returns ``root``.

    The weights are drawn from ``seed`` and, with ``pretrain_steps`` > 0, pre-trained on
    the corpus (``_pretrain``; with ``corpus_labels``, classes from ``labelled_standin_corpus``,
    also a [CLS] classification loss), on the CPU with one thread so that the files repeat
    bit for bit. Loads like ``distilbert-base-uncased`` (``from_pretrained(root,
    local_files_only=True)``). Same corpus and parameters give the same files (a folder
    built earlier in this process is copied); ``root`` is rewritten when its
    ``STANDIN.json`` records other parameters or another corpus.
    """
    for name, value, minimum in (("vocab_size", vocab_size, 50), ("dim", dim, 2), ("n_layers", n_layers, 1),
                                 ("n_heads", n_heads, 1), ("hidden_dim", hidden_dim, 1),
                                 ("max_position_embeddings", max_position_embeddings, 8), ("seed", seed, 0),
                                 ("pretrain_steps", pretrain_steps, 0)):
        _check_int(name, value, minimum)
    if dim % n_heads:
        raise ValueError(f"dim ({dim}) must be divisible by n_heads ({n_heads})")
    texts = list(corpus_texts)
    if not texts:
        raise ValueError("corpus_texts must not be empty")
    labels = None if corpus_labels is None else [int(y) for y in corpus_labels]
    if labels is not None and (len(labels) != len(texts)
                               or not all(0 <= y < len(PRETRAIN_CLASS_GROUP) for y in labels)):
        raise ValueError(f"corpus_labels must give one class in [0, {len(PRETRAIN_CLASS_GROUP)}) per text "
                         f"({len(texts)} texts); got {len(labels)} labels")
    root = Path(root)
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    if labels is not None:
        digest = hashlib.sha256(f"{digest}\n{labels}".encode()).hexdigest()
    objective = "none" if not pretrain_steps else "mlm" if labels is None else "mlm+cls"
    info = {"generator": GENERATOR_NAME, "version": MODEL_GENERATOR_VERSION, "kind": "model", "seed": seed,
            "corpus_sha256": digest, "corpus_size": len(texts), "vocab_size_max": vocab_size,
            "dim": dim, "n_layers": n_layers, "n_heads": n_heads, "hidden_dim": hidden_dim,
            "max_position_embeddings": max_position_embeddings, "pretrain_steps": pretrain_steps,
            "pretrain": {"objective": objective, **PRETRAIN} if pretrain_steps else None,
            "note": "offline stand-in, not distilbert-base-uncased (tiny; "
                    + (f"pre-trained {pretrain_steps} steps on the stand-in corpus, {objective})"
                       if pretrain_steps else "random weights, not pre-trained)")}
    if _up_to_date(root, info):
        return root
    if _same_build(root, info):
        print(f"data: stand-in model in {root} is damaged (model.safetensors missing, truncated or "
              "altered: not the SHA-256 its STANDIN.json records); rebuilding it", flush=True)
    if root.exists() and standin_info(root) is None and any(root.iterdir()):
        raise RuntimeError(f"{root} exists and is not a stand-in model folder (no {STANDIN_FILE}); "
                           "refusing to overwrite it")
    key = json.dumps(info, sort_keys=True)
    tmp = root.with_name(f"{root.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    if key in _BUILT and _up_to_date(_BUILT[key], info):  # same inputs, same files: copy them
        shutil.copytree(_BUILT[key], tmp)
    else:
        tmp.mkdir(parents=True)
        vocab = _train_vocab(texts, vocab_size)
        tokenizer = DistilBertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=max_position_embeddings)
        tokenizer.save_pretrained(str(tmp))
        config = DistilBertConfig(vocab_size=len(vocab), dim=dim, n_layers=n_layers, n_heads=n_heads,
                                  hidden_dim=hidden_dim, max_position_embeddings=max_position_embeddings,
                                  pad_token_id=vocab["[PAD]"])
        threads = torch.get_num_threads()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = DistilBertForMaskedLM(config)
            stats = {}
            if pretrain_steps:
                torch.set_num_threads(1)  # float sums in one fixed order, whatever the machine's cores
                try:
                    stats = _pretrain(model, tokenizer, texts, labels, steps=pretrain_steps, seed=seed)
                finally:
                    torch.set_num_threads(threads)
        model.save_pretrained(str(tmp))
        weights = hashlib.sha256((tmp / "model.safetensors").read_bytes()).hexdigest()
        _write_marker(tmp, {**info, "vocab_size": len(vocab), **stats, "weights_sha256": weights})
    if _up_to_date(root, info):  # another process finished the same folder meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        shutil.rmtree(root, ignore_errors=True)
        os.replace(tmp, root)
    _BUILT[key] = root
    return root


def write_standin_model(root: Path, *, seed: int = 0, n_corpus_per_task: int = 3000,
                        pretrain_steps: int = PRETRAIN_STEPS, **model_kwargs: int) -> Path:
    """``build_standin_model_dir`` on ``labelled_standin_corpus(seed + 1000)`` (own names/texts).

    The stand-in of ``distilbert-base-uncased``: pre-trained (``pretrain_steps``) with
    masked-LM and [CLS] classification on that corpus, which shares no texts with the
    stand-in data sets (seed 0), so that its [CLS] features, like DistilBERT's, already
    separate sentiment and topic before fine-tuning.
    """
    _check_int("n_corpus_per_task", n_corpus_per_task, 10)
    texts, labels = labelled_standin_corpus(seed + 1000, n_corpus_per_task)
    return build_standin_model_dir(root, texts, corpus_labels=labels, seed=seed, pretrain_steps=pretrain_steps,
                                   **model_kwargs)
