"""Files written whole or not at all.

A save, a report or a predictions file that fails partway (a full
disk, a file-size limit, Ctrl-C) must leave the previous file as it was:
each is written to a temporary file in the same folder, fsynced, then
renamed over the target with ``os.replace``, which is atomic on one file
system. The file gets the mode it had, or, new, the one the umask gives a
new file (``mkstemp`` would leave 0600: a model nobody else could read).
An error names the target, not the hidden temporary file.
"""

import contextlib
import os
import tempfile


@contextlib.contextmanager
def replaced_atomically(path):
    """Yield a temporary path beside ``path``; on success, move it over ``path``.

    Parameters
    ----------
    path : str or path-like
        The file to (re)write.

    Yields
    ------
    temporary : str
        Where to write. It is removed if the block raises.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sk_mlp_tune._files import replaced_atomically
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with replaced_atomically(target) as temporary:
    ...     _ = pathlib.Path(temporary).write_text("whole")
    >>> target.read_text()
    'whole'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(
            dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
        )
    except OSError as error:
        raise _naming(error, path) from None
    os.close(handle)
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        if isinstance(error, OSError) and error.filename in (temporary, folder, None):
            raise _naming(error, path) from None
        raise


def _mode_for(path):
    """Return the mode ``path`` has, or a new file's under the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _naming(error, path):
    """Return ``error`` about ``path``, the file the user asked for."""
    return type(error)(error.errno, f"cannot write {path}: {error.strerror}", path)
