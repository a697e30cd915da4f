"""``python -m lib.run``: papermill, with the run's parameters checked before any kernel starts.

    .venv/bin/python -m lib.run notebooks/train_cifar100.ipynb results/scratch/run.ipynb --log-output \\
        -p control_mode adaptive -p seed 1

Takes exactly papermill's command line. For a training notebook (``notebooks/train_<task>.ipynb``)
it first reads the parameters the way papermill will (``-f`` files, ``-y`` YAML, ``-p`` values
typed as papermill types them, ``-r`` raw strings, in papermill's order) and resolves them with
``lib.config`` and ``lib.data.ready``, importing neither papermill nor torch: a misspelled
parameter, a value outside its choices or missing thesis data ends here, in well under a second,
with one line (the parameter, what is allowed, what was given; or the command that fetches the
data) and exit status 2. Otherwise it hands the same arguments to papermill's own command line.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

from lib import config
from lib.notebook import check_parameters

EXIT_BAD_PARAMETER = 2
# papermill options that take one value, and the ones that take two (name, value)
_ONE = {"-f", "--parameters_file", "-y", "--parameters_yaml", "-b", "--parameters_base64", "-k", "--kernel",
        "-l", "--language", "--cwd", "--engine", "--log-level", "--start-timeout", "--start_timeout",
        "--execution-timeout", "--stdout-file", "--stderr-file", "--autosave-cell-every"}
_TWO = {"-p", "--parameters", "-r", "--parameters_raw"}


def papermill_value(text: str) -> Any:
    """A ``-p`` value typed as papermill's command line types it (``papermill.cli._resolve_type``)."""
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_arguments(argv: list[str]) -> tuple[str | None, dict[str, Any], bool]:
    """(notebook path, parameters in papermill's precedence, --help-notebook given) from papermill's argv."""
    import yaml

    help_notebook, i, positional = False, 0, []
    base64s, files, yamls, plain, raw = [], [], [], [], []
    while i < len(argv):
        arg = argv[i]
        if arg in _TWO and i + 2 < len(argv):
            (plain if arg in ("-p", "--parameters") else raw).append((argv[i + 1], argv[i + 2]))
            i += 3
            continue
        if arg in _ONE and i + 1 < len(argv):
            value = argv[i + 1]
            if arg in ("-f", "--parameters_file"):
                files.append(value)
            elif arg in ("-y", "--parameters_yaml"):
                yamls.append(value)
            elif arg in ("-b", "--parameters_base64"):
                base64s.append(value)
            i += 2
            continue
        if arg == "--help-notebook":
            help_notebook = True
        elif not arg.startswith("-"):
            positional.append(arg)
        i += 1
    notebook = positional[0] if positional else None
    params: dict[str, Any] = {}
    for text in base64s:
        params.update(yaml.safe_load(base64.b64decode(text)) or {})
    for path in files:
        params.update(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    for text in yamls:
        params.update(yaml.safe_load(text) or {})
    params.update({name: papermill_value(value) for name, value in plain})
    params.update(dict(raw))
    return notebook, params, help_notebook


def output_folder(argv: list[str]) -> Path | None:
    """The folder of the output notebook (papermill's second argument), when one is given."""
    positional = [a for i, a in enumerate(argv) if not a.startswith("-")
                  and not (i and (argv[i - 1] in _ONE or argv[i - 1] in _TWO))
                  and not (i > 1 and argv[i - 2] in _TWO)]
    return Path(positional[1]).expanduser().parent if len(positional) > 1 and positional[1] != "-" else None


def training_task(notebook: str | None) -> str | None:
    """``cifar100`` for ``.../train_cifar100.ipynb``; None for any other notebook."""
    if notebook is None:
        return None
    stem = Path(notebook).stem
    task = stem.removeprefix("train_")
    return task if stem.startswith("train_") and task in config.TASK_CONFIGS else None


def preflight(argv: list[str]) -> str | None:
    """The one-line problem with the parameters of this papermill command line, or None."""
    notebook, params, help_notebook = read_arguments(argv)
    task = training_task(notebook)
    if task is None or help_notebook:
        return None
    try:
        check_parameters(task, params)
    except (config.ConfigError, FileNotFoundError) as exc:
        return f"{Path(notebook).name}: {exc}"
    folder = output_folder(argv)
    if folder is not None and not folder.is_dir():
        return f"output notebook: the folder {folder} does not exist; create it first (mkdir -p {folder})"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    problem = preflight(argv)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_PARAMETER
    from papermill.cli import papermill

    return papermill.main(argv, prog_name="papermill")


if __name__ == "__main__":
    sys.exit(main())
