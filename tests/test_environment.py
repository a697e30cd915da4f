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
