"""Where Fashion-MNIST's idx files live and how to get them: torch-free, so that a plan, the
preflight and the readiness check before a run can ask without importing torch
(``lib.data.fashion_mnist`` reads the files).
"""

from __future__ import annotations

from pathlib import Path

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
APT_COMMAND = "apt-get update && apt-get install -y dataset-fashion-mnist"
FETCH_COMMAND = ".venv/bin/python -m lib.preflight --fetch-fashion-mnist"
# The four idx files by torchvision's names, uncompressed in <root>/FashionMNIST/raw/ (the folder
# torchvision's FashionMNIST reads and its download fills; tests/test_fashion_mnist.py checks the name).
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
TORCHVISION_FOLDER = "FashionMNIST"


def raw_dir(root: Path) -> Path:
    """Where torchvision's ``FashionMNIST`` reads the uncompressed idx files."""
    return Path(root) / TORCHVISION_FOLDER / "raw"


def missing_files(root: Path) -> list[str]:
    return [name for name in RAW_FILES if not (raw_dir(root) / name).is_file()]


def debian_present(source: Path | None = None) -> bool:
    """The Debian package's gzip'd idx files are installed in ``source`` (default ``DEBIAN_DIR``, read
    at call time); a run copies them into its data folder."""
    return all((Path(source or DEBIAN_DIR) / f"{name}.gz").is_file() for name in RAW_FILES)


def how_to_get(root: Path) -> str:
    """The two ways to provide the files (the loader's error, the preflight and the plan say it)."""
    return (f"Install the Debian package (offline mirror or network), then rerun; the files are copied into "
            f"{raw_dir(root)}:\n    {APT_COMMAND}\nor download them with torchvision (network):\n    {FETCH_COMMAND}")


def problem(root: Path, source: Path | None = None) -> str | None:
    """None when a run can read the files (present, or the Debian package to copy them from); else why not."""
    if not missing_files(root) or debian_present(source):
        return None
    return f"no Fashion-MNIST in {raw_dir(root)} and no Debian package in {source or DEBIAN_DIR}. {how_to_get(root)}"
