"""Unwrap a Linux ARM zImage into the raw Image (the xz stream its decompressor would unpack) and
wrap that Image as a legacy U-Boot uImage loaded and entered at RAM + TEXT_OFFSET.

    python3 image.py zImage Image uImage

Booting the uImage skips the zImage's self-decompression (about 2 G guest instructions). The
header carries a zero timestamp, so the same zImage always gives the same bytes.
"""
from __future__ import annotations

import lzma
import struct
import sys
import zlib

XZ_MAGIC = b"\xfd7zXZ\x00"
UIMAGE_MAGIC = 0x27051956
IH_OS_LINUX, IH_ARCH_ARM, IH_TYPE_KERNEL, IH_COMP_NONE = 5, 2, 2, 0
LOAD_ADDR = 0x40208000  # virt's RAM base + TEXT_OFFSET 0x208000 of Debian's armmp kernels


def raw_image(zimage: bytes) -> bytes:
    """The first xz magic that starts a whole stream (the decompressor's code holds the magic too)."""
    start = zimage.find(XZ_MAGIC)
    while start >= 0:
        try:
            return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(zimage[start:])
        except lzma.LZMAError:
            start = zimage.find(XZ_MAGIC, start + 1)
    raise SystemExit("image.py: no xz stream in the zImage (not an xz-compressed kernel)")


def uimage(image: bytes, name: str, load: int = LOAD_ADDR) -> bytes:
    """The 64-byte legacy header (big-endian; CRC-32 of the data, then of the header) and the data."""
    fields = [UIMAGE_MAGIC, 0, 0, len(image), load, load, zlib.crc32(image)]
    tail = struct.pack(">4B32s", IH_OS_LINUX, IH_ARCH_ARM, IH_TYPE_KERNEL, IH_COMP_NONE, name.encode()[:31])
    header = struct.pack(">7I", *fields) + tail
    fields[1] = zlib.crc32(header)
    return struct.pack(">7I", *fields) + tail + image


def main() -> None:
    zpath, image_path, uimage_path = sys.argv[1:4]
    with open(zpath, "rb") as f:
        image = raw_image(f.read())
    with open(image_path, "wb") as f:
        f.write(image)
    with open(uimage_path, "wb") as f:
        f.write(uimage(image, "Linux (raw Image from zImage)"))


if __name__ == "__main__":
    main()
