"""Training loops, evaluation, per-epoch metrics and diagnostics, checkpoints, per task.

``lib.train.cifar`` (CIFAR-100 / ResNet-18) and ``lib.train.text`` (SST-2 and AG News /
DistilBERT) run one experiment in the notebook phases start, load_data, build_model,
build_optimization, fit, finish; ``*_result`` build its RunResult. ``lib.train.common`` holds
what both share (seeding, device, the AEES-aware step, the RunResult core, saving);
``lib.train.checkpoint`` the atomic per-epoch checkpoints and bit-exact resume; ``lib.train.guard``
the output-path checks and the per-run lock taken at ``start``; ``lib.train.progress`` the
progress bar within long epochs.
"""
