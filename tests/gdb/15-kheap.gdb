# 15-kheap.gdb - a non-interactive check that GDB can follow kmalloc and that
# the `kheap` command (kheap.py) works, run against the DEMO kernel after a
# prelude that loads the ELF, connects to QEMU (-S -gdb) and sources lessons/15-kheap/gdb/*.py:
#   timeout 60 gdb -nx -batch -x PRELUDE -x tests/gdb/15-kheap.gdb
# Prints "GDB-SELFTEST: PASS" or "GDB-SELFTEST: FAIL <why>", then kills QEMU.

# tools/gdb's prelude may have set this breakpoint already (GDB_BREAK_15).
python
if not any(b.location == "kmalloc" for b in gdb.breakpoints()):
    gdb.Breakpoint("kmalloc", type=gdb.BP_HARDWARE_BREAKPOINT)
end
# The live page (live.py), on a port the system picks: it follows every stop.
kheap live 0
continue

python
import gdb

def selftest_used():
    """The bump pointer, or (free-list heap) the bytes in use; None if neither exists."""
    for name in ("heap_curr", "heap_stats.used"):
        try:
            return int(gdb.parse_and_eval(name))
        except gdb.error:
            pass
    return None

def selftest_register(name):
    return int(gdb.parse_and_eval(name)) & 0xFFFFFFFFFFFFFFFF

selftest = {"size": selftest_register("$rdi"), "before": selftest_used()}
end

finish

python
KHEAP_START, KHEAP_END = 0xFFFFFFFF80200000, 0xFFFFFFFF80400000
PROJECTOR_COLUMNS = 100  # a lecture shows the commands' output on a projector

def selftest_too_wide(text):
    """The first line of `text` wider than a projector shows, or None."""
    return next((line for line in text.splitlines() if len(line) > PROJECTOR_COLUMNS), None)

def selftest_live(block):
    """What the live page's server says after `finish`: the state of this
    stop, with the new block (bump heap) or the counters that moved (any heap)."""
    import json, urllib.request
    with urllib.request.urlopen(LIVE.url() + "state.json", timeout=10) as answer:
        state = json.load(answer)
    with urllib.request.urlopen(LIVE.url(), timeout=10) as answer:
        if b"state.json" not in answer.read():
            return "the live server does not serve its page"
    if "lesson_demo" not in state.get("stop", ""):
        return "the live state is not this stop's: %s" % state.get("stop")
    new = state.get("new", {})
    if state.get("kind") == "bump":
        if new.get("block", {}).get("address") != "%#x" % block:
            return "the live page does not show the new block %#x: %s" % (block, new)
    elif "used" not in new.get("stats", []) or not new.get("pages"):
        return "the live page shows no counter or page this kmalloc changed: %s" % new
    return None

def selftest_check():
    block = selftest_register("$rax")
    after = selftest_used()
    if after is None or selftest["before"] is None:
        return "the kernel has neither heap_curr nor heap_stats"
    if block == 0:
        return "kmalloc(%d) returned NULL" % selftest["size"]
    if block % 16 != 0:
        return "kmalloc returned %#x: not 16-byte aligned" % block
    if not KHEAP_START <= block < KHEAP_END:
        return "kmalloc returned %#x: outside the heap window" % block
    if after - selftest["before"] < selftest["size"]:
        return "the heap moved by %d bytes for kmalloc(%d)" % (
            after - selftest["before"], selftest["size"])
    shown = gdb.execute("kheap", to_string=True)
    print(shown)
    if "pages (4 KiB each)" not in shown:
        return "the kheap command printed no page map"
    owner = gdb.execute("kheap owner $rax", to_string=True)
    print(owner)
    if "%#x" % block not in owner or "not in the heap" in owner:
        return "kheap owner did not find the new block at %#x" % block
    outside = gdb.execute("kheap owner 0x1000", to_string=True)
    if "not in the heap" not in outside:
        return "kheap owner 0x1000 said: " + outside.strip()
    live = selftest_live(block)
    if live is not None:
        return live
    for shown in (shown, owner, outside, gdb.execute("kheap owner $rax + 4096", to_string=True)):
        wide = selftest_too_wide(shown)
        if wide is not None:
            return "%d columns, wider than a projector's %d: %s" % (len(wide), PROJECTOR_COLUMNS,
                                                                  wide)
    return None

try:
    selftest_why = selftest_check()
except Exception as error:  # a broken command must fail the test, not hang it
    selftest_why = "%s: %s" % (type(error).__name__, error)
print("GDB-SELFTEST: PASS" if selftest_why is None else "GDB-SELFTEST: FAIL " + selftest_why)
end

kill
