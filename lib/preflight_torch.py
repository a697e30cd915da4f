"""The parts of ``make preflight`` that need torch: Fashion-MNIST's files looked for and fetched,
CIFAR-100 fetched, one optimizer step of each thesis model timed. :mod:`lib.preflight` imports this
module only when it does one of these, so that its other checks stay torch-free."""

from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F

from lib.data import fashion_mnist as fm
from lib.data.cifar import ensure_cifar100
from lib.models import cifar_resnet18


def fetch_fashion_mnist(root: Path) -> None:
    """Into ``root``: the Debian package's files, else torchvision's download."""
    if fm.missing_files(root) and not fm.install_from_debian(root):
        fm.fetch(root)
    print(f"Fashion-MNIST ready in {fm.raw_dir(root)}")


def fetch_cifar(root: Path) -> None:
    arrays = ensure_cifar100(root, standin=False, download=True)
    print(f"CIFAR-100 ready in {root}: {len(arrays.train_targets)} / {len(arrays.test_targets)}")


def step_seconds(task: str, device: str, length: int) -> float:
    """Seconds of one optimizer step of the thesis model and batch on ``device`` (after one warm-up);
    ``length``: the padded sequence length of a text task's batch."""
    if task == "cifar100":
        model = cifar_resnet18(num_classes=100, width=64).to(device)
        x = torch.randn(128, 3, 32, 32, device=device)
        y = torch.zeros(128, dtype=torch.long, device=device)

        def loss():
            return F.cross_entropy(model(x), y)
    else:
        from transformers import DistilBertConfig, DistilBertForSequenceClassification

        model = DistilBertForSequenceClassification(DistilBertConfig(num_labels=4)).to(device)  # base size
        ids = torch.ones(16, length, dtype=torch.long, device=device)
        y = torch.zeros(16, dtype=torch.long, device=device)

        def loss():
            return model(input_ids=ids, labels=y).loss
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    times = []
    for _ in range(2):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss().backward()
        opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return times[-1]
