"""Writing and reading files safely: the one place that does it, for nn, viz and the CLI.

    write_atomic(path, text_or_bytes)   the whole file or nothing
    read_regular_file(path, max_bytes)  the bytes of a regular file of bounded size

A writer first encodes everything (a label that UTF-8 cannot carry fails
here, before any file is touched), writes a temporary file next to the
target, flushes and fsyncs it, and renames it over the target in one step
(os.replace). A reader of the target sees the old file or the new one,
never half of one: a full disk, a file-size limit or an interrupted write
leave the old file as it was, and the temporary file is removed.

It lives in engine, the bottom of the import arrows (engine <- nn, engine <-
viz), so that every room writes its files the same way.
"""

import errno
import os
import secrets
import stat

__all__ = ["write_atomic", "read_regular_file", "check_writable", "file_kind",
           "TEMPORARY_SUFFIX"]

TEMPORARY_SUFFIX = ".tmp"
# The longest file name most file systems take (NAME_MAX), in bytes. The
# temporary file's name is kept within it whatever the target's name is.
NAME_MAX = 255


def write_atomic(path, content, what="the file"):
    """Write content (str, as UTF-8, or bytes) to path, atomically; returns path.

    The file at path is replaced in one step, or left as it was when
    anything fails. A symlink is followed: its target is replaced and the
    link kept. An existing file keeps its permissions; a new one gets the
    umask's, as any new file. Anything that is not a regular file (a device
    such as /dev/null, a FIFO, a directory) is refused with an OSError,
    never replaced. ``what`` names the content in messages ('the model').
    """
    where = os.fspath(path)
    data = _encoded(content, where, what)  # fails before any file is touched
    target = os.path.realpath(where)
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise OSError(errno.EEXIST, f"not a regular file ({file_kind(existing)}), "
                                    f"so {what} does not replace it", where)
    temporary = _temporary_name(target)
    # os.open with mode 0o666 lets the umask decide the permissions, as for
    # any new file (tempfile would make it private to the owner).
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if existing is not None:
            os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        os.replace(temporary, target)
    except BaseException:
        if os.path.lexists(temporary):
            os.remove(temporary)
        raise
    return path


def _encoded(content, where, what):
    """content as bytes; a str that UTF-8 cannot encode is a ValueError naming where."""
    if isinstance(content, (bytes, bytearray)):
        return bytes(content)
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError as error:
        character = content[error.start]
        raise ValueError(
            f"cannot write {what} to {where}: character {error.start} of its text, "
            f"{character!r}, cannot be written as UTF-8 ({error.reason}; a lone "
            f"surrogate, perhaps in a label?). Nothing was written.") from None


def _temporary_name(target):
    """A name for the temporary file next to target that the file system accepts.

    '.model.json.1a2b3c4d.tmp' — with the target's name shortened (in bytes,
    at a character boundary) when the whole would pass NAME_MAX.
    """
    directory, name = os.path.split(os.fsencode(target))
    tail = f".{secrets.token_hex(4)}{TEMPORARY_SUFFIX}".encode("ascii")
    room = NAME_MAX - 1 - len(tail)  # 1 for the leading dot
    if len(name) > room:
        name = name[:room]
        while name and name[-1] & 0xC0 == 0x80:  # never end inside a UTF-8 character
            name = name[:-1]
        if name and name[-1] >= 0xC0:  # ... nor with a character's first byte
            name = name[:-1]
    return os.fsdecode(os.path.join(directory, b"." + name + tail))


def read_regular_file(path, max_bytes, what="the file"):
    """The bytes of the regular file at path, refusing anything else.

    A device (/dev/zero), a FIFO or a directory is an OSError before
    anything is read (a FIFO is opened without waiting for a writer), and a
    file of more than max_bytes is an OSError after reading at most
    max_bytes + 1 bytes, so nothing can make a reader fill the memory.
    """
    where = os.fspath(path)
    # O_NONBLOCK: opening a FIFO would otherwise wait for a writer, for ever.
    descriptor = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file ({file_kind(status)}), "
                                        f"so it cannot be {what}", where)
        if status.st_size > max_bytes:
            raise OSError(errno.EFBIG, _too_big(status.st_size, max_bytes, what), where)
    except BaseException:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as file:
        data = file.read(max_bytes + 1)  # the file may have grown since fstat
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, _too_big(len(data), max_bytes, what), where)
    return data


def _too_big(size, max_bytes, what):
    return (f"{size:,} bytes or more, larger than {what} can be "
            f"({max_bytes:,} bytes at most)")


def check_writable(path):
    """Fail now, with an OSError naming path, if write_atomic(path, ...) surely cannot work.

    For a check before long work (training): the name must name a file (not
    end in a separator, nor be a folder or a device), every folder on the
    way that exists must be a folder, and the nearest existing one writable.
    Folders that do not exist yet may be made later. (The write itself can
    still fail, e.g. on a full disk; it then leaves everything as it was.)
    """
    where = os.fspath(path)
    if not where:
        raise OSError(errno.ENOENT, "an empty path names no file", where)
    if where.endswith(os.sep) or (os.altsep and where.endswith(os.altsep)):
        raise OSError(errno.EISDIR, f"{where} ends in a separator, so it names a folder, "
                                    f"not a file; add a file name", where)
    try:
        existing = os.stat(where)  # follows a symlink
    except OSError as error:  # missing, a file on the way, a name too long: found below
        if error.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG):
            raise
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise OSError(errno.EEXIST, f"{where} is not a regular file "
                                    f"({file_kind(existing)}); name a file to write", where)
    name = os.fsencode(os.path.basename(os.path.realpath(where)))
    if len(name) > NAME_MAX:
        raise OSError(errno.ENAMETOOLONG, f"its file name is {len(name)} bytes long, "
                                          f"more than {NAME_MAX}", where)
    for start in dict.fromkeys([where, os.path.realpath(where)]):  # a symlink: both
        folder = os.path.dirname(start)
        while folder and not os.path.lexists(folder):
            folder = os.path.dirname(folder)
        if not os.path.isdir(folder or "."):
            raise OSError(errno.ENOTDIR, f"{folder} is a file, not a folder", where)
        if not os.access(folder or ".", os.W_OK | os.X_OK):
            raise OSError(errno.EACCES, f"no permission to write in "
                                        f"{folder or 'the current folder'}", where)


def file_kind(status):
    """'a directory', 'a FIFO', ... for os.stat's result of something not a regular file."""
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
             (stat.S_ISSOCK, "a socket")]
    return next((kind for test, kind in kinds if test(status.st_mode)), "not a file")
