# selftest.gdb - a non-interactive check that the `ptwalk` command (ptwalk.py)
# walks the page tables right, run against the DEMO kernel after a prelude
# that loads the ELF, connects to QEMU (-S -gdb) and sources gdb/*.py:
#   timeout 60 gdb -nx -batch -x PRELUDE -x lessons/16-vmm/gdb/selftest.gdb
# Prints "GDB-SELFTEST: PASS" or "GDB-SELFTEST: FAIL <why>", then kills QEMU.

# The demo calls valloc(3), writes to the area, then vfree(area): stop there,
# with the area still mapped and its address in the first argument.
python
if not any(b.location == "vfree" for b in gdb.breakpoints()):
    gdb.Breakpoint("vfree", type=gdb.BP_HARDWARE_BREAKPOINT)
for b in gdb.breakpoints():
    b.enabled = b.location == "vfree"
end
continue

python
import re

DIRECT_MAP_BASE = 0xFFFF800000000000

def selftest_walk(expression):
    return gdb.execute("ptwalk " + expression, to_string=True)

def selftest_physical(text):
    found = re.search(r" is phys (0x[0-9a-f]+)", text)
    return int(found.group(1), 16) if found else None

def selftest_bytes(address):
    return bytes(gdb.selected_inferior().read_memory(address, 16))

def selftest_check():
    area = int(gdb.parse_and_eval("$rdi")) & 0xFFFFFFFFFFFFFFFF
    if area >> 39 & 511 != 510:
        return "vfree's argument %#x is not in the valloc window" % area
    shown = selftest_walk("$rdi + 0x1010")
    print(shown)
    for level in ("PML4 [510]", "PDPT [  0]", "PD   [  0]", "PT   [  1]"):
        if level not in shown:
            return "no line for %s in: %s" % (level, shown)
    if "4 KiB page" not in shown or "kernel only, read-write, no-execute" not in shown:
        return "a valloc page should be a kernel-only read-write no-execute 4 KiB page"
    physical = selftest_physical(shown)
    if physical is None or physical & 0xFFF != 0x010:
        return "no physical address, or the offset 0x010 was lost"
    # The same bytes seen through the area and through the direct map.
    if selftest_bytes(area + 0x1010) != selftest_bytes(DIRECT_MAP_BASE + physical):
        return "the physical address %#x does not hold the area's bytes" % physical
    guard = selftest_walk("$rdi + 3 * 4096")
    if "not mapped: PT entry 3" not in guard:
        return "the guard page should be unmapped at PT entry 3: " + guard
    huge = selftest_walk("0xffff800000201234")
    if "2 MiB page" not in huge or selftest_physical(huge) != 0x201234:
        return "the direct map should be a 2 MiB page onto 0x201234: " + huge
    text = selftest_walk("valloc")
    if "read-only, executable" not in text:
        return "kernel text should be read-only and executable: " + text
    try:
        selftest_walk("0x0000800000000000")
        return "a non-canonical address was not refused"
    except gdb.error as error:
        if "not canonical" not in str(error):
            return "a non-canonical address gave: %s" % error
    return None

try:
    selftest_why = selftest_check()
except Exception as error:  # a broken command must fail the test, not hang it
    selftest_why = "%s: %s" % (type(error).__name__, error)
print("GDB-SELFTEST: PASS" if selftest_why is None else "GDB-SELFTEST: FAIL " + selftest_why)
end

kill
