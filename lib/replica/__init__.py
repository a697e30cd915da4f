"""Offline replica of the thesis' remote resources, under their real names and cache layouts.

For rehearsing the ``thesis`` profile without network or GPU (``make rehearse``, tests),
never for results: every resource is generated (random DistilBERT weights, stand-in text and
images at the real sizes) and carries a ``REPLICA.json`` marker, which the loaders read and
every RunResult made from it records (``config.replica``); ``lib.analysis.load_archive``
refuses such results. Build it only into a temporary HF cache and data directory:

* ``<hf_cache>/models--distilbert-base-uncased/`` (Hub cache layout: blobs, refs/main,
  snapshots/<sha>): DistilBERT-base architecture, 30,522-entry WordPiece vocabulary;
* ``<hf_cache>/glue/sst2/0.0.0/<sha>/`` and ``<hf_cache>/ag_news/default/0.0.0/<sha>/``
  (the ``datasets`` cache that ``load_dataset`` reads offline): real splits, columns,
  features and sizes;
* ``<data_dir>/cifar100/cifar-100-python/`` (torchvision's layout): 50,000 / 10,000 images.
"""

from __future__ import annotations

from pathlib import Path

from lib.data.replica_marker import MARKER, NOTE, find_dataset_replica, read_marker, write_marker


def build_replica(hf_cache: Path, data_dir: Path, *, only: tuple[str, ...] | None = None) -> dict[str, Path]:
    """Write every replica (or those named in ``only``: model, sst2, agnews, cifar100).

    Returns name -> folder. Each part is skipped when its marker is up to date.
    """
    from lib.replica.cifar import write_cifar_replica
    from lib.replica.datasets import write_dataset_replica
    from lib.replica.model import write_model_replica

    parts = {"model": lambda: write_model_replica(Path(hf_cache)),
             "sst2": lambda: write_dataset_replica("sst2", Path(hf_cache)),
             "agnews": lambda: write_dataset_replica("agnews", Path(hf_cache)),
             "cifar100": lambda: write_cifar_replica(Path(data_dir))}
    unknown = sorted(set(only or ()) - set(parts))
    if unknown:
        raise ValueError(f"unknown replica part(s) {unknown}; known: {sorted(parts)}")
    return {name: make() for name, make in parts.items() if only is None or name in only}


__all__ = ["MARKER", "NOTE", "write_marker", "read_marker", "find_dataset_replica", "build_replica"]
