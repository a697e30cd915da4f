"""The replica of the Hub model ``distilbert-base-uncased`` in the Hub cache layout.

``<hub_cache>/models--distilbert-base-uncased/{blobs/<sha256>, refs/main, snapshots/<commit>/...}``
with the snapshot's files as symbolic links into ``blobs`` (as ``huggingface_hub`` writes them),
so that ``from_pretrained("distilbert-base-uncased", cache_dir=<hub_cache>, local_files_only=True)``
resolves it as on a machine that downloaded the model. The architecture is the real one (6
layers, hidden 768, 12 heads, FFN 3072, 512 positions, vocabulary 30,522; ~66M parameters,
~265 MB of fp32 safetensors) with random weights; the WordPiece vocabulary puts the special
tokens at the real ids ([PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103), learns its
pieces from the stand-in corpus and fills the rest with ``[unusedN]`` entries.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import torch
from tokenizers import Tokenizer, normalizers, pre_tokenizers, trainers
from tokenizers.models import WordPiece
from transformers import DistilBertConfig, DistilBertForMaskedLM, DistilBertTokenizer

from lib.data.replica_marker import MARKER, read_marker, write_marker
from lib.data.standin_text import standin_corpus

REPO_ID = "distilbert-base-uncased"
VERSION = 1  # bump when the files change
VOCAB_SIZE = 30_522
ARCH = {"dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072, "max_position_embeddings": 512}
CORPUS_SEED = 2000  # own texts, disjoint from the stand-in data sets (seed 0) and model (1000)


def repo_folder(hub_cache: Path) -> Path:
    return Path(hub_cache) / f"models--{REPO_ID.replace('/', '--')}"


def replica_vocab(corpus: list[str], size: int = VOCAB_SIZE) -> list[str]:
    """``size`` tokens: specials at the real ids, learned pieces (word-initial and ``##``), filler."""
    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=8000, min_frequency=2, special_tokens=[],
                                        continuing_subword_prefix="", show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    pieces = sorted(tok.get_vocab(), key=tok.get_vocab().__getitem__)
    head = ["[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    head += [f"[unused{i}]" for i in range(99, 994)]  # the real vocabulary's learned part starts at 999
    vocab = [*head, *pieces, *("##" + p for p in pieces)]
    if len(vocab) > size:
        raise RuntimeError(f"replica vocabulary has {len(vocab)} entries, more than {size}")
    vocab += [f"[unused{i}]" for i in range(994, 994 + size - len(vocab))]
    return vocab


def _info() -> dict:
    return {"kind": "hub-model", "repo_id": REPO_ID, "version": VERSION, "vocab_size": VOCAB_SIZE,
            **ARCH, "weights": "random (seed 0)", "vocabulary": f"WordPiece on standin_corpus({CORPUS_SEED})"}


def _commit(info: dict) -> str:
    return hashlib.sha1(repr(sorted(info.items())).encode()).hexdigest()


def snapshot_dir(hub_cache: Path) -> Path | None:
    """The snapshot ``refs/main`` points to, or None."""
    ref = repo_folder(hub_cache) / "refs" / "main"
    return repo_folder(hub_cache) / "snapshots" / ref.read_text().strip() if ref.is_file() else None


def write_model_replica(hub_cache: Path) -> Path:
    """Write (or keep, if up to date) the replica; returns its snapshot folder."""
    info = _info()
    commit = _commit(info)
    current = snapshot_dir(hub_cache)
    if current is not None and current.name == commit and (read_marker(current) or {}).get("version") == VERSION:
        return current
    repo = repo_folder(hub_cache)
    if repo.exists() and (current is None or read_marker(current) is None):
        raise RuntimeError(f"{repo} exists and is not a replica (no {MARKER} in its snapshot); "
                           "refusing to overwrite a real model cache")
    repo.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=repo.parent, prefix=".replica-model-") as tmp_name:
        tmp = Path(tmp_name)
        files = tmp / "files"
        vocab = replica_vocab(standin_corpus(CORPUS_SEED))
        tokenizer = DistilBertTokenizer(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=True,
                                        model_max_length=ARCH["max_position_embeddings"])
        tokenizer.save_pretrained(str(files))
        (files / "vocab.txt").write_text("\n".join(vocab) + "\n")
        config = DistilBertConfig(vocab_size=VOCAB_SIZE, pad_token_id=0, **ARCH)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            DistilBertForMaskedLM(config).save_pretrained(str(files))
        write_marker(files, {**info, "commit": commit})
        new = tmp / "repo"
        (new / "blobs").mkdir(parents=True)
        (new / "refs").mkdir()
        snap = new / "snapshots" / commit
        snap.mkdir(parents=True)
        for f in sorted(files.iterdir()):
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            os.replace(f, new / "blobs" / digest)
            (snap / f.name).symlink_to(Path("..", "..", "blobs", digest))
        (new / "refs" / "main").write_text(commit)
        shutil.rmtree(repo, ignore_errors=True)
        os.replace(new, repo)
    return repo / "snapshots" / commit


__all__ = ["REPO_ID", "VOCAB_SIZE", "ARCH", "repo_folder", "snapshot_dir", "replica_vocab",
           "write_model_replica"]
