"""Publishing a model folder built in a temporary folder beside it, safely against other processes
doing the same (the converter and the ONNX export share this)."""

import errno
import json
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


def write_stamp(folder: Path, name: str, **fields) -> None:
    """Record `fields` and the size of every file in `folder` in `folder/name` (written last:
    a folder with a matching stamp is complete)."""
    files = {p.name: p.stat().st_size for p in sorted(Path(folder).iterdir()) if p.is_file() and p.name != name}
    (Path(folder) / name).write_text(json.dumps({**fields, "files": files}, indent=2) + "\n", encoding="utf-8")


def has_stamp(folder: Path, name: str, **expect) -> bool:
    """Whether `folder/name` records `expect` and every file it lists still has its size."""
    try:
        stamp = json.loads((Path(folder) / name).read_text(encoding="utf-8"))
        return (all(stamp.get(k) == v for k, v in expect.items())
                and all((Path(folder) / n).stat().st_size == size for n, size in stamp["files"].items()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
