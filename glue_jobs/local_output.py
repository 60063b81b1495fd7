"""The local command's output folder: checked before any work, staged, published all or nothing.

    DIR/deduplicated/   DIR/matches/      the published sets
    DIR/_staging/<run>/                   this run's work, removed on every exit

- ``check_output`` refuses, before any work, an empty ``--output``, an output
  that is a file, a folder that cannot be written (read-only, no permission,
  read-only file system), an output under a parent that cannot be written, and
  published folders that are not folders.
- ``Staging`` creates ``DIR/_staging/<run>/`` (the write probe), holds a lock on
  it for the run's life, removes it on exit (signals included: see
  ``signals_as_exceptions``), and removes the staging folders of earlier runs
  that were killed (their lock is free), never those of a run still going.
- ``publish_local`` moves both sets into place with renames; if one fails, the
  ones already moved are moved back: the previous output stays as it was.
  SIGINT/SIGTERM are held back while it runs.

POSIX only (``fcntl``), like the rest of the local command.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import stat
import sys
import time
import uuid
from pathlib import Path

from glue_jobs.validation import InputError

OUTPUT_FOLDERS = ("deduplicated", "matches", "model")
STAGING = "_staging"
_LOCK = ".lock"


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: unwind (running every ``finally``) and exit 128 + signal."""

    def __init__(self, signum: int, published: bool = False):
        super().__init__(signum)
        self.signum = signum
        self.published = published  # the signal came while publishing, which was finished first


def check_output(output_arg: str) -> Path:
    """The output folder the user named, refused with a reason unless it can take this run's results."""
    if not output_arg or not output_arg.strip():
        raise InputError("--output is empty; name a folder for the results (e.g. --output out)")
    out = Path(output_arg)
    try:
        st = os.stat(out)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise InputError(f"{out}: the output folder cannot be used: {e.strerror or e}") from None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{out}: --output is an existing file, not a folder; name a folder (it is created "
                         "if missing)")
    if st is None:
        parent = _nearest_existing(out)
        if not parent.is_dir():
            raise InputError(f"{out}: cannot create the output folder: {parent} is a file, not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"{out}: cannot create the output folder: {parent} is read-only for you; "
                             "choose a folder you can write to")
        return out
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"{out}: the output folder is read-only for you; choose a folder you can write to")
    for name in (*OUTPUT_FOLDERS, STAGING):
        sub = out / name
        if os.path.lexists(sub):
            if not sub.is_dir():
                raise InputError(f"{sub}: expected a folder of this job's output, found a file; "
                                 "move it away or choose another --output")
            if not os.access(sub, os.W_OK | os.X_OK):
                raise InputError(f"{sub}: read-only for you, so this run could not replace it; "
                                 "choose another --output")
    return out


def _nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_input_outside_output(input_path: Path, output: Path) -> None:
    """The input must not live where a run writes or replaces files."""
    inp = input_path.resolve()
    for folder in (*OUTPUT_FOLDERS, STAGING):
        place = (output / folder).resolve()
        if inp.is_relative_to(place):
            raise InputError(f"{input_path}: the input is inside the output folder {place}, "
                             "which this run replaces; move it or choose another --output")


class Staging:
    """``DIR/_staging/<run>/`` for one run: created on enter (proving the output is writable),
    removed on exit, with every folder the run created that is still empty."""

    def __init__(self, output: Path, run_id: str | None = None):
        self.output = output
        self.run_id = run_id or time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.path = output / STAGING / self.run_id
        self._created: list[Path] = []
        self._lock_fd: int | None = None

    def __enter__(self) -> Staging:
        for folder in (self.output, self.output / STAGING, self.path):
            if not os.path.lexists(folder):
                try:
                    folder.mkdir()
                except OSError as e:
                    self._remove_created()
                    raise InputError(f"{self.output}: cannot write to the output folder ({folder}: "
                                     f"{e.strerror or e}); choose a folder you can write to") from None
                self._created.append(folder)
        self._lock_fd = os.open(self.path / _LOCK, os.O_CREAT | os.O_WRONLY, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._remove_abandoned()
        return self

    def __exit__(self, *exc) -> None:
        with signals_ignored():
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
            shutil.rmtree(self.path, ignore_errors=True)
            _remove_if_empty(self.output / STAGING)
            self._remove_created()

    def _remove_created(self) -> None:
        for folder in reversed(self._created):
            _remove_if_empty(folder)

    def _remove_abandoned(self) -> None:
        """Staging folders of earlier runs killed without cleaning up (SIGKILL, power cut)."""
        for other in (self.output / STAGING).iterdir():
            lock = other / _LOCK
            if other == self.path or not lock.is_file():
                continue
            try:
                fd = os.open(lock, os.O_WRONLY)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held: that run is still going
            except OSError:
                os.close(fd)
                continue
            shutil.rmtree(other, ignore_errors=True)
            os.close(fd)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def publish_local(staging: Path, output: Path) -> dict[str, Path]:
    """Replace each published folder by its staged version: both or neither."""
    moved_old: list[tuple[Path, Path]] = []
    placed: list[tuple[Path, Path]] = []
    with signals_deferred():
        try:
            for folder in OUTPUT_FOLDERS:
                dest = output / folder
                if os.path.lexists(dest):
                    old = staging / f"old-{folder}"
                    os.replace(dest, old)
                    moved_old.append((dest, old))
            for folder in OUTPUT_FOLDERS:
                dest, new = output / folder, staging / folder
                os.replace(new, dest)
                placed.append((dest, new))
        except BaseException:
            for dest, new in reversed(placed):
                os.replace(dest, new)
            for dest, old in reversed(moved_old):
                os.replace(old, dest)
            raise
    return {folder: output / folder for folder in OUTPUT_FOLDERS}


# ------------------------------------------------------------------ signals

_state = {"deferring": False, "pending": None, "received": None}


def received_signal() -> int | None:
    """The signal that interrupted this run, if any. DuckDB turns the ``Interrupted`` raised
    inside a query into its own "Query interrupted" error: the caller asks here."""
    return _state["received"]


def _raise_interrupted(signum, frame):
    _state["received"] = _state["received"] or signum
    if _state["deferring"]:
        _state["pending"] = _state["pending"] or signum
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_as_exceptions():
    """SIGINT and SIGTERM raise ``Interrupted`` (so ``finally`` blocks run) instead of
    KeyboardInterrupt's traceback or SIGTERM's silent death."""
    _state["received"] = None
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGINT/SIGTERM back until the block is done (a publish is not cut in half)."""
    if _state["deferring"]:
        yield
        return
    _state["deferring"], _state["pending"] = True, None
    try:
        yield
    finally:
        _state["deferring"] = False
        pending, _state["pending"] = _state["pending"], None
        if pending:
            raise Interrupted(pending, published=sys.exc_info()[0] is None)


@contextlib.contextmanager
def signals_ignored():
    """Cleanup runs to the end even under a second Ctrl-C."""
    previous = {}
    for s in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[s] = signal.signal(s, signal.SIG_IGN)
        except ValueError:  # not the main thread
            pass
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
