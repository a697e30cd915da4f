"""Write the offline replica of the thesis' remote resources (:mod:`lib.replica`): the model, the two
text data sets and CIFAR-100, each part skipped when its marker is up to date."""

from __future__ import annotations

from pathlib import Path

from lib.replica.cifar import write_cifar_replica
from lib.replica.datasets import write_dataset_replica
from lib.replica.model import write_model_replica


def build_replica(hf_cache: Path, data_dir: Path, *, only: tuple[str, ...] | None = None) -> dict[str, Path]:
    """Write every replica (or those named in ``only``: model, sst2, agnews, cifar100).

    Returns name -> folder. Each part is skipped when its marker is up to date.
    """
    parts = {"model": lambda: write_model_replica(Path(hf_cache)),
             "sst2": lambda: write_dataset_replica("sst2", Path(hf_cache)),
             "agnews": lambda: write_dataset_replica("agnews", Path(hf_cache)),
             "cifar100": lambda: write_cifar_replica(Path(data_dir))}
    unknown = sorted(set(only or ()) - set(parts))
    if unknown:
        raise ValueError(f"unknown replica part(s) {unknown}; known: {sorted(parts)}")
    return {name: make() for name, make in parts.items() if only is None or name in only}
