"""Offline replica of the thesis' remote resources, under their real names and cache layouts.

For rehearsing the ``thesis`` profile without network or GPU (``make rehearse``, tests),
never for results: every resource is generated (random DistilBERT weights, stand-in text and
images at the real sizes) and carries a ``REPLICA.json`` marker, which the loaders read and
every RunResult made from it records (``config.replica``); ``lib.analysis.load_archive``
refuses such results. Build it (``lib.replica.build``, which imports torch; this package's own names
are torch-free) only into a temporary HF cache and data directory:

* ``<hf_cache>/models--distilbert-base-uncased/`` (Hub cache layout: blobs, refs/main,
  snapshots/<sha>): DistilBERT-base architecture, 30,522-entry WordPiece vocabulary;
* ``<hf_cache>/glue/sst2/0.0.0/<sha>/`` and ``<hf_cache>/ag_news/default/0.0.0/<sha>/``
  (the ``datasets`` cache that ``load_dataset`` reads offline): real splits, columns,
  features and sizes;
* ``<data_dir>/cifar100/cifar-100-python/`` (torchvision's layout): 50,000 / 10,000 images.
"""

from __future__ import annotations

from lib.data.replica_marker import MARKER, NOTE, find_dataset_replica, read_marker, write_marker


__all__ = ["MARKER", "NOTE", "write_marker", "read_marker", "find_dataset_replica"]
