"""Publishing a model folder built in a temporary folder beside it, safely against other processes
doing the same (the converter and the ONNX export share this)."""

import errno
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from bot.errors import ModelError

# Temporary folders older than this were left by a killed process.
STALE_TMP_SECONDS = 3600


def install_folder(tmp: Path, dest: Path, is_complete: Callable[[Path], bool]) -> None:
    """Move `tmp` to `dest` atomically. If another process finished first and its folder is
    complete, keep it; a leftover from an interrupted run is moved aside and replaced."""
    for _ in range(3):
        try:
            os.replace(tmp, dest)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        if is_complete(dest):
            return
        trash = dest.parent / f".{dest.name}.old-{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.replace(dest, trash)
        except FileNotFoundError:
            continue  # someone else moved it meanwhile
        shutil.rmtree(trash, ignore_errors=True)
    raise ModelError(f"cannot install {dest}: the folder keeps changing")


def sweep_stale(parent: Path, name: str) -> None:
    """Remove temporary folders `.NAME.*-*` in `parent` that a killed process left behind."""
    if not parent.is_dir():
        return
    now = time.time()
    for p in parent.glob(f".{name}.*-*"):
        try:
            if now - p.stat().st_mtime > STALE_TMP_SECONDS:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass
