"""Files written whole or not at all.

A save, a report or a checkpoint compaction that fails partway (a full
disk, a file-size limit, Ctrl-C) must leave the previous file as it was:
each is written to a temporary file in the same folder, fsynced, then
renamed over the target with ``os.replace``, which is atomic on one file
system.
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
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
