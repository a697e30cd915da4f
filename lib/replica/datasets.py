"""Replicas of the Hub data sets the thesis loads, in the ``datasets`` cache layout.

``load_dataset("glue", "sst2", cache_dir=C)`` and ``load_dataset("ag_news", cache_dir=C)``
(``lib.data.text.TASKS``) offline fall back to ``datasets``' cached-dataset resolution
(``CachedDatasetModuleFactory`` -> ``packaged_modules.cache``): the newest folder
``C/<name>/<config>/<version>/<hash>/`` whose ``dataset_info.json`` names that config, holding
one ``<name>-<split>.arrow`` (Arrow IPC stream) per split. That is the folder a machine that
downloaded the data set once has; here it is written from the stand-in text generators at the
real sizes, with the real splits, columns and features (SST-2 train 67,349 / validation 872 /
test 1,821 with label -1 like GLUE's hidden test labels; AG News train 120,000 / test 7,600).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from datasets import Dataset, DatasetInfo, SplitDict, SplitInfo
from datasets.arrow_writer import ArrowWriter

from lib.data.replica_marker import read_marker, write_marker
from lib.data.standin_text import generate_split
from lib.data.text import TASKS

VERSION = 1
VERSION_DIR = "0.0.0"  # what datasets writes for Hub (parquet) data sets
SIZES = {"sst2": {"train": 67_349, "validation": 872, "test": 1_821},
         "agnews": {"train": 120_000, "test": 7_600}}
SEED = 0  # the stand-in data sets' seed: the replica holds the same texts at full size


def _names(task: str) -> tuple[str, str]:
    path, name = TASKS[task].hub
    return path, name or "default"


def _info(task: str) -> dict:
    path, config = _names(task)
    return {"kind": "hub-dataset", "task": task, "path": path, "config": config, "version": VERSION,
            "sizes": SIZES[task], "generator": "lib.data.standin_text", "seed": SEED}


def dataset_folder(task: str, cache_dir: Path) -> Path:
    """``<cache_dir>/<path>/<config>/0.0.0/<hash>`` of the replica (the hash is its content's)."""
    path, config = _names(task)
    digest = hashlib.sha1(repr(sorted(_info(task).items())).encode()).hexdigest()
    return Path(cache_dir) / path / config / VERSION_DIR / digest


def _split(task: str, split: str, n: int) -> Dataset:
    if split == "test" and task == "sst2":  # GLUE's test labels are hidden: -1
        ds = generate_split(task, SEED + 1, "train", n)
        return ds.map(lambda b: {"label": [-1] * len(b["label"])}, batched=True, features=ds.features)
    return generate_split(task, SEED, split, n)


def write_dataset_replica(task: str, cache_dir: Path) -> Path:
    """Write (or keep, if up to date) the replica of ``task``'s Hub data set; returns its folder."""
    folder = dataset_folder(task, cache_dir)
    if (read_marker(folder) or {}).get("version") == VERSION:
        return folder
    path, config = _names(task)
    others = [p for p in (Path(cache_dir) / path / config).glob("*/*") if p.is_dir() and p != folder]
    real = [p for p in others if read_marker(p) is None]
    if real:
        raise RuntimeError(f"{real[0]} is a cached copy of the real {path}/{config}; refusing to put a "
                           "replica beside it (use an empty cache_dir)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".replica-") as tmp_name:
        tmp = Path(tmp_name) / folder.name
        tmp.mkdir()
        splits = SplitDict(dataset_name=path)
        features = None
        for split, n in SIZES[task].items():
            ds = _split(task, split, n)
            features = ds.features
            with ArrowWriter(features=features, path=str(tmp / f"{path}-{split}.arrow")) as writer:
                writer.write_table(ds.data.table)
                n_rows, n_bytes = writer.finalize()
            splits.add(SplitInfo(name=split, num_bytes=n_bytes, num_examples=n_rows, dataset_name=path))
        DatasetInfo(features=features, builder_name="parquet", dataset_name=path, config_name=config,
                    version=VERSION_DIR, splits=splits,
                    description="offline replica (stand-in texts at the real sizes)").write_to_directory(str(tmp))
        write_marker(tmp, _info(task))
        for old in others:
            shutil.rmtree(old)
        tmp.replace(folder)
    return folder


__all__ = ["SIZES", "dataset_folder", "write_dataset_replica"]
