"""lib/hf_cache.py: the HF caches are set explicitly before the HF libraries are imported."""

import os

import datasets.config
import huggingface_hub.constants
import pytest

from lib import HF_CACHE_DIR
from lib.hf_cache import check_hf_cache, use_project_hf_cache


def test_conftest_set_the_cache_before_the_hf_imports():
    assert huggingface_hub.constants.HF_HOME == os.environ["HF_HOME"]
    assert str(datasets.config.HF_DATASETS_CACHE) == os.environ["HF_DATASETS_CACHE"]
    check_hf_cache()


def test_a_cache_set_after_the_imports_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match="use_project_hf_cache"):
        check_hf_cache()


def test_the_defaults_are_the_repo_cache_and_a_set_value_wins(monkeypatch):
    for name in ("HF_HOME", "HF_DATASETS_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_DATASETS_CACHE", "/elsewhere")
    use_project_hf_cache()
    assert os.environ["HF_HOME"] == str(HF_CACHE_DIR) and os.environ["HF_DATASETS_CACHE"] == "/elsewhere"
    assert os.environ["HUGGINGFACE_HUB_CACHE"] == str(HF_CACHE_DIR / "hub")
    assert os.environ["TRANSFORMERS_CACHE"] == str(HF_CACHE_DIR / "transformers")
