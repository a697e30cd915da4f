"""The explicit id -> builder table agrees with the builders' own registrations and the grids."""

from lib.analysis.build import REGISTRY, artifact_ids
from lib.analysis.registry import BUILDERS
from lib.grids.definitions import GRIDS


def test_registry_lists_every_registered_builder_once():
    assert list(BUILDERS) == artifact_ids()
    assert {i: REGISTRY[i].build for i in REGISTRY} == BUILDERS
    assert sum(i.startswith("T") for i in BUILDERS) == 24 and sum(i.startswith("F") for i in BUILDERS) == 16


def test_every_table_a_grid_names_has_a_builder():
    named = {t for g in GRIDS.values() for row in (*g.cells, *g.aliases) for t in row.tables}
    assert named and named <= set(BUILDERS), sorted(named - set(BUILDERS))
