"""The ``runtime_metrics.hardware`` block (protocol §9.2), collected in the saving process.

torch is imported lazily here only, so ``import lib.results`` stays light. The CPU
path never fails: without CUDA the GPU fields are 0 / [] / None.
"""

from __future__ import annotations

import platform
import socket
import sys
from typing import Any, Mapping

__all__ = ["collect_hardware", "HARDWARE_KEYS", "PRECISION_VALUES"]

HARDWARE_KEYS = (
    "hostname",
    "platform",
    "python_version",
    "torch_version",
    "cuda_available",
    "torch_cuda_version",
    "cudnn_version",
    "gpu_count",
    "gpu_names",
    "gpu_total_memory_mb",
    "current_device_index",
    "current_device_name",
    "device_from_config",
    "num_workers_from_config",
    "pin_memory_from_config",
    "mixed_precision_from_config",
    "bf16_from_config",
    "fp16_from_config",
)

# Beyond the thesis: a ``precision`` config key fills the mixed-precision fields.
PRECISION_VALUES = {"fp32": (False, False), "bf16": (True, True)}  # -> (mixed_precision, bf16)


def _bool_or_none(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _precision_flags(config: Mapping[str, Any]) -> tuple[bool | None, bool | None]:
    """(mixed_precision, bf16) from explicit bool keys, else from ``precision``, else None."""
    mixed, bf16 = _bool_or_none(config.get("mixed_precision")), _bool_or_none(config.get("bf16"))
    precision = config.get("precision")
    if precision is not None:
        if precision not in PRECISION_VALUES:
            raise ValueError(
                f"config key 'precision' must be one of {sorted(PRECISION_VALUES)}, got {precision!r}"
            )
        from_precision = PRECISION_VALUES[precision]
        mixed = from_precision[0] if mixed is None else mixed
        bf16 = from_precision[1] if bf16 is None else bf16
    return mixed, bf16


def _torch_block() -> dict[str, Any]:
    """System/GPU fields from torch; every CUDA query is guarded so CPU hosts never fail."""
    block: dict[str, Any] = {
        "torch_version": None,
        "cuda_available": False,
        "torch_cuda_version": None,
        "cudnn_version": None,
        "gpu_count": 0,
        "gpu_names": [],
        "gpu_total_memory_mb": [],
        "current_device_index": None,
        "current_device_name": None,
    }
    try:
        import torch
    except ImportError:
        return block
    block["torch_version"] = str(torch.__version__)
    block["torch_cuda_version"] = torch.version.cuda
    try:
        if torch.backends.cudnn.is_available():
            block["cudnn_version"] = torch.backends.cudnn.version()
    except Exception:  # noqa: BLE001 - a broken cuDNN install must not lose a run result
        block["cudnn_version"] = None
    try:
        cuda_available = bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        cuda_available = False
    block["cuda_available"] = cuda_available
    if not cuda_available:
        return block
    count = int(torch.cuda.device_count())
    block["gpu_count"] = count
    for index in range(count):
        try:
            props = torch.cuda.get_device_properties(index)
            name = str(getattr(props, "name", f"cuda:{index}"))
            memory = getattr(props, "total_memory", None)
            memory_mb = int(memory // (1024 * 1024)) if isinstance(memory, int) else 0
        except Exception:  # noqa: BLE001
            name, memory_mb = f"cuda:{index}", 0
        block["gpu_names"].append(name)
        block["gpu_total_memory_mb"].append(memory_mb)
    if count > 0:
        try:
            index = int(torch.cuda.current_device())
            block["current_device_index"] = index
            block["current_device_name"] = str(torch.cuda.get_device_name(index))
        except Exception:  # noqa: BLE001
            block["current_device_index"] = block["current_device_name"] = None
    return block


def collect_hardware(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the §9.2 hardware block (keys in ``HARDWARE_KEYS``) for this process and ``config``.

    ``gpu_names`` / ``gpu_total_memory_mb`` are per-GPU lists (MiB, 0 when unknown),
    as in the archived thesis JSONs. ``mixed_precision``/``bf16`` come from explicit
    bool config keys, else from ``config['precision']`` (fp32 | bf16), else null;
    ``fp16`` only from an explicit bool ``config['fp16']``.
    """
    config = config if isinstance(config, Mapping) else {}
    mixed, bf16 = _precision_flags(config)
    device = config.get("device")
    block: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python_version": sys.version.split()[0],
        **_torch_block(),
        "device_from_config": None if device is None else str(device),
        "num_workers_from_config": _int_or_none(config.get("num_workers")),
        "pin_memory_from_config": _bool_or_none(config.get("pin_memory")),
        "mixed_precision_from_config": mixed,
        "bf16_from_config": bf16,
        "fp16_from_config": _bool_or_none(config.get("fp16")),
    }
    return {key: block[key] for key in HARDWARE_KEYS}
