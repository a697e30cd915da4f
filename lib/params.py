"""Names of run parameters that several rooms must agree on (no imports: cheap to load).

``RESULT_NEUTRAL_FIELDS``: where a run writes its output, runs and finds its caches, and how
often it checkpoints. They never change a RunResult's numbers, so a checkpoint is resumed
(``lib.train.checkpoint``) and a finished run kept (``lib.grids.state``) when only they
differ. The speed options are not among them: ``precision=bf16``, ``channels_last`` and
``compile`` change the floating-point arithmetic and hence the numbers.
"""

RESULT_NEUTRAL_FIELDS = frozenset({"output", "checkpoint_every", "device", "cache_dir",
                                   "tokenized_dataset_dir", "local_files_only", "pretokenize_only"})

NOTEBOOK_ONLY = ("profile", "run_id")  # papermill parameters that are not config fields
