"""The layers of ``lib`` import one way, the light modules stay light, and imports sit at the head of a
module but for a few that say why.

(a) No import cycle: the graph of ``lib``'s imports, read with ``ast`` from every file, module-level
and function-level imports alike, has no cycle between two packages (``lib.data`` <-> ``lib.replica``)
and none between two modules. (b) Every module imports in a fresh interpreter, and the modules that
the grid runner, the output guard, RunResult building and the analysis rely on being cheap never
import torch (a blocker in ``sys.meta_path`` refuses it and names the importer).
"""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lib import ROOT

LIB = ROOT / "lib"
TORCH_FREE = (
    "lib.vocab", "lib.profiles", "lib.params", "lib.atomic", "lib.config", "lib.config_values", "lib.config_match",
    "lib.noise", "lib.run", "lib.data.ready",
    "lib.data.prepare", "lib.data.replica_marker", "lib.replica", "lib.preflight",
    "lib.results.runresult", "lib.results.io", "lib.train.guard", "lib.train.preempt", "lib.train.live",
    "lib.grids", "lib.grids.cells", "lib.grids.definitions", "lib.grids.plan", "lib.grids.state",
    "lib.grids.runner", "lib.grids.slurm", "lib.watch", "lib.rehearse",
    "lib.analysis", "lib.analysis.registry", "lib.analysis.render", "lib.analysis.incremental",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(LIB.rglob("*.py"))}


def owner(name: str) -> str | None:
    """The lib module that ``import name`` loads (``lib.x.y.attr`` -> ``lib.x.y``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path) -> set[str]:
    """Every lib module that ``path`` imports, at any depth of the file (functions included)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(owner(a.name) for a in node.names if a.name.split(".")[0] == "lib")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "lib":
            subs = [f"{node.module}.{a.name}" for a in node.names]
            out.update(s for s in subs if s in MODULES)  # `from lib.x import y`: the submodule y
            if not all(s in MODULES for s in subs):
                out.add(owner(node.module))
    out.discard(None)
    return out


def graph(level: int | None) -> dict[tuple[str, str], str]:
    """Import edges between lib's modules (``level=None``) or its packages ``lib.<x>`` (``level=2``),
    each with one module import that makes it."""
    cut = (lambda m: ".".join(m.split(".")[:level])) if level else (lambda m: m)
    edges: dict[tuple[str, str], str] = {}
    for name, path in MODULES.items():
        for target in imports_of(path):
            if cut(name) != cut(target):
                edges.setdefault((cut(name), cut(target)), f"{name} -> {target}")
    return edges


def cycle(edges: dict[tuple[str, str], str]) -> list[str]:
    """One import cycle, as the imports that close it, or [] when there is none."""
    deps: dict[str, set[str]] = {}
    for a, b in edges:
        deps.setdefault(a, set()).add(b)
    try:
        graphlib.TopologicalSorter(deps).prepare()
    except graphlib.CycleError as exc:
        nodes = exc.args[1]  # [n0, n1, ..., n0]: each imported by the next
        return [edges[(b, a)] for a, b in zip(nodes, nodes[1:])]
    return []


@pytest.mark.parametrize("level", [2, None], ids=["packages", "modules"])
def test_no_import_cycle(level: int | None) -> None:
    assert cycle(graph(level)) == []


def test_the_graph_sees_function_level_imports(tmp_path: Path) -> None:
    """The reader counts an import inside a function: a cycle made that way would be found."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from lib.grids.state import check_file\n    import lib.vocab\n")
    assert imports_of(f) == {"lib.grids.state", "lib.vocab"}
    assert sorted(cycle({("lib.train", "lib.grids"): "t -> g", ("lib.grids", "lib.train"): "g -> t"})) == \
        ["g -> t", "t -> g"]


MAX_FUNCTION_LEVEL_IMPORTS = 5


def function_level_imports(path: Path) -> list[tuple[int, bool]]:
    """(line, says why) of every import of the project's own modules inside a function of ``path``: why is a
    comment on the import's line or on the line above it."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found: dict[int, bool] = {}
    for fn in ast.walk(ast.parse(text)):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            own = (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "lib" for a in node.names)) or \
                (isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").split(".")[0] == "lib"))
            if own:
                here, above = lines[node.lineno - 1], lines[node.lineno - 2] if node.lineno > 1 else ""
                found[node.lineno] = "#" in here or above.strip().startswith("#")
    return sorted(found.items())


def test_function_level_imports_are_few_and_each_says_why() -> None:
    """An import inside a function hides a dependency from the reader of the module's head; each one is
    there for a reason (keeping torch, pandas or transformers out of a light import) that a comment gives."""
    found = {f"{path.relative_to(ROOT)}:{line}": why for path in MODULES.values()
             for line, why in function_level_imports(path)}
    assert len(found) <= MAX_FUNCTION_LEVEL_IMPORTS, sorted(found)
    assert [place for place, why in found.items() if not why] == []


def test_the_count_sees_nested_and_relative_imports(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("import lib.vocab\n\ndef f():\n    def g():\n        from lib import config\n"
                 "    # why\n    from . import x\n    import json\n")
    assert function_level_imports(f) == [(5, False), (7, True)]


def test_vocab_imports_nothing_of_the_project() -> None:
    tree = ast.parse((LIB / "vocab.py").read_text(encoding="utf-8"))
    top = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    top |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert top <= {"__future__", "typing"}


BLOCK_TORCH = """
import importlib, json, sys, traceback
asked = {}
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            asked.setdefault(current, "".join(traceback.format_stack(limit=12)))
            raise ImportError("torch is blocked in this test")
        return None
sys.meta_path.insert(0, NoTorch())
errors = {}
for current in json.loads(sys.argv[1]):
    try:
        importlib.import_module(current)
    except Exception as exc:
        errors[current] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"asked": asked, "errors": errors}))
"""


def run_python(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                            "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_light_modules_never_import_torch() -> None:
    out = run_python(BLOCK_TORCH, json.dumps(list(TORCH_FREE)))
    assert out["asked"] == {}, "\n\n".join(f"{m} imports torch:\n{s}" for m, s in out["asked"].items())
    assert out["errors"] == {}


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    names = [m for m in MODULES if not m.endswith("__main__")]
    code = ("import importlib, json, sys\nerrors = {}\nfor m in json.loads(sys.argv[1]):\n"
            "    try:\n        importlib.import_module(m)\n"
            "    except Exception as exc:\n        errors[m] = f'{type(exc).__name__}: {exc}'\n"
            "print(json.dumps(errors))")
    assert run_python(code, json.dumps(names)) == {}
