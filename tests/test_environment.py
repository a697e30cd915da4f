"""environment.yml is the complete environment: pyproject.toml's exact pins, the project, the kernel."""

from __future__ import annotations

import re
import tomllib

from lib import ROOT


def _pip_section() -> list[str]:
    """The entries of environment.yml's pip section (a plain reader: no YAML library is pinned)."""
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    indent = len(lines[start + 1]) - len(lines[start + 1].lstrip())
    out = []
    for line in lines[start + 1:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(line) - len(line.lstrip()) < indent:
            break
        out.append(line.strip()[2:].strip())
    return out


def _pins(specs: list[str]) -> dict[str, str]:
    pins = {}
    for spec in specs:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", spec)
        assert m, f"not an exact pin: {spec!r}"
        pins[m.group(1).lower()] = m.group(2)
    return pins


def test_environment_pins_equal_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    entries = _pip_section()
    requirements = [e for e in entries if "==" in e]
    assert _pins(requirements) == _pins(project["dependencies"])
    assert entries[:2] == ["torch==2.14.1", "torchvision==0.29.1"] == [
        d for d in project["dependencies"] if d.startswith(("torch==", "torchvision=="))]
    assert "-e ." in entries and "./share/aees-kernel" in entries  # the project (editable) and its kernel
    python = re.search(r"^\s*-\s*python=(\S+)", (ROOT / "environment.yml").read_text(), re.M)
    assert python and project["requires-python"] == f">={python.group(1)},<3.12"


def test_kernel_package_installs_the_aees_kernel() -> None:
    kernel = tomllib.loads((ROOT / "share" / "aees-kernel" / "pyproject.toml").read_text())
    files = kernel["tool"]["setuptools"]["data-files"]
    assert files == {"share/jupyter/kernels/aees": ["kernel/kernel.json"]}
    spec = (ROOT / "share" / "aees-kernel" / "kernel" / "kernel.json").read_text()
    assert '"python", "-m", "ipykernel_launcher"' in spec
    ipykernel = _pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])["ipykernel"]
    assert kernel["project"]["dependencies"] == [f"ipykernel=={ipykernel}"]


def test_no_file_refers_outside_the_repository() -> None:
    """The specification is docs/protocol.md: no file points at a folder beside the checkout or at the checkout's
    absolute path.

    Run records under results/ are exempt: they record where they were produced."""
    import subprocess

    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    bad = []
    for name in files:
        path = ROOT / name
        if name.startswith("results/") or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for needle in ("../" + "shared", "shared/" + "reference", str(ROOT) + "/"):
            if needle in text:
                bad.append(f"{name}: {needle}")
    assert not bad, "references outside the repository:\n" + "\n".join(bad)


def _lock() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock: normalised name -> (version, hashes)."""
    text = (ROOT / "requirements.lock").read_text()
    out = {}
    for name, version, hashes in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)",
                                            text, re.M):
        out[_norm(name)] = (version, re.findall(r"sha256:([0-9a-f]{64})", hashes))
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_lock_pins_every_package_with_hashes_and_agrees_with_the_pins() -> None:
    text = (ROOT / "requirements.lock").read_text()
    entries = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9]", line)]
    lock = _lock()
    assert len(lock) == len(entries) and all(h for _, h in lock.values()), "an entry without --hash"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = [e for e in _pip_section() if "==" in e]
    for spec in project + env:
        name, version = spec.split("==")
        assert _norm(name) in lock, f"{name} is pinned but not in requirements.lock"
        assert lock[_norm(name)][0] == version, f"{name}: pinned {version}, locked {lock[_norm(name)][0]}"


def test_lock_is_the_installed_environment() -> None:
    """Every package installed here (but the project and pip's own tools) is locked, at its installed version."""
    from importlib.metadata import distributions

    lock = _lock()
    installed = {_norm(d.metadata["Name"]): d.version for d in distributions()}
    skip = {"aees-compendium", "pip", "aees-kernel"}
    missing = {n: v for n, v in installed.items() if n not in skip and lock.get(n, (None,))[0] != v}
    assert not missing, f"installed but not locked at this version: {missing}"


def test_make_setup_installs_the_lock_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes --no-deps -r requirements.lock" in makefile
    inputs = re.search(r"^SETUP_INPUTS = (.*)$", makefile, re.M)
    assert inputs and "requirements.lock" in inputs.group(1).split()
    assert re.search(r"^\$\(STAMP\): \$\(SETUP_INPUTS\)$", makefile, re.M)


def test_every_package_lib_imports_is_pinned() -> None:
    """A third-party module imported anywhere in lib/ belongs to a distribution pinned in pyproject.toml."""
    import ast
    import sys
    from importlib.metadata import packages_distributions

    modules = set()
    for path in (ROOT / "lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = sorted(m for m in modules if m not in sys.stdlib_module_names and m != "lib")
    pins = {_norm(s.split("==")[0]) for s in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    dists = packages_distributions()
    unpinned = {m: dists.get(m) for m in third_party if not {_norm(d) for d in dists.get(m, [])} & pins}
    assert not unpinned, f"imported by lib but not pinned in pyproject.toml: {unpinned}"
