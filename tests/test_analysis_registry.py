"""The artifact table (lib.analysis.registry) is the one list of artifacts: every id once, every chapter
known, every builder a function of a builder module, and every table a grid names has a builder."""

import inspect

from lib.analysis import build
from lib.analysis.registry import ARTIFACTS, REGISTRY, artifact_ids, input_grids
from lib.grids.definitions import GRIDS
from lib.vocab import CHAPTERS


def test_the_table_lists_every_artifact_once_in_report_order():
    ids = [s.id for s in ARTIFACTS]
    assert ids == artifact_ids() and len(set(ids)) == len(ids) == len(REGISTRY)
    assert sum(i.startswith("T") for i in ids) == 24 and sum(i.startswith("F") for i in ids) == 16
    assert {s.chapter for s in ARTIFACTS} == set(CHAPTERS)
    assert [a for c in CHAPTERS for a in artifact_ids(c)] == sorted(ids, key=lambda i: CHAPTERS.index(REGISTRY[i].chapter))
    assert len({(s.chapter, s.name) for s in ARTIFACTS}) == len(ARTIFACTS)  # one file stem per artifact


def test_nothing_registers_itself():
    """No registration by import: the builder modules hold plain functions and no registry of their own."""
    assert not hasattr(build, "REGISTRY") and not hasattr(build, "artifact")
    for spec in ARTIFACTS:
        fn = getattr(spec.build, "func", spec.build)  # C1's builder is given the table of builders
        assert inspect.isfunction(fn) and fn.__module__.startswith("lib.analysis."), spec.id


def test_every_table_a_grid_names_has_a_builder():
    named = {t for g in GRIDS.values() for row in (*g.cells, *g.aliases) for t in row.tables}
    assert named and named <= set(REGISTRY), sorted(named - set(REGISTRY))
    assert "cifar-clean" in input_grids("T1") and input_grids("C1") == ()
