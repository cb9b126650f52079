"""The two serial ports of a test run, and how the nonce reaches the kernel.

COM1 is the console: everything kprintf prints, the tests' diagnostics and
crash reports, and the protocol's lines without a nonce, for people to read.
COM2 is the results channel: the protocol signed with the nonce, written by
the harness (common/ktest.c) and by nothing else. Only COM2 is believed; COM1
only says which test printed what.

The nonce never appears on the kernel's command line: QEMU hands it over as
the fw_cfg file NONCE_FW_CFG (read through I/O ports), Bochs, which has no
fw_cfg, as the boot module NONCE_MODULE, which the harness wipes once read."""

import re

from . import protocol

NONCE_FW_CFG = "opt/kernel-memory-lab/nonce"
NONCE_MODULE = "ktest-nonce"
RESULTS_LIMIT = 1024 * 1024  # bytes of COM2 read per boot

# The console's copy of the protocol: the same lines without " nonce=N".
CONSOLE_RUN = re.compile(r"^# RUN (\d+) (\S+)$")
CONSOLE_RESULT = re.compile(r"^(ok|not ok) \d+ \S+ # points=\d+/\d+ kind=\w+$")
CONSOLE_PROTOCOL = re.compile(r"^(KTAP version 1|# lesson \S+|1\.\.\d+|# test \d+ \S+ points=\d+ "
                              r"kind=\w+|# \d+ passed, \d+ failed|# END)$")
SIGNED = re.compile(r"nonce=\S+\s*$")
# After a test that changed the kernel's code or constants (common/ktest.c).
TAMPERED = re.compile(r"^# TAMPERED (\d+) (\S+) nonce=(\S+)$")


def read_results(path):
    """COM2's lines, as far as RESULTS_LIMIT."""
    try:
        with open(path, "rb") as results:
            data = results.read(RESULTS_LIMIT)
    except OSError:
        return []
    return data.decode("utf-8", "replace").splitlines()


def flooded(path):
    """A reason to stop the boot if COM2 has grown past its limit, or None."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    return f"wrote more than {RESULTS_LIMIT // 1024} KiB of results" if size > RESULTS_LIMIT \
        else None


def is_harness_line(line):
    return bool(protocol.TEST_LINE.match(line) or protocol.RUN_LINE.match(line) or
                TAMPERED.match(line) or
                protocol.RESULT_LINE.match(line) or protocol.END_LINE.match(line) or
                CONSOLE_PROTOCOL.match(line))


def feed_boot(state, console, results):
    """Gives one boot's output to `state`: the results from COM2, then the
    console's lines to the tests that printed them."""
    for line in results:
        line = line.rstrip("\r\n")
        if not line:
            continue
        if not is_harness_line(line):
            state.forged.append(f"a line on the results channel that the harness did not write: "
                                f"{line[:80]!r}")
        elif match := TAMPERED.match(line):
            if match.group(3) == state.nonce:
                state.forged.append(f"the kernel's code or constants changed while test "
                                    f"{match.group(2)} ran")
        elif not CONSOLE_PROTOCOL.match(line):  # the header and summary carry nothing
            state.feed(line)
    running = None
    for line in console:
        line = line.rstrip("\r\n")
        if SIGNED.search(line) and is_harness_line(line):
            state.spoofed += 1  # the harness never signs a console line
            continue
        if match := CONSOLE_RUN.match(line):
            running = state.tests.get(match.group(2))
        elif CONSOLE_RESULT.match(line):
            running = None
        elif CONSOLE_PROTOCOL.match(line):
            continue
        elif running is not None:
            running.output.append(line)
        else:
            state.boot_lines.append(line)


def nonce_module(workdir, nonce):
    """The file tools/mkiso loads as the boot module NONCE_MODULE (Bochs)."""
    path = workdir / "nonce.txt"
    path.write_text(nonce)
    return path
