"""SST-2 / AG News: one loading, tokenisation and caching path for real and stand-in data.

Protocol 2.2 and 3.1, with the thesis' gaps closed (protocol 14.12, 13):

* raw data: ``load_dataset("glue", "sst2")`` / ``load_dataset("ag_news")`` or, for the
  offline stand-ins, ``load_dataset("parquet", data_files=...)``; ``local_files_only``
  reaches every Hub call (datasets too: offline mode, clear error if not cached). There is
  no token parameter: a Hub token, if any, comes from the environment and is never stored.
* tokenisation as the thesis: batched, ``truncation=True``, ``max_length``, no padding,
  text columns removed, labels kept; saved with ``save_to_disk``.
* caches keyed on everything that changes them (tokenizer content, max_length, data
  source, AG News split and label noise): the thesis directory name as a readable prefix,
  a hash suffix, and ``<dir>.json`` next to each directory recording the key.
* AG News: the tokenized train split is divided ``train_test_split(test_size=0.1,
  seed=42, shuffle=True)``; label noise (``lib.noise``) hits only the train part after
  the split; the test split is tokenized and saved, never evaluated.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import huggingface_hub.constants
import torch
from datasets import Dataset, DatasetDict, load_dataset, load_from_disk
from torch.utils.data import DataLoader, Sampler
from transformers import AutoTokenizer, DataCollatorWithPadding, PreTrainedTokenizerBase

from lib import DATA_DIR
from lib.atomic import write_text_atomic
from lib.data.prepare import PRETOKENIZE, MissingResource
from lib.data.standin_text import standin_info
from lib.noise import LabelNoiseMetadata, apply_agnews_label_noise
from lib.data.replica_marker import find_dataset_replica
from lib.vocab import AGNEWS_NOISE_SEED, AGNEWS_SPLIT_SEED, data_key, noise_tag, split_tag, tokenized_dir_name

CACHE_SCHEME = 1  # bump when the tokenisation recipe changes
AGNEWS_VALIDATION_FRACTION = 0.1


@dataclass(frozen=True)
class TaskSpec:
    hub: tuple[str, str | None]  # load_dataset(path, name)
    text_column: str
    remove_columns: tuple[str, ...]
    raw_splits: tuple[str, ...]
    num_labels: int


TASKS: dict[str, TaskSpec] = {
    "sst2": TaskSpec(("glue", "sst2"), "sentence", ("sentence", "idx"), ("train", "validation"), 2),
    "agnews": TaskSpec(("ag_news", None), "text", ("text",), ("train", "test"), 4),
}
DEFAULT_TOKENIZED_DIRS = {task: DATA_DIR / tokenized_dir_name(task) for task in TASKS}


@dataclass
class TextData:
    """Tokenized train/validation sets plus what the run records about them."""

    task: str
    train: Dataset
    validation: Dataset
    tokenizer: PreTrainedTokenizerBase
    num_labels: int
    label_names: list[str]
    label_noise: LabelNoiseMetadata | None  # .to_dict() is config.diagnostics.label_noise
    cache_info: dict[str, Any]


def _spec(task: str) -> TaskSpec:
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}; got {task!r}")
    return TASKS[task]


@contextmanager
def hub_offline(enabled: bool) -> Iterator[None]:
    """While active (if ``enabled``), ``datasets`` and ``huggingface_hub`` make no network call."""
    if not enabled:
        yield
        return
    saved = (datasets.config.HF_HUB_OFFLINE, datasets.config.HF_DATASETS_OFFLINE,
             huggingface_hub.constants.HF_HUB_OFFLINE)
    datasets.config.HF_HUB_OFFLINE = datasets.config.HF_DATASETS_OFFLINE = True
    huggingface_hub.constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        (datasets.config.HF_HUB_OFFLINE, datasets.config.HF_DATASETS_OFFLINE,
         huggingface_hub.constants.HF_HUB_OFFLINE) = saved


def offline_reason(local_files_only: bool) -> str:
    """Why nothing may be downloaded now: ``local_files_only=True`` or the offline variables."""
    if local_files_only:
        return "local_files_only=True"
    if huggingface_hub.constants.HF_HUB_OFFLINE or datasets.config.HF_DATASETS_OFFLINE:
        return "offline: HF_HUB_OFFLINE=1 / HF_DATASETS_OFFLINE=1, as make sets them"
    return "the Hub could not be reached"


def load_tokenizer(name_or_dir: str | Path, *, cache_dir: Path, local_files_only: bool,
                   prepare: str = PRETOKENIZE["sst2"]) -> PreTrainedTokenizerBase:
    """``AutoTokenizer.from_pretrained`` with the cache dir; offline when ``local_files_only``.

    A tokenizer neither cached nor downloadable raises :class:`MissingResource` naming the
    command ``prepare`` that provides it (not transformers' raw OSError).
    """
    with hub_offline(local_files_only):
        try:
            return AutoTokenizer.from_pretrained(str(name_or_dir), cache_dir=str(cache_dir),
                                                 local_files_only=local_files_only)
        except OSError as exc:
            raise MissingResource(f"the tokenizer of {str(name_or_dir)!r}", f"the model cache {cache_dir}",
                                  prepare, offline_reason(local_files_only)) from exc


def tokenizer_identity(tokenizer: PreTrainedTokenizerBase, name_or_dir: str | Path) -> dict[str, str]:
    """Name (a local folder by its base name) + class + hash of the tokenizer's content."""
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    spec.pop("truncation", None)  # call-time state, not identity
    spec.pop("padding", None)
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    name = Path(name_or_dir).name if Path(name_or_dir).is_dir() else str(name_or_dir)
    return {"name": name, "class": type(tokenizer).__name__, "sha256_16": digest}


def source_identity(task: str, standin_dir: Path | None, cache_dir: Path | None = None) -> dict[str, Any]:
    """What the raw data is: the Hub data set (and whether ``cache_dir`` holds its offline replica,
    ``lib.replica``), or a stand-in with its generator parameters."""
    spec = _spec(task)
    if standin_dir is None:
        out = {"kind": "hub", "path": spec.hub[0], "name": spec.hub[1]}
        replica = None if cache_dir is None else find_dataset_replica(cache_dir, spec.hub[0], spec.hub[1])
        return out if replica is None else {**out, "replica": replica}
    info = standin_info(Path(standin_dir))
    if info is None:
        raise FileNotFoundError(f"standin_dir {standin_dir} holds no stand-in (no STANDIN.json); "
                                "write one with lib.data.standin_text.write_text_standin")
    if info.get("task") != task:
        raise ValueError(f"standin_dir {standin_dir} holds the {info.get('task')!r} stand-in, not {task!r}")
    return {"kind": "standin", **{k: info[k] for k in ("generator", "version", "seed", "sizes")}}


def load_raw_splits(task: str, *, standin_dir: Path | None, cache_dir: Path,
                    local_files_only: bool, prepare: str | None = None) -> DatasetDict:
    """The raw splits (SST-2: train/validation, AG News: train/test), real or stand-in."""
    spec = _spec(task)
    source_identity(task, standin_dir)  # validates the stand-in folder
    with hub_offline(local_files_only):
        if standin_dir is not None:
            files = {s: Path(standin_dir) / f"{s}.parquet" for s in spec.raw_splits}
            missing = [str(f) for f in files.values() if not f.is_file()]
            if missing:
                raise FileNotFoundError(f"stand-in files missing: {missing}")
            raw = load_dataset("parquet", data_files={s: str(f) for s, f in files.items()},
                               cache_dir=str(cache_dir), download_mode="reuse_dataset_if_exists")
        else:
            try:
                raw = load_dataset(spec.hub[0], spec.hub[1], cache_dir=str(cache_dir),
                                   download_mode="reuse_dataset_if_exists")
            except (ConnectionError, FileNotFoundError, datasets.exceptions.DatasetNotFoundError) as exc:
                if not local_files_only and not isinstance(exc, ConnectionError):
                    raise
                raise MissingResource(f"the data set load_dataset{spec.hub}", f"cache_dir={cache_dir}",
                                      prepare or PRETOKENIZE[task], offline_reason(local_files_only)) from exc
    for split in spec.raw_splits:
        needed = {spec.text_column, "label"}
        if split not in raw or not needed <= set(raw[split].column_names):
            raise ValueError(f"{task} raw data must have split {split!r} with columns {sorted(needed)}; "
                             f"got {({s: raw[s].column_names for s in raw})}")
    return DatasetDict({s: raw[s] for s in spec.raw_splits})


def _key_hash(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]


class _SplitCache:
    """``<root>/<prefix>-<hash>`` (save_to_disk) + ``<root>/<prefix>-<hash>.json`` (its key)."""

    def __init__(self, root: Path, prefix: str, key: dict[str, Any]):
        self.key = {**key, "split_dir": prefix}
        self.hash = _key_hash(self.key)
        self.path = root / f"{prefix}-{self.hash}"
        self.key_file = root / f"{prefix}-{self.hash}.json"

    def exists(self) -> bool:
        if not self.path.is_dir():
            return False
        recorded = json.loads(self.key_file.read_text()) if self.key_file.is_file() else None
        if recorded != self.key:
            raise RuntimeError(f"tokenized cache {self.path} does not match its key file {self.key_file}; "
                               "delete both to rebuild")
        return True

    def usable(self) -> bool:
        """``exists()``, and loads: a damaged (e.g. truncated) cache is removed, with one line
        saying so, and reported absent so that it is rebuilt."""
        if not self.exists():
            return False
        try:
            ds = load_from_disk(str(self.path))
            ds.data.validate(full=False)
            if len(ds):
                ds[len(ds) - 1]  # reads through the last record batch
        except Exception as exc:  # arrow/datasets report damage under many types
            print(f"data: tokenized cache {self.path} cannot be read ({type(exc).__name__}: "
                  f"{str(exc)[:100]}); rebuilding it", flush=True)
            shutil.rmtree(self.path)
            self.key_file.unlink(missing_ok=True)
            return False
        return True

    def save(self, ds: Dataset) -> None:
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        ds.save_to_disk(str(tmp))
        write_text_atomic(self.key_file, json.dumps(self.key, indent=2, sort_keys=True) + "\n")
        try:
            os.replace(tmp, self.path)
        except OSError:  # written meanwhile by another process: keep theirs
            if not self.path.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)

    def info(self, reused: bool) -> dict[str, Any]:
        return {"path": str(self.path), "key_hash": self.hash, "reused": reused}


def _tokenize(ds: Dataset, tokenizer: PreTrainedTokenizerBase, spec: TaskSpec, max_length: int,
              fingerprint: str) -> Dataset:
    return ds.map(lambda batch: tokenizer(batch[spec.text_column], truncation=True, max_length=max_length),
                  batched=True, remove_columns=list(spec.remove_columns), keep_in_memory=True,
                  new_fingerprint=fingerprint, desc="tokenizing")


def _check_args(task: str, max_length: int, rate: float, seed: int) -> TaskSpec:
    spec = _spec(task)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ValueError(f"max_length must be a positive int; got {max_length!r}")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
        raise ValueError(f"label_noise_rate must be a float in [0.0, 1.0); got {rate!r}")
    if task == "sst2" and rate != 0.0:
        raise ValueError(f"label_noise_rate must be 0.0 for sst2 (SST-2 has no label noise); got {rate!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"label_noise_seed must be an int; got {seed!r}")
    return spec


def prepare_text_task(task: str, *, tokenizer_dir_or_name: str | Path, max_length: int,
                      tokenized_dataset_dir: Path, cache_dir: Path, local_files_only: bool,
                      standin_dir: Path | None, label_noise_rate: float = 0.0,
                      label_noise_seed: int = AGNEWS_NOISE_SEED) -> TextData:
    """Tokenizer + tokenized train/validation (cached), AG News split and label noise.

    Reuses every cache whose key matches; otherwise loads the raw data once, tokenizes
    and writes the missing directories. A ``pretokenize_only`` flow calls this and stops.
    """
    spec = _check_args(task, max_length, label_noise_rate, label_noise_seed)
    root = Path(tokenized_dataset_dir)
    root.mkdir(parents=True, exist_ok=True)
    prepare = PRETOKENIZE[data_key(task, label_noise_rate)]
    tokenizer = load_tokenizer(tokenizer_dir_or_name, cache_dir=Path(cache_dir), local_files_only=local_files_only,
                               prepare=prepare)
    base = {"scheme": CACHE_SCHEME, "task": task, "source": source_identity(task, standin_dir, Path(cache_dir)),
            "tokenizer": tokenizer_identity(tokenizer, tokenizer_dir_or_name), "max_length": max_length,
            "tokenization": {"truncation": True, "padding": False, "text_column": spec.text_column,
                             "removed_columns": list(spec.remove_columns)}}
    if task == "sst2":
        caches = {"train": _SplitCache(root, "train", base), "validation": _SplitCache(root, "validation", base)}
    else:
        split_key = {**base, "validation_split": {"source_split": "train", "test_size": AGNEWS_VALIDATION_FRACTION,
                                                  "seed": AGNEWS_SPLIT_SEED, "shuffle": True}}
        tag = split_tag(AGNEWS_SPLIT_SEED)
        caches = {"train": _SplitCache(root, f"train_{tag}", split_key),
                  "validation": _SplitCache(root, f"validation_{tag}", split_key),
                  "test": _SplitCache(root, "test", base)}
    present = {role: cache.usable() for role, cache in caches.items()}
    if not all(present.values()):
        raw = load_raw_splits(task, standin_dir=standin_dir, cache_dir=Path(cache_dir),
                              local_files_only=local_files_only, prepare=prepare)
        tokenized = {s: _tokenize(raw[s], tokenizer, spec, max_length, f"{caches['train'].hash}-{s}")
                     for s in spec.raw_splits}
        if task == "agnews":
            parts = tokenized["train"].train_test_split(
                test_size=AGNEWS_VALIDATION_FRACTION, seed=AGNEWS_SPLIT_SEED, shuffle=True, keep_in_memory=True)
            tokenized = {"train": parts["train"], "validation": parts["test"], "test": tokenized["test"]}
        for role, cache in caches.items():
            if not present[role]:
                cache.save(tokenized[role])
    info = {role: cache.info(present[role]) for role, cache in caches.items()}
    train = load_from_disk(str(caches["train"].path))
    validation = load_from_disk(str(caches["validation"].path))

    noise: LabelNoiseMetadata | None = None
    if label_noise_rate > 0.0:
        clean_labels = list(train["label"])
        noisy_labels, noise = apply_agnews_label_noise(clean_labels, float(label_noise_rate),
                                                       seed=label_noise_seed, num_classes=spec.num_labels)
    if noise is not None:
        noisy_key = {**caches["train"].key, "label_noise": {
            "type": "symmetric", "rate": float(label_noise_rate), "seed": label_noise_seed,
            "applied_to": "train part after the validation split"}}
        cache = _SplitCache(root, f"train_{split_tag(AGNEWS_SPLIT_SEED)}"
                            f"{noise_tag(float(label_noise_rate), label_noise_seed)}", noisy_key)
        reused = cache.usable()
        if not reused:
            cache.save(train.map(lambda _, idx: {"label": [noisy_labels[i] for i in idx]}, with_indices=True,
                                 batched=True, features=train.features, keep_in_memory=True,
                                 new_fingerprint=cache.hash, desc="label noise"))
        train = load_from_disk(str(cache.path))
        if list(train["label"]) != noisy_labels:
            raise RuntimeError(f"noisy cache {cache.path} disagrees with lib.noise; delete it and its .json")
        info["train_clean"], info["train"] = info["train"], cache.info(reused)
    cache_info = {"tokenized_dataset_dir": str(root), "max_length": max_length, "source": base["source"],
                  "tokenizer": {**base["tokenizer"], "name_or_path": str(tokenizer_dir_or_name)},
                  "splits": info, "reused": all(s["reused"] for s in info.values())}
    return TextData(task=task, train=train, validation=validation, tokenizer=tokenizer,
                    num_labels=spec.num_labels, label_names=list(train.features["label"].names),
                    label_noise=noise, cache_info=cache_info)


def sequence_lengths(ds: Dataset) -> list[int]:
    """Token count of every example (``input_ids`` lengths)."""
    import pyarrow.compute as pc
    return pc.list_value_length(ds.with_format("arrow")["input_ids"]).to_pylist()


class LengthGroupedSampler(Sampler[int]):
    """Shuffle, cut into mega-batches of ``batch_size * mega_batch_mult``, sort each by length.

    Batches then hold examples of similar length (less padding). The order is a function
    of ``generator`` only, and every index is visited once per epoch.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, generator: torch.Generator,
                 mega_batch_mult: int = 50):
        self.lengths, self.generator = list(lengths), generator
        self.mega = batch_size * mega_batch_mult

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        for start in range(0, len(order), self.mega):
            yield from sorted(order[start:start + self.mega], key=lambda i: -self.lengths[i])


class TextCollator:
    """Dynamic padding to the longest sequence in the batch; labels as ``torch.long`` ``labels``."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase):
        self.pad = DataCollatorWithPadding(tokenizer, return_tensors="pt")

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        key = "label" if "label" in features[0] else "labels"
        labels = torch.tensor([f[key] for f in features], dtype=torch.long)
        batch = dict(self.pad([{k: v for k, v in f.items() if k != key} for f in features]))
        batch["labels"] = labels
        return batch


def make_text_loader(ds: Dataset, tokenizer: PreTrainedTokenizerBase, *, batch_size: int, shuffle: bool,
                     generator: torch.Generator | None = None, group_by_length: bool = False,
                     pin_memory: bool | None = None) -> DataLoader:
    """DataLoader with dynamic padding, ``num_workers=0``; the shuffle order comes from ``generator``.

    ``group_by_length`` (opt-in, not in the thesis) batches similar lengths together.
    ``pin_memory`` defaults to ``torch.cuda.is_available()`` as in the thesis.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    if group_by_length and not shuffle:
        raise ValueError("group_by_length=True needs shuffle=True (it is a training-order option)")
    if shuffle and generator is None:
        raise ValueError("generator is required when shuffle=True (seed it with the run seed)")
    sampler = LengthGroupedSampler(sequence_lengths(ds), batch_size, generator) if group_by_length else None
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
                      generator=generator if shuffle and sampler is None else None,
                      collate_fn=TextCollator(tokenizer), num_workers=0,
                      pin_memory=torch.cuda.is_available() if pin_memory is None else pin_memory)


__all__ = ["TASKS", "TaskSpec", "TextData", "DEFAULT_TOKENIZED_DIRS", "AGNEWS_SPLIT_SEED",
           "AGNEWS_VALIDATION_FRACTION", "hub_offline", "load_tokenizer", "tokenizer_identity",
           "source_identity", "load_raw_splits", "prepare_text_task", "sequence_lengths",
           "LengthGroupedSampler", "TextCollator", "make_text_loader"]
