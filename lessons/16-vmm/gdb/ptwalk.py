"""ptwalk ADDRESS - walk the page tables for ADDRESS the way the CPU does.

    (gdb) ptwalk p                      any expression: a pointer, a number
    (gdb) ptwalk 0xffffff0000000000

Starts from CR3 (the current address space), reads each level's table
through the kernel's direct map (physical p is at 0xFFFF800000000000 + p)
and prints, per level, the index taken from ADDRESS, the entry found there
and its flags; then the physical address, for 4 KiB, 2 MiB and 1 GiB pages.

tools/gdb sources this file for `make gdb-lesson16`; by hand:
    (gdb) source lessons/16-vmm/gdb/ptwalk.py
"""

import gdb

DIRECT_MAP_BASE = 0xFFFF800000000000
ADDRESS_MASK = 0x000FFFFFFFFFF000
PRESENT, WRITABLE, USER, HUGE, NO_EXECUTE = 1 << 0, 1 << 1, 1 << 2, 1 << 7, 1 << 63
# (name, shift of the index, size of a page an entry of this level maps)
LEVELS = [("PML4", 39, None), ("PDPT", 30, "1 GiB"), ("PD", 21, "2 MiB"), ("PT", 12, "4 KiB")]
OBJECT_TYPES = (gdb.TYPE_CODE_ARRAY, gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION, gdb.TYPE_CODE_FUNC)
FLAG_NAMES = [(0, "P"), (1, "W"), (2, "U"), (3, "PWT"), (4, "PCD"), (5, "A"), (6, "D"),
              (7, "PS"), (8, "G"), (63, "NX")]


def flag_text(entry, is_pt):
    names = []
    for bit, name in FLAG_NAMES:
        if entry >> bit & 1:
            names.append("PAT" if is_pt and bit == 7 else name)
    return " ".join(names) if names else "(not present)"


def read_entry(physical):
    virtual = DIRECT_MAP_BASE + physical
    try:
        data = gdb.selected_inferior().read_memory(virtual, 8)
    except gdb.MemoryError:
        raise gdb.GdbError(
            f"cannot read physical 0x{physical:x} at 0x{virtual:x}: is the direct map set up "
            "yet? (it is from the first C function on)")
    return int.from_bytes(bytes(data), "little")


class PageTableWalk(gdb.Command):
    """ptwalk ADDRESS: the page-table walk of ADDRESS from CR3, level by level."""

    def __init__(self):
        super().__init__("ptwalk", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, argument, from_tty):
        if not argument.strip():
            raise gdb.GdbError("usage: ptwalk ADDRESS  (e.g. ptwalk p, ptwalk 0xffffff0000000000)")
        value = gdb.parse_and_eval(argument)
        # An object that is not a number or a pointer stands for its address,
        # as an array does in C: `ptwalk vmm_stats`, `ptwalk valloc`.
        if value.type.strip_typedefs().code in OBJECT_TYPES and value.address is not None:
            value = value.address
        virt = int(value.cast(gdb.lookup_type("unsigned long"))) & (2**64 - 1)
        top = virt >> 47
        if top not in (0, 0x1FFFF):
            raise gdb.GdbError(f"0x{virt:016x} is not canonical: bits 63..47 must be all 0 or all 1")
        cr3 = int(gdb.parse_and_eval("$cr3")) & (2**64 - 1)
        print(f"walk of 0x{virt:016x} from CR3 = 0x{cr3:x}")

        table = cr3 & ADDRESS_MASK
        writable, user, executable = True, True, True
        for level, (name, shift, page_size) in enumerate(LEVELS):
            index = virt >> shift & 511
            entry = read_entry(table + index * 8)
            is_pt = level == len(LEVELS) - 1
            print(f"  {name:<4} [{index:3}] at phys 0x{table + index * 8:x}: "
                  f"0x{entry:016x}  {flag_text(entry, is_pt)}")
            if not entry & PRESENT:
                print(f"  -> not mapped: {name} entry {index} is not present")
                return
            writable &= bool(entry & WRITABLE)
            user &= bool(entry & USER)
            executable &= not entry & NO_EXECUTE
            if is_pt or (page_size and entry & HUGE):
                size = 1 << shift
                frame = entry & ADDRESS_MASK & ~(size - 1)
                print(f"  -> {page_size} page at phys 0x{frame:x}; "
                      f"0x{virt:x} is phys 0x{frame + (virt & (size - 1)):x}")
                print(f"     access: {'user' if user else 'kernel only'}, "
                      f"{'read-write' if writable else 'read-only'}, "
                      f"{'executable' if executable else 'no-execute'} "
                      "(every level must allow it)")
                return
            table = entry & ADDRESS_MASK


PageTableWalk()
