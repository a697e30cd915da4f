"""The replica of CIFAR-100 at the thesis data path, in torchvision's layout, full size.

``<data_dir>/cifar100/cifar-100-python/{train,test,meta}`` (the pickles torchvision reads) with
50,000 / 10,000 stand-in images (``lib.data.standin_cifar``) and ``REPLICA.json`` in place of
the stand-in's ``STANDIN.json``: ``lib.data.cifar`` then skips torchvision's MD5 check (which
generated files cannot pass) and records the replica, and the ``thesis`` profile's unmodified
``ensure_cifar100(DATA_DIR / "cifar100", standin=False)`` loads it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from lib.data.replica_marker import read_marker, write_marker
from lib.data.standin_cifar import STANDIN_FILE, standin_info, write_cifar100_standin

VERSION = 1
N_TRAIN, N_TEST = 50_000, 10_000
BASE_FOLDER = "cifar-100-python"


def cifar_folder(data_dir: Path) -> Path:
    return Path(data_dir) / "cifar100" / BASE_FOLDER


def write_cifar_replica(data_dir: Path) -> Path:
    """Write (or keep, if up to date) the replica; refuses to replace real CIFAR-100 files."""
    folder = cifar_folder(data_dir)
    if (read_marker(folder) or {}).get("version") == VERSION:
        return folder
    if folder.exists() and read_marker(folder) is None and any(folder.iterdir()):
        raise RuntimeError(f"{folder} holds files that are not a replica (real CIFAR-100?); "
                           f"refusing to overwrite them (use another data directory)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".replica-") as tmp_name:
        built = write_cifar100_standin(Path(tmp_name), seed=0, n_train=N_TRAIN, n_test=N_TEST)
        info = standin_info(Path(tmp_name))
        (built / STANDIN_FILE).unlink()
        write_marker(built, {"kind": "cifar100", "version": VERSION, "n_train": N_TRAIN, "n_test": N_TEST,
                             "generator": info["generator"], "generator_version": info["version"], "seed": 0})
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(built, folder)
    return folder


__all__ = ["N_TRAIN", "N_TEST", "cifar_folder", "write_cifar_replica"]
