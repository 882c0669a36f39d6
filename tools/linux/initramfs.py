"""Build an initramfs (an uncompressed newc cpio archive) holding busybox and an /init script.

    python3 initramfs.py BUSYBOX INIT OUT

Reproducible: entries in a fixed order with mtime 0, owner root and fixed inode numbers, so the
same busybox and /init always give the same bytes. The archive is not compressed: the kernel
copies it in far fewer guest instructions than it would spend inflating it. /dev/console is in
the archive because the kernel opens it for init's stdio before anything could create it.
"""
from __future__ import annotations

import stat
import sys
from typing import List, Tuple

APPLETS = ("sh", "echo", "cat", "cut", "grep", "mount", "taskset", "poweroff", "uname", "sleep")
Entry = Tuple[str, int, bytes, int, int]  # name, mode, data, rdev major, rdev minor


def newc(entries: List[Entry]) -> bytes:
    out = bytearray()

    def pad() -> None:
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data, major, minor) in enumerate([*entries, ("TRAILER!!!", 0, b"", 0, 0)], 1):
        fields = [ino, mode, 0, 0, 1 if not stat.S_ISDIR(mode) else 2, 0, len(data), 0, 0, major, minor,
                  len(name) + 1, 0]
        out += b"070701" + b"".join(b"%08X" % v for v in fields)
        out += name.encode() + b"\0"
        pad()
        out += data
        pad()
    out.extend(b"\0" * (-len(out) % 512))
    return bytes(out)


def main() -> None:
    busybox_path, init_path, out_path = sys.argv[1:4]
    with open(busybox_path, "rb") as f:
        busybox = f.read()
    with open(init_path, "rb") as f:
        init = f.read()
    d, x, lnk = stat.S_IFDIR | 0o755, stat.S_IFREG | 0o755, stat.S_IFLNK | 0o777
    entries: List[Entry] = [(".", d, b"", 0, 0), ("bin", d, b"", 0, 0), ("bin/busybox", x, busybox, 0, 0)]
    entries += [(f"bin/{a}", lnk, b"busybox", 0, 0) for a in APPLETS]
    entries += [("dev", d, b"", 0, 0), ("dev/console", stat.S_IFCHR | 0o600, b"", 5, 1),
                ("proc", d, b"", 0, 0), ("sys", d, b"", 0, 0), ("init", x, init, 0, 0)]
    with open(out_path, "wb") as f:
        f.write(newc(entries))


if __name__ == "__main__":
    main()
