# Thesis-profile readiness (lib.rehearse, lib.preflight): included by the Makefile (PY, PAPERMILL, setup).
#
#   make rehearse                    # every thesis grid's first run on the offline replica, capped (CPU, minutes)
#   make rehearse DEVICE=cuda        # the same on a GPU: the first thing to run on a GPU machine
#   make preflight PROFILE=thesis    # GPU, data, caches, disk, GPU-hours estimate; one line per missing piece
#   make prepare-thesis              # with network: CIFAR-100, the tokenized caches and the model cache

DEVICE ?= cpu
REHEARSE_JOBS ?= $(if $(filter cpu,$(DEVICE)),2,1)
REHEARSE_ARGS ?=

.PHONY: rehearse preflight prepare-thesis fashion-mnist

## rehearse: the thesis path end to end offline at full size on a replica, capped runs (CPU, minutes)
#   the thesis path end to end offline at full size (replica in a temporary dir), capped
#   runs, checks; results refused by the analysis. Report: results/rehearse/latest.json
rehearse: setup
	$(if $(filter cpu,$(DEVICE)),OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1}) \
	  $(PY) -m lib.rehearse --device $(DEVICE) --jobs $(REHEARSE_JOBS) $(REHEARSE_ARGS)

## preflight: is this machine ready for PROFILE (GPU, data, caches, disk, GPU-hours)?
preflight: setup
	$(PY) -m lib.preflight --profile $(PROFILE)

## fashion-mnist: the real Fashion-MNIST files into data/fashion-mnist (PROFILE=mini-fmnist)
#   from the Debian package dataset-fashion-mnist when installed, else torchvision's download (network)
fashion-mnist: setup
	$(PY) -m lib.preflight --fetch-fashion-mnist

## prepare-thesis: fetch and cache everything the thesis profile needs (network required)
prepare-thesis: setup
	HF_HUB_OFFLINE=0 $(PY) -m lib.preflight --fetch-cifar
	HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0 $(PAPERMILL) notebooks/train_sst2.ipynb results/scratch/sst2_pretokenize.ipynb -p profile thesis -p pretokenize_only True
	HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0 $(PAPERMILL) notebooks/train_agnews.ipynb results/scratch/agnews_pretokenize.ipynb -p profile thesis -p pretokenize_only True
	HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0 $(PAPERMILL) notebooks/train_agnews.ipynb results/scratch/agnews_noise20_pretokenize.ipynb -p profile thesis -p pretokenize_only True -p label_noise_rate 0.2
	HF_HUB_OFFLINE=0 $(PY) -c "from huggingface_hub import snapshot_download; snapshot_download('distilbert-base-uncased', cache_dir='.hf_cache', allow_patterns=['*.json', '*.txt', '*.safetensors'])"
