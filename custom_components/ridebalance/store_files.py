"""The files kept beside a rider's file: its backup and the copies kept aside.

Each is written whole or not at all (a new file renamed over the name), so a
crash or a full disk leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
import shutil

from homeassistant.util.file import write_utf8_file_atomic

BACKUP_SUFFIX = ".bak"


def backup_of(path: Path) -> Path:
    """The previous good file of ``path``."""
    return path.with_name(path.name + BACKUP_SUFFIX)


def keep_backup(path: Path) -> None:
    """``path`` as it is now becomes its ``.bak``, in one step."""
    backup = backup_of(path)
    new = backup.with_name(backup.name + ".new")
    new.unlink(missing_ok=True)
    try:
        os.link(path, new)  # the Store writes a new file: the link keeps these bytes
    except OSError:
        shutil.copy2(path, new)  # where links are not allowed
    os.replace(new, backup)


def keep_aside(path: Path, ending: str, data: bytes) -> tuple[Path, bool]:
    """``data`` kept as ``<path><ending>-<its hash>``; whether it was written now.

    A copy already there is kept only if it holds these bytes: one cut short
    (by a crash, a full disk) is written again.
    """
    digest = hashlib.sha256(data).hexdigest()[:12]
    target = path.with_name(f"{path.name}{ending}-{digest}")
    try:
        if target.read_bytes() == data:
            return target, False
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    write_utf8_file_atomic(str(target), data, mode="wb")
    return target, True


def keep_backup_aside(path: Path) -> Path | None:
    """The ``.bak`` copied to ``<file>.bak-<its hash>`` (None without one).

    For a damaged load: the saves that follow replace ``.bak`` with files
    written without the damaged parts, so the previous good file is kept apart.
    """
    try:
        data = backup_of(path).read_bytes()
    except FileNotFoundError:
        return None
    return keep_aside(path, BACKUP_SUFFIX, data)[0]
