# 16-vmm.gdb - a non-interactive check that the `ptwalk` command (ptwalk.py)
# walks the page tables right, run against the DEMO kernel after a prelude
# that loads the ELF, connects to QEMU (-S -gdb) and sources lessons/16-vmm/gdb/*.py:
#   timeout 60 gdb -nx -batch -x PRELUDE -x tests/gdb/16-vmm.gdb
# Prints "GDB-SELFTEST: PASS" or "GDB-SELFTEST: FAIL <why>", then kills QEMU.
#
# It walks only what the kernel maps before the lesson's code runs (its
# image, its stack's guard page, the direct map), so it holds for the
# starter's kernel as well as for the reference.

# Stop at the demo: paging_init has built the kernel's own tables by then.
python
if not any(b.location == "lesson_demo" for b in gdb.breakpoints()):
    gdb.Breakpoint("lesson_demo", type=gdb.BP_HARDWARE_BREAKPOINT)
for b in gdb.breakpoints():
    b.enabled = b.location == "lesson_demo"
end
continue

python
import re

DIRECT_MAP_BASE = 0xFFFF800000000000

PROJECTOR_COLUMNS = 100  # a lecture shows the commands' output on a projector

def selftest_walk(expression):
    """`ptwalk EXPRESSION`'s output; each line must fit a projector."""
    shown = gdb.execute("ptwalk " + expression, to_string=True)
    wide = next((line for line in shown.splitlines() if len(line) > PROJECTOR_COLUMNS), None)
    if wide is not None:
        raise gdb.GdbError("%d columns, wider than a projector's %d: %s"
                           % (len(wide), PROJECTOR_COLUMNS, wide))
    return shown

def selftest_physical(text):
    found = re.search(r" is phys (0x[0-9a-f]+)", text)
    return int(found.group(1), 16) if found else None

def selftest_bytes(address):
    return bytes(gdb.selected_inferior().read_memory(address, 16))

def selftest_check():
    data = int(gdb.parse_and_eval("(unsigned long)&vmm_stats"))
    shown = selftest_walk("(char *)&vmm_stats + 8")
    print(shown)
    levels = [("PML4", 39), ("PDPT", 30), ("PD", 21), ("PT", 12)]
    for level in ["%-4s [%3u]" % (name, (data + 8) >> shift & 511) for name, shift in levels]:
        if level not in shown:
            return "no line for %s in: %s" % (level, shown)
    if "4 KiB page" not in shown or "kernel only, read-write, no-execute" not in shown:
        return "kernel data should be a kernel-only read-write no-execute 4 KiB page"
    physical = selftest_physical(shown)
    if physical is None or physical & 0xFFF != (data + 8) & 0xFFF:
        return "no physical address, or the page offset was lost"
    # The same bytes seen through the kernel image and through the direct map.
    if selftest_bytes(data + 8) != selftest_bytes(DIRECT_MAP_BASE + physical):
        return "the physical address %#x does not hold vmm_stats's bytes" % physical
    guard = selftest_walk("kernel_stack_guard")
    if not re.search(r"not mapped: PT entry \d+ is not present", guard):
        return "the stack's guard page should be unmapped at the PT level: " + guard
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
