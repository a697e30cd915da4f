"""Plan a grid: runs, their state on disk, parameter files, make fragments, manifests.

One run = one parameter file (``<grid dir>/params/<run>.yaml``, papermill ``-f``) -> one
papermill execution -> ``<grid dir>/<run>.json`` + ``<run>.ipynb`` (+ ``<run>.log``).

A run is *finished* when its JSON is complete and records the grid's configuration
(``lib.grids.state``). Any other existing JSON is *stale*: the
fragment gives it a phony prerequisite so make reruns it (also under ``make -n``), and
the runner sets the old file aside (``.stale/``) before running again.

The per-grid fragment ``<grid dir>/runs.mk`` has one file target per run JSON whose recipe
is the papermill command (through ``python -m lib.grids exec``), so make skips finished
runs, ``make -n`` prints the commands and ``make -j N`` runs N at a time.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lib import RESULTS_DIR, ROOT
from lib.grids import manifest
from lib.grids.cells import (GridError, RunSpec, notebook_for, order_params,
                             repeat_tag, run_name)
from lib.grids.definitions import GRIDS
from lib.data import ready
from lib.grids.state import check_file, expected_config, rel, rel_command, resolved_config
from lib import config

DEFAULT_PY = ".venv/bin/python"
PAPERMILL_ARGS = "-m papermill --kernel aees --log-output --no-progress-bar"
RERUN = "_grids_rerun"


def select_grids(names: str | Iterable[str]) -> list[str]:
    """Grid names from ``"all"`` or names separated by spaces/commas, validated, in GRIDS order."""
    words = names.replace(",", " ").split() if isinstance(names, str) else list(names)
    if not words:
        raise GridError(f"GRID: give a grid name or 'all'; known: {', '.join(GRIDS)}")
    if "all" in words:
        return list(GRIDS)
    unknown = [w for w in words if w not in GRIDS]
    if unknown:
        raise GridError(f"GRID: unknown grid(s) {', '.join(unknown)}; known: all, {', '.join(GRIDS)}")
    return [g for g in GRIDS if g in words]


def parse_seeds(text: str | Iterable[int] | None) -> tuple[int, ...] | None:
    """``"0 1 2"`` / ``"0,1"`` -> (0, 1, 2); None or empty -> None (the grid's default)."""
    if text is None:
        return None
    words = text.replace(",", " ").split() if isinstance(text, str) else [str(s) for s in text]
    if not words:
        return None
    try:
        seeds = tuple(int(w) for w in words)
    except ValueError:
        raise GridError(f"SEEDS: expected integers separated by spaces, got {text!r}") from None
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise GridError(f"SEEDS: expected distinct non-negative integers, got {text!r}")
    return seeds


def _selects_all(names: str | Iterable[str]) -> bool:
    words = names.replace(",", " ").split() if isinstance(names, str) else list(names)
    return "all" in words


def seeds_for(grid_name: str, profile: str, seeds: tuple[int, ...] | None) -> tuple[int, ...]:
    grid = GRIDS[grid_name]
    return grid.default_seeds(profile) if seeds is None or grid.fixed_seeds else seeds


class MissingParent(GridError):
    """A derived cell's parent run (same seed) is not finished yet."""


def peak_epoch(val_accuracies: list[float]) -> int:
    """The 1-based epoch of the first maximum of the validation accuracies (protocol 1.6)."""
    return max(range(len(val_accuracies)), key=lambda i: (val_accuracies[i], -i)) + 1


def derived_parameters(grid_name: str, cell_name: str, profile: str, seed: int,
                       results_dir: Path = RESULTS_DIR) -> dict[str, Any]:
    """``epochs`` and ``scheduler_t_max`` of a derived cell's run: the parent run's peak epoch
    (protocol 11.3: the re-run stops there and its schedule is compressed to it)."""
    parent_grid, parent_cell = GRIDS[grid_name].cell(cell_name).parent
    parent = cell_runs(parent_grid, parent_cell, profile, [seed], results_dir)[0]
    state, reason = check(parent)
    if state != "finished":
        raise MissingParent(
            f"{grid_name}: run {run_name(cell_name, seed)} is derived from the run {rel(parent.json)} of grid "
            f"{parent_grid}, which is not finished ({state}: {reason}); run `make runs GRID={parent_grid} "
            f"PROFILE={profile}` first (`make mini-archive` runs it first)")
    record = json.loads(parent.json.read_text(encoding="utf-8"))
    peak = peak_epoch(record["val_accuracies"])
    return {"epochs": peak, "scheduler_t_max": peak}


def cell_runs(grid_name: str, cell_name: str, profile: str, seeds: Iterable[int],
              results_dir: Path = RESULTS_DIR, parents: str = "require") -> list[RunSpec]:
    """The runs of one cell: one per seed (× timing repeat). A derived cell needs its finished
    parent runs (``MissingParent`` otherwise); ``parents="upper-bound"`` plans a run whose parent is
    missing with the parent's own length (run counts and time estimates, never for running)."""
    grid = GRIDS[grid_name]
    cell = grid.cell(cell_name)
    grid_dir = Path(results_dir) / profile / grid_name
    repeats = grid.n_repeats(profile)
    out = []
    for seed in seeds:
        derived = {}
        if cell.parent:
            try:
                derived = derived_parameters(grid_name, cell_name, profile, seed, results_dir)
            except MissingParent:
                if parents != "upper-bound":
                    raise
        for k in range(1, repeats + 1):
            name = run_name(cell.name, seed, k)
            params = {**cell.parameters(profile), **derived, "seed": seed}
            if grid.repeats:
                params["run_tag"] = repeat_tag(k)
            params = {"profile": profile, "run_id": f"{profile}/{grid_name}/{name}",
                      **order_params(params), "output": rel(grid_dir / f"{name}.json")}
            out.append(RunSpec(grid_name, name, cell.name, cell.task, profile, seed, k, params,
                               cell.label, cell.setting, cell.optimizer, grid_dir))
    return out


def grid_runs(grid_name: str, profile: str, seeds: tuple[int, ...] | None = None,
              results_dir: Path = RESULTS_DIR, parents: str = "require") -> list[RunSpec]:
    """Every run of a grid for ``profile`` (default seeds unless ``seeds``); ``parents``: see ``cell_runs``."""
    s = seeds_for(grid_name, profile, seeds)
    return [r for cell in GRIDS[grid_name].cells
            for r in cell_runs(grid_name, cell.name, profile, s, results_dir, parents)]


def alias_rows(grid_name: str, profile: str, seeds: tuple[int, ...] | None = None,
               results_dir: Path = RESULTS_DIR) -> list[tuple[dict[str, Any], RunSpec]]:
    """(alias row, the run it is) per alias and seed: how the analysis maps aliased rows."""
    s = seeds_for(grid_name, profile, seeds)
    rows = []
    for alias in GRIDS[grid_name].aliases:
        for target in cell_runs(alias.grid, alias.cell, profile, s, results_dir):
            rows.append(({"name": run_name(alias.name, target.seed, target.repeat), "label": alias.label,
                          "setting": alias.setting, "optimizer": alias.optimizer, "seed": target.seed,
                          "same_as": rel(target.json), "note": alias.note}, target))
    return rows


def check(spec: RunSpec) -> tuple[str, str]:
    return check_file(spec.json, spec.task, spec.profile, spec.parameters)


# --- plan files ---

def params_text(spec: RunSpec) -> str:
    head = (f"# {spec.grid} / {spec.name} (profile {spec.profile}): {spec.label}, {spec.setting}\n"
            "# papermill parameters (-f); written by `python -m lib.grids plan`\n")
    return head + yaml.safe_dump(spec.parameters, sort_keys=False, default_flow_style=None, allow_unicode=True)


def _check_path(path: str) -> str:
    if any(c.isspace() for c in path) or any(c in path for c in "$#:%"):
        raise GridError(f"path {path!r}: make targets cannot hold spaces or $ # : %")
    return path


def recipe(spec: RunSpec, notebook: Path, py: str = "$(PY)", papermill: str = "$(PAPERMILL)") -> str:
    """The shell command of one run (make variables by default)."""
    return (f"{py} -m lib.grids exec {_check_path(rel(spec.json))} -- {papermill} "
            f"{shlex.quote(rel(notebook))} {shlex.quote(rel(spec.executed_notebook))} "
            f"-f {shlex.quote(rel(spec.params_file))}")


def _rules(specs: list[RunSpec], rerun: set[Path], notebooks: Mapping[str, Path]) -> list[str]:
    lines = []
    for s in specs:
        target = rel(s.json)
        lines.append(f"{target}: {RERUN}" if s.json in rerun else f"{target}:")
        lines.append(f"\t{recipe(s, notebooks[s.task])}")
    return lines


FRAGMENT_HEAD = (f"PY ?= {DEFAULT_PY}\nPAPERMILL ?= $(PY) {PAPERMILL_ARGS}\n"
                 f".PHONY: {RERUN}\n{RERUN}:\n")


def fragment_text(grid_name: str, profile: str, specs: list[RunSpec], rerun: set[Path],
                  notebooks: Mapping[str, Path]) -> str:
    """The make fragment of one grid: goal ``grid-<name>`` and one rule per run JSON."""
    head = (f"# Grid {grid_name}, profile {profile}: {len(specs)} runs. Written by "
            "`python -m lib.grids plan` (make runs); regenerate, do not edit.\n")
    goal = f".PHONY: grid-{grid_name}\ngrid-{grid_name}:" + "".join(f" \\\n  {rel(s.json)}" for s in specs)
    return "\n".join([head + FRAGMENT_HEAD, goal, "", *_rules(specs, rerun, notebooks)]) + "\n"


@dataclass
class Plan:
    profile: str
    grids: list[str]
    runs: dict[str, list[RunSpec]]  # selected grid -> its runs
    extra: list[RunSpec]  # alias targets in grids that were not selected
    state: dict[Path, tuple[str, str]] = field(default_factory=dict)  # json -> (state, reason)
    rerun: set[Path] = field(default_factory=set)
    makefile: Path | None = None
    commands: dict[Path, str] = field(default_factory=dict)  # json -> the shell command of the run

    @property
    def all_runs(self) -> list[RunSpec]:
        return [s for specs in self.runs.values() for s in specs] + self.extra

    def todo(self) -> list[RunSpec]:
        """The runs make would run: not finished, stale or forced (LAUNCHER=slurm submits these)."""
        return [s for s in self.all_runs if s.json in self.rerun or self.state[s.json][0] != "finished"]


def _manifest_entry(spec: RunSpec, state: tuple[str, str], forced: bool, previous: dict | None,
                    command: str) -> dict[str, Any]:
    run = {"name": spec.name, "cell": spec.cell, "task": spec.task, "seed": spec.seed,
           "repeat": spec.repeat, "label": spec.label, "setting": spec.setting,
           "optimizer": spec.optimizer, "parameters": spec.parameters, "output": rel(spec.json),
           "executed_notebook": rel(spec.executed_notebook), "params_file": rel(spec.params_file),
           "log": rel(spec.log), "command": command}
    if state[0] == "finished" and not forced:
        return {**run, "status": "finished"}
    if (previous and previous.get("status") == "failed" and previous.get("parameters") == spec.parameters
            and state[0] == "missing" and not forced):
        return {**run, "status": "failed", "error": previous.get("error", ""),
                "exit_code": previous.get("exit_code"), "retry": previous.get("retry", command)}
    return {**run, "status": "pending", "reason": "FORCE=1" if forced else state[1]}


def _write_manifest(grid_name: str, p: Plan, specs: list[RunSpec], commands: dict[Path, str],
                    seeds: tuple[int, ...], results_dir: Path, forced: bool) -> None:
    grid = GRIDS[grid_name]
    grid_dir = Path(results_dir) / p.profile / grid_name
    aliases = []
    for row, target in alias_rows(grid_name, p.profile, seeds, results_dir):
        state = p.state.get(target.json) or check(target)
        aliases.append({**row, "status": "finished" if state[0] == "finished" else "pending"})
    # Runs of this grid that another grid's alias rows need beyond this grid's own seeds (an ablation's
    # seed-1 parent): the other grid's plan writes their rows here; a plan of this grid alone keeps them,
    # so the manifest does not depend on which grids were planned together.
    own = {s.name for s in specs}
    needed = {t.name for g in GRIDS for _, t in alias_rows(g, p.profile, None, results_dir)
              if t.grid == grid_name and t.name not in own}
    with manifest.locked(grid_dir):
        previous = manifest.read(grid_dir) or {}
        runs = [_manifest_entry(s, p.state[s.json], forced, manifest.entry(previous, s.name), commands[s.json])
                for s in specs]
        runs += [r for r in previous.get("runs", []) if r.get("name") in needed]
        listed = {Path(r["output"]).name for r in runs if r.get("output")}
        orphans = sorted(f.name for f in grid_dir.glob("*.json") if f.name not in listed and f.name != manifest.MANIFEST)
        manifest.write(grid_dir, {
            "grid": grid_name, "profile": p.profile, "title": grid.title, "seeds": list(seeds),
            "repeats": grid.n_repeats(p.profile), "runs": runs, "aliases": aliases,
            "unplanned_json": orphans, "regenerate": f"make runs GRID={grid_name} PROFILE={p.profile}",
            "generated_by": "python -m lib.grids plan"})


def plan(grids: str | Iterable[str], profile: str, *, seeds: str | Iterable[int] | None = None,
         force: bool = False, dry_run: bool = False, results_dir: Path = RESULTS_DIR,
         py: str = DEFAULT_PY, papermill: str | None = None, notebooks: Mapping[str, Path] | None = None,
         makefile: Path | None = None, check_data: bool = True) -> Plan:
    """Plan ``grids`` for ``profile``: check every run, write parameter files, fragments and
    (unless ``dry_run``: then nothing but ``makefile``) manifests; ``makefile``: also write the
    combined make file. ``check_data=False``: a plan that will not be run (a benchmark of the status)
    does not ask for the runs' data."""

    if profile not in config.PROFILES:
        raise GridError(f"PROFILE: must be one of {', '.join(config.PROFILES)}; got {profile!r}")
    names, seed_override = select_grids(grids), parse_seeds(seeds)
    results_dir = Path(results_dir)
    runs = {}
    for g in names:
        try:
            runs[g] = grid_runs(g, profile, seed_override, results_dir)
        except MissingParent as exc:
            if not _selects_all(grids):
                raise
            print(f"[grids] {g} left out of GRID=all for now: {exc}", file=sys.stderr)
    names = [g for g in names if g in runs]
    p = Plan(profile, names, runs, [])
    seen = {s.json for s in p.all_runs}
    for g in names:
        for _row, target in alias_rows(g, profile, seed_override, results_dir):
            if target.grid not in names and target.json not in seen:
                p.extra.append(target)
                seen.add(target.json)
    nbs = {t: Path(nb) for t, nb in (notebooks or {}).items()}
    for spec in p.all_runs:
        nbs.setdefault(spec.task, ROOT / notebook_for(spec.task))
        if not (ROOT / nbs[spec.task]).exists():
            raise GridError(f"{spec.grid}: the notebook of task {spec.task!r} is missing: {nbs[spec.task]}")
        expected_config(spec.task, profile, spec.parameters)  # a bad parameter fails here, before any run
        p.state[spec.json] = check(spec)
        if p.state[spec.json][0] in ("incomplete", "mismatch") or (force and spec.grid in names):
            p.rerun.add(spec.json)
    if check_data and not dry_run:  # missing data stop the plan with one line, before anything is written or started
        for spec in p.todo():
            problem = ready.missing(spec.task, resolved_config(spec.task, profile, spec.parameters))
            if problem:
                raise GridError(f"{spec.grid}: {problem}")
    py_cmd = rel_command(py)
    pm_cmd = rel_command(papermill) if papermill else f"{py_cmd} {PAPERMILL_ARGS}"
    commands = p.commands = {s.json: recipe(s, nbs[s.task], py_cmd, pm_cmd) for s in p.all_runs}
    if not dry_run:  # under make -n nothing is written into the results (the make file goes elsewhere)
        for spec in p.all_runs:
            manifest.write_if_changed(spec.params_file, params_text(spec))
        for g in names:
            manifest.write_if_changed(Path(results_dir) / profile / g / "runs.mk",
                                      fragment_text(g, profile, p.runs[g], p.rerun, nbs))
        for g in names:
            _write_manifest(g, p, p.runs[g], commands, seeds_for(g, profile, seed_override), results_dir, force)
        for spec in p.extra:
            prev = manifest.read(spec.grid_dir) or {}
            entry = _manifest_entry(spec, p.state[spec.json], False, manifest.entry(prev, spec.name),
                                    commands[spec.json])
            manifest.update(spec.grid_dir, lambda d, e=entry: manifest.set_run(d, e))
    if makefile is not None:
        p.makefile = Path(makefile)
        manifest.write_if_changed(p.makefile, combined_text(p, nbs, inline=dry_run))
    return p


def combined_text(p: Plan, notebooks: Mapping[str, Path], inline: bool = False) -> str:
    """The make file of one ``make runs`` call: the selected fragments (included, or with ``inline``
    written out, for a dry run that writes no fragment) plus alias targets."""
    includes = [(fragment_text(g, p.profile, specs, p.rerun, notebooks) if inline
                 else f"include {rel(specs[0].grid_dir / 'runs.mk')}") for g, specs in p.runs.items() if specs]
    extra = [rel(s.json) for s in p.extra]
    lines = [f"# make runs GRID={' '.join(p.grids)} PROFILE={p.profile}: written by `python -m lib.grids plan`.",
             FRAGMENT_HEAD, *includes, "", ".PHONY: runs", ".DEFAULT_GOAL := runs",
             "runs:" + "".join(f" grid-{g}" for g in p.grids) + "".join(f" \\\n  {t}" for t in extra), ""]
    if p.extra:
        lines += ["# runs of other grids that rows of the selected grids alias", *_rules(p.extra, p.rerun, notebooks)]
    return "\n".join(lines) + "\n"

