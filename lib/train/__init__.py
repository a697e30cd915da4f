"""Training loops, evaluation, per-epoch metrics and diagnostics, per task.

``lib.train.cifar``: the CIFAR-100 run in notebook phases (start, load_data, build_model,
build_optimization, fit, finish). ``lib.train.common``: seeding, device, the AEES-aware step.
"""
