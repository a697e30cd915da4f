"""How each remote resource of the ``thesis`` profile is prepared, and the error when one is missing.

The caching protocol of docs/guide.md (thesis profile, step 2) in one place, so that a missing piece is
reported by the loaders and by ``make preflight`` with the command that provides it:

* CIFAR-100: fetched into ``data/cifar100`` by torchvision (``make prepare-thesis``; a run without it stops
  before touching anything, ``lib.data.ready``);
* the tokenizer and the raw data sets: the pretokenize runs (one per data set, and one more for
  noisy AG News) fetch them and write the tokenized caches;
* the DistilBERT weights: fetched into ``.hf_cache`` (the ``cache_dir`` of the runs) by
  ``snapshot_download``, or by the guide's one-epoch warm-up run.

``make prepare-thesis`` runs all of them once on a machine with network.
"""

from __future__ import annotations

from lib.vocab import AGNEWS_NOISY

PAPERMILL = ".venv/bin/papermill"
ONLINE = "HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0"
ALL = "make prepare-thesis"

# One pretokenize run per data set (keys: lib.vocab.data_key).
PRETOKENIZE = {
    "sst2": f"{ONLINE} {PAPERMILL} notebooks/train_sst2.ipynb results/scratch/sst2_pretokenize.ipynb "
            "-p profile thesis -p pretokenize_only True",
    "agnews": f"{ONLINE} {PAPERMILL} notebooks/train_agnews.ipynb results/scratch/agnews_pretokenize.ipynb "
              "-p profile thesis -p pretokenize_only True",
    AGNEWS_NOISY: f"{ONLINE} {PAPERMILL} notebooks/train_agnews.ipynb "
                    "results/scratch/agnews_noise20_pretokenize.ipynb -p profile thesis "
                    "-p pretokenize_only True -p label_noise_rate 0.2",
}
# The model files into the cache the runs read (cache_dir=.hf_cache: models--* directly under it,
# not under HF_HOME/hub), without the guide's one-epoch warm-up run.
WARM_MODEL = ("HF_HUB_OFFLINE=0 .venv/bin/python -c \"from huggingface_hub import snapshot_download; "
              "snapshot_download('distilbert-base-uncased', cache_dir='.hf_cache', "
              "allow_patterns=['*.json', '*.txt', '*.safetensors'])\"")
FETCH_CIFAR = "HF_HUB_OFFLINE=0 .venv/bin/python -m lib.preflight --fetch-cifar"


class MissingResource(FileNotFoundError):
    """A resource of the thesis profile is neither cached nor reachable; says how to prepare it."""

    def __init__(self, what: str, where: str, command: str, detail: str = ""):
        self.what, self.where, self.command = what, where, command
        super().__init__(f"{what} is not available in {where} and cannot be downloaded here"
                         f"{f' ({detail})' if detail else ''}. Prepare it once on a machine with network "
                         f"(docs/guide.md, 'Thesis profile'):\n    {command}\nor all at once:\n    {ALL}")


__all__ = ["PRETOKENIZE", "WARM_MODEL", "FETCH_CIFAR", "ALL", "MissingResource"]
