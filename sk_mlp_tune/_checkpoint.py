"""asha's checkpoint: an append-only journal of finished fold results, as data.

Plain JSON behind a fixed first line, each record flushed and fsynced; a
resumed search replays it instead of recomputing, and reading it runs no
code whatever the file holds.
"""

import base64
import binascii
import json
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np

from ._engine import FoldResult


class CheckpointError(ValueError):
    """A checkpoint file cannot be resumed: it is not one, or not this search's."""


class Checkpoint:
    """An append-only journal of finished fold results, in plain data.

    The file starts with a fixed line (:data:`CHECKPOINT_MAGIC`), then
    records: each its length, a CRC32 and a JSON document, appended,
    flushed and fsynced. The first record is a header holding the format
    and the fingerprint of the data and settings; each following one a
    fold's scores, times and epochs. Reading checks the first line, then
    the header, before anything else; it parses JSON and nothing else, so
    no file, whatever its bytes, runs code here. A process killed mid-write
    leaves at most a torn last record (or a torn header), which reading
    ignores and resuming cuts off.

    No model is journalled: a resumed search that promotes a candidate
    whose previous rung was replayed retrains that rung's fold model first,
    the same model a seeded search trained before the crash, then
    continues it.

    Parameters
    ----------
    path : str or path-like
        The journal file; created if missing.
    fingerprint : str
        What the journal must have been written for.
    """

    _FRAME = struct.Struct("<QI")  # length, crc32
    FORMAT = 3  # 3: JSON records, no models (2 and before: pickles)

    def __init__(self, path, fingerprint):
        self.path = os.fspath(path)
        self.fingerprint = fingerprint
        self.results = {}  # (candidate, fold, rung) -> record dict
        self._good_size = 0
        self._file = None
        if os.path.exists(self.path):
            self._read()

    def _read(self):
        with open(self.path, "rb") as file:
            magic = file.read(len(CHECKPOINT_MAGIC))
            if magic != CHECKPOINT_MAGIC[: len(magic)]:
                raise CheckpointError(
                    f"{self.path!r} is not a checkpoint of sk_mlp_tune (it does not "
                    "start with one's first line); it was left as it is. Give "
                    "another checkpoint path, or delete the file. (Checkpoints "
                    "written before format 3 held pickles and are not read.)"
                )
            if len(magic) < len(CHECKPOINT_MAGIC):
                return  # a crash before the first line was synced: start over
            try:
                records, self._good_size = _read_records(file)
            except _DamagedRecord as damaged:
                raise CheckpointError(
                    f"The checkpoint {self.path!r} holds a record (number "
                    f"{damaged.number}, counting the header as 0) whose checksum is "
                    f"right but whose content is not a fold result of ours: "
                    f"{damaged.why}. It was left as it is and nothing of it was "
                    "used. Give another checkpoint path, or delete the file to "
                    "start over."
                ) from None
            damaged_header = not records and _header_damaged(file)
        if not records:
            if damaged_header:
                raise CheckpointError(
                    f"The checkpoint {self.path!r} has a damaged header (its "
                    "checksum fails) before further records; it was left as it "
                    "is rather than written over. Give another checkpoint path, "
                    "or delete the file to start over."
                )
            self._good_size = 0  # a crash before the header was synced
            return
        header = records[0]
        if not isinstance(header, dict) or header.get("format") != self.FORMAT:
            raise CheckpointError(
                f"The checkpoint {self.path!r} was written by another version of "
                "sk_mlp_tune (format "
                f"{header.get('format') if isinstance(header, dict) else '?'}, "
                f"this one reads {self.FORMAT}); it was left as it is. Give another "
                "checkpoint path, or delete the file to start over."
            )
        if header.get("fingerprint") != self.fingerprint:
            raise CheckpointError(
                f"The checkpoint {self.path!r} was written by a search with other "
                "data or settings, so it cannot be resumed; it was left as it is. "
                "Give another checkpoint path, delete this file to start over, or "
                "fit with the data and settings it was written for."
            )
        for record in records[1:]:
            try:
                key = (record["candidate"], record["fold"], record["rung"])
            except (KeyError, TypeError):
                break  # not a record of ours: the journal ends here
            self.results[key] = record

    def open(self):
        """Get ready to append: the file is opened at the first write."""
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sk_mlp_tune-ckpt")
        self._failure = None

    def lookup(self, task):
        """Return the recorded result of ``task``, or None."""
        record = self.results.get((task.candidate, task.fold, task.rung))
        if record is None or record.get("epochs") != task.epochs:
            return None
        if record.get("params") != _plain(task.params):
            return None
        try:
            return FoldResult(
                task=task,
                test_score=float(record["test_score"]),
                test_scores=_scores(record["test_scores"]),
                train_scores=_scores(record["train_scores"]),
                fit_time=float(record["fit_time"]),
                score_time=float(record["score_time"]),
                n_epochs=int(record["n_epochs"]),
                error=None if record["error"] is None else str(record["error"]),
                stopped_by_tol=bool(record["stopped_by_tol"]),
                predictions=_array_from_record(record.get("predictions")),
            )
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error):
            return None  # a damaged record: the task is run again

    def write(self, result):
        """Append ``result`` durably, in the background.

        It is encoded here; the write and the fsync follow on the writer
        thread, in order. A failed write is raised at the next write or at
        ``close``.
        """
        if self._failure is not None:
            raise self._failure
        task = result.task
        record = {
            "candidate": task.candidate,
            "fold": task.fold,
            "rung": task.rung,
            "epochs": task.epochs,
            "params": _plain(task.params),
            "test_score": result.test_score,
            "test_scores": result.test_scores,
            "train_scores": result.train_scores,
            "fit_time": result.fit_time,
            "score_time": result.score_time,
            "n_epochs": result.n_epochs,
            "error": result.error,
            "stopped_by_tol": result.stopped_by_tol,
        }
        if result.predictions is not None:
            record["predictions"] = _array_record(result.predictions)
        self._writer.submit(self._append, _frame(record))

    def _append(self, frame):
        if self._failure is not None:
            return  # after a failed write, nothing more: the journal stays whole
        try:
            self._append_now(frame)
        except Exception as error:
            self._failure = error

    def _append_now(self, frame):
        if self._file is None:
            try:
                self._file = open(self.path, "r+b" if self._good_size else "wb")
            except OSError as error:
                raise OSError(
                    f"the checkpoint {self.path!r} cannot be written: {error}"
                ) from error
            if self._good_size:
                self._file.truncate(self._good_size)  # a torn last record
                self._file.seek(self._good_size)
            else:
                header = {"format": self.FORMAT, "fingerprint": self.fingerprint}
                self._file.write(CHECKPOINT_MAGIC + _frame(header))
        self._file.write(frame)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self):
        """Finish the pending writes, then close the journal."""
        writer = getattr(self, "_writer", None)
        if writer is None:
            return
        try:
            writer.shutdown(wait=True)
            if self._failure is not None:
                raise self._failure
        finally:
            self._writer = None
            if self._file is not None:
                self._file.close()
                self._file = None


def _array_record(values):
    """Return a float32 array as JSON data: its shape and base64 bytes."""
    values = np.ascontiguousarray(values, dtype="<f4")
    return {"shape": list(values.shape), "float32": base64.b64encode(values).decode()}


def _array_from_record(record):
    """Read back :func:`_array_record`'s data (None stays None); data only, no code."""
    if record is None:
        return None
    data = base64.b64decode(record["float32"], validate=True)
    return np.frombuffer(data, dtype="<f4").reshape(record["shape"]).copy()


# The first line of every checkpoint file.
CHECKPOINT_MAGIC = b"sk_mlp_tune checkpoint\n"


def _frame(record):
    """Return ``record`` as journal bytes: length, CRC32, JSON."""
    data = json.dumps(record, allow_nan=True, separators=(",", ":")).encode()
    return Checkpoint._FRAME.pack(len(data), zlib.crc32(data)) + data


def _read_records(file):
    """Return the intact JSON records from ``file``'s position, and where they end."""
    size = Checkpoint._FRAME.size
    records, good = [], file.tell()
    while True:
        head = file.read(size)
        if len(head) < size:
            break
        length, crc = Checkpoint._FRAME.unpack(head)
        data = file.read(min(length, _MAX_RECORD))
        if len(data) < length or zlib.crc32(data) != crc:
            break
        # The checksum holds: the bytes are as written, and must make sense.
        try:
            record = json.loads(data)
        except (ValueError, RecursionError) as error:
            raise _DamagedRecord(len(records), _why(error)) from None
        why = _check_header(record) if not records else _check_result(record)
        if why is not None:
            raise _DamagedRecord(len(records), why)
        records.append(record)
        good = file.tell()
    return records, good


def _header_damaged(file):
    """Tell whether a header that fails its checksum is damaged, not torn.

    A crash mid-write leaves the header last in the file, and its length
    within reason; anything after it, or a length past any header's, is
    damage, and the journal is refused rather than written over.
    """
    file.seek(len(CHECKPOINT_MAGIC))
    head = file.read(Checkpoint._FRAME.size)
    if len(head) < Checkpoint._FRAME.size:
        return False
    length, _ = Checkpoint._FRAME.unpack(head)
    end = file.seek(0, os.SEEK_END)
    return length > _MAX_HEADER or end > len(CHECKPOINT_MAGIC) + len(head) + length


class _DamagedRecord(Exception):
    def __init__(self, number, why):
        super().__init__(number, why)
        self.number, self.why = number, why


def _why(error):
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 200 else text[:199] + "…"


# A header is a format and a fingerprint: far less than this.
_MAX_HEADER = 1024
# Counts no search of ours comes near: candidates, folds, rungs, epochs.
_MAX_COUNT = 10**7


def _check_header(record):
    if not isinstance(record, dict) or not isinstance(record.get("fingerprint"), str):
        return "the header is not a format and a fingerprint"
    return None


def _check_result(record):
    """Return why ``record`` is no fold result this module wrote, or None."""
    if not isinstance(record, dict):
        return f"a {type(record).__name__}, not a record"
    for name in ("candidate", "fold", "rung", "epochs", "n_epochs"):
        value = record.get(name)
        if type(value) is not int or not 0 <= value <= _MAX_COUNT:
            return f"{name} is {_short(value)}, not a count up to {_MAX_COUNT}"
    for name in ("test_score", "fit_time", "score_time"):
        value = record.get(name)
        if value is not None and type(value) not in (int, float):
            return f"{name} is {_short(value)}, not a number"
    if record.get("n_epochs", 0) > record.get("epochs", 0):
        return "it trained for more epochs than its rung has"
    scores = [record.get("test_score")]
    for name in ("test_scores", "train_scores"):
        values = record.get(name)
        if values is None:
            continue
        if not isinstance(values, dict) or not all(
            isinstance(v, int | float) for v in values.values()
        ):
            return f"{name} is {_short(values)}, not scores by metric"
        scores.extend(values.values())
    # NaN is a fold that failed; no metric of scikit-learn gives infinity.
    for score in scores:
        if isinstance(score, float) and (np.isinf(score) or abs(score) > _MAX_SCORE):
            return f"a score of {score!r}"
    return None


# Beyond any score a fold of ours records (a squared error of 1e15 is a
# network that diverged, and scores NaN).
_MAX_SCORE = 1e15


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


# No record of ours comes near this: a length beyond it is not ours.
_MAX_RECORD = 1 << 24


def _plain(value):
    """Return ``value`` as JSON data that compares equal exactly when it does."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, tuple):
        return {"tuple": [_plain(v) for v in value]}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return {"repr": repr(value)}  # an estimator as a value, say


def _scores(scores):
    return {str(name): float(value) for name, value in scores.items()}


def read_journal(path):
    """Return the records of the checkpoint at ``path``: its header, then results.

    Plain JSON data; empty if the file is not a checkpoint, or holds no
    whole header yet.
    """
    with open(path, "rb") as file:
        if file.read(len(CHECKPOINT_MAGIC)) != CHECKPOINT_MAGIC:
            return []
        return _read_records(file)[0]


def fingerprint(*parts):
    """Return a hash of the data and the settings that decide a search's results."""
    return joblib.hash(parts)
