"""Fake RunResults for the analysis tests, with the key set of the one declaration
(``lib/results/runresult.py``), so that a fake cannot drift from what runs write.

``run_result`` gives a complete record: every thesis key (``keys="thesis"``: the thesis
archive's records, protocol 7.2) or every key a run of this project writes (``keys="all"``).
Values a test does not give are derived where the protocol defines them from others (best and
final accuracy and the epoch count from ``val_accuracies``) and null otherwise ("not part of
this test"; the analysis reads null like a missing value). A key the declaration does not know
is an error. ``legacy_record`` is the explicit exception: an older runner's record that lacks
some keys on purpose.
"""

from __future__ import annotations

from typing import Any

from lib.results.runresult import KEYS, THESIS_KEYS, keys_for


def run_result(task: str, *, keys: str = "thesis", noisy: bool = False, **values: Any) -> dict[str, Any]:
    """A complete fake RunResult of ``task``; ``values`` set keys by name."""
    declared = THESIS_KEYS if keys == "thesis" else keys_for(task, noisy)
    unknown = set(values) - declared
    if unknown:
        raise KeyError(f"{sorted(unknown)} are not {keys} RunResult keys of {task} in lib/results/runresult.py")
    val = values.get("val_accuracies")
    derived = {"task_name": task}
    if val:
        derived.update(best_val_accuracy=max(val), final_val_accuracy=val[-1], total_epochs=len(val))
    return {k.name: values.get(k.name, derived.get(k.name)) for k in KEYS if k.name in declared}


def legacy_record(task: str, *, missing: tuple[str, ...], **values: Any) -> dict[str, Any]:
    """An older runner's record: ``run_result`` without the ``missing`` keys."""
    record = run_result(task, **values)
    for key in missing:
        del record[key]
    return record
