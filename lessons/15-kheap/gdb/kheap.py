"""kheap.py - GDB commands for lesson 15's kernel heap.

    kheap              the heap's counters and a map of its window
    kheap owner ADDR   what ADDR is in the heap; ADDR is any expression
                       (kheap owner str, kheap owner $rax, kheap owner 0xffff...)
    kheap live         the same picture in a browser, redrawn at every stop (live.py)

What it reads while the kernel is stopped, so that it works for any design:
  - the page map: which pages of the window are mapped, by reading one byte
    of each page through the kernel's own page tables (as the CPU would);
  - the counters: the variable `heap_stats` (a struct kheap_stats), if the
    heap keeps its counters under that name, as both skeletons do;
  - the bump heap (kheap.c): the skeleton's state, heap_start, heap_curr,
    heap_mapped and heap_end; `used` and `peak` are heap_curr - heap_start.
A free-list heap of any design gets the page map and, with `heap_stats`, the
counters. tools/gdb sources this file; by hand: source it in GDB.
"""

import gdb

KHEAP_START = 0xFFFFFFFF80200000
KHEAP_END = 0xFFFFFFFF80400000
PAGE_SIZE = 4096
MAP_COLUMNS = 64  # pages per line: 256 KiB
# One meaning per character, in every map of the heap (kheap_dump.c's too):
FULL, PARTLY, FREE, MAPPED, UNMAPPED = "#", "+", ".", "=", "-"
BUMP_LEGEND = "'#' handed out  '+' partly  '.' mapped, free  '-' not mapped"
PAGE_TABLE_LEGEND = "'=' mapped  '-' not mapped"


def variable(name):
    """The kernel variable `name` as an int or gdb.Value, or None if there is none."""
    try:
        return gdb.parse_and_eval(name)
    except gdb.error:
        return None


def is_mapped(address):
    """Can the CPU read `address` now? GDB reads through the page tables."""
    try:
        gdb.selected_inferior().read_memory(address, 1)
        return True
    except gdb.MemoryError:
        return False


def mapped_pages():
    return [is_mapped(page) for page in range(KHEAP_START, KHEAP_END, PAGE_SIZE)]


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
    used = [i for i, c in enumerate(chars) if c != UNMAPPED]
    lines = (used[-1] // MAP_COLUMNS + 1) if used else 1
    for line in range(lines):
        row = chars[line * MAP_COLUMNS:(line + 1) * MAP_COLUMNS]
        print("  %5d KiB  %s" % (line * MAP_COLUMNS * PAGE_SIZE // 1024, "".join(row)))
    if lines * MAP_COLUMNS < len(chars):
        print("  (pages %d..%d: not mapped)" % (lines * MAP_COLUMNS, len(chars) - 1))


class BumpHeap:
    """kheap.c: the skeleton's four pointers."""

    def __init__(self):
        self.start = int(variable("heap_start"))
        self.curr = int(variable("heap_curr"))
        self.end = int(variable("heap_end"))
        self.mapped = int(variable("heap_mapped"))

    def ready(self):
        return self.start != 0

    def show(self):
        print("kheap (bump): heap_curr %#x, %d bytes above heap_start %#x"
              % (self.curr, self.curr - self.start, self.start))
        pages = (self.mapped - self.start) // PAGE_SIZE
        print("  heap_mapped %#x (%d page%s), heap_end %#x"
              % (self.mapped, pages, "" if pages == 1 else "s", self.end))
        stats = variable("heap_stats")
        if stats is not None:
            # kheap_get_stats works these out from the state; so do we.
            print_stats(stats, capacity=self.end - self.start, used=self.curr - self.start,
                        peak=self.curr - self.start,
                        pages_mapped=(self.mapped - self.start) // PAGE_SIZE)
        chars = self.page_chars()
        print_page_map(chars, BUMP_LEGEND)
        expected = (self.mapped - self.start) // PAGE_SIZE
        actual = sum(c != UNMAPPED for c in chars)
        if actual != expected:
            print("  the page tables map %d pages of the window; heap_mapped says %d"
                  % (actual, expected))

    def page_chars(self):
        """A character per page of the window: handed out, partly, mapped and free, not mapped."""
        chars = []
        for index, mapped in enumerate(mapped_pages()):
            page = KHEAP_START + index * PAGE_SIZE
            if not mapped:
                chars.append(UNMAPPED)
            elif page + PAGE_SIZE <= self.curr:
                chars.append(FULL)
            elif page < self.curr:
                chars.append(PARTLY)
            else:
                chars.append(FREE)
        return chars

    def owner(self, address):
        if address >= self.curr:
            state = "mapped" if is_mapped(address) else "not mapped"
            return "free space, not handed out yet (%s): %d bytes above heap_curr" % (
                state, address - self.curr)
        return ("handed out: %d bytes above heap_start, %d below heap_curr\n"
                "  (a bump heap keeps no record of where each block starts)"
                % (address - self.start, self.curr - address))


class AnyHeap:
    """A heap of any other design (the free-list bonus): the page tables, and
    `heap_stats` if it keeps one."""

    def ready(self):
        return True

    def show(self):
        print("kheap: window %#x..%#x" % (KHEAP_START, KHEAP_END))
        stats = variable("heap_stats")
        if stats is not None:
            print_stats(stats)
        else:
            print("  (no `heap_stats` in this kernel: `call kheap_dump()` prints the counters)")
        print_page_map(self.page_chars(), PAGE_TABLE_LEGEND)

    def page_chars(self):
        return [MAPPED if mapped else UNMAPPED for mapped in mapped_pages()]

    def owner(self, address):
        page = address - address % PAGE_SIZE
        return "heap page %d (%#x), %s" % ((page - KHEAP_START) // PAGE_SIZE, page,
                                           "mapped" if is_mapped(page) else "not mapped")


def current_heap():
    if variable("heap_curr") is not None and variable("heap_mapped") is not None:
        return BumpHeap()
    if variable("kmalloc") is not None:
        return AnyHeap()
    raise gdb.GdbError("kheap: this kernel has no heap (is it lesson 15 or later?)")


class KheapCommand(gdb.Command):
    """Show the kernel heap: counters and a map of the window (one character per
page, read through the page tables).
Usage: kheap
       kheap owner ADDR   what ADDR is in the heap (any expression)
       kheap live         the heap in a browser page, redrawn at every stop
                          (http://127.0.0.1:PORT/; kheap live off stops it)"""

    def __init__(self):
        super().__init__("kheap", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, argument, from_tty):
        words = argument.split(None, 1)
        if words and words[0] == "live":
            kheap_live(argument.split()[1:])  # live.py
            return
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
            raise gdb.GdbError("usage: kheap | kheap owner ADDR | kheap live [PORT | off]")


KheapCommand()
