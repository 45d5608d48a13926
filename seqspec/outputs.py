"""Writing output files safely: never over a user's file, never through a symlink.

Every file ``compile`` and ``export`` write goes through :func:`write_output`:

* an empty path is refused (``-o ""`` would otherwise mean the current folder);
* an existing file is replaced only when seqspec wrote it (its first bytes carry
  :data:`GENERATED_MARK`, or the caller's own test says so) or with ``force=True``;
* a symlink, a folder or a device at the path is never written through: a symlink is
  replaced (itself, not its target) only with ``force=True``, the others are refused;
* the bytes go to a fresh temporary name in the same folder, opened with ``O_EXCL`` and
  ``O_NOFOLLOW``, then renamed over the path: a reader sees the old file or the new one,
  and an interrupted write leaves the old file as it was.

:func:`check_output` runs the same checks without writing, so a command that writes several
files refuses before writing any of them.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

#: Every generated text file says so in its first lines (model.py, train.py, ...), in any
#: case and possibly wrapped across lines.
GENERATED_MARK = re.compile(rb"generated\s+by\s+seqspec", re.IGNORECASE)
#: How much of an existing file is read to find out whether seqspec wrote it.
_HEAD_BYTES = 4096


class OutputError(Exception):
    """An output file cannot or may not be written; ``str()`` is the one-line reason."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def generated_text(head: bytes) -> bool:
    """Whether a file that starts with ``head`` is one seqspec generated."""
    return GENERATED_MARK.search(head) is not None


def never_ours(head: bytes) -> bool:
    """For outputs that carry no mark (binary artifacts, an imported spec the user edits): an
    existing file is replaced only with ``force``."""
    return False


def _head(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        return os.read(fd, _HEAD_BYTES)
    finally:
        os.close(fd)


def check_output(path: str | os.PathLike[str], force: bool = False,
                 ours: Callable[[bytes], bool] = generated_text) -> Path:
    """Raise :class:`OutputError` unless ``path`` may be written; return it as a Path."""
    if str(path) == "":
        raise OutputError('""', "the output path is empty; name a file or folder")
    target = Path(path)
    try:
        info = target.lstat()
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(target, f"cannot check it ({exc.strerror})") from None
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        if force:
            return target  # the link itself is replaced; its target is never written
        raise OutputError(target, "is a symbolic link; seqspec never writes through one "
                          "(--force replaces the link itself)")
    if stat.S_ISDIR(mode):
        raise OutputError(target, "is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise OutputError(target, "is not a regular file (a device, FIFO or socket)")
    if force:
        return target
    try:
        written_by_us = ours(_head(target))
    except OSError as exc:
        raise OutputError(target, f"cannot read it to check who wrote it ({exc.strerror})") \
            from None
    if not written_by_us:
        raise OutputError(target, "exists and was not written by seqspec; refusing to "
                          "replace it (--force replaces it)")
    return target


def write_output(path: str | os.PathLike[str], content: bytes | str, force: bool = False,
                 ours: Callable[[bytes], bool] = generated_text) -> Path:
    """Write ``content`` (text is written as UTF-8) to ``path`` safely; return the path.

    Raises :class:`OutputError` when the path may not be written (see the module docstring)
    or writing fails.
    """
    target = check_output(path, force, ours)
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, f"cannot create the folder ({exc.strerror})") from None
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_BINARY", 0))
    tmp = ""
    try:
        for _ in range(100):  # a fresh, unpredictable name: O_EXCL fails if anything is there
            tmp = str(folder / f".{target.name}.{secrets.token_hex(6)}.tmp")
            try:
                fd = os.open(tmp, flags, 0o666)
                break
            except FileExistsError:
                continue
        else:
            raise OutputError(target, "cannot find a free temporary name beside it")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, target)  # replaces a symlink itself, never its target
        tmp = ""
    except OSError as exc:
        raise OutputError(target, f"cannot write it ({exc.strerror})") from None
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return target
