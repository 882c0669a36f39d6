"""PL011: the receive FIFO, flags and interrupts as QEMU's virt UART shows them, host input that waits
in a backlog instead of being lost, and the transmit side's access sizes and ID registers."""
from __future__ import annotations

from typing import List

from tuiemu.devices.console import Console
from tuiemu.devices.pl011 import FR_RXFE, FR_RXFF, FR_TXFE, INT_RT, INT_RX, INT_TX, LCR_FEN, PL011

DR, RSR, FR, ILPR, IBRD, FBRD, LCR_H, CR, IFLS, IMSC, RIS, MIS, ICR, DMACR = (
    0x00, 0x04, 0x18, 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38, 0x3C, 0x40, 0x44, 0x48)


class Uart:
    """A PL011 with its console output and interrupt line recorded."""

    def __init__(self) -> None:
        self.console = Console(None)
        self.console.capture = True
        self.lines: List[bool] = []
        self.dev = PL011(self.console, irq=self.lines.append)

    def rd(self, offset: int, size: int = 4) -> int:
        return self.dev.read(offset, size, 0) & ((1 << (8 * size)) - 1)

    def wr(self, offset: int, value: int, size: int = 4) -> None:
        self.dev.write(offset, size, value & ((1 << (8 * size)) - 1), 0)

    @property
    def line(self) -> bool:
        return self.lines[-1] if self.lines else False


def test_reset_values_match_qemu() -> None:
    u = Uart()
    values = {FR: FR_TXFE | FR_RXFE, RSR: 0, ILPR: 0, IBRD: 0, FBRD: 0, LCR_H: 0, CR: 0x300,
              IFLS: 0x12, IMSC: 0, RIS: 0, MIS: 0, ICR: 0, DMACR: 0,
              0x4C: 0, 0x50: 0, 0xFDC: 0}
    assert {off: u.rd(off) for off in values} == values


def test_id_registers_read_as_qemus_and_by_byte() -> None:
    u = Uart()
    assert [u.rd(off) for off in range(0xFE0, 0x1000, 4)] == [0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1]
    assert u.rd(0xFE1, 1) == 0x11 and u.rd(0xFE8, 1) == 0x14


def test_sub_word_accesses_select_the_register_by_word() -> None:
    u = Uart()
    assert u.rd(FR + 1, 1) == FR_TXFE | FR_RXFE  # QEMU: offset >> 2 picks FR, the value is not shifted
    for offset, size, ch in ((0, 1, "a"), (1, 1, "b"), (2, 1, "c"), (3, 1, "d"), (0, 2, "e"), (2, 2, "f")):
        u.wr(offset, ord(ch), size)
    u.wr(DR, 0x1267)  # only the low byte is a character
    assert bytes(u.console.captured) == b"abcdefg"
    assert u.rd(RIS) == INT_TX


def test_registers_keep_what_is_written_and_icr_clears_tx() -> None:
    u = Uart()
    for index in (IBRD, IFLS, DMACR, CR, IMSC):
        u.wr(index, 0xFFFFFFFF)
        assert u.rd(index) == 0xFFFFFFFF
    u.wr(DR, ord("x"))
    assert u.rd(MIS) == INT_TX and u.line
    u.wr(ICR, 0x7FF)
    assert u.rd(RIS) == 0 and not u.line
    u.wr(RSR, 0xFF)  # ECR: there are no errors to clear
    u.wr(FR, 0xFF)
    assert u.rd(RSR) == 0 and u.rd(FR) == FR_TXFE | FR_RXFE


def test_without_fifo_one_character_is_held_and_the_rest_waits() -> None:
    u = Uart()
    u.dev.feed(b"abc")
    assert u.rd(FR) == FR_TXFE | FR_RXFF
    assert list(u.dev.backlog) == list(b"bc")
    assert [u.rd(DR) for _ in range(3)] == list(b"abc")
    assert u.rd(FR) == FR_TXFE | FR_RXFE and not u.dev.backlog


def test_with_fifo_sixteen_characters_are_held() -> None:
    u = Uart()
    u.wr(LCR_H, LCR_FEN | 0x60)
    u.dev.feed(bytes(range(65, 65 + 20)))
    assert u.rd(FR) == FR_TXFE | FR_RXFF and u.dev.count == 16 and len(u.dev.backlog) == 4
    assert u.rd(DR) == 65
    assert u.rd(FR) == FR_TXFE | FR_RXFF  # the read made room, the backlog refilled it
    assert bytes(u.rd(DR) for _ in range(19)) == bytes(range(66, 85))
    assert u.rd(FR) == FR_TXFE | FR_RXFE


def test_reading_an_empty_fifo_returns_the_stale_slot_as_qemu() -> None:
    u = Uart()
    assert u.rd(DR) == 0
    u.wr(LCR_H, LCR_FEN)
    u.dev.feed(bytes(range(1, 21)))  # 20 characters: slots 0-3 are written twice
    assert [u.rd(DR) for _ in range(20)] == list(range(1, 21))
    assert u.rd(DR) == 5  # read position 4: slot 4 last held character 5


def test_toggling_fen_empties_the_fifo_without_updating_fr_as_qemu() -> None:
    u = Uart()
    u.dev.feed(b"AB")  # A in the 1-deep FIFO, B waiting
    u.wr(LCR_H, LCR_FEN)
    assert u.dev.count == 0
    assert u.rd(FR) == FR_TXFE | FR_RXFF  # stale: QEMU leaves FR as it was
    assert u.rd(DR) == ord("A")  # slot 0 still holds A; the read lets B in
    assert u.rd(FR) == FR_TXFE and u.rd(DR) == ord("B")
    assert u.rd(FR) == FR_TXFE | FR_RXFE


def test_rx_and_rt_follow_the_fifo_and_drive_the_line() -> None:
    u = Uart()
    u.wr(IMSC, INT_RX | INT_RT)
    assert not u.line
    u.dev.feed(b"x")
    assert u.rd(RIS) == INT_RX | INT_RT and u.rd(MIS) == INT_RX | INT_RT and u.line
    u.rd(DR)
    assert u.rd(RIS) == 0 and not u.line


def test_rt_alone_reports_trailing_input() -> None:
    u = Uart()
    u.wr(IMSC, INT_RT)
    u.dev.feed(b"z")
    assert u.rd(MIS) == INT_RT and u.line


def test_icr_clears_and_the_next_character_raises_again() -> None:
    u = Uart()
    u.wr(LCR_H, LCR_FEN)
    u.wr(IMSC, INT_RX)
    u.dev.feed(b"ab")
    u.wr(ICR, INT_RX | INT_RT)
    assert u.rd(RIS) == 0 and not u.line and u.dev.count == 2
    u.dev.feed(b"c")
    assert u.rd(RIS) == INT_RX | INT_RT and u.line


def test_first_access_hook_runs_once() -> None:
    calls: List[int] = []
    dev = PL011(Console(None), on_first_access=lambda: calls.append(1))
    dev.feed(b"host input is not an access")
    assert calls == []
    dev.read(FR, 4, 0)
    dev.write(DR, 1, 0x41, 0)
    assert calls == [1]
