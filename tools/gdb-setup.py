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
- When the QEMU of a `make debug-lessonN` session ends (Ctrl-A X in its
  terminal, or the kernel powering off), GDB disconnects at once and says
  so, instead of "Broken pipe" at the next command; `quit` then asks nothing.
"""

import json
import os
import sys
import threading
import time
from pathlib import Path

import gdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import debugsession  # noqa: E402

SESSION_POLL = 0.3  # seconds between looks at the debug session

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


def session_of(port):
    """The record tools/boot keeps of the session on `port`, or None."""
    try:
        return json.loads((debugsession.SESSIONS / f"{port}.json").read_text())
    except (OSError, ValueError):
        return None


def watch_session(port, boot_pid):
    """Waits (in a thread of its own) for that session's tools/boot to end,
    then has GDB's own thread disconnect."""
    while debugsession.alive(boot_pid) and session_of(port) is not None:
        time.sleep(SESSION_POLL)
    gdb.post_event(lambda: session_ended(port))


def session_ended(port):
    connection = gdb.selected_inferior().connection
    if connection is None or not (connection.details or "").endswith(f":{port}"):
        return  # disconnected already, or attached elsewhere since
    gdb.execute("disconnect", to_string=True)
    # GDB sits at its prompt: say it on a line of its own, then show the prompt again.
    print(f"\nQEMU on port {port} has ended: GDB has disconnected from it"
          " (`quit` leaves GDB).\n(gdb) ", end="", flush=True)


WATCHED = set()


def watch_new_connection():
    """Before each prompt: start watching the session GDB has just connected to."""
    connection = gdb.selected_inferior().connection
    details = connection.details if connection is not None else None
    if not details or details in WATCHED:
        return
    WATCHED.add(details)
    port = details.rsplit(":", 1)[-1]
    session = session_of(port) if port.isdigit() else None
    if session is not None and session.get("gdb_pid") == os.getpid():
        threading.Thread(target=watch_session, args=(port, session["boot_pid"]),
                         daemon=True).start()


gdb.events.before_prompt.connect(watch_new_connection)
