"""Training: one loop for every task, per-task adapters, checkpoints, RunResults.

``lib.train.loop`` is the loop (epochs, the train pass, the AEES step of ``run.stepper`` from
``lib.control.wiring.build_control``, evaluation, best epoch, checkpoint); ``lib.train.cifar`` (CIFAR-100 / ResNet-18) and
``lib.train.text`` (SST-2 and AG News / DistilBERT) supply their data, forward pass,
evaluation and scheduler unit, in the notebook phases start, load_data, build_model,
build_optimization, fit, finish; ``*_result`` add their task's keys to the RunResult core of
``lib.results.runresult``. ``lib.train.state`` is the run state they share,
``lib.train.checkpoint`` the atomic per-epoch checkpoints and bit-exact resume,
``lib.train.preempt`` the stop on request (Slurm time limit or preemption: checkpoint, stop,
resume), ``lib.train.guard`` the output-path checks and the per-run lock taken at ``start``,
``lib.train.progress`` the progress bar within long epochs, ``lib.train.live`` the live record
``make runs-status`` reads, ``lib.train.board`` the TensorBoard scalars, ``lib.train.explore`` the short
runs of the exploration notebook, ``lib.train.common`` seeding, device, autocast, the FLOP
probe, subset accuracies and the epoch timer (the bench uses them too).
``lib.train.thesis_machinery`` and ``lib.train.thesis_loop`` are ``machinery=thesis``, a variant of each
adapter's task (``thesis_machinery.variant``): the thesis runner's data loaders, optimizer objects,
training step and evaluation reads, for timing runs the way it did.
"""
