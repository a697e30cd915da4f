"""Where Hugging Face libraries keep their caches: ``.hf_cache/`` in the repository, as the thesis
runner set it (values already in the environment win).

``huggingface_hub``, ``datasets`` and ``transformers`` read these variables once, when they are
first imported, so :func:`use_project_hf_cache` must run before that: the text training notebooks
call it first in their configure cell, ``tests/conftest.py`` at its top. :func:`check_hf_cache`
(called by ``lib.train.text.start``) stops a run whose HF libraries were imported without it.
``TRANSFORMERS_CACHE`` is set for parity with the thesis; transformers 5 reads
``HF_HOME``/``HF_HUB_CACHE`` instead. Every HF call of ``lib`` also passes its ``cache_dir``.
"""

from __future__ import annotations

import os

from lib import HF_CACHE_DIR


def use_project_hf_cache() -> None:
    """Set the cache variables to ``.hf_cache/`` unless they are set already."""
    os.environ.setdefault("HF_HOME", str(HF_CACHE_DIR))
    os.environ.setdefault("HF_DATASETS_CACHE", str(HF_CACHE_DIR / "datasets"))
    os.environ.setdefault("HUGGINGFACE_HUB_CACHE", str(HF_CACHE_DIR / "hub"))
    os.environ.setdefault("TRANSFORMERS_CACHE", str(HF_CACHE_DIR / "transformers"))


def check_hf_cache() -> None:
    """The imported HF libraries use the cache the environment names, else an error naming the fix."""
    import datasets.config
    import huggingface_hub.constants

    seen = {"HF_HOME": huggingface_hub.constants.HF_HOME,
            "HF_DATASETS_CACHE": str(datasets.config.HF_DATASETS_CACHE)}
    wrong = {k: v for k, v in seen.items() if os.environ.get(k) != v}
    if wrong:
        raise RuntimeError(f"Hugging Face caches {wrong} differ from the environment "
                           f"({ {k: os.environ.get(k) for k in wrong} }): call "
                           "lib.hf_cache.use_project_hf_cache() before anything imports "
                           "datasets / transformers (the text training notebooks do it first)")
