"""RunResult JSON IO (protocol §7.1): plain-JSON conversion, secret scrubbing, atomic write.

``save_run_result`` converts recursively (dataclasses and mappings -> dicts with str
keys, tuples -> lists, numpy/torch scalars -> Python numbers, arrays/tensors -> lists,
Paths and anything else -> str), lifts ``run_tag`` from the config, always recomputes
``runtime_metrics``, and writes ``json.dumps(indent=2, sort_keys=True) + "\\n"`` through a
temporary ``.<name>.<random>.tmp`` in the target directory (fsync, then ``os.replace``).
A failed save leaves the target as it was and no temporary file behind.

Secrets never reach disk: keys named in ``SECRET_KEYS`` are dropped at any depth (the
thesis wrote ``config.hf_token`` into every NLP JSON), and the serialized text is
checked for the value of ``HF_TOKEN`` as a last guard.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Mapping

from lib.atomic import write_text_atomic
from lib.results.runtime import build_runtime_metrics

__all__ = ["SECRET_KEYS", "to_jsonable", "save_run_result", "load_run_result"]

SECRET_KEYS = frozenset({"hf_token", "token", "use_auth_token", "api_key", "password"})
SECRET_ENV_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
MIN_GUARDED_SECRET_LENGTH = 8


def _is_secret_key(key: str) -> bool:
    return key.lower() in SECRET_KEYS


def to_jsonable(value: Any) -> Any:
    """Recursively convert ``value`` to plain JSON data, dropping ``SECRET_KEYS`` at any depth."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items() if not _is_secret_key(str(k))}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    module = type(value).__module__.split(".")[0]
    if module in ("numpy", "torch") and hasattr(value, "tolist"):
        return to_jsonable(value.tolist())  # scalars -> numbers, arrays/tensors -> lists
    return str(value)


def _run_tag_from_config(result: Mapping[str, Any]) -> str | None:
    config = result.get("config")
    tag = config.get("run_tag") if isinstance(config, Mapping) else None
    return tag if isinstance(tag, str) else None


def _check_no_env_secret(text: str) -> None:
    for name in SECRET_ENV_VARS:
        secret = os.environ.get(name, "")
        if len(secret) >= MIN_GUARDED_SECRET_LENGTH and secret in text:
            raise ValueError(
                f"refusing to write a run result: the value of environment variable {name} "
                "appears in it (remove the field holding the token)"
            )


def run_result_text(result: Any) -> str:
    """The exact text ``save_run_result`` writes for ``result`` (converted, scrubbed, metrics recomputed)."""
    converted = to_jsonable(result)
    if not isinstance(converted, dict):
        raise TypeError(f"result must be a dict or dataclass, got {type(result).__name__}")
    if "run_tag" not in converted:
        converted["run_tag"] = _run_tag_from_config(converted)
    converted["runtime_metrics"] = build_runtime_metrics(converted)
    text = json.dumps(converted, indent=2, sort_keys=True) + "\n"
    _check_no_env_secret(text)
    return text


def save_run_result(result: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``result`` (dict or dataclass) to ``path`` as RunResult JSON, atomically; return the path.

    The input is never mutated; a stale ``runtime_metrics`` in it is replaced in the file.
    """
    target = Path(path)
    text = run_result_text(result)  # every failure of conversion happens before touching disk
    write_text_atomic(target, text)
    return target


def load_run_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read one RunResult JSON; errors name the file (missing, unreadable, truncated, not an object)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"run result not found: {source}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read run result {source}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"run result {source} is not valid JSON (truncated or corrupted?): {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"run result {source} must hold a JSON object, got {type(data).__name__}")
    return data
