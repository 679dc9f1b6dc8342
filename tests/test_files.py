"""Files written whole: their mode, and errors that name them."""

import errno
import os
import stat

import pytest

from sk_mlp_tune._files import replaced_atomically


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _write(path, text="whole"):
    with replaced_atomically(path) as temporary, open(temporary, "w") as file:
        file.write(text)


def test_a_new_file_follows_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        _write(tmp_path / "model.skops")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "model.skops") == 0o644


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "model.skops"
    path.write_text("old")
    path.chmod(0o640)
    _write(path)
    assert path.read_text() == "whole"
    assert _mode(path) == 0o640


def test_an_error_names_the_target_not_the_temporary_file(tmp_path):
    missing = tmp_path / "no" / "folder" / "predictions.csv"
    with pytest.raises(FileNotFoundError, match=r"cannot write .*predictions\.csv"):
        _write(missing)

    target = tmp_path / "big.csv"

    def too_large():
        with replaced_atomically(target) as temporary:
            raise OSError(errno.EFBIG, "File too large", temporary)

    with pytest.raises(OSError, match=r"cannot write .*big\.csv: File too large"):
        too_large()
    assert not list(tmp_path.glob(".big.csv.*"))  # no temporary file left
