"""lib.atomic: the one atomic writer (results, checkpoints, tables, manifests, stand-ins)."""

import os
import stat

import pytest

from lib.atomic import atomic_path, write_text_atomic


def test_write_replaces_whole_file_with_usual_permissions(tmp_path):
    target = tmp_path / "sub" / "r.json"
    assert write_text_atomic(target, "one\n") == target
    write_text_atomic(target, "two\r\n")  # newlines kept as given
    assert target.read_bytes() == b"two\r\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert sorted(p.name for p in target.parent.iterdir()) == ["r.json"]


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "c.ckpt"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk"), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["c.ckpt"]
