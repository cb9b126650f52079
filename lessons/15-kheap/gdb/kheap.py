"""kheap.py - GDB commands for lesson 15's kernel heap.

    kheap              the heap's counters and a map of its window
    kheap owner ADDR   which block holds ADDR; ADDR is any expression
                       (kheap owner str, kheap owner $rax, kheap owner 0xffff...)

Everything is read from the kernel's own variables while it is stopped:
heap_start, heap_curr, heap_end, heap_mapped, heap_pieces and heap_stats
in kheap.c (the bump heap), or
heap_pages, heap_classes, class_sizes, class_digits, heap_debug and heap_stats in
kheap_freelist.c
(KHEAP=freelist). tools/gdb sources this file; by hand: source it in GDB.
"""

import gdb

KHEAP_START = 0xFFFFFFFF80200000
KHEAP_END = 0xFFFFFFFF80400000
PAGE_SIZE = 4096
GRANULE = 16  # KHEAP_MIN_ALIGN
MAP_COLUMNS = 64  # pages per line: 256 KiB
ZOOM_GRANULES = 64  # granules per line: 1 KiB
ZOOM_LINES = 2

# kheap.c's enum piece: what starts at a granule (its values are not in the
# kernel's memory, so they are repeated here).
NOTHING_STARTS, BLOCK_STARTS, PADDING_STARTS = 0, 1, 2

# kheap_freelist.c's debug trailer: the last 16 bytes of a slot hold
# {uintptr_t next; uint32_t magic; uint32_t size}.
TRAILER_SIZE = 16
SLOT_IN_USE = 0x1B10C4ED
SLOT_FREE = 0xF4EEF4EE


def variable(name):
    """The kernel variable `name` as a gdb.Value, or None if there is none."""
    try:
        return gdb.parse_and_eval(name)
    except gdb.error:
        return None


def read(address, length):
    return bytes(gdb.selected_inferior().read_memory(address, length))


def read_u64(address):
    return int.from_bytes(read(address, 8), "little")


def read_u32(address):
    return int.from_bytes(read(address, 4), "little")


def kib(n):
    return "%d KiB" % (n // 1024) if n % 1024 == 0 else "%d bytes" % n


def print_stats(stats, **overrides):
    s = {f.name: int(stats[f.name]) for f in stats.type.fields()}
    s.update(overrides)
    print("  used %d bytes (requested %d), peak %d" % (s["used"], s["requested"], s["peak"]))
    print("  allocations %d, frees %d, failures %d, pages mapped %d (%s)"
          % (s["allocations"], s["frees"], s["failures"], s["pages_mapped"],
             kib(s["pages_mapped"] * PAGE_SIZE)))
    print("  reported: bad frees %d, double frees %d, redzone overwrites %d, writes after "
          "free %d" % (s["bad_frees"], s["double_frees"], s["redzone_errors"],
                       s["poison_errors"]))


def print_page_map(chars, legend):
    """chars: one character per page of the window."""
    print("  pages (4 KiB each): " + legend)
    used = [i for i, c in enumerate(chars) if c != "-"]
    lines = (used[-1] // MAP_COLUMNS + 1) if used else 1
    for line in range(lines):
        row = chars[line * MAP_COLUMNS:(line + 1) * MAP_COLUMNS]
        print("  +%5d KiB  %s" % (line * MAP_COLUMNS * PAGE_SIZE // 1024, "".join(row)))
    if lines * MAP_COLUMNS < len(chars):
        print("  (pages %d..%d: not mapped)" % (lines * MAP_COLUMNS, len(chars) - 1))


class BumpHeap:
    """kheap.c: a bump pointer and a byte per granule: does a block or a padding start there?"""

    def __init__(self):
        self.start = int(variable("heap_start"))
        self.curr = int(variable("heap_curr"))
        self.end = int(variable("heap_end"))
        self.mapped = int(variable("heap_mapped"))
        self.pieces = read(int(variable("&heap_pieces")), (KHEAP_END - KHEAP_START) // GRANULE)

    def ready(self):
        return self.start != 0

    def piece(self, address):
        return self.pieces[(address - KHEAP_START) // GRANULE]

    def is_block(self, address):
        return self.piece(address) == BLOCK_STARTS

    def is_padding(self, address):
        return self.piece(address) == PADDING_STARTS

    def piece_start(self, address):
        """The block or padding holding `address` (below heap_curr)."""
        at = address - (address % GRANULE)
        while at > self.start and self.piece(at) == NOTHING_STARTS:
            at -= GRANULE
        return at

    def piece_end(self, start):
        at = start + GRANULE
        while at < self.curr and self.piece(at) == NOTHING_STARTS:
            at += GRANULE
        return at

    def show(self):
        print("kheap (bump): heap_start %#x, heap_curr %#x (+%d), heap_mapped %#x, heap_end %#x"
              % (self.start, self.curr, self.curr - self.start, self.mapped, self.end))
        # kheap_get_stats works these out from the state; so do we.
        print_stats(variable("heap_stats"), capacity=self.end - self.start,
                    used=self.curr - self.start, peak=self.curr - self.start,
                    pages_mapped=(self.mapped - self.start) // PAGE_SIZE)
        chars = []
        for page in range(self.start, self.end, PAGE_SIZE):
            if page >= self.mapped:
                chars.append("-")
            elif page + PAGE_SIZE <= self.curr:
                chars.append("#")
            elif page < self.curr:
                chars.append("+")
            else:
                chars.append(".")
        print_page_map(chars, "'#' allocated  '+' partly  '.' mapped, free  '-' not mapped")
        self.show_zoom()

    def show_zoom(self):
        line_bytes = ZOOM_GRANULES * GRANULE
        first = self.start
        if self.curr - self.start >= line_bytes:
            first = (self.curr - line_bytes // 2) // line_bytes * line_bytes
        first = min(first, self.end - ZOOM_LINES * line_bytes)
        print("  granules (16 bytes each) near heap_curr: a letter per block, '~' padding, "
              "'.' free, '-' not mapped")
        letter, shown = ord("A") - 1, "."
        if first < self.curr and self.piece(first) == NOTHING_STARTS:
            if self.is_padding(self.piece_start(first)):
                shown = "~"
            else:
                letter, shown = ord("A"), "A"
        at = first
        for _ in range(ZOOM_LINES):
            row, caret = [], None
            for g in range(ZOOM_GRANULES):
                if at < self.curr and self.is_block(at):
                    letter = ord("A") if letter == ord("Z") else letter + 1
                    shown = chr(letter)
                elif at < self.curr and self.is_padding(at):
                    shown = "~"
                elif at >= self.curr:
                    shown = "." if at < self.mapped else "-"
                if at == self.curr:
                    caret = g
                row.append(shown)
                at += GRANULE
            print("  %#018x  %s" % (at - line_bytes, "".join(row)))
            if caret is not None:
                print(" " * (22 + caret) + "^ heap_curr")

    def owner(self, address):
        if address >= self.curr:
            state = "mapped" if address < self.mapped else "not mapped"
            return "free space: not handed out yet (%s), %d bytes above heap_curr" % (
                state, address - self.curr)
        start = self.piece_start(address)
        end = self.piece_end(start)
        if self.is_padding(start):
            return "alignment padding (%#x..%#x) before the block at %#x: never handed out" % (
                start, end, end)
        return "the block at %#x (%d bytes with rounding), offset %d" % (
            start, end - start, address - start)


class FreeListHeap:
    """kheap_freelist.c: a descriptor per page, size classes with free lists."""

    def __init__(self):
        self.pages = variable("heap_pages")
        self.classes = variable("heap_classes")
        self.debug = bool(int(variable("heap_debug")))
        self.count = self.pages.type.range()[1] + 1
        sizes = variable("class_sizes")
        self.sizes = [int(sizes[c]) for c in range(sizes.type.range()[1] + 1)]
        self.digits = variable("class_digits").string()

    def ready(self):
        return True

    def state(self, index):
        return str(self.pages[index]["state"])

    def page_char(self, index):
        state = self.state(index)
        if state == "PAGE_SLAB":
            return self.digits[int(self.pages[index]["size_class"])]
        return {"PAGE_LARGE": "L", "PAGE_TAIL": "l", "PAGE_GUARD": "g"}.get(state, "-")

    def show(self):
        print("kheap (free lists, debug checks %s): window %#x..%#x"
              % ("on" if self.debug else "off", KHEAP_START, KHEAP_END))
        print_stats(variable("heap_stats"))
        print_page_map([self.page_char(i) for i in range(self.count)],
                       "'0'..'d' slab of that size class (below), 'L' large block, 'l' its "
                       "other pages, 'g' guard, '-' not mapped")
        print("  size classes:")
        for c in range(self.classes.type.range()[1] + 1):
            cls = self.classes[c]
            pages = int(cls["pages"])
            if pages == 0:
                continue
            size = self.sizes[c]
            free = int(cls["free_slots"])
            print("    %s: %4d-byte slots, pages: %d, in use: %d, free: %d (first %#x)"
                  % (self.digits[c], size, pages, pages * (PAGE_SIZE // size) - free, free,
                     int(cls["free"])))

    def on_free_list(self, size_class, slot):
        cls = self.classes[size_class]
        link, size = int(cls["free"]), self.sizes[size_class]
        for _ in range(int(cls["free_slots"]) + 1):
            if link == 0:
                return False
            if link == slot:
                return True
            link = read_u64(link + size - TRAILER_SIZE) if self.debug else read_u64(link)
        return False

    def owner(self, address):
        index = (address - KHEAP_START) // PAGE_SIZE
        state = self.state(index)
        if state == "PAGE_SLAB":
            size_class = int(self.pages[index]["size_class"])
            slot_size = self.sizes[size_class]
            offset = address % PAGE_SIZE % slot_size
            slot = address - offset
            if slot % PAGE_SIZE + slot_size > PAGE_SIZE:
                return "the unused end of a slab of %d-byte slots: never allocated" % slot_size
            where = "the %d-byte slot at %#x, offset %d" % (slot_size, slot, offset)
            if not self.debug:
                free = self.on_free_list(size_class, slot)
                return where + (": free" if free else ": in use")
            trailer = slot + slot_size - TRAILER_SIZE
            magic, size = read_u32(trailer + 8), read_u32(trailer + 12)
            if magic == SLOT_FREE:
                return where + ": free" + (" (its last owner asked for %d bytes)" % size
                                           if size else "")
            if magic != SLOT_IN_USE:
                return where + ": trailer overwritten (magic %#x)" % magic
            part = ("the block" if offset < size else
                    "its redzone" if offset < slot_size - TRAILER_SIZE else "its trailer")
            return where + ": in use, %d bytes asked for; the address is in %s" % (size, part)
        if state in ("PAGE_LARGE", "PAGE_TAIL"):
            first = index
            while self.state(first) == "PAGE_TAIL" and first > 0:
                first -= 1
            head = self.pages[first]
            block = KHEAP_START + first * PAGE_SIZE
            size, offset = int(head["size"]), address - block
            return "the large block at %#x (%d bytes asked for, %d pages), offset %d%s" % (
                block, size, int(head["pages"]), offset, "" if offset < size else
                ": past its end, in the redzone")
        if state == "PAGE_GUARD":
            return "a guard page after a large block: not mapped"
        if state == "PAGE_FREED":
            head = self.pages[index]
            return "free space, not mapped; it was a large block of %d bytes" % int(head["size"])
        return "free space, not mapped"


def current_heap():
    if variable("heap_curr") is not None:
        return BumpHeap()
    if variable("heap_pages") is not None:
        return FreeListHeap()
    raise gdb.GdbError("kheap: this kernel has no heap variables (is it lesson 15 or later?)")


class KheapCommand(gdb.Command):
    """Show the kernel heap: counters, a map of the window (one character per
page) and, for the bump heap, the granules near heap_curr.
Usage: kheap
       kheap owner ADDR   which block holds ADDR (any expression)"""

    def __init__(self):
        super().__init__("kheap", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, argument, from_tty):
        words = argument.split(None, 1)
        heap = current_heap()
        if not heap.ready():
            print("kheap: not initialised yet (kheap_init has not run)")
            return
        if not words:
            heap.show()
        elif words[0] == "owner" and len(words) == 2:
            address = int(gdb.parse_and_eval(words[1]).cast(
                gdb.lookup_type("unsigned long")))
            if not KHEAP_START <= address < KHEAP_END:
                print("%#x: not in the heap (window %#x..%#x)" % (address, KHEAP_START, KHEAP_END))
            else:
                print("%#x: %s" % (address, heap.owner(address)))
        else:
            raise gdb.GdbError("usage: kheap | kheap owner ADDR")


KheapCommand()
