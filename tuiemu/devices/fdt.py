"""A flattened device tree (DTB, version 17) edited in place the way libfdt edits one.

QEMU grows its device tree inside a fixed buffer with libfdt, and the blob shows it: a new
property goes in front of its node's properties and a new subnode in front of its siblings, both
by moving the rest of the blob up; a property's padding keeps whatever bytes were there before;
a property name reuses any place in the string table where it already ends ("method" shares
"enable-method"). Replaying QEMU's calls in QEMU's order on the same kind of buffer therefore
gives QEMU's bytes.
"""
from __future__ import annotations

import struct
from typing import Any, List, Sequence, Tuple, Union

FDT_MAGIC, FDT_VERSION, FDT_LAST_COMP_VERSION = 0xD00DFEED, 17, 16
FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END = 1, 2, 3, 4, 9
RSVMAP_OFFSET = 0x30  # the 40-byte header, aligned to the reserve map's 16-byte entries
STRUCT_OFFSET = RSVMAP_OFFSET + 16  # after the one empty entry that ends the reserve map
# header words
TOTALSIZE, OFF_DT_STRUCT, OFF_DT_STRINGS, SIZE_DT_STRINGS, SIZE_DT_STRUCT = 1, 2, 3, 8, 9

Value = Union[int, str, bytes, Sequence[int], Sequence[str]]


def encode(value: Value) -> bytes:
    """A property value: an int or a list of ints as 32-bit cells, a string or a list of strings."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return struct.pack(">I", value)
    if isinstance(value, str):
        return value.encode() + b"\0"
    items: List[Any] = list(value)
    if items and isinstance(items[0], str):
        return b"".join(s.encode() + b"\0" for s in items)
    return struct.pack(f">{len(items)}I", *items)


def _align(n: int) -> int:
    return (n + 3) & ~3


class DeviceTree:
    """A blob in a ``size``-byte buffer, as QEMU's create_device_tree starts it: an empty root."""

    def __init__(self, size: int) -> None:
        self.buf = bytearray(size)
        root = struct.pack(">IIII", FDT_BEGIN_NODE, 0, FDT_END_NODE, FDT_END)
        self.buf[STRUCT_OFFSET:STRUCT_OFFSET + len(root)] = root
        struct.pack_into(">10I", self.buf, 0, FDT_MAGIC, size, STRUCT_OFFSET, STRUCT_OFFSET + len(root),
                         RSVMAP_OFFSET, FDT_VERSION, FDT_LAST_COMP_VERSION, 0, 0, len(root))
        self.next_phandle = 0x8000  # where QEMU's allocator starts

    @classmethod
    def from_blob(cls, blob: bytes, size: int) -> DeviceTree:
        """Edit an existing blob (a user's -dtb) in a ``size``-byte buffer. Raises ValueError if it
        is not a device tree blob laid out as dtc writes one (strings after the structure)."""
        if len(blob) < 40 or struct.unpack_from(">I", blob)[0] != FDT_MAGIC:
            raise ValueError("not a device tree blob (bad magic)")
        total, off_struct, off_strings = struct.unpack_from(">III", blob, 4)
        version = struct.unpack_from(">I", blob, 20)[0]
        if version < 17 or total > len(blob) or off_strings < off_struct:
            raise ValueError("unsupported device tree blob (version 17 with strings after the structure needed)")
        t = cls.__new__(cls)
        t.buf = bytearray(blob[:total].ljust(max(size, total), b"\0"))
        t._set_header(1, len(t.buf))
        t.next_phandle = 0x8000
        return t

    def packed(self) -> bytes:
        """The blob cut to what it holds (fdt_pack): what goes into guest RAM, compact."""
        end = self._header(OFF_DT_STRINGS) + self._header(SIZE_DT_STRINGS)
        out = bytearray(self.buf[:end])
        struct.pack_into(">I", out, 4, end)
        return bytes(out)

    def has_node(self, path: str) -> bool:
        try:
            self._node(path)
        except KeyError:
            return False
        return True

    def phandle(self) -> int:
        value = self.next_phandle
        self.next_phandle += 1
        return value

    def blob(self) -> bytes:
        return bytes(self.buf)

    # ---- the header and the raw layout -------------------------------------------------
    def _header(self, word: int) -> int:
        return int(struct.unpack_from(">I", self.buf, 4 * word)[0])

    def _set_header(self, word: int, value: int) -> None:
        struct.pack_into(">I", self.buf, 4 * word, value)

    def _splice(self, offset: int, old: int, new: int) -> None:
        """Make ``old`` bytes at ``offset`` ``new`` bytes long, moving everything after them."""
        end = self._header(OFF_DT_STRINGS) + self._header(SIZE_DT_STRINGS)
        self.buf[offset + new:end + new - old] = self.buf[offset + old:end]

    def _splice_struct(self, offset: int, old: int, new: int) -> None:
        self._splice(offset, old, new)
        self._set_header(SIZE_DT_STRUCT, self._header(SIZE_DT_STRUCT) + new - old)
        self._set_header(OFF_DT_STRINGS, self._header(OFF_DT_STRINGS) + new - old)

    def _string(self, name: str) -> int:
        """The name's offset in the string table, added at its end when no entry ends with it."""
        start, size = self._header(OFF_DT_STRINGS), self._header(SIZE_DT_STRINGS)
        key = name.encode() + b"\0"
        found = self.buf.find(key, start, start + size)
        if found >= 0:
            return found - start
        self._splice(start + size, 0, len(key))
        self.buf[start + size:start + size + len(key)] = key
        self._set_header(SIZE_DT_STRINGS, size + len(key))
        return size

    def _tag(self, offset: int) -> Tuple[int, int]:
        """(tag, offset of the next tag) at ``offset``."""
        tag = struct.unpack_from(">I", self.buf, offset)[0]
        if tag == FDT_BEGIN_NODE:
            end = self.buf.index(0, offset + 4)
            return tag, offset + 4 + _align(end - offset - 3)
        if tag == FDT_PROP:
            length = struct.unpack_from(">I", self.buf, offset + 4)[0]
            return tag, offset + 12 + _align(length)
        return tag, offset + 4

    def _name(self, offset: int) -> bytes:
        return bytes(self.buf[offset + 4:self.buf.index(0, offset + 4)])

    def _node(self, path: str) -> int:
        """The offset of the node at ``path`` ("" is the root)."""
        offset = self._header(OFF_DT_STRUCT)
        for part in filter(None, path.split("/")):
            offset = self._child(offset, part.encode())
        return offset

    def _child(self, parent: int, name: bytes) -> int:
        depth = 0
        _, offset = self._tag(parent)
        while True:
            tag, nxt = self._tag(offset)
            if tag == FDT_BEGIN_NODE:
                if depth == 0 and self._name(offset) == name:
                    return offset
                depth += 1
            elif tag == FDT_END_NODE:
                if depth == 0:
                    raise KeyError(name.decode())
                depth -= 1
            offset = nxt

    def _after_props(self, node: int) -> int:
        """Where the node's properties end (its first subnode, or its end)."""
        _, offset = self._tag(node)
        while True:
            tag, nxt = self._tag(offset)
            if tag not in (FDT_PROP, FDT_NOP):
                return offset
            offset = nxt

    # ---- what QEMU calls ---------------------------------------------------------------------
    def add_node(self, parent: str, name: str) -> str:
        """libfdt's fdt_add_subnode: the new node goes in front of the parent's subnodes."""
        at = self._after_props(self._node(parent))
        name_len = _align(len(name) + 1)
        self._splice_struct(at, 0, 8 + name_len)
        struct.pack_into(">I", self.buf, at, FDT_BEGIN_NODE)
        self.buf[at + 4:at + 4 + name_len] = name.encode().ljust(name_len, b"\0")
        struct.pack_into(">I", self.buf, at + 4 + name_len, FDT_END_NODE)
        return f"{parent}/{name}"

    def set(self, path: str, name: str, value: Value = b"") -> None:
        """libfdt's fdt_setprop: resize an existing property in place, or add one in front."""
        data = encode(value)
        node = self._node(path)
        _, offset = self._tag(node)
        while True:
            tag, nxt = self._tag(offset)
            if tag != FDT_PROP and tag != FDT_NOP:
                break
            if tag == FDT_PROP:
                old_len, name_off = struct.unpack_from(">II", self.buf, offset + 4)
                start = self._header(OFF_DT_STRINGS) + name_off
                if self.buf[start:self.buf.index(0, start)] == name.encode():
                    self._splice_struct(offset + 12, _align(old_len), _align(len(data)))
                    struct.pack_into(">I", self.buf, offset + 4, len(data))
                    self.buf[offset + 12:offset + 12 + len(data)] = data
                    return
            offset = nxt
        name_off = self._string(name)
        at = self._tag(self._node(path))[1]
        self._splice_struct(at, 0, 12 + _align(len(data)))
        struct.pack_into(">III", self.buf, at, FDT_PROP, len(data), name_off)
        self.buf[at + 12:at + 12 + len(data)] = data
