"""Every file the tool writes goes through here: atomically, with the user's permissions, and
never over an input or an existing file unless the user said so.

An output is written to a hidden temp file beside its target (``.~selfeval-<pid>-…``) and
renamed over it only when complete, so a killed run never leaves half a workbook or report
under the real name; the next run into the same folder removes the temp files of processes
that no longer exist. ``tempfile.mkstemp`` creates files 0600; the finished file gets the mode
any other program would give it (0666 less the umask), so a colleague on a shared folder can
open what the coordinator compiled.

``OutputError`` carries a Chinese message for the user; ``describe_os_error`` is the one place
that turns the operating system's errors (no permission, disk full, name too long …) into one.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

TEMP_PREFIX = ".~selfeval-"
# a folder the tool wrote check or report results into: never read back as returned workbooks
OUTPUT_MARK = ".selfeval-output"
# bytes a file name may take on common file systems (ext4, NTFS: 255), less room for _2 and a suffix
NAME_BYTES = 200


class OutputError(Exception):
    """An output that cannot or must not be written; the message says why and what to do."""


def describe_os_error(e: OSError, path: str | Path | None = None) -> str:
    """The user's environment in words: what happened to which path, and what to do."""
    # a path is always said: "无法写入 。" leaves the coordinator guessing which file it was
    where = display_path(path if path is not None else (e.filename or "")) or "输出文件"
    code = e.errno
    if isinstance(e, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return f"没有权限写入 {where}（文件夹只读、无写权限，或文件正被 Excel/WPS 打开）。请关闭该文件或换一个输出位置。"
    if code == errno.ENOSPC or code == getattr(errno, "EDQUOT", -1):
        return f"磁盘空间不足，无法写入 {where}。请清理磁盘或换一个输出位置。"
    if code == errno.EROFS:
        return f"{where} 所在的磁盘是只读的。请换一个输出位置。"
    if code == errno.ENAMETOOLONG:
        return f"文件名太长：{where}。请缩短单位名称或换一个较短的输出路径。"
    if isinstance(e, FileExistsError):
        return f"{where} 已存在。"
    if isinstance(e, NotADirectoryError):
        return f"{where} 的上级不是文件夹。请检查输出路径。"
    if isinstance(e, IsADirectoryError):
        return f"{where} 是一个文件夹，这里需要一个文件名。"
    if isinstance(e, FileNotFoundError):
        return f"找不到 {where}。"
    return f"无法写入 {where}：{e.strerror or e}"


def _quiet_abandoned_zip(unraisable) -> None:
    """A zip writer (openpyxl, XlsxWriter) stopped by a full disk is left unclosed; when it is
    collected, ``ZipFile.__del__`` tries to finish it, fails the same way, and Python prints
    "Exception ignored … OSError 28" with a traceback. The error itself already reached the code
    that wrote the file, which said in words which file was not written and removed its temp
    file; this second report of it is dropped. Anything else goes to the previous hook."""
    obj = getattr(unraisable, "object", None)
    if isinstance(unraisable.exc_value, OSError) and getattr(obj, "__qualname__", "") == "ZipFile.__del__":
        return
    _previous_hook(unraisable)


if getattr(sys.unraisablehook, "__name__", "") != _quiet_abandoned_zip.__name__:
    _previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_abandoned_zip
else:  # the module imported again (tests reload it): keep the original hook
    _previous_hook = getattr(sys.unraisablehook, "__globals__", {}).get("_previous_hook", sys.__unraisablehook__)


def os_error_in(e: BaseException) -> OSError | None:
    """The operating system's error inside ``e``: writers wrap it (XlsxWriter raises
    ``FileCreateError(OSError(28, …))`` for a full disk), and a wrapped full disk is still the
    user's environment, to be said in words, not a traceback."""
    seen = 0
    while e is not None and seen < 8:
        if isinstance(e, OSError):
            return e
        inner = next((a for a in getattr(e, "args", ()) if isinstance(a, OSError)), None)
        e = inner or e.__cause__ or e.__context__
        seen += 1
    return None


@lru_cache(maxsize=1)
def _umask() -> int:
    mask = os.umask(0)  # the only way to read it; set back at once, before any file is made
    os.umask(mask)
    return mask


class PendingOutput:
    """A temp file beside ``path`` that becomes ``path`` on ``commit`` (for writers that stay
    open across many calls, such as 汇总表.xlsx filled unit by unit)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=self.path.suffix,
                                        dir=self.path.parent)
        try:
            os.close(fd)
        except BaseException:  # Ctrl-C between creating the file and owning it
            Path(self.tmp).unlink(missing_ok=True)
            raise

    def commit(self) -> None:
        os.chmod(self.tmp, 0o666 & ~_umask())
        os.replace(self.tmp, self.path)

    def abandon(self) -> None:
        Path(self.tmp).unlink(missing_ok=True)


@contextmanager
def atomic_output(path: str | Path) -> Iterator[str]:
    """Yield a temp path beside ``path``; on success rename it to ``path``, else remove it."""
    pending = PendingOutput(path)
    try:
        yield pending.tmp
        pending.commit()
    except BaseException:
        pending.abandon()
        raise


def _write_file(path: str | Path, data: bytes) -> None:
    """The one place finished bytes reach the disk (tests put a full disk here). A plain file
    object: when the disk is full, ``close`` reports it here, not later from a destructor."""
    with open(path, "wb") as f:
        f.write(data)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_output(path) as tmp:
        _write_file(tmp, data)


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def clean_stale_temps(folder: str | Path) -> int:
    """Remove the temp files a killed run left in ``folder`` (those of processes that are gone)."""
    n = 0
    try:
        entries = list(Path(folder).glob(f"{TEMP_PREFIX}*"))
    except OSError:
        return 0
    for p in entries:
        pid = p.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or not _alive(int(pid)):  # older runs wrote no pid: theirs are stale too
            try:
                p.unlink()
                n += 1
            except OSError:
                pass
    return n


def prepare_folder(out: str | Path, inputs: Iterable[str | Path] = (), mark: bool = False) -> Path:
    """The output folder, created and writable — checked before any work starts, so a batch
    never runs for an hour and then fails on its first write. It may not be an input folder
    (results would be read back as returned workbooks); with ``mark`` it is marked as the tool's
    output, so a later run over a parent folder skips it."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"输出位置 {out} 是一个文件，这里需要一个文件夹。请换一个输出文件夹。")
    resolved = out.resolve()
    for p in inputs:
        p = Path(p)
        if p.is_dir() and p.resolve() == resolved:
            raise OutputError(f"输出文件夹 {out} 就是输入文件夹。请另选一个输出文件夹（例如 {out}/../校验结果）。")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=out)
        os.close(fd)
        os.unlink(probe)
        if mark:
            (out / OUTPUT_MARK).write_text("selfeval-xl 的输出文件夹：校验或汇总时不会被当作回收的工作簿读取。\n",
                                           encoding="utf-8")
    except OSError as e:
        raise OutputError(describe_os_error(e, out)) from None
    clean_stale_temps(out)
    return out


def refuse_existing(paths: Iterable[str | Path], force: bool) -> None:
    """Outputs never replace an existing file unless the user said ``--force``."""
    if force:
        return
    existing = [Path(p) for p in paths if Path(p).exists()]
    if existing:
        names = "、".join(p.name for p in existing[:5]) + (f" 等 {len(existing)} 个" if len(existing) > 5 else "")
        raise OutputError(f"输出位置已有同名文件：{names}。为免覆盖（可能是已回收的工作簿或已改过的结果），"
                          f"未写入任何文件。确认要覆盖请加 --force，或换一个输出文件夹。")


def refuse_input(out: str | Path, inputs: Iterable[str | Path]) -> None:
    """An output file may never be one of the inputs, whatever ``--force`` says."""
    out_r = Path(out).resolve()
    for p in inputs:
        if Path(p).resolve() == out_r:
            raise OutputError(f"输出文件 {out} 就是输入文件；原文件从不被修改。请给出另一个输出文件名。")


def bounded_name(stem: str, suffix: str, max_bytes: int = NAME_BYTES) -> str:
    """``stem + suffix`` cut (by whole characters) so the name fits ``max_bytes`` in UTF-8 —
    75 Chinese characters are 225 bytes, more than some file systems allow."""
    # a name unzipped from a Windows archive holds undecodable bytes: named as display_path reads it
    stem, suffix = display_path(stem), display_path(suffix)
    room = max_bytes - len(suffix.encode("utf-8"))
    raw = stem.encode("utf-8")
    if len(raw) > room:
        stem = raw[:room].decode("utf-8", "ignore").rstrip(". ")
    return stem + suffix


def display_path(p: str | Path) -> str:
    """A path as text a person (and JSON) can take: names unzipped from a Windows archive come
    in the local code page (GBK), not UTF-8; they are decoded as such, never crash a batch."""
    s = str(p)
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        raw = os.fsencode(s)
        for enc in ("utf-8", "gb18030"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                continue
        return raw.decode("utf-8", "replace")
