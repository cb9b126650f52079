"""gdb-setup.py - the lab's GDB settings for every lesson (tools/gdb sources it).

- Addresses print in hex: a value whose type is uintptr_t, phys_addr_t or
  pte_t shows as 0xffffffff80200000, in `print`, `info locals`, a frame's
  arguments and a watchpoint's Old/New value. Sizes and counts stay decimal.
  `print/r` shows the raw number.
- A breakpoint on a function stops after its prologue, at its first line,
  with the arguments in place, even while QEMU is still in the BIOS: GDB
  reads the kernel's code from the ELF (trust-readonly-sections), not from
  memory GRUB has not filled yet.
- `step` does not enter the helpers in common/*.h (one inline-assembly
  instruction each, such as read_rflags and cli, and the address
  conversions): a step over a line that calls them stays in the caller.
"""

import gdb

ADDRESS_TYPES = ("uintptr_t", "phys_addr_t", "pte_t")


class HexPrinter:
    def __init__(self, value):
        self.value = value

    def to_string(self):
        return "%#x" % int(self.value)


def address_printer(value):
    """A HexPrinter if the value's type is (a typedef of) an address type."""
    kind = value.type.unqualified()
    while kind.code == gdb.TYPE_CODE_TYPEDEF:
        if kind.name in ADDRESS_TYPES:
            return HexPrinter(value)
        kind = kind.target().unqualified()
    return None


gdb.pretty_printers.append(address_printer)
gdb.execute("set trust-readonly-sections on")
gdb.execute("skip -gfile common/*.h", to_string=True)
