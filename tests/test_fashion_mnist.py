"""Fashion-MNIST as the CIFAR task's real-image testbed: the idx reader, the image adaptation, the
balanced subsets, the asymmetric map, the config parameter, and the real installed files."""

from __future__ import annotations

import gzip
import struct
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from lib import config
from lib.data import fashion_mnist_files as fmf
from lib.data import ready
from lib.data import fashion_mnist as fm
from lib.noise import (FASHION_MNIST_GROUP_CYCLES, FASHION_MNIST_SUCCESSOR, FASHION_MNIST_TO_GROUP,
                       apply_cifar_label_noise)

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _idx_bytes(array: np.ndarray) -> bytes:
    """An idx file: two zero bytes, type 0x08 (uint8), the number of dimensions, big-endian sizes."""
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + \
        array.astype(np.uint8).tobytes()


def _tiny_split(rng: np.random.Generator, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.repeat(np.arange(10), per_class)
    rng.shuffle(labels)
    return rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8), labels


def _write(folder: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]], *, gz: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split, (images, labels) in splits.items():
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            data = _idx_bytes(array)
            name = f"{split}-{kind}-ubyte"
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)


@pytest.fixture
def tiny() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    return {"train": _tiny_split(rng, 4), "t10k": _tiny_split(rng, 2)}


def _check_round_trip(arrays, tiny) -> None:
    x_train, y_train = tiny["train"]
    idx = np.array(arrays.source["train_indices"])
    assert arrays.train_targets == y_train[idx].tolist()
    assert Counter(arrays.train_targets) == {c: 2 for c in range(10)}  # balanced: 20 / 10 classes
    imgs = arrays.train_images
    assert imgs.dtype == torch.uint8 and tuple(imgs.shape) == (20, 3, 32, 32)
    assert torch.equal(imgs[:, 0], imgs[:, 1]) and torch.equal(imgs[:, 0], imgs[:, 2])  # grey in 3 channels
    assert torch.equal(imgs[:, 0, 2:30, 2:30], torch.from_numpy(x_train[idx]))  # the pixels, centred
    assert int(imgs[:, :, :2].sum()) == int(imgs[:, :, 30:].sum()) == int(imgs[:, :, :, :2].sum()) == 0
    assert arrays.test_targets == tiny["t10k"][1][np.array(arrays.source["test_indices"])].tolist()
    assert arrays.fine_names == CLASSES and arrays.num_classes == 10


def test_reader_round_trip_from_raw_idx(tmp_path, tiny):
    _write(fm.raw_dir(tmp_path), tiny, gz=False)
    arrays = fm.load_fashion_mnist(tmp_path, n_train=20, n_test=10, source=tmp_path / "no-package")
    _check_round_trip(arrays, tiny)
    assert arrays.source["split_sizes"] == {"train": 40, "test": 20}
    again = fm.load_fashion_mnist(tmp_path, n_train=20, n_test=10, source=tmp_path / "no-package")
    assert again.source["train_indices"] == arrays.source["train_indices"]  # the same subset every run


def test_reader_decompresses_the_package_files(tmp_path, tiny):
    package = tmp_path / "usr-share"
    _write(package, tiny, gz=True)
    root = tmp_path / "data"
    arrays = fm.load_fashion_mnist(root, n_train=20, n_test=10, source=package)
    _check_round_trip(arrays, tiny)
    assert sorted(p.name for p in fm.raw_dir(root).iterdir()) == sorted(fm.RAW_FILES)


def test_missing_files_name_both_ways_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        fm.load_fashion_mnist(tmp_path, n_train=10, n_test=10, source=tmp_path / "no-package")
    text = str(err.value)
    assert fm.APT_COMMAND in text and "--fetch-fashion-mnist" in text and "train-images-idx3-ubyte" in text


def test_balanced_indices_refuse_sizes_that_cannot_balance():
    labels = np.repeat(np.arange(10), 3)
    with pytest.raises(ValueError, match="multiple of 10"):
        fm.balanced_indices(labels, 15)
    with pytest.raises(ValueError, match="fewer than"):
        fm.balanced_indices(labels, 40)


# The documented asymmetric map (docs/protocol.md, the real-image miniature).
DOCUMENTED = {"T-shirt/top": "Shirt", "Shirt": "Pullover", "Pullover": "Coat", "Coat": "T-shirt/top",
              "Sandal": "Sneaker", "Sneaker": "Ankle boot", "Ankle boot": "Sandal",
              "Trouser": "Dress", "Dress": "Bag", "Bag": "Trouser"}


def test_asymmetric_map_is_the_documented_one():
    assert {CLASSES[c]: CLASSES[s] for c, s in enumerate(FASHION_MNIST_SUCCESSOR)} == DOCUMENTED
    assert sorted(FASHION_MNIST_SUCCESSOR) == list(range(10))  # a permutation ...
    assert all(s != c for c, s in enumerate(FASHION_MNIST_SUCCESSOR))  # ... without fixed points
    for c, s in enumerate(FASHION_MNIST_SUCCESSOR):  # within the group
        assert FASHION_MNIST_TO_GROUP[c] == FASHION_MNIST_TO_GROUP[s]
    assert list(FASHION_MNIST_GROUP_CYCLES) == ["upper_body_garments", "footwear", "other"]


@pytest.mark.parametrize("kind", ["asymmetric", "symmetric"])
def test_label_noise_on_ten_classes(kind):
    targets = list(np.repeat(np.arange(10), 50))
    noisy, meta = apply_cifar_label_noise(targets, kind, 0.4, seed=3, dataset="fashion-mnist")
    assert meta.num_corrupted == 200 and sum(a != b for a, b in zip(targets, noisy)) == 200
    changed = [(targets[i], noisy[i]) for i in meta.corrupted_indices]
    assert all(0 <= new < 10 and new != old for old, new in changed)
    if kind == "asymmetric":
        assert all(new == FASHION_MNIST_SUCCESSOR[old] for old, new in changed)
    else:
        assert len({new for _, new in changed}) == 10  # spread over all classes
    with pytest.raises(ValueError, match="0..9"):
        apply_cifar_label_noise([10], kind, 0.4, seed=0, dataset="fashion-mnist")


def test_config_dataset_parameter():
    assert config.resolve("cifar100", "thesis").dataset == "cifar100"
    thesis = config.resolve("cifar100", "thesis")
    assert (thesis.data_standin, thesis.model_width, thesis.epochs) == (False, 64, 200)
    mini = config.resolve("cifar100", "mini")
    assert (mini.dataset, mini.data_standin, mini.standin_n_train) == ("cifar100", True, 512)
    fmnist = config.resolve("cifar100", "mini-fmnist")
    assert (fmnist.dataset, fmnist.data_standin, fmnist.fmnist_n_train, fmnist.fmnist_n_test) == \
        ("fashion-mnist", False, 500, 1000)
    assert (fmnist.batch_size, fmnist.precision, fmnist.episode_length) == (mini.batch_size, mini.precision,
                                                                            mini.episode_length)
    assert config.resolve("sst2", "mini-fmnist") == config.resolve("sst2", "mini")  # SST-2 as in mini
    ag, ag_mini = config.resolve("agnews", "mini-fmnist"), config.resolve("agnews", "mini")
    assert (ag.standin_n_train, ag_mini.standin_n_train) == (6000, 2400)  # 600 validation articles, not 240
    assert (ag.epochs, ag.lr, ag.episode_length) == (ag_mini.epochs, ag_mini.lr, ag_mini.episode_length)
    with pytest.raises(config.ConfigError, match="dataset: must be one of cifar100, fashion-mnist"):
        config.resolve("cifar100", "mini", {"dataset": "mnist"})
    with pytest.raises(config.ConfigError, match="data_standin: must be false with dataset 'fashion-mnist'"):
        config.resolve("cifar100", "mini", {"dataset": "fashion-mnist"})
    with pytest.raises(config.ConfigError, match="fmnist_n_train: must be a multiple of 10"):
        config.resolve("cifar100", "mini-fmnist", {"fmnist_n_train": 505})
    with pytest.raises(config.ConfigError, match="fmnist_n_test: must be a multiple of 10 in"):
        config.resolve("cifar100", "mini-fmnist", {"fmnist_n_test": 20_000})


def _real_files_or_skip(tmp_path: Path) -> Path:
    """The project's copy when present, else the installed Debian package's files copied to tmp."""
    from lib import DATA_DIR

    root = DATA_DIR / "fashion-mnist"
    if not fm.missing_files(root):
        return root
    if fm.install_from_debian(tmp_path):
        return tmp_path
    pytest.skip(f"real Fashion-MNIST absent: no idx files in {fm.raw_dir(root)} and no Debian package in "
                f"{fm.DEBIAN_DIR} (install: {fm.APT_COMMAND})")


def test_real_fashion_mnist_files(tmp_path):
    root = _real_files_or_skip(tmp_path)
    x, y = fm.read_split(root, train=True)
    xt, yt = fm.read_split(root, train=False)
    assert (x.shape, xt.shape) == ((60_000, 28, 28), (10_000, 28, 28))
    assert Counter(y.tolist()) == {c: 6000 for c in range(10)} and Counter(yt.tolist()) == {c: 1000 for c in range(10)}
    arrays = fm.load_fashion_mnist(root, n_train=500, n_test=1000)
    assert Counter(arrays.train_targets) == {c: 50 for c in range(10)}
    assert tuple(arrays.test_images.shape) == (1000, 3, 32, 32)
    # Real images: mean grey level of each class differs (trousers are narrow, coats are big).
    means = [float(arrays.train_images[torch.tensor(arrays.train_targets) == c].float().mean()) for c in range(10)]
    assert max(means) - min(means) > 20


def _row(task: str, **config_values) -> dict:
    from lib.analysis.load import row_of
    from tests.runresult_factory import run_result

    record = run_result(task, keys="all", val_accuracies=[0.5, 0.6], seed=0, method_name="AdamW",
                        config={"profile": "mini-fmnist", "seed": 0, **config_values})
    return row_of(record)


def test_analysis_label_comes_from_the_recorded_dataset():
    import pandas as pd

    from lib.analysis.build import STANDIN_LABEL, Runs, data_label
    from lib.vocab import CIFAR_TASK_DATASETS

    fmnist = {**_row("cifar100", dataset="fashion-mnist", data_standin=False), "path": "a.json"}
    older = {**_row("cifar100", data_standin=True), "path": "b.json"}  # a run from before the key: CIFAR-100
    nlp = {**_row("sst2", data_standin=True), "path": "c.json"}
    assert (fmnist["dataset"], older["dataset"], nlp["dataset"]) == ("fashion-mnist", "cifar100", "sst2")
    label = CIFAR_TASK_DATASETS["fashion-mnist"].label
    assert label == "Fashion-MNIST, real images, 10 classes — a stand-in for CIFAR-100, not thesis numbers"
    assert data_label(pd.DataFrame([fmnist])) == label
    assert data_label(pd.DataFrame([older, nlp])) == STANDIN_LABEL
    runs = Runs(pd.DataFrame([fmnist, nlp]))
    assert runs.label == f"{label}; other tasks: {STANDIN_LABEL}" and runs.standin
    assert runs.label_for(["a.json"]) == label and runs.label_for(["c.json"]) == STANDIN_LABEL
    thesis = {**_row("cifar100", data_standin=False), "path": "d.json"}
    assert data_label(pd.DataFrame([thesis])) is None and not Runs(pd.DataFrame([thesis])).standin


def test_training_phases_on_tiny_files(tmp_path, tiny, monkeypatch):
    """The CIFAR task end to end on Fashion-MNIST-shaped files: 10 outputs, the asymmetric map, the records."""
    from lib.train import cifar as T

    _write(fm.raw_dir(tmp_path / "fashion-mnist"), tiny, gz=False)
    monkeypatch.setattr(T, "DATA_DIR", tmp_path)
    cfg = config.resolve("cifar100", "mini-fmnist", {
        "fmnist_n_train": 40, "fmnist_n_test": 20, "epochs": 2, "model_width": 4, "precision": "fp32",
        "label_noise_type": "asymmetric", "label_noise_rate": 0.5, "checkpoint_every": 0,
        "output": str(tmp_path / "run.json")})
    run = T.start(cfg)
    T.load_data(run)
    T.build_model(run)
    T.build_optimization(run)
    T.fit(run)
    result = T.finish(run)
    assert run.model.fc.out_features == 10
    c = result["config"]
    assert (c["dataset"], c["data_standin"], c["data_dir"]) == ("fashion-mnist", False, "data/fashion-mnist")
    assert result["dataset_name"].startswith("Fashion-MNIST (real images") and result["task_name"] == "cifar100"
    assert c["data_source"]["n_train"] == 40 and len(c["data_source"]["test_indices"]) == 20
    noise = c["diagnostics"]["label_noise"]
    assert noise["num_corrupted_examples"] == 20
    assert all(noise["noisy_targets"][i] == FASHION_MNIST_SUCCESSOR[noise["original_targets"][i]]
               for i in noise["corrupted_indices"])
    assert len(result["val_accuracies"]) == 2


def test_preflight_says_how_to_get_the_files(tmp_path, monkeypatch):
    from lib import preflight

    monkeypatch.setattr(fmf, "DEBIAN_DIR", tmp_path / "no-package")
    (item,) = [it for it in preflight.preflight("mini-fmnist", data_dir=tmp_path) if it.name == "fashion-mnist"]
    assert not item.ok and fm.APT_COMMAND in item.message and fm.FETCH_COMMAND in item.message
    cfg = config.resolve("cifar100", "mini-fmnist")  # the plan's check before any run starts says the same
    assert fm.APT_COMMAND in ready.missing("cifar100", cfg, data_dir=tmp_path)
    _write(fm.raw_dir(tmp_path / "fashion-mnist"), {"train": _tiny_split(np.random.default_rng(0), 1),
                                                     "t10k": _tiny_split(np.random.default_rng(1), 1)}, gz=False)
    (item,) = [it for it in preflight.preflight("mini-fmnist", data_dir=tmp_path) if it.name == "fashion-mnist"]
    assert item.ok
    assert ready.missing("cifar100", cfg, data_dir=tmp_path) is None
    assert [it.name for it in preflight.preflight("mini", data_dir=tmp_path)] == ["profile"]  # mini needs nothing


def test_the_files_module_names_torchvisions_folder():
    """The torch-free module spells the folder torchvision's FashionMNIST reads (lib.data.fashion_mnist_files)."""
    from torchvision.datasets import FashionMNIST

    assert fmf.TORCHVISION_FOLDER == FashionMNIST.__name__ and fm.raw_dir(Path("r")) == Path("r/FashionMNIST/raw")
