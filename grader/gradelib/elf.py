"""The kernel's ELF file as the grader built it, read on the host: its loaded
segments, its symbols and its test table. What the witness compares the
running guest with (witness.py): the guest cannot change this file."""

import bisect
import struct
from dataclasses import dataclass
from pathlib import Path

SECTION_HEADER = struct.Struct("<IIQQQQIIQQ")
PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
SYMBOL = struct.Struct("<IBBHQQ")
SYMBOL_TABLE, PT_LOAD, STT_FUNC = 2, 1, 2
SEGMENT_EXECUTABLE, SEGMENT_WRITABLE = 1, 2

# struct ktest (common/ktest.h): name, run, points, kind, file, line.
KTEST = struct.Struct("<QQIIQi4x")
KINDS = ("lecture", "practice", "homework", "bonus")  # enum ktest_kind


@dataclass
class Segment:
    virt: int
    phys: int
    data: bytes   # the bytes in the file (a .bss segment has none)
    size: int     # in memory
    writable: bool
    executable: bool


@dataclass
class PlannedTest:
    number: int
    name: str
    run: int      # the address of the test's function
    points: int
    kind: str


class Elf:
    def __init__(self, path):
        self.path = Path(path)
        data = self.path.read_bytes()
        if data[:4] != b"\x7fELF" or data[4] != 2:
            raise ValueError(f"{path}: not a 64-bit ELF file")
        phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 0x36)
        self.segments = []
        for i in range(phnum):
            kind, flags, offset, virt, phys, filesz, memsz, _ = PROGRAM_HEADER.unpack_from(
                data, phoff + i * phentsize)
            if kind == PT_LOAD and memsz:
                self.segments.append(Segment(virt, phys, data[offset:offset + filesz], memsz,
                                             bool(flags & SEGMENT_WRITABLE),
                                             bool(flags & SEGMENT_EXECUTABLE)))
        sections = [SECTION_HEADER.unpack_from(data, shoff + i * shentsize)
                    for i in range(shnum)]
        self.symbols, functions = {}, []
        for _, kind, _, _, offset, size, link, _, _, entsize in sections:
            if kind != SYMBOL_TABLE:
                continue
            strings = sections[link][4]
            for at in range(offset, offset + size, entsize):
                name_at, info, _, _, value, symbol_size = SYMBOL.unpack_from(data, at)
                end = data.index(b"\0", strings + name_at)
                name = data[strings + name_at:end].decode()
                if not name:
                    continue
                self.symbols.setdefault(name, value)
                if info & 0xF == STT_FUNC:
                    functions.append((value, symbol_size, name))
        functions.sort()
        self.functions = functions
        self.function_starts = [start for start, _, _ in functions]

    def address(self, name):
        """A symbol's value; KeyError names the symbol."""
        try:
            return self.symbols[name]
        except KeyError:
            raise KeyError(f"{self.path.name} has no symbol {name}") from None

    def read(self, virt, size):
        for segment in self.segments:
            if segment.virt <= virt and virt + size <= segment.virt + len(segment.data):
                start = virt - segment.virt
                return segment.data[start:start + size]
        raise ValueError(f"{self.path.name}: no file bytes at {virt:#x}")

    def string(self, virt):
        for segment in self.segments:
            if segment.virt <= virt < segment.virt + len(segment.data):
                start = virt - segment.virt
                return segment.data[start:segment.data.index(b"\0", start)].decode(
                    "utf-8", "replace")
        raise ValueError(f"{self.path.name}: no string at {virt:#x}")

    def function_at(self, address):
        """(name, offset) of the function holding `address`, or None."""
        at = bisect.bisect_right(self.function_starts, address) - 1
        if at < 0:
            return None
        start, size, name = self.functions[at]
        if address >= start + max(size, 1):
            return None
        return name, address - start

    def image(self):
        """The segments the guest must never change: code and constants
        (loaded, not writable)."""
        return [segment for segment in self.segments if not segment.writable and segment.data
                and segment.virt >= self.address("_text_start")]

    def test_plan(self):
        """The tests in the order the runner runs them (common/ktest.c:
        by file, then line), numbered from 1."""
        start, stop = self.address("__start_ktests"), self.address("__stop_ktests")
        entries = []
        for at in range(start, stop, KTEST.size):
            name, run, points, kind, file, line = KTEST.unpack(self.read(at, KTEST.size))
            entries.append((self.string(file).encode(), line, self.string(name), run, points,
                            KINDS[kind] if kind < len(KINDS) else f"kind {kind}"))
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        return [PlannedTest(number, name, run, points, kind)
                for number, (_, _, name, run, points, kind) in enumerate(entries, 1)]
