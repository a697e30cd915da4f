"""What ``make rehearse`` checks in a full-size RunResult; each check is (name, ok, detail)."""

from __future__ import annotations

import json
from typing import Any

from lib.results.flops import resnet18_train_flops
from lib.results.runresult import CIFAR_CONFIG_KEYS, EPISODE_KEYS, NLP_CONFIG_KEYS, keys_for
from lib.results.runresult import NOT_NLP_CONFIG_KEYS as NOT_NLP_KEYS

Check = tuple[str, bool, str]
AGNEWS_NOISY_TRAIN = 108_000  # 90 % of AG News' 120,000 training articles


def _keys(result: dict[str, Any], task: str) -> list[Check]:
    noisy = bool((result.get("config", {}).get("diagnostics") or {}).get("label_noise"))
    want, marks = keys_for(task, noisy), {"rehearsal", "replica"}
    have = set(result) - marks
    out = [("top-level keys (lib/results/runresult.py)", have == want,
            f"missing {sorted(want - have)}, undeclared {sorted(have - want)}")]
    config = result.get("config", {})
    wanted = CIFAR_CONFIG_KEYS if task == "cifar100" else NLP_CONFIG_KEYS
    out.append(("config keys", not wanted - set(config), f"missing {sorted(wanted - set(config))}"))
    if task != "cifar100":
        extra = NOT_NLP_KEYS & set(config)
        out.append(("no CIFAR-only keys in the NLP config", not extra, f"present {sorted(extra)}"))
    logs = result.get("episode_logs")
    if logs:
        out.append(("episode-log keys", not EPISODE_KEYS - set(logs), f"missing {sorted(EPISODE_KEYS - set(logs))}"))
    return out


def _marks(result: dict[str, Any]) -> list[Check]:
    steps = result.get("config", {}).get("rehearsal_max_steps")
    return [("marked as rehearsal", bool(steps) and "rehearsal" in result, f"rehearsal_max_steps={steps}"),
            ("marked as replica", "replica" in result and "(offline replica)" in result.get("dataset_name", ""),
             result.get("dataset_name", ""))]


def _flops(result: dict[str, Any], task: str) -> list[Check]:
    mf = result.get("measured_flops") or {}
    per_step = mf.get("measured_flops_per_step") or 0.0
    detail = f"estimated {result.get('estimated_flops', 0):.3e} (capped run), measured per step {per_step:.3e}"
    if task == "cifar100":
        batch = result["config"]["batch_size"]
        ratio = per_step / resnet18_train_flops(batch)
        detail += f", measured / thesis constant per step {ratio:.2f}"
    return [("FLOPs estimated and measured", result.get("estimated_flops", 0) > 0 and per_step > 0, detail)]


def _noise_block(result: dict[str, Any], task: str) -> list[Check]:
    block = (result.get("config", {}).get("diagnostics") or {}).get("label_noise")
    if block is None:
        return []
    size = len(json.dumps(block))
    n = block["num_train_examples"]
    want = AGNEWS_NOISY_TRAIN if task == "agnews" else n
    return [("label-noise block", n == want and block["num_corrupted_examples"] > 0,
             f"{n:,} examples, {block['num_corrupted_examples']:,} corrupted, {size:,} bytes of JSON")]


def check_result(result: dict[str, Any], task: str) -> list[Check]:
    """Every check of one rehearsal RunResult."""
    out = _keys(result, task) + _marks(result) + _flops(result, task) + _noise_block(result, task)
    out.append(("epochs and steps", len(result.get("val_accuracies", [])) == result.get("total_epochs"),
                f"{result.get('total_epochs')} epochs, {result.get('total_steps')} steps"))
    mem = result.get("peak_memory") or {}
    out.append(("peak memory recorded", "host_max_rss_mb" in mem,
                ", ".join(f"{k} {v:,.0f}" for k, v in mem.items())))
    return out


__all__ = ["Check", "check_result", "AGNEWS_NOISY_TRAIN"]
