r"""Render the thesis artifacts of an archive into ``figures/<chapter>/`` with a provenance index,
from the command line (``make figures``) or in a notebook (``show``: write, index, display).

    ctx = open_archive("results/mini")     # load once; says what the archive is
    show(ctx, "T1")                         # build, write .tex+.csv (.png+.pdf), index row, display
    python -m lib.analysis.render figures [--archive DIR] [--out DIR]   # every artifact (make figures)

``figures/index.csv`` has one row per artifact: ``id, kind, path, status, inputs_sha256,
code_sha256, archive`` (+ ``profile, n_runs, title, note``). ``status`` is ``ok``,
``partial`` (rendered from the rows that have runs; ``note`` lists the rest) or
``missing-runs`` (nothing written). ``inputs_sha256`` hashes the bytes of the sorted
input files, ``code_sha256`` the analysis code and reference numbers that drew it
(``code_sha256()``): content hashes, not a commit SHA, so that the committed
``figures/`` rebuilt on a fresh clone are byte-identical. Output goes to ``figures/``
unless ``$AEES_FIGURES_DIR`` or ``out`` says otherwise (the tests use this to leave the
tree alone). Every table and figure of runs not on the thesis data carries the data label of
``lib.analysis.build.data_label`` ("offline stand-in — not thesis numbers", or the real-image
testbed's "Fashion-MNIST, real images, 10 classes — a stand-in for CIFAR-100, not thesis numbers").
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lib import FIGURES_DIR, ROOT, repo_path, shown_path
from lib.analysis.build import Built, Runs
from lib.analysis.display import alt_text, show_figure, show_table
from lib.analysis.load import inputs_sha256, load_archive, row_columns
from lib.analysis.plots import mark_standin
from lib.analysis.reference import compare
from lib.analysis.registry import REGISTRY, artifact_ids
from lib.analysis.style import atomic_write_text, to_latex
from lib.vocab import CHAPTERS

ENV_OUT = "AEES_FIGURES_DIR"
INDEX = "index.csv"
INDEX_COLUMNS = ["id", "kind", "path", "status", "inputs_sha256", "code_sha256", "archive", "profile", "n_runs",
                 "title", "note"]
SUFFIXES = {"table": (".tex", ".csv"), "figure": (".png", ".pdf")}


def write_text(path: Path, text: str) -> Path:
    """Atomic write (``style.atomic_write_text``); returns the path."""
    atomic_write_text(path, text)
    return path


def rel_to(path: str | Path, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(path)


def rel(path: Path) -> str:
    """``path`` relative to the repository root when inside it (stable across machines)."""
    return shown_path(path)


@dataclass
class Context:
    """One archive opened for rendering."""

    archive: Path
    out: Path
    runs: Runs
    code_sha: str
    built: dict[str, Built] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return rel(self.archive)

    @property
    def standin(self) -> bool:
        return self.runs.standin

    @property
    def label(self) -> str | None:
        """The archive's data label (``lib.analysis.build.data_label``); None on the thesis data."""
        return self.runs.label

    def label_for(self, built: Built) -> str | None:
        """The data label of the runs one artifact read."""
        return self.runs.label_for(built.inputs)

    @property
    def profile(self) -> str:
        df = self.runs.df
        return "+".join(sorted(set(df["profile"]))) if len(df) else "empty"

    def describe(self) -> str:
        df = self.runs.df
        kind = self.label or ("no runs" if df.empty else "not a stand-in")
        skipped = sorted(rel_to(p, self.archive) for p, _ in df.attrs.get("skipped", []))
        more = f" (+{len(skipped) - 3})" if len(skipped) > 3 else ""
        return (f"archive {self.name}: {len(df)} run{'' if len(df) == 1 else 's'}, profile {self.profile} ({kind})"
                + (f"; skipped (not RunResult JSON): {', '.join(skipped[:3])}{more}" if skipped else ""))


CODE_FILES = ("lib/vocab.py", "lib/analysis/**/*.py", "reference/thesis-results/**/*")


def code_sha256() -> str:
    """SHA-256 over the analysis code and the thesis reference numbers (``CODE_FILES``): path and bytes of each
    file, in sorted path order. Unlike the git SHA it does not change with unrelated commits or a dirty tree."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in CODE_FILES for p in ROOT.glob(pattern) if p.is_file()})
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def resolve_out(figures: str | Path | None = None) -> Path:
    """Output root: ``figures`` if given, else ``$AEES_FIGURES_DIR``, else ``figures/`` (relative to the repo)."""
    value = figures or os.environ.get(ENV_OUT) or FIGURES_DIR
    return repo_path(value)


def open_archive(archive: str | Path = "results/mini", figures: str | Path | None = None) -> Context:
    """Load ``archive`` (relative to the repo root, or absolute); a missing directory is an empty archive."""
    path = repo_path(archive)
    if path.exists():
        quiet = logging.getLogger("lib.analysis")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # skipped files are listed by ``describe``, once, relative to the archive
        try:
            df = load_archive(path)
        finally:
            quiet.setLevel(level)
    else:
        df = pd.DataFrame(columns=list(row_columns()) + ["path", "relpath", "duplicate", "duplicate_of"])
        df.attrs.update(skipped=[], ignored=[])
    return Context(path, resolve_out(figures), Runs(df), code_sha256())


def build(ctx: Context, art: str) -> Built:
    """The builder result of one artifact (cached per context)."""
    if art not in REGISTRY:
        raise KeyError(f"unknown artifact {art!r}; known: {', '.join(artifact_ids())}")
    if art not in ctx.built:
        ctx.built[art] = REGISTRY[art].build(ctx.runs)
    return ctx.built[art]


def _table_csv(built: Built, label: str | None) -> str:
    table = built.cells.copy()
    if built.styles is not None:
        for col in built.styles.columns:
            if built.styles[col].astype(bool).any():
                table[f"{col}_style"] = built.styles[col]
    if label:
        table["provenance"] = label
    return table.to_csv(index=False)


def artifact_base(ctx: Context, art: str) -> Path:
    """``<out>/<chapter>/<name>``: the artifact's files without their suffix."""
    spec = REGISTRY[art]
    return ctx.out / spec.chapter / spec.name


def index_row(ctx: Context, art: str) -> dict[str, object]:
    """The index row ``render`` writes for ``art``, computed without writing anything (``path`` filled in
    unless the status is ``missing-runs``)."""
    spec, built = REGISTRY[art], build(ctx, art)
    status, paths = built.status, sorted(set(built.inputs))
    if (built.figure if spec.kind == "figure" else built.cells) is None:  # runs found, nothing drawable in them
        status, paths = "missing-runs", []
    path = "" if status == "missing-runs" else rel(artifact_base(ctx, art).with_suffix(SUFFIXES[spec.kind][0]))
    return {"id": art, "kind": spec.kind, "path": path, "status": status,
            "inputs_sha256": inputs_sha256(paths) if paths else "", "code_sha256": ctx.code_sha, "archive": ctx.name,
            "profile": ctx.profile, "n_runs": len(paths), "title": spec.title,
            "note": "; ".join(([f"missing: {', '.join(built.missing)}"] if built.missing else []) + built.notes)}


def render(ctx: Context, art: str) -> dict[str, object]:
    """Write one artifact's files (stale ones removed first) and return its index row."""
    spec, built = REGISTRY[art], build(ctx, art)
    base = artifact_base(ctx, art)
    for suffix in SUFFIXES[spec.kind]:
        base.with_suffix(suffix).unlink(missing_ok=True)
    row = index_row(ctx, art)
    if row["status"] == "missing-runs":
        return row
    base.parent.mkdir(parents=True, exist_ok=True)
    label = ctx.label_for(built)
    if spec.kind == "table":
        caption = spec.title + (f" ({label})" if label else "")
        tex = to_latex(built.cells, built.styles, caption=caption.replace("%", "\\%"),
                       label=spec.label or f"tab:{spec.name}", column_format="l" * built.cells.shape[1])
        write_text(base.with_suffix(".tex"), tex + "\n")
        write_text(base.with_suffix(".csv"), _table_csv(built, label))
    else:
        fig = mark_standin(built.figure, label)
        fig.savefig(base.with_suffix(".png"), dpi=150)
        fig.savefig(base.with_suffix(".pdf"), metadata={"CreationDate": None, "ModDate": None})
    row["path"] = rel(base.with_suffix(SUFFIXES[spec.kind][0]))
    return row


def write_index(out: Path, rows: list[dict[str, object]]) -> Path:
    """Merge ``rows`` into ``out/index.csv`` (one row per artifact id, thesis order)."""
    path = out / INDEX
    new = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    if path.exists():
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
        new = pd.concat([old[~old["id"].isin(new["id"])], new.astype(str)], ignore_index=True)
    order = {a: i for i, a in enumerate(artifact_ids())}
    new = new.sort_values("id", key=lambda s: s.map(lambda a: order.get(a, len(order))), kind="stable")
    write_text(path, new[INDEX_COLUMNS].to_csv(index=False))
    return path


def show(ctx: Context, art: str) -> None:
    """Render one artifact, update the index, and show it in the notebook (one line when missing)."""
    spec = REGISTRY[art]
    row = render(ctx, art)
    write_index(ctx.out, [row])
    built = build(ctx, art)
    if row["status"] == "missing-runs":
        print(f"{art} {spec.title}: no runs in {ctx.name} (index: missing-runs)")
        return
    files = "{" + ",".join(s[1:] for s in SUFFIXES[spec.kind]) + "}"
    runs = f"{row['n_runs']} run" + ("" if row["n_runs"] == 1 else "s")
    print(f"{art}: {row['status']}, {runs} -> {spec.chapter}/{spec.name}.{files}")
    for note in ([f"missing: {', '.join(built.missing)}"] if built.missing else []) + built.notes:
        print(f"  {note}")
    label = ctx.label_for(built)
    if spec.kind == "table":
        show_table(built.cells, built.styles, caption=f"{art}. {spec.title}", uid=art, standin_label=label)
    else:
        show_figure(mark_standin(built.figure, label), alt_text(built.figure, f"{art}. {spec.title}", label))


def show_archive(ctx: Context) -> None:
    """The archive line and, for a stand-in archive, the stand-in banner (first cell of every notebook)."""
    print(ctx.describe())
    if ctx.standin:
        from IPython.display import Markdown, display
        display(Markdown(f"**⚠ {ctx.label}.** The runs of this archive were not trained on the thesis data "
                         "sets; they check the pipeline and show behaviour, they are not the thesis results."))


def chapter_status(ctx: Context, chapter: str) -> pd.DataFrame:
    """Status of every artifact of a chapter (as last built in this context)."""
    rows = [{"id": a, "kind": REGISTRY[a].kind, "status": build(ctx, a).status, "title": REGISTRY[a].title}
            for a in artifact_ids(chapter)]
    return pd.DataFrame(rows)


def reproduction(ctx: Context, table: str) -> pd.DataFrame:
    """Thesis vs archive numbers of one table (``reference.compare``)."""
    return compare(table, build(ctx, table).numbers)


def show_reproduction(ctx: Context, table: str) -> None:
    """Print the thesis numbers beside the archive's, with deltas; one line when the archive has none."""
    spec, built = REGISTRY[table], build(ctx, table)
    cmp = reproduction(ctx, table)
    label = f" [{ctx.label}]" if ctx.label else ""
    if built.status == "missing-runs":
        print(f"{table} {spec.title}: no runs in {ctx.name}; {len(cmp)} published numbers not compared{label}")
        return
    matched = cmp["archive"].notna() & cmp["thesis"].notna()
    print(f"{table} {spec.title}: {int(matched.sum())} of {int(cmp['thesis'].notna().sum())} published numbers "
          f"have an archive counterpart{label}")
    shown = cmp[cmp["archive"].notna()].copy()
    for col in ("thesis", "archive", "delta"):
        shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    for col in ("n_thesis", "n_archive"):
        shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else str(int(v)))
    show_table(shown, None, caption=f"{table}. {spec.title}: thesis vs archive (delta = archive − thesis)",
               uid=f"R{table}", standin_label=ctx.label)


def show_chapter_status(ctx: Context, chapter: str) -> None:
    """``chapter_status`` as a table."""
    show_table(chapter_status(ctx, chapter), None, caption=f"Status of the {chapter} artifacts in {ctx.name}",
               uid=f"S{chapter}", standin_label=ctx.label)


def write_reproduction(ctx: Context, tables: list[str]) -> Path:
    """All comparisons in one CSV: ``reproduction/reproduction.csv`` under the output root."""
    frames = [reproduction(ctx, t).assign(table=t) for t in tables]
    df = pd.concat(frames, ignore_index=True)
    df.insert(0, "table", df.pop("table"))
    df["archive_name"] = ctx.name
    df["standin"] = ctx.standin
    path = ctx.out / "reproduction" / "reproduction.csv"
    write_text(path, df.to_csv(index=False))
    return path


def render_all(ctx: Context, ids: list[str] | None = None) -> pd.DataFrame:
    """Render every (or the given) artifact and write the index; returns the index rows."""
    rows = [render(ctx, a) for a in (ids or artifact_ids())]
    write_index(ctx.out, rows)
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.analysis.render", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["figures"], help="figures: every table and figure of the archive")
    parser.add_argument("--archive", default="results/mini", help="RunResult directory (default results/mini)")
    parser.add_argument("--out", default=None, help=f"output root (default figures/, or ${ENV_OUT})")
    parser.add_argument("--only", default="", help="comma-separated artifact ids or chapters "
                                                   f"({', '.join(CHAPTERS)})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    start = time.perf_counter()
    ctx = open_archive(args.archive, args.out)
    wanted = [w for w in args.only.split(",") if w]
    ids = [a for a in artifact_ids() if not wanted or a in wanted or REGISTRY[a].chapter in wanted]
    unknown = [w for w in wanted if w not in REGISTRY and w not in CHAPTERS]
    if unknown:
        parser.error(f"--only: unknown {unknown}; use artifact ids ({', '.join(artifact_ids())}) or chapters")
    print(ctx.describe())
    index = render_all(ctx, ids)
    for r in index.itertuples():
        print(f"{r.id:>4} {r.status:<12} {r.path or '-'}")
    counts = index["status"].value_counts().to_dict()
    print(f"{len(index)} artifacts ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}) -> "
          f"{rel(ctx.out / INDEX)} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
