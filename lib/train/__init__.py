"""Training: one loop for every task, per-task adapters, checkpoints, RunResults.

``lib.train.loop`` is the loop (epochs, the train pass, the AEES step via ``build_control``,
evaluation, best epoch, checkpoint); ``lib.train.cifar`` (CIFAR-100 / ResNet-18) and
``lib.train.text`` (SST-2 and AG News / DistilBERT) supply their data, forward pass,
evaluation and scheduler unit, in the notebook phases start, load_data, build_model,
build_optimization, fit, finish; ``*_result`` build their RunResult. ``lib.train.state`` is
the run state they share, ``lib.train.checkpoint`` the atomic per-epoch checkpoints and
bit-exact resume, ``lib.train.common`` the small shared helpers.
"""
